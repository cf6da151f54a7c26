"""Engines: where mns computes, from one process to a Dask cluster, with the same results.

Every streaming analysis runs on :mod:`mns.aggregate`'s mergeable partial aggregates. An
engine computes the partial states of the **pieces** of a source (the files of a
:func:`dataset`, else batches of rows) and the client merges them in piece order, so the
result is the same table whatever the engine::

    cases = mns.engines.dataset("returns/", filter={"year": 2024})   # la=.../year=... folders
    mns.profile(mns.classify(cases, plan), engine="processes")

    with mns.engines.use("dask", client=client):                      # or a LocalCluster
        mns.crosstab(cases, "la", "cin.primary_need")

- ``"local"`` (the default): this process; pieces on a few threads (pyarrow releases the GIL).
- ``"processes"``: a standard-library process pool (``spawn``) on this machine.
- ``"dask"``: a ``dask.distributed`` cluster: the ``Client`` you give, or a ``LocalCluster``
  started for the run (``pip install mns[dask]``; imported only when used).

- ``"dask:ADDRESS"``: the Dask scheduler at ``ADDRESS`` (``tcp://host:8786``).
- any other name: an engine an installed plugin provides (hook ``mns_engines``, record
  ``mns.EngineFactory``).

A worker that dies mid-run is retried (processes: ``retries`` times; Dask: by its scheduler)
or the run raises :class:`EngineError`: a partial table is never returned. No worker, a lost
connection or ``timeout`` seconds without a result raise :class:`EngineError` too: a run never
hangs. See ``docs/how-to/run-on-a-cluster.md`` and ``docs/reference/engines.md``.

Writing an engine needs only this module's public names: subclass :class:`Engine`, and in
its :meth:`Engine.map` call :func:`compute` on each :class:`Piece` of a :class:`Job`,
wherever the engine puts it, yielding each :class:`Result`.
"""

from __future__ import annotations

from mns.engines._core import (
    DEFAULT_TIMEOUT,
    ENGINES,
    Engine,
    EngineError,
    EngineLike,
    Job,
    Piece,
    Result,
    compute,
    current,
    distributes,
    get,
    run,
    use,
)
from mns.engines._dataset import Dataset, File, dataset
from mns.engines._together import together
from mns.engines.dask import Dask
from mns.engines.local import Local
from mns.engines.processes import Processes

__all__ = [
    "DEFAULT_TIMEOUT",
    "ENGINES",
    "Dask",
    "Dataset",
    "Engine",
    "EngineError",
    "EngineLike",
    "File",
    "Job",
    "Local",
    "Piece",
    "Processes",
    "Result",
    "compute",
    "current",
    "dataset",
    "distributes",
    "get",
    "run",
    "together",
    "use",
]
