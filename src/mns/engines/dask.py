"""The ``"dask"`` engine: the pieces of a run are tasks on a ``dask.distributed`` cluster.

Dask is an optional extra (``pip install mns[dask]``); it is imported only when this engine
is opened. Give the engine your own ``distributed.Client`` (it stays open), the ``address`` of
a running scheduler (a client is connected for the engine), or let it start a
``LocalCluster`` of worker processes on this machine (closed with the engine).

What a run computes is pickled once (cloudpickle, for the closures analyses use) and sent to
the workers as the result of one task, which each worker fetches once; each piece (files of a
dataset, described by path, size and partition values, or a batch of rows) is one task whose
result, a few small partial states, comes back to the client to be merged. Neither the client
nor the scheduler opens a file: only the workers read the data. When a worker dies, the
scheduler computes its tasks again on the others (up to
``distributed.scheduler.allowed-failures`` deaths per task), so the result is still complete
and correct; past that, :class:`~mns.engines.EngineError` names the piece. A run never
returns without every piece's result, and never waits for ever: no worker, a lost connection
to the scheduler or ``timeout`` seconds without a result is an :class:`EngineError` too.
"""

from __future__ import annotations

import importlib
import itertools
import time
from collections.abc import Iterable, Iterator
from typing import Any, Final

from mns.engines._core import (
    DEFAULT_TIMEOUT,
    Engine,
    EngineError,
    Job,
    Payload,
    Piece,
    Result,
    Timer,
    dumps,
    remote,
    warm,
)
from mns.errors import give

__all__ = ["Dask"]

#: Seconds between looks at the cluster's health while no result arrives.
CHECK_EVERY: Final = 1.0
#: Seconds between looks for finished tasks.
POLL: Final = 0.02
#: Client states from which no result can come.
_GONE: Final = ("closing", "closed", "failed")


def _job(payload: Payload) -> Payload:
    return payload


