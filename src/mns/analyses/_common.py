"""Helpers shared by the analyses: group levels, services received, output tables."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mns import _tables, aggregate
from mns._tables import TableLike
from mns.classification import UNASSIGNED, UNKNOWN
from mns.disclosure import Structure, describe
from mns.plan.model import Plan


def levels(plan: Plan | None, by: str | None, schema: pa.Schema | None = None) -> list[str]:
    """The groups every result lists, even when empty: the plan's need groups, then
    ``unassigned`` and ``unknown`` for the rules' grouping, or ``(not placed)`` and
    ``(not audited)`` for an audit group's (:func:`mns.assign`, read from ``schema``);
    only when grouping by ``need_group``."""
    from mns.grouping import PANEL_LEVELS, RULES, grouping_of

    if plan is None or by != "need_group":
        return []
    extra = [UNASSIGNED, UNKNOWN] if grouping_of(schema) == RULES else list(PANEL_LEVELS)
    return [g.code for g in plan.need_groups] + extra


def dense(observed: Iterable[Any], declared: Sequence[Any] = ()) -> list[Any]:
    """``declared`` in order, then the other observed values sorted (null last)."""
    seen = set(declared)
    rest = {v for v in observed if v not in seen}
    tail = sorted((v for v in rest if v is not None), key=str)
    return [*declared, *tail, *([None] if None in rest else [])]


def as_text(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Key values as strings: booleans as ``true``/``false``, the rest cast; nulls kept."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if pa.types.is_boolean(values.type):
        return pc.if_else(values, "true", "false")
    if pa.types.is_string(values.type):
        return values
    return pc.cast(values, pa.string())


def floats(values: Any) -> pa.Array:
    """A float64 column of ``values``, null where a value is NaN or infinite."""
    arr = np.asarray(values, dtype=np.float64)
    return pa.array(arr, pa.float64(), mask=~np.isfinite(arr))


def sort(table: pa.Table, keys: Sequence[str]) -> pa.Table:
    """``table`` sorted by ``keys`` (ascending, nulls last)."""
    if not keys or table.num_rows < 2:
        return table
    return table.take(aggregate.sort_indices(table, keys))


def finish(
    table: pa.Table,
    keys: Sequence[str],
    structure: Structure | None,
    *,
    not_applicable: Iterable[str] = (),
    analysis: str,
) -> pa.Table:
    """Sort by ``keys``, record the disclosure structure and which nulls mean "not applicable",
    and name the analysis in the schema metadata."""
    out = sort(table, keys)
    out = out.replace_schema_metadata(
        {**(out.schema.metadata or {}), b"mns.analysis": analysis.encode()}
    )
    if structure is None:
        return out
    return describe(out, structure, not_applicable=not_applicable)


# --------------------------------------------------------------------------------------
# Services received


def service_codes(plan: Plan | None) -> dict[str, list[str]]:
    """Record service code -> the plan services it counts as (empty without a plan)."""
    if plan is None:
        return {}
    out: dict[str, list[str]] = {}
    for service in plan.services:
        for code in service.received_as or (service.code,):
            out.setdefault(code, []).append(service.code)
    return out


class IdIndex:
    """Ids sorted once, so that each batch's ids are found in ``O(batch x log ids)``.

    ``pc.is_in`` and ``Table.join`` build their hash table of every id again on each call:
    called per batch, the analyses grew with the square of the cases. Ids are compared as
    bytes with a ``\\x01`` appended, as NumPy's byte strings drop trailing NULs.
    """

    __slots__ = ("keys", "order", "unique")

    def __init__(self, ids: pa.Array | pa.ChunkedArray, *, unique: bool = False) -> None:
        """``unique``: the caller vouches that no id repeats (one search per lookup)."""
        keys = self._bytes(ids)
        self.order = np.argsort(keys, kind="stable")  # sorted position -> row of ``ids``
        self.keys = keys[self.order]
        self.unique = unique

    @staticmethod
    def _bytes(ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
        text = pc.binary_join_element_wise(as_text(ids), "", "\x01").cast(pa.binary())
        # a null becomes b"", which no id (always ending in \x01) equals
        text = pc.fill_null(text, pa.scalar(b"", pa.binary()))
        return np.asarray(text.to_numpy(zero_copy_only=False), dtype=np.bytes_)

    def __len__(self) -> int:
        return len(self.keys)

    def spans(self, ids: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
        """For each of ``ids``, the positions ``[start, stop)`` of its equals among the
        sorted keys (empty for an id absent, or null)."""
        if len(self.keys) == 0 or len(ids) == 0:
            empty = np.zeros(len(ids), dtype=np.int64)
            return empty, empty
        wanted = self._bytes(ids)
        # searched in sorted order: neighbouring searches then share their cache lines
        # (four times faster on millions of keys), and put back in the ids' order
        order = np.argsort(wanted)
        ordered = wanted[order]
        start = np.empty(len(wanted), dtype=np.int64)
        stop = np.empty(len(wanted), dtype=np.int64)
        start[order] = np.searchsorted(self.keys, ordered, side="left")
        if self.unique:
            at = np.minimum(start, len(self.keys) - 1)
            stop[:] = start + (self.keys[at] == wanted)
        else:
            stop[order] = np.searchsorted(self.keys, ordered, side="right")
        null = np.asarray(pc.is_null(ids).to_numpy(zero_copy_only=False), dtype=bool)
        stop[null] = start[null]
        return start, stop

    def contains(self, ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
        start, stop = self.spans(ids)
        return np.asarray(stop > start)

    def pairs(self, ids: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
        """An inner join of ``ids`` with the ids indexed: the row in each of every pair
        of equal ids."""
        start, stop = self.spans(ids)
        counts = stop - start
        rows = np.repeat(np.arange(len(counts)), counts)
        first = np.repeat(start - (np.cumsum(counts) - counts), counts)
        return rows, self.order[np.arange(len(rows)) + first]


class Received:
    """Which services each case received (see :func:`received`), looked up per batch."""

    __slots__ = ("codes", "extra", "index", "members")

    def __init__(self, sets: Mapping[str, pa.Array], extra: Sequence[str]) -> None:
        self.codes = list(sets)
        self.extra = list(extra)
        every = pa.concat_arrays([pa.array([], pa.string()), *sets.values()]).dictionary_encode()
        self.index = IdIndex(every.dictionary, unique=True)
        rank = np.empty(len(self.index), dtype=np.int64)  # row of the dictionary -> position
        rank[self.index.order] = np.arange(len(self.index))
        service = np.repeat(np.arange(len(sets)), [len(m) for m in sets.values()])
        self.members = np.zeros((len(self.index), len(self.codes)), dtype=bool)
        self.members[rank[every.indices.to_numpy()], service] = True

    def __len__(self) -> int:
        """The distinct cases with a service record."""
        return len(self.index)

    def flags(self, ids: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, dict[str, pa.Array]]:
        """Whether each of ``ids`` received any service, and each service."""
        start, stop = self.index.spans(ids)
        found = stop > start
        rows = self.members[np.where(found, start, 0)] if len(self.index) else None
        each = {
            code: pa.array(found & rows[:, j] if rows is not None else found)
            for j, code in enumerate(self.codes)
        }
        return pa.array(found), each

    def add_flags(self, batch: pa.RecordBatch, prefix: str) -> pa.RecordBatch:
        """``batch`` with a bool column ``<prefix><service>`` per service: the case
        received it."""
        for code, got in self.flags(batch.column("case_id"))[1].items():
            batch = batch.append_column(f"{prefix}{code}", got)
        return batch


def received(services: TableLike, plan: Plan | None) -> Received:
    """For each service, the distinct ``case_id``s that received it, and which of those
    services the plan does not have (``extra``).

    With a plan, record codes count as the plan services that list them in ``received_as``
    (or have them as their code); record codes no plan service takes keep their own code
    (``record:<code>`` if that is a plan service's code) and are returned as not in the plan.
    Every plan service is present, if only with no cases. Without a plan, the record codes.
    """
    mapping = service_codes(plan)
    plan_codes = {s.code for s in plan.services} if plan is not None else set()
    pairs: dict[str, list[pa.Array]] = {}
    extra: set[str] = set()
    for batch in _tables.batches(services, ["case_id", "service"], what="services"):
        codes = as_text(batch.column("service"))
        ids = batch.column("case_id")
        if pa.types.is_dictionary(ids.type):
            ids = ids.dictionary_decode()
        table = pa.table({"case_id": ids, "service": codes})
        for code in pc.unique(codes).to_pylist():
            if code is None:
                continue
            targets = mapping.get(code)
            if targets is None:
                target = code if plan is None or code not in plan_codes else f"record:{code}"
                targets = [target]
                if plan is not None:
                    extra.add(target)
            chosen = table.filter(pc.equal(table.column("service"), code)).column("case_id")
            for target in targets:
                pairs.setdefault(target, []).append(chosen.combine_chunks())
    out: dict[str, pa.Array] = {}
    for code, arrays in pairs.items():
        out[code] = pc.drop_null(pc.unique(pa.concat_arrays(arrays).cast(pa.string())))
    for code in plan_codes:
        out.setdefault(code, pa.array([], pa.string()))
    return Received(dict(sorted(out.items())), sorted(extra))


def peek(source: TableLike, what: str) -> tuple[pa.Schema, TableLike]:
    """The schema of ``source`` and a source that still yields every batch (see
    :func:`mns._tables.peek`); a dataset is passed on whole, to run on its files."""
    from mns.engines import Dataset

    if isinstance(source, Dataset):
        return source.schema, source
    return _tables.peek(source, what)


def indicator_columns(schema: pa.Schema, exclude: Iterable[str] = ()) -> list[str]:
    """The indicator columns of a cases schema: ``<language>.<code>`` names, without the
    columns classification adds (``threshold.*``, ``need_group.*``)."""
    skip = set(exclude)
    out = []
    for field in schema:
        name = field.name
        if "." not in name or name in skip or name.startswith(("threshold.", "need_group.")):
            continue
        if pa.types.is_nested(field.type):
            continue
        out.append(name)
    return out
