"""Names and types: what each name means, and every kind of mistake caught with a suggestion."""

from __future__ import annotations

import pytest

from mns.errors import RuleError
from mns.lang import language, language_from_dict
from mns.records import schema
from mns.rules import FIELDS, compile_rule, ir
from mns.rules.check import Scope, check
from mns.rules.syntax import parse


def test_fields_are_the_fixed_columns_of_cases() -> None:
    assert list(FIELDS) == schema.CASES.names


def test_bare_names_are_fields_then_indicators_of_the_plan_language() -> None:
    expr = compile_rule("parent_mental_health and age < 5", "mns")
    assert isinstance(expr, ir.And)
    flag, compare = expr.args
    assert flag == ir.Column(
        span=(0, 20), name="mns.parent_mental_health", type=ir.Type.BOOL, kind="flag"
    )
    assert isinstance(compare, ir.Compare)
    assert compare.left == ir.Column(span=(25, 28), name="age", type=ir.Type.NUMBER, kind="age")


def test_qualified_codes_of_other_languages() -> None:
    expr = compile_rule("cin.4B or ssda903.uasc", "mns")
    assert [c.name for c in ir.columns(expr)] == ["cin.4B", "ssda903.uasc"]
    rating = compile_rule("mns.family_conflict_level >= 2", "cin")
    assert isinstance(rating, ir.Compare)
    assert isinstance(rating.left, ir.Column)
    assert rating.left.kind == "rating"


def test_a_value_code_means_its_category_equals_it() -> None:
    expr = compile_rule("ssda903.N1", "mns")
    assert isinstance(expr, ir.Compare)
    assert expr.op == "=="
    assert isinstance(expr.left, ir.Column)
    assert expr.left.name == "ssda903.category_of_need"
    assert expr.right == ir.Const(span=(0, 10), value="N1", type=ir.Type.STRING)
    # an indicator wins over a value of the same code: cin.1A is the factor, not a referral source
    assert isinstance(compile_rule("cin.1A", "mns"), ir.Column)
    # bare value codes work in the plan's own language
    bare = compile_rule("N3", "cin")
    assert isinstance(bare, ir.Compare)
    assert bare.left.name == "cin.primary_need"  # type: ignore[attr-defined]


def test_an_ambiguous_value_code_says_how_to_write_it() -> None:
    lang = language_from_dict(
        {
            "language": {"name": "amb", "version": "1"},
            "dimension": [{"code": "d", "label": "D"}],
            "indicator": [
                {
                    "code": "a",
                    "label": "A",
                    "dimension": "d",
                    "kind": "category",
                    "values": [{"code": "X", "label": "x"}],
                },
                {
                    "code": "b",
                    "label": "B",
                    "dimension": "d",
                    "kind": "category",
                    "values": [{"code": "X", "label": "x"}],
                },
            ],
        }
    )
    with pytest.raises(RuleError) as info:
        check(parse("amb.X"), "amb.X", Scope(language=lang))
    message = info.value.message
    assert "'amb.X' is ambiguous" in message
    assert "('a', 'b')" in message
    assert "write amb.a == 'X' or amb.b == 'X'" in message


