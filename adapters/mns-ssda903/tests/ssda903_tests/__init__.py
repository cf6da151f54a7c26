"""Tests of the mns-ssda903 adapter (a package: test module names stay unique)."""
