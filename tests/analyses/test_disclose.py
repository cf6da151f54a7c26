"""Disclosure control: an adversary who knows every published cell and the row, column and
grand totals tries to recover each suppressed cell, and must fail.

Two attacks, written independently of :mod:`mns.disclosure` (in
:mod:`tests.disclosure.attack`): the LP interval attack and exact linear algebra. The
constraint matrix of a table with margins is totally unimodular, so the LP bounds are integers
and a cell is pinned exactly when they meet.

Both succeed against primary suppression alone, which shows they are strong enough.
"""

from __future__ import annotations

import io
from collections import defaultdict
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings, strategies as st

import mns
from mns.disclosure import (
    Block,
    Disclosed,
    Margin,
    Structure,
    csv_text,
    describe,
    disclose,
    structure_of,
    to_csv,
)
from mns.errors import MnsError
from tests.disclosure.attack import Cell, Equation, interval_attack, linear_attack, pinned

from ._data import case_rows, cases_table

# ------------------------------------------------------------------------------- 2-D tables


def grid_equations(matrix: np.ndarray[Any, Any]) -> tuple[list[Equation], dict[Cell, int]]:
    """A table's cells, its row, column and grand totals, and the equations between them."""
    rows, cols = matrix.shape
    value: dict[Cell, int] = {}
    for i in range(rows):
        for j in range(cols):
            value[(i, j)] = int(matrix[i, j])
        value[(i, "T")] = int(matrix[i].sum())
    for j in range(cols):
        value[("T", j)] = int(matrix[:, j].sum())
    value[("T", "T")] = int(matrix.sum())
    by_row: list[Equation] = [
        ({**{(i, j): 1 for j in range(cols)}, (i, "T"): -1}, 0) for i in [*range(rows), "T"]
    ]
    by_col: list[Equation] = [
        ({**{(i, j): 1 for i in range(rows)}, ("T", j): -1}, 0) for j in [*range(cols), "T"]
    ]
    return by_row + by_col, value


def long_table(matrix: np.ndarray[Any, Any]) -> pa.Table:
    rows, cols = matrix.shape
    return pa.table(
        {
            "row": [f"r{i}" for i in range(rows) for _ in range(cols)],
            "col": [f"c{j}" for _ in range(rows) for j in range(cols)],
            "n": pa.array(matrix.reshape(-1), pa.int64()),
        }
    )


