"""Costs and the joint budget: places needed against places available, what a year's demand
costs against what the planned capacity costs, and each funding agency's share."""

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
    salt,
    section,
    service_label,
    service_order,
    total,
)

SHOWS = frozenset({"budget"})

_MONEY = "Costs are in the plan's currency a year, at the plan's unit costs."


def _agency_totals(ri: ReportInput, table: Any) -> tuple[list[str], list[Any], list[Any]]:
    """Each agency's share of the capacity's cost and of the demand's cost, summed over the
    services it funds (the all-groups rows): ``None`` where a part is withheld; services
    the plan gives no cost count nothing."""
    rows = [r for r, g in enumerate(table.column("need_group").to_pylist()) if g is None]
    view = View(ri).add("budget", rows, ["agency", "agency_cost", "agency_provision_cost"])
    agencies = sorted(set(view.data["agency"]))
    sums: dict[str, list[Any]] = {"agency_cost": [], "agency_provision_cost": []}
    for column, out in sums.items():
        for agency in agencies:
            parts: list[float | None] = []
            for i, a in enumerate(view.data["agency"]):
                if a != agency:
                    continue
                mark = view.symbol(column, i)
                parts.append(None if mark == "c" else (0.0 if mark else view.data[column][i]))
            out.append(total(parts))
    return agencies, sums["agency_provision_cost"], sums["agency_cost"]


