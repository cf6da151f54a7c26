"""Where the data's classes and the panel's need groups differ, and stable class labels at re-audit.

Class numbers are arbitrary, so classes are compared with need groups after *optimal label
matching*: each class is paired with at most one need group so that as many cases as
possible agree (the assignment problem, solved exactly by ``scipy.optimize.
linear_sum_assignment``). Cohen's kappa (``mns.stats.cohen_kappa``) is computed on the
matched labels; a class left
without a group (more classes than groups) keeps a label of its own and so counts as
disagreement.

At a re-audit the cases are new, so classes are aligned to the baseline's by their
estimated answer profiles: the distance between two classes is the mean, over the
indicators both models share, of the total variation distance between their answer
distributions (for a flag, the difference in prevalence).
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from mns._tables import TableLike, materialise
from mns.errors import MnsError, SchemaError
from mns.lca._suggest import Suggestion
from mns.stats import cohen_kappa

__all__ = ["ClassComparison", "align", "compare_classes", "distances", "match_labels"]


def match_labels(counts: npt.NDArray[np.float64]) -> list[tuple[int, int]]:
    """Row-column pairs that maximise the matched total of ``counts`` (each row and column at
    most once), sorted by row."""
    if counts.size == 0:
        return []
    solve: Any = importlib.import_module("scipy.optimize").linear_sum_assignment
    rows, cols = solve(-counts)
    return sorted((int(r), int(c)) for r, c in zip(rows, cols, strict=True))


@attrs.frozen(kw_only=True, eq=False)
class ClassComparison:
    """The data's classes against the panel's need groups, case by case.

    ``confusion`` has one row per class and need group (``class``, ``need_group``,
    ``cases``), zeros included. ``matching`` pairs each class with the need group it matches
    best (``class``, ``need_group``, ``agreeing``, ``class_cases``, ``group_cases``,
    ``share_of_class``, ``share_of_group``); unmatched classes have a null need group and
    unmatched groups a null class. ``kappa`` and ``agreement`` are computed after that
    matching, over the ``cases`` that have both a class and a need group; ``kappa_interval``
    is kappa's 95% interval (Fleiss, Cohen & Everitt), which takes the labels as given: the
    matching itself was chosen to agree, so read it as a little optimistic.
    """

    confusion: pa.Table
    matching: pa.Table
    kappa: float | None
    kappa_interval: tuple[float, float] | None
    agreement: float | None
    cases: int
    only_in_classes: int  #: cases with a class but no need group
    only_in_groups: int  #: cases with a need group but no class


def _text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    return pc.cast(column, pa.string())


def _groups(groups: TableLike, column: str, audit: str | None, role: str | None) -> pa.Table:
    what = "compare_classes"
    table = materialise(groups, what)
    for name in ("case_id", column):
        if name not in table.column_names:
            raise SchemaError(
                f"{what}: the need-group table has no {name!r} column (it has "
                f"{', '.join(table.column_names)}); pass column= to name the need-group column",
                field=name,
            )
    for name, wanted in (("audit", audit), ("role", role)):
        if wanted is not None:
            if name not in table.column_names:
                raise SchemaError(
                    f"{what}: {name}={wanted!r} was given but the table has no {name!r} column",
                    field=name,
                )
            table = table.filter(pc.equal(_text(table.column(name)), wanted))
            if table.num_rows == 0:
                raise MnsError(f"{what}: no row has {name} {wanted!r}", field=name)
    keys = [n for n in ("audit", "role") if n in table.column_names]
    if keys:
        combos = sorted({tuple(r.values()) for r in table.select(keys).to_pylist()}, key=str)
        if len(combos) > 1:
            listed = ", ".join(" / ".join(str(v) for v in c) for c in combos)
            raise MnsError(
                f"{what}: the table holds the need groups of several audits or roles ({listed}); "
                "choose one with audit= and role=",
                field="audit",
            )
    out = pa.table(
        {"case_id": _text(table.column("case_id")), "need_group": _text(table.column(column))}
    )
    out = out.filter(pc.is_valid(out["need_group"]))
    counts = pc.value_counts(out["case_id"])
    dup = counts.filter(pc.greater(counts.field("counts"), 1))
    if len(dup):
        first = sorted(v["values"] for v in dup.to_pylist())[0]
        raise MnsError(
            f"{what}: case {first!r} has more than one need group in the table", field="case_id"
        )
    return out


def compare_classes(
    result: Suggestion,
    groups: TableLike,
    *,
    column: str = "need_group",
    audit: str | None = None,
    role: str | None = None,
) -> ClassComparison:
    """Compare the classes of ``result`` with the need groups in ``groups``.

    ``groups`` is an ``assignments`` table (choose the audit and role when it holds several)
    or any table with ``case_id`` and a need-group column (``column``), such as classified
    cases. Cases are paired by ``case_id``.
    """
    table = _groups(groups, column, audit, role)
    members = result.membership.filter(pc.is_valid(result.membership["class"])).select(
        ["case_id", "class"]
    )
    joined = members.join(table, "case_id", join_type="inner")
    classes = sorted(int(c) for c in pc.unique(members["class"]).to_pylist())
    names = sorted(str(g) for g in pc.unique(table["need_group"]).to_pylist())
    cls = joined["class"].to_numpy(zero_copy_only=False).astype(np.int64)
    grp = joined["need_group"].to_pylist()
    ci = {c: i for i, c in enumerate(classes)}
    gi = {g: j for j, g in enumerate(names)}
    counts = np.zeros((len(classes), len(names)))
    for c, g in zip(cls, grp, strict=True):
        counts[ci[int(c)], gi[g]] += 1
    pairs = match_labels(counts)
    matched_group = {classes[r]: names[c] for r, c in pairs}
    matched_class = {names[c]: classes[r] for r, c in pairs}
    n = int(counts.sum())

    # kappa over the union of labels: a matched class takes its group's label
    labels = [*names, *(f"class {c}" for c in classes if c not in matched_group)]
    li = {v: i for i, v in enumerate(labels)}
    square = np.zeros((len(labels), len(labels)))
    for r, c in enumerate(classes):
        row = li[matched_group.get(c, f"class {c}")]
        square[row, : len(names)] += counts[r]
    agreement = float(np.trace(square)) / n if n else None
    stats = cohen_kappa(square.tolist())
    defined = not math.isnan(stats.kappa)

    confusion = pa.table(
        {
            "class": pa.array([c for c in classes for _ in names], pa.int32()),
            "need_group": pa.array([g for _ in classes for g in names], pa.string()),
            "cases": pa.array(
                [int(counts[ci[c], gi[g]]) for c in classes for g in names], pa.int64()
            ),
        }
    )
    rows: list[dict[str, Any]] = []
    for c in classes:
        g = matched_group.get(c)
        agree = int(counts[ci[c], gi[g]]) if g is not None else 0
        c_total = int(counts[ci[c]].sum())
        g_total = int(counts[:, gi[g]].sum()) if g is not None else None
        rows.append(
            {
                "class": c,
                "need_group": g,
                "agreeing": agree,
                "class_cases": c_total,
                "group_cases": g_total,
                "share_of_class": agree / c_total if c_total else None,
                "share_of_group": agree / g_total if g_total else None,
            }
        )
    for g in names:
        if g not in matched_class:
            g_total = int(counts[:, gi[g]].sum())
            rows.append(
                {
                    "class": None,
                    "need_group": g,
                    "agreeing": 0,
                    "class_cases": None,
                    "group_cases": g_total,
                    "share_of_class": None,
                    "share_of_group": 0.0 if g_total else None,
                }
            )
    matching = pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("class", pa.int32()),
                ("need_group", pa.string()),
                ("agreeing", pa.int64()),
                ("class_cases", pa.int64()),
                ("group_cases", pa.int64()),
                ("share_of_class", pa.float64()),
                ("share_of_group", pa.float64()),
            ]
        ),
    )
    in_both = set(joined["case_id"].to_pylist())
    return ClassComparison(
        confusion=confusion,
        matching=matching.sort_by([("class", "ascending"), ("need_group", "ascending")]),
        kappa=stats.kappa if defined else None,
        kappa_interval=(stats.low, stats.high) if defined and not math.isnan(stats.low) else None,
        agreement=agreement,
        cases=n,
        only_in_classes=sum(1 for c in members["case_id"].to_pylist() if c not in in_both),
        only_in_groups=sum(1 for c in table["case_id"].to_pylist() if c not in in_both),
    )


# --- alignment across audits ---------------------------------------------------------------


def _profiles(
    result: Suggestion, columns: Sequence[str]
) -> dict[int, dict[tuple[str, str], float]]:
    out: dict[int, dict[tuple[str, str], float]] = {}
    wanted = set(columns)
    for r in result.profiles.to_pylist():
        if r["indicator"] in wanted:
            out.setdefault(int(r["class"]), {})[(r["indicator"], r["value"])] = float(
                r["probability"]
            )
    return out


def distances(
    result: Suggestion, baseline: Suggestion
) -> tuple[list[int], list[int], npt.NDArray[np.float64]]:
    """Classes of ``result``, classes of ``baseline``, and the mean total-variation distance
    between each pair over the indicators both modelled."""
    common = sorted(set(result.columns) & set(baseline.columns))
    if not common:
        raise MnsError(
            "align: the two results modelled no indicator in common "
            f"({', '.join(result.columns)} against {', '.join(baseline.columns)}), "
            "so their classes cannot be matched"
        )
    mine, theirs = _profiles(result, common), _profiles(baseline, common)
    a_classes, b_classes = sorted(mine), sorted(theirs)
    dist = np.zeros((len(a_classes), len(b_classes)))
    for i, a in enumerate(a_classes):
        for j, b in enumerate(b_classes):
            total = 0.0
            for column in common:
                values = {v for (c, v) in mine[a] if c == column} | {
                    v for (c, v) in theirs[b] if c == column
                }
                total += 0.5 * sum(
                    abs(mine[a].get((column, v), 0.0) - theirs[b].get((column, v), 0.0))
                    for v in values
                )
            dist[i, j] = total / len(common)
    return a_classes, b_classes, dist


def _relabel(table: pa.Table, mapping: dict[int, int], keys: list[tuple[str, str]]) -> pa.Table:
    old = table.column("class")
    new = pa.array([None if v is None else mapping[v] for v in old.to_pylist()], pa.int32())
    index = table.column_names.index("class")
    return table.set_column(index, table.schema.field("class"), new).sort_by(keys)


def align(
    result: Suggestion, baseline: Suggestion, *, max_distance: float | None = None
) -> Suggestion:
    """``result`` with its classes renumbered to match ``baseline``'s, so labels stay stable
    from one audit to the next.

    Classes are paired by optimal matching on the distance between their answer profiles;
    a class farther than ``max_distance`` from its pair, or left over when ``result`` has
    more classes, gets a new number after the baseline's. ``alignment`` in the returned
    result shows each class, its label before, the baseline class and the distance.
    """
    a_classes, b_classes, dist = distances(result, baseline)
    pairs = match_labels(1.0 - dist)  # maximise closeness = minimise distance
    mapping: dict[int, int] = {}
    matched: dict[int, tuple[int, float]] = {}
    for i, j in pairs:
        if max_distance is None or dist[i, j] <= max_distance:
            mapping[a_classes[i]] = b_classes[j]
            matched[a_classes[i]] = (b_classes[j], float(dist[i, j]))
    following = max(b_classes, default=0) + 1
    for a in a_classes:
        if a not in mapping:
            mapping[a] = following
            following += 1
    alignment = pa.table(
        {
            "class": pa.array([mapping[a] for a in a_classes], pa.int32()),
            "previous_class": pa.array(a_classes, pa.int32()),
            "baseline_class": pa.array(
                [matched[a][0] if a in matched else None for a in a_classes], pa.int32()
            ),
            "distance": pa.array(
                [matched[a][1] if a in matched else None for a in a_classes], pa.float64()
            ),
        }
    ).sort_by("class")
    return attrs.evolve(
        result,
        classes=_relabel(result.classes, mapping, [("class", "ascending")]),
        indicators=_relabel(
            result.indicators, mapping, [("class", "ascending"), ("rank", "ascending")]
        ),
        demographics=_relabel(
            result.demographics,
            mapping,
            [("class", "ascending"), ("characteristic", "ascending"), ("order", "ascending")],
        ),
        rules=_relabel(result.rules, mapping, [("class", "ascending")]),
        membership=_relabel(result.membership, mapping, [("case_id", "ascending")]),
        profiles=_relabel(
            result.profiles,
            mapping,
            [("class", "ascending"), ("indicator", "ascending"), ("value", "ascending")],
        ),
        alignment=alignment,
    )
