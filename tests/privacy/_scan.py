"""Looking for planted markers in everything a run wrote or printed."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import pyarrow.parquet as pq

Marker = str | re.Pattern[str]


def texts_of(path: Path) -> Iterator[str]:
    """Every way the bytes of ``path`` can be read: as bytes (Latin-1, so nothing is lost),
    UTF-8, UTF-16, HTML unescaped, and the values and metadata of a Parquet file (its pages
    may be compressed) or a workbook."""
    data = path.read_bytes()
    yield data.decode("latin-1")
    text = data.decode("utf-8", "replace")
    yield text
    yield html.unescape(text)
    for codec in ("utf-16-le", "utf-16-be"):
        yield data.decode(codec, "ignore")
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        yield json.dumps(table.to_pylist(), default=str)
        yield str(table.schema.metadata)
    if path.suffix == ".xlsx":
        import openpyxl

        book = openpyxl.load_workbook(path)
        yield repr([[c.value for c in row] for ws in book.worksheets for row in ws.iter_rows()])


def leaks(text: str, markers: Sequence[Marker]) -> list[str]:
    """The markers found in ``text`` (strings case-insensitively, patterns as compiled)."""
    lowered = text.lower()
    found = []
    for marker in markers:
        if isinstance(marker, str):
            if marker.lower() in lowered:
                found.append(marker)
        elif marker.search(text):
            found.append(marker.pattern)
    return found


def assert_no_marker(where: str, text: str, markers: Sequence[Marker]) -> None:
    found = leaks(text, markers)
    assert not found, f"{where} holds the marker(s) {found[:5]}"


def assert_no_marker_in_files(folder: Path, markers: Sequence[Marker]) -> int:
    """Check every file under ``folder``; return how many were checked."""
    files = [p for p in sorted(folder.rglob("*")) if p.is_file()]
    for path in files:
        for text in texts_of(path):
            assert_no_marker(str(path.relative_to(folder)), text, markers)
    return len(files)
