"""Hypothesis strategies for the rule tests: a small language with every indicator kind, random
well-typed rules over it (every construct of the rule language), and random cases tables with
nulls in every column and every Arrow layout a column may have (plain or dictionary strings,
integer widths and floats, date32 or date64)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pyarrow as pa
from hypothesis import strategies as st

from mns.lang import language_from_dict
from mns.lang.model import Language
from mns.rules.check import Scope

LANGUAGE: Language = language_from_dict(
    {
        "language": {"name": "t", "version": "1", "title": "test language"},
        "dimension": [{"code": "d", "label": "D"}],
        "indicator": [
            {"code": "f1", "label": "F1", "dimension": "d", "kind": "flag", "valid_from": 2020},
            {"code": "f2", "label": "F2", "dimension": "d", "kind": "flag"},
            # f3 is never a column of the generated tables: collected 2022-2023 only
            {
                "code": "f3",
                "label": "F3",
                "dimension": "d",
                "kind": "flag",
                "valid_from": 2022,
                "valid_to": 2023,
            },
            {"code": "4B", "label": "digit code", "dimension": "d", "kind": "flag"},
            {"code": "r1", "label": "R1", "dimension": "d", "kind": "rating"},
            {"code": "r2", "label": "R2", "dimension": "d", "kind": "rating"},
            {
                "code": "c1",
                "label": "C1",
                "dimension": "d",
                "kind": "category",
                "values": [{"code": c, "label": c} for c in ("A", "B", "C")],
            },
            {
                "code": "c2",
                "label": "C2",
                "dimension": "d",
                "kind": "category",
                "values": [{"code": c, "label": c} for c in ("X", "Y")],
            },
        ],
    }
)


def find_language(name: str) -> Language:
    if name == "t":
        return LANGUAGE
    from mns.lang import language

    return language(name)


SCOPE = Scope(language=LANGUAGE, languages=find_language)

FLAGS = ["t.f1", "f2", "t.f3", "t.4B", "disability"]
RATINGS = ["t.r1", "r2"]
NUMBERS = [*RATINGS, "age"]
CATEGORIES = {"t.c1": ["A", "B", "C"], "c2": ["X", "Y"], "sex": ["M", "F", "U"]}
TEXTS = {"la": ["E1", "E2", "E3"], "cohort": ["referral", "looked_after"]}
DATES = ["reference_date", "birth_month"]
DATE_LITERALS = [
    dt.date(2019, 3, 31),
    dt.date(2021, 4, 1),
    dt.date(2022, 12, 25),
    dt.date(2023, 3, 31),
]
COMPARE = ["==", "!=", "<", "<=", ">", ">="]

# --- rules -----------------------------------------------------------------------------------


def _number_literal(for_rating: bool) -> st.SearchStrategy[str]:
    if for_rating:
        return st.sampled_from(["0", "1", "2", "3", "1.5", "2.0"])
    return st.sampled_from(["0", "4", "5", "11", "15", "2.5", "300", "-1", "0.1"])


@st.composite
def _numeric_compare(draw: st.DrawFn) -> str:
    col = draw(st.sampled_from(NUMBERS))
    rating = col in RATINGS
    shape = draw(st.integers(0, 3))
    if shape == 0:
        return f"{col} {draw(st.sampled_from(COMPARE))} {draw(_number_literal(rating))}"
    if shape == 1:
        return f"{draw(_number_literal(rating))} {draw(st.sampled_from(COMPARE))} {col}"
    if shape == 2:
        other = draw(st.sampled_from(NUMBERS))
        return f"{col} {draw(st.sampled_from(COMPARE))} {other}"
    lo, hi = sorted([draw(_number_literal(rating)), draw(_number_literal(rating))], key=float)
    return (
        f"{lo} {draw(st.sampled_from(['<', '<=']))} {col} {draw(st.sampled_from(['<', '<=']))} {hi}"
    )


@st.composite
def _category_test(draw: st.DrawFn) -> str:
    col = draw(st.sampled_from(sorted(CATEGORIES)))
    values = CATEGORIES[col]
    shape = draw(st.integers(0, 4))
    if shape == 0:
        return f"{col} {draw(st.sampled_from(['==', '!=']))} '{draw(st.sampled_from(values))}'"
    if shape == 1:
        items = draw(st.lists(st.sampled_from(values), max_size=3))
        op = draw(st.sampled_from(["in", "not in"]))
        return f"{col} {op} [{', '.join(repr(v) for v in items)}]"
    if shape == 2:
        return draw(st.sampled_from(["t.A", "t.B", "t.X", "t.Y"]))  # a value code: c1/c2 == code
    if shape == 3:
        text = draw(st.sampled_from(sorted(TEXTS)))
        return (
            f"{text} {draw(st.sampled_from(['==', '!=']))} '{draw(st.sampled_from(TEXTS[text]))}'"
        )
    return f"t.c1 {draw(st.sampled_from(['==', '!=']))} sex"  # two categories: compared as texts


@st.composite
def _date_test(draw: st.DrawFn) -> str:
    col = draw(st.sampled_from(DATES))
    if draw(st.booleans()):
        return (
            f"{col} {draw(st.sampled_from(COMPARE))} date '{draw(st.sampled_from(DATE_LITERALS))}'"
        )
    return f"{col} {draw(st.sampled_from(COMPARE))} {draw(st.sampled_from(DATES))}"


@st.composite
def _membership_numbers(draw: st.DrawFn) -> str:
    col = draw(st.sampled_from(NUMBERS))
    items = draw(st.lists(_number_literal(col in RATINGS), max_size=3))
    return f"{col} {draw(st.sampled_from(['in', 'not in']))} [{', '.join(items)}]"


def _leaf() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(FLAGS),
        st.sampled_from(["true", "false"]),
        _numeric_compare(),
        _category_test(),
        _date_test(),
        _membership_numbers(),
        st.sampled_from([*FLAGS, *NUMBERS, *CATEGORIES, *DATES, *TEXTS]).map(
            lambda c: f"missing({c})"
        ),
        st.sampled_from(FLAGS).map(lambda f: f"{f} == {'true'}"),
        st.sampled_from(["t.f1 == f2", "disability != t.4B", "missing(1)"]),
    )


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    many = st.lists(children, min_size=1, max_size=4)
    return st.one_of(
        children.map(lambda c: f"not ({c})"),
        st.tuples(children, children).map(lambda p: f"({p[0]}) and ({p[1]})"),
        st.tuples(children, children).map(lambda p: f"({p[0]}) or ({p[1]})"),
        many.map(lambda cs: f"any({', '.join(cs)})"),
        many.map(lambda cs: f"all({', '.join(cs)})"),
        st.tuples(
            many, st.sampled_from(COMPARE), st.sampled_from(["0", "1", "2", "3", "age", "t.r1"])
        ).map(lambda p: f"count({', '.join(p[0])}) {p[1]} {p[2]}"),
        st.tuples(many, st.sampled_from(COMPARE), many).map(
            lambda p: f"count({', '.join(p[0])}) {p[1]} count({', '.join(p[2])})"
        ),
        st.tuples(st.sampled_from(["0", "1"]), many, st.sampled_from(["2", "3"])).map(
            lambda p: f"{p[0]} <= count({', '.join(p[1])}) < {p[2]}"
        ),
        children.map(lambda c: f"missing({c})"),
    )


rules = st.recursive(_leaf(), _combine, max_leaves=12)

# --- tables ----------------------------------------------------------------------------------

# Dates around the ends of collection years (31 March), where the year rules change.
_DATES = [
    dt.date(y, m, d)
    for y in (2019, 2020, 2021, 2022, 2023, 2024)
    for m, d in ((3, 31), (4, 1), (12, 25))
]


def _column(draw: st.DrawFn, choices: list[Any], n: int) -> list[Any]:
    """``n`` values from ``choices`` or null, in one draw (bytes): fast to generate, and it
    still shrinks (towards the first choice)."""
    pool = [*choices, None]
    return [pool[b % len(pool)] for b in draw(st.binary(min_size=n, max_size=n))]


@st.composite
def _strings(draw: st.DrawFn, values: list[str], n: int) -> pa.Array:
    data = _column(draw, values, n)
    layout = draw(st.sampled_from(["dictionary", "plain", "large"]))
    if layout == "plain":
        return pa.array(data, pa.string())
    if layout == "large":
        return pa.array(data, pa.large_string())
    # a dictionary in a random order, perhaps with values no row uses
    dictionary = draw(st.permutations(values))
    indices = [None if v is None else dictionary.index(v) for v in data]
    return pa.DictionaryArray.from_arrays(
        pa.array(indices, pa.int32()), pa.array(dictionary, pa.string())
    )


#: Ages a float column may hold besides whole years: 0.1 is not exact in float32, so a
#: comparison with the literal 0.1 tells a float32 compare from a float64 one.
_FRACTIONS: dict[pa.DataType, list[float]] = {pa.float32(): [0.1, 4.9], pa.float64(): [0.1]}
_FRACTIONS.update({t: [] for t in (pa.int8(), pa.int16(), pa.int64())})


@st.composite
def tables(draw: st.DrawFn, max_rows: int = 25) -> pa.Table:
    """A cases table over the test language, with nulls anywhere (t.f3 is left out)."""
    n = draw(st.integers(0, max_rows))
    flags = [False, True]
    age_type = draw(
        st.sampled_from([pa.int16(), pa.int64(), pa.int8(), pa.float32(), pa.float64()])
    )
    date_type = draw(st.sampled_from([pa.date32(), pa.date64()]))
    arrays = {
        "case_id": pa.array([f"C{i}" for i in range(n)], pa.string()),
        "age": pa.array(_column(draw, [*range(21), *_FRACTIONS[age_type]], n), age_type),
        "sex": draw(_strings(CATEGORIES["sex"], n)),
        "disability": pa.array(_column(draw, flags, n), pa.bool_()),
        "la": draw(_strings(TEXTS["la"], n)),
        "cohort": draw(_strings(TEXTS["cohort"], n)),
        "reference_date": pa.array(_column(draw, _DATES, n), date_type),
        "birth_month": pa.array(_column(draw, _DATES, n), pa.date32()),
        "t.f1": pa.array(_column(draw, flags, n), pa.bool_()),
        "t.f2": pa.array(_column(draw, flags, n), pa.bool_()),
        "t.4B": pa.array(_column(draw, flags, n), pa.bool_()),
        "t.r1": pa.array(_column(draw, [0, 1, 2, 3], n), pa.int8()),
        "t.r2": pa.array(
            _column(draw, [0, 1, 2, 3], n), draw(st.sampled_from([pa.int8(), pa.int32()]))
        ),
        "t.c1": draw(_strings(CATEGORIES["t.c1"], n)),
        "t.c2": draw(_strings(CATEGORIES["c2"], n)),
    }
    return pa.table(arrays)


@st.composite
def splits(draw: st.DrawFn, table: pa.Table) -> list[pa.RecordBatch]:
    """``table`` cut into record batches at random places (some may be empty)."""
    n = table.num_rows
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=4)))
    bounds = [0, *cuts, n]
    combined = table.combine_chunks()
    return [
        batch
        for lo, hi in itertools.pairwise(bounds)
        for batch in combined.slice(lo, hi - lo).to_batches()
        or [pa.RecordBatch.from_pylist([], schema=table.schema)]
    ]
