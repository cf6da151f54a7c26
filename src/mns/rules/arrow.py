"""The Arrow compiler: a checked rule on a whole record batch with ``pyarrow.compute``.

Conditions are worked out as :class:`~mns.rules.bits.Truth` values, two bitmaps a batch
(where true, where false), so ``and``, ``or`` and ``not`` are one bitwise operation each.
Comparisons of a number or date column are numpy comparisons of its values, masked by its
validity; comparisons of a dictionary-encoded column with a text are decided once on the
(small) dictionary and then on the integer codes, never on the strings of every row. Other
comparisons, ``in`` on plain columns and ``count`` use Arrow's kernels, which propagate
unknowns as SQL does, and become bitmaps after. :func:`evaluate` gives Arrow values.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Hashable
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mns.errors import SchemaError
from mns.rules import ir
from mns.rules.bind import Absent, Binding, Derived, Present
from mns.rules.bits import Truth, packed, valid_bits, values

__all__ = ["Batch", "check_schema", "evaluate", "truth"]

#: A pyarrow Array or Scalar (pyarrow is untyped for mypy here, so this is Any).
ArrowValue: TypeAlias = Any
_NULL_BOOL = pa.scalar(None, pa.bool_())
_TRUE = pa.scalar(True)
_FALSE = pa.scalar(False)


def _scalar(value: Any) -> pa.Scalar:
    if isinstance(value, bool):
        return pa.scalar(value, pa.bool_())
    if isinstance(value, int):
        return pa.scalar(value, pa.int64())
    if isinstance(value, float):
        return pa.scalar(value, pa.float64())
    if isinstance(value, str):
        return pa.scalar(value, pa.string())
    if isinstance(value, dt.date):
        return pa.scalar(value, pa.date32())
    raise TypeError(f"not a rule literal: {value!r}")  # pragma: no cover


def _fits(actual: pa.DataType, want: ir.Type) -> bool:
    if want is ir.Type.BOOL:
        return bool(pa.types.is_boolean(actual))
    if want is ir.Type.NUMBER:
        return bool(pa.types.is_integer(actual) or pa.types.is_floating(actual))
    if want is ir.Type.DATE:
        return bool(pa.types.is_date(actual))
    if pa.types.is_dictionary(actual):
        actual = actual.value_type
    return bool(pa.types.is_string(actual) or pa.types.is_large_string(actual))


_WANT = {
    ir.Type.BOOL: "bool",
    ir.Type.NUMBER: "an integer or floating type",
    ir.Type.STRING: "string or dictionary<string>",
    ir.Type.DATE: "date32",
}


def check_schema(schema: pa.Schema, binding: Binding) -> None:
    """Raise :class:`SchemaError` when a present column's Arrow type does not fit its rule type."""
    problems = []
    for name, src in binding.sources.items():
        if not isinstance(src, Present):
            continue
        col = src.column
        actual = schema.field(name).type
        if not _fits(actual, col.type):
            problems.append(
                f"column {name!r} is {actual}, but a {col.kind} needs {_WANT[col.type]}"
            )
    if problems:
        raise SchemaError(
            "the cases do not fit the plan's rules: " + "; ".join(problems), item="cases"
        )


