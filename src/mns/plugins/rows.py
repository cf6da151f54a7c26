"""Rows to tables: what an adapter that reads record by record builds its tables with.

An adapter that meets its records one at a time (a CSV row, an XML element) collects each
as a dict of field name -> Python value and turns them into typed Arrow data of a table's
schema (a canonical one from :mod:`mns.records.schema`, or its own for an extra table)::

    from mns.plugins import RowBatcher, rows_to_table

    cases = rows_to_table(rows, mns.schema.CASES)       # a whole pyarrow Table

    batcher = RowBatcher(mns.schema.CASES, batch_rows=options["batch_size"])
    for record in records:
        batch = batcher.add(row_of(record))              # a RecordBatch when one is full
        if batch is not None:
            yield "cases", batch                         # Adapter.stream
    yield "cases", batcher.flush()                       # the rest (possibly no rows)

Values are converted to each field's type as ``pyarrow.array`` converts them (``None`` is
null); category (dictionary) columns take plain strings. A field a row does not give is
null; a key of a row that is not a field of the schema is an error (a misspelt field would
otherwise be lost without a word), unless ``extra="ignore"``. Memory is bounded by
``batch_rows`` (the rows held at once), not by the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Literal

import pyarrow as pa

__all__ = ["RowBatcher", "align", "rows_to_batches", "rows_to_table"]


def _plain(kind: pa.DataType) -> pa.DataType:
    return kind.value_type if pa.types.is_dictionary(kind) else kind


def _array(values: list[Any], field: pa.Field) -> pa.Array:
    """``values`` as an array of ``field``'s type (dictionaries built from plain values)."""
    kind = field.type
    plain = _plain(kind)
    try:
        array = pa.array(values, plain)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
        raise ValueError(f"column {field.name!r} ({kind}): {exc}") from None
    return array.dictionary_encode().cast(kind) if pa.types.is_dictionary(kind) else array


class RowBatcher:
    """Collects rows (dicts) and gives them back as :class:`pyarrow.RecordBatch` of ``schema``,
    ``batch_rows`` rows at a time (``None``: one batch, given by :meth:`flush`).

    Rows are held column by column, so a batch costs its values, not a dict per row.
    """

    def __init__(
        self,
        schema: pa.Schema,
        batch_rows: int | None = None,
        *,
        extra: Literal["error", "ignore"] = "error",
    ) -> None:
        if batch_rows is not None and (not isinstance(batch_rows, int) or batch_rows < 1):
            raise ValueError(f"batch_rows={batch_rows!r}: give a positive number of rows, or None")
        if extra not in ("error", "ignore"):
            raise ValueError(f"extra={extra!r}: use 'error' or 'ignore'")
        self.schema = schema
        self.batch_rows = batch_rows
        self._extra = extra
        self._names = tuple(schema.names)
        self._known = frozenset(self._names)
        self._columns: list[list[Any]] = [[] for _ in self._names]
        self._rows = 0
        #: batches given so far (by :meth:`add` and :meth:`flush`)
        self.batches = 0

    def __len__(self) -> int:
        """Rows held, not yet given back."""
        return self._rows

    def add(self, row: Mapping[str, Any]) -> pa.RecordBatch | None:
        """Hold ``row``; returns a full batch once ``batch_rows`` rows are held, else None."""
        if self._extra == "error" and not self._known.issuperset(row):
            unknown = sorted(set(row) - self._known)
            raise ValueError(
                f"row has field(s) {', '.join(map(repr, unknown))} that the schema does not "
                f"have; its fields are {', '.join(self._names)}"
            )
        get = row.get
        for column, name in zip(self._columns, self._names, strict=True):
            column.append(get(name))
        self._rows += 1
        if self.batch_rows is not None and self._rows >= self.batch_rows:
            return self._take()
        return None

    def flush(self) -> pa.RecordBatch:
        """The rows held, as one batch (with no rows when none are held)."""
        return self._take()

    def _take(self) -> pa.RecordBatch:
        columns, self._columns = self._columns, [[] for _ in self._names]
        self._rows = 0
        self.batches += 1
        arrays = [_array(values, field) for values, field in zip(columns, self.schema, strict=True)]
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)


def rows_to_batches(
    rows: Iterable[Mapping[str, Any]],
    schema: pa.Schema,
    batch_rows: int | None = None,
    *,
    extra: Literal["error", "ignore"] = "error",
) -> Iterator[pa.RecordBatch]:
    """``rows`` as record batches of ``schema``, ``batch_rows`` rows each (the last may be
    shorter; None: one batch). Always at least one batch, so the schema is never lost."""
    batcher = RowBatcher(schema, batch_rows, extra=extra)
    for row in rows:
        batch = batcher.add(row)
        if batch is not None:
            yield batch
    if len(batcher) or not batcher.batches:
        yield batcher.flush()


def rows_to_table(
    rows: Iterable[Mapping[str, Any]],
    schema: pa.Schema,
    *,
    extra: Literal["error", "ignore"] = "error",
) -> pa.Table:
    """``rows`` as one table of ``schema`` (what ``pyarrow.Table.from_pylist`` does, with
    category columns taken from plain strings and unknown fields refused)."""
    return pa.Table.from_batches(list(rows_to_batches(rows, schema, extra=extra)), schema=schema)


def align(data: pa.Table | pa.RecordBatch, schema: pa.Schema, *, what: str = "batch") -> pa.Table:
    """``data`` as a table with exactly the columns of ``schema``, in its order: a column it
    lacks is added as nulls, one of another type is cast. A column ``schema`` does not have
    is an error (``ValueError``): every batch of one table must have the first batch's
    columns (or fewer)."""
    table = data if isinstance(data, pa.Table) else pa.Table.from_batches([data])
    if table.schema.equals(schema):
        return table
    extra = [n for n in table.column_names if n not in schema.names]
    if extra:
        raise ValueError(
            f"{what} has column(s) {', '.join(map(repr, extra))} that the first batch of its "
            "table did not have: every batch of a table has the same columns"
        )
    columns = []
    for field in schema:
        if field.name in table.column_names:
            column = table.column(field.name)
            if not column.type.equals(field.type):
                column = column.cast(field.type)
        else:
            column = pa.nulls(table.num_rows, field.type)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=schema)
