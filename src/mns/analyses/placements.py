"""``placements``: the range, size and mix of placements for looked-after children.

Where the records hold placements (the SSDA903 return's placement type ``PLACE``, which
``mns-ssda903`` writes as the ``detail`` of ``placement`` service episodes, or a mapped
column), this analysis counts the audited children of each need group by placement type,
the places each type takes up at any one time and how long placements last. Audits of
looked-after children are among the samples the method has been used on (see
``docs/explanation/the-method.md``); this table, and its places (a year's placements times
their mean length), are mns's own addition.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mns import _tables
from mns._tables import TableLike
from mns.analyses import _common as common
from mns.analyses.extrapolate import _noted, _scaled_interval
from mns.analyses.weighting import WEIGHT, WEIGHT2, Weighting, for_a_year
from mns.disclosure import Block, Margin, Publication, Structure
from mns.plan.model import Plan

__all__ = ["PLACEMENT", "has_placements", "placement_codes", "placements"]

#: The service code of a placement in the records (what ``mns-ssda903`` writes).
PLACEMENT: Final = "placement"
#: Schema metadata: the date open placements are counted to, and the placement episodes of
#: cases that are not among the cases (left out).
AS_OF_KEY: Final = b"mns.placements_as_of"
OUTSIDE_KEY: Final = b"mns.placements_outside"


def placement_codes(plan: Plan | None) -> list[str]:
    """The record service codes that are placements: ``placement``, and the codes counted as
    a plan service delivered from a placement (``base = "placement"``)."""
    codes = {PLACEMENT}
    for service in plan.services if plan is not None else ():
        if service.base.strip().lower() == "placement":
            codes.update(service.received_as or (service.code,))
    return sorted(codes)


def has_placements(services: TableLike, plan: Plan | None = None) -> bool:
    """Whether ``services`` holds a placement with its type (see :func:`placements`)."""
    episodes = _episodes(services, placement_codes(plan))
    return bool(pc.any(pc.is_valid(episodes.column("placement_type"))).as_py())


def _cases(
    cases: TableLike, by: str, weighting: Weighting
) -> tuple[pa.Table, float, float, pa.Schema]:
    """``case_id``, group and weight of every case, the totals of the weights, and the
    cases' schema."""
    schema, cases = common.peek(cases, "cases")
    _tables.require(
        schema.names,
        ["case_id", by],
        "cases",
        "classify the cases first (mns.classify) or name another column in by=",
    )
    parts = []
    for raw in _tables.batches(
        cases, list(dict.fromkeys(["case_id", by, *weighting.columns])), what="cases"
    ):
        batch = weighting.add(raw)
        parts.append(
            pa.table(
                {
                    "case_id": common.as_text(batch.column("case_id")),
                    "__group": common.as_text(batch.column(by)),
                    "__w": batch.column(WEIGHT),
                    "__w2": batch.column(WEIGHT2),
                }
            )
        )
    table = pa.concat_tables(parts)
    total_w = float(pc.sum(table.column("__w")).as_py() or 0.0)
    total_w2 = float(pc.sum(table.column("__w2")).as_py() or 0.0)
    return table, total_w, total_w2, schema


def _episodes(services: TableLike, codes: Sequence[str]) -> pa.Table:
    parts = []
    wanted = ["case_id", "service", "detail", "start_date", "end_date"]
    for raw in _tables.batches(services, wanted, what="services"):
        keep = pc.fill_null(
            pc.is_in(common.as_text(raw.column("service")), value_set=pa.array(codes)), False
        )
        batch = raw.filter(keep)
        parts.append(
            pa.table(
                {
                    "case_id": common.as_text(batch.column("case_id")),
                    "placement_type": common.as_text(batch.column("detail")),
                    "start_date": batch.column("start_date").cast(pa.date32()),
                    "end_date": batch.column("end_date").cast(pa.date32()),
                }
            )
        )
    return pa.concat_tables(parts)


