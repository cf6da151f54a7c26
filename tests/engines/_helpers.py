"""What the engine tests run: the same checks on every engine, and batch functions that fail
or kill the worker process they run in (pickled by reference: workers import this module)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa

import mns
from mns.aggregate import Measure, Spec
from mns.analyses import crosstab, match, profile
from mns.errors import MnsError
from mns.plan import Plan

#: Indicators profiled by the checks (a flag with nulls, a category).
INDICATORS = ("cin.1A", "cin.4B", "cin.primary_need")
#: A partial-aggregate job the fault and cluster tests run, and the columns it reads.
SPECS = {
    "x": Spec(
        keys=("la", "sex"),
        measures=(
            Measure("n", "count"),
            Measure("age", "sum", "age"),
            Measure("f", "true", "cin.1A"),
        ),
    )
}
COLUMNS = ["la", "sex", "age", "cin.1A"]


def checks(
    cases: Any, plan: Plan, services: pa.Table | None, engine: Any = None
) -> dict[str, pa.Table]:
    """The suite of checks: classification counts by authority, a weighted profile (float
    sums), a crosstab, and with ``services`` the profile of the need groups and matching
    needs with services. ``cases``: a table or a dataset; ``engine``: as analyses take it."""
    classified = mns.classify(cases, plan)
    out = {
        "need_groups": crosstab(classified, "need_group", "la", plan=plan, engine=engine),
        "weighted": profile(
            cases,
            by="cohort",
            indicators=INDICATORS,
            weighting=mns.Weighting.sampled(0.2),
            engine=engine,
        ),
        "crosstab": crosstab(cases, "sex", "cohort", engine=engine),
    }
    if services is not None:
        out["profile"] = profile(classified, indicators=INDICATORS, plan=plan, engine=engine)
        out["match"] = _match(classified, services, plan, engine)
    return out


def _match(classified: Any, services: pa.Table, plan: Plan, engine: Any) -> pa.Table:
    """``mns.match`` takes its engine from the context (it has no ``engine=`` argument)."""
    if engine is None:
        return match(classified, services, plan=plan)
    with mns.engines.use(engine):
        return match(classified, services, plan=plan)


FLOATS = ("share", "share_low", "share_high", "estimate")


def assert_same(got: pa.Table, want: pa.Table, *, exact_floats: bool = True) -> None:
    """The same table: the same schema and values; float columns of weighted estimates to
    rounding when ``exact_floats`` is false (float sums depend on how rows were split)."""
    assert got.schema.equals(want.schema, check_metadata=True), (got.schema, want.schema)
    if exact_floats:
        assert got.equals(want), _first_difference(got, want)
        return
    for name in got.column_names:
        a, b = got.column(name).to_pylist(), want.column(name).to_pylist()
        if name in FLOATS:
            assert len(a) == len(b)
            for x, y in zip(a, b, strict=True):
                assert (x is None) == (y is None), (name, x, y)
                if x is not None:
                    assert abs(x - y) <= 1e-9 * max(1.0, abs(y)), (name, x, y)
        else:
            assert a == b, (name, _first_difference(got, want))


def _first_difference(got: pa.Table, want: pa.Table) -> str:
    if got.num_rows != want.num_rows:
        return f"{got.num_rows} rows, expected {want.num_rows}"
    for name in got.column_names:
        a, b = got.column(name).to_pylist(), want.column(name).to_pylist()
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return f"column {name!r} row {i}: {x!r}, expected {y!r}"
    return "equal values (schema metadata differs?)"


@attrs.frozen
class DieOnce:
    """A ``prepare`` that kills the worker process it first runs in (once: ``marker`` records
    it), and then passes batches through. It refuses to run in the test process itself."""

    marker: str
    parent: int = attrs.field(factory=os.getpid)

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if os.getpid() == self.parent:
            raise AssertionError("DieOnce runs only in worker processes")
        try:
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return batch
        os.close(fd)
        os._exit(3)


@attrs.frozen
class AlwaysDie:
    """A ``prepare`` that kills every worker process it runs in."""

    parent: int = attrs.field(factory=os.getpid)

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if os.getpid() == self.parent:
            raise AssertionError("AlwaysDie runs only in worker processes")
        os._exit(3)


@attrs.frozen
class Refuse:
    """A ``prepare`` that raises a data error (as an analysis does for a bad value)."""

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        raise MnsError("weights column 'w' has weight -1.0; weights must be positive", field="w")


def marker(folder: Path) -> str:
    return str(folder / "died-once")


@attrs.frozen
class Slow:
    """A ``prepare`` that takes ``seconds`` over each batch (a run long enough to be cut)."""

    seconds: float

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        import time

        time.sleep(self.seconds)
        return batch
