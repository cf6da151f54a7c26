"""The README's and the docs' Python examples run as written.

Each Markdown file's ```python blocks run in order, as one script, in a fresh folder, with the
installed plugins found as in a reader's installation. A block preceded by ``<!-- not run -->``
is shown only (a fragment of a file, or one that needs the reader's own files).
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


def _script(path: Path) -> str:
    return "\n".join(m.group(2) for m in BLOCK.finditer(path.read_text("utf-8")) if not m.group(1))


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
