"""``outcomes``: what works with whom: outcomes achieved by need group and service received."""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mns import _tables, engines, stats
from mns._tables import TableLike
from mns.aggregate import Measure, Spec
from mns.analyses import _common as common
from mns.disclosure import Block, Margin, Publication, Structure
from mns.engines import EngineLike
from mns.plan.model import Plan

__all__ = ["against_target", "mean_interval", "outcomes"]

_RECEIVED = "received:"
#: ``arm`` of the rows of the cases that received a service (and of what_works's rows).
RECEIVED: Final = "received"
#: Shared identities of the outcomes' counts (the same numbers in what_works and the change
#: since the baseline): the cases of a group with an outcome recorded, those that achieved
#: it, and per service and arm the cases recorded and achieving.
CASES_LABEL: Final = "outcomes.cases"
ACHIEVED_LABEL: Final = "outcomes.achieved"
ARM_RECORDED: Final = "outcomes.arm_recorded"
ARM_ACHIEVED: Final = "outcomes.arm_achieved"


def latest(outcomes: TableLike) -> pa.Table:
    """One record per case and outcome: the latest by ``recorded_on`` (undated records count
    as earliest; among equals, the last in the input)."""
    wanted = ["case_id", "outcome", "recorded_on", "achieved", "value"]
    parts = [
        pa.table(
            {
                "case_id": common.as_text(batch.column("case_id")),
                "outcome": common.as_text(batch.column("outcome")),
                "recorded_on": batch.column("recorded_on"),
                "achieved": batch.column("achieved").cast(pa.bool_()),
                "value": batch.column("value").cast(pa.float64()),
            }
        )
        for batch in _tables.batches(outcomes, wanted, what="outcomes")
    ]
    if not parts:
        return pa.table(
            {
                "case_id": pa.array([], pa.string()),
                "outcome": pa.array([], pa.string()),
                "achieved": pa.array([], pa.bool_()),
                "value": pa.array([], pa.float64()),
            }
        )
    table = pa.concat_tables(parts, promote_options="permissive")
    # one number orders a case's records of an outcome: undated first (as earliest), then
    # by date, then in input order; the latest is the largest, found by a hash aggregate
    # (a date's day number shifted to 1..2**32 above 31 bits of row number)
    recorded = table.column("recorded_on").cast(pa.date32()).cast(pa.int32())
    days = pc.fill_null(recorded, 0).to_numpy().astype(np.int64) + 2**31 + 1
    when = np.where(pc.is_valid(recorded).to_numpy(), days, 0).astype(np.uint64)
    rank = (when << np.uint64(31)) | np.arange(len(days), dtype=np.uint64)
    keyed = pa.table(
        {
            "case_id": table.column("case_id"),
            "outcome": table.column("outcome"),
            "__rank": pa.array(rank, pa.uint64()),
        }
    )
    chosen = keyed.group_by(["case_id", "outcome"], use_threads=False).aggregate(
        [("__rank", "max")]
    )
    rows = np.sort(chosen.column("__rank_max").to_numpy() & np.uint64(2**31 - 1))
    table = table.take(pa.array(rows.astype(np.int64)))
    return table.select(["case_id", "outcome", "achieved", "value"])


