"""Places, costs and the joint budget: capacity's places and costs and ``mns.budget``, checked
by hand on small tables, and their invariants (agency shares add up to the cost, need groups
add up to the service) on random ones."""

from __future__ import annotations

from typing import Any

import attrs
import pyarrow as pa
import pytest
from hypothesis import given, settings, strategies as st

import mns
from mns.analyses.budget import NOT_STATED
from mns.disclosure import disclose_all, publication
from mns.errors import PlanError
from mns.plan import plan_from_dict
from mns.plan.model import CapacityUnit, CostUnit, Funding, Service

from ._data import PLAN, case_rows, cases_table, split


def _case(i: int, group: str, **more: Any) -> dict[str, Any]:
    return {"case_id": f"c{i}", "need_group": group, "cohort": "referral", "la": "Q900", **more}


#: s1 (groups A, B; threshold): needed by c0, c1 (A) and c3 (B); s3 (group C): by c5.
CASES = [
    _case(0, "A", **{"threshold.s1": True, "threshold.s2": False}),
    _case(1, "A", **{"threshold.s1": True, "threshold.s2": True}),
    _case(2, "A", **{"threshold.s1": None, "threshold.s2": False}),
    _case(3, "B", **{"threshold.s1": True, "threshold.s2": True}),
    _case(4, "B", **{"threshold.s1": False, "threshold.s2": True}),
    _case(5, "C", **{"threshold.s1": False, "threshold.s2": False}),
]


def _costed(plan: mns.Plan = PLAN) -> mns.Plan:
    """The test plan with places and costs: s1 has 10 cases a year for 26 weeks at 1,000 a
    case, paid 60/40 by health and social care; s2 costs 50 a week (no duration); s3 has 4
    places of 13 weeks at 20 a week."""
    s1, s2, s3 = plan.services
    return attrs.evolve(
        plan,
        services=(
            attrs.evolve(
                s1,
                duration_weeks=26,
                unit_cost=1000.0,
                funding=(
                    Funding(agency="health", share=0.6),
                    Funding(agency="social_care", share=0.4),
                ),
            ),
            attrs.evolve(s2, unit_cost=50.0, cost_per=CostUnit.WEEK),
            attrs.evolve(
                s3,
                capacity=4,
                capacity_unit=CapacityUnit.PLACES,
                duration_weeks=13,
                unit_cost=20.0,
                cost_per=CostUnit.WEEK,
            ),
        ),
    )


def _rows(table: pa.Table, *keys: str) -> dict[Any, dict[str, Any]]:
    return {tuple(r[k] for k in keys): r for r in table.to_pylist()}


def test_capacity_places_and_costs_by_hand() -> None:
    got = _rows(
        mns.capacity(cases_table(CASES), plan=_costed(), weighting=mns.Weighting.sampled(0.5)),
        "service",
    )
    s1, s2, s3 = got[("s1",)], got[("s2",)], got[("s3",)]
    # s1: 3 sampled cases at f = 0.5 -> 6 a year, each holding a place for half a year
    assert s1["estimate"] == pytest.approx(6.0)
    assert s1["capacity_unit"] == "cases"
    assert s1["places_needed"] == pytest.approx(3.0)
    assert s1["places_needed_low"] == pytest.approx(s1["estimate_low"] / 2)
    assert s1["places_needed_high"] == pytest.approx(s1["estimate_high"] / 2)
    assert s1["places_available"] == pytest.approx(5.0)  # 10 cases a year * 26 / 52
    assert s1["places_shortfall"] == pytest.approx(-2.0)
    assert (s1["cost_per_case"], s1["demand_cost"]) == (1000.0, pytest.approx(6000.0))
    assert s1["provision_cost"] == pytest.approx(10_000.0)
    assert s1["shortfall_cost"] == pytest.approx(-4000.0)
    assert s1["demand_cost_high"] == pytest.approx(s1["estimate_high"] * 1000)
    # s3: 4 places of 13 weeks take on 16 cases a year; 2 a year need it
    assert (s3["capacity"], s3["capacity_unit"]) == (4, "places")
    assert s3["cases_available"] == pytest.approx(16.0)
    assert s3["places_available"] == pytest.approx(4.0)
    assert s3["places_needed"] == pytest.approx(0.5)
    assert s3["shortfall"] == pytest.approx(2.0 - 16.0)  # in cases a year, as before
    assert s3["load"] == pytest.approx(2.0 / 16.0)
    assert s3["cost_per_case"] == pytest.approx(260.0)  # 20 a week for 13 weeks
    assert s3["provision_cost"] == pytest.approx(16 * 260.0)
    # s2: a weekly cost without a duration, no capacity: nothing to cost
    for column in ("places_needed", "cost_per_case", "demand_cost", "provision_cost"):
        assert s2[column] is None, column
    assert s2["unit_cost"] == 50.0
    assert s2["cost_per"] == "week"


