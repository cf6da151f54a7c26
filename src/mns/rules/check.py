"""Names and types: turn a parsed rule into a checked tree (:mod:`mns.rules.ir`).

A bare name is a case field (the fixed columns of ``cases``) or else an indicator code of the
plan's language. ``lang.CODE`` is the column ``lang.CODE`` when CODE is an indicator of
language ``lang``; otherwise, when CODE is a value of exactly one category indicator of
``lang``, it means ``lang.<that indicator> == 'CODE'`` (so ``ssda903.N1`` works).

Types: flag -> condition; rating -> number (0-3); category -> text from a closed list (literals
are checked against it); age -> number; reference_date, birth_month -> date; disability ->
condition; the other case fields -> text. Every problem is a :class:`~mns.errors.RuleError`
that shows the rule with a caret under the place, and suggests the closest name or code.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable, Iterable

import attrs

from mns.errors import MnsError, RuleError
from mns.lang.model import Indicator, Kind, Language
from mns.records.model import SEXES, Cohort
from mns.rules import ir, syntax
from mns.rules.ir import Type

__all__ = ["FIELDS", "FUNCTIONS", "Scope", "check", "compile_rule"]


@attrs.frozen
class _Field:
    type: Type
    kind: str
    values: tuple[str, ...] | None = None


#: The fixed columns of ``cases`` a rule may name, with their rule types.
FIELDS: dict[str, _Field] = {
    "case_id": _Field(Type.STRING, "text"),
    "child_id": _Field(Type.STRING, "text"),
    "reference_date": _Field(Type.DATE, "date"),
    "birth_month": _Field(Type.DATE, "date"),
    "age": _Field(Type.NUMBER, "age"),
    "sex": _Field(Type.STRING, "category", SEXES),
    "ethnicity": _Field(Type.STRING, "text"),
    "disability": _Field(Type.BOOL, "flag"),
    "area": _Field(Type.STRING, "text"),
    "la": _Field(Type.STRING, "text"),
    "cohort": _Field(Type.STRING, "category", tuple(c.value for c in Cohort)),
    "agency": _Field(Type.STRING, "text"),
    "source_system": _Field(Type.STRING, "text"),
    "team": _Field(Type.STRING, "text"),
}

#: The functions of the rule language.
FUNCTIONS = ("count", "any", "all", "missing")

_ORDERING = ("<", "<=", ">", ">=")
_RATINGS = (0, 1, 2, 3)


def _default_languages(name: str) -> Language:
    from mns.lang import language

    return language(name)


@attrs.frozen(kw_only=True)
class Scope:
    """What names mean: the plan's language, and how to find other languages by name."""

    language: Language
    languages: Callable[[str], Language] = _default_languages

    def find(self, name: str) -> Language | None:
        """The language ``name``, or ``None`` when there is none."""
        if name == self.language.name:
            return self.language
        try:
            return self.languages(name)
        except MnsError:
            return None


def _forms(code: str) -> tuple[str, ...]:
    """A code and the ways people shorten it: ``parent_mental_health`` -> ``parent_mh``, ``pmh``."""
    words = [w for w in code.lower().split("_") if w]
    if len(words) < 2:
        return (code.lower(),)
    return (
        code.lower(),
        words[0] + "_" + "".join(w[0] for w in words[1:]),
        "".join(w[0] for w in words),
    )


def _suggest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """The closest candidates to ``name`` (case-insensitive; abbreviations count)."""
    cutoff = 0.5 if len(name) <= 3 else 0.6
    target = name.lower()
    scored = []
    for c in dict.fromkeys(candidates):
        best = max(difflib.SequenceMatcher(None, target, form).ratio() for form in _forms(c))
        if best >= cutoff:
            scored.append((-best, c))
    scored.sort()
    # keep only the near-best: 'parnt_mh' suggests parent_mental_health, not every parent_*
    return [c for score, c in scored[:n] if score <= scored[0][0] + 0.1]


def _did_you_mean(suggestions: list[str]) -> str:
    if not suggestions:
        return ""
    return f" (did you mean {' or '.join(repr(s) for s in suggestions)}?)"


