"""Capacity against demand for each service."""

from __future__ import annotations

from mns.report import charts
from mns.report.html import Column
from mns.report.model import ReportInput
from mns.report.sections._base import (
    Section,
    View,
    annual,
    figure,
    salt,
    section,
    service_label,
    service_order,
    shown_or_missing,
)

SHOWS = frozenset({"capacity"})


def build(ri: ReportInput) -> Section:
    heading = "Capacity against demand"
    intro = (
        "For each service in the plan: how many cases a year are likely to need it (the "
        "audited cases in the groups it is planned for that meet its threshold, scaled up to "
        "the year, with a 95% interval) against the places a year it has. A shortfall is "
        "demand above capacity. Where some cases' need group (or whether they meet the "
        "threshold) is not known, 'demand at most' says what they could add.",
        annual(ri),
    )
    table = shown_or_missing(
        ri, "capacity", "capacity", heading, intro, missing="The plan has no services."
    )
    if isinstance(table, Section):
        return table
    codes = table.column("service").to_pylist()
    rows = sorted(range(table.num_rows), key=lambda r: service_order(ri)(codes[r]))
    view = View(ri).add(
        "capacity",
        rows,
        [
            "service",
            "capacity",
            "sample",
            "estimate",
            "estimate_low",
            "estimate_high",
            "shortfall",
            "load",
            *(c for c in ("unknown_upper", "cases_available") if c in table.column_names),
        ],
    )
    # a capacity the plan gives in places is compared as the cases a year it takes on
    available = "cases_available" if "cases_available" in view.data else "capacity"
    labels = [service_label(ri, s) for s in view.data["service"]]
    chart = charts.demand_and_capacity(
        labels,
        view.values("estimate"),
        view.values("estimate_low"),
        view.values("estimate_high"),
        view.values(available),
        xlabel="Cases a year",
        title="Estimated demand for each service against its planned capacity",
        salt=salt(ri, "capacity"),
    )
    view.text("label", labels)
    columns = [
        Column(name="label", label="Service"),
        Column(name="sample", label="Audited cases needing it", format="count"),
        Column(
            name="estimate",
            label="Demand: cases a year (95% interval)",
            format="count",
            low="estimate_low",
            high="estimate_high",
        ),
        *(
            [
                Column(
                    name="unknown_upper",
                    label="Demand at most, with cases of unknown group",
                    format="count",
                    title="An upper bound: the demand if every case whose need group or "
                    "threshold is unknown needed the service",
                )
            ]
            if "unknown_upper" in view.data
            else []
        ),
        Column(
            name=available,
            label="Capacity: cases a year",
            format="count",
            title="The plan's capacity; one given in places is the cases a year they take on "
            "(places x 52 / weeks a case)",
        ),
        Column(name="shortfall", label="Shortfall", format="count"),
        Column(name="load", label="Demand / capacity", format="ratio"),
    ]
    return section(
        "capacity",
        heading,
        intro,
        figure(
            chart,
            "Bars: estimated demand (red where above capacity); black lines: planned capacity.",
        ),
        view.render(columns, id="table-capacity", caption="Capacity against demand per service"),
    )
