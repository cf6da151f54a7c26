"""Filling an audit-form workbook programmatically, as an auditor would in a spreadsheet."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from mns.forms._layout import COVER, FIRST_ROW, SAMPLE


def columns(ws: Worksheet) -> dict[str, str]:
    """Field key (row 2) -> column letter."""
    return {str(c.value): c.column_letter for c in ws[2] if c.value is not None}


def rows(ws: Worksheet) -> dict[str, int]:
    """Case id -> row number."""
    out = {}
    for row in range(FIRST_ROW, ws.max_row + 1):
        value = ws[f"A{row}"].value
        if value is not None:
            out[str(value)] = row
    return out


def fill(
    path: Path,
    entries: Mapping[tuple[str, str], Any],
    *,
    cover: Mapping[str, Any] | None = None,
    out: Path | None = None,
) -> dict[tuple[str, str], str]:
    """Write ``entries`` ((case_id, field key) -> cell value) and cover values (``"role"``,
    ``"audit"``, ``"auditor"``, ``"reference_date"``) into the workbook; returns the cell
    reference (``Sample!F12``) of every entry."""
    wb = load_workbook(path)
    ws = wb[SAMPLE]
    by_key, by_case = columns(ws), rows(ws)
    refs = {}
    for (case_id, key), value in entries.items():
        ref = f"{by_key[key]}{by_case[case_id]}"
        ws[ref] = value
        refs[(case_id, key)] = f"{SAMPLE}!{ref}"
    cells = {"audit": "B3", "role": "B4", "reference_date": "B5", "auditor": "B6"}
    for key, value in (cover or {}).items():
        wb[COVER][cells[key]] = value
    wb.save(out or path)
    return refs
