"""Table-like input, one way: what the public functions accept, how it is streamed or
materialised, and the one wording of a missing column.

Every public function that takes tabular data accepts a :data:`TableLike`: a pyarrow
``Table``, a ``RecordBatch``, a ``RecordBatchReader``, or any iterable of record batches
(tables in the iterable are taken batch by batch). Three ways to use one:

- :func:`batches`: stream it (only the columns asked for), with small batches put together
  and large ones cut, so each is counted efficiently; nothing is held but a batch or two.
- :func:`peek`: learn its schema without losing a batch of a one-shot stream.
- :func:`materialise`: one ``Table`` (for the functions that need every row at once).

Wrong argument types are a ``TypeError``; data without the columns a function needs is a
:class:`mns.SchemaError` worded by :func:`require` (``cases has no column 'age' (it has:
case_id, sex, ...)``). Datasets (:func:`mns.engines.dataset`) are handled by the callers that
accept them, above this module.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Final, TypeAlias

import pyarrow as pa

from mns.errors import SchemaError

__all__ = [
    "MAX_BATCH_ROWS",
    "MIN_BATCH_ROWS",
    "TableLike",
    "batches",
    "materialise",
    "peek",
    "require",
    "stream",
]

#: What the public functions accept: a table, a batch, a stream of record batches, or any
#: iterable of batches.
TableLike: TypeAlias = "pa.Table | pa.RecordBatchReader | pa.RecordBatch | Iterable[pa.RecordBatch]"

#: Batches smaller than this are put together before they are counted (fewer, larger passes).
MIN_BATCH_ROWS: int = 1 << 16
#: Largest batch counted at once (bitmaps of this many rows stay in cache).
MAX_BATCH_ROWS: Final = 1 << 20
#: Columns a missing-column message lists before "...".
_LISTED: Final = 12


def _not_table_like(source: object, what: str) -> TypeError:
    return TypeError(
        f"{what} must be a pyarrow Table, a RecordBatchReader or an iterable of RecordBatches, "
        f"not {type(source).__name__}"
    )


def _not_a_batch(item: object, index: int, what: str) -> TypeError:
    return TypeError(
        f"{what}: item {index} of the stream is a {type(item).__name__}, not a pyarrow RecordBatch"
    )


def _no_batches(what: str) -> SchemaError:
    return SchemaError(
        f"{what}: no record batches were given, so its columns are unknown; pass a Table "
        "(even an empty one) to give them",
        item=what,
    )


# --------------------------------------------------------------------------------------
# Columns


def require(
    names: Sequence[str],
    columns: Iterable[str],
    what: str,
    hint: str = "",
    *,
    file: str | None = None,
) -> None:
    """Raise a :class:`mns.SchemaError` if any of ``columns`` is not among ``names``: ``{what}
    has no column 'a', 'b' (it has: x, y, ...)``, then ``; {hint}`` when given."""
    missing = [c for c in columns if c not in names]
    if not missing:
        return
    shown = ", ".join(names[:_LISTED]) + (", ..." if len(names) > _LISTED else "")
    raise SchemaError(
        f"{what} has no column {', '.join(map(repr, missing))} (it has: {shown or 'none'})"
        + (f"; {hint}" if hint else ""),
        item=what,
        field=missing[0],
        file=file,
    )


def _select(table: pa.Table, columns: Sequence[str] | None, what: str) -> pa.Table:
    if columns is None:
        return table
    require(table.column_names, columns, what)
    return table.select(list(columns))


def _select_batch(
    batch: pa.RecordBatch, columns: Sequence[str] | None, what: str
) -> pa.RecordBatch:
    if columns is None:
        return batch
    require(batch.schema.names, columns, what)
    return batch.select(list(columns))


# --------------------------------------------------------------------------------------
# Streaming


def stream(source: TableLike, what: str = "table") -> Iterator[pa.RecordBatch]:
    """The record batches of ``source`` as they come (tables in an iterable are taken batch
    by batch); anything else is a ``TypeError`` naming ``what``."""
    if isinstance(source, pa.Table):
        yield from source.to_batches()
        return
    if isinstance(source, pa.RecordBatch):
        yield source
        return
    if isinstance(source, pa.RecordBatchReader):
        yield from source
        return
    if isinstance(source, (str, bytes, Mapping)) or not isinstance(source, Iterable):
        raise _not_table_like(source, what)
    for i, item in enumerate(source):
        if isinstance(item, pa.RecordBatch):
            yield item
        elif isinstance(item, pa.Table):
            yield from item.to_batches()
        else:
            raise _not_a_batch(item, i, what)


def batches(
    source: TableLike, columns: Sequence[str] | None = None, *, what: str = "table"
) -> Iterator[pa.RecordBatch]:
    """The record batches of ``source`` (only ``columns``, if given), with small batches put
    together and large ones cut, so each is counted efficiently. ``what`` names the input in
    errors (``"cases"``). An empty table gives one empty batch, so its columns' types are
    seen."""
    if isinstance(source, pa.Table):
        table = _select(source, columns, what)
        if table.num_rows == 0:
            yield pa.RecordBatch.from_arrays(
                [pa.array([], f.type) for f in table.schema], schema=table.schema
            )
            return
        yield from _sized(table.to_batches(max_chunksize=MAX_BATCH_ROWS))
        return
    if isinstance(source, pa.RecordBatch):
        yield from _sized([_select_batch(source, columns, what)])
        return
    if not isinstance(source, pa.RecordBatchReader) and (
        isinstance(source, (str, bytes, Mapping)) or not isinstance(source, Iterable)
    ):
        raise _not_table_like(source, what)
    yield from _sized(_checked(source, columns, what))


def _checked(
    source: Iterable[Any], columns: Sequence[str] | None, what: str
) -> Iterator[pa.RecordBatch]:
    for i, item in enumerate(source):
        if isinstance(item, pa.RecordBatch):
            yield _select_batch(item, columns, what)
        elif isinstance(item, pa.Table):
            yield from _select(item, columns, what).to_batches(max_chunksize=MAX_BATCH_ROWS)
        else:
            raise _not_a_batch(item, i, what)


def _sized(source: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    held: list[pa.RecordBatch] = []
    rows = 0
    for batch in source:
        if batch.num_rows >= MIN_BATCH_ROWS and not held:
            yield from _cut(batch)
            continue
        held.append(batch)
        rows += batch.num_rows
        if rows >= MIN_BATCH_ROWS:
            yield from _cut(_concat(held))
            held, rows = [], 0
    if held:
        yield from _cut(_concat(held))


def _cut(batch: pa.RecordBatch) -> Iterator[pa.RecordBatch]:
    if batch.num_rows <= MAX_BATCH_ROWS:
        yield batch
        return
    for start in range(0, batch.num_rows, MAX_BATCH_ROWS):
        yield batch.slice(start, MAX_BATCH_ROWS)


def _concat(held: list[pa.RecordBatch]) -> pa.RecordBatch:
    if len(held) == 1:
        return held[0]
    schema = held[0].schema
    for other in held[1:]:
        if not other.schema.equals(schema):
            raise SchemaError(
                "the batches of a stream must share one schema; found "
                f"{schema.to_string(show_schema_metadata=False)!r} and "
                f"{other.schema.to_string(show_schema_metadata=False)!r}"
            )
    table = pa.Table.from_batches(held, schema=schema).unify_dictionaries().combine_chunks()
    return table.to_batches()[0] if table.num_rows else held[0]  # all empty: no batch left


# --------------------------------------------------------------------------------------
# Schema first, and whole tables


def peek(source: TableLike, what: str = "table") -> tuple[pa.Schema, TableLike]:
    """The schema of ``source`` and a source that still yields every batch (a one-shot
    stream's first batch is read to learn it; a stream without batches has no schema and is
    an error)."""
    if isinstance(source, (pa.Table, pa.RecordBatchReader, pa.RecordBatch)):
        return source.schema, source
    if isinstance(source, (str, bytes, Mapping)) or not isinstance(source, Iterable):
        raise _not_table_like(source, what)
    iterator = iter(source)
    first = next(iterator, None)
    if first is None:
        raise _no_batches(what)
    if not isinstance(first, (pa.RecordBatch, pa.Table)):
        raise _not_a_batch(first, 0, what)
    return first.schema, itertools.chain([first], iterator)


def materialise(source: TableLike, what: str = "table") -> pa.Table:
    """``source`` as one ``Table`` (a table as it is; a stream read whole)."""
    if isinstance(source, pa.Table):
        return source
    if isinstance(source, pa.RecordBatchReader):
        return source.read_all()
    schema, rest = peek(source, what)
    return pa.Table.from_batches(list(stream(rest, what)), schema=schema)
