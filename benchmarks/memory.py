"""Benchmark: peak memory streaming from Parquet, from 1 to 30 million cases (target: flat,
under 300 MB).

Synthetic cases (``mns.synth``) are written once as Parquet files of 500,000 cases each; each
size reads the first of them as a dataset (``mns.engines.dataset``), classifies it with the
demo plan as it is read, and runs, on the local engine, every analysis that needs only the
cases: profile, crosstab, areas, extrapolate, capacity, budget, compare and teams, first each
in its own pass, then all of them in one call of ``mns.engines.together`` (the files read and
classified once for all the analyses that can share a pass; capacity and budget, whose
prepare counts a batch, get their own). Each runs in a fresh process, so its peak resident
memory (``VmHWM``) is its own; the table gives the cases, the files, the peak, the analysis
during which it was reached, the peak together, the seconds each way, together as a multiple
of classify + profile alone (issue 18: a full audit within 1.5x of it), and whether the
memory target holds. ``--pool`` runs the workers with ``ARROW_DEFAULT_MEMORY_POOL`` set
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


def analyses(plan: Any) -> dict[str, Callable[[Any], Any]]:
    """Every analysis that reads only the cases, by name, as a researcher would call it on
    the classified cases."""
    import mns

    census = mns.Weighting.census()
    population = mns.synth.population(seed=SEED)
    return {
        "profile": lambda cases: mns.profile(cases, plan=plan),
        "crosstab": lambda cases: mns.crosstab(cases, "need_group", "la", plan=plan),
        "areas": lambda cases: mns.areas(cases, population, plan=plan),
        "extrapolate": lambda cases: mns.extrapolate(cases, weighting=census, plan=plan),
        "capacity": lambda cases: mns.capacity(cases, plan=plan, weighting=census),
        "budget": lambda cases: mns.budget(cases, plan=plan, weighting=census),
        "compare": lambda cases: mns.compare(cases, cases, plan=plan, weighting=census),
        "teams": lambda cases: mns.teams(cases, plan=plan),
    }


def worker(cases: int, together: bool) -> None:
    """In a fresh process: classify + every analysis over the first ``cases`` cases, one after
    the other (each its own pass) or ``together`` (``mns.engines.together``: one pass for all
    that can share it), printing the peak memory (overall, and per analysis when one after
    the other) and the seconds."""
    import mns
    from mns.demo import plan_path

    files = sorted(FOLDER.glob("*.parquet"))[: -(-cases // FILE_CASES)]
    plan = mns.load_plan(plan_path())
    classified = mns.classify(mns.engines.dataset([str(f) for f in files]), plan)
    calls = analyses(plan)
    peaks: dict[str, int] = {}
    seconds: dict[str, float] = {}
    if together:
        start = time.perf_counter()
        mns.engines.together(classified, calls)
        seconds["together"] = time.perf_counter() - start
        peaks["together"] = peak_rss()
    else:
        for name, analysis in calls.items():
            before = peak_rss()
            fresh = reset_peak()
            start = time.perf_counter()
            analysis(classified)
            seconds[name] = time.perf_counter() - start
            peaks[name] = peak_rss() if fresh else max(peak_rss(), before)
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
    parser.add_argument("--together", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        worker(args.worker, args.together)
        return 0
    sizes = [round(s * 1_000_000) for s in args.sizes]
    generate(max(sizes))
    print(
        f"memory: classify (demo plan) + {', '.join(analyses(None))} on the local engine, "
        f"streaming from Parquet files of {FILE_CASES:,} cases, each analysis its own pass "
        "and then all of them together (mns.engines.together: one pass); "
        f"target: under {TARGET_MIB} MiB",
        flush=True,
    )
    env = {"ARROW_DEFAULT_MEMORY_POOL": args.pool} if args.pool else None
    rows = []
    for cases in sizes:
        alone = run_worker("benchmarks.memory", ["--worker", str(cases)], env=env)
        shared = run_worker("benchmarks.memory", ["--worker", str(cases), "--together"], env=env)
        peak = max(alone["peak_mib"], shared["peak_mib"])
        each = sum(alone["seconds"].values())
        rows.append(
            [
                f"{alone['cases']:,}",
                alone["files"],
                f"{alone['peak_mib']:,.0f}",
                alone["worst"],
                f"{shared['peak_mib']:,.0f}",
                f"{each:,.1f}",
                f"{shared['seconds']['together']:,.1f}",
                f"{shared['seconds']['together'] / alone['seconds']['profile']:.2f}",
                "yes" if peak < TARGET_MIB else "NO",
            ]
        )
        print(
            f"  {alone['cases']:,} cases ({alone['pool']} pool): "
            + ", ".join(
                f"{name} {mib:,.0f} MiB {alone['seconds'][name]:.1f} s"
                for name, mib in alone["peaks"].items()
            ),
            flush=True,
        )
    print()
    headers = ["cases", "files", "peak MiB", "peak in", "together MiB", "each s", "together s"]
    print(table_text([*headers, "together / profile", "target"], rows))
    print(
        "together / profile: every analysis in one pass, as a multiple of classify + profile "
        "alone (issue 18 target: <= 1.5)"
    )
    if args.clean:
        shutil.rmtree(FOLDER)
        print(f"deleted {FOLDER}")
    return 0  # a missed target is printed, not an error: make bench runs every benchmark


if __name__ == "__main__":
    sys.exit(main())
