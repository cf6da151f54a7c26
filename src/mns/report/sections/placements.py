"""The range, size and mix of placements: looked-after children by need group and placement
type, the places each type takes up and how long placements last."""

from __future__ import annotations

from typing import Any

from mns.report import charts
from mns.report.html import Column
from mns.report.model import ReportInput
from mns.report.sections._base import (
    Section,
    View,
    annual,
    details,
    figure,
    group_label,
    group_order,
    grouping,
    salt,
    section,
    short,
)

SHOWS = frozenset({"placements"})


def type_label(code: Any) -> str:
    """A placement type's code and its label in the SSDA903 language (where it has one)."""
    if code is None:
        return "Type not recorded"
    from mns.lang import language

    indicator = language("ssda903").indicator("placement_type")
    for value in indicator.values or ():
        if value.code == code:
            return f"{code} {value.label}"
    return str(code)


def build(ri: ReportInput) -> Section | None:
    table = ri.table("placements")
    if table is None or table.num_rows == 0:
        return None
    heading = "Placements: range, size and mix"
    intro = (
        "For the looked-after children among the audited cases: how many of each need group "
        "had a placement of each type, how long placements lasted, and how many places of "
        "each type the year's placements fill at any one time (their weeks in placement, "
        "scaled to the year, divided by 52; a placement still open counts to the latest date "
        "in the records, so the places are a lower bound). This is what the range, size and "
        "mix of foster and residential placements must provide for.",
        annual(ri),
    )
    groups = table.column("need_group").to_pylist()
    types = table.column("placement_type").to_pylist()
    children = table.column("children").to_pylist()
    whole = [r for r in range(table.num_rows) if groups[r] is None]
    view = View(ri).add(
        "placements",
        whole,
        [
            "placement_type",
            "children",
            "estimate",
            "estimate_low",
            "estimate_high",
            "placements",
            "ended",
            "weeks_mean",
            "weeks_median",
            "places",
            "places_low",
            "places_high",
        ],
    )
    view.text("type_label", [type_label(t) for t in view.data["placement_type"]])
    by_type = view.render(
        [
            Column(name="type_label", label="Placement type"),
            Column(name="children", label="Audited children", format="count"),
            Column(
                name="estimate",
                label="Children a year (95% interval)",
                format="count",
                low="estimate_low",
                high="estimate_high",
            ),
            Column(name="placements", label="Placements", format="count"),
            Column(name="ended", label="Ended", format="count"),
            Column(name="weeks_mean", label="Mean weeks (ended)", format="number"),
            Column(name="weeks_median", label="Median weeks (ended)", format="number"),
            Column(
                name="places",
                label="Places at any one time (95% interval)",
                format="number",
                low="places_low",
                high="places_high",
            ),
        ],
        id="table-placements",
        caption="Placements by type, all need groups",
    )
    rows = sorted(
        (r for r in range(table.num_rows) if groups[r] is not None and children[r] != 0),
        key=lambda r: (group_order(ri)(groups[r]), str(types[r])),
    )
    group_view = View(ri).add(
        "placements",
        rows,
        ["need_group", "placement_type", "children", "placements", "weeks_mean", "places"],
    )
    order = sorted(set(group_view.data["need_group"]), key=group_order(ri))
    kinds = sorted({str(t) for t in group_view.data["placement_type"]})
    shown = group_view.values("children")
    series = []
    for i, kind in enumerate(kinds):
        values: list[float | None] = []
        for g in order:
            at = [
                j
                for j, (gg, tt) in enumerate(
                    zip(
                        group_view.data["need_group"],
                        group_view.data["placement_type"],
                        strict=True,
                    )
                )
                if gg == g and str(tt) == kind
            ]
            values.append(
                None if any(shown[j] is None for j in at) else float(sum(shown[j] for j in at))
            )
        series.append(
            (short(type_label(kind), 40), values, charts.PALETTE[i % len(charts.PALETTE)])
        )
    parts = []
    if order:
        chart = charts.stacked_bars(
            [short(group_label(ri, g), 36) for g in order],
            series,
            xlabel="Audited children",
            title="Looked-after children of each need group by placement type",
            salt=salt(ri, "placements"),
        )
        parts.append(
            figure(chart, "Children by the type of their placements; c: withheld." + grouping(ri))
        )
    parts.append(by_type)
    group_view.text("group_label", [group_label(ri, g) for g in group_view.data["need_group"]])
    group_view.text("type_label", [type_label(t) for t in group_view.data["placement_type"]])
    parts.append(
        details(
            "Placements by need group and type",
            group_view.render(
                [
                    Column(name="group_label", label="Need group"),
                    Column(name="type_label", label="Placement type"),
                    Column(name="children", label="Audited children", format="count"),
                    Column(name="placements", label="Placements", format="count"),
                    Column(name="weeks_mean", label="Mean weeks (ended)", format="number"),
                    Column(name="places", label="Places at any one time", format="number"),
                ],
                id="table-placements-groups",
                caption="Placements by need group and placement type",
            ),
        )
    )
    return section("placements", heading, intro, *parts)
