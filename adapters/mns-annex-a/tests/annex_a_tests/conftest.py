"""Fixtures of the Annex A adapter's tests: the reference samples and a plugin manager."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import mns_annex_a
import pytest

from mns.plugins.manager import Manager, use_manager


def reference_dir() -> Path | None:
    """``<repo>/../shared/reference`` (or ``$MNS_REFERENCE_DIR``), if it exists."""
    env = os.environ.get("MNS_REFERENCE_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[4] / ".." / "shared" / "reference")
    for path in candidates:
        if (path / "annex_a").is_dir():
            return path.resolve()
    return None


@pytest.fixture
def reference() -> Path:
    """The reference samples folder; the test is skipped, saying why, when it is absent."""
    found = reference_dir()
    if found is None:
        pytest.skip(
            "reference samples not found: put shared/reference beside the repository "
            "(<repo>/../shared/reference) or set MNS_REFERENCE_DIR"
        )
    return found


@pytest.fixture
def manager() -> Iterator[Manager]:
    """A fresh plugin manager with this adapter registered (as its entry point would)."""
    m = Manager(autoload=False)
    m.add(mns_annex_a, name="annex-a")
    with use_manager(m):
        yield m
