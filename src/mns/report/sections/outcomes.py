"""Outcomes: per need group and outcome, the share of cases that achieved it, overall and
among the cases that received each service."""

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
    service_label,
    service_order,
    short,
)

SHOWS = frozenset({"outcomes"})


def outcome_label(ri: ReportInput, code: Any) -> str:
    """An outcome's code and, where the plan has it, its objective."""
    for outcome in ri.plan.outcomes:
        if outcome.code == code:
            return f"{code} {outcome.objective}"
    return str(code)


def build(ri: ReportInput) -> Section | None:
    table = ri.table("outcomes")
    if table is None or table.num_rows == 0:
        return None
    heading = "Outcomes"
    intro = (
        "For each need group and outcome: of the cases with the outcome recorded, the share "
        "that achieved it, with its 95% interval (each case's latest record counts). The "
        "rows by service show the same for the cases that received each service: a service "
        "whose cases did better than the group as a whole may be working; with samples this "
        "small, read the intervals.",
    )
    groups = table.column("need_group").to_pylist()
    outcome_codes = table.column("outcome").to_pylist()
    services = table.column("service").to_pylist()

    def key(r: int) -> tuple[Any, ...]:
        return (group_order(ri)(groups[r]), str(outcome_codes[r]))

    overall = sorted((r for r in range(table.num_rows) if services[r] is None), key=key)
    measured = ["need_group", "outcome", "recorded", "achieved"]
    measured += ["achieved_share", "achieved_low", "achieved_high"]
    view = View(ri).add("outcomes", overall, measured)
    view.text("group_label", [group_label(ri, g) for g in view.data["need_group"]])
    view.text("outcome_label", [outcome_label(ri, o) for o in view.data["outcome"]])
    order = sorted(set(view.data["need_group"]), key=group_order(ri))
    codes = sorted({str(o) for o in view.data["outcome"]})
    grid = {
        (g, str(o)): s
        for g, o, s in zip(
            view.data["need_group"], view.data["outcome"], view.shown("achieved_share"), strict=True
        )
    }
    chart = charts.heatmap(
        [short(group_label(ri, g), 36) for g in order],
        codes,
        [[grid.get((g, o)) for o in codes] for g in order],
        title="Share of cases that achieved each outcome, by need group",
        salt=salt(ri, "outcomes"),
        colorbar_label="Share achieved",
        column_rotation=45,
    )
    columns = [
        Column(name="group_label", label="Need group"),
        Column(name="outcome_label", label="Outcome"),
        Column(name="recorded", label="Cases with it recorded", format="count"),
        Column(name="achieved", label="Achieved it", format="count"),
        Column(
            name="achieved_share",
            label="Share achieved (95% interval)",
            format="percent",
            low="achieved_low",
            high="achieved_high",
        ),
    ]
    parts = [
        figure(
            chart,
            "Share of the cases with the outcome recorded that achieved it; c: withheld."
            + grouping(ri),
        ),
        view.render(columns, id="table-outcomes", caption="Outcomes achieved by need group"),
    ]
    by_service = sorted(
        (r for r in range(table.num_rows) if services[r] is not None),
        key=lambda r: (*key(r), service_order(ri)(services[r])),
    )
    if by_service:
        sview = View(ri).add("outcomes", by_service, [*measured, "service"])
        sview.text("group_label", [group_label(ri, g) for g in sview.data["need_group"]])
        sview.text("outcome_label", [outcome_label(ri, o) for o in sview.data["outcome"]])
        sview.text("service_label", [service_label(ri, s) for s in sview.data["service"]])
        parts.append(
            details(
                "Outcomes of the cases that received each service",
                sview.render(
                    [
                        *columns[:2],
                        Column(name="service_label", label="Service received"),
                        Column(name="recorded", label="Cases that received it", format="count"),
                        *columns[3:],
                    ],
                    id="table-outcomes-by-service",
                    caption="Outcomes achieved by need group and service received",
                ),
            )
        )
    return section("outcomes", heading, intro, *parts)
