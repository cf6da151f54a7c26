"""Rows of 903 tables as read, before any checking: text values with where they came from."""

from __future__ import annotations

from typing import Any

import attrs
import pyarrow as pa

from mns_ssda903 import spec

__all__ = ["BASE", "RawRows", "RawTable", "field_path", "merge"]

#: the child's own fields, which the XML form gives once, in ``CHILD/HEADER``, and every table
#: repeats
BASE = ("CHILD", "DOB", "SEX")
#: XML element names of the columns named otherwise in the tables
_TAGS = {"CHILD": "CHILDID", "PLACE": "PL"}


def field_path(path: str | None, column: str) -> str | None:
    """The element path of ``column`` in the row read from the element at ``path`` (None for
    a row of a CSV file): below it, or for the child's own fields (:data:`BASE`), below the
    child's ``HEADER``, where the XML form gives them (a block that repeats one of them,
    which the XML form never does, is read with its own, but located at the HEADER's)."""
    if path is None:
        return None
    tag = _TAGS.get(column, column)
    if column in BASE and not path.endswith("/HEADER"):
        child = path.rfind("/CHILD[")
        end = path.find("/", child + 1)
        path = (path if end < 0 else path[:end]) + "/HEADER"
    return f"{path}/{tag}"


@attrs.define
class RawTable:
    """Rows of one 903 table: raw text per column (string arrays; null where a cell was
    absent), and each row's file and place in it (``row`` in a CSV, the header being row 1;
    ``line`` in XML, and ``path``, the element path of the element the row was read from)."""

    name: str
    values: dict[str, pa.Array]
    source: pa.Array
    row: pa.Array
    line: pa.Array
    path: pa.Array

    @classmethod
    def empty(cls, name: str) -> RawTable:
        return RawRows(name).table()

    def __len__(self) -> int:
        return len(self.source)

    def where(self, i: int, column: str | None = None) -> dict[str, Any]:
        """Row ``i``'s file, row, line and element path (for an issue; of the element of
        ``column`` in XML, when given)."""
        path = self.path[i].as_py()
        return {
            "source": self.source[i].as_py(),
            "row": self.row[i].as_py(),
            "line": self.line[i].as_py(),
            "path": path if column is None else field_path(path, column),
        }


@attrs.define
class RawRows:
    """A :class:`RawTable` built one row at a time (the XML form, damaged CSV files)."""

    name: str
    values: dict[str, list[str | None]] = attrs.field(init=False)
    source: list[str] = attrs.field(factory=list)
    row: list[int | None] = attrs.field(factory=list)
    line: list[int | None] = attrs.field(factory=list)
    path: list[str | None] = attrs.field(factory=list)

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
        path: str | None = None,
    ) -> None:
        """Add one row (missing columns as ``None``)."""
        for column, values in self.values.items():
            values.append(record.get(column))
        self.source.append(source)
        self.row.append(row)
        self.line.append(line)
        self.path.append(path)

    def table(self) -> RawTable:
        return RawTable(
            name=self.name,
            values={c: pa.array(v, pa.string()) for c, v in self.values.items()},
            source=pa.array(self.source, pa.string()),
            row=pa.array(self.row, pa.int64()),
            line=pa.array(self.line, pa.int64()),
            path=pa.array(self.path, pa.string()),
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
        path=pa.concat_arrays([p.path for p in parts]),
    )
