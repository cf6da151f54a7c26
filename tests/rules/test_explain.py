"""explain: per need group and per threshold, which conditions held, with the values seen."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from mns.classification import UNASSIGNED, UNKNOWN, Explanation, classify, explain
from mns.errors import SchemaError
from mns.plan import plan_from_dict
from mns.records.model import Case
from mns.rules.case import Condition

PLAN = plan_from_dict(
    {
        "plan": {"name": "Test plan", "language": "mns"},
        "need_group": [
            {
                "code": "NG1",
                "name": "Under fives, parental mental health",
                "rule": "parent_mental_health and age < 5",
            },
            {"code": "NG2", "name": "Abuse", "rule": "abuse_or_neglect or domestic_abuse"},
            {"code": "NG3", "name": "Panel only"},
        ],
        "service": [
            {
                "code": "S1",
                "name": "Family support",
                "need_groups": ["NG1"],
                "threshold": "count(parent_mental_health, domestic_abuse, neglect) >= 2",
            }
        ],
    }
)


def _case(**indicators: bool | None) -> Case:
    return Case(case_id="C1", age=7, reference_date=dt.date(2024, 3, 31), indicators=indicators)


def test_structured_result() -> None:
    case = _case(
        **{
            "mns.parent_mental_health": True,
            "mns.abuse_or_neglect": False,
            "mns.domestic_abuse": True,
            "mns.neglect": False,
        }
    )
    result = explain(case, PLAN)
    assert isinstance(result, Explanation)
    assert result.need_group == "NG2"
    assert result.missing_fields == ()
    ng1, ng2, ng3 = result.need_groups
    assert (ng1.code, ng1.outcome, ng2.outcome, ng3.outcome, ng3.rule) == (
        "NG1",
        False,
        True,
        None,
        None,
    )
    assert ng1.condition == Condition(
        text="parent_mental_health and age < 5",
        outcome=False,
        values=(("mns.parent_mental_health", True), ("age", 7)),
        parts=(
            Condition(
                text="parent_mental_health",
                outcome=True,
                values=(("mns.parent_mental_health", True),),
            ),
            Condition(text="age < 5", outcome=False, values=(("age", 7),)),
        ),
    )
    (s1,) = result.thresholds
    assert (s1.code, s1.outcome) == ("S1", True)
    assert s1.condition is not None
    assert [p.outcome for p in s1.condition.parts] == [True, True, False]


def test_unknown_names_the_missing_values() -> None:
    case = _case(
        **{
            "mns.parent_mental_health": True,
            "mns.abuse_or_neglect": None,
            "mns.domestic_abuse": False,
            "mns.neglect": None,
        }
    )
    result = explain(case, PLAN)
    assert result.need_group == UNKNOWN
    assert result.missing_fields == ("mns.abuse_or_neglect",)
    ng2 = result.need_groups[1]
    assert ng2.outcome is None
    assert ng2.missing == ("mns.abuse_or_neglect",)
    assert result.thresholds[0].outcome is None  # 1 of 3 holds, neglect missing: 1 or 2
    text = result.render()
    assert "Need group: unknown - it depends on missing values: mns.abuse_or_neglect" in text
    assert "NG2 Abuse: UNKNOWN: depends on missing mns.abuse_or_neglect" in text
    assert "[?]   abuse_or_neglect   (mns.abuse_or_neglect = missing)" in text


def test_rendering_for_a_practitioner() -> None:
    case = _case(
        **{
            "mns.parent_mental_health": True,
            "mns.abuse_or_neglect": False,
            "mns.domestic_abuse": False,
            "mns.neglect": False,
        }
    )
    text = explain(case, PLAN).render()
    assert text.splitlines()[0] == "Case 'C1', plan 'Test plan' (language 'mns')"
    assert "Need group: none (no need group's rule holds)" in text
    assert "  NG1 Under fives, parental mental health: does not hold" in text
    assert "      [yes] parent_mental_health   (mns.parent_mental_health = yes)" in text
    assert "      [no]  age < 5   (age = 7)" in text
    assert "  NG3 Panel only: no rule in the plan" in text
    assert "  S1 Family support: not met" in text
    assert explain(case, PLAN).need_group == UNASSIGNED


def test_a_mapping_row_works_like_a_case_and_agrees_with_classify() -> None:
    table = pa.table(
        {
            "case_id": ["a", "b"],
            "age": pa.array([3, 7], pa.int16()),
            "mns.parent_mental_health": [True, None],
            "mns.abuse_or_neglect": [False, True],
            "mns.domestic_abuse": [False, False],
            "mns.neglect": [True, False],
        }
    )
    out = classify(table, PLAN)
    assert isinstance(out, pa.Table)
    for row, group in zip(table.to_pylist(), out.column("need_group").to_pylist(), strict=True):
        assert explain(row, PLAN).need_group == group


def test_crosswalk_is_said_and_shown() -> None:
    case = Case(
        case_id="C9",
        age=3,
        reference_date=dt.date(2024, 3, 31),
        indicators={"cin.4B": True, "cin.3A": False, "cin.3B": None, "cin.3C": False},
    )
    plan = plan_from_dict(
        {
            "plan": {"name": "p", "language": "mns"},
            "need_group": [
                {"code": "DA", "name": "Domestic abuse", "rule": "domestic_abuse"},
                {"code": "MH", "name": "Parental mental health", "rule": "parent_mental_health"},
            ],
        }
    )
    result = explain(case, plan)
    assert len(result.crosswalks) == 1
    assert "crosswalk cin->mns" in result.crosswalks[0]
    assert "not an official mapping" in result.crosswalks[0]
    assert result.need_group == UNKNOWN
    assert result.missing_fields == ("cin.3B",)
    text = result.render()
    assert text.splitlines()[1].startswith(
        "Crosswalk: indicators of 'mns' derived from 'cin' codes"
    )
    assert "mns.domestic_abuse from cin->mns: any(cin.3A, cin.3B, cin.3C)" in text
    assert "(cin.3B = missing)" in text


def test_values_of_the_wrong_type_are_named() -> None:
    case = _case(**{"mns.parent_mental_health": "yes"})  # type: ignore[arg-type]
    with pytest.raises(
        SchemaError, match=r"case 'C1': mns.parent_mental_health = 'yes' is not a flag"
    ):
        explain(case, PLAN)
