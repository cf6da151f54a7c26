"""The README's and the docs' Python examples run as written.

Each Markdown file's ```python blocks run in order, as one script, in a fresh folder, with the
installed plugins found as in a reader's installation. A block preceded by ``<!-- not run -->``
is shown only (a fragment of a file, or one that needs the reader's own files). A how-to shows
its workflow both ways: its ```sh commands then run in the same folder, twice.
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
#: marked ``<!-- not run -->``), in process, twice, so that a reader can run the page again.
RUN_COMMANDS = """
import shlex as _shlex
from mns.cli._app import cli as _cli
for _round in range(2):
    for _line in {lines!r}:
        print("$ " + _line, flush=True)
        _code = _cli.main(_shlex.split(_line)[1:], prog_name="mns", standalone_mode=False)
        assert _code in (None, 0), f"{{_line}}: exit code {{_code}}"
"""


def _commands(path: Path) -> list[str]:
    text = path.read_text("utf-8")
    blocks = [m.group(2) for m in SH.finditer(text) if not m.group(1)]
    return [line.strip() for b in blocks for line in b.splitlines() if line.startswith("mns ")]


def _script(path: Path) -> str:
    python = "\n".join(
        m.group(2) for m in BLOCK.finditer(path.read_text("utf-8")) if not m.group(1)
    )
    if path.parent.name != "how-to" or not _commands(path):
        return python
    return python + RUN_COMMANDS.format(lines=_commands(path))


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
