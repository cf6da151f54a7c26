"""Fixtures of the SSDA903 adapter's tests: the reference samples and a plugin manager."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import mns_ssda903
import pytest

from mns.plugins.manager import Manager
from mns.testing import reference_samples, registered


@pytest.fixture
def reference() -> Path:
    """The reference samples folder (the test is skipped, saying why, when it is absent)."""
    return reference_samples("ssda903", __file__)


@pytest.fixture
def manager() -> Iterator[Manager]:
    """A fresh plugin manager with this adapter registered (as its entry point would)."""
    with registered(mns_ssda903, "ssda903") as m:
        yield m
