"""Outcomes against the plan's targets, what works with whom and the change since the
baseline: by hand, and their invariants (the arms add up to the group, the published
numbers agree with mns.outcomes, nothing withheld can be worked out)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings, strategies as st

import mns
from mns import stats
from mns.analyses.outcomes import mean_interval
from mns.analyses.what_works import what_works_from
from mns.disclosure import disclose_all, publication
from mns.plan.model import Direction, Outcome, Target
from mns.records import schema

from ._data import PLAN, cases_table, services_table


def _case(i: int, group: str) -> dict[str, Any]:
    return {"case_id": f"c{i}", "need_group": group, "cohort": "referral", "la": "Q900"}


CASES = cases_table([*(_case(i, "A") for i in range(6)), _case(6, "B")])
#: group A: c0, c1, c3 achieved o1; c0, c1, c2 received s1 (record code r1)
ACHIEVED = [True, True, False, True, False, False]
VALUES = [4.0, 6.0, 2.0, 8.0, None, 5.0]
SERVICES = services_table([("c0", "r1"), ("c1", "r1b"), ("c2", "r1"), ("c6", "r2")])


def outcome_records(achieved: Sequence[bool | None], values: Sequence[float | None]) -> pa.Table:
    return schema.conform(
        pa.table(
            {
                "case_id": [f"c{i}" for i in range(len(achieved))],
                "outcome": ["o1"] * len(achieved),
                "achieved": achieved,
                "value": pa.array(values, pa.float64()),
            }
        ),
        "outcomes",
    )


OUTCOMES = outcome_records(ACHIEVED, VALUES)


def _plan(**target: Any) -> mns.Plan:
    outcome = Outcome(
        code="o1",
        need_group="A",
        objective="o",
        measure="m",
        target=Target(**target) if target else None,
        note="half of them",
    )
    return attrs.evolve(PLAN, outcomes=(outcome,))


def _overall(table: pa.Table) -> dict[Any, dict[str, Any]]:
    return {r["need_group"]: r for r in table.to_pylist() if r["service"] is None}


def test_outcomes_against_a_share_target() -> None:
    got = _overall(mns.outcomes(CASES, OUTCOMES, SERVICES, plan=_plan(share=0.15)))
    a = got["A"]
    low, high = stats.wilson(3, 6)  # (0.188, 0.812)
    assert (a["achieved_low"], a["achieved_high"]) == (pytest.approx(low), pytest.approx(high))
    assert (a["target"], a["target_kind"], a["direction"]) == (0.15, "share", "higher")
    assert (a["position"], a["meets_target"]) == ("above", "yes")
    # a target for fewer: the interval lies below 0.9, which is what the plan wants
    lower = _overall(
        mns.outcomes(CASES, OUTCOMES, SERVICES, plan=_plan(share=0.9, direction=Direction.LOWER))
    )["A"]
    assert (lower["position"], lower["meets_target"]) == ("below", "yes")
    across = _overall(mns.outcomes(CASES, OUTCOMES, SERVICES, plan=_plan(share=0.5)))["A"]
    assert (across["position"], across["meets_target"]) == ("across", "unclear")
    # the target is the group's own: other groups' rows have none
    assert got["B"]["target"] is None
    assert got["B"]["position"] is None


def test_outcomes_against_a_mean_target() -> None:
    got = _overall(mns.outcomes(CASES, OUTCOMES, SERVICES, plan=_plan(mean=9.0)))["A"]
    # values 4, 6, 2, 8, 5: mean 5, sd sqrt(5), t(4) = 2.776
    assert got["mean_value"] == pytest.approx(5.0)
    half = 2.7764451 * (5.0 / 5) ** 0.5
    assert got["mean_low"] == pytest.approx(5.0 - half)
    assert got["mean_high"] == pytest.approx(5.0 + half)
    assert (got["target_kind"], got["position"], got["meets_target"]) == ("mean", "below", "no")
    low, high = mean_interval([3.0], [9.0], [1])
    assert np.isnan(low[0])  # one value: no interval
    assert np.isnan(high[0])


def test_what_works_by_hand() -> None:
    table = mns.what_works(CASES, OUTCOMES, SERVICES, plan=_plan())
    rows = {(r["service"], r["arm"]): r for r in table.to_pylist()}
    # group A has the outcome; the plan offers it s1 only; B has no outcome recorded
    assert set(rows) == {("s1", "received"), ("s1", "not received")}
    got, other = rows[("s1", "received")], rows[("s1", "not received")]
    assert got["cases"] == 6
    assert (got["recorded"], got["achieved"]) == (3, 2)  # c0, c1 of c0, c1, c2
    assert (other["recorded"], other["achieved"]) == (3, 1)  # c3 of c3, c4, c5
    assert (got["other_recorded"], got["other_achieved"]) == (3, 1)
    assert got["difference"] == pytest.approx(2 / 3 - 1 / 3)
    low, high = stats.newcombe_difference(2, 3, 1, 3)
    assert (got["difference_low"], got["difference_high"]) == (
        pytest.approx(low),
        pytest.approx(high),
    )
    assert other["difference"] is None  # the comparison is on the received row


def test_outcomes_change_by_hand() -> None:
    before = mns.outcomes(CASES, OUTCOMES, SERVICES, plan=_plan(share=0.6))
    later = outcome_records([True, True, True, True, False, None], VALUES)
    after = mns.outcomes(CASES, later, SERVICES, plan=_plan(share=0.6))
    got = {r["need_group"]: r for r in mns.outcomes_change(before, after).to_pylist()}["A"]
    assert (got["baseline_recorded"], got["baseline_achieved"]) == (6, 3)
    assert (got["reaudit_recorded"], got["reaudit_achieved"]) == (6, 4)
    assert got["change"] == pytest.approx(4 / 6 - 3 / 6)
    low, high = stats.newcombe_difference(4, 6, 3, 6)
    assert (got["change_low"], got["change_high"]) == (pytest.approx(low), pytest.approx(high))
    assert (got["target"], got["meets_target"]) == (0.6, "unclear")


GROUPS = st.sampled_from(["A", "B", "C"])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(GROUPS, st.none() | st.booleans(), st.sets(st.sampled_from(["r1", "r2", "r3"]))),
        min_size=1,
        max_size=25,
    ),
)
def test_the_arms_add_up_and_agree_with_outcomes(
    drawn: list[tuple[str, bool | None, set[str]]],
) -> None:
    cases = cases_table([_case(i, g) for i, (g, _, _) in enumerate(drawn)])
    records = outcome_records([a for _, a, _ in drawn], [None] * len(drawn))
    services = services_table(
        [(f"c{i}", code) for i, (_, _, got) in enumerate(drawn) for code in sorted(got)]
    )
    table = mns.outcomes(cases, records, services, plan=PLAN)
    works = what_works_from(table, plan=PLAN).to_pylist()
    by_service = {(r["need_group"], r["service"]): r for r in table.to_pylist()}
    for row in (r for r in works if r["arm"] == "received"):
        mine = by_service[(row["need_group"], row["service"])]
        assert (row["recorded"], row["achieved"]) == (mine["recorded"], mine["achieved"])
        assert row["recorded"] + row["other_recorded"] == row["cases"] == mine["cases"]
        group = by_service[(row["need_group"], None)]
        assert row["achieved"] + row["other_achieved"] == group["achieved"]
        if row["difference"] is not None:
            assert row["difference"] == pytest.approx(row["achieved_share"] - row["other_share"])
            assert row["difference_low"] <= row["difference"] <= row["difference_high"]
        planned = {s.code for s in PLAN.services if row["need_group"] in s.need_groups}
        assert row["service"] in planned


def test_the_comparison_is_withheld_with_any_of_its_numbers() -> None:
    cases = cases_table([_case(i, "A" if i < 14 else "B") for i in range(20)])
    achieved = [i % 3 == 0 for i in range(20)]
    records = outcome_records(achieved, [None] * 20)
    services = services_table([(f"c{i}", "r1") for i in range(0, 20, 4)])
    tables = {"outcomes": mns.outcomes(cases, records, services, plan=PLAN)}
    tables["what_works"] = what_works_from(tables["outcomes"], plan=PLAN)
    done = disclose_all(
        tables, 3, structures={n: publication(n).structure_for(t) for n, t in tables.items()}
    )
    shown = done.tables["what_works"].table.to_pylist()
    for row in shown:
        if row["difference"] is not None:
            for column in ("recorded", "achieved", "other_recorded", "other_achieved"):
                assert row[column] is not None, column
        small = [
            v
            for c in ("recorded", "achieved", "other_recorded", "other_achieved")
            if isinstance(v := row[c], int) and 0 < v < 3
        ]
        assert not small  # nothing under the threshold is published
