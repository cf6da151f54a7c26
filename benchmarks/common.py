"""Shared helpers for the benchmarks: timing, peak memory of a tool run in its own process,
and Arrow IPC files so that every tool reads the very same data.

Each tool runs in a fresh subprocess (``python -m benchmarks.<module> --worker ...``) so that
its peak resident memory (``VmHWM``, the high-water mark of its own address space) is its
own; the subprocess reports a JSON line on stdout which :func:`run_worker` returns as a dict.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
from pyarrow import ipc

__all__ = [
    "MIB",
    "peak_rss",
    "read_ipc",
    "reset_peak",
    "run_worker",
    "table_text",
    "time_best",
    "worker_result",
    "write_ipc",
]

MIB = 1024 * 1024
_RESULT = "BENCHMARK-RESULT "


def peak_rss() -> int:
    """This process's peak resident memory, in bytes: since :func:`reset_peak` where Linux
    allows it (``VmHWM``), else since the process started (``ru_maxrss``)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def reset_peak() -> bool:
    """Reset the peak to the current resident memory (Linux ``clear_refs``), so that a later
    :func:`peak_rss` measures what came after, not the loading of the data. False if the
    system does not allow it (the peak then includes everything since the start)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def time_best(fn: Callable[[], Any], repeat: int) -> tuple[float, list[float], Any]:
    """Run ``fn`` ``repeat`` times; the best time, all times (seconds) and the last result."""
    times, result = [], None
    for _ in range(repeat):
        result = None  # free the previous result before the next run
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), times, result


def write_ipc(table: pa.Table, path: Path) -> None:
    """Write ``table`` as an Arrow IPC file."""
    with pa.OSFile(str(path), "wb") as sink, ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def read_ipc(path: Path) -> pa.Table:
    """Read an Arrow IPC file fully into memory (not memory-mapped, so it counts as RSS)."""
    with pa.OSFile(str(path), "rb") as source:
        return ipc.open_file(source).read_all()


def worker_result(**values: Any) -> None:
    """Print a worker's result for :func:`run_worker` to pick up."""
    print(_RESULT + json.dumps(values), flush=True)


def run_worker(
    module: str, args: Sequence[str], env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run ``python -m module *args`` in a fresh process and return its result dict."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    for line in done.stdout.splitlines():
        if line.startswith(_RESULT):
            result: dict[str, Any] = json.loads(line[len(_RESULT) :])
            return result
    raise RuntimeError(
        f"{module} {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-4000:]}"
    )


def table_text(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table with right-aligned columns."""
    cells = [[str(h) for h in header], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
