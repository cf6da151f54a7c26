"""The attacker: linear algebra and an LP interval attack, written independently of
:mod:`mns.disclosure` (only scipy and the equations any reader of the tables can write).

- the **interval attack** (linear programming): the smallest and largest value each unknown
  count can take given the published counts, the equations between them and
  non-negativity; a count is pinned when they meet;
- **exact linear algebra** (rational Gaussian elimination): whether the equations alone
  determine a count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import pyarrow as pa
import scipy.sparse as sp
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

Cell = Any
Equation = tuple[dict[Cell, int], int]  # sum(coef * cell) == constant


def _reduce(
    equations: Sequence[Equation], unknown: set[Cell], value: Mapping[Cell, int]
) -> list[tuple[dict[Cell, int], int]]:
    """Move the published cells to the right-hand side."""
    out = []
    for coefs, constant in equations:
        rest = {c: k for c, k in coefs.items() if c in unknown}
        rhs = constant - sum(k * value[c] for c, k in coefs.items() if c not in unknown)
        out.append((rest, rhs))
    return out


def linear_attack(
    equations: Sequence[Equation], unknown: set[Cell], value: Mapping[Cell, int]
) -> set[Cell]:
    """The unknown cells the equations alone determine (exact rational elimination)."""
    cells = sorted(unknown, key=repr)
    index = {c: i for i, c in enumerate(cells)}
    rows = []
    for coefs, _ in _reduce(equations, unknown, value):
        row = [Fraction(0)] * len(cells)
        for c, k in coefs.items():
            row[index[c]] += k
        if any(row):
            rows.append(row)
    pivots: list[int] = []
    r = 0
    for col in range(len(cells)):
        pivot = next((i for i in range(r, len(rows)) if rows[i][col] != 0), None)
        if pivot is None:
            continue
        rows[r], rows[pivot] = rows[pivot], rows[r]
        lead = rows[r][col]
        rows[r] = [v / lead for v in rows[r]]
        for i in range(len(rows)):
            if i != r and rows[i][col] != 0:
                factor = rows[i][col]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[r], strict=True)]
        pivots.append(col)
        r += 1
    determined = set()
    for i, col in enumerate(pivots):
        if all(v == 0 for j, v in enumerate(rows[i]) if j != col):
            determined.add(cells[col])
    return determined


def interval_attack(
    equations: Sequence[Equation],
    unknown: set[Cell],
    value: Mapping[Cell, int],
    targets: set[Cell] | None = None,
    enough: Callable[[Cell, float, float], bool] | None = None,
) -> dict[Cell, tuple[float, float]]:
    """The interval of each target (default: every unknown cell) over every non-negative
    solution, solved per connected component of the unknown cells. With ``enough(cell, low,
    high)``, a target whose range is known to span at least an interval ``enough`` accepts
    gets that interval instead of its exact range (the attack cannot narrow it further)."""
    cells = sorted(unknown, key=repr)
    index = {c: i for i, c in enumerate(cells)}
    reduced = [(k, rhs) for k, rhs in _reduce(equations, unknown, value) if k]
    for coefs, rhs in _reduce(equations, unknown, value):
        assert coefs or rhs == 0, "the published figures must be consistent"
    rows, cols, data = [], [], []
    for r, (coefs, _) in enumerate(reduced):
        for c, k in coefs.items():
            rows.append(r)
            cols.append(index[c])
            data.append(float(k))
    a = sp.csr_matrix((data, (rows, cols)), shape=(len(reduced), len(cells)))
    b = np.array([rhs for _, rhs in reduced], dtype=float)
    link = (abs(a).T @ abs(a)).tocsr() if reduced else sp.csr_matrix((len(cells),) * 2)
    _, label = connected_components(link, directed=False)
    members: dict[int, list[int]] = defaultdict(list)
    for i, g in enumerate(label):
        members[int(g)].append(i)
    wanted = set(cells) if targets is None else targets
    bounds: dict[Cell, tuple[float, float]] = {}
    for group in members.values():
        mine = [i for i in group if cells[i] in wanted]
        if not mine:
            continue
        eqs = np.unique(a[:, group].nonzero()[0])
        a_eq, b_eq = a[eqs][:, group], b[eqs]
        at = {i: k for k, i in enumerate(group)}
        kwargs0: dict[str, Any] = {"bounds": (0, None), "method": "highs"}
        if len(eqs):
            kwargs0.update(A_eq=a_eq, b_eq=b_eq)
        # solutions pushing every undecided target down, then up, give each a range it
        # spans at least; a target whose range ``enough`` accepts is decided, and the
        # pushes repeat while they decide any; the rest are attacked one by one
        seen: dict[int, list[float]] = {i: [float(value[cells[i]])] for i in mine}
        for sign in (1.0, -1.0):
            while mine and enough is not None:
                objective = np.zeros(len(group))
                objective[[at[i] for i in mine]] = sign
                point = linprog(objective, **kwargs0)
                if point.status != 0:  # unbounded: says nothing of any one target
                    break
                for i in mine:
                    seen[i].append(float(point.x[at[i]]))
                left = [i for i in mine if not enough(cells[i], min(seen[i]), max(seen[i]))]
                for i in set(mine) - set(left):
                    bounds[cells[i]] = (min(seen[i]), max(seen[i]))
                if len(left) == len(mine):
                    break
                mine = left
        for i in mine:
            target = np.zeros(len(group))
            target[at[i]] = 1.0
            kwargs: dict[str, Any] = {"bounds": (0, None), "method": "highs"}
            if len(eqs):
                kwargs.update(A_eq=a_eq, b_eq=b_eq)
            low = linprog(target, **kwargs)
            high = linprog(-target, **kwargs)
            assert low.status == 0, "the published figures must be consistent"
            bounds[cells[i]] = (low.fun, np.inf if high.status == 3 else -high.fun)
    return bounds


def pinned(
    equations: Sequence[Equation], unknown: set[Cell], value: Mapping[Cell, int]
) -> set[Cell]:
    """Cells either attack recovers exactly."""
    found = linear_attack(equations, unknown, value)
    intervals = interval_attack(equations, unknown, value)
    return found | {c for c, (lo, hi) in intervals.items() if hi - lo < 0.5}


# ------------------------------------------------------------------ equations from tables


def _where(row: Mapping[str, Any], where: Mapping[str, Any]) -> bool:
    return all(row.get(k) == v for k, v in where.items())


def table_equations(
    tables: Mapping[str, pa.Table], structures: Mapping[str, Any]
) -> tuple[list[Equation], dict[Cell, int], dict[tuple[str, int, str], Cell]]:
    """The equations a reader can write from each table's declared structure (its published
    schema says how its counts add up): every count and total as a named quantity (labels
    with a dot name one quantity in every table), ``rows`` adding up to their totals,
    ``count + rest = base``. Returns the equations, each quantity's true value (from the
    undisclosed ``tables``) and which table cell shows which quantity."""
    equations: list[Equation] = []
    value: dict[Cell, int] = {}
    shows: dict[tuple[str, int, str], Cell] = {}

    def name(table: str, label: str) -> str:
        return label if "." in label else f"{table}:{label}"

    def put(cell: Cell, v: Any) -> None:
        v = int(v or 0)
        assert value.setdefault(cell, v) == v, f"{cell}: {v} != {value[cell]}"

    for t, table in tables.items():
        rows = table.to_pylist()
        for block in structures[t].blocks:
            label = block.label or block.count
            key_cols = (
                block.key if block.key is not None else (*block.table, *block.rows, *block.cols)
            )
            subs: dict[tuple[Any, ...], list[int]] = defaultdict(list)
            for i, row in enumerate(rows):
                if _where(row, block.where) and not (block.unless and _where(row, block.unless)):
                    subs[tuple(row[c] for c in block.table)].append(i)
            for members in subs.values():

                def total(
                    margin: Any,
                    default: str,
                    keys: Sequence[str],
                    row: Mapping[str, Any],
                    t: str = t,
                ) -> Cell:
                    if margin is None:
                        return (name(t, default), *(row[c] for c in keys))
                    return (name(t, margin.label), *(row[c] for c in margin.key))

                first = rows[members[0]]
                grand = total(block.total, f"{label}|all", block.table, first)
                by_row: dict[Cell, dict[Cell, int]] = defaultdict(dict)
                by_col: dict[Cell, dict[Cell, int]] = defaultdict(dict)
                line: dict[Cell, int] = {}
                for i in members:
                    row = rows[i]
                    cell = (name(t, label), *(row[c] for c in key_cols))
                    put(cell, row[block.count])
                    shows[(t, i, block.count)] = cell
                    line[cell] = 1
                    if block.base is not None:
                        base = total(block.row_total, block.base, (*block.table, *block.rows), row)
                        if (t, i, block.base) in shows:
                            base = shows[(t, i, block.base)]
                        put(base, row[block.base])
                        shows[(t, i, block.base)] = base
                        rest = (name(t, f"{label}|rest|{block.base}"), *(row[c] for c in key_cols))
                        put(rest, (row[block.base] or 0) - (row[block.count] or 0))
                        equations.append(({cell: 1, rest: 1, base: -1}, 0))
                    elif block.cols:
                        r = total(block.row_total, f"{label}|row", (*block.table, *block.rows), row)
                        c = total(block.col_total, f"{label}|col", (*block.table, *block.cols), row)
                        by_row[r][cell] = 1
                        by_col[c][cell] = 1
                        for margin, ident in ((block.row_total, r), (block.col_total, c)):
                            if margin is not None and margin.column:
                                shows[(t, i, margin.column)] = ident
                    if block.total is not None and block.total.column:
                        shows[(t, i, block.total.column)] = grand
                if block.base is not None:
                    continue
                if block.cols:
                    for sums in (by_row, by_col):
                        for ident, parts in sums.items():
                            put(ident, sum(value[p] for p in parts))
                            equations.append(({**parts, ident: -1}, 0))
                        put(grand, sum(value[i] for i in sums))
                        equations.append(({**dict.fromkeys(sums, 1), grand: -1}, 0))
                elif block.rows:
                    put(grand, sum(value[p] for p in line))
                    equations.append(({**line, grand: -1}, 0))
    return equations, value, shows