def test_budget_by_hand() -> None:
    table = mns.budget(cases_table(CASES), plan=_costed(), weighting=mns.Weighting.sampled(0.5))
    got = _rows(table, "service", "agency", "need_group")
    assert set(got) == {
        ("s1", "health", "A"),
        ("s1", "health", "B"),
        ("s1", "health", None),
        ("s1", "social_care", "A"),
        ("s1", "social_care", "B"),
        ("s1", "social_care", None),
        ("s2", NOT_STATED, "B"),
        ("s2", NOT_STATED, None),
        ("s3", NOT_STATED, "C"),
        ("s3", NOT_STATED, None),
    }
    a = got[("s1", "health", "A")]  # c0, c1: 4 cases a year at 1,000
    assert (a["sample"], a["estimate"], a["demand_cost"]) == (2, 4.0, 4000.0)
    assert a["agency_cost"] == pytest.approx(2400.0)
    assert got[("s1", "social_care", "A")]["agency_cost"] == pytest.approx(1600.0)
    assert a["provision_cost"] is None  # only on the service's all-groups row
    whole = got[("s1", "health", None)]
    assert (whole["sample"], whole["demand_cost"]) == (3, pytest.approx(6000.0))
    assert whole["agency_provision_cost"] == pytest.approx(6000.0)  # 60% of 10,000
    assert got[("s3", NOT_STATED, None)]["funding_share"] == 1.0
    assert got[("s2", NOT_STATED, None)]["demand_cost"] is None
    # the rows come sorted, each service's all-groups row after its groups
    keys = [(r["service"], r["agency"]) for r in table.to_pylist()]
    assert keys == sorted(keys)
    assert table.column("need_group").to_pylist()[2] is None


def test_budget_needs_to_know_how_the_sample_stands_for_the_year() -> None:
    with pytest.raises(ValueError, match=r"Weighting.census\(\)"):
        mns.budget(cases_table(CASES), plan=_costed())


def test_budget_and_capacity_are_disclosed_together() -> None:
    plan = _costed()
    tables = {
        "capacity": mns.capacity(cases_table(CASES), plan=plan, weighting=mns.Weighting.census()),
        "budget": mns.budget(cases_table(CASES), plan=plan, weighting=mns.Weighting.census()),
    }
    done = disclose_all(
        tables,
        3,
        structures={n: publication(n).structure_for(t) for n, t in tables.items()},
    )
    capacity, budget = done.tables["capacity"].table, done.tables["budget"].table
    # the same number (cases that need s1) is withheld or shown in both tables alike
    shown = capacity.column("sample").to_pylist()[0]
    whole = [
        r["sample"] for r in budget.to_pylist() if r["service"] == "s1" and r["need_group"] is None
    ]
    assert all(v == shown for v in whole)
    # a withheld count takes the costs computed from it with it
    for row in budget.to_pylist():
        if row["sample"] is None:
            assert row["demand_cost"] is None
            assert row["agency_cost"] is None


FUNDING = st.lists(st.integers(1, 9), min_size=1, max_size=3).map(
    lambda parts: tuple(
        Funding(agency=f"agency{i}", share=p / sum(parts)) for i, p in enumerate(parts)
    )
)


