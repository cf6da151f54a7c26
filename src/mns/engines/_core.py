"""The engine machinery every engine shares: what a run ships to workers (a :class:`Job`), the
pieces it is cut into, what a worker computes for one piece, how the client merges the
results, and which engine is in force.

A run of :func:`run` over a dataset, or under an engine other than ``"local"``,
comes here. The source is cut into **pieces** that do not depend on the engine (a file of a
dataset; a slice of a table; a batch of a stream); each piece's partial states are computed by
:func:`compute` wherever the engine puts it; the client merges the results **in piece order**,
exactly as :func:`run` merges batches, and finalises once. So every engine gives
the same table, bit for bit, for the same source, and a result is returned only when every
piece's result has arrived: never a partial table.
"""

from __future__ import annotations

import abc
import contextlib
import contextvars
import hashlib
import importlib
import math
import os
import pickle
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Final, TypeAlias

import attrs
import pyarrow as pa

from mns import _tables, aggregate
from mns._tables import TableLike
from mns.errors import EngineError, MnsError, give

if TYPE_CHECKING:
    from typing import Self

    from mns.engines._dataset import Dataset, File, Reader

__all__ = [
    "DEFAULT_TIMEOUT",
    "ENGINES",
    "Engine",
    "EngineError",
    "EngineLike",
    "Job",
    "Piece",
    "Result",
    "compute",
    "current",
    "distributes",
    "get",
    "run",
    "use",
]

#: The engines by name.
ENGINES: Final = ("local", "processes", "dask")
#: Rows of a table (or of a stream) shipped to a worker as one piece.
PIECE_ROWS: Final = _tables.MAX_BATCH_ROWS
#: Partial states held before they are merged (as :func:`run` does).
MERGE_EVERY: Final = 32
#: Seconds an engine with workers elsewhere waits for the next result (or for a worker)
#: before it gives up with :class:`EngineError`, unless given another ``timeout``.
DEFAULT_TIMEOUT: Final = 600.0


# --------------------------------------------------------------------------------------
# What a run ships and what comes back


@attrs.frozen(kw_only=True, eq=False)
class Job:
    """What every piece of one run is computed with: the analysis's partial aggregates
    (``specs``), what is added to each batch (``prepare``), the columns read, and for a
    dataset how its files are read (``reader``: filesystem, columns, filter, steps). The same
    for every piece of the run: an engine ships it once to each worker."""

    specs: Mapping[str, aggregate.Spec]
    prepare: aggregate.Prepare | None = None
    columns: tuple[str, ...] | None = None  #: the columns the analysis reads
    what: str = "table"
    reader: Reader | None = None  #: how the files of a dataset are read (None: data pieces)


@attrs.frozen(kw_only=True, eq=False)
class Piece:
    """One unit of work: files of a dataset (read by the worker), or rows shipped with it.
    Files travel as plain :class:`~mns.engines.File` descriptions (path, size, partition
    values), never as open pyarrow objects: a scheduler forwarding the piece reads nothing."""

    name: str  #: the files, or which rows: for errors
    files: tuple[File, ...] = ()  #: files of a dataset, read in turn by :attr:`Job.reader`
    batch: pa.RecordBatch | None = None


@attrs.frozen(kw_only=True, eq=False)
class Result:
    """The partial states of one piece (``None``: the piece had no rows) and the types of the
    columns seen, in the order seen."""

    index: int
    states: Mapping[str, pa.Table | None]
    key_types: Mapping[str, pa.DataType]
    rows: int


def _piece_batches(job: Job, piece: Piece) -> Iterator[pa.RecordBatch]:
    if piece.batch is not None:
        yield piece.batch
        return
    assert job.reader is not None, "a piece of files needs the dataset's reader"
    yield from job.reader.batches(piece.files)


def _note_types(key_types: dict[str, pa.DataType], ready: aggregate.Prepared) -> None:
    """The types of a prepared batch's columns, for the keys of a state with no rows."""
    for part in aggregate.prepared_batches(ready):
        for field in part.schema:
            key_types.setdefault(field.name, field.type)


