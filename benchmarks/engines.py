"""Benchmark: the same national analysis on the three engines, side by side.

10 million synthetic cases (``mns.synth``) in 20 Parquet files are classified with the demo
plan and analysed twice, as a researcher would: the profile of every need group (every
indicator) and the need groups by local authority. Each engine runs the same code on the same
files; the benchmark prints, for each, the start-up (a process pool, a Dask LocalCluster), the
time of each analysis, the total, the ratio to the local engine, and whether its tables are
identical to the local engine's (they must be: ``Table.equals``, bit for bit). Then what
planning a run costs the client (bytes and read calls to group the files into tasks: one
listing and one footer, not every file's), and, with ``--runs N``, the memory of the Dask
client and its scheduler (one process with a ``LocalCluster``) after each of N runs of the
same analysis: flat, since tasks carry file descriptions, not pyarrow fragments.

    python -m benchmarks.engines                    # 10,000,000 cases in 20 files
    python -m benchmarks.engines --cases 1000000    # a developer run
    python -m benchmarks.engines --clean            # delete the data afterwards
    python -m benchmarks.engines --runs 10          # the scheduler's memory over 10 runs

The files are written once under ``benchmarks/data/`` (git-ignored) and reused when present.
Every engine gets ``--workers`` workers (default: the CPU count): ``local`` as threads,
``processes`` as a process pool, ``dask`` as a LocalCluster of one-thread worker processes.
CI never runs this: timings are not tests.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

import mns
from benchmarks.common import peak_rss, table_text
from mns.analyses import crosstab, profile
from mns.engines import Dask, Engine, Local, Processes

SEED = 2024
DATA = Path(__file__).resolve().parent / "data"
DONE = "_COMPLETE"  # written last; files starting with "_" are not read as data


def folder_for(cases: int, files: int) -> Path:
    return DATA / f"engines-{cases}-{files}"


def generate(cases: int, files: int) -> Path:
    """``cases`` synthetic cases in ``files`` Parquet files (reused when already written)."""
    folder = folder_for(cases, files)
    if (folder / DONE).exists():
        print(f"reusing {folder}", flush=True)
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    per_file = -(-cases // files)
    start = time.perf_counter()
    stream = mns.synth.batches(cases, seed=SEED, batch_size=per_file)
    for i, batch in enumerate(stream):
        pq.write_table(pa.Table.from_batches([batch]), folder / f"part-{i:02d}.parquet")
        print(f"  wrote file {i + 1} of {files}", end="\r", flush=True)
    (folder / DONE).write_text(f"{cases} cases in {files} files\n", "utf-8")
    print(
        f"wrote {cases:,} cases in {files} files in {time.perf_counter() - start:.1f} s", flush=True
    )
    return folder


def engine_for(name: str, workers: int) -> Engine:
    if name == "local":
        return Local(threads=workers)
    if name == "processes":
        return Processes(workers=workers)
    return Dask(workers=workers)


def _peak_rss(_: object = None) -> int:
    return peak_rss()


def peak_memory(engine: Engine) -> str:
    """The peak resident memory of the largest worker (Dask: asked of each worker; local:
    this process, client included); the process pool's workers cannot be asked: "-"."""
    if isinstance(engine, Dask):
        return f"{max(engine.client.run(_peak_rss).values()) / 2**20:,.0f}"
    if isinstance(engine, Local):
        return f"{_peak_rss() / 2**20:,.0f}"
    return "-"


def run(name: str, folder: Path, plan: Any, workers: int) -> dict[str, Any]:
    """Open the engine, run the analyses, close it: the times and the tables."""
    engine = engine_for(name, workers)
    start = time.perf_counter()
    engine.open()
    opened = time.perf_counter()
    try:
        cases = mns.classify(mns.engines.dataset(folder), plan)
        times: dict[str, float] = {}
        tables: dict[str, pa.Table] = {}
        began = time.perf_counter()
        tables["profile"] = profile(cases, plan=plan, engine=engine)
        times["profile"] = time.perf_counter() - began
        began = time.perf_counter()
        tables["crosstab"] = crosstab(cases, "need_group", "la", plan=plan, engine=engine)
        times["crosstab"] = time.perf_counter() - began
        memory = peak_memory(engine)
    finally:
        closing = time.perf_counter()
        engine.close()
        closed = time.perf_counter()
    return {
        "start-up": opened - start,
        **times,
        "close": closed - closing,
        "total": closed - start,
        "memory": memory,
        "tables": tables,
    }


