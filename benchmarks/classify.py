"""Benchmark: ``mns.classify`` against polars and DuckDB doing the same classification.

A 12-rule plan (flags, age ranges and primary need, in the ``cin`` language) puts synthetic
cases in need groups, first match wins. polars (``when/then``) and DuckDB (``CASE WHEN``) get
the same rules, translated from the same checked rules, with the same three-valued logic: a
case is ``unknown`` when a rule before the one that holds is unknown. Every tool reads the same
Arrow data from an IPC file in its own process; the benchmark checks that all of them give the
same need group to every case, then prints each time, the ratios and the peak memory.

    python -m benchmarks.classify                      # 1M cases (a developer run)
    python -m benchmarks.classify --rows 1000000 --rows 10000000

What each tool is timed doing, from in-memory data to its result in memory:

- mns: ``mns.classify(table, plan)`` with default arguments: the table in, the table out
  with ``need_group`` (dictionary) and every input column (zero-copy).
- mns+missing: the same with ``missing_fields=True``: each unknown case's missing columns
  too, a column the others do not make (shown for its cost; the target is on ``mns``).
- polars: ``df.select(<when/then chain>)`` on a DataFrame already converted from the Arrow
  table (the conversion is timed apart and left out of the ratio): only the new column.
- DuckDB: ``SELECT CASE ... END`` over the registered Arrow table, fetched as an Arrow table:
  only the new column.

Each tool runs once untimed (imports, plan checks, allocator pools; Arrow's pool then gives
back what that run freed), then ``--repeat`` timed runs; the best time counts. Peak memory is
the process's high-water resident set during the timed runs (the mark is reset before them,
where Linux allows it), which includes the data the process holds; "extra" is the increase
over the process as it was before the timed runs.
CI never runs this: timings are not tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import gc
import operator
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from benchmarks.common import (
    MIB,
    peak_rss,
    read_ipc,
    reset_peak,
    run_worker,
    table_text,
    time_best,
    worker_result,
    write_ipc,
)

SEED = 2024
TOOLS = ("mns", "mns+missing", "polars", "duckdb")
COMPETITORS = ("polars", "duckdb")
UNASSIGNED, UNKNOWN = "unassigned", "unknown"

#: The 12-rule plan: flags, age ranges and primary need, in plan order.
PLAN: dict[str, Any] = {
    "plan": {"name": "Benchmark plan", "language": "cin"},
    "need_group": [
        {
            "code": "NG01",
            "name": "Infants, abuse or neglect",
            "rule": "age < 2 and (cin.16A or cin.primary_need == 'N1')",
        },
        {
            "code": "NG02",
            "name": "Under fives, parental substance misuse",
            "rule": "age < 5 and (cin.1B or cin.2B)",
        },
        {
            "code": "NG03",
            "name": "Domestic abuse, under elevens",
            "rule": "0 <= age < 11 and (cin.3A or cin.3B or cin.3C)",
        },
        {"code": "NG04", "name": "Parental mental health", "rule": "cin.4B and age < 11"},
        {
            "code": "NG05",
            "name": "Exploitation, adolescents",
            "rule": "10 <= age < 18 and (cin.11A or cin.24A or cin.12A or cin.13A)",
        },
        {"code": "NG06", "name": "Going missing", "rule": "age >= 11 and cin.10A"},
        {"code": "NG07", "name": "Child mental health, self-harm", "rule": "cin.4A or cin.15A"},
        {
            "code": "NG08",
            "name": "Disabled children",
            "rule": "cin.primary_need == 'N2' or cin.5A or cin.6A",
        },
        {"code": "NG09", "name": "Neglect", "rule": "cin.16A or cin.primary_need == 'N1'"},
        {
            "code": "NG10",
            "name": "Family stress or dysfunction",
            "rule": "cin.primary_need in ['N4', 'N5']",
        },
        {
            "code": "NG11",
            "name": "Low income, absent parenting",
            "rule": "cin.primary_need in ['N7', 'N8']",
        },
        {"code": "NG12", "name": "Behaviour", "rule": "cin.14A or cin.primary_need == 'N6'"},
    ],
}


def _plan() -> Any:
    from mns.plan import plan_from_dict

    return plan_from_dict(PLAN, "benchmarks/classify.py")


def _checked() -> list[tuple[str, Any]]:
    """The plan's rules, checked by mns: what the translations below start from."""
    from mns.rules import compile_rule

    return [(g["code"], compile_rule(g["rule"], "cin")) for g in PLAN["need_group"]]


