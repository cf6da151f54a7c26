"""The ``"local"`` engine: one process; the pieces of a run are computed a few at a time on
threads (pyarrow's kernels and Parquet decoding release the GIL)."""

from __future__ import annotations

import collections
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from mns.engines._core import Engine, Job, Piece, Result, compute, cpu_count

__all__ = ["Local"]


class Local(Engine):
    """Compute in this process. ``threads``: pieces computed at once (default: the CPU
    count, at most 4; 1 computes them one after the other)."""

    name = "local"

    def __init__(self, threads: int | None = None) -> None:
        super().__init__()
        if threads is not None and threads < 1:
            raise ValueError(f"Local: threads = {threads} must be 1 or more")
        self.threads = threads

    @property
    def workers(self) -> int:
        return self.threads if self.threads is not None else min(cpu_count(), 4)

    def map(self, job: Job, pieces: Iterable[tuple[int, Piece]]) -> Iterator[Result]:
        threads = self.workers
        if threads <= 1:
            for index, piece in pieces:
                yield compute(job, index, piece)
            return
        pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="mns-local")
        pending: collections.deque[Future[Result]] = collections.deque()
        try:
            for index, piece in pieces:
                pending.append(pool.submit(compute, job, index, piece))
                if len(pending) >= 2 * threads:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
