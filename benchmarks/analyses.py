"""Benchmark: the MN&S analyses in mns against polars and DuckDB on the same data, same run.

Two measurements, each tool in its own subprocess (peak memory is the subprocess's
own high-water mark, ``VmHWM``):

1. **in memory**: 10M classified cases already loaded; time the profile of the need groups
   (sizes, age bands, sex, ethnicity, disability, cohort, prevalence of 40 indicators) and
   the crosstabs need group x area (about 2,800 areas) and need group x local authority.
   Target: mns no slower than the faster of polars and DuckDB (ratio <= 1.0).
2. **end to end** from a Parquet file: read, classify with the Exampleshire plan (need
   groups and service thresholds, the plan's rules translated into each tool's expressions,
   three-valued logic included), then the same analyses. Target: mns within 1.5x of polars'
   time, peak memory under 650 MB.

Every tool's results are checked against mns's (group sizes, the indicator counts and the
crosstab cells), so the tools compute the same tables. Run::

    .venv/bin/python -m benchmarks.analyses                 # 10M cases (data cached in /tmp)
    .venv/bin/python -m benchmarks.analyses --cases 1000000 # quicker
    .venv/bin/python -m benchmarks.analyses --parquet       # also: why Parquet reads differ

CI never fails on a timing: this prints figures and ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import reduce
from pathlib import Path
from typing import Any

from benchmarks.common import MIB, peak_rss

AREAS = 2800
FLAGS = 40
CATEGORIES = ("sex", "ethnicity", "disability", "cohort")
AGE_EDGES = (1, 5, 10, 16)
TARGET_MEMORY = 1.0  # mns / faster competitor, in memory
TARGET_E2E = 1.5  # mns / polars, end to end
TARGET_PEAK_MB = 650


# ------------------------------------------------------------------------------------------
# data


def _plan() -> Any:
    from mns.demo import plan_path
    from mns.plan import load_plan

    return load_plan(plan_path())


def _paths(folder: Path, n: int, seed: int) -> tuple[Path, Path]:
    stem = f"cases-{n}-{seed}-{AREAS}"
    return folder / f"{stem}.parquet", folder / f"{stem}-classified.parquet"


def make_data(folder: Path, n: int, seed: int) -> tuple[Path, Path]:
    """Synthetic cases (raw, for end to end) and the same cases classified (in memory)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    import mns
    from mns.classification import classify

    raw, classified = _paths(folder, n, seed)
    folder.mkdir(parents=True, exist_ok=True)
    if not raw.exists():
        print(f"making {n:,} synthetic cases -> {raw}", file=sys.stderr, flush=True)
        writer = None
        for batch in mns.synth.batches(n, seed=seed, areas=AREAS, batch_size=1 << 20):
            if writer is None:
                writer = pq.ParquetWriter(str(raw) + ".part", batch.schema)
            writer.write_batch(batch)
        assert writer is not None
        writer.close()
        os.replace(str(raw) + ".part", raw)
    if not classified.exists():
        print(f"classifying -> {classified}", file=sys.stderr, flush=True)
        plan = _plan()
        source = pq.ParquetFile(raw)
        reader = pa.RecordBatchReader.from_batches(
            source.schema_arrow, source.iter_batches(batch_size=1 << 20)
        )
        out = classify(reader, plan)
        writer = None
        for batch in out:
            if writer is None:
                writer = pq.ParquetWriter(str(classified) + ".part", batch.schema)
            writer.write_batch(batch)
        assert writer is not None
        writer.close()
        os.replace(str(classified) + ".part", classified)
    return raw, classified


def _flags(schema_names: list[str], types: dict[str, str]) -> list[str]:
    return [c for c in schema_names if c.startswith("cin.") and types[c] == "bool"][:FLAGS]


def columns_of(path: Path) -> tuple[list[str], list[str]]:
    """The indicator flags profiled and every column the analyses read."""
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    types = {f.name: str(f.type) for f in schema}
    flags = _flags(schema.names, types)
    return flags, ["need_group", "age", *CATEGORIES, "area", "la", *flags]


# ------------------------------------------------------------------------------------------
# the plan's rules in polars and DuckDB (benchmark only: mns runs them through mns.classify)


def _prepared(names: list[str]) -> Any:
    from mns.classification import prepare

    return prepare(_plan(), names)


DERIVED = "__derived."  # indicators a crosswalk derives, computed once as columns