# --- translations of checked rules for the competitors ----------------------------------------


def to_sql(expr: Any) -> str:
    """A checked rule as a SQL expression (SQL's NULL logic is the same three-valued logic)."""
    from mns.rules import ir

    if isinstance(expr, ir.Column):
        return '"' + expr.name.replace('"', '""') + '"'
    if isinstance(expr, ir.Const):
        return _sql_literal(expr.value)
    if isinstance(expr, ir.Not):
        return f"(NOT {to_sql(expr.arg)})"
    if isinstance(expr, ir.And | ir.Or):
        joiner = " AND " if isinstance(expr, ir.And) else " OR "
        return "(" + joiner.join(to_sql(a) for a in expr.args) + ")"
    if isinstance(expr, ir.Compare):
        op = {"==": "=", "!=": "<>"}.get(expr.op, expr.op)
        return f"({to_sql(expr.left)} {op} {to_sql(expr.right)})"
    if isinstance(expr, ir.In):
        items = ", ".join(_sql_literal(v) for v in expr.values)
        return f"({to_sql(expr.arg)} {'NOT IN' if expr.negated else 'IN'} ({items}))"
    if isinstance(expr, ir.Missing):
        return f"({to_sql(expr.arg)} IS NULL)"
    raise NotImplementedError(f"no SQL translation for {type(expr).__name__} in this benchmark")


def _sql_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


def to_polars(expr: Any) -> Any:
    """A checked rule as a polars expression (polars' & and | are three-valued too)."""
    import polars as pl

    from mns.rules import ir

    if isinstance(expr, ir.Column):
        return pl.col(expr.name)
    if isinstance(expr, ir.Const):
        return pl.lit(expr.value)
    if isinstance(expr, ir.Not):
        return ~to_polars(expr.arg)
    if isinstance(expr, ir.And):
        return functools.reduce(operator.and_, [to_polars(a) for a in expr.args])
    if isinstance(expr, ir.Or):
        return functools.reduce(operator.or_, [to_polars(a) for a in expr.args])
    if isinstance(expr, ir.Compare):
        ops: dict[str, Callable[[Any, Any], Any]] = {
            "==": operator.eq,
            "!=": operator.ne,
            "<": operator.lt,
            "<=": operator.le,
            ">": operator.gt,
            ">=": operator.ge,
        }
        return ops[expr.op](to_polars(expr.left), to_polars(expr.right))
    if isinstance(expr, ir.In):
        found = to_polars(expr.arg).is_in(list(expr.values))
        return ~found if expr.negated else found
    if isinstance(expr, ir.Missing):
        return to_polars(expr.arg).is_null()
    raise NotImplementedError(f"no polars translation for {type(expr).__name__} in this benchmark")


# --- the tools ---------------------------------------------------------------------------------


def _run_mns(table: pa.Table) -> tuple[Callable[[], Any], float]:
    import mns

    plan = _plan()
    return lambda: mns.classify(table, plan), 0.0


def _run_mns_missing(table: pa.Table) -> tuple[Callable[[], Any], float]:
    import mns

    plan = _plan()
    return lambda: mns.classify(table, plan, missing_fields=True), 0.0


def _codes() -> list[str]:
    return [g["code"] for g in PLAN["need_group"]] + [UNASSIGNED, UNKNOWN]


