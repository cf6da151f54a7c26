"""``crosstab``: counts of cases by any two fields, with row and column shares."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import pyarrow as pa

from mns import engines
from mns._tables import TableLike
from mns.aggregate import Measure, Spec
from mns.analyses import _common as common
from mns.disclosure import Block, Margin, Structure
from mns.engines import EngineLike
from mns.plan.model import Plan

__all__ = ["crosstab", "grid"]

_OUTPUT: Final = ("count", "row_total", "col_total", "row_share", "col_share")


def grid(
    state: pa.Table,
    rows: str,
    cols: str,
    count: str,
    *,
    row_levels: Sequence[Any] = (),
    col_levels: Sequence[Any] = (),
) -> tuple[list[Any], list[Any], np.ndarray[Any, Any]]:
    """A merged state with keys ``rows`` and ``cols`` as a dense matrix of ``count``: the
    row values, the column values and the counts (zero where a combination is absent)."""
    r_values = common.as_text(state.column(rows)).to_pylist()
    c_values = common.as_text(state.column(cols)).to_pylist()
    r_all = common.dense(r_values, row_levels)
    c_all = common.dense(c_values, col_levels)
    r_at = {v: i for i, v in enumerate(r_all)}
    c_at = {v: i for i, v in enumerate(c_all)}
    matrix = np.zeros((len(r_all), len(c_all)), dtype=np.int64)
    ri = np.fromiter((r_at[v] for v in r_values), dtype=np.int64, count=len(r_values))
    ci = np.fromiter((c_at[v] for v in c_values), dtype=np.int64, count=len(c_values))
    np.add.at(
        matrix,
        (ri, ci),
        np.asarray(state.column(count).to_numpy(zero_copy_only=False), dtype=np.int64),
    )
    return r_all, c_all, matrix


def crosstab(
    cases: TableLike,
    rows: str,
    cols: str,
    *,
    plan: Plan | None = None,
    engine: EngineLike = None,
) -> pa.Table:
    """Cases counted by the values of two columns (e.g. ``need_group`` by ``area``).

    One row per combination of values (every combination of the values seen, zeros included;
    with ``plan``, every need group of the plan), sorted by ``rows`` then ``cols``:

    - ``<rows>``, ``<cols>`` (string): the two values (null: not recorded);
    - ``count`` (int64): cases with both values;
    - ``row_total`` (int64): cases with that ``rows`` value; ``col_total`` (int64): with that
      ``cols`` value;
    - ``row_share`` (float64): ``count / row_total``; ``col_share``: ``count / col_total``
      (null when the total is 0).

    ``engine``: where the counting runs (see :mod:`mns.engines`; default local, or the
    engine of a ``mns.engines.use`` block).
    """
    if rows == cols:
        raise ValueError(f"crosstab: rows and cols are both {rows!r}; name two different columns")
    for name in (rows, cols):
        if name in _OUTPUT:
            raise ValueError(
                f"crosstab: a column named {name!r} clashes with an output column; rename it first"
            )
    schema, cases = common.peek(cases, "cases")
    spec = Spec(keys=(rows, cols), measures=(Measure("count", "count"),))
    state = engines.run({"x": spec}, cases, columns=[rows, cols], what="cases", engine=engine)["x"]
    r_all, c_all, matrix = grid(
        state,
        rows,
        cols,
        "count",
        row_levels=common.levels(plan, rows, schema),
        col_levels=common.levels(plan, cols, schema),
    )
    return _table(rows, cols, r_all, c_all, matrix)


def _table(
    rows: str, cols: str, r_all: list[Any], c_all: list[Any], matrix: np.ndarray[Any, Any]
) -> pa.Table:
    nr, nc = matrix.shape
    row_tot = matrix.sum(axis=1)
    col_tot = matrix.sum(axis=0)
    counts = matrix.reshape(-1)
    rt = np.repeat(row_tot, nc)
    ct = np.tile(col_tot, nr)
    with np.errstate(divide="ignore", invalid="ignore"):
        row_share = counts / np.where(rt > 0, rt, 1)
        col_share = counts / np.where(ct > 0, ct, 1)
    table = pa.table(
        {
            rows: pa.array(np.repeat(np.array(r_all, dtype=object), nc).tolist(), pa.string()),
            cols: pa.array(np.tile(np.array(c_all, dtype=object), nr).tolist(), pa.string()),
            "count": pa.array(counts, pa.int64()),
            "row_total": pa.array(rt, pa.int64()),
            "col_total": pa.array(ct, pa.int64()),
            "row_share": pa.array(row_share, pa.float64(), mask=rt == 0),
            "col_share": pa.array(col_share, pa.float64(), mask=ct == 0),
        }
    )
    structure = Structure(
        blocks=(
            Block(
                count="count",
                rows=(rows,),
                cols=(cols,),
                row_total=Margin(label="count|row", key=(rows,), column="row_total"),
                col_total=Margin(label="count|col", key=(cols,), column="col_total"),
            ),
        ),
        derived={"row_share": ("count", "row_total"), "col_share": ("count", "col_total")},
    )
    return common.finish(
        table,
        [rows, cols],
        structure,
        not_applicable=["row_share", "col_share"],
        analysis="crosstab",
    )