class Batch:
    """One record batch seen through a :class:`Binding`; columns are computed once."""

    def __init__(self, batch: pa.RecordBatch, binding: Binding, n: int | None = None) -> None:
        self.batch = batch
        self.binding = binding
        self.n = batch.num_rows if n is None else n
        self.cache: dict[str, pa.Array] = {}
        self.truths: dict[Hashable, Truth] = {}  #: by ir.shape: flags, comparisons, ``in``
        self.year: pa.Array | None = None  #: each case's collection year, when needed
        self.uncollected: dict[tuple[int | None, int | None], pa.Array] = {}

    def column(self, column: ir.Column) -> pa.Array:
        name = column.name
        found = self.cache.get(name)
        if found is not None:
            return found
        src = self.binding.sources[name]
        if isinstance(src, Present):
            array = self.batch.column(name)
        elif isinstance(src, Absent):
            array = self._absent(src)
        else:
            assert isinstance(src, Derived)
            array = broadcast(evaluate(src.expr, self), self.n)
        self.cache[name] = array
        return array

    def _absent(self, src: Absent) -> pa.Array:
        typ = {
            ir.Type.BOOL: pa.bool_(),
            ir.Type.NUMBER: pa.int64(),
            ir.Type.STRING: pa.string(),
            ir.Type.DATE: pa.date32(),
        }[src.column.type]
        if not src.year_specific:
            return pa.nulls(self.n, typ)
        # columns collected in the same years are alike: worked out once a batch
        years = (src.column.valid_from, src.column.valid_to)
        found = self.uncollected.get(years)
        if found is None:
            found = self.uncollected[years] = self._uncollected(*years)
        return found

    def _uncollected(self, valid_from: int | None, valid_to: int | None) -> pa.Array:
        """A column collected from ``valid_from`` to ``valid_to`` (collection years): missing
        where the case's year collected it, false where it did not, missing with no
        reference date."""
        if self.year is None:
            ref_col = ir.Column(span=(0, 0), name="reference_date", type=ir.Type.DATE, kind="date")
            ref = self.column(ref_col)
            if pa.types.is_date64(ref.type):
                ref = ref.cast(pa.date32())
            april = pc.cast(pc.greater_equal(pc.month(ref), 4), pa.int64())
            self.year = pc.add(pc.year(ref), april)
        collected: ArrowValue = _TRUE
        if valid_from is not None:
            collected = pc.and_kleene(collected, pc.greater_equal(self.year, valid_from))
        if valid_to is not None:
            collected = pc.and_kleene(collected, pc.less_equal(self.year, valid_to))
        return broadcast(pc.if_else(collected, _NULL_BOOL, _FALSE), self.n)


def broadcast(value: ArrowValue, n: int) -> pa.Array:
    """``value`` as an array of length ``n`` (a scalar is repeated)."""
    if isinstance(value, pa.Scalar):
        return (
            pc.fill_null(pa.nulls(n, value.type), value)
            if value.is_valid
            else pa.nulls(n, value.type)
        )
    return value


def _plain(value: ArrowValue) -> ArrowValue:
    if isinstance(value, pa.DictionaryArray):
        return value.dictionary_decode()
    return value


def _dict_lookup(array: pa.DictionaryArray, on_dictionary: pa.Array) -> Truth:
    """A condition decided on the dictionary (``on_dictionary``, no nulls), mapped to every
    row through the integer codes: a comparison of codes when few entries match, else a
    lookup."""
    n = len(array)
    hit = np.asarray(on_dictionary.to_numpy(zero_copy_only=False), np.bool_)
    hits = np.flatnonzero(hit)
    codes = values(array.indices)
    assert codes is not None  # dictionary indices are integers
    if len(hits) == 0:
        held = np.zeros(n, np.bool_)
    elif len(hits) <= _FEW:  # (python ints: a numpy int64 would widen the codes first)
        held = codes == int(hits[0])
        for h in hits[1:]:
            held |= codes == int(h)
    else:  # the codes under nulls may be anything: clipped, and masked after
        held = np.take(hit, codes, mode="clip")
    return Truth.where(packed(held), valid_bits(array))


_FEW = 4  #: up to this many matching dictionary entries, compare codes rather than look up


def _is_in(value: ArrowValue, values: tuple[Any, ...]) -> ArrowValue:
    if isinstance(value, pa.Scalar):
        found = value.is_valid and any(value.as_py() == v for v in values)
        return pa.scalar(found, pa.bool_()) if value.is_valid else _NULL_BOOL
    typ = value.type
    if pa.types.is_integer(typ) or pa.types.is_floating(typ):
        exact = all(isinstance(v, int) for v in values) and not pa.types.is_floating(typ)
        target = pa.int64() if exact else pa.float64()
        value = value.cast(target)
        value_set = pa.array(values, target)
    elif pa.types.is_date(typ):
        value = value.cast(pa.date32())
        value_set = pa.array(values, pa.date32())
    elif pa.types.is_boolean(typ):
        value_set = pa.array(values, pa.bool_())
    else:
        value_set = pa.array(values, typ)
    found = pc.is_in(value, value_set=value_set)
    if value.null_count:
        found = pc.if_else(pc.is_null(value), _NULL_BOOL, found)
    return found


def _in(expr: ir.In, batch: Batch) -> Truth:
    value = evaluate(expr.arg, batch)
    if isinstance(value, pa.DictionaryArray) and not value.dictionary.null_count:
        found = _dict_lookup(value, _is_in(value.dictionary, expr.values))
    else:
        found = Truth.of(_is_in(_plain(value), expr.values), batch.n)
    return ~found if expr.negated else found