def _run_polars(table: pa.Table) -> tuple[Callable[[], Any], float]:
    """Lazy polars, as its documentation recommends: each rule computed once as a column,
    first match wins in one ``when/then`` chain over them, the result an ``Enum``."""
    import time

    import polars as pl

    start = time.perf_counter()
    df = pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    convert = time.perf_counter() - start
    groups = pl.Enum(_codes())
    rules = _checked()
    held = [to_polars(expr).alias(f"__rule{i}") for i, (_, expr) in enumerate(rules)]
    chain: Any = None
    for i, (code, _) in enumerate(rules):
        rule = pl.col(f"__rule{i}")
        chain = pl.when(rule) if chain is None else chain.when(rule)
        chain = chain.then(pl.lit(code, groups)).when(rule.is_null()).then(pl.lit(UNKNOWN, groups))
    query = (
        df.lazy()
        .select(held)
        .select(chain.otherwise(pl.lit(UNASSIGNED, groups)).alias("need_group"))
    )
    return query.collect, convert


def _run_duckdb(table: pa.Table) -> tuple[Callable[[], Any], float]:
    """DuckDB on a native table (loaded from Arrow once, not re-scanned), each rule computed
    once in a subquery, the result an ``ENUM``."""
    import time

    import duckdb

    con = duckdb.connect()
    start = time.perf_counter()
    con.register("arrow_cases", table)
    con.execute("CREATE TABLE cases AS SELECT * FROM arrow_cases")
    con.unregister("arrow_cases")
    convert = time.perf_counter() - start
    labels = ", ".join(f"'{c}'" for c in _codes())
    con.execute(f"CREATE TYPE need_group_t AS ENUM ({labels})")
    rules = _checked()
    held = ", ".join(f"{to_sql(expr)} AS r{i}" for i, (_, expr) in enumerate(rules))
    whens = " ".join(
        f"WHEN r{i} THEN '{code}' WHEN r{i} IS NULL THEN '{UNKNOWN}'"
        for i, (code, _) in enumerate(rules)
    )
    query = (
        f"SELECT (CASE {whens} ELSE '{UNASSIGNED}' END)::need_group_t AS need_group "
        f"FROM (SELECT {held} FROM cases)"
    )
    return lambda: con.sql(query).to_arrow_table(), convert


RUNNERS = {
    "mns": _run_mns,
    "mns+missing": _run_mns_missing,
    "polars": _run_polars,
    "duckdb": _run_duckdb,
}


def _need_groups(result: Any) -> pa.ChunkedArray:
    if isinstance(result, pa.Table):
        column = result.column("need_group")
    else:  # polars
        column = result.to_arrow().column("need_group")
    return column.cast(pa.string())


def _fingerprint(column: pa.ChunkedArray) -> tuple[dict[str, int], int]:
    """Counts per need group, and a number that changes if any case's group changes."""
    codes = _codes()
    ids = pa.array(codes, pa.string())
    import pyarrow.compute as pc

    index = pc.index_in(column, value_set=ids).to_numpy(zero_copy_only=False)
    counts = np.bincount(index, minlength=len(codes))
    weights = (np.arange(len(index), dtype=np.uint64) * np.uint64(2654435761)) % np.uint64(1 << 31)
    mark = int(np.sum(weights * (index.astype(np.uint64) + np.uint64(1)), dtype=np.uint64))
    return {c: int(n) for c, n in zip(codes, counts, strict=True)}, mark


def worker(tool: str, data: Path, repeat: int) -> None:
    """Run one tool on the data in its own process and print its result."""
    table = read_ipc(data)
    gc.collect()
    run, convert = RUNNERS[tool](table)
    if tool == "polars":  # polars works on its own copy: the Arrow table is no longer needed
        del table
        gc.collect()
    warm = run()  # one untimed run first: imports, plan checks, the allocator's pools
    del warm
    gc.collect()
    pa.default_memory_pool().release_unused()  # what the untimed run freed goes back
    reset_peak()
    base = peak_rss()
    best, times, result = time_best(run, repeat)
    peak = peak_rss()
    counts, mark = _fingerprint(_need_groups(result))
    worker_result(
        tool=tool,
        best=best,
        times=times,
        convert=convert,
        base=base,
        peak=peak,
        counts=counts,
        mark=mark,
    )


