"""Benchmark: ``mns.match`` and ``mns.outcomes`` grow linearly with the cases (issue 18).

Both join the cases with the services each received (and ``outcomes`` with each case's latest
outcome records). They used to look every batch up with ``pc.is_in`` / ``Table.join``, which
build a hash table of every id again per batch: 2.0 s at 0.5M cases, 51 s at 2.5M. The
benchmark runs both at 0.5M to 5M cases and prints the seconds per million cases (flat when
linear), beside DuckDB computing the same counts on native tables (its documentation's
recommendation: ``CREATE TABLE ... AS`` from Arrow, then SQL), interleaved in the same
process, with the median and spread of the runs and the load average.

    python -m benchmarks.match                          # 0.5M, 1M, 2.5M and 5M cases
    python -m benchmarks.match --rows 200000 --repeat 1  # a quick look

The counts are checked equal: per need group and planned service, the cases that received the
service and the eligible cases that did not (``match``); per need group and outcome, the cases
with the outcome recorded and those that achieved it, overall and among those who received
each service (``outcomes``). CI never runs this: timings are not tests.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from benchmarks.common import table_text

SEED = 18
SIZES = (500_000, 1_000_000, 2_500_000, 5_000_000)
GROUPS = tuple(f"G{i}" for i in range(1, 11))
SERVICES = ("s_a", "s_b", "s_c", "s_d", "s_e", "s_f")
THRESHOLDS = ("s_a", "s_b", "s_c")  # services with a threshold column
OUTCOMES = ("o1", "o2", "o3")

PLAN: dict[str, Any] = {
    "plan": {"name": "Match benchmark", "language": "mns"},
    "need_group": [{"code": g, "name": g, "rule": "true"} for g in GROUPS],
    "service": [
        {
            "code": s,
            "name": s,
            "need_groups": list(GROUPS[i::2]),
            **({"threshold": "true"} if s in THRESHOLDS else {}),
        }
        for i, s in enumerate(SERVICES)
    ],
}


def _plan() -> Any:
    from mns.plan import plan_from_dict

    return plan_from_dict(PLAN, "benchmarks/match.py")


def make_data(rows: int, seed: int = SEED) -> tuple[pa.Table, pa.Table, pa.Table]:
    """Classified cases, services (about 1.5 a case, some repeated) and outcome records
    (about 1.2 a case, some recorded twice), with ids in shuffled order."""
    rng = np.random.default_rng(seed)
    ids = pa.array(np.char.add("C", np.arange(rows).astype("U9")))
    columns: dict[str, Any] = {
        "case_id": ids,
        "need_group": pa.DictionaryArray.from_arrays(
            pa.array(rng.integers(0, len(GROUPS), rows), pa.int32()), pa.array(GROUPS)
        ),
    }
    for s in THRESHOLDS:
        columns[f"threshold.{s}"] = pa.array(rng.random(rows) < 0.6, mask=rng.random(rows) < 0.05)
    cases = pa.table(columns)
    n_services = int(rows * 1.5)
    services = pa.table(
        {
            "case_id": ids.take(pa.array(rng.integers(0, rows, n_services))),
            "service": pa.array(np.array(SERVICES)[rng.integers(0, len(SERVICES), n_services)]),
            "start_date": pa.nulls(n_services, pa.date32()),
            "end_date": pa.nulls(n_services, pa.date32()),
        }
    )
    n_outcomes = int(rows * 1.2)
    days = rng.integers(19000, 19800, n_outcomes).astype("int32")
    outcomes = pa.table(
        {
            "case_id": ids.take(pa.array(rng.integers(0, rows, n_outcomes))),
            "outcome": pa.array(np.array(OUTCOMES)[rng.integers(0, len(OUTCOMES), n_outcomes)]),
            "recorded_on": pa.array(days, pa.int32()).cast(pa.date32()),
            "achieved": pa.array(rng.random(n_outcomes) < 0.5),
            "value": pa.array(rng.normal(10, 3, n_outcomes)),
        }
    )
    return cases, services, outcomes


# --- mns ------------------------------------------------------------------------------------


def mns_match(cases: pa.Table, services: pa.Table, plan: Any) -> dict[tuple[str, str], tuple]:
    import mns

    table = mns.match(cases, services, plan=plan)
    planned = table.filter(pc.field("planned"))
    return {
        (g, s): (r, u)
        for g, s, r, u in zip(
            *(
                planned.column(c).to_pylist()
                for c in ("need_group", "service", "received", "unmet")
            ),
            strict=True,
        )
        if g in GROUPS
    }


def mns_outcomes(
    cases: pa.Table, outcomes: pa.Table, services: pa.Table, plan: Any
) -> dict[tuple[str, str, str | None], tuple]:
    import mns

    table = mns.outcomes(cases, outcomes, services, plan=plan)
    return {
        (g, o, s): (n, a)
        for g, o, s, n, a in zip(
            *(
                table.column(c).to_pylist()
                for c in ("need_group", "outcome", "service", "recorded", "achieved")
            ),
            strict=True,
        )
        if g in GROUPS
    }


# --- DuckDB on native tables ----------------------------------------------------------------


def duckdb_connection(cases: pa.Table, services: pa.Table, outcomes: pa.Table) -> Any:
    """The three tables loaded into DuckDB's own storage, need group as an ENUM."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads TO {os.cpu_count() or 1}")
    groups = ", ".join(f"'{g}'" for g in GROUPS)
    con.execute(f"CREATE TYPE need_group_t AS ENUM ({groups})")
    arrow_cases = cases.set_column(1, "need_group", cases.column("need_group").cast(pa.string()))
    con.register("arrow_cases", arrow_cases)
    con.register("arrow_services", services)
    con.register("arrow_outcomes", outcomes)
    con.execute(
        "CREATE TABLE cases AS SELECT * REPLACE (need_group::need_group_t AS need_group) "
        "FROM arrow_cases"
    )
    con.execute("CREATE TABLE services AS SELECT case_id, service FROM arrow_services")
    con.execute("CREATE TABLE outcomes AS SELECT * FROM arrow_outcomes")
    for name in ("arrow_cases", "arrow_services", "arrow_outcomes"):
        con.unregister(name)
    return con


