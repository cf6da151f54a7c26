"""Fixtures of the Annex A adapter's tests: the reference samples and a plugin manager."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import mns_annex_a
import pytest

from mns.plugins.manager import Manager
from mns.testing import reference_samples, registered


@pytest.fixture
def reference() -> Path:
    """The reference samples folder (the test is skipped, saying why, when it is absent)."""
    return reference_samples("annex_a", __file__)


@pytest.fixture
def manager() -> Iterator[Manager]:
    """A fresh plugin manager with this adapter registered (as its entry point would)."""
    with registered(mns_annex_a, "annex-a") as m:
        yield m
