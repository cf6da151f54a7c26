"""The rule parser: every construct, syntax errors with a caret, and the limits."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, strategies as st

import mns
from mns.errors import RuleError
from mns.rules import MAX_DEPTH, MAX_LENGTH, parse, syntax as s


def _caret_column(message: str) -> int:
    """Where the caret line points, as an index into the rule line above it."""
    lines = message.splitlines()
    caret_line = next(line for line in lines if line.strip().startswith("^"))
    return caret_line.index("^") - 4


def test_parse_rule_is_exported() -> None:
    assert mns.parse_rule is parse


def test_names_bare_and_qualified() -> None:
    assert parse("parent_mental_health") == s.Name(span=(0, 20), name="parent_mental_health")
    node = parse("cin.4B")  # a code may start with a digit after the dot
    assert node == s.Name(span=(0, 6), name="cin.4B")
    assert parse("ssda903.N1") == s.Name(span=(0, 10), name="ssda903.N1")


def test_literals() -> None:
    assert parse("age < 5").operands[1] == s.Number(span=(6, 7), value=5)  # type: ignore[attr-defined]
    assert parse("r >= 1.5").operands[1].value == 1.5  # type: ignore[attr-defined]
    assert parse("x > -1").operands[1].value == -1  # type: ignore[attr-defined]
    assert parse("sex == 'F'").operands[1] == s.String(span=(7, 10), value="F")  # type: ignore[attr-defined]
    assert parse('sex == "F"').operands[1].value == "F"  # type: ignore[attr-defined]
    date = parse("reference_date < date '2024-03-31'").operands[1]  # type: ignore[attr-defined]
    assert date == s.Date(span=(17, 34), value=dt.date(2024, 3, 31))
    assert parse("flag == true").operands[1] == s.Bool(span=(8, 12), value=True)  # type: ignore[attr-defined]
    items = parse("x in ['N1', 'N2',]").operands[1]  # type: ignore[attr-defined]
    assert [i.value for i in items.items] == ["N1", "N2"]
    assert parse("x in []").operands[1].items == ()  # type: ignore[attr-defined]


def test_operators_and_precedence() -> None:
    node = parse("a or b and not c")
    assert isinstance(node, s.BoolOp)
    assert node.op == "or"
    assert isinstance(node.operands[1], s.BoolOp)
    assert node.operands[1].op == "and"
    assert isinstance(node.operands[1].operands[1], s.Not)
    flat = parse("a and b and c")
    assert isinstance(flat, s.BoolOp)
    assert len(flat.operands) == 3
    grouped = parse("(a or b) and c")
    assert isinstance(grouped, s.BoolOp)
    assert grouped.op == "and"
    assert grouped.operands[0].span == (0, 8)  # the parentheses are part of the span


def test_chained_comparison_and_not_in() -> None:
    node = parse("5 <= age < 11")
    assert isinstance(node, s.Compare)
    assert node.ops == ("<=", "<")
    assert [type(o).__name__ for o in node.operands] == ["Number", "Name", "Number"]
    node = parse("x not in ['a']")
    assert isinstance(node, s.Compare)
    assert node.ops == ("not in",)
    for op in ("==", "!=", "<", "<=", ">", ">="):
        assert parse(f"a {op} 1").ops == (op,)  # type: ignore[attr-defined]


def test_function_calls() -> None:
    node = parse("count(a, b, c) >= 2")
    assert isinstance(node, s.Compare)
    call = node.operands[0]
    assert isinstance(call, s.Call)
    assert call.func == "count"
    assert len(call.args) == 3
    assert isinstance(parse("missing(x)"), s.Call)
    assert isinstance(parse("any(a, b or c)"), s.Call)


@pytest.mark.parametrize(
    ("rule", "expected", "column"),
    [
        ("age <", "expected a name, a number", 5),
        ("age < 5 and", "found the end of the rule", 11),
        ("age = 5", "write '==' to compare", 4),
        ("(age < 5", "')' to close the '(' at position 1", 8),
        ("age < 5)", "this ')' closes no '('", 7),
        ("a b", "an operator is missing", 2),
        ("sex == 'F", "a string is not closed", 7),
        ("a && b", "write 'and'", 2),
        ("4B", "written with its language, e.g. cin.4B", 0),
        ("x in ['a' 'b']", "',' or ']' in the list", 10),
        ("count(a b)", "',' or ')' to close the call of count()", 8),
        ("reference_date < date '2024-02-30'", "is not a date", 22),
        ("reference_date < date 5", "a quoted date after 'date'", 22),
        ("", "the rule is empty", 0),
        ("x > - y", "a number after '-'", 6),
    ],
)
def test_syntax_errors_point_at_the_place(rule: str, expected: str, column: int) -> None:
    with pytest.raises(RuleError) as info:
        parse(rule)
    message = info.value.message
    assert expected in message
    assert f"    {rule}" in message  # the rule is shown...
    assert _caret_column(message) == column  # ...with a caret under the problem
    assert info.value.field == "rule"


def test_length_limit() -> None:
    longest = "a or " * ((MAX_LENGTH - 1) // 5) + "a"
    assert len(longest) <= MAX_LENGTH
    parse(longest)
    with pytest.raises(RuleError, match=f"the limit is {MAX_LENGTH}"):
        parse(longest + " or b" * 2)


@pytest.mark.parametrize(
    "template",
    ["{open}a{close}", "{nots}a", "x in {lists}", "{calls}"],
)
def test_depth_limit(template: str) -> None:
    def rule(depth: int) -> str:
        return template.format(
            open="(" * depth,
            close=")" * depth,
            nots="not " * depth,
            lists="[" * depth + "]" * depth,
            calls="any(" * depth + "a" + ")" * depth,
        )

    parse(rule(MAX_DEPTH))
    with pytest.raises(RuleError, match=f"more than {MAX_DEPTH} levels deep"):
        parse(rule(MAX_DEPTH + 1))


def test_not_a_string() -> None:
    with pytest.raises(RuleError, match="must be a string"):
        parse(5)  # type: ignore[arg-type]


def _parses_or_explains(text: str) -> None:
    try:
        parse(text)
    except RuleError as exc:
        message = exc.message
    else:
        return
    assert message  # never another exception, never an empty message


@given(st.text(max_size=80))
def test_any_text_parses_or_raises_rule_error(text: str) -> None:
    _parses_or_explains(text)


@given(st.text(alphabet="()[]notand or,'ab1<=", max_size=60))
def test_bracket_soup_parses_or_raises_rule_error(text: str) -> None:
    _parses_or_explains(text)


def test_a_syntax_error_carries_the_rule_and_position() -> None:
    with pytest.raises(RuleError) as info:
        parse("age < < 5")
    assert info.value.rule == "age < < 5"
    assert info.value.position == 6
