"""``tables.xlsx``: every published table of an audit in one workbook, for analysts who work
in Excel.

A contents sheet (the audit's title, how disclosure control was applied, what the symbols
mean, and a link to each table) and one sheet per published table, its cells as in the
published CSV files: ``c`` withheld, ``z`` not applicable, ``:`` not available (the same
:func:`mns.disclosure.output.published_rows`), numbers as numbers. The internal audience's
workbook is named ``tables.internal.xlsx`` and says on every sheet that it is not for
publication. No cell is a formula: text that a spreadsheet would run is stored as text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from mns.cells import risky

__all__ = ["TABLES_XLSX", "tables_workbook_name", "write_tables_workbook"]

TABLES_XLSX = "tables.xlsx"
#: Excel's limit on a sheet name's length.
_SHEET_NAME = 31
_HEADING_ROW = 4


def tables_workbook_name(audience: str) -> str:
    """``tables.xlsx``, or ``tables.internal.xlsx`` for the internal audience."""
    return "tables.internal.xlsx" if audience == "internal" else TABLES_XLSX


def _marking(audience: str, min_count: int | None) -> str:
    from mns.disclosure import INTERNAL_NOTE

    if audience == "internal" or min_count is None:
        return f"{INTERNAL_NOTE[0].upper()}{INTERNAL_NOTE[1:]}."
    return (
        f"Disclosure control: counts below {min_count} are withheld (c), with any count that "
        "would reveal one."
    )


def _title(name: str) -> str:
    from mns.disclosure.publication import publications

    found = publications().get(name)
    return found.title if found is not None else name


def _value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, dt.date, dt.datetime)):
        return value
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def _text_cell(sheet: Any, value: Any) -> Any:
    from openpyxl.cell import WriteOnlyCell

    value = _value(value)
    if isinstance(value, str) and risky(value):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"  # openpyxl takes text beginning with "=" for a formula
        cell.quotePrefix = True
        return cell
    return value


def _bold(sheet: Any, value: str, *, size: int | None = None, link: str | None = None) -> Any:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    cell = WriteOnlyCell(sheet, value=value)
    cell.font = Font(bold=True, size=size, underline="single" if link else None)
    if link:
        cell.hyperlink = link
    return cell


def _sheet_names(names: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in names:
        base = name[:_SHEET_NAME]
        candidate, n = base, 2
        while candidate.lower() in {v.lower() for v in out.values()} or candidate == "contents":
            suffix = f"~{n}"
            candidate, n = base[: _SHEET_NAME - len(suffix)] + suffix, n + 1
        out[name] = candidate
    return out


def write_tables_workbook(
    folder: str | Path,
    *,
    title: str,
    published: Mapping[str, pa.Table],
    suppressed: Mapping[str, frozenset[tuple[int, str]]],
    audience: str = "public",
    min_count: int | None = None,
) -> Path:
    """Write the published tables to ``folder / tables.xlsx`` (see the module's description;
    ``tables.internal.xlsx`` for the internal audience) and return its path."""
    from mns._extras import require

    require("report", "tables.xlsx")
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    from mns.disclosure.output import published_rows
    from mns.report.html import SYMBOLS

    marking = _marking(audience, min_count)
    names = _sheet_names(list(published))
    workbook = Workbook(write_only=True)
    contents = workbook.create_sheet("contents")
    contents.column_dimensions["A"].width = 28
    contents.column_dimensions["B"].width = 60
    contents.append([_bold(contents, title, size=14)])
    contents.append([marking])
    contents.append([])
    contents.append([_bold(contents, "Symbols")])
    for symbol, meaning in SYMBOLS.items():
        contents.append([symbol, meaning])
    contents.append([])
    contents.append([_bold(contents, "sheet"), _bold(contents, "table"), "rows", "cells withheld"])
    for name, table in published.items():
        sheet = names[name]
        contents.append(
            [
                _bold(contents, sheet, link=f"#'{sheet}'!A1"),
                _title(name),
                table.num_rows,
                len(suppressed.get(name, ())),
            ]
        )
    for name, table in published.items():
        sheet = workbook.create_sheet(names[name])
        sheet.freeze_panes = f"A{_HEADING_ROW + 1}"
        for i, column in enumerate(table.column_names, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = max(10, min(40, len(column) + 2))
        if table.num_columns:
            last = get_column_letter(table.num_columns)
            sheet.auto_filter.ref = f"A{_HEADING_ROW}:{last}{_HEADING_ROW + table.num_rows}"
        sheet.append([_bold(sheet, _title(name), size=12)])
        sheet.append([marking])
        sheet.append([])
        sheet.append([_bold(sheet, column) for column in table.column_names])
        withheld = suppressed.get(name, frozenset())
        for row in published_rows(table, withheld):
            sheet.append([_text_cell(sheet, value) for value in row])
    from mns.records.folder import replacing

    path = Path(folder) / tables_workbook_name(audience)
    with replacing(path) as temporary:
        workbook.save(temporary)
    return path