def hidden_cells(disclosed: Disclosed, matrix: np.ndarray[Any, Any]) -> set[Cell]:
    _rows, cols = matrix.shape
    hidden: set[Cell] = set()
    for k, column in zip(
        disclosed.suppressed.column("row").to_pylist(),
        disclosed.suppressed.column("column").to_pylist(),
        strict=True,
    ):
        if column == "n":
            hidden.add((k // cols, k % cols))
    import json

    for label, key in zip(
        disclosed.totals.column("label").to_pylist(),
        disclosed.totals.column("key").to_pylist(),
        strict=True,
    ):
        parts = json.loads(key)
        if label == "n|row":
            hidden.add((int(parts[0][1:]), "T"))
        elif label == "n|col":
            hidden.add(("T", int(parts[0][1:])))
        elif label == "n|all":
            hidden.add(("T", "T"))
    return hidden


matrices = st.tuples(st.integers(1, 6), st.integers(1, 6), st.sampled_from([1, 3, 8])).flatmap(
    lambda rcm: st.lists(
        st.integers(0, 3 * rcm[2]) | st.integers(0, 4),
        min_size=rcm[0] * rcm[1],
        max_size=rcm[0] * rcm[1],
    ).map(lambda v: np.array(v, dtype=np.int64).reshape(rcm[0], rcm[1]))
)


@settings(max_examples=40)
@given(matrices, st.sampled_from([3, 5, 10]))
def test_no_suppressed_cell_can_be_recovered_from_the_margins(
    matrix: np.ndarray[Any, Any], min_count: int
) -> None:
    disclosed = disclose(long_table(matrix), min_count, count="n", rows="row", cols="col")
    equations, value = grid_equations(matrix)
    hidden = hidden_cells(disclosed, matrix)
    small = {c for c, v in value.items() if 0 < v < min_count}
    assert small <= hidden  # every small count, cell or total, is withheld
    assert not pinned(equations, hidden, value)


def test_the_attack_breaks_primary_suppression_alone() -> None:
    matrix = np.array([[2, 30, 40], [25, 35, 45], [20, 28, 33]])
    equations, value = grid_equations(matrix)
    assert pinned(equations, {(0, 0)}, value) == {(0, 0)}  # 2 = row total - 30 - 40
    disclosed = disclose(long_table(matrix), count="n", rows="row", cols="col")
    hidden = hidden_cells(disclosed, matrix)
    assert len(hidden) == 4  # a rectangle: the small cell and three partners
    assert not pinned(equations, hidden, value)


def test_the_attack_breaks_primary_suppression_on_random_tables() -> None:
    rng = np.random.default_rng(7)
    broken = tried = 0
    for _ in range(40):
        matrix = rng.poisson(rng.choice([2, 6, 12]), size=(rng.integers(2, 6), rng.integers(2, 6)))
        equations, value = grid_equations(matrix)
        primary = {c for c, v in value.items() if 0 < v < 5}
        if not primary:
            continue
        tried += 1
        broken += bool(pinned(equations, primary, value))
        assert not pinned(
            equations,
            hidden_cells(disclose(long_table(matrix), count="n", rows="row", cols="col"), matrix),
            value,
        )
    assert tried > 20
    assert broken > tried * 0.6


def test_bounds_can_pin_a_cell_the_equations_do_not() -> None:
    # the linear equations leave a free direction (+t, -t, -t, +t round the rectangle), but
    # non-negativity pins it: two zeros on one side of a rectangle of withheld cells
    matrix = np.array([[0, 0, 9], [3, 3, 9], [9, 9, 9]])
    equations, value = grid_equations(matrix)
    rectangle = {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert not linear_attack(equations, rectangle, value)
    intervals = interval_attack(equations, rectangle, value)
    assert intervals[(0, 0)] == pytest.approx((0.0, 0.0))
    # disclose never hides a zero, so its rectangles always have room to move
    disclosed = disclose(long_table(matrix), count="n", rows="row", cols="col")
    assert not pinned(equations, hidden_cells(disclosed, matrix), value)


# ------------------------------------------------------------------------------- linked tables


def profile_equations(profile: pa.Table) -> tuple[list[Equation], dict[Cell, int], dict[int, Cell]]:
    """Every equation between a profile's published numbers, across all its variables:
    each variable's values add up to the group's size; each value adds up over the groups;
    the groups add up to all cases."""
    value: dict[Cell, int] = {}
    shown: dict[int, Cell] = {}
    by_variable: dict[str, dict[tuple[Any, Any], int]] = defaultdict(dict)
    for i, r in enumerate(profile.to_pylist()):
        if r["variable"] == "cases":
            cell: Cell = ("n", r["need_group"])
        else:
            cell = (r["variable"], r["need_group"], r["value"])
            by_variable[r["variable"]][(r["need_group"], r["value"])] = i
        value[cell] = r["count"]
        shown[i] = cell
    groups = sorted({k[1] for k in value if k[0] == "n"}, key=repr)
    value[("N",)] = sum(value[("n", g)] for g in groups)
    equations: list[Equation] = [({**{("n", g): 1 for g in groups}, ("N",): -1}, 0)]
    for variable, cells in by_variable.items():
        values = sorted({v for _, v in cells}, key=repr)
        equations += [({**{(variable, g, v): 1 for v in values}, ("n", g): -1}, 0) for g in groups]
        for v in values:
            total = (variable, "total", v)
            value[total] = sum(value[(variable, g, v)] for g in groups)
            equations.append(({**{(variable, g, v): 1 for g in groups}, total: -1}, 0))
        equations.append(({**{(variable, "total", v): 1 for v in values}, ("N",): -1}, 0))
    return equations, value, shown


@settings(max_examples=10)
@given(case_rows(min_size=5, max_size=25))
def test_a_profile_survives_an_attack_on_all_its_tables_at_once(rows: list[dict[str, Any]]) -> None:
    profile = mns.profile(
        cases_table(rows).drop_columns(["ethnicity", "age"]), indicators=["mns.f1", "mns.c1"]
    )
    disclosed = disclose(profile)
    equations, value, shown = profile_equations(profile)
    hidden = {
        shown[i]
        for i, c in zip(
            disclosed.suppressed.column("row").to_pylist(),
            disclosed.suppressed.column("column").to_pylist(),
            strict=True,
        )
        if c == "count"
    }
    for label, key in zip(
        disclosed.totals.column("label").to_pylist(),
        disclosed.totals.column("key").to_pylist(),
        strict=True,
    ):
        import json

        parts = json.loads(key)
        if label == "sample.total":
            hidden.add(("N",))
        elif label == "count|col":
            hidden.add((parts[0], "total", parts[1]))
    # the bases are published too: all cases in the size rows, the group's size in the rest
    bases = [(r["variable"], r["need_group"], r["base"]) for r in disclosed.table.to_pylist()]
    if all(b is None for v, _, b in bases if v == "cases"):
        hidden.add(("N",))
    for group in {g for _, g, _ in bases}:
        if any(b is not None for v, g, b in bases if v != "cases" and g == group):
            hidden.discard(("n", group))
    assert {c for c, v in value.items() if 0 < v < 5} <= hidden
    assert not pinned(equations, hidden, value)


# ------------------------------------------------------------------- the record and the symbols


def test_derived_columns_follow_their_counts_and_the_record_holds_no_values() -> None:
    matrix = np.array([[2, 30], [25, 35]])
    table = mns.crosstab(
        cases_table(
            [
                {
                    "case_id": f"c{k}",
                    "need_group": g,
                    "area": a,
                    "cohort": "referral",
                    "la": "Q900",
                    "weight": 1.0,
                }
                for k, (g, a) in enumerate(
                    [("A", "X")] * 2 + [("A", "Y")] * 30 + [("B", "X")] * 25 + [("B", "Y")] * 35
                )
            ]
        ),
        "need_group",
        "area",
    )
    disclosed = disclose(table)
    assert disclosed.suppressed.column_names == ["row", "column", "reason"]
    reasons = {
        (r, c): why
        for r, c, why in zip(
            *(disclosed.suppressed.column(k).to_pylist() for k in ("row", "column", "reason")),
            strict=True,
        )
    }
    assert reasons[(0, "count")] == "primary"
    assert reasons[(0, "row_share")] == "derived"
    assert sum(1 for why in reasons.values() if why == "secondary") == 3
    assert disclosed.table.column("count").null_count == 4
    del matrix


def test_csv_uses_the_official_symbols() -> None:
    table = pa.table(
        {
            "g": ["A", "B", "C", "D"],
            "n": [3, 40, 50, 60],
            "share": [0.03, 0.4, None, 0.6],
            "note": ["x", None, "y", "w"],
        }
    )
    structure = Structure(blocks=(Block(count="n", rows=("g",)),), derived={"share": ("n",)})
    disclosed = disclose(describe(table, structure, not_applicable=["share"]))
    lines = csv_text(disclosed).strip().split("\n")
    assert lines[0] == "g,n,share,note"
    assert lines[1] == "A,c,c,x"  # a small count and its share: withheld, c
    assert lines[2] == "B,c,c,:"  # its partner (else A = total - B - C - D); a null note: ":"
    assert lines[3] == "C,50,z,y"  # a null share is "not applicable": z
    out = io.StringIO()
    to_csv(disclosed, out, digits=2)
    assert out.getvalue().split("\n")[4] == "D,60,0.60,w"


def test_rounding_and_switching_off() -> None:
    table = pa.table({"g": ["A", "B", "C"], "n": [13, 47, 52]})
    rounded = disclose(table, rounding=5, count="n", rows="g")
    assert rounded.table.column("n").to_pylist() == [15, 45, 50]
    off = disclose(pa.table({"g": ["A", "B"], "n": [1, 2]}), min_count=1, count="n", rows="g")
    assert off.suppressed.num_rows == 0
    with pytest.raises(ValueError, match="min_count"):
        disclose(table, min_count=0, count="n")


def test_structure_round_trips_through_the_schema() -> None:
    structure = Structure(
        blocks=(
            Block(
                count="n",
                table=("t",),
                rows=("g",),
                cols=("v",),
                where={"t": "x"},
                unless={"g": None},
                row_total=Margin(label="n", key=("g",), column="base"),
            ),
        ),
        derived={"share": ("n", "base")},
    )
    assert Structure.from_json(structure.to_json()) == structure
    table = pa.table({"t": ["x"], "g": ["a"], "v": ["b"], "n": [1], "base": [1], "share": [1.0]})
    assert structure_of(describe(table, structure)) == structure
    with pytest.raises(MnsError, match="does not say how its counts add up"):
        disclose(table)


def test_inconsistent_tables_are_refused() -> None:
    table = pa.table({"g": ["A", "A"], "n": [3, 4]})
    with pytest.raises(MnsError, match="same count elsewhere"):
        disclose(table, structure=Structure(blocks=(Block(count="n", label="x", key=("g",)),)))
