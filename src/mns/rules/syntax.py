"""The rule language's syntax: a hand-written lexer and recursive-descent parser to an AST.

Nothing here is evaluated: the parser only builds frozen nodes that remember where in the
rule text they came from (``span``), so that errors can point at the place with a caret and
explanations can quote each condition as the planners wrote it.

Grammar (lowest precedence first)::

    rule       := or_expr END
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := operand (compare_op operand)*
    compare_op := "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not" "in"
    operand    := NUMBER | "-" NUMBER | STRING | "date" STRING | "true" | "false"
                | "[" [operand ("," operand)* [","]] "]"
                | NAME "(" or_expr ("," or_expr)* ")"
                | NAME
                | "(" or_expr ")"
    NAME       := [A-Za-z_][A-Za-z0-9_]* ("." [A-Za-z0-9_]+)?
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterator

import attrs

from mns.errors import RuleError

__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "Bool",
    "BoolOp",
    "Call",
    "Compare",
    "Date",
    "ListLit",
    "Name",
    "Node",
    "Not",
    "Number",
    "String",
    "caret",
    "parse",
    "rule_error",
]

#: The longest rule accepted, in characters.
MAX_LENGTH = 2000
#: The deepest nesting accepted (parentheses, lists, function calls and ``not`` each add one).
MAX_DEPTH = 50

Span = tuple[int, int]


@attrs.frozen(kw_only=True)
class Node:
    """Base of the AST nodes; ``span`` is ``(start, end)`` in the rule text."""

    span: Span


@attrs.frozen(kw_only=True)
class Name(Node):
    """A reference: a case field, a bare indicator code, or ``language.CODE``."""

    name: str


@attrs.frozen(kw_only=True)
class Number(Node):
    """An integer or decimal literal."""

    value: int | float


@attrs.frozen(kw_only=True)
class String(Node):
    """A quoted string literal."""

    value: str


@attrs.frozen(kw_only=True)
class Date(Node):
    """A date literal: ``date '2024-03-31'``."""

    value: dt.date


@attrs.frozen(kw_only=True)
class Bool(Node):
    """``true`` or ``false``."""

    value: bool


@attrs.frozen(kw_only=True)
class ListLit(Node):
    """A list literal, the right-hand side of ``in``."""

    items: tuple[Node, ...]


@attrs.frozen(kw_only=True)
class Not(Node):
    """``not operand``."""

    operand: Node


@attrs.frozen(kw_only=True)
class BoolOp(Node):
    """``a and b and c`` or ``a or b or c`` (flattened)."""

    op: str  #: "and" | "or"
    operands: tuple[Node, ...]


@attrs.frozen(kw_only=True)
class Compare(Node):
    """``a < b <= c``: operands and the operators between them (chained comparisons)."""

    operands: tuple[Node, ...]
    ops: tuple[str, ...]  #: "==", "!=", "<", "<=", ">", ">=", "in", "not in"
    op_spans: tuple[Span, ...]


@attrs.frozen(kw_only=True)
class Call(Node):
    """``count(...)``, ``any(...)``, ``all(...)``, ``missing(x)``."""

    func: str
    func_span: Span
    args: tuple[Node, ...]


# ---------------------------------------------------------------------------------------------
# errors


def caret(rule: str, start: int, end: int | None = None) -> str:
    """The rule on one line and a caret line under ``rule[start:end]``, both indented."""
    flat = rule.replace("\n", " ").replace("\t", " ").replace("\r", " ")
    end = start + 1 if end is None or end <= start else end
    width = max(1, min(end, len(flat) + 1) - start)
    return f"    {flat}\n    {' ' * start}{'^' * width}"


def rule_error(rule: str, message: str, start: int, end: int | None = None) -> RuleError:
    """A :class:`RuleError` whose message is ``message`` followed by the rule and a caret."""
    return RuleError(
        f"{message}\n{caret(rule, start, end)}", rule=rule, position=start, field="rule"
    )


# ---------------------------------------------------------------------------------------------
# lexer

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
KEYWORDS = frozenset({"and", "or", "not", "in", "date", "true", "false"})

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>[0-9]+(?:\.[0-9]+)?(?![A-Za-z0-9_.]))
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)?)
  | (?P<string>'[^'\n]*'|"[^"\n]*")
  | (?P<op>==|!=|<=|>=|<|>)
  | (?P<punct>[()\[\],-])
    """,
    re.VERBOSE,
)


@attrs.frozen
class Token:
    kind: str  #: number, name, keyword, string, op, punct, end
    text: str
    start: int
    end: int


