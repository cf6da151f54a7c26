"""Several analyses, one pass: :func:`together` runs functions of one source side by side and
answers their :func:`~mns.engines.run` calls on that source with one pass over it.

Each function runs in its own thread. A ``run`` on the shared source waits; once every
function is waiting or done, the waiting runs become one run (each run's columns and derived
columns kept apart under a prefix of its own), and each gets its own tables back. A dataset's
files are read, and classified, once for all of them. Functions that run again (one analysis
that needs a second pass) make another round. Analyses need no change: they call ``run`` as
they always do.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import attrs
import pyarrow as pa

from mns import aggregate
from mns._tables import TableLike
from mns.errors import EngineError

__all__ = ["together"]

T = TypeVar("T")

_SEPARATOR = "\x1f"  #: between a run's number and a column name (no column name holds it)


@attrs.define(eq=False)
class _Run:
    """One ``run`` call waiting for the shared pass."""

    specs: Mapping[str, aggregate.Spec]
    prepare: aggregate.Prepare | None
    columns: Sequence[str] | None
    what: str
    engine: Any
    done: bool = False
    result: dict[str, pa.Table] | None = None
    error: BaseException | None = None


@attrs.frozen(eq=False)
class _Prepared:
    """The prepare of a shared pass: each run's columns, through its own prepare, named
    ``<run><separator><column>``, a batch for each run (a run's prepare may return other
    rows: partial counts, say). Runs with equal columns and prepares (capacity's and
    budget's, say) share one prepared batch. It pickles if the runs' prepares do."""

    runs: tuple[tuple[tuple[str, ...] | None, aggregate.Prepare | None], ...]

    def __call__(self, batch: pa.RecordBatch) -> dict[str, pa.RecordBatch]:
        out = {}
        made: list[tuple[Any, pa.RecordBatch]] = []
        for i, run in enumerate(self.runs):
            part = next((done for key, done in made if key == run), None)
            if part is None:
                columns, prepare = run
                ready = batch if columns is None else batch.select(list(columns))
                part = prepare(ready) if prepare is not None else ready
                assert isinstance(part, pa.RecordBatch), "a run's prepare gives one batch"
                made.append((run, part))
            prefix = f"{i}{_SEPARATOR}"
            names = [prefix + name for name in part.schema.names]
            out[prefix] = pa.RecordBatch.from_arrays(part.columns, names=names)
        return out


def _renamed(spec: aggregate.Spec, prefix: str) -> aggregate.Spec:
    return aggregate.Spec(
        keys=tuple(prefix + k for k in spec.keys),
        measures=tuple(
            attrs.evolve(m, column=prefix + m.column if m.column else None) for m in spec.measures
        ),
        ratios=spec.ratios,
    )


def _unprefixed(table: pa.Table, prefix: str) -> pa.Table:
    return table.rename_columns([n.removeprefix(prefix) for n in table.column_names])


def _one_pass(source: TableLike, runs: Sequence[_Run]) -> None:
    """Answer ``runs`` (on the same engine) with one run over ``source``."""
    outside = _SHARED.set(None)  # the pass itself is an ordinary run
    try:
        _answer(source, runs)
    except Exception as exc:
        if len(runs) == 1 or isinstance(exc, EngineError):
            for r in runs:
                r.error = exc
        else:  # whose error is it? each run alone, so that only the runs at fault fail
            for r in runs:
                _one_pass(source, [r])
    except BaseException as exc:  # interrupted: every run of the pass is
        for r in runs:
            r.error = exc
    finally:
        _SHARED.reset(outside)


def _answer(source: TableLike, runs: Sequence[_Run]) -> None:
    from mns.engines._core import run

    first = runs[0]
    if len(runs) == 1:
        first.result = run(
            first.specs,
            source,
            prepare=first.prepare,
            columns=first.columns,
            what=first.what,
            engine=first.engine,
        )
        return
    specs: dict[str, aggregate.Spec] = {}
    for i, r in enumerate(runs):
        prefix = f"{i}{_SEPARATOR}"
        specs.update({prefix + name: _renamed(spec, prefix) for name, spec in r.specs.items()})
    wanted = [r.columns for r in runs]
    read = (
        None
        if any(c is None for c in wanted)
        else list(dict.fromkeys(n for c in wanted for n in c or ()))
    )
    prepared = _Prepared(
        runs=tuple((tuple(r.columns) if r.columns is not None else None, r.prepare) for r in runs)
    )
    tables = run(
        specs, source, prepare=prepared, columns=read, what=first.what, engine=first.engine
    )
    for i, r in enumerate(runs):
        prefix = f"{i}{_SEPARATOR}"
        r.result = {name: _unprefixed(tables[prefix + name], prefix) for name in r.specs}


class _Shared:
    """The source the functions of one :func:`together` share, and their waiting runs."""

    def __init__(self, source: TableLike, parties: int) -> None:
        self.source = source
        self.active = parties  #: functions not yet returned
        self.waiting: list[_Run] = []
        self.changed = threading.Condition()

    def run(self, waiting: _Run) -> dict[str, pa.Table]:
        with self.changed:
            self.waiting.append(waiting)
            self._round()
            while not waiting.done:
                self.changed.wait()
        if waiting.error is not None:
            raise waiting.error
        assert waiting.result is not None
        return waiting.result

    def leave(self) -> None:
        with self.changed:
            self.active -= 1
            self._round()

    def _round(self) -> None:
        """With the lock held: when every function still running waits, run their runs (the
        others are all waiting, so nothing else needs the lock meanwhile)."""
        if not self.waiting or len(self.waiting) < self.active:
            return
        runs, self.waiting = self.waiting, []
        by_engine: dict[int, list[_Run]] = {}
        for r in runs:
            by_engine.setdefault(id(r.engine), []).append(r)
        for same in by_engine.values():
            _one_pass(self.source, same)
        for r in runs:
            r.done = True
        self.changed.notify_all()


_SHARED: contextvars.ContextVar[_Shared | None] = contextvars.ContextVar(
    "mns_engines_together", default=None
)


def shared_run(
    specs: Mapping[str, aggregate.Spec],
    source: object,
    *,
    prepare: aggregate.Prepare | None,
    columns: Sequence[str] | None,
    what: str,
    engine: Any,
) -> dict[str, pa.Table] | None:
    """Inside :func:`together`, a run on the shared source, answered by the shared pass;
    else None (the caller runs it)."""
    shared = _SHARED.get()
    if shared is None or source is not shared.source:
        return None
    return shared.run(_Run(specs=specs, prepare=prepare, columns=columns, what=what, engine=engine))


def together(source: TableLike, calls: Mapping[str, Callable[[Any], T]]) -> dict[str, T]:
    """``{name: call(source)}``, with every :func:`~mns.engines.run` the calls make on
    ``source`` itself shared: the calls run side by side, and their runs are answered together,
    one pass over ``source`` a round. ``source`` is a table or a dataset
    (:func:`~mns.engines.dataset`, classified or not), read as many times as there are rounds,
    not as many as there are runs. Runs on anything else (another table, a filtered copy of
    the dataset) run as usual. The first call to raise (in ``calls`` order) raises here, after
    every call has ended. Each call runs in a copy of the caller's context (so an enclosing
    :func:`~mns.engines.use` applies)::

        classified = mns.classify(mns.engines.dataset("cases/"), plan)
        out = mns.engines.together(classified, {
            "profile": lambda cases: mns.profile(cases, plan=plan),
            "by_la": lambda cases: mns.crosstab(cases, "need_group", "la"),
        })
    """
    if isinstance(source, pa.RecordBatchReader) or not hasattr(source, "schema"):
        raise TypeError(
            "together() reads its source once a round: give a Table or a dataset, "
            f"not {type(source).__name__}"
        )
    shared = _Shared(source, len(calls))

    def call(fn: Callable[[Any], T]) -> T:
        _SHARED.set(shared)
        try:
            return fn(source)
        finally:
            shared.leave()

    if not calls:
        return {}
    with ThreadPoolExecutor(len(calls), thread_name_prefix="mns-together") as pool:
        futures = {
            name: pool.submit(contextvars.copy_context().run, call, fn)
            for name, fn in calls.items()
        }
    return {name: future.result() for name, future in futures.items()}
