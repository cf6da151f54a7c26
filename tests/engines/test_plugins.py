"""Engines as plugins: the worked example of ``docs/how-to/write-an-engine.md`` (a thread-pool
engine written only against the public API, offered through ``mns_engines``) gives the same
tables as the local engine, by name from Python and from ``mns audit --engine``; plugin
mistakes are named; the engine names and options are checked."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import mns
from mns.cli import cli
from mns.engines import EngineError, Local, dataset, get
from mns.plan import Plan
from mns.plugins.manager import Manager, use_manager
from tests.engines._helpers import Slow, assert_same, checks
from tests.engines.conftest import write

DOCS = Path(__file__).resolve().parents[2] / "docs" / "how-to" / "write-an-engine.md"
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _example() -> ModuleType:
    """The page's first block, the engine's module, imported as ``mns_threads``."""
    code = BLOCK.findall(DOCS.read_text("utf-8"))[0]
    spec = importlib.util.spec_from_loader("mns_threads", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    exec(compile(code, str(DOCS), "exec"), module.__dict__)
    return module


@pytest.fixture(scope="module")
def example() -> Iterator[ModuleType]:
    module = _example()
    sys.modules["mns_threads"] = module
    try:
        yield module
    finally:
        del sys.modules["mns_threads"]


@pytest.fixture
def manager(example: ModuleType) -> Iterator[Manager]:
    """A fresh plugin manager with the example engine registered, as its entry point would."""
    fresh = Manager(autoload=False)
    fresh.add(example, name="threads-example")
    with use_manager(fresh):
        yield fresh


# --------------------------------------------------------------------------------------
# The worked example


@pytest.mark.usefixtures("manager")
def test_the_example_engine_gives_the_tables_of_the_local_engine(
    cases: pa.Table, plan: Plan, tmp_path: Path, example: ModuleType
) -> None:
    engine = get("threads", workers=2, timeout=30)
    assert isinstance(engine, example.Threads)
    assert (engine.workers, engine.timeout) == (2, 30.0)
    write(cases, tmp_path, by=["la", "cohort"], rows_per_file=200)
    data = dataset(tmp_path, task_rows=300)
    assert len(data.tasks()) > 3
    services = mns.synth.records(400, seed=11).services
    with mns.engines.use(engine):
        on_dataset = checks(data, plan, services)  # every analysis takes the block's engine
        on_table = checks(cases, plan, services)
    assert not engine.is_open
    local = Local(threads=2)
    for name, table in checks(data, plan, services, local).items():
        assert_same(on_dataset[name], table)  # bit for bit, floats too
    for name, table in checks(cases, plan, services, local).items():
        assert_same(on_table[name], table)


@pytest.mark.usefixtures("manager")
def test_the_example_engine_gives_up_after_its_timeout_and_passes_data_errors_through(
    cases: pa.Table, tmp_path: Path
) -> None:
    from mns.aggregate import Measure, Spec
    from tests.engines._helpers import Refuse

    write(cases, tmp_path, by=["la"], rows_per_file=500)
    spec = {"x": Spec(keys=("sex",), measures=(Measure("n", "count"),))}
    slow = get("threads", workers=1, timeout=0.2)
    with pytest.raises(EngineError, match=r"no piece finished in 0\.2 s"):
        mns.engines.run(spec, dataset(tmp_path), prepare=Slow(1.0), engine=slow)
    with pytest.raises(mns.MnsError, match="weights must be positive") as caught:
        mns.engines.run(spec, dataset(tmp_path), prepare=Refuse(), engine="threads")
    assert not isinstance(caught.value, EngineError)


def test_mns_audit_runs_on_the_engine_named_and_reads_a_partitioned_dataset(
    manager: Manager, tmp_path: Path
) -> None:
    from mns.demo import plan_path

    records = mns.synth.records(500, seed=3, areas=45)
    write(records.cases, tmp_path / "cases", by=["la"], rows_per_file=120)
    outputs = {}
    for name, extra in {
        "local": [],
        "threads": ["--engine", "threads", "--workers", "2"],
        "processes": ["--engine", "processes", "--workers", "2", "--engine-timeout", "120"],
    }.items():
        out = tmp_path / f"out-{name}"
        done = _audit(
            str(tmp_path / "cases"),
            *("--plan", str(plan_path()), "--census", "--no-disclose", "--out", str(out)),
            *extra,
        )
        assert done.exit_code == 0, done.output
        outputs[name] = {p.name: pq.read_table(p) for p in sorted(out.glob("*.parquet"))}
    profile = next(t for n, t in outputs["local"].items() if n.startswith("profile"))
    assert profile.num_rows > 0
    # the provenance lists the dataset's files, with their checksums
    read = json.loads((tmp_path / "out-local" / "audit.json").read_text("utf-8"))
    files = sorted((tmp_path / "cases").rglob("*.parquet"))
    listed = read["sources"]["sample"]["files"]
    assert sorted(f["sha256"] for f in listed) == sorted(
        hashlib.sha256(f.read_bytes()).hexdigest() for f in files
    )
    for name in ("threads", "processes"):
        assert outputs[name].keys() == outputs["local"].keys()
        for table, want in outputs["local"].items():
            assert outputs[name][table].equals(want), (name, table)


def _audit(*args: str) -> Any:
    return CliRunner().invoke(cli, ["audit", *args], catch_exceptions=False)


@pytest.mark.usefixtures("manager")
def test_mns_audit_names_a_wrong_engine_by_its_flag(tmp_path: Path) -> None:
    from mns.demo import plan_path

    write(mns.synth.cases(50, seed=1), tmp_path / "cases", by=["la"], rows_per_file=100)
    base = [str(tmp_path / "cases"), "--plan", str(plan_path()), "--census"]
    base += ["--out", str(tmp_path / "o")]
    wrong = _audit(*base, "--engine", "thread")
    assert wrong.exit_code == 2
    assert "'--engine'" in wrong.output
    assert "did you mean 'threads'?" in wrong.output
    assert "'threads'" in wrong.output  # the plugin's engine is listed
    both = _audit(*base, "--engine", "dask:tcp://127.0.0.1:1", "--workers", "2")
    assert both.exit_code == 2
    assert "'--workers'" in both.output
    target = _audit(*base, "--engine", "local:somewhere")
    assert target.exit_code == 2
    assert "takes no address" in target.output


# --------------------------------------------------------------------------------------
# Plugin mistakes


def _factory(name: str, make: Any) -> mns.EngineFactory:
    return mns.EngineFactory(name=name, description="a test engine", make=make)


class _Plugin:
    def __init__(self, *factories: mns.EngineFactory) -> None:
        self.factories = factories

    @mns.hookimpl
    def mns_engines(self) -> Iterator[mns.EngineFactory]:
        yield from self.factories


def test_engine_factories_check_themselves() -> None:
    with pytest.raises(ValueError, match="must be lower case"):
        _factory("Spark", lambda *a, **k: None)
    with pytest.raises(ValueError, match="one of mns's own engines"):
        _factory("dask", lambda *a, **k: None)
    with pytest.raises(TypeError, match="make must be callable"):
        _factory("spark", "not callable")


def test_plugin_engine_mistakes_are_named(example: ModuleType) -> None:
    def broken(target: str | None, *, workers: int | None, timeout: float | None) -> Any:
        raise RuntimeError("no Spark here")

    def not_an_engine(target: str | None, *, workers: int | None, timeout: float | None) -> Any:
        return object()

    fresh = Manager(autoload=False)
    fresh.add(_Plugin(_factory("spark", broken), _factory("ray", not_an_engine)), name="acme")
    with use_manager(fresh):
        with pytest.raises(EngineError, match=r"'spark' \(plugin 'acme'\).*no Spark here") as e:
            get("spark")
        assert (e.value.engine, e.value.reason) == ("spark", "setup")
        with pytest.raises(EngineError, match=r"returned object, not an mns\.engines\.Engine"):
            get("ray:head-node")
        with pytest.raises(ValueError, match=r"not one of 'local', 'processes', 'dask', 'ray'"):
            get("flink")
    twice = Manager(autoload=False)
    twice.add(_Plugin(_factory("spark", broken)), name="acme")
    twice.add(_Plugin(_factory("spark", broken)), name="other")
    with use_manager(twice), pytest.raises(EngineError, match="'acme', 'other'"):
        get("spark")


def test_engine_names_options_and_timeouts_are_checked() -> None:
    from mns.plugins.engine import BUILTIN_ENGINES

    assert mns.engines.ENGINES == BUILTIN_ENGINES
    with pytest.raises(ValueError, match="nothing follows the colon"):
        get("dask:")
    with pytest.raises(ValueError, match="takes no address"):
        get("processes:tcp://x")
    with pytest.raises(TypeError, match="engine must be a name"):
        get(3)
    with pytest.raises(ValueError, match="not more than one"):
        mns.engines.Dask(address="tcp://127.0.0.1:1", workers=2)
    for bad in (0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="timeout"):
            mns.engines.Processes(timeout=bad)
    with pytest.raises(TypeError, match="timeout"):
        get("dask", timeout="10s")  # type: ignore[arg-type]
    assert mns.engines.Processes(timeout=None).timeout is None
    assert get("processes").timeout == mns.engines.DEFAULT_TIMEOUT
