"""Small hand-made tables for the analyses' tests: classified cases, services, outcomes,
assignments, a plan, and ways to cut a table into record batches."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa
from hypothesis import strategies as st

from mns import _tables
from mns.plan.model import NeedGroup, Plan, Service
from mns.records import schema

CAT = schema.CATEGORY
GROUPS = ("A", "B", "C", "unassigned", "unknown")
SERVICES = ("s1", "s2", "s3")
CASE_TYPES: dict[str, pa.DataType] = {
    "case_id": pa.string(),
    "need_group": CAT,
    "age": pa.int16(),
    "sex": CAT,
    "ethnicity": CAT,
    "disability": pa.bool_(),
    "cohort": CAT,
    "area": CAT,
    "la": CAT,
    "mns.f1": pa.bool_(),
    "mns.f2": pa.bool_(),
    "mns.r1": pa.int8(),
    "mns.c1": CAT,
    "threshold.s1": pa.bool_(),
    "threshold.s2": pa.bool_(),
    "weight": pa.float64(),
}

PLAN = Plan(
    name="test plan",
    language="mns",
    need_groups=(
        NeedGroup(code="A", name="Group A"),
        NeedGroup(code="B", name="Group B"),
        NeedGroup(code="C", name="Group C"),
    ),
    services=(
        Service(
            code="s1",
            name="Service 1",
            need_groups=("A", "B"),
            threshold="mns.f1",
            received_as=("r1", "r1b"),
            capacity=10,
        ),
        Service(
            code="s2", name="Service 2", need_groups=("B",), threshold="mns.f2", received_as=("r2",)
        ),
        Service(code="s3", name="Service 3", need_groups=("C",), received_as=("r3",), capacity=5),
    ),
)


def cases_table(rows: Sequence[dict[str, Any]]) -> pa.Table:
    """A cases table with the canonical types (dictionary strings, int16 age, int8 rating)."""
    return pa.table(
        {
            name: pa.array([r.get(name) for r in rows], pa.string() if typ == CAT else typ).cast(
                typ
            )
            for name, typ in CASE_TYPES.items()
        }
    )


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


ROW = st.fixed_dictionaries(
    {
        "need_group": st.sampled_from(GROUPS),
        "age": _maybe(st.integers(0, 20)),
        "sex": _maybe(st.sampled_from(["F", "M", "U"])),
        "ethnicity": _maybe(st.sampled_from(["WBRI", "ASIA", "BLAF", "MIXD"])),
        "disability": _maybe(st.booleans()),
        "cohort": st.sampled_from(["referral", "looked_after"]),
        "area": _maybe(st.sampled_from(["QE1", "QE2", "QE3"])),
        "la": st.sampled_from(["Q900", "Q901"]),
        "mns.f1": _maybe(st.booleans()),
        "mns.f2": _maybe(st.booleans()),
        "mns.r1": _maybe(st.integers(0, 3)),
        "mns.c1": _maybe(st.sampled_from(["x", "y"])),
        "threshold.s1": _maybe(st.booleans()),
        "threshold.s2": _maybe(st.booleans()),
        "weight": st.sampled_from([1.0, 2.0, 5.0]),
    }
)


def _numbered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"case_id": f"c{i:03d}", **row} for i, row in enumerate(rows)]


def case_rows(min_size: int = 0, max_size: int = 40) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Random classified cases, with missing values in every column but ``case_id``."""
    return st.lists(ROW, min_size=min_size, max_size=max_size).map(_numbered)


def _reencode(batch: pa.RecordBatch) -> pa.RecordBatch:
    """The same batch with every dictionary column's dictionary rebuilt in a new order, so
    batches of one stream do not share dictionaries."""
    return pa.RecordBatch.from_arrays([_fresh(c) for c in batch.columns], schema=batch.schema)


def _fresh(column: pa.Array) -> pa.Array:
    if not pa.types.is_dictionary(column.type):
        return column
    plain = column.dictionary_decode()
    reversed_ = plain.take(pa.array(range(len(plain) - 1, -1, -1))) if len(plain) else plain
    order = reversed_.dictionary_encode().dictionary
    indices = pa.compute.index_in(plain, value_set=order)
    return pa.DictionaryArray.from_arrays(indices.cast(pa.int32()), order)


def split(table: pa.Table, cuts: Sequence[int], reencode: bool = True) -> list[pa.RecordBatch]:
    """``table`` cut at the row numbers ``cuts`` into record batches (empty ones included)."""
    bounds = [0, *sorted(min(max(c, 0), table.num_rows) for c in cuts), table.num_rows]
    out = []
    for start, end in itertools.pairwise(bounds):
        piece = table.slice(start, end - start).combine_chunks()
        batch = (
            piece.to_batches()[0]
            if piece.num_rows
            else pa.RecordBatch.from_pylist([], schema=table.schema)
        )
        out.append(_reencode(batch) if reencode else batch)
    return out


@contextlib.contextmanager
def every_batch_counted() -> Iterator[None]:
    """Let the engine count each batch on its own (it normally puts small batches together)."""
    saved = _tables.MIN_BATCH_ROWS
    _tables.MIN_BATCH_ROWS = 0
    try:
        yield
    finally:
        _tables.MIN_BATCH_ROWS = saved


def services_table(rows: Sequence[tuple[str, str]]) -> pa.Table:
    """Service episodes: (case_id, record service code)."""
    return schema.conform(
        pa.table({"case_id": [r[0] for r in rows], "service": [r[1] for r in rows]}), "services"
    )
