"""Checked rules: the typed tree both evaluators walk.

:func:`mns.rules.check` turns a parsed rule into these nodes after resolving every name to a
column and checking every type. Both the Arrow compiler (:mod:`mns.rules.arrow`) and the
per-case evaluator (:mod:`mns.rules.case`) read only this tree, so they see the same rule.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from collections.abc import Hashable, Iterator

import attrs

__all__ = [
    "And",
    "Column",
    "Compare",
    "Const",
    "Count",
    "Expr",
    "In",
    "Missing",
    "Not",
    "Or",
    "Scalar",
    "Type",
    "children",
    "columns",
    "shape",
    "type_of",
]

#: A value a rule sees: a flag, a number, a text, a date, or missing (``None``).
Scalar = bool | int | float | str | dt.date | None


class Type(enum.Enum):
    """The type of a rule expression."""

    BOOL = "condition"
    NUMBER = "number"
    STRING = "text"
    DATE = "date"
    COUNT = "count"  #: what count(...) gives: a number that may be uncertain


@attrs.frozen(kw_only=True)
class Expr:
    """Base of the checked nodes; ``span`` is ``(start, end)`` in the rule text."""

    span: tuple[int, int]


@attrs.frozen(kw_only=True)
class Column(Expr):
    """A case field or an indicator: the column ``name`` of a cases table."""

    name: str  #: "age", "cin.4B", "mns.parent_mental_health"
    type: Type
    kind: str  #: for messages: "flag", "rating", "category", "age", "date", "text", ...
    values: tuple[str, ...] | None = None  #: the allowed values, where they are a closed list
    valid_from: int | None = None  #: collection years in which the indicator is collected
    valid_to: int | None = None


@attrs.frozen(kw_only=True)
class Const(Expr):
    """A literal."""

    value: bool | int | float | str | dt.date
    type: Type


@attrs.frozen(kw_only=True)
class Not(Expr):
    """Kleene negation: unknown stays unknown."""

    arg: Expr


@attrs.frozen(kw_only=True)
class And(Expr):
    """Kleene conjunction; ``how`` says how it was written: "and", "all" or "chain"."""

    args: tuple[Expr, ...]
    how: str = "and"


@attrs.frozen(kw_only=True)
class Or(Expr):
    """Kleene disjunction; ``how`` says how it was written: "or" or "any"."""

    args: tuple[Expr, ...]
    how: str = "or"


@attrs.frozen(kw_only=True)
class Compare(Expr):
    """``left op right`` with op in == != < <= > >=; unknown when an operand is missing
    (a ``count`` operand is unknown only when the missing arguments could change the result)."""

    op: str
    left: Expr
    right: Expr


@attrs.frozen(kw_only=True)
class In(Expr):
    """``arg in [values]`` (or ``not in``); unknown when ``arg`` is missing."""

    arg: Expr
    values: tuple[bool | int | float | str | dt.date, ...]
    negated: bool = False


@attrs.frozen(kw_only=True)
class Count(Expr):
    """How many of ``args`` hold."""

    args: tuple[Expr, ...]


@attrs.frozen(kw_only=True)
class Missing(Expr):
    """Whether ``arg`` is missing (never unknown)."""

    arg: Expr


def type_of(expr: Expr) -> Type:
    """The type of ``expr``."""
    if isinstance(expr, Column | Const):
        return expr.type
    if isinstance(expr, Count):
        return Type.COUNT
    return Type.BOOL


def children(expr: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of ``expr``."""
    if isinstance(expr, Not | Missing):
        return (expr.arg,)
    if isinstance(expr, And | Or | Count):
        return expr.args
    if isinstance(expr, Compare):
        return (expr.left, expr.right)
    if isinstance(expr, In):
        return (expr.arg,)
    return ()


def _walk(expr: Expr) -> Iterator[Expr]:
    yield expr
    for child in children(expr):
        yield from _walk(child)


def columns(expr: Expr) -> tuple[Column, ...]:
    """The column references in ``expr``, first occurrence of each name, in rule order."""
    seen: dict[str, Column] = {}
    for node in _walk(expr):
        if isinstance(node, Column) and node.name not in seen:
            seen[node.name] = node
    return tuple(seen.values())


@functools.lru_cache(maxsize=4096)
def shape(expr: Expr) -> Hashable:
    """``expr`` without its spans: equal for the same expression written in two places (in
    two rules, say), so an evaluator can work it out once."""
    parts: list[Hashable] = [type(expr).__name__]
    for field in attrs.fields(type(expr)):
        value = getattr(expr, field.name)
        if field.name == "span":
            continue
        if isinstance(value, Expr):
            value = shape(value)
        elif isinstance(value, tuple) and value and isinstance(value[0], Expr):
            value = tuple(shape(v) for v in value)
        parts.append(value)
    return tuple(parts)
