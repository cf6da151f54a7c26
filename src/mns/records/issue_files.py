"""The problems met while reading, for people: ``issues.csv`` and ``issues.xlsx`` (one row
per issue, a filter on every column), written beside the records' Parquet files.

They hold what ``issues.parquet`` holds, as the read left it: with a pseudonymisation key the
``record`` column holds pseudonyms and values are quoted only as :mod:`mns.privacy` allows.
Every cell goes through :mod:`mns.cells`, so no value from the records can run as a formula.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from mns.cells import CsvWriter, risky
from mns.records.issues import PATH

__all__ = [
    "ISSUES_CSV",
    "ISSUES_XLSX",
    "write_issue_files",
    "write_issues_csv",
    "write_issues_xlsx",
]

ISSUES_CSV = "issues.csv"
ISSUES_XLSX = "issues.xlsx"
#: Column headings for people, in the order shown (the issues table's own columns).
_HEADINGS = {
    "severity": "severity",
    "action": "action",
    "source": "file",
    "sheet": "sheet",
    "row": "row",
    "line": "line",
    "column": "column",
    "path": "element path",  # in an XML file: where, when a line holds many records
    "table": "table",
    "record": "record (child)",
    "field": "field",
    "value": "value",
    "message": "message",
}
#: Excel's last row, less the heading.
_XLSX_ROWS = 1_048_575
_WIDTHS = {"message": 80, "source": 30, "value": 24, "path": 40}


def _columns(issues: pa.Table) -> list[str]:
    """The columns shown: the issues table's, and always the element path (empty when no
    issue has one), so that every file has the same headings to filter on."""
    return [c for c in _HEADINGS if c in issues.column_names or c == PATH]


def _rows(issues: pa.Table) -> list[list[Any]]:
    none = [None] * issues.num_rows
    data = [
        issues.column(c).to_pylist() if c in issues.column_names else none for c in _columns(issues)
    ]
    return [list(row) for row in zip(*data, strict=True)] if issues.num_rows else []


def write_issues_csv(issues: pa.Table, path: str | Path) -> Path:
    """``issues`` as CSV, one row per issue (text that could run as a formula gets a ``'``)."""
    from mns.records.folder import replacing

    out = Path(path)
    with replacing(out) as temporary, temporary.open("w", encoding="utf-8", newline="") as handle:
        writer = CsvWriter(handle)
        writer.writerow([_HEADINGS[c] for c in _columns(issues)])
        writer.writerows(_rows(issues))
    return out


def write_issues_xlsx(issues: pa.Table, path: str | Path) -> Path:
    """``issues`` as a workbook: one sheet, one row per issue, the heading frozen and a filter
    on every column. Formula-like text is stored as text with Excel's quote prefix. Past
    Excel's last row the rest is left out, and the last row says how many (the CSV has all)."""
    from mns._extras import require

    require("xlsx", "issues.xlsx")
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("issues")
    names = _columns(issues)
    for i, name in enumerate(names, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = _WIDTHS.get(name, 12)
    sheet.freeze_panes = "A2"
    rows = _rows(issues)
    shown = rows[: _XLSX_ROWS - 1] if len(rows) > _XLSX_ROWS else rows
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(names))}{len(shown) + 1}"
    bold = Font(bold=True)
    heading = []
    for name in names:
        cell = WriteOnlyCell(sheet, value=_HEADINGS[name])
        cell.font = bold
        heading.append(cell)
    sheet.append(heading)
    for row in shown:
        sheet.append([_cell(sheet, value, WriteOnlyCell) for value in row])
    if len(shown) < len(rows):
        sheet.append([f"{len(rows) - len(shown)} more issues: see {ISSUES_CSV}"])
    from mns.records.folder import replacing

    out = Path(path)
    with replacing(out) as temporary:
        workbook.save(temporary)
    return out


def _cell(sheet: Any, value: Any, make: Any) -> Any:
    if isinstance(value, str) and risky(value):
        cell = make(sheet, value=value)
        cell.data_type = "s"  # openpyxl takes text beginning with "=" for a formula
        cell.quotePrefix = True
        return cell
    return value


def write_issue_files(issues: pa.Table, folder: str | Path) -> tuple[Path, Path]:
    """Write ``issues.csv`` and ``issues.xlsx`` into ``folder``; return their paths."""
    path = Path(folder)
    return write_issues_csv(issues, path / ISSUES_CSV), write_issues_xlsx(
        issues, path / ISSUES_XLSX
    )
