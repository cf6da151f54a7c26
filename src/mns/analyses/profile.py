"""``profile``: who is in each need group."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mns import _tables, engines, stats
from mns._tables import TableLike
from mns.aggregate import Measure, Spec
from mns.analyses import _common as common
from mns.analyses.weighting import WEIGHT, WEIGHT2, Weighting, or_unweighted
from mns.disclosure import SAMPLE, SAMPLE_TOTAL, Block, Margin, Publication, Structure
from mns.engines import EngineLike
from mns.errors import SchemaError
from mns.plan.model import Plan

__all__ = ["AGE_BANDS", "profile"]

#: The DfE's age bands (children in need statistics): under 1, 1-4, 5-9, 10-15, 16 and over.
AGE_BANDS: Final = (1, 5, 10, 16)
#: The fixed columns profiled when present, besides the indicators.
FIXED: Final = ("age_band", "sex", "ethnicity", "disability", "cohort")
SERVICE_PREFIX: Final = "service:"


def band_labels(edges: Sequence[int]) -> list[str]:
    """Labels of the age bands cut at ``edges``, written so they sort in age order:
    ``00 (under 1)``, ``01-04``, ``05-09``, ``10-15``, ``16+``."""
    if not edges or list(edges) != sorted(set(edges)) or edges[0] <= 0:
        raise ValueError(f"age_bands = {tuple(edges)} must be increasing whole ages above 0")
    labels = [f"00 (under {edges[0]})"]
    labels += [
        f"{a:02d}-{b - 1:02d}" if b - 1 > a else f"{a:02d}" for a, b in itertools.pairwise(edges)
    ]
    labels.append(f"{edges[-1]:02d}+")
    return labels


def age_band(age: pa.Array | pa.ChunkedArray, edges: Sequence[int]) -> pa.DictionaryArray:
    """Each age's band (a dictionary column); null ages give null. Ages are looked up in a
    table of bands by age (ages below 0 count as 0; above the table, as its last age)."""
    if isinstance(age, pa.ChunkedArray):
        age = age.combine_chunks()
    labels = pa.array(band_labels(edges))
    top = max(int(edges[-1]) + 1, 128)
    lookup = np.searchsorted(np.asarray(edges), np.arange(top), side="right").astype(np.int32)
    if not (pa.types.is_integer(age.type) or pa.types.is_floating(age.type)):
        raise SchemaError(
            f"cases column 'age' is {age.type}; ages must be whole numbers", field="age"
        )
    values = pc.fill_null(age, 0).to_numpy(zero_copy_only=False)
    index = lookup[np.clip(values, 0, top - 1).astype(np.intp)]
    mask = (
        np.asarray(age.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        if age.null_count
        else None
    )
    return pa.DictionaryArray.from_arrays(pa.array(index, pa.int32(), mask=mask), labels)


def _kind(field: pa.Field) -> str:
    """How a column is profiled: ``flag`` (true/false counts) or ``category`` (each value)."""
    return "flag" if pa.types.is_boolean(field.type) else "category"


def profile(
    cases: TableLike,
    by: str | None = "need_group",
    *,
    indicators: Iterable[str] | None = None,
    services: TableLike | None = None,
    plan: Plan | None = None,
    weighting: Weighting | None = None,
    age_bands: Sequence[int] = AGE_BANDS,
    confidence: float = 0.95,
    engine: EngineLike = None,
) -> pa.Table:
    """The make-up of each group of ``cases`` (by default each need group): its size and
    share of all cases, age bands, sex, ethnicity, disability, cohort, every indicator's
    values, and (with ``services``) the services received.

    One row per group, variable and value, sorted by those three:

    - ``<by>`` (string): the group (null: cases with no value of ``by``). With ``plan``,
      every need group of the plan is listed (plus ``unassigned`` and ``unknown``), even empty.
    - ``variable`` (string): ``cases`` (the group's size), ``age_band``, ``sex``,
      ``ethnicity``, ``disability``, ``cohort``, each indicator column (``cin.4B``...), and
      ``service:<code>`` for each service (plan services with ``plan``, else record codes).
    - ``value`` (string): the value (``true``/``false`` for flags; ratings ``0``-``3``; age
      bands ``00 (under 1)``, ``01-04``, ``05-09``, ``10-15``, ``16+``); null: not recorded.
      ``all`` in the ``cases`` rows.
    - ``count`` (int64): cases in the group with that value (``cases`` rows: the group's size).
    - ``base`` (int64): the cases the share is of: the group's size (``cases`` rows: all cases).
    - ``share``, ``share_low``, ``share_high`` (float64): ``count / base`` with its Wilson
      interval at ``confidence``. Shares of a group count unrecorded values in the base, so a
      variable's shares add to 1 including the null row.
    - with a ``weighting`` (:class:`~mns.Weighting`, e.g. ``Weighting.of(audit)``):
      ``estimate`` (float64), the weighted count (cases in the population), and the shares
      and intervals are weighted (Wilson with Kish's effective sample size and the finite
      population correction).

    ``indicators``: the indicator columns to profile (default: every ``<language>.<code>``
    column except classification's ``threshold.*``). Flags give ``true``/``false`` rows;
    ratings and categories a row per value. ``engine``: where the counting runs (see
    :mod:`mns.engines`; default local, or the engine of a ``mns.engines.use`` block).
    """
    schema, cases = common.peek(cases, "cases")
    names = schema.names
    if by is not None:
        _tables.require(
            names,
            [by],
            "cases",
            "classify the cases first (mns.classify) or name another column in by=",
        )
    weighting = or_unweighted(weighting)
    _tables.require(names, weighting.columns, "cases")
    chosen = (
        list(indicators)
        if indicators is not None
        else common.indicator_columns(schema, exclude=[by] if by else [])
    )
    _tables.require(names, chosen, "cases", "name indicator columns of the cases table")
    fixed = [v for v in FIXED if (v == "age_band" and "age" in names) or v in names]
    fixed = [v for v in fixed if v != by]
    received = common.received(services, plan) if services is not None else None
    if received is not None and not received.codes:
        received = None  # no service to flag
    if received is not None:
        _tables.require(names, ["case_id"], "cases")
    band_labels(age_bands)  # check the bands before reading

    variables: dict[str, str] = {}
    for v in [*fixed, *chosen]:
        if v == "age_band":
            variables[v] = "category"
        else:
            variables[v] = _kind(schema.field(v))
    for code in received.codes if received is not None else ():
        variables[f"{SERVICE_PREFIX}{code}"] = "flag"

    keys = (by,) if by else ()
    group_measures = [Measure("n", "count")]
    if weighting.weighted:
        group_measures += [Measure("w", "sum", WEIGHT), Measure("w2", "sum", WEIGHT2)]
    specs: dict[str, Spec] = {}
    for v, kind in variables.items():
        if kind == "flag" and not weighting.weighted:
            group_measures += [Measure(f"t:{v}", "true", v), Measure(f"v:{v}", "valid", v)]
        else:
            measures = [Measure("n", "count")]
            if weighting.weighted:
                measures.append(Measure("w", "sum", WEIGHT))
            specs[f"x:{v}"] = Spec(keys=(*keys, v), measures=measures)
    specs["groups"] = Spec(keys=keys, measures=group_measures)

    read = [*keys, *weighting.columns, *(c for c in chosen), *(v for v in fixed if v != "age_band")]
    if "age_band" in fixed:
        read.append("age")
    if received is not None:
        read.append("case_id")
    read = list(dict.fromkeys(read))

    def prepare(batch: pa.RecordBatch) -> pa.RecordBatch:
        if "age_band" in fixed:
            batch = batch.append_column("age_band", age_band(batch.column("age"), age_bands))
        if received is not None:
            batch = received.add_flags(batch, SERVICE_PREFIX)
        if weighting.weighted:
            batch = weighting.add(batch)
        return batch

    results = engines.run(specs, cases, prepare=prepare, columns=read, what="cases", engine=engine)
    return _assemble(
        results,
        variables,
        by,
        common.levels(plan, by, schema),
        weighted=weighting.weighted,
        confidence=confidence,
    )


def _column(table: pa.Table, name: str) -> list[Any]:
    return list(table.column(name).to_pylist())


#: One output row before the shares: group, variable, value, count, base, and (weighted)
#: the weighted count, the weighted base and the effective sample size of the base.
_PrevalenceRow = tuple[Any, str, Any, int, int, float, float, float]


class _Groups:
    """The groups' sizes (and weights) from the ``groups`` state."""

    def __init__(
        self, state: pa.Table, by: str | None, declared: Sequence[str], weighted: bool
    ) -> None:
        values = common.as_text(state.column(by)).to_pylist() if by else [None]
        self.state = state
        self.at = {g: i for i, g in enumerate(values)}
        self.groups = common.dense(values, declared) if by else [None]
        self.weighted = weighted
        self.n = {g: int(self.stat("n", g)) for g in self.groups}
        self.w = {
            g: float(self.stat("w", g)) if weighted else float(self.n[g]) for g in self.groups
        }
        self.w2 = {
            g: float(self.stat("w2", g)) if weighted else float(self.n[g]) for g in self.groups
        }

    def stat(self, name: str, g: Any) -> Any:
        i = self.at.get(g)
        return 0 if i is None else self.state.column(name)[i].as_py() or 0

    def n_eff(self, g: Any) -> float:
        return _kish(self.w[g], self.w2[g]) if self.weighted else float(self.n[g])


def _kish(w: float, w2: float) -> float:
    """Kish's effective sample size (infinite for a census: no sampling error)."""
    return w * w / w2 if w2 > 0 else float("inf")


def _rows(
    results: Mapping[str, pa.Table], variables: Mapping[str, str], by: str | None, groups: _Groups
) -> list[_PrevalenceRow]:
    n, w = groups.n, groups.w
    total = sum(n.values())
    all_w, all_w2 = sum(w.values()), sum(groups.w2.values())
    all_neff = _kish(all_w, all_w2) if groups.weighted else float(total)
    rows: list[_PrevalenceRow] = [
        (g, "cases", "all", n[g], total, w[g], all_w, all_neff) for g in groups.groups
    ]
    for variable, kind in variables.items():
        if kind == "flag" and not groups.weighted:
            cells = {}
            for g in groups.groups:
                t, v = int(groups.stat(f"t:{variable}", g)), int(groups.stat(f"v:{variable}", g))
                cells[g] = {"true": t, "false": v - t, None: n[g] - v}
            values: list[Any] = ["false", "true"]
            if any(cells[g][None] for g in groups.groups):
                values.append(None)
            rows += [
                (
                    g,
                    variable,
                    value,
                    cells[g][value],
                    n[g],
                    float(cells[g][value]),
                    float(n[g]),
                    groups.n_eff(g),
                )
                for g in groups.groups
                for value in values
            ]
            continue
        table = results[f"x:{variable}"]
        gcol = common.as_text(table.column(by)).to_pylist() if by else [None] * table.num_rows
        vcol = common.as_text(table.column(variable)).to_pylist()
        counts = _column(table, "n")
        weights = _column(table, "w") if groups.weighted else counts
        found = {
            (g, value): (int(c), float(wt))
            for g, value, c, wt in zip(gcol, vcol, counts, weights, strict=True)
        }
        values = common.dense(vcol)
        for g in groups.groups:
            for value in values:
                count, weight = found.get((g, value), (0, 0.0))
                rows.append((g, variable, value, count, n[g], weight, w[g], groups.n_eff(g)))
    return rows


def _assemble(
    results: Mapping[str, pa.Table],
    variables: Mapping[str, str],
    by: str | None,
    declared: Sequence[str],
    *,
    weighted: bool,
    confidence: float,
) -> pa.Table:
    groups = _Groups(results["groups"], by, declared, weighted)
    rows = _rows(results, variables, by, groups)
    # no rows (no cases, no declared groups): eight empty columns
    g, variable, value, count_, base_, weight, wbase, neff = (
        list(c) for c in (zip(*rows, strict=True) if rows else [()] * 8)
    )
    count = np.asarray(count_, dtype=np.float64)
    base = np.asarray(base_, dtype=np.float64)
    num, den = (np.asarray(weight), np.asarray(wbase)) if weighted else (count, base)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    if weighted:
        low, high = stats.wilson_arrays(
            share, np.ones_like(share), confidence, n_effective=np.asarray(neff)
        )
    else:
        low, high = stats.wilson_arrays(count, base, confidence)
    empty = ~(base > 0)
    columns: dict[str, pa.Array] = {}
    if by:
        columns[by] = pa.array(g, pa.string())
    columns["variable"] = pa.array(variable, pa.string())
    columns["value"] = pa.array(value, pa.string())
    columns["count"] = pa.array(count_, pa.int64())
    columns["base"] = pa.array(base_, pa.int64())
    columns["share"] = pa.array(share, pa.float64(), mask=empty)
    columns["share_low"] = pa.array(low, pa.float64(), mask=empty)
    columns["share_high"] = pa.array(high, pa.float64(), mask=empty)
    if weighted:
        columns["estimate"] = pa.array(weight, pa.float64())
    keys = (by,) if by else ()
    return common.finish(
        pa.table(columns),
        [*keys, "variable", "value"],
        _structure(keys, weighted),
        not_applicable=["share", "share_low", "share_high"],
        analysis="profile",
    )


def _structure(keys: tuple[str, ...], weighted: bool) -> Structure:
    """How a profile's counts add up: the groups' sizes add up to all cases (``cases`` rows);
    each variable's values add up to the group's size (shown in ``base``) and, over the
    groups, to the value's total."""
    derived = dict.fromkeys(
        ["share", "share_low", "share_high", *(["estimate"] if weighted else [])], ("count", "base")
    )
    # shared identities: the same group sizes and total as every other table of the cases
    n = f"{SAMPLE}.{keys[0]}" if len(keys) == 1 else "n"
    return Structure(
        blocks=(
            Block(
                count="count",
                where={"variable": "cases"},
                rows=keys,
                label=n,
                key=keys,
                total=Margin(label=SAMPLE_TOTAL, column="base"),
            ),
            Block(
                count="count",
                unless={"variable": "cases"},
                table=("variable",),
                rows=keys,
                cols=("value",),
                row_total=Margin(label=n, key=keys, column="base") if keys else None,
                total=Margin(label=SAMPLE_TOTAL, column=None if keys else "base"),
            ),
        ),
        derived=derived,
    )


#: What this module publishes (see :mod:`mns.disclosure.publication`).
PUBLICATIONS = (
    Publication(
        name="profile", title="Need groups: sizes, demography, indicators and services received"
    ),
)
