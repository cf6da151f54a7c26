"""tables.xlsx: every published table, as the published CSV files show it, with a contents
sheet and the disclosure note; the internal audience's copy says so in its name and on every
sheet; no cell is a formula."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import attrs
import openpyxl
import pyarrow as pa
import pytest

from mns.audit import AuditResult
from mns.disclosure import Disclosed, to_csv
from mns.report.workbook import TABLES_XLSX, write_tables_workbook

from . import handmade


@pytest.fixture(scope="module")
def audit() -> AuditResult:
    return handmade.result()


def _write(result: AuditResult, folder: Path) -> Path:
    return write_tables_workbook(
        folder,
        title=result.title,
        published=result.published,
        suppressed=result.suppressed,
        audience=result.audience,
        min_count=result.min_count,
    )


def _csv_rows(result: AuditResult, name: str) -> list[list[str]]:
    table = result.published[name]
    withheld = result.suppressed.get(name, frozenset())
    order = sorted(withheld)
    disclosed = Disclosed(
        table=table,
        suppressed=pa.table(
            {
                "row": pa.array([r for r, _ in order], pa.int64()),
                "column": pa.array([c for _, c in order], pa.string()),
                "reason": pa.array(["suppressed"] * len(order), pa.string()),
            }
        ),
        min_count=result.min_count or 1,
        rounding=None,
        totals=pa.table({"label": [], "key": [], "reason": []}),
    )
    buffer = io.StringIO()
    to_csv(disclosed, buffer)
    return list(csv.reader(io.StringIO(buffer.getvalue())))


def _same(cell: object, text: str) -> bool:
    if isinstance(cell, bool):
        return text == ("true" if cell else "false")
    if isinstance(cell, (int, float)):
        return float(text) == pytest.approx(float(cell))
    return str(cell if cell is not None else "") == text


def test_every_table_is_a_sheet_showing_what_its_csv_shows(
    audit: AuditResult, tmp_path: Path
) -> None:
    path = _write(audit, tmp_path)
    assert path.name == TABLES_XLSX
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["contents", *audit.published]
    for name in audit.published:
        sheet = book[name]
        rows = [list(r) for r in sheet.iter_rows(min_row=4, values_only=True)]
        expected = _csv_rows(audit, name)
        assert len(rows) == len(expected), name
        for got, want in zip(rows, expected, strict=True):
            assert all(_same(g, w) for g, w in zip(got, want, strict=True)), (name, got, want)
        assert sheet.auto_filter.ref is not None
        for row in sheet.iter_rows():
            assert all(c.data_type != "f" for c in row)
    withheld = sum(len(v) for v in audit.suppressed.values())
    symbols = sum(
        1
        for name in audit.published
        for row in book[name].iter_rows(min_row=5, values_only=True)
        for value in row
        if value == "c"
    )
    assert withheld > 0
    assert symbols == withheld


def test_contents_lists_each_table_and_the_disclosure_note(
    audit: AuditResult, tmp_path: Path
) -> None:
    book = openpyxl.load_workbook(_write(audit, tmp_path))
    contents = [
        [c for c in row if c is not None] for row in book["contents"].iter_rows(values_only=True)
    ]
    text = " ".join(str(c) for row in contents for c in row)
    assert audit.title in text
    assert f"counts below {audit.min_count} are withheld" in text
    for symbol in ("c", "z", ":"):
        assert [symbol] == [row[0] for row in contents if row and row[0] == symbol]
    listed = {str(row[0]): row for row in contents if row and row[0] in audit.published}
    assert set(listed) == set(audit.published)
    for name, row in listed.items():
        assert row[2] == audit.published[name].num_rows
        assert row[3] == len(audit.suppressed.get(name, ()))


def test_the_internal_copy_is_marked_in_its_name_and_on_every_sheet(
    audit: AuditResult, tmp_path: Path
) -> None:
    internal = attrs.evolve(audit, audience="internal", min_count=None)
    path = _write(internal, tmp_path)
    assert path.name == "tables.internal.xlsx"
    book = openpyxl.load_workbook(path)
    for sheet in book.worksheets:
        marking = sheet.cell(row=2, column=1).value
        assert "internal: contains small numbers, not for publication" in str(marking).lower()