def _same_int(value: ArrowValue, other: ArrowValue) -> ArrowValue:
    """An integer literal as a scalar of the other side's integer type when it fits, so the
    column is compared as it is rather than widened to int64 first."""
    if (
        isinstance(value, pa.Scalar)
        and isinstance(other, pa.Array)
        and pa.types.is_integer(value.type)
        and pa.types.is_integer(other.type)
        and value.is_valid
    ):
        info = np.iinfo(other.type.to_pandas_dtype())
        if info.min <= value.as_py() <= info.max:
            return pa.scalar(value.as_py(), other.type)
    return value


_KERNELS = {
    "==": pc.equal,
    "!=": pc.not_equal,
    "<": pc.less,
    "<=": pc.less_equal,
    ">": pc.greater,
    ">=": pc.greater_equal,
}


def _count(expr: ir.Count, batch: Batch) -> tuple[ArrowValue, ArrowValue]:
    low: ArrowValue = pa.scalar(0, pa.int16())
    high: ArrowValue = pa.scalar(0, pa.int16())
    for arg in expr.args:
        v = evaluate(arg, batch)
        low = pc.add(low, pc.cast(pc.fill_null(v, False), pa.int16()))
        high = pc.add(high, pc.cast(pc.fill_null(v, True), pa.int16()))
    return low, high


def _compare_intervals(
    op: str, a: tuple[ArrowValue, ArrowValue], b: tuple[ArrowValue, ArrowValue]
) -> ArrowValue:
    (alo, ahi), (blo, bhi) = a, b
    if op == "<":
        t, f = pc.less(ahi, blo), pc.greater_equal(alo, bhi)
    elif op == "<=":
        t, f = pc.less_equal(ahi, blo), pc.greater(alo, bhi)
    elif op == ">":
        t, f = pc.greater(alo, bhi), pc.less_equal(ahi, blo)
    elif op == ">=":
        t, f = pc.greater_equal(alo, bhi), pc.less(ahi, blo)
    else:
        eq_t = pc.and_kleene(
            pc.and_kleene(pc.equal(alo, ahi), pc.equal(blo, bhi)), pc.equal(alo, blo)
        )
        eq_f = pc.or_kleene(pc.less(ahi, blo), pc.less(bhi, alo))
        t, f = (eq_t, eq_f) if op == "==" else (eq_f, eq_t)
    return pc.if_else(t, _TRUE, pc.if_else(f, _FALSE, _NULL_BOOL))


_FLIPPED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_NUMPY = {
    "==": np.equal,
    "!=": np.not_equal,
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
}


def _number(value: ArrowValue) -> Any:
    """A valid number or ``date32`` scalar as numpy compares it with :func:`values` (dates as
    days), else None."""
    if not isinstance(value, pa.Scalar) or not value.is_valid:
        return None
    if pa.types.is_date32(value.type):
        return value.cast(pa.int32()).as_py()
    if pa.types.is_integer(value.type) or pa.types.is_floating(value.type):
        return value.as_py()
    return None


def _numbers(array: pa.Array) -> Any:
    """:func:`values`, with narrow floats as float64: a literal is compared with them as a
    double, as Arrow and Python compare it."""
    found = values(array)
    if found is not None and found.dtype.kind == "f" and found.dtype.itemsize < 8:
        return found.astype(np.float64)
    return found


def _compare_fast(op: str, lv: ArrowValue, rv: ArrowValue) -> Truth | None:
    """``lv op rv`` for a number or date column, or a dictionary column against a text, without
    Arrow's kernels; None for the other cases."""
    if isinstance(lv, pa.Scalar) and isinstance(rv, pa.Array):
        lv, rv, op = rv, lv, _FLIPPED[op]
    if not isinstance(lv, pa.Array):
        return None
    if isinstance(lv, pa.DictionaryArray):
        if (
            op in ("==", "!=")
            and isinstance(rv, pa.Scalar)
            and rv.is_valid
            and isinstance(rv.as_py(), str)
            and not lv.dictionary.null_count
        ):
            equal = _dict_lookup(lv, pc.equal(lv.dictionary, rv.as_py()))
            return equal if op == "==" else ~equal
        return None
    left = _numbers(lv)
    if left is None:
        return None
    if isinstance(rv, pa.Array):
        right = _numbers(rv) if pa.types.is_date32(rv.type) == pa.types.is_date32(lv.type) else None
        if right is None:
            return None
        valid, other = valid_bits(lv), valid_bits(rv)
        if valid is None or other is None:
            valid = other if valid is None else valid
        else:
            valid = valid & other
    else:
        right = _number(rv)
        if right is None or pa.types.is_date32(rv.type) != pa.types.is_date32(lv.type):
            return None
        valid = valid_bits(lv)
    return Truth.where(packed(_NUMPY[op](left, right)), valid)


