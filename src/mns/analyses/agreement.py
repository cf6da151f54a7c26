"""``agreement``: how far two (or more) audit groups put the same cases in the same need groups."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc

from mns import _tables, stats
from mns._tables import TableLike
from mns.analyses import _common as common
from mns.classification import UNASSIGNED
from mns.disclosure import Block, Publication, Structure
from mns.errors import MnsError

__all__ = ["STATISTICS", "agreement"]

#: The statistics an agreement table reports, one or more rows each.
STATISTICS: Final = (
    "cases",
    "only_a",
    "only_b",
    "confusion",
    "observed_agreement",
    "expected_agreement",
    "cohen_kappa",
    "group_agreement",
    "fleiss_kappa",
)
_COLUMNS: Final = (
    "statistic",
    "side_a",
    "side_b",
    "group_a",
    "group_b",
    "count",
    "estimate",
    "low",
    "high",
    "z",
    "p_value",
)


def _read(assignments: TableLike) -> pa.Table:
    wanted = ["case_id", "audit", "role", "need_group", "consensus"]
    parts = [
        pa.table(
            {
                "case_id": common.as_text(batch.column("case_id")),
                "audit": common.as_text(batch.column("audit")),
                "role": common.as_text(batch.column("role")),
                "need_group": common.as_text(batch.column("need_group")),
                "consensus": batch.column("consensus").cast(pa.bool_()),
            }
        )
        for batch in _tables.batches(assignments, wanted, what="assignments")
    ]
    if not parts:
        return pa.table(
            {
                k: pa.array([], t)
                for k, t in (
                    ("case_id", pa.string()),
                    ("audit", pa.string()),
                    ("role", pa.string()),
                    ("need_group", pa.string()),
                    ("consensus", pa.bool_()),
                )
            }
        )
    return pa.concat_tables(parts)


def _rows_of(table: pa.Table, name: str) -> pa.Table:
    """The assignments of the audit group ``name``: a role, else an audit."""
    roles = set(pc.unique(table.column("role")).to_pylist())
    audits = set(pc.unique(table.column("audit")).to_pylist())
    if name in roles:
        return table.filter(pc.equal(table.column("role"), name))
    if name in audits:
        return table.filter(pc.equal(table.column("audit"), name))
    raise MnsError(
        f"agreement: no assignments with role or audit {name!r} (roles: "
        f"{', '.join(sorted(r for r in roles if r)) or 'none'}; audits: "
        f"{', '.join(sorted(a for a in audits if a)) or 'none'})",
        field="role",
    )


def _side(table: pa.Table, name: str) -> dict[str, str]:
    """case_id -> need group as the audit group ``name`` placed it."""
    chosen = _rows_of(table, name)
    found: dict[str, list[tuple[str, bool | None]]] = {}
    for case, group, consensus in zip(
        chosen.column("case_id").to_pylist(),
        chosen.column("need_group").to_pylist(),
        chosen.column("consensus").to_pylist(),
        strict=True,
    ):
        found.setdefault(case, []).append((group if group is not None else UNASSIGNED, consensus))
    out: dict[str, str] = {}
    for case, rows in found.items():
        groups = {g for g, _ in rows}
        if len(groups) == 1:
            out[case] = rows[0][0]
            continue
        agreed = {g for g, c in rows if c}
        if len(agreed) == 1:
            out[case] = agreed.pop()
            continue
        raise MnsError(
            f"agreement: case {case!r} has {len(rows)} assignments by {name!r} with different need "
            f"groups ({', '.join(sorted(groups))}) and no single consensus one; mark the panel's "
            "decision with consensus = true",
            item=case,
            field="need_group",
        )
    return out


def agreement(
    assignments: TableLike, a: str, b: str, *others: str, confidence: float = 0.95
) -> pa.Table:
    """Agreement between audit groups' need-group assignments (the first use: the
    professional audit against the shadow audit of service users).

    ``a``, ``b`` (and ``others``) name roles (``professional``, ``shadow``, ``mixed``,
    ``rules``) or, failing that, audits. A case one group could not place (need group null)
    counts as ``unassigned``. Cases placed by only one side are counted (``only_a``,
    ``only_b``), not silently dropped; the statistics use cases both placed.

    A tidy table, one row per statistic (per pair of sides, per group), sorted by
    ``statistic``, ``side_a``, ``side_b``, ``group_a``, ``group_b``. Columns: ``statistic``,
    ``side_a``, ``side_b``, ``group_a``, ``group_b`` (string), ``count`` (int64),
    ``estimate``, ``low``, ``high``, ``z``, ``p_value`` (float64). Statistics:

    - ``cases``: cases both sides placed; ``only_a``, ``only_b``: cases one side placed.
    - ``confusion``: cases placed in ``group_a`` by ``side_a`` and ``group_b`` by ``side_b``
      (every combination of the groups either side used).
    - ``observed_agreement``: cases placed alike (``count``) and their share with its Wilson
      interval; ``expected_agreement``: the share expected by chance.
    - ``cohen_kappa``: Cohen's kappa with Fleiss, Cohen & Everitt's interval, and the z test
      of kappa = 0.
    - ``group_agreement``: per group, the cases both put in it (``count``) and the specific
      agreement ``2 n_gg / (n_g. + n_.g)``.
    - ``fleiss_kappa`` (three or more sides): Fleiss' kappa over the cases every side placed
      (``side_a`` lists the sides), with its z test.

    With more than two sides, the pairwise statistics are given for every pair.
    """
    sides = [a, b, *others]
    if len(set(sides)) != len(sides):
        raise ValueError(f"agreement: the sides must differ, not {sides}")
    table = _read(assignments)
    for name in sides:
        _rows_of(table, name)  # every side must exist before any is read
    placed = {name: _side(table, name) for name in sides}
    rows: list[dict[str, Any]] = []
    for left, right in itertools.combinations(sides, 2):
        rows += _pair(left, right, placed[left], placed[right], confidence)
    if len(sides) > 2:
        rows += _fleiss(sides, placed)
    out = pa.table(
        {
            c: pa.array(
                [r.get(c) for r in rows],
                pa.int64()
                if c == "count"
                else (
                    pa.float64()
                    if c in ("estimate", "low", "high", "z", "p_value")
                    else pa.string()
                ),
            )
            for c in _COLUMNS
        }
    )
    pair = ("side_a", "side_b")
    structure = Structure(
        blocks=(
            Block(
                count="count",
                where={"statistic": "confusion"},
                table=pair,
                rows=("group_a",),
                cols=("group_b",),
            ),
            Block(
                count="count",
                where={"statistic": "group_agreement"},
                label="count",
                key=(*pair, "group_a", "group_b"),
            ),
            Block(count="count", where={"statistic": "cases"}, label="count|all", key=pair),
            Block(count="count", where={"statistic": "only_a"}, label="only_a", key=pair),
            Block(count="count", where={"statistic": "only_b"}, label="only_b", key=pair),
            Block(
                count="count", where={"statistic": "observed_agreement"}, label="agreed", key=pair
            ),
            Block(
                count="count", where={"statistic": "fleiss_kappa"}, label="fleiss_cases", key=pair
            ),
        ),
        derived={"estimate": ("count",), "low": ("count",), "high": ("count",)},
    )
    return common.finish(
        out,
        ["statistic", "side_a", "side_b", "group_a", "group_b"],
        structure,
        not_applicable=[
            "side_b",
            "group_a",
            "group_b",
            "count",
            "estimate",
            "low",
            "high",
            "z",
            "p_value",
        ],
        analysis="agreement",
    )


def _pair(
    left: str, right: str, a: Mapping[str, str], b: Mapping[str, str], confidence: float
) -> list[dict[str, Any]]:
    both = sorted(set(a) & set(b))
    groups = sorted({a[c] for c in both} | {b[c] for c in both})
    at = {g: i for i, g in enumerate(groups)}
    matrix = [[0] * len(groups) for _ in groups]
    for case in both:
        matrix[at[a[case]]][at[b[case]]] += 1
    base = {"side_a": left, "side_b": right}
    rows: list[dict[str, Any]] = [
        {**base, "statistic": "cases", "count": len(both)},
        {**base, "statistic": "only_a", "count": len(set(a) - set(b))},
        {**base, "statistic": "only_b", "count": len(set(b) - set(a))},
    ]
    for i, ga in enumerate(groups):
        for j, gb in enumerate(groups):
            rows.append(
                {
                    **base,
                    "statistic": "confusion",
                    "group_a": ga,
                    "group_b": gb,
                    "count": matrix[i][j],
                }
            )
    agreed = sum(matrix[i][i] for i in range(len(groups)))
    low, high = stats.wilson(agreed, len(both), confidence) if both else (None, None)
    kappa = stats.cohen_kappa(matrix, confidence) if both else None
    rows.append(
        {
            **base,
            "statistic": "observed_agreement",
            "count": agreed,
            "estimate": _num(agreed / len(both)) if both else None,
            "low": _num(low),
            "high": _num(high),
        }
    )
    rows.append(
        {
            **base,
            "statistic": "expected_agreement",
            "estimate": _num(kappa.expected) if kappa else None,
        }
    )
    if kappa is not None:
        rows.append(
            {
                **base,
                "statistic": "cohen_kappa",
                "estimate": _num(kappa.kappa),
                "low": _num(kappa.low),
                "high": _num(kappa.high),
                "z": _num(kappa.z),
                "p_value": _num(kappa.p),
            }
        )
    for i, g in enumerate(groups):
        row_total = sum(matrix[i])
        col_total = sum(matrix[k][i] for k in range(len(groups)))
        specific = 2 * matrix[i][i] / (row_total + col_total) if row_total + col_total else None
        rows.append(
            {
                **base,
                "statistic": "group_agreement",
                "group_a": g,
                "group_b": g,
                "count": matrix[i][i],
                "estimate": specific,
            }
        )
    return rows


def _fleiss(sides: Sequence[str], placed: Mapping[str, Mapping[str, str]]) -> list[dict[str, Any]]:
    common_cases = sorted(set.intersection(*(set(placed[s]) for s in sides)))
    label = ",".join(sides)
    if not common_cases:
        return [{"statistic": "fleiss_kappa", "side_a": label, "count": 0}]
    groups = sorted({placed[s][c] for s in sides for c in common_cases})
    at = {g: i for i, g in enumerate(groups)}
    counts = []
    for case in common_cases:
        row = [0] * len(groups)
        for s in sides:
            row[at[placed[s][case]]] += 1
        counts.append(row)
    kappa = stats.fleiss_kappa(counts)
    return [
        {
            "statistic": "fleiss_kappa",
            "side_a": label,
            "count": len(common_cases),
            "estimate": _num(kappa.kappa),
            "z": _num(kappa.z),
            "p_value": _num(kappa.p),
        }
    ]


def _num(value: float | None) -> float | None:
    if value is None or math.isnan(value):  # NaN: not defined here
        return None
    return float(value)


#: What this module publishes (see :mod:`mns.disclosure.publication`).
PUBLICATIONS = (
    Publication(name="agreement", title="Agreement between the audit groups' need groups"),
)
