"""The per-case evaluator: a checked rule on one case's values, in three-valued logic.

``True``, ``False`` or ``None`` (unknown). This is the reference semantics: the Arrow
compiler (:mod:`mns.rules.arrow`) must give the same result on every row, which a
Hypothesis property checks.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Mapping
from typing import Any, cast

import attrs

from mns.errors import SchemaError
from mns.rules import ir
from mns.rules.bind import Absent, Binding, Derived, Present

__all__ = ["Condition", "Row", "evaluate", "parts_of", "trace"]

Lookup = Callable[[ir.Column], ir.Scalar]
Interval = tuple[int, int]


def _not(a: ir.Scalar) -> bool | None:
    return None if a is None else not a


def _and(values: list[ir.Scalar]) -> bool | None:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def _or(values: list[ir.Scalar]) -> bool | None:
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def _interval(value: ir.Scalar | Interval) -> Interval | None:
    if isinstance(value, tuple):
        return value
    if value is None:
        return None
    return (value, value)  # type: ignore[return-value]


def _compare_intervals(op: str, a: Interval, b: Interval) -> bool | None:
    (alo, ahi), (blo, bhi) = a, b
    if op == "<":
        t, f = ahi < blo, alo >= bhi
    elif op == "<=":
        t, f = ahi <= blo, alo > bhi
    elif op == ">":
        t, f = alo > bhi, ahi <= blo
    elif op == ">=":
        t, f = alo >= bhi, ahi < blo
    else:
        eq_t = alo == ahi == blo == bhi
        eq_f = ahi < blo or bhi < alo
        t, f = (eq_t, eq_f) if op == "==" else (eq_f, eq_t)
    return True if t else (False if f else None)


def _compare(op: str, a: Any, b: Any) -> bool | None:
    if a is None or b is None:
        return None
    if op == "==":
        return bool(a == b)
    if op == "!=":
        return bool(a != b)
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


def _eval(expr: ir.Expr, lookup: Lookup) -> ir.Scalar | Interval:
    if isinstance(expr, ir.Const):
        return expr.value
    if isinstance(expr, ir.Column):
        return lookup(expr)
    if isinstance(expr, ir.Not):
        return _not(evaluate(expr.arg, lookup))
    if isinstance(expr, ir.And):
        return _and([evaluate(a, lookup) for a in expr.args])
    if isinstance(expr, ir.Or):
        return _or([evaluate(a, lookup) for a in expr.args])
    if isinstance(expr, ir.Missing):
        return _eval(expr.arg, lookup) is None
    if isinstance(expr, ir.Count):
        values = [evaluate(a, lookup) for a in expr.args]
        low = sum(v is True for v in values)
        return (low, low + sum(v is None for v in values))
    if isinstance(expr, ir.Compare):
        left, right = _eval(expr.left, lookup), _eval(expr.right, lookup)
        if isinstance(left, tuple) or isinstance(right, tuple):
            a, b = _interval(left), _interval(right)
            return None if a is None or b is None else _compare_intervals(expr.op, a, b)
        return _compare(expr.op, left, right)
    if isinstance(expr, ir.In):
        value = _eval(expr.arg, lookup)
        if value is None:
            return None
        found = any(value == v for v in expr.values)
        return found != expr.negated
    raise AssertionError(f"unknown expression {expr!r}")  # pragma: no cover


def evaluate(expr: ir.Expr, lookup: Lookup) -> ir.Scalar:
    """The value of ``expr`` for one case; ``lookup`` gives each column's value."""
    value = _eval(expr, lookup)
    if isinstance(value, tuple):  # a bare count: its lowest possible value, only when certain
        return value[0] if value[0] == value[1] else None
    return value


_PYTHON_TYPES: dict[ir.Type, tuple[type, ...]] = {
    ir.Type.BOOL: (bool,),
    ir.Type.NUMBER: (int, float),
    ir.Type.STRING: (str,),
    ir.Type.DATE: (dt.date,),
}


class Row:
    """One case's values (column name -> value) seen through a :class:`Binding`: absent
    columns are missing (or false outside a flag's collection years), derived ones are
    computed from the crosswalk rule. Values are checked against the column's type."""

    def __init__(self, values: Mapping[str, Any], binding: Binding, case: str = "the case") -> None:
        self.values = values
        self.binding = binding
        self.case = case
        self._derived: dict[str, ir.Scalar] = {}

    def __call__(self, column: ir.Column) -> ir.Scalar:
        src = self.binding.sources[column.name]
        if isinstance(src, Present):
            return self._checked(column, self.values.get(column.name))
        if isinstance(src, Absent):
            ref = self.reference_date() if src.year_specific else None
            return src.value(ref)
        assert isinstance(src, Derived)
        if column.name not in self._derived:
            self._derived[column.name] = evaluate(src.expr, self)
        return self._derived[column.name]

    def reference_date(self) -> dt.date | None:
        src = self.binding.sources.get("reference_date")
        if not isinstance(src, Present):
            return None
        col = ir.Column(span=(0, 0), name="reference_date", type=ir.Type.DATE, kind="date")
        value = self._checked(col, self.values.get("reference_date"))
        return value if isinstance(value, dt.date) else None

    def _checked(self, column: ir.Column, value: Any) -> ir.Scalar:
        if value is None:
            return None
        if isinstance(value, enum.Enum):  # such as Cohort
            value = value.value
        allowed = _PYTHON_TYPES[column.type]
        bad_bool = isinstance(value, bool) and column.type is not ir.Type.BOOL
        if not isinstance(value, allowed) or bad_bool or (isinstance(value, dt.datetime)):
            want = {
                "condition": "a flag (true/false)",
                "number": "a number",
                "text": "a text",
                "date": "a date",
            }[column.type.value]
            raise SchemaError(
                f"{self.case}: {column.name} = {value!r} is not {want}, as a {column.kind} must be",
                item=self.case,
                field=column.name,
            )
        return cast(ir.Scalar, value)


@attrs.frozen(kw_only=True)
class Condition:
    """One condition of a rule, as it was evaluated for a case.

    ``outcome`` is ``True``, ``False`` or ``None`` (unknown because of missing values);
    ``values`` the columns the condition looked at with the values seen (``None``: missing);
    ``parts`` the conditions it is made of.
    """

    text: str
    outcome: bool | None
    values: tuple[tuple[str, ir.Scalar], ...] = ()
    parts: tuple[Condition, ...] = ()


def parts_of(expr: ir.Expr) -> tuple[ir.Expr, ...]:
    """The sub-conditions an explanation shows under ``expr`` (a count's are its arguments)."""
    if isinstance(expr, ir.And | ir.Or):
        return expr.args
    if isinstance(expr, ir.Not):
        return (expr.arg,)
    if isinstance(expr, ir.Compare):
        counts = [e for e in (expr.left, expr.right) if isinstance(e, ir.Count)]
        return tuple(a for c in counts for a in c.args)
    return ()


def trace(expr: ir.Expr, rule: str, row: Row) -> Condition:
    """The outcome of the condition ``expr`` (of ``rule``) for the case ``row``, with the
    outcome of each of its parts and the values seen."""
    outcome = evaluate(expr, row)
    assert outcome is None or isinstance(outcome, bool)
    values = tuple((c.name, row(c)) for c in ir.columns(expr))
    parts = tuple(trace(p, rule, row) for p in parts_of(expr))
    return Condition(
        text=rule[expr.span[0] : expr.span[1]], outcome=outcome, values=values, parts=parts
    )