def derived_columns(binding: Any) -> dict[str, Any]:
    """Each crosswalk-derived indicator the rules use: name -> its rule (over the cases)."""
    from mns.rules.bind import Derived

    return {
        name: src.expr for name, src in sorted(binding.sources.items()) if isinstance(src, Derived)
    }


def polars_rule(expr: Any, binding: Any, *, inline: bool = False) -> Any:
    """A checked mns rule as a polars expression (Kleene logic, as mns evaluates it).
    Derived indicators are read from their columns (computed first), unless ``inline``."""
    import polars as pl

    from mns.rules import ir
    from mns.rules.bind import Absent, Derived, Present

    def column(col: Any) -> Any:
        src = binding.sources[col.name]
        if isinstance(src, Present):
            return pl.col(col.name)
        if isinstance(src, Derived):
            return go(src.expr) if inline else pl.col(DERIVED + col.name)
        assert isinstance(src, Absent)
        if not src.year_specific:
            return pl.lit(None, dtype=pl.Boolean if col.type is ir.Type.BOOL else None)
        ref = pl.col("reference_date")
        year = ref.dt.year() + (ref.dt.month() >= 4).cast(pl.Int32)
        collected = pl.lit(True)
        if col.valid_from is not None:
            collected = collected & (year >= col.valid_from)
        if col.valid_to is not None:
            collected = collected & (year <= col.valid_to)
        return pl.when(collected).then(pl.lit(None, dtype=pl.Boolean)).when(~collected).then(False)

    def count(node: Any) -> tuple[Any, Any]:
        low = reduce(lambda a, b: a + b, [go(a).fill_null(False).cast(pl.Int16) for a in node.args])
        high = reduce(lambda a, b: a + b, [go(a).fill_null(True).cast(pl.Int16) for a in node.args])
        return low, high

    def go(node: Any) -> Any:
        if isinstance(node, ir.Const):
            return pl.lit(node.value)
        if isinstance(node, ir.Column):
            return column(node)
        if isinstance(node, ir.Not):
            return ~go(node.arg)
        if isinstance(node, ir.And):
            return reduce(lambda a, b: a & b, [go(a) for a in node.args])
        if isinstance(node, ir.Or):
            return reduce(lambda a, b: a | b, [go(a) for a in node.args])
        if isinstance(node, ir.Missing):
            return pl.lit(False) if isinstance(node.arg, ir.Count) else go(node.arg).is_null()
        if isinstance(node, ir.In):
            arg = go(node.arg)
            if isinstance(node.values[0], str):
                arg = arg.cast(pl.String)
            found = (
                pl.when(arg.is_null())
                .then(pl.lit(None, dtype=pl.Boolean))
                .otherwise(arg.is_in(list(node.values)))
            )
            return ~found if node.negated else found
        if isinstance(node, ir.Compare):
            if isinstance(node.left, ir.Count) or isinstance(node.right, ir.Count):
                a = count(node.left) if isinstance(node.left, ir.Count) else (go(node.left),) * 2
                b = count(node.right) if isinstance(node.right, ir.Count) else (go(node.right),) * 2
                (alo, ahi), (blo, bhi) = a, b
                op = node.op
                if op == ">=":
                    t, f = alo >= bhi, ahi < blo
                elif op == ">":
                    t, f = alo > bhi, ahi <= blo
                elif op == "<=":
                    t, f = ahi <= blo, alo > bhi
                elif op == "<":
                    t, f = ahi < blo, alo >= bhi
                else:
                    eq_t = (alo == ahi) & (blo == bhi) & (alo == blo)
                    eq_f = (ahi < blo) | (bhi < alo)
                    t, f = (eq_t, eq_f) if op == "==" else (eq_f, eq_t)
                return (
                    pl.when(t)
                    .then(True)
                    .when(f)
                    .then(False)
                    .otherwise(pl.lit(None, dtype=pl.Boolean))
                )
            left, right = go(node.left), go(node.right)
            if isinstance(node.right, ir.Const) and isinstance(node.right.value, str):
                left = left.cast(pl.String)
            return {
                "==": left.__eq__,
                "!=": left.__ne__,
                "<": left.__lt__,
                "<=": left.__le__,
                ">": left.__gt__,
                ">=": left.__ge__,
            }[node.op](right)
        raise AssertionError(node)

    return go(expr)