def _describe(token: Token) -> str:
    if token.kind == "end":
        return "the end of the rule"
    return repr(token.text)


def _tokens(rule: str) -> Iterator[Token]:
    pos = 0
    while pos < len(rule):
        m = _TOKEN.match(rule, pos)
        if m is None:
            raise _bad_character(rule, pos)
        kind = m.lastgroup or ""
        text = m.group()
        if kind != "space":
            if kind == "name" and text in KEYWORDS:
                kind = "keyword"
            yield Token(kind, text, pos, m.end())
        pos = m.end()
    yield Token("end", "", len(rule), len(rule))


def _bad_character(rule: str, pos: int) -> RuleError:
    ch = rule[pos]
    hints = {
        "=": "write '==' to compare",
        "&": "write 'and'",
        "|": "write 'or'",
        "!": "write 'not', or '!=' for 'is not equal to'",
        "'": "a string is not closed: add the closing quote",
        '"': "a string is not closed: add the closing quote",
    }
    if ch.isdigit() and not ch.isascii():  # int() would take it: a rule's numbers are 0-9
        name = unicodedata.name(ch, "a digit outside 0-9").lower()
        hint = f"{name} is not a number in a rule: write numbers with the digits 0-9"
    elif ch.isdigit():
        hint = (
            "a code that starts with a digit is written with its language, e.g. cin.4B; "
            "otherwise put a space after the number"
        )
    else:
        hint = hints.get(ch, "allowed are names, numbers, 'strings', operators and brackets")
    return rule_error(rule, f"unexpected character {ch!r}: {hint}", pos)


# ---------------------------------------------------------------------------------------------
# parser

COMPARE_OPS = ("==", "!=", "<", "<=", ">", ">=")
_OPERAND_START = "a name, a number, a 'string', a date, true, false, '[', '(' or a function call"


