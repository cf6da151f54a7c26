"""Counting a batch a part at a time (``_common.reduced``, what capacity and budget do to hold
one service's columns at once) gives exactly the numbers of counting the columns directly."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings, strategies as st

from mns import engines
from mns.aggregate import Measure, Spec
from mns.analyses import _common as common

from ._data import every_batch_counted, split

ROWS = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", None]),
        st.sampled_from([True, False, None]),
        st.sampled_from([True, False, None]),
        st.one_of(st.none(), st.floats(0, 1e6, allow_nan=False), st.just(0.1), st.just(3.7)),
    ),
    max_size=60,
)


def _table(rows: list[tuple[str | None, bool | None, bool | None, float | None]]) -> pa.Table:
    groups, first, second, weights = ([r[i] for r in rows] for i in range(4))
    return pa.table(
        {
            "g": pa.array(groups, pa.string()),
            "x": pa.array(first, pa.bool_()),
            "y": pa.array(second, pa.bool_()),
            "w": pa.array(weights, pa.float64()),
        }
    )


def _specs(keys: tuple[str, ...]) -> tuple[Spec, dict[str, Spec]]:
    totals = Spec(keys=keys, measures=(Measure("n", "count"), Measure("w", "sum", "w")))
    parts = {
        name: Spec(
            keys=keys,
            measures=(
                Measure(f"t:{name}", "true", "flag"),
                Measure(f"v:{name}", "valid", "flag"),
                Measure(f"w:{name}", "sum", "weight"),
            ),
        )
        for name in ("x", "y")
    }
    return totals, parts


def _derived(batch: pa.RecordBatch, name: str) -> pa.RecordBatch:
    flag = batch.column(name)
    weight = pc.if_else(pc.fill_null(flag, False), batch.column("w"), 0.0)
    return pa.RecordBatch.from_pydict({"g": batch.column("g"), "flag": flag, "weight": weight})


@settings(max_examples=40)
@given(ROWS, st.lists(st.integers(0, 60), max_size=4), st.booleans())
def test_reduced_counts_what_the_columns_count(
    rows: list[tuple[str | None, bool | None, bool | None, float | None]],
    cuts: list[int],
    grouped: bool,
) -> None:
    keys = ("g",) if grouped else ()
    totals, parts = _specs(keys)
    table = _table(rows)

    def direct(batch: pa.RecordBatch) -> pa.RecordBatch:
        for name in parts:
            derived = _derived(batch, name)
            batch = batch.append_column(f"flag:{name}", derived.column("flag"))
            batch = batch.append_column(f"weight:{name}", derived.column("weight"))
        return batch

    def reduced(batch: pa.RecordBatch) -> pa.RecordBatch:
        def each() -> Iterator[tuple[Spec, pa.RecordBatch]]:
            yield totals, batch
            for name, spec in parts.items():
                yield spec, _derived(batch, name)

        return common.reduced(keys, each())

    renamed = [
        Spec(
            keys=keys,
            measures=tuple(Measure(m.name, m.kind, f"{m.column}:{name}") for m in spec.measures),
        )
        for name, spec in parts.items()
    ]
    whole = Spec(keys=keys, measures=[m for s in (totals, *renamed) for m in s.measures])
    pieces = split(table, cuts, reencode=False)
    with every_batch_counted():
        expected = engines.run({"x": whole}, iter(pieces), prepare=direct)["x"]
        summed = common.summed([totals, *parts.values()])
        got = engines.run({"x": summed}, iter(pieces), prepare=reduced)["x"]
    assert got.equals(expected.select(got.column_names))  # exactly: not to rounding


def test_reduced_refuses_parts_of_other_rows() -> None:
    spec = Spec(keys=("g",), measures=(Measure("n", "count"),))
    other = Spec(keys=("g",), measures=(Measure("m", "count"),))
    one = pa.RecordBatch.from_pydict({"g": ["a", "b"]})
    two = pa.RecordBatch.from_pydict({"g": ["a", "a"]})
    with pytest.raises(ValueError, match="same rows"):
        common.reduced(("g",), iter([(spec, one), (other, two)]))
    with pytest.raises(ValueError, match="grouped by"):
        common.reduced((), iter([(spec, one)]))


def test_summed_refuses_measures_that_do_not_add_up() -> None:
    with pytest.raises(ValueError, match="does not merge by sum"):
        common.summed([Spec(keys=(), measures=(Measure("m", "max", "w"),))])
