"""Small hand-made tables for the analyses' tests: classified cases, services, outcomes,
assignments, a plan, and ways to cut a table into record batches."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa
from hypothesis import strategies as st

from mns import aggregate
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
        Service(code="s1", name="Service 1", need_groups=("A", "B"), threshold="mns.f1", received_as=("r1", "r1b"), capacity=10),
        Service(code="s2", name="Service 2", need_groups=("B",), threshold="mns.f2", received_as=("r2",)),
        Service(code="s3", name="Service 3", need_groups=("C",), received_as=("r3",), capacity=5),
    ),
)


def cases_table(rows: Sequence[dict[str, Any]]) -> pa.Table:
    """A cases table with the canonical types (dictionary strings, int16 age, int8 rating)."""
    return pa.table({name: pa.array([r.get(name) for r in rows], pa.string() if typ == CAT else typ).cast(typ) for name, typ in CASE_TYPES.items()})


@st.composite
def case_rows(draw: st.DrawFn, min_size: int = 0, max_size: int = 40) -> list[dict[str, Any]]:
    """Random classified cases, with missing values in every column but ``case_id``."""
    n = draw(st.integers(min_size, max_size))
    maybe = lambda s: st.none() | s  # noqa: E731
    rows = []
    for i in range(n):
        rows.append(
            {
                "case_id": f"c{i:03d}",
                "need_group": draw(st.sampled_from(GROUPS)),
                "age": draw(maybe(st.integers(0, 20))),
                "sex": draw(maybe(st.sampled_from(["F", "M", "U"]))),
                "ethnicity": draw(maybe(st.sampled_from(["WBRI", "ASIA", "BLAF", "MIXD"]))),
                "disability": draw(maybe(st.booleans())),
                "cohort": draw(st.sampled_from(["referral", "looked_after"])),
                "area": draw(maybe(st.sampled_from(["QE1", "QE2", "QE3"]))),
                "la": draw(st.sampled_from(["Q900", "Q901"])),
                "mns.f1": draw(maybe(st.booleans())),
                "mns.f2": draw(maybe(st.booleans())),
                "mns.r1": draw(maybe(st.integers(0, 3))),
                "mns.c1": draw(maybe(st.sampled_from(["x", "y"]))),
                "threshold.s1": draw(maybe(st.booleans())),
                "threshold.s2": draw(maybe(st.booleans())),
                "weight": draw(st.sampled_from([1.0, 2.0, 5.0])),
            }
        )
    return rows


def _reencode(batch: pa.RecordBatch) -> pa.RecordBatch:
    """The same batch with every dictionary column's dictionary rebuilt in a new order, so
    batches of one stream do not share dictionaries."""
    columns = []
    for column in batch.columns:
        if pa.types.is_dictionary(column.type):
            plain = column.dictionary_decode()
            reversed_ = plain.take(pa.array(range(len(plain) - 1, -1, -1))) if len(plain) else plain
            order = reversed_.dictionary_encode().dictionary
            indices = pa.compute.index_in(plain, value_set=order)
            column = pa.DictionaryArray.from_arrays(indices.cast(pa.int32()), order)
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=batch.schema)


def split(table: pa.Table, cuts: Sequence[int], reencode: bool = True) -> list[pa.RecordBatch]:
    """``table`` cut at the row numbers ``cuts`` into record batches (empty ones included)."""
    bounds = [0, *sorted(min(max(c, 0), table.num_rows) for c in cuts), table.num_rows]
    out = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        piece = table.slice(start, end - start).combine_chunks()
        batch = piece.to_batches()[0] if piece.num_rows else pa.RecordBatch.from_pylist([], schema=table.schema)
        out.append(_reencode(batch) if reencode else batch)
    return out


@contextlib.contextmanager
def every_batch_counted() -> Iterator[None]:
    """Let the engine count each batch on its own (it normally puts small batches together)."""
    saved = aggregate.MIN_BATCH_ROWS
    aggregate.MIN_BATCH_ROWS = 0
    try:
        yield
    finally:
        aggregate.MIN_BATCH_ROWS = saved


def services_table(rows: Sequence[tuple[str, str]]) -> pa.Table:
    """Service episodes: (case_id, record service code)."""
    return schema.conform(pa.table({"case_id": [r[0] for r in rows], "service": [r[1] for r in rows]}), "services")
