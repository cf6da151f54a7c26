"""Every engine gives the same tables: local, a process pool and a real Dask LocalCluster of
two workers, over random partitionings of the same cases; and the same as the in-memory
analyses. A run never returns a partial table."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import mns
from mns.aggregate import Measure, Spec
from mns.analyses import (
    areas,
    capacity,
    compare,
    crosstab,
    extrapolate,
    match,
    outcomes,
    profile,
)
from mns.engines import Engine, EngineError, Local, dataset, run
from mns.engines._core import Job, Piece, Result, compute
from mns.errors import MnsError
from mns.plan import Plan
from mns.records.bundle import Records
from tests.engines._helpers import Refuse, assert_same, checks
from tests.engines.conftest import write

ENGINE_NAMES = ("local", "processes", "dask")

#: Each example runs every check on three engines: a tenth of the profile's examples.
ENGINE_EXAMPLES = settings(
    max_examples=max(4, settings().max_examples // 10),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def services() -> pa.Table:
    table: pa.Table = mns.synth.records(400, seed=11).services
    return table


@pytest.fixture(scope="module")
def reference(cases: pa.Table, plan: Plan, services: pa.Table) -> dict[str, pa.Table]:
    """The checks on the whole table in memory, without any engine."""
    return checks(cases, plan, services)


# --------------------------------------------------------------------------------------
# The property: any partitioning, any engine, the same tables


@st.composite
def partitionings(draw: st.DrawFn) -> dict[str, Any]:
    by = draw(st.lists(st.sampled_from(["la", "cohort", "sex"]), unique=True, max_size=2))
    return {
        "by": by,
        "rows_per_file": draw(st.sampled_from([97, 300, 1000, 5000])),
        "task_rows": draw(st.sampled_from([300, 800, 1 << 20])),
        "shuffle": draw(st.integers(0, 2**32 - 1)),
        "filter": draw(st.sampled_from([None, {"la": ["Q002", "Q004"]}, {"cohort": "referral"}])),
    }


def _shuffled(table: pa.Table, seed: int) -> pa.Table:
    import numpy as np

    order = np.random.default_rng(seed).permutation(table.num_rows)
    return table.take(pa.array(order))


def _filtered(table: pa.Table, chosen: dict[str, Any] | None) -> pa.Table:
    if chosen is None:
        return table
    ((name, value),) = chosen.items()
    values = pa.array(value if isinstance(value, list) else [value])
    return table.filter(pc.is_in(table.column(name).cast(pa.string()), values))


@ENGINE_EXAMPLES
@given(layout=partitionings())
def test_engines_agree_on_any_partitioning(
    layout: dict[str, Any],
    cases: pa.Table,
    plan: Plan,
    engines: dict[str, Engine],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        write(
            _shuffled(cases, layout["shuffle"]),
            Path(folder),
            by=layout["by"],
            rows_per_file=layout["rows_per_file"],
        )
        data = dataset(folder, filter=layout["filter"], task_rows=layout["task_rows"])
        results = {name: checks(data, plan, None, engine) for name, engine in engines.items()}
    expected = checks(_filtered(cases, layout["filter"]), plan, None)
    for name in results["local"]:
        for engine in ENGINE_NAMES[1:]:  # bit for bit the same on every engine
            assert_same(results[engine][name], results["local"][name])
        # and the same as in memory (weighted sums to rounding: the rows were split)
        assert_same(results["local"][name], expected[name], exact_floats=name != "weighted")


# --------------------------------------------------------------------------------------
# The suite of checks on each engine, against the in-memory results


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_each_engine_runs_the_suite_on_a_partitioned_dataset(
    name: str,
    *,
    cases: pa.Table,
    plan: Plan,
    services: pa.Table,
    engines: dict[str, Engine],
    reference: dict[str, pa.Table],
    tmp_path: Path,
) -> None:
    write(cases, tmp_path, by=["la", "cohort"], rows_per_file=250)
    data = dataset(tmp_path, task_rows=400)
    assert len(data.tasks()) > 3
    got = checks(data, plan, services, engines[name])
    for check, table in got.items():
        assert_same(table, reference[check], exact_floats=check != "weighted")


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_each_engine_runs_on_tables_and_streams_too(
    name: str,
    *,
    cases: pa.Table,
    plan: Plan,
    services: pa.Table,
    engines: dict[str, Engine],
    reference: dict[str, pa.Table],
) -> None:
    """Without a dataset, an engine gets the rows themselves: a table, or a stream."""
    engine = engines[name]
    assert_same(crosstab(cases, "sex", "cohort", engine=engine), reference["crosstab"])
    stream = pa.RecordBatchReader.from_batches(cases.schema, cases.to_batches(max_chunksize=200))
    got = profile(
        stream,
        by="cohort",
        indicators=("cin.1A", "cin.4B", "cin.primary_need"),
        weighting=mns.Weighting.sampled(0.2),
        engine=engine,
    )
    assert_same(got, reference["weighted"], exact_floats=False)


@pytest.fixture(scope="module")
def records() -> Records:
    recs: Records = mns.synth.records(1200, seed=5, areas=60)
    return recs


def _the_rest(
    cases: Any, reaudit: pa.Table, records: Records, plan: Plan, engine: Any = None
) -> dict[str, pa.Table]:
    """The other streaming analyses, each on classified cases."""
    classified = mns.classify(cases, plan)
    return {
        "extrapolate": extrapolate(
            classified, weighting=mns.Weighting.sampled(0.25), plan=plan, engine=engine
        ),
        "capacity": capacity(
            classified, plan=plan, weighting=mns.Weighting.sampled(0.25), engine=engine
        ),
        "areas": areas(
            classified, mns.synth.population(seed=5, areas=60), plan=plan, engine=engine
        ),
        "compare": compare(classified, reaudit, plan=plan, engine=engine),
        "outcomes": outcomes(
            classified, records.outcomes, records.services, plan=plan, engine=engine
        ),
        "match": match(classified, records.services, plan=plan, engine=engine),
    }


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_the_other_streaming_analyses_take_a_dataset_on_each_engine(
    name: str, *, records: Records, plan: Plan, engines: dict[str, Engine], tmp_path: Path
) -> None:
    reaudit = mns.classify(mns.synth.cases(600, seed=6, areas=60), plan)
    assert isinstance(reaudit, pa.Table)
    expected = _the_rest(records.cases, reaudit, records, plan)
    write(records.cases, tmp_path, by=["la"], rows_per_file=300)
    with mns.engines.use(engines[name]):
        got = _the_rest(dataset(tmp_path, task_rows=500), reaudit, records, plan)
    for check, table in got.items():
        assert_same(table, expected[check], exact_floats=False)
    # the same with the engine given as an argument instead of by a block
    given = _the_rest(dataset(tmp_path, task_rows=500), reaudit, records, plan, engines[name])
    for check, table in given.items():
        assert_same(table, expected[check], exact_floats=False)


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_a_data_error_in_a_worker_reaches_the_caller_unchanged(
    name: str, cases: pa.Table, engines: dict[str, Engine], tmp_path: Path
) -> None:
    write(cases, tmp_path, by=["la"], rows_per_file=500)
    spec = {"x": Spec(keys=("sex",), measures=(Measure("n", "count"),))}
    with pytest.raises(MnsError, match="weights must be positive") as caught:
        run(spec, dataset(tmp_path), prepare=Refuse(), engine=engines[name])
    assert caught.value.field == "w"
    assert not isinstance(caught.value, EngineError)


# --------------------------------------------------------------------------------------
# Choosing the engine


class _Counting(Engine):
    """An engine computing in this process that counts the pieces it computes."""

    name = "counting"

    def __init__(self) -> None:
        super().__init__()
        self.pieces = 0

    @property
    def workers(self) -> int:
        return 1

    def map(self, job: Job, pieces: Iterable[tuple[int, Piece]]) -> Iterator[Result]:
        for index, piece in pieces:
            self.pieces += 1
            yield compute(job, index, piece)


def test_the_engine_comes_from_the_argument_else_the_context(cases: pa.Table) -> None:
    engine = _Counting()
    crosstab(cases, "sex", "cohort", engine=engine)
    assert engine.pieces == 1  # a table of 1,500 rows is one piece
    assert not engine.is_open  # opened for the run, closed after
    with mns.engines.use(engine) as current:
        assert current is engine
        assert mns.engines.current() is engine
        assert engine.is_open
        crosstab(cases, "sex", "cohort")
        profile(cases, by="sex", indicators=["cin.1A"])
        assert engine.pieces == 3
        crosstab(cases, "sex", "cohort", engine="local")  # the argument wins
        assert engine.pieces == 3
    assert mns.engines.current() is None
    assert not engine.is_open
    crosstab(cases, "sex", "cohort")  # no engine: the in-memory path
    assert engine.pieces == 3


def test_engines_by_name() -> None:
    assert isinstance(mns.engines.get("local"), Local)
    assert isinstance(mns.engines.get("processes", workers=3), mns.engines.Processes)
    assert mns.engines.get("processes", workers=3).workers == 3
    assert isinstance(mns.engines.get("dask"), mns.engines.Dask)
    with pytest.raises(ValueError, match="'spark' is not one of 'local', 'processes', 'dask'"):
        mns.engines.get("spark")
    with pytest.raises(ValueError, match="workers"):
        mns.engines.Processes(workers=0)


def test_a_client_given_is_used_and_left_open(
    dask_engine: mns.engines.Dask, cases: pa.Table
) -> None:
    client = dask_engine.client
    engine = mns.engines.get(client)
    assert isinstance(engine, mns.engines.Dask)
    assert engine.client is client
    with mns.engines.use("dask", client=client):
        crosstab(cases, "sex", "cohort")
    assert client.status == "running"


def test_importing_the_engines_does_not_import_dask() -> None:
    code = (
        "import sys, mns.engines, mns.aggregate; "
        "print([m for m in ('dask', 'distributed') if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# --------------------------------------------------------------------------------------
# Never a partial table


class _Lossy(_Counting):
    """A broken engine: it loses the last piece's result, or returns one twice."""

    def __init__(self, how: str) -> None:
        super().__init__()
        self.how = how

    def map(self, job: Job, pieces: Iterable[tuple[int, Piece]]) -> Iterator[Result]:
        results = list(super().map(job, pieces))
        if self.how == "lose":
            yield from results[:-1]
        else:
            yield from [*results, results[0]]


@pytest.mark.parametrize("how", ["lose", "twice"])
def test_a_missing_or_repeated_piece_is_an_error_not_a_partial_table(
    how: str, cases: pa.Table, tmp_path: Path
) -> None:
    write(cases, tmp_path, by=["la"], rows_per_file=500)
    data = dataset(tmp_path, task_rows=1)
    with pytest.raises(EngineError, match="no result is returned") as caught:
        crosstab(data, "sex", "cohort", engine=_Lossy(how))
    assert caught.value.reason == "incomplete"
