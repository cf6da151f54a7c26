"""Tests of the mns-cin-census adapter (a package: test module names stay unique)."""