def _compare(expr: ir.Compare, batch: Batch) -> Truth:
    left, right = expr.left, expr.right
    if isinstance(left, ir.Count) or isinstance(right, ir.Count):
        a = _count(left, batch) if isinstance(left, ir.Count) else (evaluate(left, batch),) * 2
        b = _count(right, batch) if isinstance(right, ir.Count) else (evaluate(right, batch),) * 2
        return Truth.of(_compare_intervals(expr.op, a, b), batch.n)
    lv, rv = evaluate(left, batch), evaluate(right, batch)
    fast = _compare_fast(expr.op, lv, rv)
    if fast is not None:
        return fast
    lv, rv = _plain(lv), _plain(rv)
    lv, rv = _same_int(lv, rv), _same_int(rv, lv)
    if pa.types.is_date64(lv.type):
        lv = lv.cast(pa.date32())
    if pa.types.is_date64(rv.type):
        rv = rv.cast(pa.date32())
    return Truth.of(_KERNELS[expr.op](lv, rv), batch.n)


def truth(expr: ir.Expr, batch: Batch) -> Truth:
    """Where the condition ``expr`` is true, false or unknown on ``batch``'s rows. Flags,
    comparisons and ``in`` are worked out once a batch, wherever the plan repeats them; the
    and/or/not over them cost less than looking them up."""
    if isinstance(expr, ir.Column | ir.Compare | ir.In):
        key = ir.shape(expr)
        found = batch.truths.get(key)
        if found is None:
            found = batch.truths[key] = _leaf(expr, batch)
        return found
    if isinstance(expr, ir.Const):
        return Truth.constant(bool(expr.value), batch.n)
    if isinstance(expr, ir.Not):
        return ~truth(expr.arg, batch)
    if isinstance(expr, ir.And):
        return functools.reduce(operator.and_, (truth(a, batch) for a in expr.args))
    if isinstance(expr, ir.Or):
        return functools.reduce(operator.or_, (truth(a, batch) for a in expr.args))
    if isinstance(expr, ir.Missing):
        return _missing(expr.arg, batch)
    raise AssertionError(f"not a condition: {expr!r}")  # pragma: no cover


def _leaf(expr: ir.Column | ir.Compare | ir.In, batch: Batch) -> Truth:
    if isinstance(expr, ir.Column):
        return Truth.of(batch.column(expr), batch.n)
    if isinstance(expr, ir.Compare):
        return _compare(expr, batch)
    return _in(expr, batch)


def _missing(arg: ir.Expr, batch: Batch) -> Truth:
    if isinstance(arg, ir.Count):  # a count is never missing
        return Truth.constant(False, batch.n)
    if ir.type_of(arg) is ir.Type.BOOL and not isinstance(arg, ir.Column):
        unknown = truth(arg, batch).unknown()
        return Truth(unknown, ~unknown)
    value = evaluate(arg, batch)
    if isinstance(value, pa.Scalar):
        return Truth.constant(not value.is_valid, batch.n)
    valid = valid_bits(value)
    if valid is None:
        return Truth.constant(False, batch.n)
    return Truth(~valid, valid)


def evaluate(expr: ir.Expr, batch: Batch) -> ArrowValue:
    """The value of ``expr`` on every row of ``batch``: an array, or a scalar when ``expr`` is
    a literal. Conditions are bool, null where unknown."""
    if isinstance(expr, ir.Const):
        return _scalar(expr.value)
    if isinstance(expr, ir.Column):
        return batch.column(expr)
    if isinstance(expr, ir.Count):
        low, high = _count(expr, batch)
        return pc.if_else(pc.equal(low, high), low, pa.scalar(None, pa.int16()))
    return truth(expr, batch).arrow(batch.n)
