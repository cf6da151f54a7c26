"""`mns convert`: the folder `mns read --out` writes, written a batch at a time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import mns
from mns.cli._common import EXIT_ISSUES, EXIT_USAGE
from tests.cli._helpers import run
from tests.io.test_mapping import HEADER, MAPPING, ROWS
from tests.plugins.test_streaming import _csv


@pytest.fixture
def export(tmp_path: Path) -> Path:
    (tmp_path / "m.toml").write_text(MAPPING, "utf-8")
    (tmp_path / "secret.key").write_text("0123456789abcdef0123", "utf-8")
    return _csv(tmp_path / "export.csv", ROWS, HEADER)


def test_convert_writes_what_read_out_writes(export: Path, tmp_path: Path) -> None:
    key, mapping = str(tmp_path / "secret.key"), str(tmp_path / "m.toml")
    out = str(tmp_path / "r")
    read = run("read", str(export), "--mapping", mapping, "--key-file", key, "--out", out)
    assert read.exit_code == 0, read.output
    done = run(
        "convert", str(export), str(tmp_path / "c"), "--mapping", mapping, "--key-file", key,
        "--batch-rows", "2", "--json",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    data = json.loads(done.output)
    assert data["tables"]["cases"] == 3
    assert data["issues"]["rejected_records"] == 2
    assert data["pseudonymised"]
    converted, written = mns.read(tmp_path / "c"), mns.read(tmp_path / "r")
    for name in ("cases", "issues"):
        assert getattr(converted, name).to_pylist() == getattr(written, name).to_pylist()
    assert {p.name for p in (tmp_path / "c").iterdir()} >= {"issues.csv", "issues.xlsx"}


def test_convert_says_what_it_cannot_do(export: Path, tmp_path: Path) -> None:
    mapping = str(tmp_path / "m.toml")
    linked = run("convert", str(export), str(tmp_path / "c"), "--mapping", mapping, "--link")
    assert linked.exit_code == EXIT_USAGE
    assert "mns read --link --out" in linked.output
    failing = run(
        "convert", str(export), str(tmp_path / "c"), "--mapping", mapping, "--fail-on-errors"
    )
    assert failing.exit_code == EXIT_ISSUES
    again = run("convert", str(export), str(tmp_path / "c"), "--mapping", mapping)
    assert again.exit_code != 0
    assert "--overwrite" in again.output
