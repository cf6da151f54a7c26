"""A worker process that dies mid-run: the run is retried and its result is still correct, or
it fails with an EngineError naming the piece; never a partial table. The worker is killed
for real: the batch function calls ``os._exit`` in the worker process."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from mns.engines import Dask, Engine, EngineError, Processes, dataset, run
from tests.engines._helpers import COLUMNS, SPECS, AlwaysDie, DieOnce, Slow, marker
from tests.engines.conftest import write


@pytest.fixture(scope="module")
def files(cases: pa.Table, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(cases, tmp_path_factory.mktemp("faults"), by=["la"], rows_per_file=300)


@pytest.fixture(scope="module")
def expected(cases: pa.Table) -> pa.Table:
    return run(SPECS, cases, columns=COLUMNS)["x"]


def _engine(name: str, processes_engine: Processes, dask_engine: Dask) -> Engine:
    return processes_engine if name == "processes" else dask_engine


@pytest.mark.parametrize("name", ["processes", "dask"])
def test_a_worker_killed_mid_run_is_retried_and_the_result_is_complete(
    name: str,
    *,
    files: Path,
    expected: pa.Table,
    tmp_path: Path,
    processes_engine: Processes,
    dask_engine: Dask,
) -> None:
    engine = _engine(name, processes_engine, dask_engine)
    data = dataset(files, task_rows=1)
    assert len(data.tasks()) >= 4
    death = marker(tmp_path)
    got = run(SPECS, data, columns=COLUMNS, prepare=DieOnce(death), engine=engine)["x"]
    assert Path(death).exists()  # a worker did die
    assert got.equals(expected)


@pytest.mark.parametrize("name", ["processes", "dask"])
def test_a_piece_that_kills_every_worker_is_a_clear_error(
    name: str, files: Path, expected: pa.Table, processes_engine: Processes, dask_engine: Dask
) -> None:
    engine = _engine(name, processes_engine, dask_engine)
    data = dataset(files, task_rows=1)
    with pytest.raises(EngineError, match="died") as caught:
        run(SPECS, data, columns=COLUMNS, prepare=AlwaysDie(), engine=engine)
    error = caught.value
    assert (error.engine, error.reason) == (name, "worker-died")
    assert error.piece is not None
    assert "la=" in error.piece  # names the file
    assert "no result is returned" in str(error)
    # the engine recovers: the next run is complete and correct
    if name == "dask":
        dask_engine.client.wait_for_workers(2, timeout=120)
    assert run(SPECS, data, columns=COLUMNS, engine=engine)["x"].equals(expected)


def test_a_piece_that_never_ends_is_stopped_at_the_timeout(files: Path, expected: pa.Table) -> None:
    with Processes(workers=1, timeout=1.0) as engine:
        data = dataset(files, task_rows=1)
        with pytest.raises(EngineError, match=r"no piece finished in 1 s") as caught:
            run(SPECS, data, columns=COLUMNS, prepare=Slow(60.0), engine=engine)
        assert (caught.value.engine, caught.value.reason) == ("processes", "timeout")
        assert caught.value.piece is not None
        assert "la=" in caught.value.piece
        # the stuck workers were stopped, and the engine still computes (given the time to
        # start new workers: a loaded machine may take more than a second)
        engine.timeout = 120.0
        assert run(SPECS, data, columns=COLUMNS, engine=engine)["x"].equals(expected)