def placements(
    cases: TableLike,
    services: TableLike,
    by: str = "need_group",
    *,
    plan: Plan | None = None,
    codes: Sequence[str] | None = None,
    as_of: dt.date | None = None,
    weighting: Weighting | None = None,
    confidence: float = 0.95,
) -> pa.Table:
    """Placements of the audited children by need group and placement type.

    A placement is a service episode whose code is in ``codes`` (default
    :func:`placement_codes`: ``placement``, and the record codes of plan services delivered
    from a placement); its type is the episode's ``detail`` (the 903 placement type). Open
    placements (no end date) are counted to ``as_of`` (default: the latest start or end date
    of the placements). The cases are scaled to a year as in :func:`mns.capacity` (a
    ``weighting`` is required: :class:`~mns.Weighting`).

    One row per group and placement type, and one per type for all groups (``<by>`` null),
    sorted by ``placement_type``, ``<by>`` (the all-groups row last):

    - ``placement_type``, ``<by>`` (string).
    - ``children`` (int64): audited cases in the group with a placement of this type.
    - ``estimate``, ``estimate_low``, ``estimate_high`` (float64): such children a year.
    - ``placements`` (int64): their placements of this type; ``ended`` (int64): of those,
      placements that had ended by ``as_of``.
    - ``weeks_mean``, ``weeks_median`` (float64): how long ended placements lasted.
    - ``places``, ``places_low``, ``places_high`` (float64): places of this type the year's
      placements fill at any one time: their weeks (open ones to ``as_of``, so a lower
      bound) scaled to a year, divided by 52; the interval is that of the children a year,
      carried over in proportion.

    The schema metadata records ``as_of`` (``mns.placements_as_of``) and the placements of
    cases not among ``cases``, left out (``mns.placements_outside``).
    """
    weighting = for_a_year(weighting, "placements")
    span = weighting.span
    people, total_w, total_w2, schema = _cases(cases, by, weighting)
    episodes = _episodes(services, list(codes) if codes is not None else placement_codes(plan))
    joined = episodes.join(people, "case_id", join_type="inner", use_threads=False)
    outside = episodes.num_rows - joined.num_rows
    if as_of is None:
        latest = [pc.max(joined.column(c)).as_py() for c in ("start_date", "end_date")]
        known = [d for d in latest if d is not None]
        as_of = max(known) if known else None
    rows = _summarise(joined, as_of)
    declared = common.levels(plan, by, schema)
    table = _table(
        rows,
        by,
        declared=declared,
        total_w=total_w,
        total_w2=total_w2,
        span=span,
        confidence=confidence,
    )
    metadata = {
        **(table.schema.metadata or {}),
        AS_OF_KEY: (as_of.isoformat() if as_of else "").encode(),
        OUTSIDE_KEY: str(outside).encode(),
    }
    return _noted(table.replace_schema_metadata(metadata), weighting)


def _summarise(joined: pa.Table, as_of: dt.date | None) -> dict[tuple[Any, Any], dict[str, Any]]:
    """Per (placement type, group): the children, their weight, the placements, the ended
    ones' lengths in weeks and the weighted weeks of every placement."""
    out: dict[tuple[Any, Any], dict[str, Any]] = {}
    data = joined.to_pylist()
    for r in data:
        key = (r["placement_type"], r["__group"])
        acc = out.setdefault(key, {"children": {}, "placements": 0, "lengths": [], "weeks_w": 0.0})
        acc["children"][r["case_id"]] = r["__w"]
        acc["placements"] += 1
        start, end = r["start_date"], r["end_date"]
        if start is None:
            continue
        ended = end is not None and (as_of is None or end <= as_of)
        stop = end if ended else as_of
        if stop is None:
            continue
        weeks = max((stop - start).days, 0) / 7.0
        if ended:
            acc["lengths"].append(weeks)
        acc["weeks_w"] += r["__w"] * weeks
    return out