@settings(max_examples=60, deadline=None)
@given(
    case_rows(max_size=30),
    st.lists(FUNDING, min_size=3, max_size=3),
    st.sampled_from([0.25, 0.5, 1.0]),
)
def test_shares_add_up_to_the_cost_and_groups_to_the_service(
    rows: list[dict[str, Any]], funding: list[tuple[Funding, ...]], fraction: float
) -> None:
    plan = _costed()
    plan = attrs.evolve(
        plan,
        services=tuple(
            attrs.evolve(s, funding=f, unit_cost=s.unit_cost or 10.0, duration_weeks=8)
            for s, f in zip(plan.services, funding, strict=True)
        ),
    )
    cases = cases_table(rows)
    table = mns.budget(cases, plan=plan, weighting=mns.Weighting.sampled(fraction))
    if rows:  # (several empty batches trip mns._tables._concat: reported, not ours)
        # streamed in batches (each with its own dictionaries) == one-shot
        streamed = mns.budget(
            split(cases, [len(rows) // 3, len(rows) // 2]),
            plan=plan,
            weighting=mns.Weighting.sampled(fraction),
        )
        assert streamed.equals(table)
    budget = table.to_pylist()
    capacity = {
        r["service"]: r
        for r in mns.capacity(
            cases, plan=plan, weighting=mns.Weighting.sampled(fraction)
        ).to_pylist()
    }
    for service in plan.services:
        mine = [r for r in budget if r["service"] == service.code]
        whole = [r for r in mine if r["need_group"] is None]
        assert {r["agency"] for r in whole} == {f.agency for f in service.funding}
        # every agency's share of the demand's cost adds up to the cost
        assert sum(r["agency_cost"] for r in whole) == pytest.approx(
            capacity[service.code]["demand_cost"]
        )
        provision = capacity[service.code]["provision_cost"]
        if provision is None:  # no capacity in the plan
            assert all(r["agency_provision_cost"] is None for r in whole)
        else:
            assert sum(r["agency_provision_cost"] for r in whole) == pytest.approx(provision)
        for row in whole:
            # the groups add up to the service, which is what capacity counts
            groups = [
                r for r in mine if r["agency"] == row["agency"] and r["need_group"] is not None
            ]
            assert sum(r["sample"] for r in groups) == row["sample"]
            assert row["sample"] == capacity[service.code]["sample"]
            assert sum(r["demand_cost"] for r in groups) == pytest.approx(row["demand_cost"])


def test_plan_funding_and_targets_are_checked() -> None:
    def plan(service: dict[str, Any], target: Any = None) -> mns.Plan:
        outcome = {"code": "o1", "need_group": "A", "objective": "x", "measure": "y"}
        if target is not None:
            outcome["target"] = target
        return plan_from_dict(
            {
                "plan": {"name": "p", "language": "mns"},
                "need_group": [{"code": "A", "name": "A"}],
                "outcome": [outcome],
                "service": [{"code": "s", "name": "S", "need_groups": ["A"], **service}],
            }
        )

    joint = plan(
        {"funding": [{"agency": "health", "share": 0.25}, {"agency": "la", "share": 0.75}]}
    )
    assert joint.services[0].funding[1] == Funding(agency="la", share=0.75)
    with pytest.raises(PlanError, match=r"add up to 0\.9, not 1"):
        plan({"funding": [{"agency": "health", "share": 0.5}, {"agency": "la", "share": 0.4}]})
    with pytest.raises(PlanError, match="names agency 'la' twice"):
        plan({"funding": [{"agency": "la", "share": 0.5}, {"agency": "la", "share": 0.5}]})
    with pytest.raises(PlanError, match="'places'"):
        plan({"capacity_unit": "beds"})
    assert plan({"cost_per": "week"}).services[0].cost_per is CostUnit.WEEK
    # a text target, as plans said it before targets were structured, becomes the note
    old = plan({}, "70% of children").outcomes[0]
    assert (old.target, old.note) == (None, "70% of children")
    new = plan({}, {"share": 0.7}).outcomes[0]
    assert new.target is not None
    assert new.target.share == 0.7
    with pytest.raises(PlanError, match="not both"):
        plan({}, {"share": 0.7, "mean": 2.0})
    with pytest.raises(PlanError, match="share from 0 to 1"):
        plan({}, {"share": 70})


def test_service_defaults_keep_cases_a_year_and_cost_per_case() -> None:
    s = Service(code="s", name="S", need_groups=("A",))
    assert (s.capacity_unit, s.cost_per, s.funding) == (CapacityUnit.CASES, CostUnit.CASE, ())
