"""Outcomes against the plan's targets, and the outcomes at a re-audit beside the
baseline's."""

from __future__ import annotations

from typing import Any

from mns.report import charts
from mns.report.html import Column
from mns.report.model import ReportInput
from mns.report.sections._base import (
    Section,
    View,
    details,
    figure,
    group_label,
    group_order,
    grouping,
    salt,
    section,
    short,
)

SHOWS = frozenset({"outcomes_change"})

_MEETS = {
    "yes": "met: the whole interval is on the better side",
    "no": "not met: the whole interval is on the worse side",
    "unclear": "cannot tell: the interval spans the target",
}


def outcome_label(ri: ReportInput, code: Any) -> str:
    for outcome in ri.plan.outcomes:
        if outcome.code == code:
            return f"{code} {outcome.objective}"
    return str(code)


def _target_text(ri: ReportInput, group: Any, code: Any) -> str:
    """The plan's target as the planning group wrote it: the number and its note."""
    for o in ri.plan.outcomes:
        if o.code == code and o.need_group == group:
            if o.target is None:
                return o.note
            better = "or more" if o.target.direction.value == "higher" else "or less"
            if o.target.share is not None:
                text = f"{100 * o.target.share:.0f}% {better}"
            else:
                text = f"mean {o.target.mean:g} {better}"
            return f"{text} ({o.note})" if o.note else text
    return ""


def build(ri: ReportInput) -> Section | None:
    table = ri.table("outcomes")
    change = ri.table("outcomes_change")
    if table is None or "target" not in table.column_names:
        return None
    heading = "Outcomes against the plan's targets"
    intro = (
        "For each outcome the plan sets a target for: the share of the need group's children "
        "(with the outcome recorded) who achieved it, with its 95% interval, against the "
        "target. A target is met when the whole interval lies on its better side, missed "
        "when it lies on the worse side; when the interval spans the target, the audit "
        "cannot tell.",
    )
    services = table.column("service").to_pylist()
    targets = table.column("target").to_pylist()
    groups = table.column("need_group").to_pylist()
    codes = table.column("outcome").to_pylist()
    rows = sorted(
        (r for r in range(table.num_rows) if services[r] is None and targets[r] is not None),
        key=lambda r: (group_order(ri)(groups[r]), str(codes[r])),
    )
    parts = []
    if rows:
        view = View(ri).add(
            "outcomes",
            rows,
            [
                "need_group",
                "outcome",
                "recorded",
                "achieved",
                "achieved_share",
                "achieved_low",
                "achieved_high",
                "target",
                "target_kind",
                "mean_value",
                "mean_low",
                "mean_high",
                "meets_target",
            ],
        )
        view.text("group_label", [group_label(ri, g) for g in view.data["need_group"]])
        view.text("outcome_label", [short(outcome_label(ri, o), 60) for o in view.data["outcome"]])
        view.text(
            "target_text",
            [
                _target_text(ri, g, o)
                for g, o in zip(view.data["need_group"], view.data["outcome"], strict=True)
            ],
        )
        shares = view.values("achieved_share")
        chart = charts.bars_with_intervals(
            [
                short(f"{g} {o}", 30)
                for g, o in zip(view.data["need_group"], view.data["outcome"], strict=True)
            ],
            shares,
            view.values("achieved_low"),
            view.values("achieved_high"),
            xlabel="Share achieved",
            title="Share of children who achieved each outcome, against its target",
            salt=salt(ri, "targets"),
            percent=True,
            legend=[("share achieved (95% interval)", charts.PALETTE[0])],
        )
        parts.append(
            figure(
                chart,
                "Bars: share achieved with its 95% interval; the targets are in the table. "
                "c: withheld." + grouping(ri),
            )
        )
        parts.append(
            view.render(
                [
                    Column(name="group_label", label="Need group"),
                    Column(name="outcome_label", label="Outcome"),
                    Column(name="recorded", label="Children with it recorded", format="count"),
                    Column(name="achieved", label="Achieved it", format="count"),
                    Column(
                        name="achieved_share",
                        label="Share achieved (95% interval)",
                        format="percent",
                        low="achieved_low",
                        high="achieved_high",
                    ),
                    Column(name="target_text", label="Target"),
                    Column(
                        name="meets_target",
                        label="Met?",
                        title="; ".join(f"{k}: {v}" for k, v in _MEETS.items()),
                    ),
                ],
                id="table-targets",
                caption="Outcomes against the plan's targets",
            )
        )
    if change is not None and change.num_rows:
        cg = change.column("need_group").to_pylist()
        co = change.column("outcome").to_pylist()
        crows = sorted(range(change.num_rows), key=lambda r: (group_order(ri)(cg[r]), str(co[r])))
        before, after = (
            change.column(c).to_pylist() for c in ("baseline_recorded", "reaudit_recorded")
        )
        # leave out only the outcomes neither audit recorded (a withheld count is kept)
        crows = [r for r in crows if before[r] != 0 or after[r] != 0]
        cview = View(ri).add(
            "outcomes_change",
            crows,
            [
                "need_group",
                "outcome",
                "baseline_recorded",
                "baseline_share",
                "baseline_low",
                "baseline_high",
                "reaudit_recorded",
                "reaudit_share",
                "reaudit_low",
                "reaudit_high",
                "change",
                "change_low",
                "change_high",
                "meets_target",
            ],
        )
        cview.text("group_label", [group_label(ri, g) for g in cview.data["need_group"]])
        cview.text(
            "outcome_label", [short(outcome_label(ri, o), 60) for o in cview.data["outcome"]]
        )
        parts.append(
            details(
                "Outcomes at the re-audit beside the baseline audit",
                cview.render(
                    [
                        Column(name="group_label", label="Need group"),
                        Column(name="outcome_label", label="Outcome"),
                        Column(
                            name="baseline_recorded", label="Baseline: children", format="count"
                        ),
                        Column(
                            name="baseline_share",
                            label="Baseline: share achieved",
                            format="percent",
                            low="baseline_low",
                            high="baseline_high",
                        ),
                        Column(name="reaudit_recorded", label="Re-audit: children", format="count"),
                        Column(
                            name="reaudit_share",
                            label="Re-audit: share achieved",
                            format="percent",
                            low="reaudit_low",
                            high="reaudit_high",
                        ),
                        Column(
                            name="change",
                            label="Change (95% interval)",
                            format="percent",
                            low="change_low",
                            high="change_high",
                            title="Re-audit share minus baseline share, with Newcombe's "
                            "interval for a difference of two proportions",
                        ),
                        Column(name="meets_target", label="Re-audit meets the target?"),
                    ],
                    id="table-outcomes-change",
                    caption="Outcomes at the re-audit and at the baseline",
                ),
            )
        )
    if not parts:
        return section(
            "targets",
            heading,
            intro,
            missing="The plan gives no outcome a target (write target = { share = 0.7 }).",
        )
    return section("targets", heading, intro, *parts)
