"""Capacity and budget count each batch's cells once for every service (``_demand``): their
numbers are the definitions applied to each case, however the cases are cut into batches and
weighted."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

import mns
from mns.classification import UNKNOWN

from ._data import PLAN, case_rows, cases_table, every_batch_counted, split


def _by_case(rows: list[dict[str, Any]], weight: dict[str, float]) -> dict[str, dict[str, Any]]:
    """Each service's numbers, worked out a case at a time from their definitions."""
    out = {}
    for s in PLAN.services:
        sample = unknown = stray = 0
        w_needs = w_maybe = 0.0
        groups = dict.fromkeys(s.need_groups, (0, 0.0))
        for r in rows:
            meets = r[f"threshold.{s.code}"] if s.threshold is not None else True
            member = r["need_group"] in s.need_groups
            needs = member and meets is True
            doubt = member and meets is None
            could = r["need_group"] == UNKNOWN and meets is not False
            sample += needs
            unknown += doubt
            stray += could
            w_needs += weight[r["case_id"]] if needs else 0.0
            w_maybe += weight[r["case_id"]] if doubt or could else 0.0
            if needs:
                n, w = groups[r["need_group"]]
                groups[r["need_group"]] = (n + 1, w + weight[r["case_id"]])
        out[s.code] = {
            "capacity": (sample, unknown, stray, w_needs, w_needs + w_maybe),
            "budget": groups,
        }
    return out


@settings(max_examples=60, deadline=None)
@given(case_rows(max_size=60), st.lists(st.integers(0, 60), max_size=4), st.booleans())
def test_capacity_and_budget_count_each_case_as_defined(
    rows: list[dict[str, Any]], cuts: list[int], by_column: bool
) -> None:
    weighting = mns.Weighting.by_column("weight") if by_column else mns.Weighting.sampled(0.5)
    weight = {r["case_id"]: r["weight"] if by_column else 2.0 for r in rows}
    expected = _by_case(rows, weight)
    table = cases_table(rows)
    with every_batch_counted():
        capacity = mns.capacity(split(table, cuts), plan=PLAN, weighting=weighting)
        budget = mns.budget(split(table, cuts), plan=PLAN, weighting=weighting)
    for row in capacity.to_pylist():
        sample, unknown, stray, w_needs, w_upper = expected[row["service"]]["capacity"]
        assert (row["sample"], row["unknown"], row["unknown_group"]) == (sample, unknown, stray)
        assert row["estimate"] == pytest.approx(w_needs)
        assert row["unknown_upper"] == pytest.approx(w_upper)
    for row in budget.to_pylist():
        groups = expected[row["service"]]["budget"]
        if row["need_group"] is None:
            n = sum(n for n, _ in groups.values())
            w = sum(w for _, w in groups.values())
        else:
            n, w = groups[row["need_group"]]
        assert row["sample"] == n
        assert row["estimate"] == pytest.approx(w)
    assert capacity.num_rows == len(PLAN.services)
