"""Benchmark: peak memory streaming from Parquet, from 1 to 30 million cases (target: flat,
under 300 MB).

Synthetic cases (``mns.synth``) are written once as Parquet files of 500,000 cases each; each
size reads the first of them as a dataset (``mns.engines.dataset``), classifies it with the
demo plan as it is read, and runs, on the local engine, every analysis that needs only the
cases: profile, crosstab, areas, extrapolate, capacity, budget, compare and teams. Each size
runs in a fresh process, so its peak resident memory (``VmHWM``) is its own; the table gives
the cases, the files, the peak, the analysis during which it was reached, the seconds, and
whether the target holds. ``--pool`` runs the workers with ``ARROW_DEFAULT_MEMORY_POOL`` set
(``mimalloc``, ``jemalloc`` or ``system``; default: pyarrow's own choice, mimalloc in the
wheels measured): pyarrow picks its pool as it loads, so only the environment can change it.

    python -m benchmarks.memory                       # 1M, 3M, 10M and 30M cases
    python -m benchmarks.memory --sizes 1 10          # millions of cases
    python -m benchmarks.memory --clean               # delete the data afterwards
    python -m benchmarks.memory --pool jemalloc       # another Arrow memory pool

The files are written once under ``benchmarks/data/`` (git-ignored), one at a time (memory
stays at one file's cases), and reused when present: 30 million cases take several minutes to
write the first time. Timings on a shared machine are indicative; CI never runs this.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.common import MIB, peak_rss, reset_peak, run_worker, table_text, worker_result

SEED = 2024
DATA = Path(__file__).resolve().parent / "data"
FOLDER = DATA / "memory"
DONE = "_COMPLETE"  # the cases written, written last; files starting with "_" are not data
FILE_CASES = 500_000
TARGET_MIB = 300
SIZES = (1.0, 3.0, 10.0, 30.0)
POOLS = ("mimalloc", "jemalloc", "system")


def generate(cases: int) -> None:
    """At least ``cases`` synthetic cases in files of :data:`FILE_CASES` (reused when present;
    the first cases are the same whatever the total, so smaller sizes read the first files)."""
    done = FOLDER / DONE
    if done.exists() and int(done.read_text("utf-8").split()[0]) >= cases:
        return
    import mns

    shutil.rmtree(FOLDER, ignore_errors=True)
    FOLDER.mkdir(parents=True)
    start = time.perf_counter()
    files = -(-cases // FILE_CASES)
    stream = mns.synth.batches(files * FILE_CASES, seed=SEED, batch_size=FILE_CASES)
    for i, batch in enumerate(stream):
        pq.write_table(pa.Table.from_batches([batch]), FOLDER / f"part-{i:04d}.parquet")
        print(f"  wrote file {i + 1} of {files}", end="\r", flush=True)
    done.write_text(f"{files * FILE_CASES} cases\n", "utf-8")
    seconds = time.perf_counter() - start
    print(f"wrote {files * FILE_CASES:,} cases in {files} files in {seconds:.0f} s", flush=True)


def analyses(cases: Any, plan: Any) -> dict[str, Callable[[], Any]]:
    """Every analysis that reads only the cases, by name, as a researcher would call it."""
    import mns

    census = mns.Weighting.census()
    population = mns.synth.population(seed=SEED)
    return {
        "profile": lambda: mns.profile(cases, plan=plan),
        "crosstab": lambda: mns.crosstab(cases, "need_group", "la", plan=plan),
        "areas": lambda: mns.areas(cases, population, plan=plan),
        "extrapolate": lambda: mns.extrapolate(cases, weighting=census, plan=plan),
        "capacity": lambda: mns.capacity(cases, plan=plan, weighting=census),
        "budget": lambda: mns.budget(cases, plan=plan, weighting=census),
        "compare": lambda: mns.compare(cases, cases, plan=plan, weighting=census),
        "teams": lambda: mns.teams(cases, plan=plan),
    }


def worker(cases: int) -> None:
    """In a fresh process: classify + every analysis over the first ``cases`` cases, printing
    the peak memory (overall, and the analysis it was reached in) and the seconds."""
    import mns
    from mns.demo import plan_path

    files = sorted(FOLDER.glob("*.parquet"))[: -(-cases // FILE_CASES)]
    plan = mns.load_plan(plan_path())
    classified = mns.classify(mns.engines.dataset([str(f) for f in files]), plan)
    peaks: dict[str, int] = {}
    start = time.perf_counter()
    for name, analysis in analyses(classified, plan).items():
        before = peak_rss()
        fresh = reset_peak()
        analysis()
        peaks[name] = peak_rss() if fresh else max(peak_rss(), before)
    seconds = time.perf_counter() - start
    worst = max(peaks, key=lambda name: peaks[name])
    worker_result(
        cases=classified.count_rows(),
        files=len(files),
        peak_mib=max(peaks.values()) / MIB,
        worst=worst,
        peaks={name: peak / MIB for name, peak in peaks.items()},
        seconds=seconds,
        pool=pa.default_memory_pool().backend_name,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=list(SIZES), help="millions")
    parser.add_argument("--clean", action="store_true", help="delete the data afterwards")
    parser.add_argument(
        "--pool", choices=POOLS, help="Arrow memory pool (default: pyarrow's own choice)"
    )
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        worker(args.worker)
        return 0
    sizes = [round(s * 1_000_000) for s in args.sizes]
    generate(max(sizes))
    print(
        f"memory: classify (demo plan) + {', '.join(analyses(None, None))} on the local engine, "
        f"streaming from Parquet files of {FILE_CASES:,} cases; target: under {TARGET_MIB} MiB",
        flush=True,
    )
    rows = []
    for cases in sizes:
        env = {"ARROW_DEFAULT_MEMORY_POOL": args.pool} if args.pool else None
        result = run_worker("benchmarks.memory", ["--worker", str(cases)], env=env)
        peak = result["peak_mib"]
        rows.append(
            [
                f"{result['cases']:,}",
                result["files"],
                f"{peak:,.0f}",
                result["worst"],
                f"{result['seconds']:,.1f}",
                "yes" if peak < TARGET_MIB else "NO",
            ]
        )
        print(
            f"  {result['cases']:,} cases ({result['pool']} pool): "
            + ", ".join(f"{name} {mib:,.0f}" for name, mib in result["peaks"].items()),
            flush=True,
        )
    print()
    print(table_text(["cases", "files", "peak RSS MiB", "peak in", "seconds", "target"], rows))
    if args.clean:
        shutil.rmtree(FOLDER)
        print(f"deleted {FOLDER}")
    return 0 if all(row[-1] == "yes" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
