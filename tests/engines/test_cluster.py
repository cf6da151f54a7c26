"""A real cluster of separate processes, as a site runs one: a ``dask scheduler`` process
that cannot read the data (started without the data's root, from another folder, on a
filesystem that exists only where the root is given) and ``dask worker`` processes that can.
Analyses give the same tables as in memory, the scheduler never opens a file and its memory
stays flat over repeated runs; losing every worker, having none, or losing the scheduler is
an :class:`EngineError` within the timeout, never a hang.

How it is known that the scheduler reads nothing: the data's paths are relative to a root
that only the client's and the workers' environment names (``tests.engines._fs.Rooted``),
every file opened is logged with the process that opened it, and a process without the root
logs a refusal. The scheduler also runs from a folder where the ``tests`` package cannot be
imported, so it could not even rebuild the filesystem: tasks carrying pyarrow fragments (as
they did) leave it unable to forward them, and the run stops at the timeout instead of
giving the tables.

Every wait here is bounded: the engine's ``timeout``, and the processes are killed at the end
whatever happens."""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa
import pytest

import mns
from mns.engines import EngineError, dataset, run
from tests.engines._fs import ROOT_ENV, opened, rooted
from tests.engines._helpers import COLUMNS, SPECS, Slow
from tests.engines.conftest import write

pytest.importorskip("distributed")

#: The repository's root: workers import ``tests.engines._fs`` from it; the scheduler not.
REPOSITORY = Path(__file__).resolve().parents[2]
#: Seconds a process may take to start, and a run to give up (the engine's timeout).
START = 60.0
TIMEOUT = 20.0


@attrs.define
class Cluster:
    """A scheduler and its workers, each a process of its own."""

    address: str
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]]
    data: Path
    log: Path

    def processes(self) -> list[subprocess.Popen[bytes]]:
        return [self.scheduler, *self.workers]


def _process(
    args: list[str], *, cwd: Path, env: dict[str, str], log: Path
) -> subprocess.Popen[bytes]:
    """``python -m dask ARGS`` started in ``cwd``, its messages in ``log``."""
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "dask", *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=fd,
        )
    finally:
        os.close(fd)  # the process has its own copy


def _start_worker(address: str, data: Path, folder: Path, n: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, ROOT_ENV: str(data), "PYTHONPATH": str(REPOSITORY)}
    return _process(
        [
            "worker",
            address,
            "--nthreads",
            "1",
            "--no-nanny",
            "--no-dashboard",
            "--memory-limit",
            "0",
            "--name",
            f"worker-{n}",
        ],
        cwd=REPOSITORY,
        env=env,
        log=folder / f"worker-{n}.log",
    )


def _wait_for_workers(address: str, n: int) -> None:
    distributed: Any = importlib.import_module("distributed")
    with distributed.Client(address, timeout=START, set_as_default=False) as client:
        client.wait_for_workers(n, timeout=START)


@pytest.fixture(scope="module")
def cluster(cases: pa.Table, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    folder = tmp_path_factory.mktemp("cluster")
    data = write(cases, folder / "data", by=["la"], rows_per_file=10)  # ~150 small files
    home = folder / "scheduler-home"  # the scheduler's folder: no data, no tests package
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in (ROOT_ENV, "PYTHONPATH")}
    scheduler_file = folder / "scheduler.json"
    scheduler = _process(
        [
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            str(scheduler_file),
        ],
        cwd=home,
        env=env,
        log=folder / "scheduler.log",
    )
    started: list[subprocess.Popen[bytes]] = [scheduler]
    try:
        deadline = time.monotonic() + START
        while not scheduler_file.exists() or not scheduler_file.read_text("utf-8").strip():
            assert scheduler.poll() is None, (folder / "scheduler.log").read_text("utf-8")
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text("utf-8"))["address"]
        workers = [_start_worker(address, data, folder, n) for n in range(2)]
        started += workers
        _wait_for_workers(address, 2)
        yield Cluster(address, scheduler, workers, data, folder / "opened.log")
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
        for process in started:
            process.wait(timeout=30)