@pytest.mark.parametrize(
    ("rule", "plan_language", "expected"),
    [
        ("parnt_mh and age < 5", "mns", "unknown name 'parnt_mh'"),
        ("parnt_mh and age < 5", "mns", "(did you mean 'parent_mental_health'?)"),
        ("agee < 5", "mns", "did you mean 'age'?"),
        ("neglekt", "mns", "did you mean 'neglect'?"),
        ("cim.4B", "mns", "unknown language 'cim' in 'cim.4B' (did you mean 'cin'?)"),
        ("cin.4Z", "mns", "did you mean 'cin.4A' or 'cin.4B' or 'cin.4C'?"),
        ("cnt(neglect) > 1", "mns", "unknown function 'cnt' (did you mean 'count'?)"),
        ("count > 1", "mns", "count is a function: write count(...)"),
        (
            "cin.primary_need == 'N11'",
            "mns",
            "'N11' is not a value of 'cin.primary_need' (did you mean 'N1'?)",
        ),
        ("cin.primary_need in ['N1', 'X9']", "mns", "'X9' is not a value of 'cin.primary_need'"),
        ("sex == 'X'", "mns", "'X' is not a value of 'sex'; its values are: M, F, U"),
        ("cohort == 'referal'", "mns", "did you mean 'referral'?"),
        ("cin.4B == 'yes'", "mns", "cannot compare flag 'cin.4B' with text 'yes'"),
        (
            "family_conflict_level > date '2024-01-01'",
            "mns",
            "cannot compare rating 'family_conflict_level' with date",
        ),
        ("sex < 'M'", "mns", "cannot order category 'sex' with text 'M' with '<'"),
        ("family_conflict_level >= 4", "mns", "is a rating from 0 to 3; 4 is out of range"),
        ("family_conflict_level", "mns", "a rule must be a condition"),
        ("family_conflict_level", "mns", "compare it, e.g. family_conflict_level >= 2"),
        ("age", "mns", "compare it, e.g. age < 5"),
        ("living_with", "mns", "compare it, e.g. living_with == "),
        ("count(neglect, self_harm)", "mns", "compare it, e.g. count(neglect, self_harm) >= 2"),
        ("count(neglect) in [1]", "mns", "count(...) cannot be used with 'in'"),
        ("neglect and age", "mns", "each side of 'and' must be a condition"),
        ("not age", "mns", "the operand of 'not' must be a condition"),
        ("any(age)", "mns", "each argument of any() must be a condition"),
        ("any()", "mns", "any() needs at least one condition"),
        ("missing(age, sex)", "mns", "missing() takes one argument, not 2"),
        ("['N1']", "mns", "a list can only follow 'in'"),
        ("age in 5", "mns", "the right of 'in' must be a list"),
        ("age in [1, 'a']", "mns", "text 'a' cannot be in a list compared with age 'age'"),
        ("age in [age]", "mns", "a list holds only literal values"),
        ("1 < age in [1]", "mns", "'in' cannot be chained"),
        ("__import__('os')", "mns", "unknown function '__import__'"),
    ],
)
def test_mistakes_are_caught_with_a_hint(rule: str, plan_language: str, expected: str) -> None:
    with pytest.raises(RuleError) as info:
        compile_rule(rule, plan_language)
    assert expected in info.value.message
    assert f"    {rule}\n" in info.value.message
    assert "^" in info.value.message.splitlines()[-1]


def test_the_caret_is_under_the_unknown_name() -> None:
    with pytest.raises(RuleError) as info:
        compile_rule("age < 5 and parnt_mh", "mns")
    rule_line, caret_line = info.value.message.splitlines()[-2:]
    assert caret_line == "    " + " " * 12 + "^" * len("parnt_mh")
    assert rule_line == "    age < 5 and parnt_mh"


def test_a_plan_in_a_user_language_resolves_its_own_codes() -> None:
    lang = language("mns")
    expr = check(parse("mns.neglect"), "mns.neglect", Scope(language=lang))
    assert isinstance(expr, ir.Column)
    assert expr.name == "mns.neglect"


def test_types_of_every_kind() -> None:
    cases = {
        "disability": ir.Type.BOOL,
        "cin.4B": ir.Type.BOOL,
        "age": ir.Type.NUMBER,
        "mns.family_conflict_level": ir.Type.NUMBER,
        "reference_date": ir.Type.DATE,
        "birth_month": ir.Type.DATE,
        "cin.primary_need": ir.Type.STRING,
        "ethnicity": ir.Type.STRING,
    }
    for name, expected in cases.items():
        expr = compile_rule(f"missing({name})", "mns")
        assert isinstance(expr, ir.Missing)
        assert ir.type_of(expr.arg) is expected, name
    ok = [
        "5 <= age < 11",
        "count(neglect, self_harm, domestic_abuse) >= 2",
        "count(neglect) < count(self_harm, domestic_abuse)",
        "family_conflict_level >= 1.5",
        "reference_date >= birth_month",
        "reference_date < date '2024-04-01'",
        "cin.primary_need == ssda903.category_of_need",
        "disability == true",
        "ethnicity in ['WBRI', 'WIRI']",
        "not missing(age) and age not in [0, 1]",
    ]
    for rule in ok:
        assert ir.type_of(compile_rule(rule, "mns")) is ir.Type.BOOL, rule
