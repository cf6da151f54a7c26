"""Change since the baseline audit."""

from __future__ import annotations

from mns.report import charts
from mns.report.html import Column
from mns.report.model import ReportInput
from mns.report.sections._base import (
    Section,
    View,
    figure,
    group_label,
    group_order,
    grouping,
    salt,
    section,
    shown_or_missing,
)

SHOWS = frozenset({"compare"})

#: The group's cases and share at the baseline and now, and the change (also shown beside the
#: plan's changes, in "Progress since the last plan").
CHANGE_COLUMNS: tuple[Column, ...] = (
    Column(name="baseline", label="Baseline cases", format="count"),
    Column(name="baseline_share", label="Baseline share", format="percent"),
    Column(name="reaudit", label="Cases now", format="count"),
    Column(name="reaudit_share", label="Share now", format="percent"),
    Column(
        name="change",
        label="Change in share (95% interval)",
        format="percent",
        low="change_low",
        high="change_high",
    ),
)


def build(ri: ReportInput) -> Section:
    heading = "Change since the baseline audit"
    intro = (
        "This audit against the baseline audit: the share of cases in each need group then "
        "and now, and the change with its 95% interval. An interval that does not include 0 "
        "suggests a real change rather than the chance of sampling.",
    )
    table = shown_or_missing(
        ri,
        "compare",
        "change",
        heading,
        intro,
        missing="No baseline audit was given (mns audit --baseline ...).",
    )
    if isinstance(table, Section):
        return table
    codes = table.column("need_group").to_pylist()
    rows = sorted(range(table.num_rows), key=lambda r: group_order(ri)(codes[r]))
    view = View(ri).add(
        "compare",
        rows,
        [
            "need_group",
            "baseline",
            "baseline_share",
            "baseline_low",
            "baseline_high",
            "reaudit",
            "reaudit_share",
            "reaudit_low",
            "reaudit_high",
            "change",
            "change_low",
            "change_high",
            "p_value",
        ],
    )
    labels = [group_label(ri, c) for c in view.data["need_group"]]
    chart = charts.paired_bars(
        labels,
        (
            "baseline",
            view.values("baseline_share"),
            view.values("baseline_low"),
            view.values("baseline_high"),
        ),
        (
            "this audit",
            view.values("reaudit_share"),
            view.values("reaudit_low"),
            view.values("reaudit_high"),
        ),
        xlabel="Share of the cases audited",
        title="Share of cases in each need group at the baseline and now",
        salt=salt(ri, "change"),
    )
    view.text("label", labels)
    columns = [
        Column(name="label", label="Need group"),
        *CHANGE_COLUMNS,
        Column(name="p_value", label="p-value", format="ratio"),
    ]
    return section(
        "change",
        heading,
        intro,
        figure(
            chart,
            "Light bars: the baseline; dark bars: this audit; whiskers: 95% intervals."
            + grouping(ri),
        ),
        view.render(columns, id="table-change", caption="Need groups at the baseline and now"),
    )
