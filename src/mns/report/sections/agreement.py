"""The audit groups (and the plan's rules) compared: agreement and kappa."""

from __future__ import annotations

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
    rows_where,
    salt,
    section,
)

SHOWS = frozenset({"agreement"})


def build(ri: ReportInput) -> Section:
    heading = "Professional and shadow audits compared"
    intro = (
        "The same cases were grouped by a professional audit group and by a shadow group of "
        "service users, and by the plan's rules. Agreement is the share of cases two of them "
        "put in the same need group; kappa corrects it for the agreement expected by chance "
        "(1 is perfect agreement, 0 no better than chance; above 0.6 is usually called "
        "substantial).",
    )
    table = ri.table("agreement")
    pairs: list[tuple[str, str]] = []
    if table is not None:
        for a, b, stat in zip(
            table.column("side_a").to_pylist(),
            table.column("side_b").to_pylist(),
            table.column("statistic").to_pylist(),
            strict=True,
        ):
            if stat == "cohen_kappa" and (a, b) not in pairs:
                pairs.append((a, b))
    if table is None or not pairs:
        return section(
            "agreement",
            heading,
            intro,
            missing=(
                "No audit group's need groups were recorded (the records hold no "
                "assignments): there is nothing to compare."
                if table is None
                else "Only one audit group's need groups were recorded: there is nothing to "
                "compare."
            ),
        )

    def first(stat: str, a: str, b: str) -> int | None:
        found = rows_where(table, statistic=stat, side_a=a, side_b=b)
        return found[0] if found else None

    view = View(ri)
    view.add("agreement", [first("cases", a, b) for a, b in pairs], ["count"], prefix="cases_")
    view.add(
        "agreement",
        [first("observed_agreement", a, b) for a, b in pairs],
        ["count", "estimate", "low", "high"],
        prefix="observed_",
    )
    view.add(
        "agreement",
        [first("cohen_kappa", a, b) for a, b in pairs],
        ["estimate", "low", "high"],
        prefix="kappa_",
    )
    view.text("pair", [f"{a} and {b}" for a, b in pairs])
    columns = [
        Column(name="pair", label="Audit groups compared"),
        Column(name="cases_count", label="Cases both grouped", format="count"),
        Column(name="observed_count", label="Same need group", format="count"),
        Column(
            name="observed_estimate",
            label="Agreement (95% interval)",
            format="percent",
            low="observed_low",
            high="observed_high",
        ),
        Column(
            name="kappa_estimate",
            label="Kappa (95% interval)",
            format="ratio",
            low="kappa_low",
            high="kappa_high",
        ),
    ]
    parts = [view.render(columns, id="table-agreement", caption="Agreement between audit groups")]
    a, b = pairs[0]
    confusion = rows_where(table, statistic="confusion", side_a=a, side_b=b)
    if confusion:
        cview = View(ri).add("agreement", confusion, ["group_a", "group_b", "count"])
        rows_ = sorted(set(cview.data["group_a"]), key=group_order(ri))
        cols_ = sorted(set(cview.data["group_b"]), key=group_order(ri))
        grid = dict(
            zip(
                zip(cview.data["group_a"], cview.data["group_b"], strict=True),
                cview.shown("count"),
                strict=True,
            )
        )
        chart = charts.heatmap(
            [group_label(ri, g) for g in rows_],
            [str(g) for g in cols_],
            [[grid.get((r, c), 0) for c in cols_] for r in rows_],
            title=f"Need groups given by the {a} (rows) and {b} (columns) audits",
            salt=salt(ri, "confusion"),
            percent=False,
            colorbar_label="Cases",
            column_rotation=45,
        )
        cview.text("a_label", [group_label(ri, g) for g in cview.data["group_a"]])
        cview.text("b_label", [group_label(ri, g) for g in cview.data["group_b"]])
        parts.append(
            figure(
                chart,
                f"Rows: the {a} audit's need group; columns: the {b} audit's. Cases on the "
                "diagonal were grouped alike.",
            )
        )
        parts.append(
            details(
                "The numbers behind the grid",
                cview.render(
                    [
                        Column(name="a_label", label=f"{a.capitalize()} audit"),
                        Column(name="b_label", label=f"{b.capitalize()} audit"),
                        Column(name="count", label="Cases", format="count"),
                    ],
                    id="table-confusion",
                    caption=f"Cases by the need group the {a} and {b} audits gave them",
                ),
            )
        )
    return section("agreement", heading, intro, *parts)
