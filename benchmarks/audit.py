"""Benchmark: a full audit streamed from Parquet, against the classify + profile route and an
equivalent streaming polars pipeline (issue 18: within 1.5x of the first, at most 0.8x the
second, under 300 MB).

The audit is what ``mns.run_audit`` works out from the cases alone: the profile of the need
groups (sizes, age bands, sex, ethnicity, disability, cohort, and the prevalence of 40
indicators), the year's cases per group (``extrapolate``), each service's demand against its
capacity (``capacity``) and its cost by group and funder (``budget``), and the caseloads of
each team (``teams``), every case a census. The cases are the Parquet files of
``benchmarks.memory`` (500,000 synthetic cases each, raw: classification is part of the run).

- **mns audit**: ``mns.classify`` of a dataset of the files, and the five analyses in one
  call of ``mns.engines.together`` (each file read and classified once for all of them).
- **mns profile**: the same dataset classified and profiled alone (the route the audit is
  measured against).
- **polars**: the plan's rules as polars expressions (``benchmarks.analyses``, three-valued
  logic included; the need group an ``Enum``), ``scan_parquet`` of the same files, and every
  table the audit needs as one lazy query each, run by ``pl.collect_all`` on the streaming
  engine, as polars recommends for data read from files: the profile's tables, the cases per
  need group with each service's threshold results (what extrapolate, capacity and budget
  count) and the cases per team and group.

Every tool's results are checked against mns's: group sizes, indicator counts, each service's
cases in need and the team cells. Each run is a fresh process (its peak resident memory,
``VmHWM``, is its own); the tools take turns, ``--repeat`` rounds, and the table gives the
median and range of the seconds and the load average before and after::

    python -m benchmarks.audit                  # 10M cases, 3 rounds
    python -m benchmarks.audit --cases 3 --repeat 5

Timings on a shared machine are indicative; CI never runs this.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import MIB, peak_rss, run_worker, table_text, worker_result
from benchmarks.memory import FILE_CASES, FOLDER, generate

TOOLS = ("mns audit", "mns profile", "polars")
CATEGORIES = ("sex", "ethnicity", "disability", "cohort")
AGE_EDGES = (1, 5, 10, 16)
FLAGS = 40
TARGET_PROFILE = 1.5  # the audit / classify + profile
TARGET_POLARS = 0.8  # the audit / polars
TARGET_MIB = 300


def _files(cases: int) -> list[str]:
    return [str(f) for f in sorted(FOLDER.glob("*.parquet"))[: -(-cases // FILE_CASES)]]


def _flags(files: list[str]) -> list[str]:
    import pyarrow.parquet as pq

    schema = pq.read_schema(files[0])
    return [f.name for f in schema if f.name.startswith("cin.") and str(f.type) == "bool"][:FLAGS]


def _check(
    sizes: dict[str, int], flags: dict[str, int], needs: dict[str, int], team_cells: int
) -> dict[str, Any]:
    return {
        "sizes": dict(sorted(sizes.items())),
        "flags_true": dict(sorted(flags.items())),
        "needs": dict(sorted(needs.items())),
        "team_cells": team_cells,
    }


# ------------------------------------------------------------------------------------------
# mns


def mns_run(files: list[str], flags: list[str], *, audit: bool) -> dict[str, Any]:
    import pyarrow.compute as pc

    import mns
    from mns.demo import plan_path

    plan = mns.load_plan(plan_path())
    census = mns.Weighting.census()
    cases = mns.classify(mns.engines.dataset(files), plan)
    calls = {"profile": lambda c: mns.profile(c, indicators=flags)}
    if audit:
        calls |= {
            "extrapolate": lambda c: mns.extrapolate(c, plan=plan, weighting=census),
            "capacity": lambda c: mns.capacity(c, plan=plan, weighting=census),
            "budget": lambda c: mns.budget(c, plan=plan, weighting=census),
            "teams": lambda c: mns.teams(c, plan=plan),
        }
    out = mns.engines.together(cases, calls)
    profile = out["profile"]
    sizes_rows = profile.filter(pc.equal(profile.column("variable"), "cases"))
    sizes = dict(
        zip(sizes_rows["need_group"].to_pylist(), sizes_rows["count"].to_pylist(), strict=True)
    )
    true_rows = profile.filter(pc.equal(profile.column("value"), "true"))
    flags_true: dict[str, int] = {}
    for variable, count in zip(
        true_rows["variable"].to_pylist(), true_rows["count"].to_pylist(), strict=True
    ):
        if variable in flags:
            flags_true[variable] = flags_true.get(variable, 0) + count
    if not audit:
        return _check(sizes, flags_true, {}, 0)
    capacity = out["capacity"]
    needs = dict(zip(capacity["service"].to_pylist(), capacity["sample"].to_pylist(), strict=True))
    teams = out["teams"].filter(pc.greater(out["teams"].column("cases"), 0))
    cells = teams.filter(pc.is_valid(teams.column("need_group"))).num_rows
    return _check(sizes, flags_true, needs, cells)


# ------------------------------------------------------------------------------------------
# polars


def polars_run(files: list[str], flags: list[str]) -> dict[str, Any]:
    import polars as pl

    from benchmarks.analyses import _rules_columns, polars_classified
    from mns.demo import plan_path
    from mns.plan import load_plan

    plan = load_plan(plan_path())
    thresholds = [f"threshold.{s.code}" for s in plan.services if s.threshold is not None]
    read = sorted({*_rules_columns(Path(files[0])), "age", *CATEGORIES, "team", *flags})
    lf = polars_classified(files, read)
    g = "need_group"
    band = (
        pl.when(pl.col("age") < AGE_EDGES[0])
        .then(pl.lit("00 (under 1)"))
        .when(pl.col("age") < AGE_EDGES[1])
        .then(pl.lit("01-04"))
        .when(pl.col("age") < AGE_EDGES[2])
        .then(pl.lit("05-09"))
        .when(pl.col("age") < AGE_EDGES[3])
        .then(pl.lit("10-15"))
        .when(pl.col("age").is_not_null())
        .then(pl.lit("16+"))
    )
    share = (pl.col("n") / pl.col("n").sum().over(g)).alias("share")
    tables = [lf.group_by(g, band.alias("age_band")).agg(pl.len().alias("n")).with_columns(share)]
    tables += [lf.group_by(g, c).agg(pl.len().alias("n")).with_columns(share) for c in CATEGORIES]
    # the group sizes, each indicator's prevalence and each service's threshold results by
    # group (true, and known: what extrapolate, capacity and budget count), in one group-by
    by_group = lf.group_by(g).agg(
        pl.len().alias("n"),
        *[pl.col(f).sum().alias(f"{f}:true") for f in flags],
        *[pl.col(f).count().alias(f"{f}:valid") for f in flags],
        *[pl.col(t).sum().alias(f"{t}:true") for t in thresholds],
        *[pl.col(t).count().alias(f"{t}:valid") for t in thresholds],
    )
    teams = lf.group_by("team", g).agg(pl.len().alias("n"))
    done = pl.collect_all([by_group, teams, *tables], engine="streaming")
    groups, team_df = done[0], done[1]
    names = groups[g].cast(pl.String).to_list()
    sizes = dict(zip(names, groups["n"].to_list(), strict=True))
    flags_true = {f: int(groups[f"{f}:true"].sum()) for f in flags}
    needs = {}
    for s in plan.services:
        members = groups.filter(pl.col(g).cast(pl.String).is_in(list(s.need_groups)))
        column = f"threshold.{s.code}:true" if s.threshold is not None else "n"
        needs[s.code] = int(members[column].sum())
    cells = team_df.filter(pl.col("team").is_not_null()).height
    return _check(sizes, flags_true, needs, cells)


# ------------------------------------------------------------------------------------------
# workers and the table


def worker(tool: str, cases: int) -> None:
    files = _files(cases)
    flags = _flags(files)
    start = time.perf_counter()
    if tool == "polars":
        check = polars_run(files, flags)
    else:
        check = mns_run(files, flags, audit=tool == "mns audit")
    seconds = time.perf_counter() - start
    worker_result(seconds=seconds, peak_mib=peak_rss() / MIB, check=check)


def _agree(results: dict[str, dict[str, Any]]) -> None:
    """Every tool computed the same numbers as the mns audit (what each computed of them)."""
    audit = results["mns audit"]["check"]
    for tool, result in results.items():
        for key, value in result["check"].items():
            if value and value != audit[key]:
                raise SystemExit(f"{tool} disagrees with the mns audit on {key}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=float, default=10.0, help="millions (default 10)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--worker", choices=TOOLS, help=argparse.SUPPRESS)
    parser.add_argument("--worker-cases", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.worker_cases)
        return 0
    cases = round(args.cases * 1_000_000)
    generate(cases)
    load = os.getloadavg()[0]
    print(f"audit: {cases:,} cases in Parquet, {args.repeat} rounds; load {load:.2f}", flush=True)
    runs: dict[str, list[dict[str, Any]]] = {tool: [] for tool in TOOLS}
    for _ in range(args.repeat):
        for tool in TOOLS:
            extra = ["--worker", tool, "--worker-cases", str(cases)]
            runs[tool].append(run_worker("benchmarks.audit", extra))
        _agree({tool: done[-1] for tool, done in runs.items()})
    median = {tool: statistics.median(r["seconds"] for r in done) for tool, done in runs.items()}
    rows = [
        [
            tool,
            f"{median[tool]:.2f}",
            f"{min(r['seconds'] for r in done):.2f}-{max(r['seconds'] for r in done):.2f}",
            f"{max(r['peak_mib'] for r in done):,.0f}",
        ]
        for tool, done in runs.items()
    ]
    print(table_text(["tool", "median s", "range s", "peak MiB"], rows))
    to_profile = median["mns audit"] / median["mns profile"]
    to_polars = median["mns audit"] / median["polars"]
    peak = max(r["peak_mib"] for r in runs["mns audit"])
    print(f"load after: {os.getloadavg()[0]:.2f}; every tool's numbers agree")
    for label, value, target, met in (
        (
            "mns audit / mns classify + profile",
            f"{to_profile:.2f}",
            f"<= {TARGET_PROFILE}",
            to_profile <= TARGET_PROFILE,
        ),
        (
            "mns audit / polars streaming",
            f"{to_polars:.2f}",
            f"<= {TARGET_POLARS}",
            to_polars <= TARGET_POLARS,
        ),
        ("mns audit peak MiB", f"{peak:,.0f}", f"< {TARGET_MIB}", peak < TARGET_MIB),
    ):
        print(f"{label} = {value} (target {target}: {'met' if met else 'NOT met'})")
    return 0  # a missed target is printed, not an error (tools that disagree are)


if __name__ == "__main__":
    sys.exit(main())