def compute(job: Job, index: int, piece: Piece) -> Result:
    """The partial states of ``job``'s specs over one piece: what a worker runs. The batches
    of the piece are merged as :func:`run` merges them."""
    held: dict[str, list[pa.Table]] = {name: [] for name in job.specs}
    key_types: dict[str, pa.DataType] = {}
    rows = 0
    try:
        for batch in _tables.batches(_piece_batches(job, piece), job.columns, what=job.what):
            ready = job.prepare(batch) if job.prepare is not None else batch
            rows += batch.num_rows
            _note_types(key_types, ready)
            for name, state in aggregate.partials(job.specs, ready).items():
                states = held[name]
                states.append(state)
                if len(states) >= MERGE_EVERY:
                    held[name] = [aggregate.merge(job.specs[name], states)]
    except MnsError as exc:
        if exc.file is None:
            exc.file = piece.name
        raise
    except (pa.ArrowException, OSError) as exc:
        raise MnsError(f"{piece.name}: {_first_line(exc)}", file=piece.name) from exc
    finally:
        # the allocator keeps a thread's freed pages for reuse: a piece's batches are gone,
        # so give them back (resident memory then stays that of one piece per worker)
        pa.default_memory_pool().release_unused()
    states_out: dict[str, pa.Table | None] = {}
    for name, states in held.items():
        if not states:
            states_out[name] = None
        elif len(states) == 1:
            states_out[name] = states[0]
        else:
            states_out[name] = aggregate.merge(job.specs[name], states)
    return Result(index=index, states=states_out, key_types=key_types, rows=rows)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# --------------------------------------------------------------------------------------
# Shipping a job to other processes


@attrs.frozen(kw_only=True, eq=False)
class Payload:
    """A pickled :class:`Job` and a token naming it (workers unpickle each job once)."""

    token: str
    data: bytes


def dumps(job: Job, engine: str) -> Payload:
    """``job`` pickled for other processes: by the standard library when it can, else by
    cloudpickle (installed with ``mns[dask]``), which also pickles the closures analyses use
    to prepare batches."""
    try:
        data = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, AttributeError, TypeError) as exc:
        try:
            cloudpickle: Any = importlib.import_module("cloudpickle")
        except ImportError:
            raise EngineError(
                f"engine {engine!r}: what this analysis runs on each batch cannot be pickled by "
                f"the standard library ({_first_line(exc)}); install mns[dask] (which brings "
                f"cloudpickle) or {give('engine', repr('local'))}",
                engine=engine,
                reason="setup",
            ) from exc
        try:
            data = cloudpickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as inner:
            raise EngineError(
                f"engine {engine!r}: the run cannot be shipped to workers: {_first_line(inner)}",
                engine=engine,
                reason="setup",
            ) from inner
    token = hashlib.sha256(data).hexdigest()[:16] + uuid.uuid4().hex[:8]
    return Payload(token=token, data=data)


_JOBS: dict[str, Job] = {}  # in a worker: the jobs unpickled lately, by token
_KEEP_JOBS: Final = 4


def load(payload: Payload) -> Job:
    """The job of ``payload``, unpickled once per worker process."""
    job = _JOBS.get(payload.token)
    if job is None:
        job = pickle.loads(payload.data)  # noqa: S301 (the client's own job, never user data)
        assert isinstance(job, Job)
        while len(_JOBS) >= _KEEP_JOBS:
            del _JOBS[next(iter(_JOBS))]
        _JOBS[payload.token] = job
    return job


def remote(payload: Payload, index: int, piece: Piece) -> Result:
    """What a process or Dask worker runs for one piece. An error that would not survive the
    trip back to the client (an exception class that cannot be unpickled) is sent back as an
    :class:`~mns.errors.MnsError` with the same message."""
    try:
        return compute(load(payload), index, piece)
    except Exception as exc:
        if _round_trips(exc):
            raise
        raise MnsError(f"{piece.name}: {type(exc).__name__}: {exc}", file=piece.name) from None


def _round_trips(exc: BaseException) -> bool:
    try:
        pickle.loads(pickle.dumps(exc))  # noqa: S301 (our own exception object)
    except Exception:
        return False
    return True


# --------------------------------------------------------------------------------------
# Engines