def sql_rule(expr: Any, binding: Any, *, inline: bool = False) -> str:
    """A checked mns rule as a SQL expression (SQL's AND/OR/NOT are Kleene, as mns).
    Derived indicators are read from their columns (computed first), unless ``inline``."""
    from mns.rules import ir
    from mns.rules.bind import Absent, Derived, Present

    def lit(value: Any) -> str:
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, (int, float)):
            return repr(value)
        if isinstance(value, dt.date):
            return f"DATE '{value.isoformat()}'"
        return "'" + str(value).replace("'", "''") + "'"

    def column(col: Any) -> str:
        src = binding.sources[col.name]
        if isinstance(src, Present):
            return f'"{col.name}"'
        if isinstance(src, Derived):
            return go(src.expr) if inline else f'"{DERIVED}{col.name}"'
        assert isinstance(src, Absent)
        if not src.year_specific:
            return "CAST(NULL AS BOOLEAN)" if col.type is ir.Type.BOOL else "NULL"
        year = "(year(reference_date) + CAST(month(reference_date) >= 4 AS INTEGER))"
        conds = ["TRUE"]
        if col.valid_from is not None:
            conds.append(f"{year} >= {col.valid_from}")
        if col.valid_to is not None:
            conds.append(f"{year} <= {col.valid_to}")
        collected = " AND ".join(conds)
        return (
            f"(CASE WHEN {collected} THEN CAST(NULL AS BOOLEAN) "
            f"WHEN NOT ({collected}) THEN FALSE END)"
        )

    def count(node: Any) -> tuple[str, str]:
        low = " + ".join(f"CAST(COALESCE({go(a)}, FALSE) AS INTEGER)" for a in node.args)
        high = " + ".join(f"CAST(COALESCE({go(a)}, TRUE) AS INTEGER)" for a in node.args)
        return f"({low})", f"({high})"

    def go(node: Any) -> str:
        if isinstance(node, ir.Const):
            return lit(node.value)
        if isinstance(node, ir.Column):
            return column(node)
        if isinstance(node, ir.Not):
            return f"(NOT {go(node.arg)})"
        if isinstance(node, ir.And):
            return "(" + " AND ".join(go(a) for a in node.args) + ")"
        if isinstance(node, ir.Or):
            return "(" + " OR ".join(go(a) for a in node.args) + ")"
        if isinstance(node, ir.Missing):
            return "FALSE" if isinstance(node.arg, ir.Count) else f"({go(node.arg)} IS NULL)"
        if isinstance(node, ir.In):
            arg = go(node.arg)
            values = ", ".join(lit(v) for v in node.values)
            found = f"(CASE WHEN {arg} IS NULL THEN NULL ELSE {arg} IN ({values}) END)"
            return f"(NOT {found})" if node.negated else found
        if isinstance(node, ir.Compare):
            if isinstance(node.left, ir.Count) or isinstance(node.right, ir.Count):
                alo, ahi = (
                    count(node.left) if isinstance(node.left, ir.Count) else (go(node.left),) * 2
                )
                blo, bhi = (
                    count(node.right) if isinstance(node.right, ir.Count) else (go(node.right),) * 2
                )
                op = node.op
                if op == ">=":
                    t, f = f"{alo} >= {bhi}", f"{ahi} < {blo}"
                elif op == ">":
                    t, f = f"{alo} > {bhi}", f"{ahi} <= {blo}"
                elif op == "<=":
                    t, f = f"{ahi} <= {blo}", f"{alo} > {bhi}"
                elif op == "<":
                    t, f = f"{ahi} < {blo}", f"{alo} >= {bhi}"
                else:
                    eq_t = f"({alo} = {ahi} AND {blo} = {bhi} AND {alo} = {blo})"
                    eq_f = f"({ahi} < {blo} OR {bhi} < {alo})"
                    t, f = (eq_t, eq_f) if op == "==" else (eq_f, eq_t)
                return f"(CASE WHEN {t} THEN TRUE WHEN {f} THEN FALSE END)"
            sql_op = {"==": "=", "!=": "<>"}.get(node.op, node.op)
            return f"({go(node.left)} {sql_op} {go(node.right)})"
        raise AssertionError(node)

    return go(expr)


# ------------------------------------------------------------------------------------------
# the analyses, per tool; each returns a checksum of the tables it computed