@pytest.fixture
def on_data(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    """This process (the client) sees the data, as the workers do."""
    monkeypatch.setenv(ROOT_ENV, str(cluster.data))


def _expected(cases: pa.Table) -> pa.Table:
    return run(SPECS, cases, columns=COLUMNS)["x"]


@pytest.mark.usefixtures("on_data")
def test_a_scheduler_that_cannot_read_the_data_runs_analyses_on_workers_that_can(
    cluster: Cluster, cases: pa.Table, plan: Any
) -> None:
    data = dataset("", filesystem=rooted(cluster.log), task_rows=400)
    assert len(data.files) > 100
    assert len(data.tasks()) > 2
    planned = len(opened(cluster.log))
    with mns.engines.use(f"dask:{cluster.address}", timeout=TIMEOUT) as engine:
        got = run(SPECS, data, columns=COLUMNS)["x"]
        by_group = mns.crosstab(mns.classify(data, plan), "need_group", "la", plan=plan)
    assert not engine.is_open
    assert got.equals(_expected(cases))
    want = mns.crosstab(mns.classify(cases, plan), "need_group", "la", plan=plan)
    assert by_group.equals(want)
    during = opened(cluster.log)[planned:]
    workers = {w.pid for w in cluster.workers}
    assert during, "the workers read the files"
    assert {pid for pid, _, _ in during} <= workers  # neither the client nor the scheduler
    assert all(outcome == "ok" for _, _, outcome in opened(cluster.log))  # no refusal anywhere
    assert cluster.scheduler.poll() is None


@pytest.mark.usefixtures("on_data")
def test_the_schedulers_memory_stays_flat_over_repeated_runs(cluster: Cluster) -> None:
    psutil = pytest.importorskip("psutil")
    data = dataset("", filesystem=rooted(cluster.log))
    scheduler = psutil.Process(cluster.scheduler.pid)
    with mns.engines.use(f"dask:{cluster.address}", timeout=TIMEOUT):
        run(SPECS, data, columns=COLUMNS)  # the first run imports and caches what it needs
        before = scheduler.memory_info().rss
        for _ in range(5):
            run(SPECS, data, columns=COLUMNS)
        after = scheduler.memory_info().rss
    # tasks carrying pyarrow fragments cost the scheduler ~200 KB a file a run: ~150 MB here
    print(f"scheduler RSS: {before / 2**20:.1f} MiB, after 5 runs {after / 2**20:.1f} MiB")
    assert after - before < 25 * 2**20, (before, after)


@pytest.mark.usefixtures("on_data")
def test_losing_every_worker_no_workers_or_the_scheduler_is_an_engine_error(
    cluster: Cluster,
) -> None:
    """Last in this module: it kills the cluster."""
    data = dataset("", filesystem=rooted(cluster.log), task_rows=1)
    first = len(opened(cluster.log))

    def kill_workers_once_they_read() -> None:
        deadline = time.monotonic() + START
        while len(opened(cluster.log)) == first and time.monotonic() < deadline:
            time.sleep(0.05)
        for worker in cluster.workers:
            worker.send_signal(signal.SIGKILL)

    killer = threading.Thread(target=kill_workers_once_they_read, daemon=True)
    engine = mns.engines.get(f"dask:{cluster.address}", timeout=3.0)
    with engine:
        killer.start()
        with pytest.raises(EngineError, match="no workers") as lost:
            run(SPECS, data, columns=COLUMNS, prepare=Slow(0.2), engine=engine)
        killer.join(timeout=START)
        assert all(worker.wait(timeout=START) is not None for worker in cluster.workers)
        assert (lost.value.engine, lost.value.reason) == ("dask", "no-workers")
        assert lost.value.piece is not None  # names what was waiting
        # none at all: said before anything is submitted
        with pytest.raises(EngineError, match="the cluster has no workers") as none:
            run(SPECS, data, columns=COLUMNS, engine=engine)
        assert none.value.reason == "no-workers"
        # the scheduler gone
        cluster.scheduler.kill()
        cluster.scheduler.wait(timeout=START)
        with pytest.raises(EngineError) as gone:
            run(SPECS, data, columns=COLUMNS, engine=engine)
        assert gone.value.reason in ("connection", "no-workers", "timeout")
    with pytest.raises(EngineError, match="cannot connect") as unreachable:
        mns.engines.get(f"dask:{cluster.address}", timeout=2.0).open()
    assert unreachable.value.reason == "connection"