def outcomes(
    cases: TableLike,
    outcomes: TableLike,
    services: TableLike,
    by: str = "need_group",
    *,
    plan: Plan | None = None,
    confidence: float = 0.95,
    engine: EngineLike = None,
) -> pa.Table:
    """Outcomes achieved by need group, for all cases and for those that received each service.

    Each case's latest record of each outcome counts (``recorded_on``; ``achieved`` null
    counts as not achieved; ``value`` is averaged where recorded). Services are the plan's
    (record codes count as the plan services listing them in ``received_as``) with ``plan``,
    else the records' codes. Outcome records of cases not in ``cases`` are left out and
    counted in the schema metadata (``mns.unmatched_outcomes``).

    One row per group, outcome and service (service null: every case with the outcome
    recorded, whatever it received), sorted by ``<by>``, ``outcome``, ``service``:

    - ``<by>``, ``outcome``, ``service`` (string).
    - ``cases`` (int64): cases in the group with the outcome recorded (the same on every row
      of a group and outcome).
    - ``recorded`` (int64): of those, cases that received the service (all of them when
      ``service`` is null).
    - ``achieved`` (int64): of ``recorded``, cases that achieved it; ``achieved_share``,
      ``achieved_low``, ``achieved_high`` (float64): ``achieved / recorded`` with its Wilson
      interval.
    - ``mean_value`` (float64): the mean ``value`` of ``recorded`` cases that have one;
      ``mean_low``, ``mean_high`` (float64): its t interval (two values or more).
    - ``target`` (float64), ``target_kind`` (``share`` or ``mean``) and ``direction``
      (``higher`` or ``lower`` is better): the plan's target for the outcome, on the rows
      of the outcome's own need group (null elsewhere, or when the plan gives none).
    - ``position`` (string): where the interval (of the share achieved, or of the mean
      value) lies against the target: ``above``, ``below`` or ``across``;
      ``meets_target`` (string): ``yes`` (the whole interval on the better side), ``no``
      (on the worse side) or ``unclear`` (it spans the target).
    - ``arm`` (string): ``received`` on a service's rows, null on the group's.

    Comparing a service's row with the group's null-service row shows whether cases that
    received it did better; with samples this small, read the intervals.
    """
    schema, cases = common.peek(cases, "cases")
    _tables.require(
        schema.names,
        ["case_id", by],
        "cases",
        "classify the cases first (mns.classify) or name another column in by=",
    )
    records = latest(outcomes)
    by_case = common.IdIndex(records.column("case_id"))
    received = common.received(services, plan)
    codes = received.codes

    def prepare(batch: pa.RecordBatch) -> pa.RecordBatch:  # pure: it may run on a worker
        ids = common.as_text(batch.column("case_id"))
        rows, matches = by_case.pairs(ids)
        joined = records.take(matches)
        achieved = pc.fill_null(joined.column("achieved"), False)
        value = joined.column("value")
        square = pc.multiply(value, value)
        columns: dict[str, Any] = {
            "__group": common.as_text(batch.column(by)).take(rows),
            "outcome": joined.column("outcome"),
            "achieved": achieved,
            "value": value,
            "value2": square,
        }
        _, each = received.flags(joined.column("case_id"))
        for code in codes:
            got = each[code]
            columns[f"{_RECEIVED}{code}"] = got
            columns[f"a:{code}"] = pc.and_(got, achieved)
            columns[f"v:{code}"] = pc.if_else(got, value, pa.scalar(None, pa.float64()))
            columns[f"q:{code}"] = pc.if_else(got, square, pa.scalar(None, pa.float64()))
        return (
            pa.table(columns).combine_chunks().to_batches()[0]
            if joined.num_rows
            else _empty_batch(codes)
        )

    measures = [
        Measure("n", "count"),
        Measure("a", "true", "achieved"),
        Measure("vs", "sum", "value"),
        Measure("vn", "valid", "value"),
        Measure("vq", "sum", "value2"),
    ]
    for code in codes:
        measures += [
            Measure(f"r:{code}", "true", f"{_RECEIVED}{code}"),
            Measure(f"a:{code}", "true", f"a:{code}"),
            Measure(f"vs:{code}", "sum", f"v:{code}"),
            Measure(f"vn:{code}", "valid", f"v:{code}"),
            Measure(f"vq:{code}", "sum", f"q:{code}"),
        ]
    spec = Spec(keys=("__group", "outcome"), measures=measures)
    state = engines.run(
        {"x": spec}, cases, prepare=prepare, columns=["case_id", by], what="cases", engine=engine
    )["x"]
    table = _assemble(state, codes, by, common.levels(plan, by, schema), confidence, plan)
    matched = int(pc.sum(state.column("n")).as_py() or 0)  # the outcome rows joined to a case
    unmatched = records.num_rows - matched
    return table.replace_schema_metadata(
        {**(table.schema.metadata or {}), b"mns.unmatched_outcomes": str(unmatched).encode()}
    )


