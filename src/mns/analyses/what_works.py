"""``what_works``: what works with whom, as far as an audit can say, and the outcomes at a
re-audit beside the baseline's.

An audit can only compare, within a need group, the children who received a service with
those who did not: the difference is an **observational association, not an effect**. The
children were not allocated to services at random, so those who received a service may
differ in many ways from those who did not. The method's sources describe evaluating a new
service against its expected outcomes with quasi-experimental methods (see
``docs/explanation/the-method.md``); this comparison, with Newcombe's interval for a
difference of two proportions (Newcombe 1998), is mns's own summary, a prompt for the
planning group, not an evaluation.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pyarrow as pa

from mns import stats
from mns._tables import TableLike
from mns.analyses import _common as common
from mns.analyses.outcomes import (
    ACHIEVED_LABEL,
    ARM_ACHIEVED,
    ARM_RECORDED,
    CASES_LABEL,
    RECEIVED,
    outcomes as outcomes_of,
)
from mns.disclosure import Block, Margin, Publication, Structure
from mns.engines import EngineLike
from mns.plan.model import Plan

__all__ = ["NOT_RECEIVED", "RECEIVED", "outcomes_change", "what_works", "what_works_from"]

#: ``arm`` of the children of a group (with the outcome recorded) who did not receive it.
NOT_RECEIVED: Final = "not received"


def what_works(
    cases: TableLike,
    outcomes: TableLike,
    services: TableLike,
    by: str = "need_group",
    *,
    plan: Plan | None = None,
    confidence: float = 0.95,
    engine: EngineLike = None,
) -> pa.Table:
    """For each need group, outcome and service: the outcome among the children who received
    the service and among those who did not, and the difference.

    Outcomes and services are read as in :func:`mns.outcomes` (each case's latest record;
    ``achieved`` null counts as not achieved). This is an observational association, not
    the effect of the service: see the module's note. See :func:`what_works_from` for the
    table's columns.
    """
    table = outcomes_of(
        cases, outcomes, services, plan=plan, by=by, confidence=confidence, engine=engine
    )
    return what_works_from(table, plan=plan, by=by, confidence=confidence)


def what_works_from(
    table: pa.Table, by: str = "need_group", *, plan: Plan | None = None, confidence: float = 0.95
) -> pa.Table:
    """:func:`what_works` from a table of :func:`mns.outcomes`.

    Two rows (``arm``: ``received``, ``not received``) per group, outcome and service, for
    the groups with the outcome recorded and the services the plan offers the group
    (without ``plan``: the services some of its children received), sorted by ``<by>``,
    ``outcome``, ``service``, ``arm``:

    - ``<by>``, ``outcome``, ``service``, ``arm`` (string).
    - ``cases`` (int64): the group's children with the outcome recorded (both arms).
    - ``recorded`` (int64): children of the arm; ``achieved`` (int64): of those, the
      children who achieved the outcome; ``achieved_share``, ``achieved_low``,
      ``achieved_high`` (float64): the share with its Wilson interval.
    - On the ``received`` row only: ``other_arm`` (``not received``), ``other_recorded``,
      ``other_achieved`` (int64): the other arm's numbers again; ``other_share``
      (float64); ``difference``, ``difference_low``, ``difference_high`` (float64): the
      received share minus the other, with Newcombe's hybrid score interval (1998,
      method 10).
    """
    rows = table.to_pylist()
    overall = {(r[by], r["outcome"]): r for r in rows if r["service"] is None}
    planned = {
        (g, s.code) for s in (plan.services if plan is not None else ()) for g in s.need_groups
    }
    out: dict[str, list[Any]] = {
        k: []
        for k in (
            by,
            "outcome",
            "service",
            "arm",
            "cases",
            "recorded",
            "achieved",
            "other_arm",
            "other_recorded",
            "other_achieved",
        )
    }
    for r in rows:
        if r["service"] is None:
            continue
        whole = overall[(r[by], r["outcome"])]
        offered = (r[by], r["service"]) in planned if plan is not None else r["recorded"] > 0
        if not whole["cases"] or not offered:
            continue
        arms = (
            (RECEIVED, r["recorded"], r["achieved"]),
            (NOT_RECEIVED, whole["cases"] - r["recorded"], whole["achieved"] - r["achieved"]),
        )
        for i, (arm, recorded, achieved) in enumerate(arms):
            other = arms[1 - i]
            for key, value in (
                (by, r[by]),
                ("outcome", r["outcome"]),
                ("service", r["service"]),
                ("arm", arm),
                ("cases", whole["cases"]),
                ("recorded", recorded),
                ("achieved", achieved),
                ("other_arm", other[0] if arm == RECEIVED else None),
                ("other_recorded", other[1] if arm == RECEIVED else None),
                ("other_achieved", other[2] if arm == RECEIVED else None),
            ):
                out[key].append(value)
    recorded = np.asarray(out["recorded"], dtype=np.float64)
    achieved = np.asarray(out["achieved"], dtype=np.float64)
    low, high = stats.wilson_arrays(achieved, recorded, confidence)
    n0 = np.asarray([np.nan if v is None else v for v in out["other_recorded"]], np.float64)
    x0 = np.asarray([np.nan if v is None else v for v in out["other_achieved"]], np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(recorded > 0, achieved / np.where(recorded > 0, recorded, 1.0), np.nan)
        other_share = np.where(n0 > 0, x0 / np.where(n0 > 0, n0, 1.0), np.nan)
        d_low, d_high = stats.newcombe_difference_arrays(achieved, recorded, x0, n0, confidence)
    usable = (recorded > 0) & (n0 > 0)
    result = pa.table(
        {
            by: pa.array(out[by], pa.string()),
            "outcome": pa.array(out["outcome"], pa.string()),
            "service": pa.array(out["service"], pa.string()),
            "arm": pa.array(out["arm"], pa.string()),
            "cases": pa.array(out["cases"], pa.int64()),
            "recorded": pa.array(out["recorded"], pa.int64()),
            "achieved": pa.array(out["achieved"], pa.int64()),
            "achieved_share": common.floats(share),
            "achieved_low": common.floats(low),
            "achieved_high": common.floats(high),
            "other_arm": pa.array(out["other_arm"], pa.string()),
            "other_recorded": pa.array(out["other_recorded"], pa.int64()),
            "other_achieved": pa.array(out["other_achieved"], pa.int64()),
            "other_share": common.floats(other_share),
            "difference": common.floats(np.where(usable, share - other_share, np.nan)),
            "difference_low": common.floats(np.where(usable, d_low, np.nan)),
            "difference_high": common.floats(np.where(usable, d_high, np.nan)),
        }
    )
    per = ("outcome", "service")
    arm_key = ("outcome", "service", by, "arm")
    other_key = ("outcome", "service", by, "other_arm")
    arm_totals = ("outcome", "service", "arm")
    received = {"arm": RECEIVED}
    both = ("achieved", "recorded", "other_achieved", "other_recorded")
    structure = Structure(
        blocks=(
            # the two arms of a group add up to its children with the outcome recorded, and
            # their achievers to its achievers: both numbers mns.outcomes publishes
            Block(
                count="recorded",
                table=per,
                rows=(by,),
                cols=("arm",),
                label=ARM_RECORDED,
                key=arm_key,
                row_total=Margin(label=CASES_LABEL, key=("outcome", by), column="cases"),
                col_total=Margin(label="what_works.recorded|arm", key=arm_totals),
                total=Margin(label="what_works.recorded|all", key=per),
            ),
            Block(
                count="achieved",
                table=(*per, "arm"),
                rows=(by,),
                base="recorded",
                label=ARM_ACHIEVED,
                key=arm_key,
            ),
            Block(
                count="achieved",
                table=per,
                rows=(by,),
                cols=("arm",),
                label=ARM_ACHIEVED,
                key=arm_key,
                row_total=Margin(label=ACHIEVED_LABEL, key=("outcome", by)),
                col_total=Margin(label="what_works.achieved|arm", key=arm_totals),
                total=Margin(label="what_works.achieved|all", key=per),
            ),
            # the other arm's numbers, shown again beside the received arm's
            Block(count="other_recorded", where=received, label=ARM_RECORDED, key=other_key),
            Block(count="other_achieved", where=received, label=ARM_ACHIEVED, key=other_key),
        ),
        derived={
            **dict.fromkeys(
                ("achieved_share", "achieved_low", "achieved_high"), ("achieved", "recorded")
            ),
            **dict.fromkeys(
                ("other_share", "difference", "difference_low", "difference_high"), both
            ),
        },
    )
    return common.finish(
        result,
        [by, "outcome", "service", "arm"],
        structure,
        not_applicable=[
            "achieved_share",
            "achieved_low",
            "achieved_high",
            "other_arm",
            "other_recorded",
            "other_achieved",
            "other_share",
            "difference",
            "difference_low",
            "difference_high",
        ],
        analysis="what_works",
    )


def outcomes_change(
    baseline: pa.Table,
    reaudit: pa.Table,
    by: str = "need_group",
    *,
    confidence: float = 0.95,
) -> pa.Table:
    """The outcomes at a re-audit beside the baseline audit's, from two tables of
    :func:`mns.outcomes` (their rows for all cases, whatever they received).

    One row per group and outcome in either, sorted by ``<by>``, ``outcome``:

    - ``baseline_recorded``, ``baseline_achieved`` (int64) and ``baseline_share``,
      ``baseline_low``, ``baseline_high`` (float64): the baseline's children with the
      outcome recorded, those who achieved it, and the share with its Wilson interval;
      ``reaudit_*`` the same at the re-audit.
    - ``change``, ``change_low``, ``change_high`` (float64): the re-audit's share minus
      the baseline's, with Newcombe's hybrid score interval (the two audits' children taken
      as independent samples).
    - ``target`` (float64), ``target_kind``, ``direction``, ``meets_target`` (string): the
      plan's target and whether the re-audit meets it, as in :func:`mns.outcomes`.
    """
    before = {(r[by], r["outcome"]): r for r in baseline.to_pylist() if r["service"] is None}
    after = {(r[by], r["outcome"]): r for r in reaudit.to_pylist() if r["service"] is None}
    keys = sorted(set(before) | set(after), key=lambda k: (k[0] is None, str(k[0]), str(k[1])))
    n1 = np.array([before[k]["recorded"] if k in before else 0 for k in keys], np.float64)
    x1 = np.array([before[k]["achieved"] if k in before else 0 for k in keys], np.float64)
    n2 = np.array([after[k]["recorded"] if k in after else 0 for k in keys], np.float64)
    x2 = np.array([after[k]["achieved"] if k in after else 0 for k in keys], np.float64)
    l1, h1 = stats.wilson_arrays(x1, n1, confidence)
    l2, h2 = stats.wilson_arrays(x2, n2, confidence)
    c_low, c_high = stats.newcombe_difference_arrays(x2, n2, x1, n1, confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p1 = np.where(n1 > 0, x1 / np.where(n1 > 0, n1, 1.0), np.nan)
        p2 = np.where(n2 > 0, x2 / np.where(n2 > 0, n2, 1.0), np.nan)

    def plan_value(column: str) -> list[Any]:
        return [after[k][column] if k in after else None for k in keys]

    table = pa.table(
        {
            by: pa.array([k[0] for k in keys], pa.string()),
            "outcome": pa.array([k[1] for k in keys], pa.string()),
            "baseline_recorded": pa.array(n1.astype(np.int64), pa.int64()),
            "baseline_achieved": pa.array(x1.astype(np.int64), pa.int64()),
            "baseline_share": common.floats(p1),
            "baseline_low": common.floats(l1),
            "baseline_high": common.floats(h1),
            "reaudit_recorded": pa.array(n2.astype(np.int64), pa.int64()),
            "reaudit_achieved": pa.array(x2.astype(np.int64), pa.int64()),
            "reaudit_share": common.floats(p2),
            "reaudit_low": common.floats(l2),
            "reaudit_high": common.floats(h2),
            "change": common.floats(p2 - p1),
            "change_low": common.floats(c_low),
            "change_high": common.floats(c_high),
            "target": pa.array(plan_value("target"), pa.float64()),
            "target_kind": pa.array(plan_value("target_kind"), pa.string()),
            "direction": pa.array(plan_value("direction"), pa.string()),
            "meets_target": pa.array(plan_value("meets_target"), pa.string()),
        }
    )
    per = ("outcome",)
    structure = Structure(
        blocks=(
            Block(
                count="baseline_recorded",
                table=per,
                rows=(by,),
                label="baseline_outcomes.cases",
                key=("outcome", by),
            ),
            Block(count="baseline_achieved", table=per, rows=(by,), base="baseline_recorded"),
            # the re-audit's numbers are those mns.outcomes publishes for it
            Block(
                count="reaudit_recorded",
                table=per,
                rows=(by,),
                label=CASES_LABEL,
                key=("outcome", by),
                total=Margin(label=f"{CASES_LABEL}|all", key=("outcome",)),
            ),
            Block(
                count="reaudit_achieved",
                table=per,
                rows=(by,),
                base="reaudit_recorded",
                label=ACHIEVED_LABEL,
                key=("outcome", by),
            ),
        ),
        derived={
            **dict.fromkeys(
                ("baseline_share", "baseline_low", "baseline_high"),
                ("baseline_achieved", "baseline_recorded"),
            ),
            **dict.fromkeys(
                ("reaudit_share", "reaudit_low", "reaudit_high", "meets_target"),
                ("reaudit_achieved", "reaudit_recorded"),
            ),
            **dict.fromkeys(
                ("change", "change_low", "change_high"),
                ("baseline_achieved", "baseline_recorded", "reaudit_achieved", "reaudit_recorded"),
            ),
        },
    )
    return common.finish(
        table,
        [by, "outcome"],
        structure,
        not_applicable=[
            "baseline_share",
            "baseline_low",
            "baseline_high",
            "reaudit_share",
            "reaudit_low",
            "reaudit_high",
            "change",
            "change_low",
            "change_high",
            "target",
            "target_kind",
            "direction",
            "meets_target",
        ],
        analysis="outcomes_change",
    )


#: What this module publishes (see :mod:`mns.disclosure.publication`).
PUBLICATIONS = (
    Publication(
        name="what_works",
        title="Outcomes of the children who received each service and of those who did not",
    ),
    Publication(name="outcomes_change", title="Outcomes at the re-audit beside the baseline"),
)
