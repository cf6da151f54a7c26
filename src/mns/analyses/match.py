"""``match``: what each need group receives against what the plan says it needs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mns import _tables, engines
from mns._tables import TableLike
from mns.aggregate import Measure, Spec
from mns.analyses import _common as common
from mns.disclosure import SAMPLE, SAMPLE_TOTAL, Block, Margin, Publication, Structure
from mns.engines import EngineLike
from mns.plan.model import Plan

__all__ = ["STATUSES", "match"]

#: What a need group x service cell tells the planning group (see :func:`match`).
STATUSES: Final = ("met", "partly met", "unmet", "unplanned")
#: Schema metadata: case ids with services received that are not among the audited cases,
#: and service episodes left out because their dates miss the audit's period.
UNMATCHED_KEY: Final = b"mns.unmatched_services"
OUTSIDE_KEY: Final = b"mns.services_outside_period"
_BELOW: Final = "below:"
_ANY: Final = "__any_service"
_RECEIVED: Final = "received:"
_ELIGIBLE: Final = "eligible:"
_UNMET: Final = "unmet:"
_MET: Final = "met:"


def match(
    cases: TableLike,
    services: TableLike,
    *,
    plan: Plan,
    period: tuple[dt.date | None, dt.date | None] | None = None,
    engine: EngineLike = None,
) -> pa.Table:
    """Match needs with services: for each need group and service, who receives it, who
    meets its threshold, and whether the plan offers it to that group.

    ``cases`` must be classified (``need_group`` and the ``threshold.<service>`` columns, from
    :func:`mns.classify`); ``services`` are the episodes received (record codes count as the
    plan services that list them in ``received_as``). One row per need group and service
    (the plan's need groups, then ``unassigned`` and ``unknown``, or with an audit group's
    grouping from :func:`mns.assign` ``(not placed)`` and ``(not audited)``; the plan's
    services, then record services the plan does not have), sorted by ``need_group`` and
    ``service``:

    - ``need_group``, ``service`` (string); ``in_plan`` (bool): the service is one of the
      plan's; ``planned`` (bool): the plan offers it to this group.
    - ``cases`` (int64): cases in the group.
    - ``received`` (int64): cases in the group that received the service.
    - ``eligible`` (int64): cases in the group meeting the service's threshold (all the
      group's cases when the service has no threshold; null for services not in the plan);
      ``eligible_unknown`` (int64): cases whose threshold result is unknown.
    - ``unmet`` (int64): planned cells only: eligible cases that did not receive it
      (needed by the plan, not received); null where not planned.
    - ``unplanned`` (int64): cells not planned only: cases that received it anyway; null where
      planned.
    - ``received_below_threshold`` (int64): cases that received the service without meeting
      its threshold (threshold false; 0 for services without a threshold; null for services
      not in the plan).
    - ``status`` (string), what the planning group should look at: ``met`` (planned, and
      every eligible case received it), ``partly met`` (planned, some eligible cases received
      it and some did not), ``unmet`` (planned, eligible cases, none received it),
      ``unplanned`` (not planned for the group, received by some), or null (nothing to
      report: planned with no eligible case, or neither planned nor received).
    - ``received_share`` (float64): ``received / cases``; ``unmet_share``: ``unmet / eligible``.
    - ``planned_needed``, ``planned_received`` (int64) and ``planned_share`` (float64), the
      same on every row of a group: over the services planned for the group, the
      case-service pairs where the case meets the threshold, those where it also received
      the service, and their ratio (the share of planned services received).

    ``period`` (start, end; either may be None for open): a service episode counts as
    received only when its dates overlap the period (``start_date`` on or before its end,
    ``end_date`` missing or on or after its start; an episode with no dates counts). Without
    ``period`` every episode counts. The episodes left out are counted in the schema
    metadata ``mns.services_outside_period``; the case ids with services that are not among
    ``cases`` (records of cases outside the audit) in ``mns.unmatched_services``.
    """
    schema, cases = common.peek(cases, "cases")
    names = schema.names
    _tables.require(
        names,
        ["case_id", "need_group"],
        "cases",
        "classify the cases first: mns.classify(cases, plan)",
    )
    thresholds = {s.code: f"threshold.{s.code}" for s in plan.services if s.threshold is not None}
    _tables.require(
        names,
        list(thresholds.values()),
        "cases",
        "classify the cases with this plan first (mns.classify adds a threshold column "
        "per service)",
    )
    outside = [0]
    if period is not None:
        services = _within(services, period, outside)
    received = common.received(services, plan)
    plan_services = [s.code for s in plan.services]
    codes = [*plan_services, *received.extra]

    def prepare(batch: pa.RecordBatch) -> pa.RecordBatch:
        anything, each = received.flags(batch.column("case_id"))
        for code, got in each.items():
            batch = batch.append_column(f"{_RECEIVED}{code}", got)
        batch = batch.append_column(_ANY, anything)
        n = batch.num_rows
        for code in plan_services:
            got = batch.column(f"{_RECEIVED}{code}")
            column = thresholds.get(code)
            eligible = batch.column(column) if column else pa.array(np.ones(n, dtype=bool))
            batch = batch.append_column(f"{_ELIGIBLE}{code}", eligible)
            known = pc.fill_null(eligible, False)
            batch = batch.append_column(f"{_UNMET}{code}", pc.and_(known, pc.invert(got)))
            batch = batch.append_column(f"{_MET}{code}", pc.and_(known, got))
            below = pc.and_(got, pc.fill_null(pc.invert(eligible), False))
            batch = batch.append_column(f"{_BELOW}{code}", below)
        return batch

    measures = [Measure("n", "count"), Measure("any", "true", _ANY)]
    measures += [Measure(f"r:{code}", "true", f"{_RECEIVED}{code}") for code in codes]
    for code in plan_services:
        measures += [
            Measure(f"e:{code}", "true", f"{_ELIGIBLE}{code}"),
            Measure(f"k:{code}", "valid", f"{_ELIGIBLE}{code}"),
            Measure(f"u:{code}", "true", f"{_UNMET}{code}"),
            Measure(f"m:{code}", "true", f"{_MET}{code}"),
            Measure(f"b:{code}", "true", f"{_BELOW}{code}"),
        ]
    spec = Spec(keys=("need_group",), measures=measures)
    read = ["case_id", "need_group", *thresholds.values()]
    state = engines.run(
        {"x": spec}, cases, prepare=prepare, columns=read, what="cases", engine=engine
    )["x"]
    table = _assemble(state, plan, codes, set(plan_services), schema)
    matched = int(pc.sum(state.column("any")).as_py() or 0)
    unmatched = max(len(received) - matched, 0)
    metadata = {
        **(table.schema.metadata or {}),
        UNMATCHED_KEY: str(unmatched).encode(),
        OUTSIDE_KEY: str(outside[0]).encode(),
    }
    return table.replace_schema_metadata(metadata)


def _within(
    services: TableLike, period: tuple[dt.date | None, dt.date | None], outside: list[int]
) -> Iterator[pa.RecordBatch]:
    """The service episodes whose dates overlap ``period``; ``outside[0]`` counts the rest."""
    start, end = period
    if start is not None and end is not None and end < start:
        raise ValueError(
            f"match: the period ends ({end}) before it starts ({start}); give (start, end)"
        )
    columns = ["case_id", "service", "start_date", "end_date"]
    for batch in _tables.batches(services, columns, what="services"):
        keep = pa.array(np.ones(batch.num_rows, dtype=bool))
        if end is not None:
            began = batch.column("start_date")
            keep = pc.and_(keep, pc.fill_null(pc.less_equal(began, pa.scalar(end)), True))
        if start is not None:
            ended = batch.column("end_date")
            keep = pc.and_(keep, pc.fill_null(pc.greater_equal(ended, pa.scalar(start)), True))
        kept = batch.filter(keep)
        outside[0] += batch.num_rows - kept.num_rows
        yield kept


def _assemble(
    state: pa.Table, plan: Plan, codes: list[str], in_plan: set[str], schema: pa.Schema
) -> pa.Table:
    observed = common.as_text(state.column("need_group")).to_pylist()
    groups = common.dense(observed, common.levels(plan, "need_group", schema))
    at = {g: i for i, g in enumerate(observed)}
    offered = {(g, s.code) for s in plan.services for g in s.need_groups}

    def get(name: str, g: Any) -> int:
        i = at.get(g)
        return 0 if i is None else int(state.column(name)[i].as_py() or 0)

    rows: dict[str, list[Any]] = {
        k: []
        for k in (
            "need_group",
            "service",
            "in_plan",
            "planned",
            "cases",
            "received",
            "eligible",
            "eligible_unknown",
            "unmet",
            "unplanned",
            "received_below_threshold",
            "status",
            "planned_needed",
            "planned_received",
        )
    }
    for g in groups:
        n = get("n", g)
        needed = sum(get(f"e:{c}", g) for c in codes if (g, c) in offered)
        got = sum(get(f"m:{c}", g) for c in codes if (g, c) in offered)
        for code in codes:
            planned = (g, code) in offered
            received = get(f"r:{code}", g)
            mine = code in in_plan
            eligible = get(f"e:{code}", g) if mine else None
            unknown = n - get(f"k:{code}", g) if mine else None
            unmet = get(f"u:{code}", g) if planned else None
            below = get(f"b:{code}", g) if mine else None
            met = get(f"m:{code}", g) if mine else 0
            status = _status(planned, received, eligible or 0, met)
            for key, value in (
                ("need_group", g),
                ("service", code),
                ("in_plan", mine),
                ("planned", planned),
                ("cases", n),
                ("received", received),
                ("eligible", eligible),
                ("eligible_unknown", unknown),
                ("unmet", unmet),
                ("unplanned", None if planned else received),
                ("received_below_threshold", below),
                ("status", status),
                ("planned_needed", needed),
                ("planned_received", got),
            ):
                rows[key].append(value)
    table = pa.table(
        {
            "need_group": pa.array(rows["need_group"], pa.string()),
            "service": pa.array(rows["service"], pa.string()),
            "in_plan": pa.array(rows["in_plan"], pa.bool_()),
            "planned": pa.array(rows["planned"], pa.bool_()),
            **{
                k: pa.array(rows[k], pa.int64())
                for k in (
                    "cases",
                    "received",
                    "eligible",
                    "eligible_unknown",
                    "unmet",
                    "unplanned",
                    "received_below_threshold",
                )
            },
            "status": pa.array(rows["status"], pa.string()),
            "planned_needed": pa.array(rows["planned_needed"], pa.int64()),
            "planned_received": pa.array(rows["planned_received"], pa.int64()),
        }
    )
    table = _ratio(table, "received_share", "received", "cases")
    table = _ratio(table, "unmet_share", "unmet", "eligible")
    table = _ratio(table, "planned_share", "planned_received", "planned_needed")
    by = ("need_group",)
    structure = Structure(
        blocks=(
            Block(
                count="cases",
                table=("service",),
                rows=by,
                label=f"{SAMPLE}.need_group",
                key=by,
                total=Margin(label=SAMPLE_TOTAL),
            ),
            Block(count="received", table=("service",), rows=by, base="cases"),
            Block(
                count="eligible", table=("service",), rows=by, base="cases", where={"in_plan": True}
            ),
            Block(
                count="eligible_unknown",
                table=("service",),
                rows=by,
                base="cases",
                where={"in_plan": True},
            ),
            Block(
                count="unmet", table=("service",), rows=by, base="eligible", where={"planned": True}
            ),
            Block(
                count="received_below_threshold",
                table=("service",),
                rows=by,
                base="received",
                where={"in_plan": True},
            ),
            Block(
                count="planned_needed",
                table=("service",),
                rows=by,
                label="pairs",
                key=by,
                total=Margin(label="pairs|all"),
            ),
            Block(
                count="planned_received",
                table=("service",),
                rows=by,
                base="planned_needed",
                label="pairs_received",
                key=by,
            ),
        ),
        derived={
            "unplanned": ("received",),
            "status": ("received", "unmet"),
            "received_share": ("received", "cases"),
            "unmet_share": ("unmet", "eligible"),
            "planned_share": ("planned_received", "planned_needed"),
        },
    )
    return common.finish(
        table,
        ["need_group", "service"],
        structure,
        not_applicable=[
            "eligible",
            "eligible_unknown",
            "unmet",
            "unplanned",
            "received_below_threshold",
            "status",
            "received_share",
            "unmet_share",
            "planned_share",
        ],
        analysis="match",
    )


def _status(planned: bool, received: int, eligible: int, met: int) -> str | None:
    """What a need group x service cell tells the planning group (:data:`STATUSES`)."""
    if not planned:
        return "unplanned" if received else None
    if not eligible:
        return None
    if met == eligible:
        return "met"
    return "partly met" if met else "unmet"


def _ratio(table: pa.Table, name: str, numerator: str, denominator: str) -> pa.Table:
    num = np.asarray(table.column(numerator).to_numpy(zero_copy_only=False), dtype=np.float64)
    den = np.asarray(table.column(denominator).to_numpy(zero_copy_only=False), dtype=np.float64)
    ok = np.isfinite(num) & np.isfinite(den) & (den > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.where(ok, num / np.where(ok, den, 1.0), np.nan)
    return table.append_column(name, pa.array(values, pa.float64(), mask=~ok))


#: What this module publishes (see :mod:`mns.disclosure.publication`).
PUBLICATIONS = (
    Publication(name="match", title="Need groups by services: received, planned, unmet"),
)
