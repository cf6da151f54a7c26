"""Several analyses in one pass: mns.engines.together gives each call what it gives alone,
reads (and classifies) the dataset once a round, and never hangs on a call that fails."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa
import pytest

import mns
from mns.engines import dataset, together
from mns.errors import SchemaError
from mns.plan import Plan
from tests.engines.conftest import write


@attrs.define(eq=False)
class CountRows:
    """A dataset step that counts the rows read through it."""

    rows: int = 0
    lock: threading.Lock = attrs.field(factory=threading.Lock)

    def columns(self, schema: pa.Schema) -> Sequence[str]:
        return []

    def produces(self, schema: pa.Schema) -> Sequence[str]:
        return []

    def schema(self, schema: pa.Schema) -> pa.Schema:
        return schema

    def apply(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            with self.lock:
                self.rows += batch.num_rows
            yield batch


@pytest.fixture(scope="module")
def folder(cases: pa.Table, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(cases, tmp_path_factory.mktemp("together"), by=["la"], rows_per_file=300)


def _calls(plan: Plan) -> dict[str, Any]:
    return {
        "profile": lambda cases: mns.profile(cases, plan=plan),
        "by_la": lambda cases: mns.crosstab(cases, "need_group", "la"),
        "teams": mns.teams,
    }


def test_each_call_gets_what_it_gets_alone_from_one_pass(
    cases: pa.Table, folder: Path, plan: Plan
) -> None:
    counter = CountRows()
    classified = mns.classify(dataset(folder).map(counter), plan)
    alone = {name: call(classified) for name, call in _calls(plan).items()}
    assert counter.rows == 3 * cases.num_rows  # three passes, each classifying every case
    counter.rows = 0
    shared = together(classified, _calls(plan))
    assert counter.rows == cases.num_rows  # one
    assert list(shared) == list(alone)
    for name, table in alone.items():
        assert shared[name].equals(table), name


def test_a_call_that_runs_again_makes_a_second_round(
    cases: pa.Table, folder: Path, plan: Plan
) -> None:
    counter = CountRows()
    classified = mns.classify(dataset(folder).map(counter), plan)

    def twice(data: Any) -> tuple[pa.Table, pa.Table]:
        return mns.crosstab(data, "need_group", "sex"), mns.crosstab(data, "la", "cohort")

    out: dict[str, Any] = together(classified, {"twice": twice, "once": mns.teams})
    assert counter.rows == 2 * cases.num_rows
    first, second = out["twice"]
    assert first.equals(mns.crosstab(classified, "need_group", "sex"))
    assert second.equals(mns.crosstab(classified, "la", "cohort"))
    assert out["once"].equals(mns.teams(classified))


def test_a_run_whose_prepare_changes_the_rows_shares_the_pass_too(
    cases: pa.Table, folder: Path, plan: Plan
) -> None:
    counter = CountRows()
    classified = mns.classify(dataset(folder).map(counter), plan)
    count = mns.aggregate.Spec(keys=["need_group"], measures=[mns.aggregate.Measure("n", "count")])

    def first_row(batch: pa.RecordBatch) -> pa.RecordBatch:  # one row of each batch
        return batch.slice(0, 1)

    def reducing(data: Any) -> pa.Table:
        return mns.engines.run({"x": count}, data, prepare=first_row, columns=["need_group"])["x"]

    calls = {"reducing": reducing, **_calls(plan)}
    alone = {name: call(classified) for name, call in calls.items()}
    counter.rows = 0
    shared = together(classified, calls)
    assert counter.rows == cases.num_rows  # one pass: each run's batch is counted apart
    for name, table in alone.items():
        assert shared[name].equals(table), name


@attrs.frozen
class Prepared:
    """A prepare that counts its calls (equal whatever the count: one kind of batch)."""

    calls: list[int] = attrs.field(factory=list, eq=False)

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        self.calls.append(batch.num_rows)
        return batch


def test_runs_with_equal_prepares_share_the_prepared_batch(cases: pa.Table, plan: Plan) -> None:
    classified = mns.classify(cases, plan)
    calls: list[int] = []
    count = mns.aggregate.Spec(keys=["need_group"], measures=[mns.aggregate.Measure("n", "count")])

    def counted(data: Any) -> pa.Table:
        prepare = Prepared(calls)  # a new one each call, equal to the others
        return mns.engines.run({"x": count}, data, prepare=prepare, columns=["need_group"])["x"]

    alone = counted(classified)
    assert sum(calls) == cases.num_rows
    calls.clear()
    out = together(classified, {"a": counted, "b": counted, "c": counted})
    assert sum(calls) == cases.num_rows  # prepared once for the three
    assert all(table.equals(alone) for table in out.values())
    weighting = mns.Weighting.sampled(0.5)
    shared = together(
        classified,
        {
            "capacity": lambda data: mns.capacity(data, plan=plan, weighting=weighting),
            "budget": lambda data: mns.budget(data, plan=plan, weighting=weighting),
        },
    )
    assert shared["capacity"].equals(mns.capacity(classified, plan=plan, weighting=weighting))
    assert shared["budget"].equals(mns.budget(classified, plan=plan, weighting=weighting))


def test_a_table_and_runs_on_other_sources(cases: pa.Table, plan: Plan) -> None:
    classified = mns.classify(cases, plan)
    other = classified.slice(0, 100)
    out = together(
        classified,
        {
            "profile": lambda data: mns.profile(data, plan=plan),
            "other": lambda data: mns.crosstab(other, "need_group", "sex"),  # runs as usual
        },
    )
    assert out["profile"].equals(mns.profile(classified, plan=plan))
    assert out["other"].equals(mns.crosstab(other, "need_group", "sex"))


def test_a_failing_call_is_raised_after_the_others_end(cases: pa.Table, plan: Plan) -> None:
    classified = mns.classify(cases, plan)
    ended: list[str] = []

    def fine(data: Any) -> pa.Table:
        out = mns.crosstab(data, "need_group", "sex")
        ended.append("fine")
        return out

    with pytest.raises(SchemaError, match="no_such_column"):
        together(
            classified,
            {
                "bad": lambda data: mns.crosstab(data, "need_group", "no_such_column"),
                "fine": fine,
            },
        )
    assert ended == ["fine"]


def test_a_run_that_fails_in_the_pass_fails_alone(cases: pa.Table, plan: Plan) -> None:
    classified = mns.classify(cases, plan)
    count = mns.aggregate.Spec(keys=["need_group"], measures=[mns.aggregate.Measure("n", "count")])
    got: list[pa.Table] = []

    def failing(batch: pa.RecordBatch) -> pa.RecordBatch:
        raise ValueError("a prepare that fails")

    def fine(data: Any) -> pa.Table:
        got.append(mns.crosstab(data, "need_group", "sex"))
        return got[-1]

    with pytest.raises(ValueError, match="a prepare that fails"):
        together(
            classified,
            {
                "fails": lambda data: mns.engines.run({"x": count}, data, prepare=failing),
                "fine": fine,
            },
        )
    assert len(got) == 1
    assert got[0].equals(mns.crosstab(classified, "need_group", "sex"))


def test_a_stream_cannot_be_shared(cases: pa.Table) -> None:
    with pytest.raises(TypeError, match="give a Table or a dataset"):
        together(pa.RecordBatchReader.from_batches(cases.schema, cases.to_batches()), {})
