"""The README's and the docs' Python examples run as written.

Each Markdown file's ```python blocks run in order, as one script, in a fresh folder, with the
installed plugins found as in a reader's installation. A block preceded by ``<!-- not run -->``
is shown only (a fragment of a file, or one that needs the reader's own files): ``NOT_RUN``
says why, page by page. A how-to shows its workflow both ways: its ```sh commands then run in
the same folder, twice; the README's once.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
BLOCK = re.compile(r"(<!-- not run -->\s*)?```python\n(.*?)```", re.DOTALL)


SH = re.compile(r"(<!-- not run -->\s*)?```sh\n(.*?)```", re.DOTALL)
#: Run in the same folder after a how-to's Python: each `mns` command of its ```sh blocks (not
#: marked ``<!-- not run -->``), in process, twice for a how-to, so that a reader can run the
#: page again.
RUN_COMMANDS = """
import shlex as _shlex
from mns.cli._app import cli as _cli
for _round in range({rounds}):
    for _line in {lines!r}:
        print("$ " + _line, flush=True)
        _args = _shlex.split(_line, comments=True)[1:]  # a comment may hold an apostrophe
        _code = _cli.main(_args, prog_name="mns", standalone_mode=False)
        assert _code in (None, 0), f"{{_line}}: exit code {{_code}}"
"""


def _commands(path: Path) -> list[str]:
    text = path.read_text("utf-8")
    blocks = [m.group(2) for m in SH.finditer(text) if not m.group(1)]
    return [line.strip() for b in blocks for line in b.splitlines() if line.startswith("mns ")]


#: Every page with blocks marked ``<!-- not run -->``, and why they cannot run as written.
NOT_RUN = {
    "docs/how-to/read-a-messy-export.md": "--strict and --fail-on-errors exit 1 and 3 by design",
    "docs/how-to/read-several-returns-and-link.md": "the reader's own returns",
    "docs/how-to/read-statutory-returns.md": "the reader's own Annex A workbook",
    "docs/how-to/run-an-audit-on-your-records.md": "the reader's own records and plan",
    "docs/how-to/run-on-a-cluster.md": "a Dask scheduler on the reader's network",
    "docs/reference/analyses.md": "signatures, not code",
    "docs/reference/hooks.md": "a hook's signature, and a fragment of a plugin module",
    "docs/reference/outputs-and-limits.md": "the reader's own large return",
    "docs/reference/plan-files.md": "the reader's own plan.toml",
    "docs/reference/synth.md": "signatures, not code",
    "docs/tutorials/write-an-adapter.md": "quotes of the example adapter's files (test_docs.py in "
    "tests/io checks each line is in adapters/mns-example)",
}
#: Pages whose ```sh `mns` commands this test does not run, and why (besides how-to pages and
#: the README, whose commands it runs).
COMMANDS_NOT_RUN = {
    "docs/reference/cli.md": "examples naming the reader's own files; each option is checked to "
    "be one of its command (tests/cli/test_docs_commands.py::test_examples_name_real_options)",
    "docs/tutorials/first-audit.md": "run in order by "
    "tests/cli/test_docs_commands.py::test_tutorial_commands_run_as_written",
}


def _runs_commands(path: Path) -> bool:
    return path.parent.name == "how-to" or path == ROOT / "README.md"


def _script(path: Path) -> str:
    python = "\n".join(
        m.group(2) for m in BLOCK.finditer(path.read_text("utf-8")) if not m.group(1)
    )
    if not _runs_commands(path) or not _commands(path):
        return python
    # a how-to runs twice (a reader runs a page again); the README's quick tour once (its
    # commands all take --overwrite, and the tutorial's re-run is tested on its own)
    rounds = 1 if path == ROOT / "README.md" else 2
    return python + RUN_COMMANDS.format(lines=_commands(path), rounds=rounds)


def test_every_block_not_run_says_why_in_one_place() -> None:
    """A page with blocks marked ``<!-- not run -->`` is in NOT_RUN with the reason, and a page
    whose `mns` commands are not run is in COMMANDS_NOT_RUN: nothing is skipped silently."""
    marked = {str(p.relative_to(ROOT)) for p in DOCS if "<!-- not run -->" in p.read_text("utf-8")}
    assert marked == set(NOT_RUN)
    unrun = {str(p.relative_to(ROOT)) for p in DOCS if _commands(p) and not _runs_commands(p)}
    assert unrun == set(COMMANDS_NOT_RUN)


@pytest.mark.parametrize(
    "path",
    [p for p in DOCS if _script(p).strip()],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_examples_run(path: Path, tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(_script(path), "utf-8")
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env={**os.environ, "MNS_AUTOLOAD": "1"},  # as a reader's installation: plugins found
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{path.name}:\n{done.stderr[-3000:]}"


def test_import_mns_is_cheap() -> None:
    code = (
        "import sys, mns; heavy = [m for m in ('pyarrow', 'cattrs', 'pluggy', 'numpy', 'click',"
        " 'matplotlib', 'openpyxl', 'dask', 'polars') if m in sys.modules]; print(heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
