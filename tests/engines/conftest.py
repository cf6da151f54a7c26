"""Fixtures for the engine tests: synthetic cases, the demo plan, and one open engine of each
kind for the whole session (a process pool of two, and a real Dask LocalCluster of two worker
processes), so the same checks run on every engine."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as pads
import pytest

import mns
from mns.engines import Dask, Engine, Local, Processes
from mns.plan import Plan

#: Cases in the test tables: enough for several authorities, cohorts and need groups.
N_CASES = 1500


@pytest.fixture(scope="session")
def cases() -> pa.Table:
    """Synthetic cases with missing values (so some need groups are unknown), in about
    five local authorities."""
    table: pa.Table = mns.synth.cases(N_CASES, seed=11, areas=70, missing=0.05)
    return table


@pytest.fixture(scope="session")
def plan() -> Plan:
    from mns.demo import plan_path
    from mns.plan import load_plan

    return load_plan(plan_path())


def write(table: pa.Table, folder: Path, *, by: list[str], rows_per_file: int) -> Path:
    """``table`` as a hive-partitioned Parquet dataset under ``folder``."""
    pads.write_dataset(
        table,
        folder,
        format="parquet",
        partitioning=by or None,
        partitioning_flavor="hive" if by else None,
        max_rows_per_file=rows_per_file,
        max_rows_per_group=rows_per_file,
        existing_data_behavior="overwrite_or_ignore",
    )
    return folder


@pytest.fixture(scope="session")
def dask_engine() -> Iterator[Dask]:
    """A real LocalCluster of two worker processes. A task may be tried again after one
    worker death (the second kills the task), so the fault tests stay short."""
    dask: Any = importlib.import_module("dask")
    distributed: Any = importlib.import_module("distributed")

    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
    client = distributed.Client(cluster, set_as_default=False)
    engine = Dask(client)
    try:
        with engine:
            yield engine
    finally:
        client.close()
        cluster.close()


@pytest.fixture(scope="session")
def processes_engine() -> Iterator[Processes]:
    with Processes(workers=2) as engine:
        yield engine


@pytest.fixture(scope="session")
def engines(processes_engine: Processes, dask_engine: Dask) -> dict[str, Engine]:
    """One open engine of each kind, by name."""
    return {"local": Local(threads=2), "processes": processes_engine, "dask": dask_engine}