def _empty_batch(codes: list[str]) -> pa.RecordBatch:
    fields = [
        ("__group", pa.string()),
        ("outcome", pa.string()),
        ("achieved", pa.bool_()),
        ("value", pa.float64()),
        ("value2", pa.float64()),
    ]
    for code in codes:
        fields += [
            (f"{_RECEIVED}{code}", pa.bool_()),
            (f"a:{code}", pa.bool_()),
            (f"v:{code}", pa.float64()),
            (f"q:{code}", pa.float64()),
        ]
    return pa.RecordBatch.from_pylist([], schema=pa.schema(fields))


def _assemble(  # noqa: PLR0917 - one row per group, outcome and service
    state: pa.Table,
    codes: list[str],
    by: str,
    declared: list[str],
    confidence: float,
    plan: Plan | None = None,
) -> pa.Table:
    rows = state.to_pylist()
    found = {(r["__group"], r["outcome"]): r for r in rows}
    groups = common.dense([r["__group"] for r in rows], declared)
    outcome_codes = common.dense([r["outcome"] for r in rows])
    out: dict[str, list[Any]] = {
        k: []
        for k in (
            by,
            "outcome",
            "service",
            "cases",
            "recorded",
            "achieved",
            "value_sum",
            "value_n",
            "value_sq",
        )
    }
    for g in groups:
        for o in outcome_codes:
            r = found.get((g, o))
            n = int(r["n"]) if r else 0
            for code in [None, *codes]:
                suffix = "" if code is None else f":{code}"
                got = n if code is None else (int(r[f"r{suffix}"]) if r else 0)
                ach = int(r[f"a{suffix}"]) if r else 0
                vs = r[f"vs{suffix}"] if r else 0.0
                vn = int(r[f"vn{suffix}"]) if r else 0
                vq = r[f"vq{suffix}"] if r else 0.0
                for key, value in (
                    (by, g),
                    ("outcome", o),
                    ("service", code),
                    ("cases", n),
                    ("recorded", got),
                    ("achieved", ach),
                    ("value_sum", float(vs or 0.0)),
                    ("value_n", vn),
                    ("value_sq", float(vq or 0.0)),
                ):
                    out[key].append(value)
    recorded = np.asarray(out["recorded"], dtype=np.float64)
    achieved = np.asarray(out["achieved"], dtype=np.float64)
    low, high = stats.wilson_arrays(achieved, recorded, confidence)
    vn_ = np.asarray(out["value_n"], dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(recorded > 0, achieved / np.where(recorded > 0, recorded, 1.0), np.nan)
        mean = np.where(vn_ > 0, np.asarray(out["value_sum"]) / np.where(vn_ > 0, vn_, 1.0), np.nan)
    mean_low, mean_high = mean_interval(
        np.asarray(out["value_sum"]), np.asarray(out["value_sq"]), vn_, confidence
    )
    targets = _targets(plan, out[by], out["outcome"])
    position, meets = against_target(
        targets, share=(share, low, high), mean=(mean, mean_low, mean_high)
    )

    table = pa.table(
        {
            by: pa.array(out[by], pa.string()),
            "outcome": pa.array(out["outcome"], pa.string()),
            "service": pa.array(out["service"], pa.string()),
            "cases": pa.array(out["cases"], pa.int64()),
            "recorded": pa.array(out["recorded"], pa.int64()),
            "achieved": pa.array(out["achieved"], pa.int64()),
            "achieved_share": common.floats(share),
            "achieved_low": common.floats(low),
            "achieved_high": common.floats(high),
            "mean_value": common.floats(mean),
            "mean_low": common.floats(mean_low),
            "mean_high": common.floats(mean_high),
            "target": common.floats([t[1] if t else np.nan for t in targets]),
            "target_kind": pa.array([t[0] if t else None for t in targets], pa.string()),
            "direction": pa.array([t[2] if t else None for t in targets], pa.string()),
            "position": pa.array(position, pa.string()),
            "meets_target": pa.array(meets, pa.string()),
            # the rows of a service are the cases that received it (what_works's arm)
            "arm": pa.array([None if c is None else RECEIVED for c in out["service"]], pa.string()),
        }
    )
    group = (by,)
    every = {"service": None}
    structure = Structure(
        blocks=(
            Block(
                count="cases",
                table=("outcome", "service"),
                rows=group,
                label=CASES_LABEL,
                key=("outcome", by),
                total=Margin(label=f"{CASES_LABEL}|all", key=("outcome",)),
            ),
            Block(count="recorded", where=every, label=CASES_LABEL, key=("outcome", by)),
            Block(
                count="recorded",
                unless=every,
                table=("outcome", "service"),
                rows=group,
                base="cases",
                label=ARM_RECORDED,
                key=("outcome", "service", by, "arm"),
            ),
            Block(
                count="achieved",
                where=every,
                table=("outcome", "service"),
                rows=group,
                base="recorded",
                label=ACHIEVED_LABEL,
                key=("outcome", by),
            ),
            Block(
                count="achieved",
                unless=every,
                table=("outcome", "service"),
                rows=group,
                base="recorded",
                label=ARM_ACHIEVED,
                key=("outcome", "service", by, "arm"),
            ),
        ),
        derived={
            **dict.fromkeys(
                ("achieved_share", "achieved_low", "achieved_high"), ("achieved", "recorded")
            ),
            **dict.fromkeys(("mean_value", "mean_low", "mean_high"), ("recorded",)),
            **dict.fromkeys(("position", "meets_target"), ("achieved", "recorded")),
        },
    )
    return common.finish(
        table,
        [by, "outcome", "service"],
        structure,
        not_applicable=[
            "achieved_share",
            "achieved_low",
            "achieved_high",
            "mean_low",
            "mean_high",
            "target",
            "target_kind",
            "direction",
            "position",
            "meets_target",
        ],
        analysis="outcomes",
    )


def mean_interval(
    total: Any, squares: Any, n: Any, confidence: float = 0.95
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """The t interval of a mean from the sum, the sum of squares and the number of values
    (NaN with fewer than two values)."""
    from scipy.stats import t as student

    total, squares, n = (np.asarray(v, dtype=np.float64) for v in (total, squares, n))
    stats.z_for(confidence)  # checks confidence
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = total / n
        variance = np.maximum(squares - n * mean * mean, 0.0) / (n - 1)
        half = student.ppf(0.5 + confidence / 2.0, np.maximum(n - 1, 1)) * np.sqrt(variance / n)
    ok = n >= 2
    return np.where(ok, mean - half, np.nan), np.where(ok, mean + half, np.nan)


def _targets(
    plan: Plan | None, groups: list[Any], outcome_codes: list[Any]
) -> list[tuple[str, float, str] | None]:
    """Each row's target, ``(kind, value, direction)``, where the plan gives one for the
    row's outcome and the row is of the outcome's need group."""
    found: dict[tuple[str, str], tuple[str, float, str]] = {}
    for o in plan.outcomes if plan is not None else ():
        if o.target is None:
            continue
        kind, value = (
            ("share", o.target.share) if o.target.share is not None else ("mean", o.target.mean)
        )
        assert value is not None
        found[(o.need_group, o.code)] = (kind, float(value), o.target.direction.value)
    return [found.get((str(g), str(c))) for g, c in zip(groups, outcome_codes, strict=True)]


def against_target(
    targets: list[tuple[str, float, str] | None],
    *,
    share: tuple[Any, Any, Any],
    mean: tuple[Any, Any, Any],
) -> tuple[list[str | None], list[str | None]]:
    """Where each row's interval lies against its target (``above``, ``below`` or
    ``across``) and whether it meets it (``yes``: the whole interval is on the better side,
    ``no``: on the worse side, ``unclear``: it spans the target); null without a target or
    an interval."""
    position: list[str | None] = []
    meets: list[str | None] = []
    for i, t in enumerate(targets):
        if t is None:
            position.append(None)
            meets.append(None)
            continue
        kind, value, direction = t
        _, low, high = share if kind == "share" else mean
        lo, hi = float(low[i]), float(high[i])
        if not (np.isfinite(lo) and np.isfinite(hi)):
            position.append(None)
            meets.append(None)
            continue
        where = "above" if lo > value else "below" if hi < value else "across"
        position.append(where)
        better = "above" if direction == "higher" else "below"
        meets.append("unclear" if where == "across" else "yes" if where == better else "no")
    return position, meets


#: What this module publishes (see :mod:`mns.disclosure.publication`).
PUBLICATIONS = (Publication(name="outcomes", title="Outcomes achieved per need group and service"),)