# --- data --------------------------------------------------------------------------------------


def _fallback_cases(n: int, seed: int) -> pa.Table:
    """Synthetic cases with the columns the plan reads, where mns.synth is not installed."""
    from mns.lang import language
    from mns.records import schema

    rng = np.random.default_rng(seed)
    cin = language("cin")
    sch = schema.cases_schema([cin], 2024)
    columns: dict[str, pa.Array] = {
        "case_id": pa.array([f"C{i:08d}" for i in range(n)], pa.string()),
        "age": pa.array(rng.integers(0, 18, n).astype(np.int16)),
    }
    assessed = rng.random(n) > 0.08  # factors are missing where there was no assessment
    for field in sch:
        name = field.name
        if name.startswith("cin.") and pa.types.is_boolean(field.type):
            values = rng.random(n) < 0.06
            columns[name] = pa.array(values, mask=~assessed)
    needs = pa.array([f"N{i}" for i in range(10)], pa.string())
    columns["cin.primary_need"] = pa.DictionaryArray.from_arrays(
        pa.array(rng.integers(0, 10, n).astype(np.int32)), needs
    )
    return schema.conform(pa.table(columns), "cases")


def make_data(n: int, path: Path) -> str:
    """Write ``n`` synthetic cases to ``path``; say how they were made."""
    try:
        from mns import synth
    except ImportError:
        table, how = _fallback_cases(n, SEED), "the benchmark's own generator (mns.synth is absent)"
    else:
        table, how = synth.cases(n, seed=SEED), f"mns.synth.cases({n:_}, seed={SEED})"
    write_ipc(table, path)
    return how


# --- the run -----------------------------------------------------------------------------------


def bench(rows: int, repeat: int, folder: Path) -> None:
    path = folder / f"cases-{rows}.arrow"
    how = make_data(rows, path)
    print(f"\n{rows:,} cases from {how}; best of {repeat} runs, each tool in its own process")
    results = {
        tool: run_worker(
            "benchmarks.classify", ["--worker", tool, "--data", str(path), "--repeat", str(repeat)]
        )
        for tool in TOOLS
    }
    reference = results["mns"]
    for tool, r in results.items():
        if (r["counts"], r["mark"]) != (reference["counts"], reference["mark"]):
            sys.exit(
                f"{tool} classified differently from mns: {r['counts']} != {reference['counts']}"
            )
    fastest = min(results[t]["best"] for t in COMPETITORS)
    leanest = min(results[t]["peak"] for t in COMPETITORS)
    rows_out = []
    for tool in TOOLS:
        r = results[tool]
        rows_out.append(
            [
                tool,
                f"{r['best']:.3f}",
                f"{r['best'] / fastest:.2f}",
                f"{r['convert']:.3f}" if r["convert"] else "-",
                f"{r['peak'] / MIB:,.0f}",
                f"{(r['peak'] - r['base']) / MIB:,.0f}",
                f"{r['peak'] / leanest:.2f}",
            ]
        )
    print(
        table_text(
            ["tool", "seconds", "time ratio", "convert s", "peak MiB", "extra MiB", "memory ratio"],
            rows_out,
        )
    )
    counts = reference["counts"]
    print("need groups:", ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    r = results["mns"]
    print(
        f"mns / best competitor: time {r['best'] / fastest:.2f} (target <= 0.7, "
        f"issue 18), peak memory {r['peak'] / leanest:.2f} (target <= 1.0)"
    )
    print("every tool gave every case the same need group")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows", type=int, action="append", help="cases (repeatable); default 1,000,000"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--worker", choices=TOOLS, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.data, args.repeat)
        return
    import duckdb
    import polars as pl

    versions = f"pyarrow {pa.__version__}, polars {pl.__version__}, duckdb {duckdb.__version__}"
    print(f"{versions}, {pa.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="mns-bench-") as folder:
        for rows in args.rows or [1_000_000]:
            bench(rows, args.repeat, Path(folder))


if __name__ == "__main__":
    main()