def _check(
    sizes: dict[str, int], flags: dict[str, int], area_cells: dict[str, int], la_cells: int
) -> dict[str, Any]:
    return {
        "sizes": dict(sorted(sizes.items())),
        "flags_true": dict(sorted(flags.items())),
        "area_nonzero": dict(sorted(area_cells.items())),
        "la_nonzero": la_cells,
    }


def mns_analyses(cases: Any, flags: list[str]) -> dict[str, Any]:
    import pyarrow.compute as pc

    import mns

    prof = mns.profile(cases, indicators=flags)
    by_area = mns.crosstab(cases, "need_group", "area")
    by_la = mns.crosstab(cases, "need_group", "la")
    sizes_rows = prof.filter(pc.equal(prof.column("variable"), "cases"))
    sizes = dict(
        zip(
            sizes_rows.column("need_group").to_pylist(),
            sizes_rows.column("count").to_pylist(),
            strict=True,
        )
    )
    true_rows = prof.filter(pc.equal(prof.column("value"), "true"))
    flag_true: dict[str, int] = {}
    for variable, count in zip(
        true_rows.column("variable").to_pylist(), true_rows.column("count").to_pylist(), strict=True
    ):
        if variable in flags:
            flag_true[variable] = flag_true.get(variable, 0) + count
    nonzero = by_area.filter(pc.greater(by_area.column("count"), 0))
    area_cells: dict[str, int] = {}
    for g in nonzero.column("need_group").to_pylist():
        area_cells[g] = area_cells.get(g, 0) + 1
    la_cells = int(pc.sum(pc.greater(by_la.column("count"), 0)).as_py())
    return _check(sizes, flag_true, area_cells, la_cells)


def polars_analyses(lf: Any, flags: list[str], engine: str = "auto") -> dict[str, Any]:
    """Every table as one lazy query each, run together by ``pl.collect_all`` (polars'
    recommendation: the shared scan and sub-plans are computed once)."""
    import polars as pl

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
    sizes = (
        lf.group_by(g)
        .agg(pl.len().alias("n"))
        .with_columns((pl.col("n") / pl.col("n").sum()).alias("share"))
    )
    tables = [lf.group_by(g, band.alias("age_band")).agg(pl.len().alias("n"))]
    tables += [lf.group_by(g, c).agg(pl.len().alias("n")) for c in CATEGORIES]
    tables = [
        t.with_columns((pl.col("n") / pl.col("n").sum().over(g)).alias("share")) for t in tables
    ]
    prevalence = lf.group_by(g).agg(
        pl.len().alias("n"),
        *[pl.col(f).sum().alias(f"{f}:true") for f in flags],
        *[pl.col(f).count().alias(f"{f}:valid") for f in flags],
    )
    crosstabs = []
    for other in ("area", "la"):
        t = lf.group_by(g, other).agg(pl.len().alias("count"))
        crosstabs.append(
            t.with_columns(
                (pl.col("count") / pl.col("count").sum().over(g)).alias("row_share"),
                (pl.col("count") / pl.col("count").sum().over(other)).alias("col_share"),
            )
        )
    done = pl.collect_all([sizes, *tables, prevalence, *crosstabs], engine=engine)
    sizes_df, prevalence_df = done[0], done[1 + len(tables)]
    area_df, la_df = done[-2], done[-1]
    size_map = {
        str(k): int(v)
        for k, v in zip(sizes_df[g].cast(pl.String).to_list(), sizes_df["n"].to_list(), strict=True)
    }
    flag_true = {f: int(prevalence_df[f"{f}:true"].sum()) for f in flags}
    area_cells: dict[str, int] = {}
    for k in area_df[g].cast(pl.String).to_list():
        area_cells[k] = area_cells.get(k, 0) + 1
    return _check(size_map, flag_true, area_cells, la_df.height)


