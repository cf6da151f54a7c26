"""Teams around need groups: each team's caseload by need group, and how concentrated each
team's work is (mns's own measures, not the method's)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mns.analyses.teams import NO_NEED_GROUP, NOT_RECORDED
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

SHOWS = frozenset({"teams"})


def team_order(team: Any) -> tuple[bool, str]:
    """Teams by name, the cases with no team recorded last."""
    return (team == NOT_RECORDED, str(team))


def hhi_bounds(
    total: float | None, published: Sequence[float], withheld: int
) -> tuple[float, float] | None:
    """The least and greatest Herfindahl-Hirschman index a team can have, from what is
    published: its cases in need groups (``total``), its published counts in need groups and
    how many of those are withheld (``None`` when ``total`` is not known or 0). The withheld
    cases are spread evenly over the withheld cells at least, and all in one at most; with
    none withheld, the index itself."""
    if not total:
        return None
    known = sum((p / total) ** 2 for p in published)
    rest = max(total - sum(published), 0.0) / total
    if not withheld:
        return known, known
    return known + rest * rest / withheld, known + rest * rest


def build(ri: ReportInput) -> Section | None:
    table = ri.table("teams")
    if table is None or table.num_rows == 0:
        return None
    heading = "Teams around need groups"
    intro = (
        "The audited cases by the team (or worker unit) holding them and their need group: "
        "whether the teams are already organised around need groups, or each works with "
        "children of every kind.",
        "How concentrated each team's work is: the share of its cases in its largest need "
        "group, and the Herfindahl-Hirschman index, the sum of the squared shares of its "
        "cases in each group (1 when all are in one group; 0.1 when they are spread evenly "
        "over ten), with its inverse, the effective number of need groups the team works "
        "with. These measures are mns's own addition, not part of the Matching Needs and "
        "Services method. Where disclosure control withholds one of a team's counts, its "
        "measures are withheld too, and the index is shown as the range the published "
        "counts allow.",
    )
    teams = table.column("team").to_pylist()
    groups = table.column("need_group").to_pylist()
    cells = [r for r in range(table.num_rows) if groups[r] is not None]
    cells.sort(key=lambda r: (team_order(teams[r]), group_order(ri)(groups[r])))
    rows = sorted(
        (r for r in range(table.num_rows) if groups[r] is None), key=lambda r: team_order(teams[r])
    )
    cell_view = View(ri).add(
        "teams", cells, ["team", "need_group", "cases", "team_share", "group_share"]
    )
    shown = cell_view.shown("cases")
    order = sorted(set(cell_view.data["need_group"]), key=group_order(ri))
    names = sorted(set(cell_view.data["team"]), key=team_order)
    at = {
        (t, g): i
        for i, (t, g) in enumerate(
            zip(cell_view.data["team"], cell_view.data["need_group"], strict=True)
        )
    }
    grid: list[list[float | str | None]] = [
        [shown[at[(t, g)]] if (t, g) in at else None for g in order] for t in names
    ]
    chart = charts.heatmap(
        [short(str(t), 30) for t in names],
        [str(g) for g in order],
        grid,
        title="Audited cases by team and need group",
        salt=salt(ri, "teams"),
        percent=False,
        colorbar_label="Audited cases",
    )
    parts = [
        figure(
            chart,
            "Each team's audited cases in each need group; c: withheld." + grouping(ri),
        )
    ]
    view = View(ri).add(
        "teams",
        rows,
        [
            "team",
            "cases",
            "largest_group",
            "largest_cases",
            "largest_share",
            "hhi",
            "effective_groups",
        ],
    )
    published = cell_view.values("cases")
    totals = view.values("cases")
    ranges = []
    for name, total, hhi in zip(view.data["team"], totals, view.values("hhi"), strict=True):
        mine = [i for i, t in enumerate(cell_view.data["team"]) if t == name]
        special = [i for i in mine if cell_view.data["need_group"][i] in NO_NEED_GROUP]
        grouped = [i for i in mine if i not in special]
        # the team's cases in need groups: known when no row outside them is withheld
        base = (
            None
            if total is None or any(published[i] is None for i in special)
            else float(total) - sum(float(published[i]) for i in special)
        )
        bounds = hhi_bounds(
            base,
            [float(published[i]) for i in grouped if published[i] is not None],
            sum(1 for i in grouped if published[i] is None),
        )
        if hhi is not None:
            ranges.append(f"{hhi:.2f}")
        elif bounds is None:
            ranges.append("c")
        else:
            ranges.append(f"{bounds[0]:.2f} to {bounds[1]:.2f}")
    view.text(
        "largest_label",
        [
            "c" if view.symbol("largest_group", i) else group_label(ri, g)
            for i, g in enumerate(view.data["largest_group"])
        ],
    )
    view.text("hhi_range", ranges)
    parts.append(
        view.render(
            [
                Column(name="team", label="Team"),
                Column(name="cases", label="Audited cases", format="count"),
                Column(name="largest_label", label="Largest need group"),
                Column(name="largest_cases", label="Its cases", format="count"),
                Column(name="largest_share", label="Share in the largest group", format="percent"),
                Column(
                    name="hhi",
                    label="Concentration (Herfindahl-Hirschman index)",
                    format="ratio",
                ),
                Column(
                    name="hhi_range",
                    label="Index, or its range from the published counts",
                    title="Where a team's counts are withheld, the least and greatest index "
                    "its published counts allow",
                ),
                Column(name="effective_groups", label="Effective need groups", format="number"),
            ],
            id="table-teams",
            caption="How concentrated each team's work is",
        )
    )
    cell_view.text("group_label", [group_label(ri, g) for g in cell_view.data["need_group"]])
    parts.append(
        details(
            "Caseloads by team and need group",
            cell_view.render(
                [
                    Column(name="team", label="Team"),
                    Column(name="group_label", label="Need group"),
                    Column(name="cases", label="Audited cases", format="count"),
                    Column(name="team_share", label="Share of the team's cases", format="percent"),
                    Column(
                        name="group_share", label="Share of the group's cases", format="percent"
                    ),
                ],
                id="table-teams-groups",
                caption="Audited cases by team and need group",
            ),
        )
    )
    return section("teams", heading, intro, *parts)