def planning(folder: Path) -> str:
    """What grouping the files into tasks reads (Linux: /proc/self/io), on a fresh dataset."""
    data = mns.engines.dataset(folder, schema="first")
    before = _io()
    tasks = data.tasks()
    after = _io()
    if before is None or after is None:
        return f"planning: {len(tasks)} tasks"
    return (
        f"planning: {len(data.files)} files -> {len(tasks)} tasks, "
        f"{after[1] - before[1]:,} bytes in {after[0] - before[0]} read calls"
    )


def _io() -> tuple[int, int] | None:
    try:
        text = Path("/proc/self/io").read_text("ascii")
    except OSError:
        return None
    fields = dict(line.split(": ") for line in text.splitlines())
    return int(fields["syscr"]), int(fields["rchar"])


def repeated(folder: Path, plan: Any, workers: int, runs: int) -> list[float]:
    """The client's (and LocalCluster scheduler's) RSS in MiB after each of ``runs`` runs."""
    import psutil

    me = psutil.Process()
    cases = mns.classify(mns.engines.dataset(folder), plan)
    sizes = []
    with Dask(workers=workers) as engine:
        for _ in range(runs):
            crosstab(cases, "need_group", "la", plan=plan, engine=engine)
            sizes.append(me.memory_info().rss / 2**20)
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000_000)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--workers", type=int, default=mns.engines._core.cpu_count())
    parser.add_argument("--engines", nargs="+", default=list(mns.engines.ENGINES))
    parser.add_argument("--clean", action="store_true", help="delete the data afterwards")
    parser.add_argument("--runs", type=int, default=0, help="Dask runs to measure memory over")
    args = parser.parse_args(argv)
    from mns.demo import plan_path
    from mns.plan import load_plan

    folder = generate(args.cases, args.files)
    plan = load_plan(plan_path())
    data = mns.engines.dataset(folder)
    size = sum(p.stat().st_size for p in folder.glob("*.parquet"))
    print(
        f"engines: {data.count_rows():,} cases in {len(data.files)} files "
        f"({size / 2**20:,.0f} MiB), {len(data.tasks())} tasks, {args.workers} workers; the "
        "profile of every need group and need groups by authority, classified as they are read",
        flush=True,
    )
    results: dict[str, dict[str, Any]] = {}
    for name in args.engines:
        print(f"running {name} ...", flush=True)
        results[name] = run(name, folder, plan, args.workers)
    reference = results.get("local") or next(iter(results.values()))
    rows = [
        [f"{label} (s)", *(f"{r[label]:.2f}" for r in results.values())]
        for label in ("start-up", "profile", "crosstab", "close", "total")
    ]
    rows.append(["peak RSS per worker (MiB)", *(r["memory"] for r in results.values())])
    rows.append(
        ["total vs local", *(f"{r['total'] / reference['total']:.2f}x" for r in results.values())]
    )
    work = {name: r["profile"] + r["crosstab"] for name, r in results.items()}
    base = work.get("local") or next(iter(work.values()))
    rows.append(["analyses vs local", *(f"{w / base:.2f}x" for w in work.values())])
    same = []
    for r in results.values():
        equal = all(r["tables"][k].equals(reference["tables"][k]) for k in reference["tables"])
        same.append("yes" if equal else "NO")
    rows.append(["identical tables", *same])
    print()
    print(table_text(["", *results], rows))
    print(planning(folder))
    if args.runs:
        sizes = repeated(folder, plan, args.workers, args.runs)
        curve = " ".join(f"{m:,.0f}" for m in sizes)
        print(
            f"client + scheduler RSS (MiB) after each of {args.runs} runs: {curve} "
            f"(growth after the first: {sizes[-1] - sizes[0]:+,.1f} MiB)"
        )
    if args.clean:
        shutil.rmtree(folder)
        print(f"deleted {folder}")
    return 0 if all(s == "yes" for s in same) else 1


if __name__ == "__main__":
    sys.exit(main())