def duckdb_analyses(con: Any, flags: list[str]) -> dict[str, Any]:
    g = "need_group"
    sizes = con.sql(
        f"SELECT {g}, count(*) AS n, count(*) / sum(count(*)) OVER () AS share "
        f"FROM cases GROUP BY {g}"
    ).fetchall()
    band = (
        f"CASE WHEN age < {AGE_EDGES[0]} THEN '00 (under 1)' "
        f"WHEN age < {AGE_EDGES[1]} THEN '01-04' "
        f"WHEN age < {AGE_EDGES[2]} THEN '05-09' WHEN age < {AGE_EDGES[3]} THEN '10-15' "
        "WHEN age IS NOT NULL THEN '16+' END"
    )
    for key in (band, *CATEGORIES):
        con.sql(
            f"SELECT {g}, {key} AS v, count(*) AS n, "
            f"count(*) / sum(count(*)) OVER (PARTITION BY {g}) AS share "
            f"FROM cases GROUP BY 1, 2"
        ).to_arrow_table()
    prev = con.sql(
        f"SELECT {g}, count(*) AS n, "
        + ", ".join(
            f'sum(CAST("{f}" AS INTEGER)) AS "{f}:true", count("{f}") AS "{f}:valid"' for f in flags
        )
        + f" FROM cases GROUP BY {g}"
    ).to_arrow_table()
    tabs = [
        con.sql(
            f"SELECT {g}, {other}, count(*) AS count, "
            f"count(*) / sum(count(*)) OVER (PARTITION BY {g}) AS row_share, "
            f"count(*) / sum(count(*)) OVER (PARTITION BY {other}) AS col_share "
            f"FROM cases GROUP BY 1, 2"
        ).to_arrow_table()
        for other in ("area", "la")
    ]
    size_map = {str(k): int(n) for k, n, _ in sizes}
    flag_true = {f: int(sum(v or 0 for v in prev.column(f"{f}:true").to_pylist())) for f in flags}
    area_cells: dict[str, int] = {}
    for k in tabs[0].column(g).to_pylist():
        area_cells[str(k)] = area_cells.get(str(k), 0) + 1
    return _check(size_map, flag_true, area_cells, tabs[1].num_rows)


# ------------------------------------------------------------------------------------------
# workers (one per tool and measurement, each in its own process)


def _best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def _rules_columns(raw: Path) -> list[str]:
    import pyarrow.parquet as pq

    schema = pq.read_schema(raw)
    prep = _prepared(schema.names)
    needed: set[str] = set()
    for rule in (*prep.groups, *prep.thresholds):
        needed.update(prep.binding.leaves(rule.expr))
    return sorted(needed & set(schema.names))


def worker(task: str, raw: Path, classified: Path, repeat: int) -> dict[str, Any]:
    flags, cols = columns_of(classified)
    tool, what = task.split("-", 1)
    if what == "memory":
        if tool == "mns":
            import pyarrow.parquet as pq

            data = pq.read_table(classified, columns=cols)
            seconds, check = _best(lambda: mns_analyses(data, flags), repeat)
        elif tool == "polars":
            import polars as pl

            data = pl.read_parquet(classified, columns=cols)
            seconds, check = _best(lambda: polars_analyses(data.lazy(), flags), repeat)
        else:
            import duckdb

            con = duckdb.connect()
            column_list = ", ".join(f'"{c}"' for c in cols)
            con.execute(
                f"CREATE TABLE cases AS SELECT {column_list} FROM read_parquet('{classified}')"
            )
            seconds, check = _best(lambda: duckdb_analyses(con, flags), repeat)
    else:
        rule_cols = _rules_columns(raw)
        read = sorted({*rule_cols, *(c for c in cols if c != "need_group")})
        start = time.perf_counter()
        if tool == "mns":
            check = mns_end_to_end(raw, read, flags)
        elif tool == "polars":
            check = polars_end_to_end(raw, read, flags)
        else:
            check = duckdb_end_to_end(raw, read, flags)
        seconds = time.perf_counter() - start
    peak_mb = peak_rss() / MIB
    return {"task": task, "seconds": seconds, "peak_mb": peak_mb, "check": check}