class _TaskFailed(Exception):  # noqa: N818 (a carrier, never seen outside this module)
    """A task's own error on its way out of :meth:`Dask.map`, past the handling of the
    errors of talking to the scheduler (a data file's ``OSError`` is not a lost connection)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _distributed() -> Any:
    """``dask.distributed``, imported when first used (never by ``import mns``)."""
    try:
        return importlib.import_module("distributed")
    except ImportError:
        raise EngineError(
            "the 'dask' engine needs dask.distributed: pip install 'mns[dask]'",
            engine="dask",
            reason="setup",
        ) from None


class Dask(Engine):
    """Compute on a Dask cluster: ``client`` (a ``distributed.Client``, left open), else the
    scheduler at ``address`` (``"tcp://host:8786"``: a client connected when the engine opens,
    closed with it), else a ``LocalCluster`` of ``workers`` processes (default 2) with one
    thread each, started when the engine opens and closed with it.

    ``timeout``: the longest a run waits, in seconds, for the scheduler to answer, for a
    worker to join (a cluster with none) and for the next task's result; past it, or as soon
    as the connection to the scheduler is lost, the run raises :class:`EngineError`. None
    waits for ever."""

    name = "dask"

    def __init__(
        self,
        client: Any = None,
        *,
        workers: int | None = None,
        address: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(timeout=timeout)
        if workers is not None and workers < 1:
            raise ValueError(f"Dask: workers = {workers} must be 1 or more")
        if sum(x is not None for x in (client, workers, address)) > 1:
            raise ValueError(
                "Dask: give a client, the address of a scheduler, or a number of workers for a "
                "LocalCluster, not more than one of them"
            )
        if address is not None and (not isinstance(address, str) or not address):
            raise ValueError(f"Dask: address = {address!r} must be a scheduler's address")
        self._given = client
        self._address = address
        self._client: Any = client
        self._cluster: Any = None
        self._local_workers = workers if workers is not None else 2

    @property
    def client(self) -> Any:
        """The ``distributed.Client`` runs are submitted to (None until the engine opens)."""
        return self._client

    @property
    def workers(self) -> int:
        if self._client is None:
            return self._local_workers
        try:
            return max(1, int(sum(self._client.nthreads().values())))
        except Exception:  # a cluster gone away: the run will say so
            return 1

    def _start(self) -> None:
        distributed = _distributed()
        if self._given is not None:
            status = getattr(self._given, "status", "running")
            if status not in ("running", "newly-created", "connecting"):
                raise EngineError(
                    f"the Dask client given is {status}, not running",
                    engine=self.name,
                    reason="setup",
                )
            return
        if self._address is not None:
            try:
                self._client = distributed.Client(
                    self._address,
                    timeout=self.timeout if self.timeout is not None else "30s",
                    set_as_default=False,
                )
            except (OSError, TimeoutError) as exc:
                raise EngineError(
                    f"engine 'dask': cannot connect to the Dask scheduler at {self._address} "
                    f"({type(exc).__name__}: {exc}); is it running, and is the address right "
                    "(tcp://HOST:PORT, as `dask scheduler` prints)?",
                    engine=self.name,
                    reason="connection",
                ) from exc
            return
        self._cluster = distributed.LocalCluster(
            n_workers=self._local_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        self._client = distributed.Client(self._cluster, set_as_default=False)
        self._client.run(warm)

    def _stop(self) -> None:
        if self._given is not None:
            return
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        try:
            if client is not None:
                client.close(timeout=self.timeout if self.timeout is not None else "30s")
        finally:
            if cluster is not None:
                cluster.close()

    def map(self, job: Job, pieces: Iterable[tuple[int, Piece]]) -> Iterator[Result]:
        client = self._client
        if client is None:
            raise EngineError("the dask engine is not open", engine=self.name, reason="setup")
        try:
            yield from self._map(client, job, pieces)
        except _TaskFailed as failed:  # the task's own error (bad data), as it was raised
            raise failed.error from None
        except EngineError:
            raise
        except (OSError, TimeoutError) as exc:  # talking to the scheduler; CommClosedError too
            raise self._gone(f"{type(exc).__name__}: {exc}") from exc

    def _map(self, client: Any, job: Job, pieces: Iterable[tuple[int, Piece]]) -> Iterator[Result]:
        timer = Timer(self.timeout)
        self._await_workers(client, timer)
        payload = dumps(job, self.name)
        # The job is a task's result, not scattered data: if every worker holding it dies,
        # the scheduler computes it again from the task (scattered data would be lost).
        shipped = client.submit(_job, payload, key=f"mns-job-{payload.token}", pure=False)
        todo = iter(pieces)
        running: dict[str, tuple[int, Piece, Any]] = {}
        flow = _distributed().as_completed(loop=client.loop, with_results=True, raise_errors=False)

        def submit(items: list[tuple[int, Piece]]) -> None:
            if not items:
                return
            futures = client.map(
                remote,
                [shipped] * len(items),
                [index for index, _ in items],
                [piece for _, piece in items],
                key=[f"mns-{payload.token}-{index}" for index, _ in items],
                pure=False,
            )
            for (index, piece), future in zip(items, futures, strict=True):
                running[future.key] = (index, piece, future)
            flow.update(futures)

        # Files of a dataset are small to describe: submit them all at once. Rows shipped
        # with their task are submitted a window at a time, to bound the client's memory.
        window = max(4, 4 * self.workers)
        first = list(itertools.islice(todo, window))
        if len(first) == window and all(piece.batch is None for _, piece in first):
            rest = list(todo)
            if all(piece.batch is None for _, piece in rest):
                first.extend(rest)
            else:  # a mix (not made by mns): keep the rest in order, windowed
                todo = iter(rest)
        try:
            submit(first)
            timer.restart()
            while running:
                for future, outcome in self._finished(client, flow, running, timer):
                    _, piece, _ = running.pop(future.key)
                    if future.status != "finished":
                        self._fail(future, piece)
                    future.release()
                    yield outcome
                    timer.restart()  # the caller's merging is not the cluster's time
                    submit(list(itertools.islice(todo, 1)))
        finally:
            if running and client.status not in _GONE:
                client.cancel([future for _, _, future in running.values()])
            if client.status not in _GONE:
                shipped.release()

    def _await_workers(self, client: Any, timer: Timer) -> None:
        """Wait (within the timeout) until the cluster has a worker."""
        while not self._count_workers(client):
            if timer.expired():
                raise EngineError(
                    f"engine 'dask': the cluster has no workers (none joined in "
                    f"{timer.limit:g} s), so nothing can be computed; start workers (`dask worker "
                    f"{client.scheduler.address}`), or wait longer: {give('timeout', 'SECONDS')}",
                    engine=self.name,
                    reason="no-workers",
                )
            time.sleep(min(CHECK_EVERY, timer.left()))

    def _count_workers(self, client: Any) -> int:
        if client.status in _GONE:
            raise self._gone(f"the client is {client.status}")
        return len(client.nthreads())

    def _finished(
        self, client: Any, flow: Any, running: dict[str, Any], timer: Timer
    ) -> list[tuple[Any, Any]]:
        """The tasks finished (with their results), waiting for at least one while the
        connection holds and within the timeout; else :class:`EngineError`."""
        checked = time.monotonic()
        while not flow.has_ready():
            now = time.monotonic()
            if now - checked >= CHECK_EVERY:
                checked = now
                if client.status in _GONE:
                    raise self._gone(f"the client is {client.status}")
            if timer.expired():
                self._stalled(client, running, timer)
            time.sleep(POLL)
        return list(flow.next_batch(block=False))

    def _stalled(self, client: Any, running: dict[str, Any], timer: Timer) -> None:
        """No result within the timeout: say why, as far as the cluster tells."""
        piece = next(iter(running.values()))[1].name if running else None
        workers = self._count_workers(client)
        if not workers:
            raise EngineError(
                f"engine 'dask': the cluster has had no workers for {timer.limit:g} s "
                f"({len(running)} task(s) waiting), so no result is returned; start workers "
                f"(`dask worker {client.scheduler.address}`) and run again",
                piece=piece,
                engine=self.name,
                reason="no-workers",
            )
        raise EngineError(
            f"engine 'dask': no task finished in {timer.limit:g} s ({len(running)} still "
            f"running on {workers} worker(s)), so the run is stopped and no result is "
            f"returned; if tasks are this slow, wait longer ({give('timeout', 'SECONDS')}), or "
            "look at the cluster's dashboard",
            piece=piece,
            engine=self.name,
            reason="timeout",
        )

    def _gone(self, why: str) -> EngineError:
        return EngineError(
            f"engine 'dask': the connection to the Dask scheduler was lost ({why}), so no "
            "result is returned; is the scheduler still running?",
            engine=self.name,
            reason="connection",
        )

    def _fail(self, future: Any, piece: Piece) -> None:
        """Raise the error of a task that did not finish."""
        distributed = _distributed()
        try:
            future.result(timeout=self.timeout)
        except distributed.KilledWorker as exc:
            raise EngineError(
                f"engine 'dask': the workers computing {piece.name} died too many times "
                "(distributed.scheduler.allowed-failures), so no result is returned. A worker "
                "dies when it is killed or runs out of memory: give each worker more memory or "
                f"use smaller files ({exc})",
                piece=piece.name,
                engine=self.name,
                reason="worker-died",
            ) from exc
        except distributed.scheduler.NoWorkerError as exc:
            raise EngineError(
                f"engine 'dask': no worker could compute {piece.name} "
                f"(distributed.scheduler.no-workers-timeout: {exc}), so no result is returned; "
                "start workers, with the resources the tasks need",
                piece=piece.name,
                engine=self.name,
                reason="no-workers",
            ) from exc
        except ImportError as exc:
            raise EngineError(
                f"engine 'dask': a worker cannot import what {piece.name} needs ({exc}); install "
                "mns, the same version as here, on every worker",
                piece=piece.name,
                engine=self.name,
                reason="setup",
            ) from exc
        except Exception as exc:
            if future.status == "error":  # the task's own error: the same as on local
                raise _TaskFailed(exc) from None
            raise EngineError(
                f"engine 'dask': the task computing {piece.name} was {future.status} "
                f"({type(exc).__name__}: {exc}), so no result is returned; is the cluster "
                "still running?",
                piece=piece.name,
                engine=self.name,
                reason="incomplete",
            ) from exc
        raise EngineError(
            f"engine 'dask': the task computing {piece.name} ended {future.status}; no result "
            "is returned",
            piece=piece.name,
            engine=self.name,
            reason="incomplete",
        )
