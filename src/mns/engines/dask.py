"""The ``"dask"`` engine: the pieces of a run are tasks on a ``dask.distributed`` cluster.

Dask is an optional extra (``pip install mns[dask]``); it is imported only when this engine
is opened. Give the engine your own ``distributed.Client`` (it stays open), or let it start a
``LocalCluster`` of worker processes on this machine (closed with the engine).

What a run computes is pickled once (cloudpickle, for the closures analyses use) and sent to
the workers as the result of one task, which each worker fetches once; each piece (files of a
dataset, or a batch of rows) is one task whose result, a few small partial states, comes back
to the client to be merged. When a worker dies, the scheduler computes its tasks again on the
others (up to ``distributed.scheduler.allowed-failures`` deaths per task), so the result is
still complete and correct; past that, :class:`~mns.engines.EngineError` names the piece. A
run never returns without every piece's result.
"""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Iterable, Iterator
from typing import Any

from mns.engines._core import (
    Engine,
    EngineError,
    Job,
    Payload,
    Piece,
    Result,
    dumps,
    remote,
    warm,
)

__all__ = ["Dask"]


def _job(payload: Payload) -> Payload:
    return payload


def _distributed() -> Any:
    """``dask.distributed``, imported when first used (never by ``import mns``)."""
    try:
        return importlib.import_module("distributed")
    except ImportError:
        raise EngineError(
            "the 'dask' engine needs dask.distributed: pip install 'mns[dask]'", engine="dask"
        ) from None


class Dask(Engine):
    """Compute on a Dask cluster: ``client`` (a ``distributed.Client``, left open), else a
    ``LocalCluster`` of ``workers`` processes (default 2) with one thread each, started when
    the engine opens and closed with it."""

    name = "dask"

    def __init__(self, client: Any = None, *, workers: int | None = None) -> None:
        super().__init__()
        if workers is not None and workers < 1:
            raise ValueError(f"Dask: workers = {workers} must be 1 or more")
        if client is not None and workers is not None:
            raise ValueError(
                "Dask: give a client or a number of workers for a LocalCluster, not both"
            )
        self._given = client
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
        return max(1, int(sum(self._client.nthreads().values())))

    def _start(self) -> None:
        distributed = _distributed()
        if self._given is not None:
            status = getattr(self._given, "status", "running")
            if status not in ("running", "newly-created", "connecting"):
                raise EngineError(
                    f"the Dask client given is {status}, not running", engine=self.name
                )
            self._given.run(warm)
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
                client.close()
        finally:
            if cluster is not None:
                cluster.close()

    def map(self, job: Job, pieces: Iterable[tuple[int, Piece]]) -> Iterator[Result]:
        client = self._client
        if client is None:
            raise EngineError("the dask engine is not open", engine=self.name)
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
            for future, outcome in flow:
                _, piece, _ = running.pop(future.key)
                if future.status != "finished":
                    self._fail(future, piece)
                future.release()
                yield outcome
                submit(list(itertools.islice(todo, 1)))
        finally:
            if running:
                client.cancel([future for _, _, future in running.values()])
            shipped.release()

    def _fail(self, future: Any, piece: Piece) -> None:
        """Raise the error of a task that did not finish."""
        try:
            future.result()
        except _distributed().KilledWorker as exc:
            raise EngineError(
                f"engine 'dask': the workers computing {piece.name} died too many times "
                "(distributed.scheduler.allowed-failures), so no result is returned. A worker "
                "dies when it is killed or runs out of memory: give each worker more memory or "
                f"use smaller files ({exc})",
                piece=piece.name,
                engine=self.name,
            ) from exc
        except ImportError as exc:
            raise EngineError(
                f"engine 'dask': a worker cannot import what {piece.name} needs ({exc}); install "
                "mns, the same version as here, on every worker",
                piece=piece.name,
                engine=self.name,
            ) from exc
        except Exception as exc:
            if future.status == "error":
                raise  # the task's own error: the same as on the local engine
            raise EngineError(
                f"engine 'dask': the task computing {piece.name} was {future.status} "
                f"({type(exc).__name__}: {exc}), so no result is returned; is the cluster "
                "still running?",
                piece=piece.name,
                engine=self.name,
            ) from exc
        raise EngineError(
            f"engine 'dask': the task computing {piece.name} ended {future.status}; no result "
            "is returned",
            piece=piece.name,
            engine=self.name,
        )