def _indicator_column(lang: Language, ind: Indicator, span: tuple[int, int]) -> ir.Column:
    if ind.kind is Kind.FLAG:
        typ, values = Type.BOOL, None
    elif ind.kind is Kind.RATING:
        typ, values = Type.NUMBER, None
    else:
        typ, values = Type.STRING, tuple(v.code for v in ind.values)
    return ir.Column(
        span=span,
        name=f"{lang.name}.{ind.code}",
        type=typ,
        kind=ind.kind.value,
        values=values,
        valid_from=ind.valid_from,
        valid_to=ind.valid_to,
    )


def _describe(expr: ir.Expr, rule: str) -> str:
    text = rule[expr.span[0] : expr.span[1]]
    if isinstance(expr, ir.Column):
        return f"{expr.kind} {text!r}"
    if isinstance(expr, ir.Const):
        return f"{expr.type.value} {text}"
    if isinstance(expr, ir.Count):
        return f"the count {text!r}"
    return f"the condition {text!r}"


class _Checker:
    def __init__(self, rule: str, scope: Scope) -> None:
        self.rule = rule
        self.scope = scope

    def fail(self, message: str, span: tuple[int, int]) -> RuleError:
        return syntax.rule_error(self.rule, message, span[0], span[1])

    # -- conditions --
    def condition(self, node: syntax.Node, where: str) -> ir.Expr:
        expr = self.expr(node)
        typ = ir.type_of(expr)
        if typ is not Type.BOOL:
            raise self.fail(
                f"{where} must be a condition (true or false), but "
                f"{_describe(expr, self.rule)} is a {typ.value}{self._hint(expr)}",
                expr.span,
            )
        return expr

    def _hint(self, expr: ir.Expr) -> str:
        text = self.rule[expr.span[0] : expr.span[1]]
        if isinstance(expr, ir.Count):
            return f": compare it, e.g. {text} >= 2"
        if isinstance(expr, ir.Column) and expr.kind == "rating":
            return f": compare it, e.g. {text} >= 2"
        if isinstance(expr, ir.Column) and expr.values:
            return f": compare it, e.g. {text} == {expr.values[0]!r}"
        if isinstance(expr, ir.Column) and expr.type is Type.NUMBER:
            return f": compare it, e.g. {text} < 5"
        return ""

    # -- any node --
    def expr(self, node: syntax.Node) -> ir.Expr:
        if isinstance(node, syntax.Name):
            return self.name(node)
        if isinstance(node, syntax.Number):
            return ir.Const(span=node.span, value=node.value, type=Type.NUMBER)
        if isinstance(node, syntax.String):
            return ir.Const(span=node.span, value=node.value, type=Type.STRING)
        if isinstance(node, syntax.Date):
            return ir.Const(span=node.span, value=node.value, type=Type.DATE)
        if isinstance(node, syntax.Bool):
            return ir.Const(span=node.span, value=node.value, type=Type.BOOL)
        if isinstance(node, syntax.ListLit):
            raise self.fail(
                "a list can only follow 'in', e.g. cin.primary_need in ['N1', 'N2']", node.span
            )
        if isinstance(node, syntax.Not):
            return ir.Not(span=node.span, arg=self.condition(node.operand, "the operand of 'not'"))
        if isinstance(node, syntax.BoolOp):
            args = tuple(self.condition(o, f"each side of '{node.op}'") for o in node.operands)
            if node.op == "and":
                return ir.And(span=node.span, args=args)
            return ir.Or(span=node.span, args=args)
        if isinstance(node, syntax.Compare):
            return self.compare(node)
        if isinstance(node, syntax.Call):
            return self.call(node)
        raise AssertionError(f"unknown node {node!r}")  # pragma: no cover

    # -- names --
    def name(self, node: syntax.Name) -> ir.Expr:
        name, span = node.name, node.span
        if "." in name:
            return self.qualified(node)
        field = FIELDS.get(name)
        if field is not None:
            return ir.Column(
                span=span, name=name, type=field.type, kind=field.kind, values=field.values
            )
        lang = self.scope.language
        ind = lang.by_code.get(name)
        if ind is not None:
            return _indicator_column(lang, ind, span)
        value_ref = self._value_ref(lang, name, span, written=name)
        if value_ref is not None:
            return value_ref
        if name in FUNCTIONS:
            raise self.fail(f"{name} is a function: write {name}(...)", span)
        pool = [*FIELDS, *lang.by_code]
        raise self.fail(
            f"unknown name {name!r}: not a case field nor an indicator of language "
            f"{lang.name!r}{_did_you_mean(_suggest(name, pool))}",
            span,
        )

    def qualified(self, node: syntax.Name) -> ir.Expr:
        prefix, _, code = node.name.partition(".")
        span = node.span
        lang = self.scope.find(prefix)
        if lang is None:
            from mns.lang import languages

            pool = sorted({*languages(), self.scope.language.name})
            hint = _did_you_mean(_suggest(prefix, pool))
            raise self.fail(
                f"unknown language {prefix!r} in {node.name!r}{hint}",
                (span[0], span[0] + len(prefix)),
            )
        ind = lang.by_code.get(code)
        if ind is not None:
            return _indicator_column(lang, ind, span)
        value_ref = self._value_ref(lang, code, span, written=node.name)
        if value_ref is not None:
            return value_ref
        values = [v.code for i in lang.indicators for v in i.values]
        close = _suggest(code, lang.by_code) or _suggest(code, values)  # indicators first
        suggestions = [f"{lang.name}.{s}" for s in close]
        raise self.fail(
            f"unknown code {node.name!r}: {code!r} is not an indicator of language {lang.name!r} "
            f"nor a value of one of its categories{_did_you_mean(suggestions)}",
            span,
        )

    def _value_ref(
        self, lang: Language, code: str, span: tuple[int, int], written: str
    ) -> ir.Expr | None:
        owners = [
            i
            for i in lang.indicators
            if i.kind is Kind.CATEGORY and any(v.code == code for v in i.values)
        ]
        if not owners:
            return None
        if len(owners) > 1:
            ways = " or ".join(f"{lang.name}.{i.code} == {code!r}" for i in owners)
            names = ", ".join(repr(i.code) for i in owners)
            raise self.fail(
                f"{written!r} is ambiguous: {code!r} is a value of several categories of language "
                f"{lang.name!r} ({names}); write {ways}",
                span,
            )
        column = _indicator_column(lang, owners[0], span)
        const = ir.Const(span=span, value=code, type=Type.STRING)
        return ir.Compare(span=span, op="==", left=column, right=const)

    # -- comparisons --
    def compare(self, node: syntax.Compare) -> ir.Expr:
        if len(node.ops) > 1 and any(op in ("in", "not in") for op in node.ops):
            i = next(k for k, op in enumerate(node.ops) if op in ("in", "not in"))
            raise self.fail(
                f"'{node.ops[i]}' cannot be chained with other comparisons: join them with 'and'",
                node.op_spans[i],
            )
        if node.ops[0] in ("in", "not in"):
            return self.membership(node)
        operands = [self.expr(o) for o in node.operands]
        parts: list[ir.Expr] = []
        for i, op in enumerate(node.ops):
            left, right = operands[i], operands[i + 1]
            self.check_compare(op, left, right, node.op_spans[i])
            span = (left.span[0], right.span[1])
            parts.append(ir.Compare(span=span, op=op, left=left, right=right))
        if len(parts) == 1:
            return parts[0]
        return ir.And(span=node.span, args=tuple(parts), how="chain")

    def check_compare(
        self, op: str, left: ir.Expr, right: ir.Expr, op_span: tuple[int, int]
    ) -> None:
        lt, rt = ir.type_of(left), ir.type_of(right)
        numeric = {Type.NUMBER, Type.COUNT}
        both = f"{_describe(left, self.rule)} with {_describe(right, self.rule)}"
        if lt in numeric and rt in numeric:
            pass
        elif lt is not rt:
            raise self.fail(f"cannot compare {both}: they are of different types", op_span)
        if op in _ORDERING and lt not in numeric and lt is not Type.DATE:
            raise self.fail(
                f"cannot order {both} with '{op}': only numbers (ages, ratings, counts) and dates "
                "are ordered; use '==', '!=' or 'in'",
                op_span,
            )
        self.check_literal(left, right)
        self.check_literal(right, left)

    def check_literal(self, column: ir.Expr, other: ir.Expr) -> None:
        if not isinstance(column, ir.Column) or not isinstance(other, ir.Const):
            return
        self._check_value(column, other.value, other.span)

    def _check_value(self, column: ir.Column, value: object, span: tuple[int, int]) -> None:
        written = self.rule[column.span[0] : column.span[1]]
        if column.values is not None and isinstance(value, str) and value not in column.values:
            hint = _did_you_mean(_suggest(value, column.values))
            listed = ", ".join(column.values)
            raise self.fail(
                f"{value!r} is not a value of {written!r}{hint}; its values are: {listed}", span
            )
        if (
            column.kind == "rating"
            and isinstance(value, int | float)
            and not isinstance(value, bool)
            and not _RATINGS[0] <= value <= _RATINGS[-1]
        ):
            raise self.fail(f"{written!r} is a rating from 0 to 3; {value} is out of range", span)

    def membership(self, node: syntax.Compare) -> ir.Expr:
        op = node.ops[0]
        arg = self.expr(node.operands[0])
        target = node.operands[1]
        arg_type = ir.type_of(arg)
        if arg_type is Type.COUNT:
            raise self.fail(
                f"count(...) cannot be used with '{op}': compare it with ==, <, >= ...",
                node.op_spans[0],
            )
        if not isinstance(target, syntax.ListLit):
            raise self.fail(f"the right of '{op}' must be a list, e.g. ['N1', 'N2']", target.span)
        values: list[bool | int | float | str | dt.date] = []
        for item in target.items:
            lit = self.expr(item)
            if not isinstance(lit, ir.Const):
                raise self.fail(
                    "a list holds only literal values (numbers, 'texts', dates)", item.span
                )
            if lit.type is not arg_type:
                raise self.fail(
                    f"{_describe(lit, self.rule)} cannot be in a list compared with "
                    f"{_describe(arg, self.rule)}",
                    item.span,
                )
            if isinstance(arg, ir.Column):
                self._check_value(arg, lit.value, lit.span)
            values.append(lit.value)
        return ir.In(span=node.span, arg=arg, values=tuple(values), negated=op == "not in")

    # -- functions --
    def call(self, node: syntax.Call) -> ir.Expr:
        func = node.func
        if func not in FUNCTIONS:
            raise self.fail(
                f"unknown function {func!r}{_did_you_mean(_suggest(func, FUNCTIONS))}; "
                f"the functions are {', '.join(FUNCTIONS)}",
                node.func_span,
            )
        if func == "missing":
            if len(node.args) != 1:
                raise self.fail(f"missing() takes one argument, not {len(node.args)}", node.span)
            arg = self.expr(node.args[0])
            return ir.Missing(span=node.span, arg=arg)
        if not node.args:
            raise self.fail(f"{func}() needs at least one condition", node.span)
        args = tuple(self.condition(a, f"each argument of {func}()") for a in node.args)
        if func == "count":
            return ir.Count(span=node.span, args=args)
        if func == "any":
            return ir.Or(span=node.span, args=args, how="any")
        return ir.And(span=node.span, args=args, how="all")


def check(node: syntax.Node, rule: str, scope: Scope) -> ir.Expr:
    """Resolve names and check types in the parsed ``node`` of ``rule``; the result is a
    condition. Raises :class:`~mns.errors.RuleError` with a caret under the problem."""
    return _Checker(rule, scope).condition(node, "a rule")


def compile_rule(
    rule: str,
    language: Language | str,
    *,
    languages: Callable[[str], Language] | None = None,
) -> ir.Expr:
    """Parse and check ``rule`` in ``language`` (a :class:`Language` or a shipped name)."""
    if isinstance(language, str):
        language = _default_languages(language)
    scope = (
        Scope(language=language)
        if languages is None
        else Scope(language=language, languages=languages)
    )
    return check(syntax.parse(rule), rule, scope)
