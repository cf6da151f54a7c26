"""``areas``: need by neighbourhood, as rates per 10,000 children."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from mns import _tables, engines, stats
from mns._tables import TableLike
from mns.aggregate import Measure, Spec
from mns.analyses import _common as common
from mns.analyses.crosstab import grid
from mns.disclosure import YEAR, Block, Margin, Publication, Structure
from mns.engines import EngineLike
from mns.errors import MnsError
from mns.plan.model import Plan

__all__ = ["areas"]


def _population(population: TableLike, area: str, children: str) -> dict[Any, float | None]:
    out: dict[Any, float | None] = {}
    for batch in _tables.batches(population, [area, children], what="population"):
        keys = common.as_text(batch.column(area)).to_pylist()
        values = batch.column(children).to_pylist()
        for key, value in zip(keys, values, strict=True):
            if key in out:
                raise MnsError(
                    f"population: area {key!r} is listed twice; give one row per area",
                    item=key,
                    field=area,
                )
            if value is not None and (not isinstance(value, (int, float)) or value < 0):
                raise MnsError(
                    f"population: area {key!r} has {children} = {value!r}; "
                    "it must be a number, 0 or more",
                    item=key,
                    field=children,
                )
            out[key] = None if value is None else float(value)
    return out


def areas(
    cases: TableLike,
    population: TableLike,
    by: str | None = "need_group",
    *,
    area: str = "area",
    children: str = "children",
    per: int = 10_000,
    plan: Plan | None = None,
    confidence: float = 0.95,
    engine: EngineLike = None,
) -> pa.Table:
    """Cases by area (postcode district or locality) and group, as rates per ``per`` children.

    ``population`` is the user's table of children by area: an ``area`` column matching the
    cases' ``area`` values and a ``children`` column (e.g. mid-year estimates of residents
    under 18; :func:`mns.synth.population` makes a synthetic one).

    One row per area and group (every area of the population table or the cases; with
    ``plan``, every need group), sorted by ``<area>`` then ``<by>``:

    - ``<area>``, ``<by>`` (string); ``count`` (int64): cases;
      ``area_total`` (int64): cases in the area, all groups.
    - ``population`` (float64): children in the area (null when the population table lacks
      the area: its rates are null too).
    - ``rate``, ``rate_low``, ``rate_high`` (float64): cases per ``per`` children, with the exact
      (Garwood) Poisson interval for the count (1 case: 0.0253 to 5.572 cases).

    With ``by=None``: one row per area (``count``, ``population``, ``rate``...).
    """
    if per <= 0:
        raise ValueError(f"per = {per} must be positive")
    pop = _population(population, area, children)
    schema, cases = common.peek(cases, "cases")
    keys = (area, by) if by else (area,)
    spec = Spec(keys=keys, measures=(Measure("count", "count"),))
    state = engines.run({"x": spec}, cases, columns=list(keys), what="cases", engine=engine)["x"]
    declared_areas = sorted(k for k in pop if k is not None)
    if by:
        a_all, g_all, matrix = grid(
            state,
            area,
            by,
            "count",
            row_levels=declared_areas,
            col_levels=common.levels(plan, by, schema),
        )
    else:
        observed = common.as_text(state.column(area)).to_pylist()
        a_all = common.dense(observed, declared_areas)
        g_all = [None]
        found = dict(zip(observed, state.column("count").to_pylist(), strict=True))
        matrix = np.array([[found.get(a, 0)] for a in a_all], dtype=np.int64)
    nr, ng = matrix.shape
    counts = matrix.reshape(-1)
    population_ = np.array(
        [np.nan if pop.get(a) is None else pop[a] for a in a_all], dtype=np.float64
    )
    people = np.repeat(population_, ng)
    low, high = stats.garwood_arrays(counts, confidence)
    ok = np.isfinite(people) & (people > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(ok, per / np.where(ok, people, 1.0), np.nan)

    def floats(values: Any) -> pa.Array:
        return pa.array(values, pa.float64(), mask=~np.isfinite(values))

    columns: dict[str, pa.Array] = {
        area: pa.array(np.repeat(np.array(a_all, dtype=object), ng).tolist(), pa.string()),
    }
    if by:
        columns[by] = pa.array(np.tile(np.array(g_all, dtype=object), nr).tolist(), pa.string())
    columns["count"] = pa.array(counts, pa.int64())
    if by:
        columns["area_total"] = pa.array(np.repeat(matrix.sum(axis=1), ng), pa.int64())
    columns["population"] = floats(people)
    columns["rate"] = floats(counts * scale)
    columns["rate_low"] = floats(low * scale)
    columns["rate_high"] = floats(high * scale)
    table = pa.table(columns)
    if by:
        block = Block(
            count="count",
            rows=(area,),
            cols=(by,),
            # shared identities: the year's cases by area, by group and in all
            row_total=Margin(label=f"{YEAR}.{area}", key=(area,), column="area_total"),
            col_total=Margin(label=f"{YEAR}.{by}", key=(by,)),
            total=Margin(label=f"{YEAR}.total"),
        )
    else:
        block = Block(
            count="count",
            rows=(area,),
            label=f"{YEAR}.{area}",
            key=(area,),
            total=Margin(label=f"{YEAR}.total"),
        )
    structure = Structure(
        blocks=(block,), derived=dict.fromkeys(("rate", "rate_low", "rate_high"), ("count",))
    )
    return common.finish(table, list(keys), structure, analysis="areas")


#: What this module publishes (see :mod:`mns.disclosure.publication`).
PUBLICATIONS = (
    Publication(name="areas", title="The year's cases per area"),
    Publication(name="areas_by_group", title="The year's cases per area and need group"),
)