def check_timeout(timeout: float | None, who: str) -> float | None:
    """``timeout`` checked: a positive number of seconds, or None (no limit)."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"{who}: timeout must be a number of seconds or None, not {timeout!r}")
    if not timeout > 0 or math.isnan(timeout):
        raise ValueError(f"{who}: timeout = {timeout!r} must be more than 0 seconds (or None)")
    return float(timeout)


class Timer:
    """Seconds since the last progress, against a limit (None: no limit)."""

    def __init__(self, limit: float | None) -> None:
        self.limit = limit
        self._since = time.monotonic()

    def restart(self) -> None:
        """Progress was made: count from now."""
        self._since = time.monotonic()

    def left(self) -> float:
        """Seconds left (infinity without a limit)."""
        if self.limit is None:
            return math.inf
        return max(0.0, self.limit - (time.monotonic() - self._since))

    def expired(self) -> bool:
        """Whether the limit has passed since the last progress."""
        return self.limit is not None and self.left() <= 0.0


class Engine(abc.ABC):
    """Where the pieces of a run are computed: subclass it to run mns on another system.

    An engine is a context manager: resources (a process pool, a cluster) are started by
    :meth:`open` and released by :meth:`close`; a run given an engine that is not open opens
    it for the run and closes it afterwards. A subclass sets :attr:`name`, implements
    :attr:`workers` and :meth:`map` (call :func:`compute` on each piece, wherever the engine
    puts it), and may override :meth:`_start` and :meth:`_stop`. ``timeout``: the longest,
    in seconds, the engine waits for the next result before it raises :class:`EngineError`
    (None: no limit); an engine whose work cannot hang may ignore it."""

    name: ClassVar[str]

    def __init__(self, *, timeout: float | None = None) -> None:
        self._open = False
        self.timeout = check_timeout(timeout, type(self).__name__)

    @property
    def is_open(self) -> bool:
        """Whether the engine's resources are started."""
        return self._open

    @property
    @abc.abstractmethod
    def workers(self) -> int:
        """How many pieces are computed at once."""

    def open(self) -> Self:
        """Start the engine's resources (once)."""
        if not self._open:
            self._start()
            self._open = True
        return self

    def close(self) -> None:
        """Release the engine's resources (the engine may be opened again)."""
        if self._open:
            self._open = False
            self._stop()

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> None:  # noqa: B027 (engines without resources need nothing)
        """Start resources."""

    def _stop(self) -> None:  # noqa: B027
        """Release resources."""

    @abc.abstractmethod
    def map(self, job: Job, pieces: Iterable[tuple[int, Piece]]) -> Iterator[Result]:
        """``compute(job, index, piece)`` of every ``(index, piece)``, yielded in any order
        as they finish; pieces may be taken lazily (a stream's rows are read as they are
        taken). Raise :class:`EngineError` for a failure of the engine itself (a worker
        lost, a timeout) rather than leave a piece out; an error raised by :func:`compute`
        (bad data) is raised as it is. The caller merges the results in piece order and
        checks that each came exactly once."""

    def __repr__(self) -> str:
        state = "open" if self._open else "closed"
        return f"<mns engine {self.name!r}, {self.workers} workers, {state}>"


#: What ``engine=`` accepts: a name (:data:`ENGINES`, ``"dask:ADDRESS"``, a plugin's engine;
#: see :func:`get`), an :class:`Engine`, a ``distributed.Client``, or None (the engine of the
#: enclosing :func:`use` block, else local).
EngineLike: TypeAlias = Any

_CURRENT: contextvars.ContextVar[Engine | None] = contextvars.ContextVar("mns_engine", default=None)


def current() -> Engine | None:
    """The engine set by the innermost :func:`use` block, if any."""
    return _CURRENT.get()


def _is_client(value: object) -> bool:
    return type(value).__module__.startswith("distributed") and type(value).__name__ == "Client"