class _Parser:
    def __init__(self, rule: str) -> None:
        self.rule = rule
        self.tokens = list(_tokens(rule))
        self.i = 0
        self.depth = 0

    # -- helpers --
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def _peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def _next(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != "end":
            self.i += 1
        return tok

    def _is(self, kind: str, text: str | None = None) -> bool:
        tok = self.tok
        return tok.kind == kind and (text is None or tok.text == text)

    def _fail(self, expected: str, token: Token | None = None) -> RuleError:
        token = token or self.tok
        return rule_error(
            self.rule, f"expected {expected}, found {_describe(token)}", token.start, token.end
        )

    def _expect(self, kind: str, text: str, expected: str) -> Token:
        if not self._is(kind, text):
            raise self._fail(expected)
        return self._next()

    def _enter(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise rule_error(
                self.rule,
                f"the rule nests more than {MAX_DEPTH} levels deep; simplify it",
                token.start,
                token.end,
            )

    def _leave(self) -> None:
        self.depth -= 1

    # -- grammar --
    def rule_(self) -> Node:
        if self.tok.kind == "end":
            raise rule_error(self.rule, "the rule is empty: write a condition", 0)
        node = self.or_expr()
        if self.tok.kind != "end":
            tok = self.tok
            if tok.kind in ("name", "number", "string") or tok.text in ("(", "["):
                raise self._fail("'and', 'or' or the end of the rule (an operator is missing?)")
            if tok.text == ")":
                raise rule_error(self.rule, "this ')' closes no '('", tok.start, tok.end)
            raise self._fail("'and', 'or', a comparison or the end of the rule")
        return node

    def or_expr(self) -> Node:
        return self._bool_op("or", self.and_expr)

    def and_expr(self) -> Node:
        return self._bool_op("and", self.not_expr)

    def _bool_op(self, op: str, parse_sub: Callable[[], Node]) -> Node:
        first = parse_sub()
        operands = [first]
        while self._is("keyword", op):
            self._next()
            operands.append(parse_sub())
        if len(operands) == 1:
            return first
        return BoolOp(
            span=(operands[0].span[0], operands[-1].span[1]), op=op, operands=tuple(operands)
        )

    def not_expr(self) -> Node:
        if self._is("keyword", "not"):
            tok = self._next()
            self._enter(tok)
            operand = self.not_expr()
            self._leave()
            return Not(span=(tok.start, operand.span[1]), operand=operand)
        return self.comparison()

    def comparison(self) -> Node:
        first = self.operand()
        operands = [first]
        ops: list[str] = []
        spans: list[Span] = []
        while True:
            tok = self.tok
            if tok.kind == "op":
                self._next()
                ops.append(tok.text)
                spans.append((tok.start, tok.end))
            elif self._is("keyword", "in"):
                self._next()
                ops.append("in")
                spans.append((tok.start, tok.end))
            elif (
                self._is("keyword", "not")
                and self._peek().kind == "keyword"
                and self._peek().text == "in"
            ):
                self._next()
                end = self._next()
                ops.append("not in")
                spans.append((tok.start, end.end))
            else:
                break
            operands.append(self.operand())
        if not ops:
            return first
        return Compare(
            span=(first.span[0], operands[-1].span[1]),
            operands=tuple(operands),
            ops=tuple(ops),
            op_spans=tuple(spans),
        )

    def operand(self) -> Node:
        tok = self.tok
        if tok.kind == "number":
            self._next()
            return Number(span=(tok.start, tok.end), value=_number(tok.text))
        if tok.kind == "punct" and tok.text == "-":
            self._next()
            num = self.tok
            if num.kind != "number":
                raise self._fail("a number after '-'")
            self._next()
            return Number(span=(tok.start, num.end), value=-_number(num.text))
        if tok.kind == "string":
            self._next()
            return String(span=(tok.start, tok.end), value=tok.text[1:-1])
        if tok.kind == "keyword":
            return self._keyword_operand(tok)
        if tok.kind == "name":
            self._next()
            if self._is("punct", "("):
                return self._call(tok)
            return Name(span=(tok.start, tok.end), name=tok.text)
        if tok.kind == "punct" and tok.text == "(":
            self._next()
            self._enter(tok)
            inner = self.or_expr()
            self._leave()
            if not self._is("punct", ")"):
                raise self._fail(f"')' to close the '(' at position {tok.start + 1}")
            close = self._next()
            # keep the parentheses in the span, so explanations quote them
            return attrs.evolve(inner, span=(tok.start, close.end))
        if tok.kind == "punct" and tok.text == "[":
            return self._list(tok)
        raise self._fail(_OPERAND_START)

    def _keyword_operand(self, tok: Token) -> Node:
        if tok.text in ("true", "false"):
            self._next()
            return Bool(span=(tok.start, tok.end), value=tok.text == "true")
        if tok.text == "date":
            self._next()
            lit = self.tok
            if lit.kind != "string":
                raise self._fail("a quoted date after 'date', e.g. date '2024-03-31'")
            self._next()
            try:
                if not _ISO_DATE.fullmatch(lit.text[1:-1]):  # 0-9 only, whatever Python accepts
                    raise ValueError(lit.text)
                value = dt.date.fromisoformat(lit.text[1:-1])
            except ValueError:
                raise rule_error(
                    self.rule,
                    f"{lit.text} is not a date: write it as 'YYYY-MM-DD', e.g. date '2024-03-31'",
                    lit.start,
                    lit.end,
                ) from None
            return Date(span=(tok.start, lit.end), value=value)
        raise self._fail(_OPERAND_START)

    def _list(self, open_: Token) -> Node:
        self._next()
        self._enter(open_)
        items: list[Node] = []
        while not self._is("punct", "]"):
            items.append(self.operand())
            if self._is("punct", ","):
                self._next()
            elif not self._is("punct", "]"):
                raise self._fail("',' or ']' in the list")
        close = self._next()
        self._leave()
        return ListLit(span=(open_.start, close.end), items=tuple(items))

    def _call(self, name: Token) -> Node:
        open_ = self._next()
        self._enter(open_)
        args: list[Node] = []
        if not self._is("punct", ")"):
            args.append(self.or_expr())
            while self._is("punct", ","):
                self._next()
                args.append(self.or_expr())
        if not self._is("punct", ")"):
            raise self._fail(f"',' or ')' to close the call of {name.text}()")
        close = self._next()
        self._leave()
        return Call(
            span=(name.start, close.end),
            func=name.text,
            func_span=(name.start, name.end),
            args=tuple(args),
        )


def _number(text: str) -> int | float:
    return float(text) if "." in text else int(text)


def parse(rule: str) -> Node:
    """Parse ``rule`` into an AST; a :class:`~mns.errors.RuleError` shows the rule with a caret
    under the problem and says what was expected. Names are not resolved here (see
    :func:`mns.rules.check`)."""
    if not isinstance(rule, str):
        raise RuleError(f"a rule must be a string, not {type(rule).__name__}", field="rule")
    if len(rule) > MAX_LENGTH:
        raise RuleError(
            f"the rule is {len(rule)} characters long; the limit is {MAX_LENGTH}: "
            "split it into simpler need groups or shorter conditions",
            field="rule",
        )
    return _Parser(rule).rule_()