def _table(
    rows: dict[tuple[Any, Any], dict[str, Any]],
    by: str,
    *,
    declared: list[str],
    total_w: float,
    total_w2: float,
    span: float,
    confidence: float,
) -> pa.Table:
    types = sorted({t for t, _ in rows}, key=lambda t: (t is None, str(t)))
    observed = common.dense([g for _, g in rows], declared)
    keys: list[tuple[Any, Any]] = []
    for t in types:
        keys += [(t, g) for g in observed if (t, g) in rows or g in declared]
        keys.append((t, None))
    columns: dict[str, list[Any]] = {
        k: [] for k in ("children", "w", "placements", "ended", "mean", "median", "weeks_w")
    }
    for t, g in keys:
        if g is None:  # every group of the type (nulls of the group column are not cases)
            parts = [v for (tt, gg), v in rows.items() if tt == t]
        else:
            parts = [rows[(t, g)]] if (t, g) in rows else []
        weights: dict[str, float] = {}
        lengths: list[float] = []
        for p in parts:
            weights.update(p["children"])
            lengths += p["lengths"]
        columns["children"].append(len(weights))
        columns["w"].append(sum(weights.values()))
        columns["placements"].append(sum(p["placements"] for p in parts))
        columns["ended"].append(len(lengths))
        columns["mean"].append(float(np.mean(lengths)) if lengths else np.nan)
        columns["median"].append(float(np.median(lengths)) if lengths else np.nan)
        columns["weeks_w"].append(sum(p["weeks_w"] for p in parts))
    weight = np.asarray(columns["w"], dtype=np.float64)
    _, _, _, est_low, est_high = _scaled_interval(weight, total_w, total_w2, span, confidence)
    estimate = weight / span
    places = np.asarray(columns["weeks_w"], dtype=np.float64) / span / 52.0
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.where(estimate > 0, places * est_low / np.where(estimate > 0, estimate, 1), 0.0)
        high = np.where(estimate > 0, places * est_high / np.where(estimate > 0, estimate, 1), 0.0)
    table = pa.table(
        {
            "placement_type": pa.array([t for t, _ in keys], pa.string()),
            by: pa.array([g for _, g in keys], pa.string()),
            "children": pa.array(columns["children"], pa.int64()),
            "estimate": common.floats(estimate),
            "estimate_low": common.floats(est_low),
            "estimate_high": common.floats(est_high),
            "placements": pa.array(columns["placements"], pa.int64()),
            "ended": pa.array(columns["ended"], pa.int64()),
            "weeks_mean": common.floats(columns["mean"]),
            "weeks_median": common.floats(columns["median"]),
            "places": common.floats(places),
            "places_low": common.floats(low),
            "places_high": common.floats(high),
        }
    )
    groups = {by: None}
    per_type = ("placement_type",)
    structure = Structure(
        blocks=(
            # within a type each child (and placement) is in one group: the groups add up to
            # the type's row
            *(
                block
                for count in ("children", "placements")
                for block in (
                    Block(
                        count=count,
                        unless=groups,
                        table=per_type,
                        rows=(by,),
                        key=("placement_type", by),
                        total=Margin(label=f"{count}|type", key=per_type),
                    ),
                    Block(
                        count=count,
                        where=groups,
                        table=per_type,
                        label=f"{count}|type",
                        key=per_type,
                    ),
                )
            ),
            Block(count="ended", unless=groups, table=per_type, rows=(by,), base="placements"),
            Block(count="ended", where=groups, table=per_type, rows=(by,), base="placements"),
        ),
        derived={
            **dict.fromkeys(("estimate", "estimate_low", "estimate_high"), ("children",)),
            **dict.fromkeys(("weeks_mean", "weeks_median"), ("ended",)),
            **dict.fromkeys(("places", "places_low", "places_high"), ("children", "placements")),
        },
    )
    return common.finish(
        table,
        ["placement_type", by],
        structure,
        not_applicable=["weeks_mean", "weeks_median"],
        analysis="placements",
    )


#: What this module publishes (see :mod:`mns.disclosure.publication`).
PUBLICATIONS = (
    Publication(name="placements", title="Placements by need group and placement type"),
)
