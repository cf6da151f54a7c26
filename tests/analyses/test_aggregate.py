"""The mergeable partial aggregates: any split of the rows gives the one-shot result."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, strategies as st

from mns import aggregate, engines
from mns.aggregate import KINDS, Measure, Ratio, Spec
from mns.errors import SchemaError

from ._data import case_rows, cases_table, every_batch_counted, split

SPECS = [
    Spec(
        keys=("need_group",),
        measures=[
            Measure("n", "count"),
            Measure("t", "true", "mns.f1"),
            Measure("v", "valid", "mns.f1"),
        ],
        ratios=[Ratio("share", "t", "v")],
    ),
    Spec(
        keys=("need_group", "sex"),
        measures=[
            Measure("n", "count"),
            Measure("age", "sum", "age"),
            Measure("k", "valid", "age"),
            Measure("lo", "min", "age"),
            Measure("hi", "max", "age"),
        ],
        ratios=[Ratio("mean_age", "age", "k")],
    ),
    Spec(
        keys=("area", "mns.f2", "mns.r1"),
        measures=[Measure("n", "count"), Measure("w", "sum", "weight")],
    ),
    Spec(
        keys=(),
        measures=[
            Measure("n", "count"),
            Measure("t", "true", "disability"),
            Measure("r", "sum", "mns.r1"),
            Measure("hi", "max", "mns.r1"),
        ],
    ),
]


@given(
    case_rows(),
    st.lists(st.integers(0, 40), max_size=6),
    st.sampled_from(range(len(SPECS))),
    st.booleans(),
)
def test_streamed_equals_one_shot(
    rows: list[dict[str, Any]], cuts: list[int], which: int, as_reader: bool
) -> None:
    spec = SPECS[which]
    table = cases_table(rows)
    whole = engines.run({"x": spec}, table)["x"]
    pieces = split(table, cuts)
    source: Any = pa.RecordBatchReader.from_batches(table.schema, pieces) if as_reader else pieces
    with every_batch_counted():
        streamed = engines.run({"x": spec}, source)["x"]
        by_hand = aggregate.finalise(
            spec, aggregate.merge(spec, [aggregate.partial(spec, b) for b in pieces])
        )
    assert streamed.equals(whole)
    assert by_hand.equals(whole)


@given(
    case_rows(max_size=30),
    st.lists(st.integers(0, 30), max_size=4),
    st.lists(st.integers(0, 30), max_size=4),
)
def test_merge_is_associative(
    rows: list[dict[str, Any]], cuts1: list[int], cuts2: list[int]
) -> None:
    spec = SPECS[1]
    table = cases_table(rows)
    states1 = [aggregate.partial(spec, b) for b in split(table, cuts1)]
    states2 = [aggregate.partial(spec, b) for b in split(table, cuts2)]
    left = aggregate.merge(spec, [aggregate.merge(spec, states1), aggregate.merge(spec, states2)])
    right = aggregate.merge(spec, states1 + states2)
    assert left.equals(right)


@given(case_rows())
def test_counts_match_a_plain_loop(rows: list[dict[str, Any]]) -> None:
    spec = SPECS[1]
    result = engines.run({"x": spec}, cases_table(rows))["x"].to_pylist()
    want: dict[tuple[Any, Any], list[Any]] = defaultdict(lambda: [0, 0, 0, None, None])
    for r in rows:
        cell = want[(r["need_group"], r["sex"])]
        cell[0] += 1
        if r["age"] is not None:
            cell[1] += r["age"]
            cell[2] += 1
            cell[3] = r["age"] if cell[3] is None else min(cell[3], r["age"])
            cell[4] = r["age"] if cell[4] is None else max(cell[4], r["age"])
    got = {
        (r["need_group"], r["sex"]): [r["n"], r["age"], r["k"], r["lo"], r["hi"]] for r in result
    }
    assert got == dict(want)
    keys = [(r["need_group"], r["sex"]) for r in result]
    assert keys == sorted(keys, key=lambda k: tuple((v is None, v or "") for v in k))


def test_every_kind_has_a_merge_that_arrow_knows() -> None:
    assert set(KINDS) == {"count", "valid", "true", "sum", "min", "max"}
    t = pa.table({"k": ["a"], "x": [1]})
    for kind in KINDS.values():
        t.group_by("k").aggregate([("x", kind.merge)])  # raises if Arrow lacks it


def test_bitmap_counts_with_unaligned_slices() -> None:
    rng = np.random.default_rng(0)
    n = 1000
    values = rng.random(n) < 0.3
    nulls = rng.random(n) < 0.1
    groups = rng.integers(0, 5, n)
    table = pa.table(
        {
            "g": pa.array(groups).cast(pa.string()).dictionary_encode(),
            "f": pa.array(values, mask=nulls),
        }
    )
    spec = Spec(keys=("g",), measures=[Measure("t", "true", "f"), Measure("v", "valid", "f")])
    for start in (0, 3, 13, 64, 65):
        piece = table.slice(start, 500)
        got = aggregate.partial(spec, piece.combine_chunks().to_batches()[0])
        g = groups[start : start + 500]
        v = values[start : start + 500]
        m = ~nulls[start : start + 500]
        for row in got.to_pylist():
            sel = g == int(row["g"])
            assert row["t"] == int((v & m & sel).sum())
            assert row["v"] == int((m & sel).sum())


def test_dates_min_and_max() -> None:
    days = [dt.date(2024, 1, 5), None, dt.date(2023, 3, 1)]
    table = pa.table({"g": ["x", "x", "x"], "d": pa.array(days, pa.date32())})
    spec = Spec(keys=("g",), measures=[Measure("first", "min", "d"), Measure("last", "max", "d")])
    assert engines.run({"s": spec}, table)["s"].to_pylist() == [
        {"g": "x", "first": dt.date(2023, 3, 1), "last": dt.date(2024, 1, 5)}
    ]


def test_empty_stream_gives_empty_result() -> None:
    spec = SPECS[0]
    assert engines.run({"x": spec}, [])["x"].num_rows == 0
    scalar = engines.run({"x": SPECS[3]}, [])["x"].to_pylist()
    assert scalar == [{"n": 0, "t": 0, "r": 0, "hi": None}]


def test_spec_is_checked() -> None:
    with pytest.raises(ValueError, match="kind 'median'"):
        Measure("m", "median", "x")
    with pytest.raises(ValueError, match="needs a column"):
        Measure("m", "sum")
    with pytest.raises(ValueError, match="used twice"):
        Spec(keys=("a",), measures=[Measure("a", "count")])
    with pytest.raises(ValueError, match="unknown measure"):
        Spec(keys=(), measures=[Measure("n", "count")], ratios=[Ratio("r", "n", "m")])


def test_bad_inputs_name_the_problem() -> None:
    table = pa.table({"g": ["a"], "s": ["x"]})
    with pytest.raises(SchemaError, match="'missing'"):
        engines.run({"x": Spec(keys=("missing",), measures=[Measure("n", "count")])}, table)
    with pytest.raises(SchemaError, match="booleans"):
        engines.run({"x": Spec(keys=("g",), measures=[Measure("t", "true", "s")])}, table)
    with pytest.raises(TypeError, match="item 1"):
        engines.run(
            {"x": Spec(keys=("g",), measures=[Measure("n", "count")])},
            [table.to_batches()[0], "oops"],
        )
    with pytest.raises(TypeError, match="RecordBatchReader"):
        engines.run({"x": Spec(keys=("g",), measures=[Measure("n", "count")])}, 42)


def test_compact_narrows_dictionary_indices_and_keeps_the_values() -> None:
    table = pa.table(
        {
            "few": pa.array(["a", "b", None, "a"]).dictionary_encode(),
            "many": pa.array([f"v{i}" for i in range(200)] * 2).dictionary_encode().slice(0, 4),
            "n": [1, 2, 3, 4],
        }
    )
    small = aggregate.compact(table)
    assert small.schema.field("few").type.index_type == pa.int8()
    assert small.schema.field("many").type.index_type == pa.int16()
    assert small.to_pylist() == table.to_pylist()
    spec = Spec(keys=("few", "many"), measures=[Measure("n", "count")])
    assert engines.run({"x": spec}, small)["x"].equals(engines.run({"x": spec}, table)["x"])
