"""Need groups: their sizes in the audit and a year, and what they are."""

from __future__ import annotations

from typing import Any

from mns.report import charts
from mns.report.html import Column
from mns.report.model import ReportInput
from mns.report.sections._base import (
    Section,
    View,
    annual,
    cluster_colors,
    figure,
    group_colors,
    group_label,
    group_order,
    grouping,
    rows_where,
    salt,
    section,
)

SHOWS = frozenset({"profile", "extrapolate"})


def build(ri: ReportInput) -> Section:
    heading = "Need groups"
    grouped = (
        f"Each case is in the need group given by {ri.groups}; 'Not in any need group' and "
        "'unknown' count the cases it did not place."
        if ri.groups
        else "Each case is in the first need group, in the plan's order, whose rule it meets. "
        "'Not in any need group' counts cases that meet no group's rule; 'unknown' counts "
        "cases whose group depends on values missing from the records."
    )
    intro = (
        "Children with similar needs form a need group; related groups form a cluster. " + grouped,
        "Cases a year scale the audited cases up to the year's cases, with 95% intervals.",
        annual(ri),
    )
    profile = ri.table("profile")
    if profile is None:
        return section("need-groups", heading, intro, missing="No cases were classified.")
    rows = sorted(
        rows_where(profile, variable="cases"),
        key=lambda r: group_order(ri)(profile.column("need_group")[r].as_py()),
    )
    codes = [profile.column("need_group")[r].as_py() for r in rows]
    view = View(ri).add(
        "profile", rows, ["need_group", "count", "share", "share_low", "share_high"]
    )
    extrapolate = ri.table("extrapolate")
    if extrapolate is not None:
        at = {c: i for i, c in enumerate(extrapolate.column("need_group").to_pylist())}
        view.add(
            "extrapolate",
            [at.get(c) for c in codes],
            ["estimate", "estimate_low", "estimate_high"],
        )
    plan = ri.plan
    clusters = {g.code: g.cluster or "" for g in plan.need_groups}
    cluster_names = {c.code: c.name for c in plan.clusters}
    view.text("label", [group_label(ri, c) for c in codes])
    view.text(
        "cluster",
        [
            f"{clusters.get(c, '')} {cluster_names.get(clusters.get(c, ''), '')}".strip()
            for c in codes
        ],
    )
    view.text("description", [_description(ri, c) for c in codes])
    columns = [
        Column(name="label", label="Need group"),
        Column(name="cluster", label="Cluster"),
        Column(name="count", label="Cases audited", format="count"),
        Column(
            name="share",
            label="Share (95% interval)",
            format="percent",
            low="share_low",
            high="share_high",
        ),
    ]
    if extrapolate is not None:
        columns.append(
            Column(
                name="estimate",
                label="Cases a year (95% interval)",
                format="count",
                low="estimate_low",
                high="estimate_high",
            )
        )
    columns.append(Column(name="description", label="Description"))
    colors = cluster_colors(ri)
    chart = charts.bars_with_intervals(
        view.data["label"],
        view.values("share"),
        view.values("share_low"),
        view.values("share_high"),
        colors=group_colors(ri, codes),
        xlabel="Share of the cases audited",
        title="Share of cases in each need group, with 95% intervals",
        salt=salt(ri, "need-groups"),
        percent=True,
        legend=[
            *((f"{c.code} {c.name}", colors[c.code]) for c in plan.clusters),
            ("no cluster", charts.NO_CLUSTER),
        ],
    )
    return section(
        "need-groups",
        heading,
        intro,
        figure(
            chart,
            "Share of cases in each need group; the whiskers are 95% intervals." + grouping(ri),
        ),
        view.render(columns, id="table-need-groups", caption="Need groups: size and description"),
    )


def _description(ri: ReportInput, code: Any) -> str:
    try:
        return ri.plan.need_group(str(code)).description
    except KeyError:
        return {
            "unassigned": "Cases that meet none of the plan's need-group rules.",
            "unknown": "Cases whose need group depends on values missing from the records.",
        }.get(str(code), "")
