"""The command-line docs are true: the tutorial's `mns` commands run as written, in order,
and every command has its reference section."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from mns.cli import cli
from mns.plugins.manager import Manager, use_manager

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "docs" / "tutorials" / "first-audit.md"
REFERENCE = ROOT / "docs" / "reference" / "cli.md"
SH = re.compile(r"```sh\n(.*?)```", re.DOTALL)


def _commands(path: Path) -> list[list[str]]:
    lines = [
        line.strip() for block in SH.findall(path.read_text("utf-8")) for line in block.splitlines()
    ]
    return [shlex.split(line, comments=True)[1:] for line in lines if line.startswith("mns ")]


@pytest.fixture
def in_tmp(tmp_path: Path) -> Iterator[Path]:
    before = Path.cwd()
    os.chdir(tmp_path)
    try:
        with use_manager(Manager(autoload=False)):
            yield tmp_path
    finally:
        os.chdir(before)


def test_tutorial_commands_run_as_written(in_tmp: Path) -> None:
    commands = _commands(TUTORIAL)
    assert [c[0] for c in commands] == ["demo", "read", "explain", "audit", "report"]
    for args in commands:
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0, f"mns {' '.join(args)}:\n{result.output}"
    assert (in_tmp / "demo-output" / "report.html").is_file()
    assert (in_tmp / "my-audit" / "report.html").is_file()


def _names(group: click.Group, prefix: str = "") -> list[str]:
    names = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            names += _names(command, f"{prefix}{name} ")
        else:
            names.append(f"{prefix}{name}")
    return names


def test_every_command_has_a_reference_section() -> None:
    text = REFERENCE.read_text("utf-8")
    for name in _names(cli):
        assert f"## `mns {name}`" in text, f"docs/reference/cli.md lacks a section for mns {name}"
        examples = re.search(rf"## `mns {name}`(.*?)(\n## |\Z)", text, re.DOTALL)
        assert examples is not None
        assert f"mns {name}" in examples.group(1), f"mns {name} has no example"


#: Every page whose ```sh blocks show `mns` commands.
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
PYTHON = re.compile(r"(<!-- not run -->\s*)?```python\n(.*?)```", re.DOTALL)


def test_the_tutorial_says_how_to_run_it_again() -> None:
    """Run twice, the tutorial's steps replace what the first run wrote: every command and
    Python call that writes a folder says --overwrite (overwrite=True), and the page says how
    to start from nothing."""
    text = TUTORIAL.read_text("utf-8")
    writing = [args for args in _commands(TUTORIAL) if "--out" in args]
    assert writing
    assert all("--overwrite" in args for args in writing), writing
    python = "\n".join(m.group(2) for m in PYTHON.finditer(text) if not m.group(1))
    calls = re.findall(r"mns\.write\([^)]*\)|run_audit\((?:[^()]|\([^)]*\))*\)", python)
    assert calls
    assert all("overwrite=True" in call for call in calls if "out=" in call or "write(" in call)
    assert "rm -rf demo-output records my-audit" in text


def test_examples_name_real_options() -> None:
    """Each option in the docs' command examples (any page) is an option of its command."""
    for args in [a for page in PAGES for a in _commands(page)]:
        command: click.Command = cli
        path = list(args)
        while isinstance(command, click.Group) and path and path[0] in command.commands:
            command = command.commands[path.pop(0)]
        known = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
        used = {a.split("=")[0] for a in path if a.startswith("-")}
        assert used <= known | {"--help", "-h"}, f"mns {' '.join(args)}: unknown {used - known}"
