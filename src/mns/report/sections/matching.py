"""Matching needs and services: each need group against each service."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import Markup

from mns.report import charts
from mns.report.html import SYMBOLS, Column, format_value
from mns.report.model import ReportInput
from mns.report.sections._base import (
    Section,
    View,
    details,
    figure,
    fragment,
    group_label,
    group_order,
    grouping,
    salt,
    section,
    service_label,
    service_order,
    shown_or_missing,
)

SHOWS = frozenset({"match"})

STATUS_TITLE = (
    "met: every case meeting the threshold received it; partly met: some did; unmet: none "
    "did; unplanned: received though not planned for the group"
)


def build(ri: ReportInput) -> Section:
    heading = "Matching needs and services"
    intro = (
        "Each need group against each service. Shaded cells are the services the plan gives "
        "the group: 'received' counts its cases that got the service, 'unmet' those that meet "
        "the service's threshold but did not get it. In the other cells, 'unplanned' counts "
        "cases that got a service the plan does not give their group, which may answer an "
        "agency's needs rather than the child's.",
        "The status says what the planning group should look at: 'met' (every case that "
        "meets the threshold of a service planned for its group received it), 'partly met', "
        "'unmet' (none did) and 'unplanned' (cases received a service not planned for their "
        "group). 'Received it below the threshold' counts cases that received a service "
        "without meeting its threshold.",
    )
    table = shown_or_missing(
        ri,
        "match",
        "matching",
        heading,
        intro,
        missing="No services received were recorded, so nothing could be matched.",
    )
    if isinstance(table, Section):
        return table
    rows = list(range(table.num_rows))
    extras = [c for c in ("status", "received_below_threshold") if c in table.column_names]
    view = View(ri).add(
        "match",
        rows,
        [
            "need_group",
            "service",
            "planned",
            "cases",
            "received",
            "eligible",
            "unmet",
            "unplanned",
            *extras,
        ],
    )
    groups = sorted(set(view.data["need_group"]), key=group_order(ri))
    received = view.values("received")
    unmet = view.values("unmet")
    unplanned = view.values("unplanned")
    planned = view.data["planned"]
    totals = {g: {"received": 0.0, "unmet": 0.0, "unplanned": 0.0} for g in groups}
    hidden: set[str] = set()
    for i, g in enumerate(view.data["need_group"]):
        counted = (
            (("received", received[i], "received"), ("unmet", unmet[i], "unmet"))
            if planned[i]
            else (("unplanned", unplanned[i], "unplanned"),)
        )
        for key, value, column in counted:
            if value is None and view.symbol(column, i) == "c":
                hidden.add(g)
            elif value is not None:
                totals[g][key] += float(value)
    chart = charts.stacked_bars(
        [group_label(ri, g) for g in groups],
        [
            ("received (planned)", [totals[g]["received"] for g in groups], charts.PALETTE[2]),
            ("unmet", [totals[g]["unmet"] for g in groups], charts.PALETTE[5]),
            ("unplanned", [totals[g]["unplanned"] for g in groups], charts.PALETTE[1]),
        ],
        xlabel="Case-services (a case counts once for each service)",
        title="Planned services received, unmet and unplanned, by need group",
        salt=salt(ri, "matching"),
        marked=[g in hidden for g in groups],
    )
    view.text("group_label", [group_label(ri, g) for g in view.data["need_group"]])
    view.text("service_label", [service_label(ri, s) for s in view.data["service"]])
    columns = [
        Column(name="group_label", label="Need group"),
        Column(name="service_label", label="Service"),
        Column(name="planned", label="Planned for the group"),
    ]
    if "status" in extras:
        columns.append(Column(name="status", label="Status", title=STATUS_TITLE))
    columns += [
        Column(name="cases", label="Cases in the group", format="count"),
        Column(name="eligible", label="Meet the threshold", format="count"),
        Column(name="received", label="Received it", format="count"),
        Column(name="unmet", label="Unmet", format="count"),
        Column(name="unplanned", label="Unplanned", format="count"),
    ]
    if "received_below_threshold" in extras:
        columns.append(
            Column(
                name="received_below_threshold",
                label="Received it below the threshold",
                format="count",
                title="Cases that received the service without meeting its threshold",
            )
        )
    return section(
        "matching",
        heading,
        intro,
        _matrix(ri, view, groups),
        figure(
            chart,
            "Bars add up a group's cases over the services; a bar marked c leaves out a "
            "withheld count." + grouping(ri),
        ),
        details(
            "The matching matrix as a list",
            view.render(
                columns, id="table-matching", caption="Need groups by services, one row per pair"
            ),
        ),
    )


def _matrix(ri: ReportInput, view: View, groups: Sequence[str]) -> Markup:
    """The matching matrix: need groups (rows) by services (columns)."""
    services = sorted(set(view.data["service"]), key=service_order(ri))
    cells = {
        (g, s): i
        for i, (g, s) in enumerate(zip(view.data["need_group"], view.data["service"], strict=True))
    }
    rows = []
    for g in groups:
        row: list[dict[str, Any] | None] = []
        for s in services:
            i = cells.get((g, s))
            if i is None:
                row.append(None)
                continue
            planned = bool(view.data["planned"][i])
            keys = (("received", "m"), ("unmet", "u")) if planned else (("unplanned", "x"),)
            parts = [p for p in (_matrix_part(view, key, mark, i) for key, mark in keys) if p]
            status = view.data["status"][i] if "status" in view.data else None
            row.append(
                {"group": g, "service": s, "planned": planned, "parts": parts, "status": status}
            )
        rows.append((group_label(ri, g), row))
    heads = [(s, service_label(ri, s), str(s).split("_")) for s in services]
    return fragment("matrix.html", heads=heads, rows=rows)


def _matrix_part(view: View, key: str, mark: str, i: int) -> dict[str, Any] | None:
    """One count of a matrix cell, with where it comes from (``None``: nothing to show)."""
    where = view.origin(key, i)
    source = (
        [("data-table", where[0]), ("data-row", where[1]), ("data-source", where[2])]
        if where
        else []
    )
    value = view.data[key][i]
    if view.symbol(key, i) == "c":
        return {
            "attributes": [
                ("class", f"{mark} symbol"),
                ("data-symbol", "c"),
                *source,
                ("title", f"{key}: {SYMBOLS['c']}"),
            ],
            "text": f"{key} c",
        }
    if value:
        return {
            "attributes": [("class", mark), ("data-value", repr(value)), *source],
            "text": f"{key} {format_value(value, 'count')}",
        }
    return None
