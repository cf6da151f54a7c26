"""Writing published tables: CSV with the official statistics' symbols (and no formulas:
text that a spreadsheet would run gets a leading ``'``, see :mod:`mns.cells`)."""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pyarrow as pa

from mns.cells import CsvWriter, Number
from mns.disclosure.structure import NOT_APPLICABLE, NOT_AVAILABLE, NULL_KEY, SUPPRESSED
from mns.disclosure.suppress import Disclosed, _suppressed_set


def _symbol(field: pa.Field) -> str:
    raw = (field.metadata or {}).get(NULL_KEY)
    return raw.decode() if raw else NOT_AVAILABLE


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return NOT_APPLICABLE
        return repr(value)
    return str(value)


def to_csv(
    data: Disclosed | pa.Table,
    path: str | Path | IO[str],
    *,
    digits: int | None = None,
) -> None:
    """Write a disclosed table as CSV with the official statistics' symbols: ``c`` for a
    withheld cell, ``z`` for "not applicable" and ``:`` for "not available" (nulls, as the
    column's metadata says). ``digits`` rounds floats for display.

    Passing a plain table writes it as it is (no cell is withheld): use :func:`disclose` first
    for anything published.
    """
    if isinstance(data, Disclosed):
        table, withheld = data.table, _suppressed_set(data.suppressed)
    elif isinstance(data, pa.Table):
        table, withheld = data, set()
    else:
        raise TypeError(
            f"to_csv: expected a Disclosed or a pyarrow Table, not {type(data).__name__}"
        )
    if isinstance(path, (str, Path)):
        from mns.records.folder import replacing

        with (
            replacing(path) as temporary,
            temporary.open("w", encoding="utf-8", newline="") as handle,
        ):
            _write_csv(handle, table, withheld, digits)
    else:
        _write_csv(path, table, withheld, digits)


class Symbol(str):
    """An official symbol standing in a published cell (``c``, ``z``, ``:``)."""

    __slots__ = ()


def published_rows(
    table: pa.Table, withheld: set[tuple[int, str]] | frozenset[tuple[int, str]]
) -> Iterator[list[Any]]:
    """Each row of ``table`` as published: a :class:`Symbol` for a withheld cell (``c``), a
    null (the column's symbol, ``:`` by default) or a NaN (``z``); the value otherwise. The
    CSV files and the tables workbook are both written from these."""
    symbols = [Symbol(_symbol(f)) for f in table.schema]
    names = table.column_names
    for i, row in enumerate(table.to_pylist()):
        line: list[Any] = []
        for name, symbol in zip(names, symbols, strict=True):
            value = row[name]
            if (i, name) in withheld:
                line.append(Symbol(SUPPRESSED))
            elif value is None:
                line.append(symbol)
            elif isinstance(value, float) and math.isnan(value):
                line.append(Symbol(NOT_APPLICABLE))
            else:
                line.append(value)
        yield line


def _write_csv(
    handle: IO[str], table: pa.Table, withheld: set[tuple[int, str]], digits: int | None
) -> None:
    writer = CsvWriter(handle)
    writer.writerow(table.column_names)
    for row in published_rows(table, withheld):
        line = []
        for value in row:
            if isinstance(value, Symbol):
                line.append(str(value))
            elif digits is not None and isinstance(value, float):
                line.append(Number(f"{value:.{digits}f}"))
            elif isinstance(value, str):
                line.append(value)  # text: CsvWriter neutralises what could run as a formula
            else:  # numbers, booleans, dates: their text cannot run (a negative stays a number)
                line.append(Number(_text(value)))
        writer.writerow(line)


def csv_text(data: Disclosed | pa.Table, *, digits: int | None = None) -> str:
    """:func:`to_csv` into a string."""
    buffer = io.StringIO()
    to_csv(data, buffer, digits=digits)
    return buffer.getvalue()