def build(ri: ReportInput) -> Section | None:
    table = ri.table("budget")
    capacity = ri.table("capacity")
    if table is None or capacity is None:
        return None
    heading = "Costs and the joint budget"
    intro = (
        "What the year's demand for each service costs, against what its planned capacity "
        "costs, and who pays. Places needed are the places the demand fills at any one time: "
        "cases a year times how long each case lasts (the plan's duration in weeks, divided "
        "by 52). A case costs the plan's unit cost (per case, or per week times the "
        "duration). Each service's cost is split between the agencies that fund it by the "
        "shares the plan gives them (a joint budget).",
        "The intervals are those of the annual demand (95%). " + _MONEY + " " + annual(ri),
    )
    codes = capacity.column("service").to_pylist()
    rows = sorted(range(capacity.num_rows), key=lambda r: service_order(ri)(codes[r]))
    view = View(ri).add(
        "capacity",
        rows,
        [
            "service",
            "capacity_unit",
            "duration_weeks",
            "places_needed",
            "places_needed_low",
            "places_needed_high",
            "places_available",
            "places_shortfall",
            "cost_per_case",
            "demand_cost",
            "demand_cost_low",
            "demand_cost_high",
            "provision_cost",
            "shortfall_cost",
        ],
    )
    labels = [service_label(ri, s) for s in view.data["service"]]
    view.text("label", labels)
    chart = charts.demand_and_capacity(
        labels,
        view.values("places_needed"),
        view.values("places_needed_low"),
        view.values("places_needed_high"),
        view.values("places_available"),
        xlabel="Places at any one time",
        title="Places the demand for each service fills, against the places it has",
        salt=salt(ri, "places"),
    )
    places = view.render(
        [
            Column(name="label", label="Service"),
            Column(name="duration_weeks", label="Weeks a case", format="number"),
            Column(
                name="places_needed",
                label="Places needed (95% interval)",
                format="number",
                low="places_needed_low",
                high="places_needed_high",
            ),
            Column(
                name="places_available",
                label="Places available",
                format="number",
                title="The plan's capacity in places, or its cases a year times weeks / 52",
            ),
            Column(name="places_shortfall", label="Places short", format="number"),
            Column(name="cost_per_case", label="Cost a case", format="count"),
            Column(
                name="demand_cost",
                label="Cost of the demand a year (95% interval)",
                format="count",
                low="demand_cost_low",
                high="demand_cost_high",
            ),
            Column(name="provision_cost", label="Cost of the capacity a year", format="count"),
            Column(
                name="shortfall_cost",
                label="Cost of the shortfall",
                format="count",
                title="Demand cost minus capacity cost: what meeting the demand would add "
                "(negative: capacity beyond the demand)",
            ),
        ],
        id="table-places-costs",
        caption="Places and costs per service",
    )
    agencies, provision, demand = _agency_totals(ri, table)
    agency_chart = charts.paired_bars(
        agencies,
        ("Cost of the capacity", provision, [None] * len(agencies), [None] * len(agencies)),
        ("Cost of the demand", demand, [None] * len(agencies), [None] * len(agencies)),
        xlabel="Cost a year",
        title="Each agency's share of the cost of the capacity and of the demand",
        salt=salt(ri, "budget-agencies"),
        percent=False,
    )
    totals = View(ri)
    totals.text("agency", agencies)
    # sums of published cells (no one cell's origin): shown as text, c where a part is withheld
    totals.text("demand", [f"{v:,.0f}" if v is not None else "c" for v in demand])
    totals.text("provision", [f"{v:,.0f}" if v is not None else "c" for v in provision])
    agency_table = totals.render(
        [
            Column(name="agency", label="Agency"),
            Column(name="provision", label="Its share of the capacity's cost", format="count"),
            Column(name="demand", label="Its share of the demand's cost", format="count"),
        ],
        id="table-budget-agencies",
        caption="The joint budget: each agency's share, summed over the services it funds",
    )
    services = table.column("service").to_pylist()
    groups = table.column("need_group").to_pylist()
    agency_col = table.column("agency").to_pylist()
    whole = sorted(
        (r for r in range(table.num_rows) if groups[r] is None),
        key=lambda r: (service_order(ri)(services[r]), str(agency_col[r])),
    )
    shares = View(ri).add(
        "budget",
        whole,
        [
            "service",
            "agency",
            "funding_share",
            "agency_cost",
            "agency_cost_low",
            "agency_cost_high",
            "agency_provision_cost",
        ],
    )
    shares.text("label", [service_label(ri, s) for s in shares.data["service"]])
    shares_table = shares.render(
        [
            Column(name="label", label="Service"),
            Column(name="agency", label="Agency"),
            Column(name="funding_share", label="Share", format="percent"),
            Column(name="agency_provision_cost", label="Capacity cost", format="count"),
            Column(
                name="agency_cost",
                label="Demand cost (95% interval)",
                format="count",
                low="agency_cost_low",
                high="agency_cost_high",
            ),
        ],
        id="table-budget-shares",
        caption="Each service's cost by funding agency",
    )
    first_agency: dict[Any, Any] = {}
    for r in range(table.num_rows):
        first_agency.setdefault(services[r], agency_col[r])
    by_group = sorted(
        (
            r
            for r in range(table.num_rows)
            if groups[r] is not None and agency_col[r] == first_agency[services[r]]
        ),
        key=lambda r: (group_order(ri)(groups[r]), service_order(ri)(services[r])),
    )
    group_view = View(ri).add(
        "budget",
        by_group,
        [
            "need_group",
            "service",
            "sample",
            "estimate",
            "estimate_low",
            "estimate_high",
            "demand_cost",
            "demand_cost_low",
            "demand_cost_high",
        ],
    )
    group_view.text("group_label", [group_label(ri, g) for g in group_view.data["need_group"]])
    group_view.text("service_label", [service_label(ri, s) for s in group_view.data["service"]])
    group_table = group_view.render(
        [
            Column(name="group_label", label="Need group"),
            Column(name="service_label", label="Service"),
            Column(name="sample", label="Audited cases needing it", format="count"),
            Column(
                name="estimate",
                label="Cases a year (95% interval)",
                format="count",
                low="estimate_low",
                high="estimate_high",
            ),
            Column(
                name="demand_cost",
                label="Cost of the demand a year (95% interval)",
                format="count",
                low="demand_cost_low",
                high="demand_cost_high",
            ),
        ],
        id="table-budget-groups",
        caption="The cost of each need group's demand, by service",
    )
    return section(
        "costs",
        heading,
        intro,
        figure(
            chart,
            "Bars: places the demand fills at any one time (red where above the places "
            "available); black lines: places available.",
        ),
        places,
        figure(
            agency_chart,
            "Each agency's share of the cost a year; c: a part is withheld.",
        ),
        agency_table,
        details("Each service's cost by funding agency", shares_table),
        details("The cost of each need group's demand", group_table),
    )
