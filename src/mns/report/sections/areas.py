"""Need by area: the year's cases per 10,000 children, overall and by need group."""

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
    shown_or_missing,
)

SHOWS = frozenset({"areas", "areas_by_group"})


def build(ri: ReportInput) -> Section:
    heading = "Need by area"
    intro = (
        "Where the children live (the family's postcode district): the year's cases for every "
        "10,000 children living in the area, with 95% intervals, and the same by need group. "
        "Areas with few cases are withheld.",
    )
    table = shown_or_missing(
        ri,
        "areas",
        "areas",
        heading,
        intro,
        missing="No year's cases and population table were given "
        "(mns audit --referrals ... --population ...).",
    )
    if isinstance(table, Section):
        return table
    rows = list(range(table.num_rows))
    view = View(ri).add(
        "areas", rows, ["area", "count", "population", "rate", "rate_low", "rate_high"]
    )
    view.text(
        "area_label", [str(a) if a is not None else "Not recorded" for a in view.data["area"]]
    )
    chart = charts.bars_with_intervals(
        view.data["area_label"],
        view.values("rate"),
        view.values("rate_low"),
        view.values("rate_high"),
        xlabel="Cases a year per 10,000 children",
        title="The year's cases per 10,000 children in each area, with 95% intervals",
        salt=salt(ri, "areas"),
    )
    columns = [
        Column(name="area_label", label="Area"),
        Column(name="population", label="Children living there", format="count"),
        Column(name="count", label="Cases in the year", format="count"),
        Column(
            name="rate",
            label="Per 10,000 children (95% interval)",
            format="rate",
            low="rate_low",
            high="rate_high",
        ),
    ]
    parts = [
        figure(chart, "Cases per 10,000 children; the whiskers are 95% intervals."),
        view.render(columns, id="table-areas", caption="Need by area"),
    ]
    by_group = ri.table("areas_by_group")
    if by_group is not None and by_group.num_rows:
        gview = View(ri).add(
            "areas_by_group",
            range(by_group.num_rows),
            ["area", "need_group", "count", "rate", "rate_low", "rate_high"],
        )
        area_list = sorted({a for a in gview.data["area"] if a is not None}, key=_area_key)
        group_list = sorted(set(gview.data["need_group"]), key=group_order(ri))
        grid = dict(
            zip(
                zip(gview.data["area"], gview.data["need_group"], strict=True),
                gview.shown("rate"),
                strict=True,
            )
        )
        chart = charts.heatmap(
            [str(a) for a in area_list],
            [short(group_label(ri, g), 36) for g in group_list],
            [[grid.get((a, g)) for g in group_list] for a in area_list],
            title="The year's cases per 10,000 children by area and need group",
            salt=salt(ri, "areas-by-group"),
            percent=False,
            colorbar_label="Cases per 10,000 children",
        )
        gview.text("group_label", [group_label(ri, g) for g in gview.data["need_group"]])
        parts.append(
            figure(
                chart,
                "Cases per 10,000 children by area and need group; c: withheld." + grouping(ri),
            )
        )
        parts.append(
            details(
                "The numbers behind the grid",
                gview.render(
                    [
                        Column(name="area", label="Area"),
                        Column(name="group_label", label="Need group"),
                        Column(name="count", label="Cases", format="count"),
                        Column(
                            name="rate",
                            label="Per 10,000 children (95% interval)",
                            format="rate",
                            low="rate_low",
                            high="rate_high",
                        ),
                    ],
                    id="table-areas-by-group",
                    caption="Need by area and need group",
                ),
            )
        )
    return section("areas", heading, intro, *parts)


def _area_key(area: Any) -> tuple[int, str]:
    text = str(area)
    digits = "".join(ch for ch in text if ch.isdigit())
    return (int(digits) if digits else 0, text)
