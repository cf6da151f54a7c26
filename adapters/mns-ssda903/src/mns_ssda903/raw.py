"""Rows of 903 tables as read, before any checking: text values with where they came from."""

from __future__ import annotations

from typing import Any

import attrs

from mns_ssda903 import spec

__all__ = ["RawTable", "merge"]


@attrs.define
class RawTable:
    """Rows of one 903 table: raw text per column, and each row's file and place in it
    (``row`` in a CSV, the header being row 1; ``line`` in XML)."""

    name: str
    values: dict[str, list[str | None]]
    source: list[str] = attrs.field(factory=list)
    row: list[int | None] = attrs.field(factory=list)
    line: list[int | None] = attrs.field(factory=list)

    @classmethod
    def empty(cls, name: str) -> RawTable:
        return cls(name=name, values={c: [] for c in spec.TABLES[name].names})

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


def merge(parts: list[RawTable], name: str) -> RawTable:
    """The rows of every part of table ``name`` (a return may split a table over files)."""
    out = RawTable.empty(name)
    for part in parts:
        for column, values in out.values.items():
            values.extend(part.values[column])
        out.source.extend(part.source)
        out.row.extend(part.row)
        out.line.extend(part.line)
    return out
