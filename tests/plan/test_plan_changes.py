"""The plan's progress: :func:`mns.plan_changes` on small plans checked by hand, its
invariants (a plan against itself, the two directions mirror each other), and the mistakes
in ``replaces`` that stop a plan with the file, the item and the fix."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings

import mns
from mns.analyses.plan_progress import FIGURES, TOTALS
from mns.plan import plan_from_dict
from mns.plan.diff import changes_between
from mns.plan.model import Plan
from tests.strategies import plans

PREVIOUS: dict[str, Any] = {
    "plan": {"name": "Plan 2022", "language": "mns"},
    "need_group": [
        {"code": "A1", "name": "Domestic abuse", "rule": "domestic_abuse"},
        {"code": "A2", "name": "Family conflict"},
        {"code": "A3", "name": "Family breakdown"},
        {"code": "B1", "name": "Parents who misuse drugs"},
        {"code": "X9", "name": "Young carers", "rule": "young_carer"},
    ],
    "outcome": [
        {
            "code": "A1.1",
            "need_group": "A1",
            "objective": "Safe at home",
            "measure": "No incident",
            "target": {"share": 0.6},
        },
        {"code": "A2.1", "need_group": "A2", "objective": "Stay home", "measure": "Not in care"},
    ],
    "service": [
        {
            # 10 places of 26 weeks: 20 cases a year at 100 x 26 = 2,600 each: 52,000 a year
            "code": "s1",
            "name": "Foster care",
            "need_groups": ["A2"],
            "duration_weeks": 26,
            "capacity": 10,
            "capacity_unit": "places",
            "unit_cost": 100.0,
            "cost_per": "week",
        },
        {
            # 40 cases a year at 500: 20,000 a year
            "code": "s2",
            "name": "Family support",
            "need_groups": ["A1", "B1"],
            "capacity": 40,
            "unit_cost": 500.0,
        },
        {
            # 5 cases a year of 10 weeks (5 x 10 / 52 places) at 1,000: 5,000 a year
            "code": "s3",
            "name": "Drop-in",
            "need_groups": ["X9"],
            "duration_weeks": 10,
            "capacity": 5,
            "unit_cost": 1000.0,
        },
    ],
}


def _current() -> dict[str, Any]:
    raw = copy.deepcopy(PREVIOUS)
    raw["plan"]["name"] = "Plan 2025"
    raw["need_group"] = [
        {"code": "A1", "name": "Children living with domestic abuse", "rule": "domestic_abuse"},
        {"code": "M1", "name": "Adolescents and families", "replaces": ["A2", "A3"]},
        {"code": "B1a", "name": "Babies of parents who misuse drugs", "replaces": ["B1"]},
        {"code": "B1b", "name": "Older children of parents who misuse", "replaces": ["B1"]},
        {
            "code": "R9",
            "name": "Young carers",
            "rule": "young_carer or parent_physical_illness",
            "replaces": ["X9"],
        },
        {"code": "N1", "name": "Disabled children"},
    ]
    raw["outcome"][0]["target"] = {"share": 0.7}
    raw["outcome"][1]["need_group"] = "M1"
    s1, s2, _ = raw["service"]
    s1["capacity"] = 12  # 24 cases a year: 62,400
    s1["need_groups"] = ["M1"]
    s2["unit_cost"] = 600.0  # 24,000
    s2["need_groups"] = ["A1", "B1a", "B1b"]
    # s3 withdrawn; s4 added: 20 cases a year at 250 = 5,000, no duration (no places)
    s4 = {
        "code": "s4",
        "name": "Young carers project",
        "need_groups": ["R9"],
        "capacity": 20,
        "unit_cost": 250.0,
    }
    raw["service"] = [s1, s2, s4]
    return raw


def _pair() -> tuple[Plan, Plan]:
    return plan_from_dict(PREVIOUS, "plan-2022.toml"), plan_from_dict(_current(), "plan.toml")


def _rows(table: pa.Table, **where: Any) -> list[dict[str, Any]]:
    return [r for r in table.to_pylist() if all(r[k] == v for k, v in where.items())]


def test_need_groups_merged_split_recoded_added_and_changed_by_hand() -> None:
    table = mns.plan_changes(*_pair())
    groups = [
        (r["code"], r["change"], r["field"], r["before"], r["after"])
        for r in _rows(table, kind="need_group")
    ]
    assert groups == [
        ("A1", "changed", "name", "Domestic abuse", "Children living with domestic abuse"),
        ("A2", "merged", None, "Family conflict", "M1"),
        ("A3", "merged", None, "Family breakdown", "M1"),
        ("B1", "split", None, "Parents who misuse drugs", "B1a, B1b"),
        ("B1a", "added", None, None, "Babies of parents who misuse drugs"),
        ("B1b", "added", None, None, "Older children of parents who misuse"),
        ("M1", "added", None, None, "Adolescents and families"),
        ("N1", "added", None, None, "Disabled children"),
        # X9 given the code R9, its rule widened: compared field by field, not added
        ("R9", "changed", "rule", "young_carer", "young_carer or parent_physical_illness"),
        ("X9", "recoded", None, "Young carers", "R9"),
    ]
    outcomes = [
        (r["code"], r["field"], r["before"], r["after"]) for r in _rows(table, kind="outcome")
    ]
    assert outcomes == [
        ("A1.1", "target", "share 0.6, higher is better", "share 0.7, higher is better"),
        ("A2.1", "need_group", "A2", "M1"),
    ]


def test_capacity_and_cost_changes_by_hand() -> None:
    table = mns.plan_changes(*_pair())
    s1 = {r["field"]: r for r in _rows(table, kind="service", code="s1")}
    assert set(s1) == {
        "capacity",
        "need_groups",
        "cases_available",
        "places_available",
        "provision_cost",
    }  # the cost of a case (100 x 26) did not change
    assert (s1["capacity"]["before_value"], s1["capacity"]["after_value"]) == (10, 12)
    assert s1["cases_available"]["before_value"] == 10 * 52 / 26 == 20
    assert s1["cases_available"]["after_value"] == 24
    assert s1["provision_cost"]["before_value"] == 20 * 100 * 26 == 52_000
    assert s1["provision_cost"]["after_value"] == 62_400
    assert s1["provision_cost"]["difference"] == 10_400
    s2 = {r["field"]: r for r in _rows(table, kind="service", code="s2")}
    assert (s2["unit_cost"]["before"], s2["unit_cost"]["after"]) == ("500", "600")
    assert s2["provision_cost"]["difference"] == 40 * 100 == 4_000
    assert "places_available" not in s2  # no duration: no places on either side
    s3 = {r["field"]: r for r in _rows(table, kind="service", code="s3")}
    assert {r["change"] for r in s3.values()} == {"withdrawn"}
    assert s3[None]["before"] == "Drop-in"
    assert s3["places_available"]["before_value"] == pytest.approx(5 * 10 / 52)
    assert s3["places_available"]["before"] == "0.9615"
    assert s3["provision_cost"]["difference"] == -5_000
    assert s3["provision_cost"]["after_value"] is None
    s4 = {r["field"]: r for r in _rows(table, kind="service", code="s4")}
    assert set(s4) == {None, "cases_available", "cost_per_case", "provision_cost"}
    assert s4["provision_cost"]["difference"] == 5_000
    # the plans' totals: 52,000 + 20,000 + 5,000 against 62,400 + 24,000 + 5,000
    totals = {r["field"]: r for r in _rows(table, kind="plan") if r["field"] in TOTALS}
    assert list(totals) == list(TOTALS)
    assert totals["provision_cost"]["before_value"] == 77_000
    assert totals["provision_cost"]["after_value"] == 91_400
    assert totals["provision_cost"]["difference"] == 14_400 == 10_400 + 4_000 - 5_000 + 5_000
    assert (totals["need_groups"]["before"], totals["need_groups"]["after"]) == ("5", "6")
    assert totals["services"]["change"] == "unchanged"
    assert _rows(table, kind="plan", field="name")[0]["after"] == "Plan 2025"


def test_the_table_declares_no_counts_to_withhold() -> None:
    from mns.disclosure import publication, structure_of

    table = mns.plan_changes(*_pair())
    assert structure_of(table) == mns.disclosure.Structure(blocks=())
    assert publication("plan_changes").audience == "public"
    assert table.schema.metadata[b"mns.analysis"] == b"plan_changes"
    # a value the plan cannot have (the before of an item added) reads as not applicable
    assert table.schema.field("before").metadata[b"mns.null"] == b"z"


@settings(max_examples=60, deadline=None)
@given(plans())
def test_a_plan_against_itself_changes_nothing(plan: Plan) -> None:
    assert changes_between(plan, plan) == ()
    table = mns.plan_changes(plan, plan)
    assert set(table.column("change").to_pylist()) == {"unchanged"}
    assert table.column("field").to_pylist() == list(TOTALS)


_MIRROR = {"added": "dropped", "dropped": "added", "withdrawn": "added"}


def _mirrored(row: dict[str, Any]) -> tuple[Any, ...]:
    change = row["change"]
    if change == "added" and row["kind"] == "service":
        change = "withdrawn"
    else:
        change = _MIRROR.get(change, change)
    difference = row["difference"]
    return (
        row["kind"],
        row["code"],
        change,
        row["field"],
        row["after"],
        row["before"],
        row["after_value"],
        row["before_value"],
        None if difference is None else -difference,
    )


def _key(values: tuple[Any, ...]) -> str:
    return repr([0.0 if isinstance(v, float) and v == 0 else v for v in values])


@settings(max_examples=60, deadline=None)
@given(plans(), plans())
def test_the_two_directions_mirror_each_other(a: Plan, b: Plan) -> None:
    forward = mns.plan_changes(a, b).to_pylist()
    backward = mns.plan_changes(b, a).to_pylist()
    assert sorted(map(_key, map(_mirrored, forward))) == sorted(
        _key(tuple(r.values())) for r in backward
    )
    added = {(r["kind"], r["code"]) for r in forward if r["change"] == "added"}
    gone = {(r["kind"], r["code"]) for r in backward if r["change"] in ("dropped", "withdrawn")}
    assert added == gone
    # every service figure row and total has its difference, or a missing side
    for r in forward:
        if r["field"] in FIGURES and r["change"] == "changed" and r["difference"] is not None:
            assert math.isclose(r["difference"], r["after_value"] - r["before_value"])


# --- mistakes --------------------------------------------------------------------------------


def _with_group(**group: Any) -> dict[str, Any]:
    raw = _current()
    raw["need_group"] = [*raw["need_group"], {"name": "New group", **group}]
    return raw


@pytest.mark.parametrize(
    ("group", "message"),
    [
        ({"code": "Z1", "replaces": ["Z1"]}, "'Z1' replaces itself"),
        ({"code": "Z1", "replaces": ["A9", "A9"]}, "replaces names 'A9' twice"),
        ({"code": "Z1", "replaces": ["A 9"]}, "replaces 'A 9' must be letters, digits"),
        (
            {"code": "Z1", "replaces": "A2"},
            'write replaces as a list, even of one: replaces = ["A2"]',
        ),
        ({"code": "Z1", "replaces": ["A1"]}, "'A1' is a need group of this plan"),
    ],
)
def test_a_bad_replaces_names_the_file_the_item_and_the_fix(
    group: dict[str, Any], message: str
) -> None:
    with pytest.raises(mns.PlanError) as caught:
        plan_from_dict(_with_group(**group), "plan.toml")
    error = caught.value
    assert message in error.message
    assert error.file == "plan.toml"
    assert error.item is not None
    assert "need_group[6] (code 'Z1')" in error.item
    assert error.message.startswith("plan.toml: 1 problem in the plan:")


def test_replaces_naming_no_group_of_the_previous_plan_is_an_error() -> None:
    previous = plan_from_dict(PREVIOUS)
    current = plan_from_dict(_with_group(code="Z1", replaces=["X8"]))
    with pytest.raises(mns.PlanError) as caught:
        mns.plan_changes(previous, current)
    assert caught.value.item == "Z1"
    assert caught.value.field == "replaces"
    assert "'X8' is no need group of the previous plan 'Plan 2022'" in caught.value.message
    assert "did you mean 'X9'?" in caught.value.message
    assert "take it out of replaces" in caught.value.message


def test_a_replaces_carried_over_from_an_earlier_cycle_is_ignored() -> None:
    # the 2025 plan kept M1's replaces = ["A2", "A3"] in the 2028 plan: nothing more to say
    current = plan_from_dict(_current())
    later = plan_from_dict({**_current(), "plan": {"name": "Plan 2028", "language": "mns"}})
    table = mns.plan_changes(current, later)
    assert [r["field"] for r in table.to_pylist() if r["change"] != "unchanged"] == ["name"]


def test_the_plan_file_round_trips_replaces(tmp_path: Path) -> None:
    plan = plan_from_dict(_current())
    mns.save_plan(plan, tmp_path / "plan.toml")
    again = mns.load_plan(tmp_path / "plan.toml")
    assert again == plan
    assert again.need_group("M1").replaces == ("A2", "A3")


def test_bad_arguments_are_type_errors() -> None:
    with pytest.raises(TypeError, match=r"mns\.Plan"):
        mns.plan_changes(PREVIOUS, plan_from_dict(PREVIOUS))  # type: ignore[arg-type]


def test_the_demo_plans_progress_by_hand() -> None:
    from mns.demo import plan_path, previous_plan_path

    table = mns.plan_changes(mns.load_plan(previous_plan_path()), mns.load_plan(plan_path()))
    groups = {
        (r["code"], r["change"], r["after"]) for r in _rows(table, kind="need_group", field=None)
    }
    assert groups == {
        ("A4", "split", "A2, C3"),
        ("C4", "merged", "C1"),
        ("A2", "added", "Adolescents in conflict with their families"),
        ("C3", "added", "Young people at risk of exploitation and going missing"),
        ("A3", "added", "Young carers and children of ill or disabled parents"),
    }
    services = {(r["code"], r["change"]) for r in _rows(table, kind="service", field=None)}
    assert services == {("exploitation", "added"), ("family_centre", "withdrawn")}
    care = {r["field"]: r for r in _rows(table, kind="service", code="care")}
    # 110 places at 1,080 a week for 80 weeks, then 125 at 1,150: 110 x 52 / 80 = 71.5 cases
    # a year at 86,400 each; 81.25 at 92,000
    assert care["provision_cost"]["before_value"] == pytest.approx(71.5 * 86_400) == 6_177_600
    assert care["provision_cost"]["after_value"] == pytest.approx(81.25 * 92_000) == 7_475_000
    total = _rows(table, kind="plan", field="provision_cost")[0]
    changed = [r["difference"] for r in _rows(table, kind="service", field="provision_cost")]
    assert total["difference"] == pytest.approx(sum(changed))


@settings(max_examples=60, deadline=None)
@given(plans())
def test_groups_a_plan_states_it_merged_are_merged_whatever_their_rules(plan: Plan) -> None:
    import attrs

    from mns.plan.model import NeedGroup

    # every group of the plan merged into one new group (and the outcomes and services moved)
    codes = tuple(g.code for g in plan.need_groups)
    merged = NeedGroup(code="MERGED-1", name="All of them", replaces=codes)
    current = attrs.evolve(
        plan,
        need_groups=(merged,),
        outcomes=tuple(attrs.evolve(o, need_group=merged.code) for o in plan.outcomes),
        services=tuple(attrs.evolve(s, need_groups=(merged.code,)) for s in plan.services),
    )
    groups = [r for r in changes_between(plan, current) if r.kind == "need_group"]
    expected = "recoded" if len(codes) == 1 else "merged"
    assert sorted((r.code, r.change, r.after) for r in groups if r.code in codes) == [
        (c, expected, ("MERGED-1",)) for c in sorted(codes)
    ]
    own = [r for r in groups if r.code == "MERGED-1" and r.field is None]
    # a new group taking in several is added; one taking the place of one alone continues it
    assert [r.change for r in own] == ([] if len(codes) == 1 else ["added"])
    # and the other way round, the one group was split into them all (or recoded back)
    back = attrs.evolve(
        plan,
        need_groups=tuple(attrs.evolve(g, replaces=("MERGED-1",)) for g in plan.need_groups),
    )
    split = [r for r in changes_between(current, back) if r.code == "MERGED-1"]
    assert split[0].change == ("recoded" if len(codes) == 1 else "split")
    assert split[0].after == tuple(sorted(codes))


@pytest.mark.parametrize("field", ["need_groups", "agencies", "received_as"])
def test_one_text_where_a_service_lists_is_refused_not_read_letter_by_letter(field: str) -> None:
    raw = _current()
    service = {**raw["service"][0], field: "A1"}
    raw["service"] = [service, *raw["service"][1:]]
    with pytest.raises(mns.PlanError) as caught:
        plan_from_dict(raw, "plan.toml")
    assert f'write {field} as a list, even of one: {field} = ["A1"]' in caught.value.message
    assert caught.value.item == f"service[0] (code {service['code']!r}) field {field}"
