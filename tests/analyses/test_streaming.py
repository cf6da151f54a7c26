"""Streamed == one-shot, for every analysis that streams, over random batch splits (with a
different dictionary in every batch), as a list of batches and as a RecordBatchReader."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

import pyarrow as pa
from hypothesis import given, settings, strategies as st

import mns
from mns.records.model import Audit

from ._data import PLAN, case_rows, cases_table, every_batch_counted, services_table, split

SERVICES = services_table(
    [
        ("c000", "r1"),
        ("c001", "r2"),
        ("c001", "r1b"),
        ("c002", "r3"),
        ("c003", "zz"),
        ("c004", "r1"),
        ("c004", "r1"),
    ]
)
OUTCOMES = mns.schema.conform(
    pa.table(
        {
            "case_id": ["c000", "c001", "c001", "c002", "c005", "c006", "c999"],
            "outcome": ["o1", "o1", "o2", "o1", "o2", "o1", "o1"],
            "achieved": [True, False, True, None, True, True, True],
            "value": [1.0, 2.0, None, 4.0, 5.0, 0.5, 9.0],
        }
    ),
    "outcomes",
)
POPULATION = pa.table({"area": ["QE1", "QE2", "QE9"], "children": [1000, 2500, 800]})

ANALYSES: dict[str, Callable[[Any], pa.Table]] = {
    "profile": lambda c: mns.profile(c, plan=PLAN),
    "profile with services": lambda c: mns.profile(c, services=SERVICES, plan=PLAN),
    "profile weighted": lambda c: mns.profile(c, weighting=mns.Weighting.by_column("weight")),
    "profile by sex": lambda c: mns.profile(c, by="sex", indicators=["mns.f1"]),
    "profile of all": lambda c: mns.profile(c, by=None, indicators=["mns.r1"]),
    "crosstab": lambda c: mns.crosstab(c, "need_group", "area", plan=PLAN),
    "match": lambda c: mns.match(c, SERVICES, plan=PLAN),
    "extrapolate": lambda c: mns.extrapolate(c, weighting=mns.Weighting.sampled(0.25), plan=PLAN),
    "extrapolate strata": lambda c: mns.extrapolate(
        c,
        weighting=mns.Weighting.of(Audit(name="a", strata={"referral": 0.5, "looked_after": 1.0})),
    ),
    "capacity": lambda c: mns.capacity(c, plan=PLAN, weighting=mns.Weighting.sampled(0.5)),
    "capacity census": lambda c: mns.capacity(c, plan=PLAN, weighting=mns.Weighting.census()),
    "match in a period": lambda c: mns.match(
        c, SERVICES, plan=PLAN, period=(dt.date(2025, 4, 1), dt.date(2026, 3, 31))
    ),
    "areas": lambda c: mns.areas(c, POPULATION, plan=PLAN),
    "outcomes": lambda c: mns.outcomes(c, OUTCOMES, SERVICES, plan=PLAN),
}


def _same(a: pa.Table, b: pa.Table) -> None:
    assert a.schema.equals(b.schema, check_metadata=True)
    for name in a.column_names:
        left, right = a.column(name).to_pylist(), b.column(name).to_pylist()
        if pa.types.is_floating(a.schema.field(name).type):
            assert len(left) == len(right)
            for x, y in zip(left, right, strict=True):
                assert (x is None and y is None) or (
                    x is not None
                    and y is not None
                    and math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-12)
                ), name
        else:
            assert left == right, name


@settings(max_examples=25)
@given(
    case_rows(min_size=1),
    st.lists(st.integers(0, 40), max_size=5),
    st.sampled_from(sorted(ANALYSES)),
    st.booleans(),
)
def test_every_analysis_streams(
    rows: list[dict[str, Any]], cuts: list[int], name: str, as_reader: bool
) -> None:
    analysis = ANALYSES[name]
    table = cases_table(rows)
    whole = analysis(table)
    pieces = split(table, cuts)
    with every_batch_counted():
        streamed = analysis(
            pa.RecordBatchReader.from_batches(table.schema, pieces) if as_reader else iter(pieces)
        )
    _same(whole, streamed)


@settings(max_examples=15)
@given(case_rows(min_size=1), case_rows(min_size=1), st.lists(st.integers(0, 40), max_size=4))
def test_compare_streams(
    first: list[dict[str, Any]], second: list[dict[str, Any]], cuts: list[int]
) -> None:
    a, b = cases_table(first), cases_table(second)
    weighted: dict[str, Any] = {
        "weighting": mns.Weighting.sampled(0.5),
        "baseline_weighting": mns.Weighting.sampled(0.25),
    }
    for options in ({}, weighted):
        whole = mns.compare(a, b, plan=PLAN, **options)
        with every_batch_counted():
            streamed = mns.compare(
                split(a, cuts),
                pa.RecordBatchReader.from_batches(b.schema, split(b, cuts)),
                plan=PLAN,
                **options,
            )
        _same(whole, streamed)
