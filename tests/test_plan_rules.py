"""Loading a plan checks every need-group rule and service threshold in the plan's language."""

from __future__ import annotations

from pathlib import Path

import pytest

from mns.errors import PlanError
from mns.lang import dump_language, language_from_dict
from mns.plan import check_plan, load_plan, plan_from_dict
from mns.plan.model import NeedGroup, Plan, Service

GOOD = """
[plan]
name = "Exampleshire"
language = "mns"

[[need_group]]
code = "NG1"
name = "Under fives, parental substance misuse"
rule = "age < 5 and (parent_alcohol_misuse or parent_drug_misuse)"

[[service]]
code = "S1"
name = "Family recovery"
need_groups = ["NG1"]
threshold = "count(parent_alcohol_misuse, parent_drug_misuse, domestic_abuse) >= 2"
"""


def test_a_plan_with_good_rules_loads(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text(GOOD, "utf-8")
    plan = load_plan(path)
    assert plan.need_groups[0].rule == "age < 5 and (parent_alcohol_misuse or parent_drug_misuse)"


def test_every_bad_rule_is_reported_with_its_place_and_a_caret(tmp_path: Path) -> None:
    text = GOOD.replace("age < 5 and (parent_alcohol", "age < 5 and (parnt_alcohol").replace(
        "domestic_abuse) >= 2", "domestic_abuse) >= 'two'"
    )
    path = tmp_path / "plan.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(PlanError) as info:
        load_plan(path)
    message = str(info.value)
    assert message.startswith(f"{path}: 2 problems in the plan:")
    assert (
        "  need_group[0] (code 'NG1') field rule: unknown name 'parnt_alcohol_misuse': "
        "not a case field nor an indicator of language 'mns' "
        "(did you mean 'parent_alcohol_misuse'?)\n"
        "    age < 5 and (parnt_alcohol_misuse or parent_drug_misuse)\n"
        "                 ^^^^^^^^^^^^^^^^^^^^"
    ) in message
    assert "  service[0] (code 'S1') field threshold: cannot compare the count " in message
    assert info.value.item == "need_group[0] (code 'NG1') field rule"


def test_check_plan_yields_place_and_message_pairs() -> None:
    plan = Plan(
        name="p",
        language="cin",
        need_groups=(
            NeedGroup(code="A", name="a", rule="primary_need == 'N11'"),
            NeedGroup(code="B", name="b", rule="4B"),
            NeedGroup(code="C", name="c"),
        ),
        services=(Service(code="S", name="s", need_groups=("A",), threshold="age <"),),
    )
    problems = dict(check_plan(plan))
    assert set(problems) == {
        "need_group[0] (code 'A') field rule",
        "need_group[1] (code 'B') field rule",
        "service[0] (code 'S') field threshold",
    }
    assert "(did you mean 'N1'?)" in problems["need_group[0] (code 'A') field rule"]
    assert "e.g. cin.4B" in problems["need_group[1] (code 'B') field rule"]
    assert "expected a name, a number" in problems["service[0] (code 'S') field threshold"]


def test_rules_in_a_user_language(tmp_path: Path) -> None:
    lang = language_from_dict(
        {
            "language": {"name": "acme", "version": "1"},
            "dimension": [{"code": "home", "label": "Home"}],
            "indicator": [
                {"code": "overcrowded", "label": "Overcrowded", "dimension": "home", "kind": "flag"}
            ],
        }
    )
    path = tmp_path / "acme.toml"
    path.write_text(dump_language(lang), "utf-8")
    ok = plan_from_dict(
        {
            "plan": {"name": "p", "language": str(path)},
            "need_group": [{"code": "A", "name": "a", "rule": "overcrowded and acme.overcrowded"}],
        }
    )
    assert ok.language == str(path)
    with pytest.raises(PlanError, match="did you mean 'overcrowded'"):
        plan_from_dict(
            {
                "plan": {"name": "p", "language": str(path)},
                "need_group": [{"code": "A", "name": "a", "rule": "overcrowdd"}],
            }
        )


def test_an_unknown_language_is_reported_once_not_per_rule() -> None:
    with pytest.raises(PlanError) as info:
        plan_from_dict(
            {
                "plan": {"name": "p", "language": "cim"},
                "need_group": [{"code": "A", "name": "a", "rule": "anything"}],
            }
        )
    assert "1 problem in the plan" in str(info.value)
    assert "[plan] field language" in str(info.value)
