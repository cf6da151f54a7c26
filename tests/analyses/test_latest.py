"""Each case's latest record of each outcome (``mns.analyses.outcomes.latest``), against the
rule written out case by case: undated records count as earliest, and among records of the
same date the last in the input wins."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
from hypothesis import given, strategies as st

from mns.analyses.outcomes import latest

records = st.lists(
    st.tuples(
        st.sampled_from(["c1", "c2", None]),
        st.sampled_from(["o1", "o2"]),
        st.one_of(st.none(), st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1))),
        st.integers(0, 10_000),  # a marker standing for the record
    ),
    max_size=30,
)


@given(records, st.integers(1, 7))
def test_latest_is_the_last_record_by_date(rows: list[tuple[Any, ...]], batch: int) -> None:
    table = pa.table(
        {
            "case_id": pa.array([r[0] for r in rows], pa.string()),
            "outcome": pa.array([r[1] for r in rows], pa.string()),
            "recorded_on": pa.array([r[2] for r in rows], pa.date32()),
            "achieved": pa.array([True] * len(rows)),
            "value": pa.array([float(r[3]) for r in rows], pa.float64()),
        }
    )
    expected: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for i, (case, outcome, day, marker) in enumerate(rows):
        order = (day is not None, day or dt.date.min, i)
        if (case, outcome) not in expected or order > expected[case, outcome][0]:
            expected[case, outcome] = (order, float(marker))
    got = latest(table.to_batches(max_chunksize=batch) if rows else table)
    assert sorted(
        zip(*(got.column(c).to_pylist() for c in ("case_id", "outcome", "value")), strict=True),
        key=repr,
    ) == sorted(((c, o, v[1]) for (c, o), v in expected.items()), key=repr)
