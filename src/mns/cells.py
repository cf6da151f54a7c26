"""Cells of the CSV files and workbooks mns writes: never a formula from data.

A spreadsheet runs a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula (CSV injection, OWASP). Every text cell mns writes goes through here:

- CSV: such text gets a leading ``'`` (:func:`csv_cell`); numbers stay numbers (``-3`` is
  written as ``-3``); every field holding a CR or LF is quoted, so a bare CR cannot split a
  row (:class:`CsvWriter`);
- workbooks: every cell holding such text is stored as a string with Excel's quote prefix
  (the ``'`` Excel shows itself), never as a formula (:func:`neutralise_workbook`); the text
  itself is unchanged, so a form read back gives the values written.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openpyxl import Workbook

__all__ = ["FORMULA_STARTS", "CsvWriter", "Number", "csv_cell", "neutralise_workbook", "risky"]

#: What a spreadsheet may run as a formula when a text cell begins with it.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def risky(text: str) -> bool:
    """Whether a spreadsheet could take ``text`` for a formula."""
    return text.startswith(FORMULA_STARTS)


class Number(str):
    """A number already formatted as text (``"-0.25"``): written as it is."""

    __slots__ = ()


def csv_cell(value: Any) -> Any:
    """``value`` for a CSV cell: text that could run as a formula gets a leading ``'``;
    anything else (numbers, and :class:`Number` text) is returned as it is."""
    if isinstance(value, str) and not isinstance(value, Number) and risky(value):
        return "'" + value
    return value


class CsvWriter:
    """``csv.writer`` rows ending in ``\\n``, every text cell through :func:`csv_cell`, and
    any field with a CR or LF quoted (``csv`` quotes only the characters of its own line end,
    so rows are made with ``\\r\\n`` and end in ``\\n``)."""

    def __init__(self, handle: IO[str]) -> None:
        self._handle = handle
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")

    def writerow(self, row: Iterable[Any]) -> None:
        """Write one row."""
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow([csv_cell(v) for v in row])
        self._handle.write(self._buffer.getvalue()[:-2] + "\n")

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        """Write every row of ``rows``."""
        for row in rows:
            self.writerow(row)


def neutralise_workbook(workbook: Workbook) -> Workbook:
    """Store every cell of ``workbook`` that holds formula-like text as a string with the
    quote prefix (openpyxl takes any text beginning with ``=`` for a formula). For workbooks
    whose cells all come from data: mns's forms write no formulas of their own."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and risky(cell.value):
                    cell.data_type = "s"
                    cell.quotePrefix = True
    return workbook
