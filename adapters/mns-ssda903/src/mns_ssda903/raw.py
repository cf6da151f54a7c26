"""Rows of 903 tables as read, before any checking: text values with where they came from."""

from __future__ import annotations

from typing import Any

import attrs
import pyarrow as pa

from mns_ssda903 import spec

__all__ = ["RawRows", "RawTable", "merge"]


@attrs.define
class RawTable:
    """Rows of one 903 table: raw text per column (string arrays; null where a cell was
    absent), and each row's file and place in it (``row`` in a CSV, the header being row 1;
    ``line`` in XML)."""

    name: str
    values: dict[str, pa.Array]
    source: pa.Array
    row: pa.Array
    line: pa.Array

    @classmethod
    def empty(cls, name: str) -> RawTable:
        return RawRows(name).table()

    def __len__(self) -> int:
        return len(self.source)

    def where(self, i: int) -> dict[str, Any]:
        """Row ``i``'s file, row and line (for an issue)."""
        return {
            "source": self.source[i].as_py(),
            "row": self.row[i].as_py(),
            "line": self.line[i].as_py(),
        }


@attrs.define
class RawRows:
    """A :class:`RawTable` built one row at a time (the XML form, damaged CSV files)."""

    name: str
    values: dict[str, list[str | None]] = attrs.field(init=False)
    source: list[str] = attrs.field(factory=list)
    row: list[int | None] = attrs.field(factory=list)
    line: list[int | None] = attrs.field(factory=list)

    def __attrs_post_init__(self) -> None:
        self.values = {c: [] for c in spec.TABLES[self.name].names}

    def __len__(self) -> int:
        return len(self.source)

    def append(
        self,
        record: dict[str, Any],
        *,
        source: str,
        row: int | None = None,
        line: int | None = None,
    ) -> None:
        """Add one row (missing columns as ``None``)."""
        for column, values in self.values.items():
            values.append(record.get(column))
        self.source.append(source)
        self.row.append(row)
        self.line.append(line)

    def table(self) -> RawTable:
        return RawTable(
            name=self.name,
            values={c: pa.array(v, pa.string()) for c, v in self.values.items()},
            source=pa.array(self.source, pa.string()),
            row=pa.array(self.row, pa.int64()),
            line=pa.array(self.line, pa.int64()),
        )


def merge(parts: list[RawTable], name: str) -> RawTable:
    """The rows of every part of table ``name`` (a return may split a table over files)."""
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return RawTable.empty(name)
    return RawTable(
        name=name,
        values={c: pa.concat_arrays([p.values[c] for p in parts]) for c in spec.TABLES[name].names},
        source=pa.concat_arrays([p.source for p in parts]),
        row=pa.concat_arrays([p.row for p in parts]),
        line=pa.concat_arrays([p.line for p in parts]),
    )
