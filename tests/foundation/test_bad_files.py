"""One bad plan or language file per kind of mistake, each with its exact message."""

from __future__ import annotations

from pathlib import Path

import pytest

import mns

PLAN = """\
[plan]
name = "Exampleshire referrals 2026"
language = "mns"

[[cluster]]
code = "A"
name = "Family relationships"

[[need_group]]
code = "NG1"
name = "Under-fives, parental substance misuse"
cluster = "A"
rule = "age < 5"

[[outcome]]
need_group = "NG1"
code = "O1"
objective = "Child safe and well cared for at home"
measure = "No re-referral within 12 months"
target = "80% of cases"

[[service]]
code = "S1"
name = "Family recovery service"
agencies = ["health", "social_care"]
duration_weeks = 26
mode = "contract"
need_groups = ["NG1"]
capacity = 40
"""


def _load(tmp_path: Path, old: str, new: str) -> str:
    assert old in PLAN, old
    path = tmp_path / "plan.toml"
    path.write_text(PLAN.replace(old, new, 1), "utf-8")
    with pytest.raises(mns.PlanError) as info:
        mns.load_plan(path)
    assert info.value.file == str(path)
    return str(info.value).replace(str(path), "plan.toml")


def test_the_good_plan_loads(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text(PLAN, "utf-8")
    plan = mns.load_plan(path)
    assert [g.code for g in plan.need_groups] == ["NG1"]
    assert plan.service("S1").capacity == 40


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        pytest.param(
            'name = "Exampleshire',
            "name = Exampleshire",
            "plan.toml: not valid TOML: Invalid value (at line 2, column 8)",
            id="syntax",
        ),
        pytest.param(
            "capacity = 40",
            'capacity = 40\ncolour = "red"',
            "plan.toml: 1 problem in the plan:\n  service[0] (code 'S1'): unknown key 'colour'; "
            "allowed keys are 'code', 'name', 'need_groups', 'agencies', 'base', "
            "'duration_weeks', 'mode', 'aim', 'evidence', 'threshold', 'capacity', "
            "'capacity_unit', 'unit_cost', 'cost_per', 'funding', 'received_as', 'description'",
            id="unknown-key",
        ),
        pytest.param(
            "[[outcome]]",
            "[[outcomes]]",
            "plan.toml: unknown top-level key 'outcomes'; allowed are [plan], [[cluster]], "
            "[[need_group]], [[outcome]], [[service]]",
            id="unknown-section",
        ),
        pytest.param(
            "duration_weeks = 26",
            'duration_weeks = "26 weeks"',
            "plan.toml: 1 problem in the plan:\n  service[0] (code 'S1') field duration_weeks: "
            "expected a whole number, got '26 weeks'",
            id="wrong-type",
        ),
        pytest.param(
            'mode = "contract"',
            'mode = "contracted"',
            "plan.toml: 1 problem in the plan:\n  service[0] (code 'S1') field mode: 'contracted' "
            "is not allowed; use one of 'contract', 'open-door'",
            id="bad-enum",
        ),
        pytest.param(
            'cluster = "A"',
            'cluster = "B"',
            "plan.toml: 1 problem in the plan:\n  need_group[0] (code 'NG1') field cluster: "
            "unknown cluster 'B' (defined: 'A')",
            id="bad-cluster",
        ),
        pytest.param(
            'need_groups = ["NG1"]',
            'need_groups = ["NG2"]',
            "plan.toml: 1 problem in the plan:\n  service[0] (code 'S1') field need_groups: "
            "unknown need group 'NG2' (did you mean 'NG1'? defined: 'NG1')",
            id="misspelt-need-group",
        ),
        pytest.param(
            'need_groups = ["NG1"]',
            "need_groups = []",
            "plan.toml: 1 problem in the plan:\n  service[0] (code 'S1') field need_groups: "
            "the service serves no need group; list at least one",
            id="service-serves-nobody",
        ),
        pytest.param(
            '[[outcome]]\nneed_group = "NG1"',
            '[[outcome]]\nneed_group = "NG9"',
            "plan.toml: 1 problem in the plan:\n  outcome[0] (code 'O1') field need_group: "
            "unknown need group 'NG9' (did you mean 'NG1'? defined: 'NG1')",
            id="outcome-for-unknown-group",
        ),
        pytest.param(
            "[[outcome]]",
            '[[need_group]]\ncode = "NG1"\nname = "Again"\n\n[[outcome]]',
            "plan.toml: 1 problem in the plan:\n  need_group[1] (code 'NG1') field code: "
            "duplicate code 'NG1': need_group[0] already uses it; codes must be unique",
            id="duplicate-code",
        ),
        pytest.param(
            'language = "mns"',
            'language = "mms"',
            "plan.toml: 1 problem in the plan:\n  [plan] field language: unknown language 'mms' "
            "in the shipped languages (did you mean 'mns'?)",
            id="unknown-language",
        ),
        pytest.param(
            'name = "Exampleshire referrals 2026"\n',
            "",
            "plan.toml: 1 problem in the plan:\n  [plan] field name: required key is missing",
            id="missing-key",
        ),
        pytest.param(
            "capacity = 40",
            "capacity = -4",
            "plan.toml: 1 problem in the plan:\n  service[0] (code 'S1'): Service: capacity must "
            "be 0 or more, not -4",
            id="validator",
        ),
    ],
)
def test_bad_plan(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert _load(tmp_path, old, new) == message


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = _load(tmp_path, 'cluster = "A"', 'cluster = "Z"').splitlines()
    assert len(text) == 2
    path = tmp_path / "plan.toml"
    path.write_text(
        PLAN.replace('cluster = "A"', 'cluster = "Z"').replace('["NG1"]', '["NG7"]'), "utf-8"
    )
    with pytest.raises(mns.PlanError, match="2 problems in the plan") as info:
        mns.load_plan(path)
    assert "unknown cluster 'Z'" in str(info.value)
    assert "unknown need group 'NG7'" in str(info.value)


LANGUAGE = """\
[language]
name = "acme"
version = "1"

[[dimension]]
code = "home"
label = "Home"

[[indicator]]
code = "overcrowded"
label = "Overcrowded home"
dimension = "home"
kind = "flag"
"""


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        pytest.param(
            'kind = "flag"',
            'kind = "flags"',
            "acme.toml: invalid language:\n  indicator[0] (code 'overcrowded') field kind: "
            "'flags' is not allowed; use one of 'flag', 'rating', 'category'",
            id="bad-kind",
        ),
        pytest.param(
            'dimension = "home"',
            'dimension = "hme"',
            "acme.toml: invalid language:\n  [language]: Language 'acme': indicator "
            "'overcrowded' names unknown dimension 'hme' (did you mean 'home'?)",
            id="unknown-dimension",
        ),
        pytest.param(
            'kind = "flag"',
            'kind = "category"',
            "acme.toml: invalid language:\n  indicator[0] (code 'overcrowded'): Indicator "
            "'overcrowded': a category indicator needs its values",
            id="category-without-values",
        ),
        pytest.param(
            'kind = "flag"',
            'kind = "flag"\nvalid_from = 2021\nvalid_to = 2019',
            "acme.toml: invalid language:\n  indicator[0] (code 'overcrowded'): Indicator "
            "'overcrowded': valid_to 2019 is before valid_from 2021",
            id="years-out-of-order",
        ),
        pytest.param(
            'version = "1"',
            'version = "1"\nauthor = "me"',
            "acme.toml: invalid language:\n  [language]: unknown key 'author'; allowed keys are "
            "'name', 'version', 'title', 'description', 'rating_labels', 'dimensions', "
            "'indicators'",
            id="unknown-key",
        ),
    ],
)
def test_bad_language(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = tmp_path / "acme.toml"
    path.write_text(LANGUAGE.replace(old, new, 1), "utf-8")
    with pytest.raises(mns.LanguageError) as info:
        mns.load_language(path)
    assert str(info.value).replace(str(path), "acme.toml") == message


def test_a_users_language_loads(tmp_path: Path) -> None:
    path = tmp_path / "acme.toml"
    path.write_text(LANGUAGE, "utf-8")
    assert mns.language(path).indicator("overcrowded").label == "Overcrowded home"


def test_unknown_code_suggests_the_closest() -> None:
    cin = mns.language("cin")
    with pytest.raises(mns.UnknownCodeError) as info:
        cin.indicator("4b")
    assert info.value.suggestions[0] == "4B"
    assert str(
        info.value
    ) == "unknown indicator '4b' in language 'cin' (did you mean '4B')?".replace("')?", "'?)")
    with pytest.raises(mns.UnknownCodeError, match="did you mean 'N1'"):
        cin.indicator("primary_need").value("N11")


def test_a_plans_own_files_are_found_beside_it(tmp_path: Path) -> None:
    (tmp_path / "acme.toml").write_text(LANGUAGE, "utf-8")
    plan_dir = tmp_path / "plans"
    plan_dir.mkdir()
    text = PLAN.replace('language = "mns"', 'language = "../acme.toml"').replace(
        'rule = "age < 5"', 'rule = "overcrowded and age < 5"'
    )
    (plan_dir / "plan.toml").write_text(text, "utf-8")
    plan = mns.load_plan(plan_dir / "plan.toml")
    assert mns.language(plan.language).name == "acme"