def mns_end_to_end(raw: Path, read: list[str], flags: list[str]) -> dict[str, Any]:
    """Read the needed columns batch by batch, classify as they come (mns.classify streams a
    RecordBatchReader), keep the columns the analyses use, then analyse."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mns.aggregate import compact
    from mns.classification import classify

    # Arrow's jemalloc pool returns memory to the system promptly (the default, mimalloc,
    # keeps about 200 MB more resident here); an unbuffered read (pre_buffer off, 1 MiB
    # buffered stream) holds one batch, not a whole row group's column chunks
    with contextlib.suppress(NotImplementedError):
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    source = pq.ParquetFile(raw, pre_buffer=False, buffer_size=1 << 20)
    schema = pa.schema([source.schema_arrow.field(c) for c in read])
    batches = source.iter_batches(batch_size=1 << 17, columns=read)
    reader = pa.RecordBatchReader.from_batches(schema, batches)
    keep = ["need_group", "age", *CATEGORIES, "area", "la", *flags]
    classified = classify(reader, _plan())
    cases = pa.Table.from_batches([compact(b.select(keep)) for b in classified])
    return mns_analyses(cases, flags)


def polars_end_to_end(raw: Path, read: list[str], flags: list[str]) -> dict[str, Any]:
    # classified in the same pass as every table, on the streaming engine (bounded memory)
    return polars_analyses(polars_classified(raw, read), flags, engine="streaming")


def polars_classified(source: Any, read: list[str]) -> Any:
    """The cases of ``source`` (Parquet paths for ``pl.scan_parquet``) classified by the
    plan, lazily: the ``read`` columns, ``need_group`` and each service's threshold."""
    import polars as pl

    prep = _prepared(read)
    group: Any = pl.when(pl.lit(False)).then(pl.lit(None, dtype=pl.String))
    for rule in prep.groups:
        expr = polars_rule(rule.expr, prep.binding)
        group = (
            group.when(expr).then(pl.lit(rule.code)).when(expr.is_null()).then(pl.lit("unknown"))
        )
    # an Enum of the groups, as polars recommends for a fixed set of strings
    codes = pl.Enum([*(rule.code for rule in prep.groups), "unknown", "unassigned"])
    group = group.otherwise(pl.lit("unassigned")).cast(codes).alias("need_group")
    thresholds = [
        polars_rule(t.expr, prep.binding).alias(f"threshold.{t.code}") for t in prep.thresholds
    ]
    derived = [
        polars_rule(rule, prep.binding, inline=True).alias(DERIVED + name)
        for name, rule in derived_columns(prep.binding).items()
    ]
    return (
        pl.scan_parquet(source)
        .select(read)
        .with_columns(derived)
        .with_columns(group, *thresholds)
        .select(pl.exclude(f"^{re.escape(DERIVED)}.*$"))
    )


def duckdb_end_to_end(raw: Path, read: list[str], flags: list[str]) -> dict[str, Any]:
    import duckdb

    prep = _prepared(read)
    whens = []
    for rule in prep.groups:
        sql = sql_rule(rule.expr, prep.binding)
        whens.append(f"WHEN {sql} THEN '{rule.code}' WHEN ({sql}) IS NULL THEN 'unknown'")
    group = "CASE " + " ".join(whens) + " ELSE 'unassigned' END AS need_group"
    thresholds = [
        f'{sql_rule(t.expr, prep.binding)} AS "threshold.{t.code}"' for t in prep.thresholds
    ]
    con = duckdb.connect()
    column_list = ", ".join(f'"{c}"' for c in read)
    derived = [
        f'{sql_rule(rule, prep.binding, inline=True)} AS "{DERIVED}{name}"'
        for name, rule in derived_columns(prep.binding).items()
    ]
    con.execute(
        f"CREATE TABLE cases AS SELECT {column_list}, {group}, {', '.join(thresholds)} "
        f"FROM (SELECT *, {', '.join(derived)} FROM read_parquet('{raw}'))"
    )
    return duckdb_analyses(con, flags)


def _run(task: str, raw: Path, classified: Path, repeat: int) -> dict[str, Any]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.analyses",
            "--worker",
            task,
            "--raw",
            str(raw),
            "--classified",
            str(classified),
            "--repeat",
            str(repeat),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"{task} failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# ------------------------------------------------------------------------------------------
# Parquet reading: where pyarrow's time goes


def parquet_report(raw: Path, read: list[str]) -> None:
    import polars as pl
    import pyarrow as pa
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(raw).metadata
    print(
        f"\nParquet file: {meta.num_rows:,} rows, {meta.num_row_groups} row groups, "
        f"{meta.num_columns} columns; reading {len(read)}"
    )
    variants: list[tuple[str, Callable[[], Any]]] = [
        ("pyarrow read_table, all columns", lambda: pq.read_table(raw)),
        ("pyarrow read_table, needed columns", lambda: pq.read_table(raw, columns=read)),
        ("  + pre_buffer=False", lambda: pq.read_table(raw, columns=read, pre_buffer=False)),
        ("  + use_threads=False", lambda: pq.read_table(raw, columns=read, use_threads=False)),
        ("  + buffer_size=8 MiB", lambda: pq.read_table(raw, columns=read, buffer_size=8 << 20)),
        ("pyarrow dataset scanner, needed columns", lambda: _dataset(raw, read)),
        ("pyarrow ParquetFile.iter_batches, needed", lambda: _iterate(raw, read)),
        ("polars read_parquet, needed columns", lambda: pl.read_parquet(raw, columns=read)),
    ]
    for name, fn in variants:
        seconds, _ = _best(fn, 2)
        print(f"  {name:44s} {seconds:7.3f} s")
    del pa