def _received_flags() -> str:
    flags = ", ".join(f"bool_or(service = '{s}') AS r_{s}" for s in SERVICES)
    return f"SELECT case_id, {flags} FROM services GROUP BY case_id"


def duckdb_match(con: Any) -> dict[tuple[str, str], tuple]:
    parts = []
    for s in SERVICES:
        eligible = f'coalesce("threshold.{s}", false)' if s in THRESHOLDS else "true"
        parts.append(
            f"count(*) FILTER (WHERE r_{s}) AS rec_{s}, "
            f"count(*) FILTER (WHERE {eligible} AND r_{s} IS NOT TRUE) AS unmet_{s}"
        )
    sql = (
        f"WITH r AS ({_received_flags()}) "
        f"SELECT need_group::VARCHAR AS g, {', '.join(parts)} "
        "FROM cases LEFT JOIN r USING (case_id) GROUP BY need_group"
    )
    out = {}
    for row in con.execute(sql).fetchall():
        g, values = row[0], row[1:]
        for i, s in enumerate(SERVICES):
            if g in PLAN["service"][i]["need_groups"]:
                out[(g, s)] = (values[2 * i], values[2 * i + 1])
    return out


def duckdb_outcomes(con: Any) -> dict[tuple[str, str, str | None], tuple]:
    per_service = ", ".join(
        f"count(*) FILTER (WHERE r_{s}) AS n_{s}, "
        f"count(*) FILTER (WHERE r_{s} AND achieved) AS a_{s}"
        for s in SERVICES
    )
    sql = (
        f"WITH r AS ({_received_flags()}), "
        "latest AS (SELECT case_id, outcome, achieved FROM outcomes QUALIFY row_number() OVER "
        "(PARTITION BY case_id, outcome ORDER BY recorded_on DESC NULLS LAST, rowid DESC) = 1) "
        "SELECT need_group::VARCHAR, outcome, count(*), count(*) FILTER (WHERE achieved), "
        f"{per_service} FROM cases JOIN latest USING (case_id) LEFT JOIN r USING (case_id) "
        "GROUP BY need_group, outcome"
    )
    out: dict[tuple[str, str, str | None], tuple] = {}
    for row in con.execute(sql).fetchall():
        g, o, n, a, rest = row[0], row[1], row[2], row[3], row[4:]
        out[(g, o, None)] = (n, a)
        for i, s in enumerate(SERVICES):
            out[(g, o, s)] = (rest[2 * i], rest[2 * i + 1])
    return out


# --- the run --------------------------------------------------------------------------------


def _interleaved(tools: dict[str, Callable[[], Any]], repeat: int) -> dict[str, list[float]]:
    """Each tool once untimed, then ``repeat`` rounds, each running every tool once."""
    results = {name: fn() for name, fn in tools.items()}
    first = next(iter(results.values()))
    for name, result in results.items():
        if result != first:
            differ = sorted(k for k in first if first[k] != result.get(k))[:5]
            raise SystemExit(f"{name} disagrees with mns at {differ}")
    times: dict[str, list[float]] = {name: [] for name in tools}
    for _ in range(repeat):
        for name, fn in tools.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return times


def _spread(times: list[float]) -> str:
    return f"{statistics.median(times):.2f} ({min(times):.2f}-{max(times):.2f})"


def measure(n: int, plan: Any, repeat: int) -> dict[str, dict[str, list[float]]]:
    """Both analyses at ``n`` cases: each tool's times, checked equal first."""
    cases, services, outcomes = make_data(n)
    con = duckdb_connection(cases, services, outcomes)
    try:
        return {
            "match": _interleaved(
                {
                    "mns": lambda: mns_match(cases, services, plan),
                    "duckdb": lambda: duckdb_match(con),
                },
                repeat,
            ),
            "outcomes": _interleaved(
                {
                    "mns": lambda: mns_outcomes(cases, outcomes, services, plan),
                    "duckdb": lambda: duckdb_outcomes(con),
                },
                repeat,
            ),
        }
    finally:
        con.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="cases (repeatable)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    sizes = args.rows or list(SIZES)
    plan = _plan()
    rows_out = []
    per_million: dict[str, list[float]] = {"match": [], "outcomes": []}
    for n in sizes:
        for analysis, times in measure(n, plan, args.repeat).items():
            ours, theirs = statistics.median(times["mns"]), statistics.median(times["duckdb"])
            per_million[analysis].append(ours / (n / 1e6))
            rows_out.append(
                [
                    analysis,
                    f"{n:,}",
                    _spread(times["mns"]),
                    _spread(times["duckdb"]),
                    f"{ours / theirs:.2f}",
                    f"{ours / (n / 1e6):.2f}",
                ]
            )
    print(
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, "
        f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"
    )
    print(
        table_text(
            ["analysis", "cases", "mns s (range)", "DuckDB s (range)", "mns/DuckDB", "mns s/M"],
            rows_out,
        )
    )
    for analysis, values in per_million.items():
        growth = values[-1] / values[0]
        print(
            f"{analysis}: seconds per million cases at {sizes[-1]:,} / at {sizes[0]:,} = "
            f"{growth:.2f} (1.0 is linear; {sizes[-1] / sizes[0]:.0f} would be quadratic)"
        )


if __name__ == "__main__":
    main()
