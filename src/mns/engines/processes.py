"""The ``"processes"`` engine: a standard-library process pool on this machine.

Workers are started with ``spawn`` (safe with threads, and the same on every platform), so a
script that uses this engine must keep its work under ``if __name__ == "__main__":``. What a
run computes is pickled once and sent with each piece; a worker process that dies (killed,
out of memory) breaks the pool: the pool is restarted and the pieces that were running are
computed again, ``retries`` times at most, after which :class:`~mns.engines.EngineError`
names them. A run never returns without every piece's result, and never waits for ever: no
result for ``timeout`` seconds stops the workers and raises :class:`~mns.engines.EngineError`.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from mns.engines._core import (
    DEFAULT_TIMEOUT,
    Engine,
    EngineError,
    Job,
    Payload,
    Piece,
    Result,
    Timer,
    cpu_count,
    dumps,
    remote,
    warm,
)
from mns.errors import give

__all__ = ["Processes"]


def _initialise(threads: int) -> None:
    """In each worker: pyarrow's thread pool sized to the worker's share of the CPUs."""
    import pyarrow as pa

    pa.set_cpu_count(threads)


class Processes(Engine):
    """Compute on ``workers`` processes (default: the CPU count). ``retries``: how many times
    the pieces running when a worker dies are computed again. ``timeout``: the longest wait,
    in seconds, for the next result (None: no limit); past it the workers are stopped (the
    pool is started again for the next run) and the run raises :class:`EngineError`."""

    name = "processes"

    def __init__(
        self,
        workers: int | None = None,
        *,
        retries: int = 1,
        timeout: float | None = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(timeout=timeout)
        if workers is not None and workers < 1:
            raise ValueError(f"Processes: workers = {workers} must be 1 or more")
        if retries < 0:
            raise ValueError(f"Processes: retries = {retries} must be 0 or more")
        self._workers = workers if workers is not None else cpu_count()
        self.retries = retries
        self._pool: ProcessPoolExecutor | None = None

    @property
    def workers(self) -> int:
        return self._workers

    def _new_pool(self) -> ProcessPoolExecutor:
        threads = max(1, cpu_count() // self._workers)
        return ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_initialise,
            initargs=(threads,),
        )

    def _start(self) -> None:
        pool = self._new_pool()
        try:  # start every worker now, so start-up costs are paid (and fail) here
            list(pool.map(warm, range(self._workers)))
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        self._pool = pool

    def _stop(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _restart(self, *, kill: bool = False) -> ProcessPoolExecutor:
        """A new pool in place of the old one; ``kill``: stop the old one's workers (a task
        that does not end would otherwise keep its process)."""
        old, self._pool = self._pool, None
        if old is not None:
            workers = list((getattr(old, "_processes", None) or {}).values()) if kill else []
            old.shutdown(wait=False, cancel_futures=True)
            for process in workers:
                process.kill()
            for process in workers:
                process.join(timeout=10)
        self._pool = self._new_pool()
        return self._pool

    def map(self, job: Job, pieces: Iterable[tuple[int, Piece]]) -> Iterator[Result]:
        if self._pool is None:
            raise EngineError("the processes engine is not open", engine=self.name, reason="setup")
        payload = dumps(job, self.name)
        todo = iter(pieces)
        again: list[tuple[int, Piece]] = []
        attempts: dict[int, int] = {}
        running: dict[Future[Result], tuple[int, Piece]] = {}
        window = 2 * self._workers
        timer = Timer(self.timeout)
        try:
            while True:
                while len(running) < window:
                    item = again.pop(0) if again else next(todo, None)
                    if item is None:
                        break
                    running[self._submit(payload, item)] = item
                if not running:
                    return
                left = None if timer.limit is None else timer.left()
                done, _ = wait(running, timeout=left, return_when=FIRST_COMPLETED)
                if not done:
                    self._timed_out(running, timer)
                timer.restart()
                if any(isinstance(f.exception(), BrokenProcessPool) for f in done):
                    wait(running)  # a broken pool fails every running future: collect them all
                    done = set(running)
                broken: list[tuple[int, Piece]] = []
                for future in sorted(done, key=lambda f: running[f][0]):
                    item = running.pop(future)
                    error = future.exception()
                    if error is None:
                        yield future.result()
                    elif isinstance(error, BrokenProcessPool):
                        broken.append(item)
                    else:
                        raise error
                if broken:
                    self._restart()  # first: the engine stays usable after an error
                    self._retry(broken, attempts)
                    again.extend(broken)
        finally:
            for future in running:
                future.cancel()

    def _timed_out(self, running: dict[Future[Result], tuple[int, Piece]], timer: Timer) -> None:
        """No result within the timeout: stop the workers and say so."""
        names = sorted(running.values(), key=lambda item: item[0])
        self._restart(kill=True)  # the engine stays usable
        raise EngineError(
            f"engine 'processes': no piece finished in {timer.limit:g} s (still running: "
            f"{', '.join(piece.name for _, piece in names[:3])}"
            f"{', ...' if len(names) > 3 else ''}), so the workers were stopped and no result "
            f"is returned; if pieces are this slow, wait longer: {give('timeout', 'SECONDS')}",
            piece=names[0][1].name if names else None,
            engine=self.name,
            reason="timeout",
        )

    def _submit(self, payload: Payload, item: tuple[int, Piece]) -> Future[Result]:
        """Submit one piece; a pool broken since the last run (a worker was killed while
        idle) is restarted first."""
        pool = self._pool
        assert pool is not None
        try:
            return pool.submit(remote, payload, *item)
        except BrokenProcessPool:
            return self._restart().submit(remote, payload, *item)

    def _retry(self, broken: list[tuple[int, Piece]], attempts: dict[int, int]) -> None:
        for index, piece in broken:
            attempts[index] = attempts.get(index, 0) + 1
            if attempts[index] > self.retries:
                tries = attempts[index]
                raise EngineError(
                    f"engine 'processes': a worker process died while computing {piece.name} "
                    f"({tries} time{'s' if tries > 1 else ''}; retries={self.retries}), so no "
                    "result is returned. A worker dies when it is killed or runs out of memory: "
                    "give each worker more memory, use smaller files, or fewer workers",
                    piece=piece.name,
                    engine=self.name,
                    reason="worker-died",
                )