def _iterate(raw: Path, read: list[str]) -> int:
    import pyarrow.parquet as pq

    return sum(
        b.num_rows for b in pq.ParquetFile(raw).iter_batches(batch_size=1 << 20, columns=read)
    )


def _dataset(raw: Path, read: list[str]) -> Any:
    import pyarrow.dataset as ds

    return ds.dataset(raw).to_table(columns=read)


# ------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs in memory (best kept)")
    parser.add_argument("--rounds", type=int, default=2, help="turns each tool takes (best kept)")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "mns-benchmarks")
    parser.add_argument("--parquet", action="store_true", help="also time Parquet read variants")
    parser.add_argument("--only", choices=["memory", "e2e"], help="run one measurement")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--raw", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--classified", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "prepare":
        raw, classified = make_data(args.data, args.cases, args.seed)
        print(json.dumps({"raw": str(raw), "classified": str(classified)}))
        return
    if args.worker == "parquet":
        _, cols = columns_of(args.classified)
        read = sorted({*_rules_columns(args.raw), *(c for c in cols if c != "need_group")})
        parquet_report(args.raw, read)
        return
    if args.worker:
        print(json.dumps(worker(args.worker, args.raw, args.classified, args.repeat)))
        return
    # this process stays small: the data are made and used in subprocesses, so that each
    # subprocess's peak memory is its own (a forked child starts with its parent's pages)
    prepared = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.analyses",
            "--worker",
            "prepare",
            "--cases",
            str(args.cases),
            "--seed",
            str(args.seed),
            "--data",
            str(args.data),
        ],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    paths = json.loads(prepared.stdout.strip().splitlines()[-1])
    raw, classified = Path(paths["raw"]), Path(paths["classified"])
    print(
        f"\n{args.cases:,} cases, about {AREAS:,} areas, {FLAGS} indicators; "
        f"best of {args.repeat} runs (in memory) and of {args.rounds} rounds"
    )
    results: dict[str, dict[str, Any]] = {}
    measures = ["memory", "e2e"] if args.only is None else [args.only]
    # the machine is shared: the tools take turns, round after round, and each keeps its
    # best round, so that a burst of load elsewhere does not favour one of them
    for what in measures:
        for _ in range(args.rounds):
            for tool in ("mns", "polars", "duckdb"):
                task = f"{tool}-{what}"
                r = _run(task, raw, classified, args.repeat)
                if task not in results or r["seconds"] < results[task]["seconds"]:
                    results[task] = r
        for tool in ("mns", "polars", "duckdb"):
            r = results[f"{tool}-{what}"]
            name = f"{tool}-{what}"
            print(
                f"  {name:16s} {r['seconds']:8.3f} s   peak {r['peak_mb']:7.0f} MB",
                flush=True,
            )
    for what in measures:
        reference = results[f"mns-{what}"]["check"]
        for tool in ("polars", "duckdb"):
            if results[f"{tool}-{what}"]["check"] != reference:
                raise SystemExit(f"{tool} ({what}) computed different tables from mns")
    print("\nall tools computed the same tables")
    if "memory" in measures:
        mine = results["mns-memory"]["seconds"]
        fastest = min(results["polars-memory"]["seconds"], results["duckdb-memory"]["seconds"])
        ratio = mine / fastest
        print(
            f"in memory: mns / faster of polars and DuckDB = {ratio:.2f} "
            f"(target <= {TARGET_MEMORY})"
        )
    if "e2e" in measures:
        ratio = results["mns-e2e"]["seconds"] / results["polars-e2e"]["seconds"]
        peak = results["mns-e2e"]["peak_mb"]
        print(
            f"end to end: mns / polars = {ratio:.2f} (target <= {TARGET_E2E}); "
            f"mns peak {peak:.0f} MB (target < {TARGET_PEAK_MB} MB)"
        )
    if args.parquet:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.analyses",
                "--worker",
                "parquet",
                "--raw",
                str(raw),
                "--classified",
                str(classified),
            ],
            check=True,
        )


if __name__ == "__main__":
    main()