def get(
    engine: EngineLike,
    *,
    client: Any = None,
    workers: int | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> Engine:
    """An engine from its name, an engine (as is), or a ``distributed.Client`` (a Dask
    engine on it). Names: ``"local"``, ``"processes"``, ``"dask"``, ``"dask:ADDRESS"`` (the
    scheduler at ``ADDRESS``, e.g. ``"dask:tcp://10.0.0.5:8786"``), or the name of an engine
    an installed plugin provides (``"name"`` or ``"name:target"``, see
    :class:`~mns.plugins.engine.EngineFactory`). ``client``: the Dask client to run on
    (default: a LocalCluster started for the engine); ``workers``: threads (local),
    processes (processes), LocalCluster workers (dask) or what the plugin makes of it;
    ``timeout``: the longest wait for a result, in seconds (None: no limit; the local engine
    has nothing to wait for)."""
    if isinstance(engine, Engine):
        return engine
    if _is_client(engine):
        client, engine = engine, "dask"
    if not isinstance(engine, str):
        raise TypeError(
            f"engine must be a name, an mns engine or a distributed.Client, not "
            f"{type(engine).__name__}"
        )
    name, colon, target = engine.partition(":")
    if colon and not target:
        raise ValueError(f"engine {engine!r}: nothing follows the colon (give 'name:target')")
    if name in ("local", "processes") and colon:
        raise ValueError(f"engine {engine!r}: the {name} engine takes no address")
    if name == "local":
        from mns.engines.local import Local

        return Local(threads=workers)
    if name == "processes":
        from mns.engines.processes import Processes

        return Processes(workers=workers, timeout=timeout)
    if name == "dask":
        from mns.engines.dask import Dask

        if colon and client is not None:
            raise ValueError(f"engine {engine!r}: give the scheduler's address or a client")
        return Dask(client=client, workers=workers, address=target or None, timeout=timeout)
    return _plugin_engine(name, target or None, workers=workers, timeout=timeout)


def _plugin_engine(
    name: str, target: str | None, *, workers: int | None, timeout: float | None
) -> Engine:
    """The engine an installed plugin makes for ``name``."""
    from mns.plugins.manager import get_manager

    factory = get_manager().engine(name)  # a ValueError naming every engine
    try:
        made = factory.make(target, workers=workers, timeout=timeout)
    except (TypeError, ValueError, MnsError):
        raise
    except Exception as exc:
        raise EngineError(
            f"engine {name!r} (plugin {factory.plugin!r}) could not be made: "
            f"{type(exc).__name__}: {exc}",
            engine=name,
            reason="setup",
        ) from exc
    if not isinstance(made, Engine):
        raise EngineError(
            f"engine {name!r} (plugin {factory.plugin!r}): its factory returned "
            f"{type(made).__name__}, not an mns.engines.Engine",
            engine=name,
            reason="setup",
        )
    return made


@contextlib.contextmanager
def use(
    engine: EngineLike = "local",
    *,
    client: Any = None,
    workers: int | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> Iterator[Engine]:
    """Run every streaming analysis in the block on ``engine`` (see :func:`get`), started once
    for the block and closed at its end (an engine or client given open stays open)::

        with mns.engines.use("dask", client=client):
            mns.profile(cases)
    """
    chosen = get(engine, client=client, workers=workers, timeout=timeout)
    opened = not chosen.is_open
    chosen.open()
    token = _CURRENT.set(chosen)
    try:
        yield chosen
    finally:
        _CURRENT.reset(token)
        if opened:
            chosen.close()


def _is_dataset(source: object) -> bool:
    from mns.engines._dataset import Dataset

    return isinstance(source, Dataset)


def distributes(source: object, engine: EngineLike = None) -> bool:
    """Whether a run over ``source`` goes through an engine: the source is a dataset, or
    an engine other than ``"local"`` is chosen (by argument, else by :func:`use`)."""
    if _is_dataset(source):
        return True
    chosen = engine if engine is not None else current()
    if chosen is None or chosen == "local":
        return False
    from mns.engines.local import Local

    return not isinstance(chosen, Local)


# --------------------------------------------------------------------------------------
# Running


def _pieces(source: TableLike, job: Job) -> tuple[Job, Iterator[Piece]]:
    """``source`` cut into pieces that do not depend on the engine: the dataset's tasks
    (files put together), else batches of up to :data:`PIECE_ROWS` rows."""
    if _is_dataset(source):
        dataset: Dataset = source  # type: ignore[assignment]
        job = attrs.evolve(job, reader=dataset.reader(job.columns))
        return job, (_files_piece(group) for group in dataset.tasks())
    return job, _stream_pieces(source, job)


def _files_piece(files: Sequence[File]) -> Piece:
    first = files[0].path
    more = len(files) - 1
    name = first if not more else f"{first} and {more} more file{'s' if more > 1 else ''}"
    return Piece(name=name, files=tuple(files))


def _stream_pieces(source: TableLike, job: Job) -> Iterator[Piece]:
    kind = "table" if isinstance(source, pa.Table) else "stream"
    start = 0
    for batch in _tables.batches(source, job.columns, what=job.what):
        end = start + batch.num_rows
        yield Piece(
            name=f"rows {start:,}-{max(end - 1, start):,} of the {job.what} {kind}", batch=batch
        )
        start = end


class _Counted:
    """The pieces, numbered as they are handed to the engine."""

    def __init__(self, pieces: Iterator[Piece]) -> None:
        self._pieces = pieces
        self.count = 0
        self.names: dict[int, str] = {}

    def __iter__(self) -> Iterator[tuple[int, Piece]]:
        for piece in self._pieces:
            index = self.count
            self.names[index] = piece.name
            self.count += 1
            yield index, piece


def combine(
    specs: Mapping[str, aggregate.Spec], results: Iterable[Result], counted: _Counted, engine: str
) -> dict[str, pa.Table]:
    """Merge the results in piece order (holding those that arrive early) and finalise; raise
    :class:`EngineError` if a piece's result is missing or comes twice."""
    held: dict[str, list[pa.Table]] = {name: [] for name in specs}
    key_types: dict[str, pa.DataType] = {}
    early: dict[int, Result] = {}
    done = 0
    for result in results:
        if result.index < done or result.index in early:
            raise EngineError(
                f"engine {engine!r} returned the result of piece {result.index} "
                f"({counted.names.get(result.index, '?')}) twice; no result is returned",
                engine=engine,
                reason="incomplete",
            )
        early[result.index] = result
        while done in early:
            ready = early.pop(done)
            done += 1
            for name, dtype in ready.key_types.items():
                key_types.setdefault(name, dtype)
            for name, spec in specs.items():
                state = ready.states.get(name)
                if state is None:
                    continue
                states = held[name]
                states.append(state)
                if len(states) >= MERGE_EVERY:
                    held[name] = [aggregate.merge(spec, states)]
    if done != counted.count or early:
        missing = [i for i in range(counted.count) if i >= done and i not in early]
        shown = ", ".join(counted.names.get(i, str(i)) for i in missing[:5])
        raise EngineError(
            f"engine {engine!r} returned {done + len(early)} of {counted.count} pieces' results "
            f"(missing: {shown}{', ...' if len(missing) > 5 else ''}); no result is returned "
            "rather than a partial one",
            piece=counted.names.get(missing[0]) if missing else None,
            engine=engine,
            reason="incomplete",
        )
    return {
        name: aggregate.finalise(spec, aggregate.merge(spec, held[name], key_types=key_types))
        for name, spec in specs.items()
    }


def run(
    specs: Mapping[str, aggregate.Spec],
    source: TableLike,
    *,
    prepare: aggregate.Prepare | None = None,
    columns: Sequence[str] | None = None,
    what: str = "table",
    engine: EngineLike = None,
) -> dict[str, pa.Table]:
    """Compute every spec over ``source`` in one pass: ``columns`` are read (all if None),
    ``prepare`` adds derived columns to each batch, then partial states are kept merged as
    they come and finalised at the end. A dataset (:func:`dataset`), or an ``engine`` other
    than ``"local"`` (a name, an engine or a ``distributed.Client``; default the engine of the
    enclosing :func:`use` block), runs on that engine: partial states per file or batch on its
    workers, merged and finalised here. Otherwise the batches are counted in this thread.
    Within :func:`together`, a run on the shared source waits to be answered by its pass."""
    from mns.engines._together import shared_run

    answered = shared_run(specs, source, prepare=prepare, columns=columns, what=what, engine=engine)
    if answered is not None:
        return answered
    if not distributes(source, engine):
        return _run_here(specs, source, prepare=prepare, columns=columns, what=what)
    chosen = get(engine) if engine is not None else (current() or get("local"))
    opened = not chosen.is_open
    job = Job(
        specs=dict(specs),
        prepare=prepare,
        columns=tuple(columns) if columns is not None else None,
        what=what,
    )
    job, pieces = _pieces(source, job)
    counted = _Counted(pieces)
    try:
        chosen.open()
        return combine(job.specs, chosen.map(job, counted), counted, chosen.name)
    finally:
        if opened:
            chosen.close()
        # each worker gave back its own freed pages after each piece, but the allocator
        # (mimalloc) still held some 50 MB per run that only a release from here, once the
        # workers are done, gives back: without it, each run left memory behind
        # (benchmarks/memory.py)
        pa.default_memory_pool().release_unused()


def _run_here(
    specs: Mapping[str, aggregate.Spec],
    source: TableLike,
    *,
    prepare: aggregate.Prepare | None,
    columns: Sequence[str] | None,
    what: str,
) -> dict[str, pa.Table]:
    """:func:`run` in this thread: the batches' partial states merged as they come."""
    states: dict[str, list[pa.Table]] = {name: [] for name in specs}
    key_types: dict[str, pa.DataType] = {}
    for batch in _tables.batches(source, columns, what=what):
        ready = prepare(batch) if prepare is not None else batch
        _note_types(key_types, ready)
        for name, state in aggregate.partials(specs, ready).items():
            held = states[name]
            held.append(state)
            if len(held) >= MERGE_EVERY:
                states[name] = [aggregate.merge(specs[name], held)]
    return {
        name: aggregate.finalise(spec, aggregate.merge(spec, states[name], key_types=key_types))
        for name, spec in specs.items()
    }


def warm(_: object = None) -> int:
    """In a new worker: import what tasks use, so the first task does not pay for it (the
    engines run it when they start). Returns the worker's process id."""
    for name in (
        "pyarrow.dataset",
        "pyarrow.parquet",
        "mns.analyses",
        "mns.classification",
        "mns.engines._dataset",
    ):
        importlib.import_module(name)
    return os.getpid()


def cpu_count() -> int:
    """CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
