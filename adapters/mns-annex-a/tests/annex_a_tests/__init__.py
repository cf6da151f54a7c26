"""Tests of the mns-annex-a adapter (a package: test module names stay unique)."""
