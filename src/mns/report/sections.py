"""The report's sections, each a heading, a short plain explanation, a chart and its table.

Every section reads published tables from :class:`~mns.report.model.ReportInput` by name and
column, and shows what it cannot show as a short note saying what the audit would need.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from html import escape
from typing import Any

import attrs
import pyarrow as pa

from mns.report import charts
from mns.report.html import SYMBOLS, Column, format_value, paragraphs, render_table
from mns.report.model import ReportInput

__all__ = ["SECTIONS", "Section", "build_sections"]

#: Each table the report reads, with the columns it needs.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "need_groups": ("need_group", "cases", "share", "share_low", "share_high"),
    "prevalence": ("need_group", "indicator", "cases", "share"),
    "matching": ("need_group", "service", "planned", "matched", "unmet", "unplanned"),
    "agreement": ("cases", "agreed", "agreement", "kappa", "kappa_low", "kappa_high"),
    "confusion": ("professional", "shadow", "cases"),
    "change": (
        "need_group",
        "baseline_cases",
        "baseline_share",
        "reaudit_cases",
        "reaudit_share",
        "difference",
        "difference_low",
        "difference_high",
    ),
    "areas": ("area", "children", "cases", "rate", "rate_low", "rate_high"),
    "capacity": ("service", "demand", "demand_low", "demand_high", "capacity", "shortfall"),
    "issues": ("source", "table", "field", "severity", "action", "issues", "example"),
}


@attrs.frozen(kw_only=True)
class Section:
    """One section of the report."""

    id: str
    heading: str
    html: str


def _salt(ri: ReportInput, name: str) -> str:
    return hashlib.sha256(f"{ri.title}/{name}".encode()).hexdigest()[:12]


def _explain(*texts: str) -> str:
    return f'<div class="explain">{paragraphs(*texts)}</div>'


def _absent(text: str) -> str:
    return f'<p class="absent">{escape(text)}</p>'


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"


def _details(summary: str, body: str) -> str:
    return f"<details><summary>{escape(summary)}</summary>{body}</details>"


def _symbolizer(ri: ReportInput, name: str) -> Callable[[str, int], str | None]:
    return lambda column, row: ri.symbol(name, column, row)


def _values(ri: ReportInput, name: str, table: pa.Table, column: str) -> list[Any]:
    """The column's values with suppressed (or otherwise symbolised) cells as ``None``."""
    values = table.column(column).to_pylist()
    return [None if ri.symbol(name, column, i) else v for i, v in enumerate(values)]


def _group_label(ri: ReportInput, code: str) -> str:
    try:
        group = ri.plan.need_group(code)
    except KeyError:
        return {"unassigned": "Not in any need group", "unknown": "Unknown (missing values)"}.get(
            code, code
        )
    return f"{code} {group.name}"


def _service_label(ri: ReportInput, code: str) -> str:
    try:
        return f"{code} {ri.plan.service(code).name}"
    except KeyError:
        return code


def _cluster_colors(ri: ReportInput) -> dict[str, str]:
    return {c.code: charts.PALETTE[i % len(charts.PALETTE)] for i, c in enumerate(ri.plan.clusters)}


def _with_labels(table: pa.Table, column: str, labels: Callable[[str], str]) -> pa.Table:
    texts = [labels(str(v)) if v is not None else "" for v in table.column(column).to_pylist()]
    return table.append_column(f"{column}_label", pa.array(texts, pa.string()))


# --- sections ------------------------------------------------------------------------------


def summary(ri: ReportInput) -> Section:
    figures: list[tuple[str, str]] = []
    groups = ri.table("need_groups")
    if groups is not None:
        cases = _values(ri, "need_groups", groups, "cases")
        known = [c for c in cases if c is not None]
        if len(known) == len(cases):
            figures.append((format_value(sum(known), "count"), "cases audited"))
        planned = len(ri.plan.need_groups)
        figures.append((str(planned), "need groups in the plan"))
        codes = groups.column("need_group").to_pylist()
        if "unassigned" in codes:
            i = codes.index("unassigned")
            share = _values(ri, "need_groups", groups, "share")[i]
            figures.append(
                (
                    "c" if share is None else format_value(share, "percent"),
                    "of cases fit no need group",
                )
            )
    figures.append((str(len(ri.plan.services)), "services in the plan"))
    matching = ri.table("matching")
    if matching is not None:
        unmet = _values(ri, "matching", matching, "unmet")
        if all(u is not None for u in unmet):
            figures.append((format_value(sum(unmet), "count"), "planned services not received"))
    agreement = ri.table("agreement")
    if agreement is not None and agreement.num_rows:
        kappa = _values(ri, "agreement", agreement, "kappa")[0]
        if kappa is not None:
            figures.append((format_value(kappa, "ratio"), "agreement of the two audits (kappa)"))
    items = "".join(f"<li><b>{escape(v)}</b>{escape(label)}</li>" for v, label in figures)
    plan = ri.plan
    text = _explain(
        f"This report sets the needs of the children in the audit sample against the plan "
        f"{plan.name!r}: which need groups the children fall into, what each group needs, "
        f"what they actually received, and whether the services planned can meet the demand.",
        "Numbers come with 95% intervals: the range the true value is likely to lie in, "
        "given that the audit looked at a sample. Small counts are hidden (see "
        "'Disclosure control' at the end).",
    )
    return Section(
        id="summary", heading="At a glance", html=text + f'<ul class="key-figures">{items}</ul>'
    )


def need_groups(ri: ReportInput) -> Section:
    name = "need_groups"
    heading = "Need groups"
    table = ri.table(name)
    intro = _explain(
        "Children with similar needs form a need group; related groups form a cluster. "
        "Each case was put in the first need group, in the plan's order, whose rule it meets. "
        "'Not in any need group' counts cases that meet no group's rule; 'unknown' counts "
        "cases whose group depends on values missing from the records.",
    )
    if table is None:
        return Section(
            id="need-groups", heading=heading, html=intro + _absent("No cases were classified.")
        )
    plan = ri.plan
    codes = table.column("need_group").to_pylist()
    clusters = {g.code: g.cluster or "" for g in plan.need_groups}
    cluster_names = {c.code: c.name for c in plan.clusters}
    descriptions = {g.code: g.description for g in plan.need_groups}
    extra = pa.table(
        {
            "label": [_group_label(ri, c) for c in codes],
            "cluster": [
                f"{clusters.get(c, '')} {cluster_names.get(clusters.get(c, ''), '')}".strip()
                for c in codes
            ],
            "description": [descriptions.get(c, "") for c in codes],
        }
    )
    shown = table
    for column in extra.column_names:
        shown = shown.append_column(f"_{column}", extra.column(column))
    columns = [
        Column(name="_label", label="Need group"),
        Column(name="_cluster", label="Cluster"),
        Column(name="cases", label="Cases", format="count"),
        Column(
            name="share",
            label="Share of cases (95% interval)",
            format="percent",
            low="share_low",
            high="share_high",
        ),
    ]
    if "estimated" in table.column_names:
        columns.append(
            Column(
                name="estimated",
                label="Estimated cases a year (95% interval)",
                format="count",
                low="estimated_low" if "estimated_low" in table.column_names else None,
                high="estimated_high" if "estimated_high" in table.column_names else None,
            )
        )
    columns.append(Column(name="_description", label="Description"))
    colors = _cluster_colors(ri)
    chart = charts.bars_with_intervals(
        [_group_label(ri, c) for c in codes],
        _values(ri, name, table, "share"),
        _values(ri, name, table, "share_low"),
        _values(ri, name, table, "share_high"),
        colors=[colors.get(clusters.get(c, ""), charts.NO_CLUSTER) for c in codes],
        xlabel="Share of the cases audited",
        title="Share of cases in each need group, with 95% intervals",
        salt=_salt(ri, name),
        percent=True,
        legend=[(f"{c.code} {c.name}", colors[c.code]) for c in plan.clusters],
    )
    body = (
        intro
        + _figure(chart, "Share of cases in each need group; the whiskers are 95% intervals.")
        + render_table(
            shown,
            columns,
            id="table-need-groups",
            caption="Need groups: size and description",
            symbol=_symbolizer(ri, name),
        )
    )
    return Section(id="need-groups", heading=heading, html=body)


def prevalence(ri: ReportInput) -> Section:
    name = "prevalence"
    heading = "Needs in each group"
    intro = _explain(
        "How common each need (indicator) is within each need group: the darker the cell, "
        "the more of the group's children have it. This is what the planning group reads to "
        "check that each group hangs together and to describe it.",
    )
    table = ri.table(name)
    if table is None or table.num_rows == 0:
        return Section(
            id="prevalence", heading=heading, html=intro + _absent("No indicators to show.")
        )
    groups = list(dict.fromkeys(table.column("need_group").to_pylist()))
    indicators = list(dict.fromkeys(table.column("indicator").to_pylist()))
    shares = _values(ri, name, table, "share")
    grid: dict[tuple[str, str], float | None] = {}
    for g, ind, s in zip(
        table.column("need_group").to_pylist(),
        table.column("indicator").to_pylist(),
        shares,
        strict=True,
    ):
        grid[(g, ind)] = s
    labels = table.column("label").to_pylist() if "label" in table.column_names else indicators
    short = dict(zip(table.column("indicator").to_pylist(), labels, strict=True))
    chart = charts.heatmap(
        [_group_label(ri, g) for g in groups],
        [_short(f"{i} {short.get(i) or ''}".strip(), 38) for i in indicators],
        [[grid.get((g, i)) for i in indicators] for g in groups],
        title="Prevalence of each indicator in each need group",
        salt=_salt(ri, name),
        colorbar_label="Share of the group's cases",
    )
    shown = _with_labels(table, "need_group", lambda c: _group_label(ri, c))
    columns = [
        Column(name="need_group_label", label="Need group"),
        Column(name="indicator", label="Indicator", format="code"),
    ]
    if "label" in table.column_names:
        columns.append(Column(name="label", label="Meaning"))
    columns += [
        Column(name="cases", label="Cases with it", format="count"),
        Column(
            name="share",
            label="Share of the group",
            format="percent",
            low="share_low" if "share_low" in table.column_names else None,
            high="share_high" if "share_high" in table.column_names else None,
        ),
    ]
    body = (
        intro
        + _figure(chart, "Grey cells marked c are suppressed (too few cases to show).")
        + _details(
            "The numbers behind the heat map",
            render_table(
                shown,
                columns,
                id="table-prevalence",
                caption="Indicator prevalence by need group",
                symbol=_symbolizer(ri, name),
            ),
        )
    )
    return Section(id="prevalence", heading=heading, html=body)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def matching(ri: ReportInput) -> Section:
    name = "matching"
    heading = "Matching needs and services"
    intro = _explain(
        "For each need group and service: 'matched' counts cases that received a service the "
        "plan gives their group; 'unmet' counts cases that the plan says need the service "
        "(they meet its threshold) but did not receive it; 'unplanned' counts cases that "
        "received a service the plan does not give their group, which may answer an "
        "agency's needs rather than the child's.",
    )
    table = ri.table(name)
    if table is None or table.num_rows == 0:
        return Section(
            id="matching",
            heading=heading,
            html=intro
            + _absent("No services received were recorded, so nothing could be matched."),
        )
    group_codes = table.column("need_group").to_pylist()
    groups = sorted(set(group_codes), key=_order(ri))
    series = {k: _values(ri, name, table, k) for k in ("matched", "unmet", "unplanned")}
    totals: dict[str, dict[str, float]] = {g: dict.fromkeys(series, 0.0) for g in groups}
    hidden: set[str] = set()
    for i, g in enumerate(group_codes):
        for k, values in series.items():
            value = values[i]
            if value is None:
                hidden.add(g)
            else:
                totals[g][k] += float(value)
    chart = charts.stacked_bars(
        [_group_label(ri, g) for g in groups],
        [
            (
                k,
                [None if g in hidden and totals[g][k] == 0 else totals[g][k] for g in groups],
                color,
            )
            for k, color in (
                ("matched", charts.PALETTE[2]),
                ("unmet", charts.PALETTE[5]),
                ("unplanned", charts.PALETTE[1]),
            )
        ],
        xlabel="Cases (added up over the services)",
        title="Matched, unmet and unplanned services by need group",
        salt=_salt(ri, name),
    )
    shown = _with_labels(table, "need_group", lambda c: _group_label(ri, c))
    shown = _with_labels(shown, "service", lambda c: _service_label(ri, c))
    columns = [
        Column(name="need_group_label", label="Need group"),
        Column(name="service_label", label="Service"),
        Column(name="planned", label="In the plan for this group"),
        Column(name="matched", label="Matched", format="count"),
        Column(name="unmet", label="Unmet", format="count"),
        Column(name="unplanned", label="Unplanned", format="count"),
    ]
    body = (
        intro
        + _matrix(ri, table, groups)
        + _figure(
            chart,
            "Each bar adds up a need group's cases over the services; a bar marked c leaves "
            "out a suppressed count.",
        )
        + _details(
            "The matching matrix as a list",
            render_table(
                shown,
                columns,
                id="table-matching",
                caption="Need groups by services, one row per pair",
                symbol=_symbolizer(ri, name),
            ),
        )
    )
    return Section(id="matching", heading=heading, html=body)


def _matrix(ri: ReportInput, table: pa.Table, groups: Sequence[str]) -> str:
    """The matching matrix: need groups (rows) by services (columns); each cell shows the
    matched, unmet and unplanned counts, and cells the plan provides for are shaded."""
    services = sorted(set(table.column("service").to_pylist()), key=_service_order(ri))
    pairs = zip(
        table.column("need_group").to_pylist(), table.column("service").to_pylist(), strict=True
    )
    cells = {pair: row for row, pair in enumerate(pairs)}
    planned = table.column("planned").to_pylist()
    head = "".join(
        f'<th scope="col" data-service="{escape(s)}">{escape(_service_label(ri, s))}</th>'
        for s in services
    )
    rows = []
    for g in groups:
        tds = []
        for s in services:
            row = cells.get((g, s))
            if row is None:
                tds.append('<td class="none">\u2013</td>')
                continue
            parts = "<br>".join(_matrix_parts(ri, table, row)) or "\u2013"
            cls = ' class="planned"' if planned[row] else ""
            tds.append(
                f'<td{cls} data-need-group="{escape(g)}" data-service="{escape(s)}">{parts}</td>'
            )
        rows.append(f'<tr><th scope="row">{escape(_group_label(ri, g))}</th>{"".join(tds)}</tr>')
    return (
        '<div class="table-wrap"><table id="matrix-matching" class="matrix">'
        "<caption>The matching matrix: need groups by services (shaded: the plan gives "
        "the group this service)</caption>"
        f'<thead><tr><th scope="col">Need group</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _matrix_parts(ri: ReportInput, table: pa.Table, row: int) -> list[str]:
    parts = []
    for key, mark in (("matched", "m"), ("unmet", "u"), ("unplanned", "x")):
        symbol = ri.symbol("matching", key, row)
        value = table.column(key)[row].as_py()
        if symbol is not None:
            meaning = escape(SYMBOLS.get(symbol, symbol))
            parts.append(
                f'<span class="{mark} symbol" data-column="{key}" data-symbol="{escape(symbol)}" '
                f'title="{key}: {meaning}">{key} {escape(symbol)}</span>'
            )
        elif value:
            parts.append(
                f'<span class="{mark}" data-column="{key}" data-value="{value!r}">'
                f"{key} {escape(format_value(value, 'count'))}</span>"
            )
    return parts


def _service_order(ri: ReportInput) -> Callable[[str], tuple[int, str]]:
    rank = {s.code: i for i, s in enumerate(ri.plan.services)}
    return lambda code: (rank.get(code, len(rank)), str(code))


def agreement(ri: ReportInput) -> Section:
    heading = "Professional and shadow audits compared"
    intro = _explain(
        "The same cases were grouped by a professional audit group and by a shadow group of "
        "service users. Agreement is the share of cases both put in the same need group; "
        "kappa corrects that for agreement expected by chance (1 is perfect agreement, 0 no "
        "better than chance; above 0.6 is usually called substantial).",
    )
    summary_table = ri.table("agreement")
    confusion = ri.table("confusion")
    if summary_table is None or summary_table.num_rows == 0:
        return Section(
            id="agreement",
            heading=heading,
            html=intro
            + _absent(
                "Only one audit group's assignments were recorded: there is nothing to compare."
            ),
        )
    columns = [
        Column(name="cases", label="Cases grouped by both", format="count"),
        Column(name="agreed", label="Same need group", format="count"),
        Column(name="agreement", label="Agreement", format="percent"),
        Column(
            name="kappa",
            label="Kappa (95% interval)",
            format="ratio",
            low="kappa_low",
            high="kappa_high",
        ),
    ]
    body = intro + render_table(
        summary_table,
        columns,
        id="table-agreement",
        caption="Agreement between the professional and the shadow audit",
        symbol=_symbolizer(ri, "agreement"),
        row_header=False,
    )
    if confusion is not None and confusion.num_rows:
        prof = sorted(set(confusion.column("professional").to_pylist()), key=_order(ri))
        shadow = sorted(set(confusion.column("shadow").to_pylist()), key=_order(ri))
        counts = _values(ri, "confusion", confusion, "cases")
        grid = {
            (p, s): c
            for p, s, c in zip(
                confusion.column("professional").to_pylist(),
                confusion.column("shadow").to_pylist(),
                counts,
                strict=True,
            )
        }
        chart = charts.heatmap(
            [_group_label(ri, p) for p in prof],
            [str(s) for s in shadow],
            [[grid.get((p, s), 0) for s in shadow] for p in prof],
            title="Need groups given by the professional (rows) and shadow (columns) audits",
            salt=_salt(ri, "confusion"),
            percent=False,
            colorbar_label="Cases",
            column_rotation=45,
        )
        shown = _with_labels(confusion, "professional", lambda c: _group_label(ri, c))
        shown = _with_labels(shown, "shadow", lambda c: _group_label(ri, c))
        body += _figure(
            chart,
            "Rows: the professional audit's need group; columns: the shadow audit's. Cases on "
            "the diagonal were grouped alike.",
        ) + _details(
            "The numbers behind the grid",
            render_table(
                shown,
                [
                    Column(name="professional_label", label="Professional audit"),
                    Column(name="shadow_label", label="Shadow audit"),
                    Column(name="cases", label="Cases", format="count"),
                ],
                id="table-confusion",
                caption="Cases by the need group each audit gave them",
                symbol=_symbolizer(ri, "confusion"),
            ),
        )
    return Section(id="agreement", heading=heading, html=body)


def _order(ri: ReportInput) -> Callable[[str], tuple[int, str]]:
    rank = {g.code: i for i, g in enumerate(ri.plan.need_groups)}
    return lambda code: (rank.get(code, len(rank)), str(code))


def change(ri: ReportInput) -> Section:
    name = "change"
    heading = "Change since the baseline audit"
    intro = _explain(
        "The re-audit a year later against the baseline audit: the share of cases in each "
        "need group then and now, and the difference with its 95% interval. An interval "
        "that does not include 0 suggests a real change rather than the chance of sampling.",
    )
    table = ri.table(name)
    if table is None or table.num_rows == 0:
        return Section(
            id="change",
            heading=heading,
            html=intro + _absent("No baseline audit was given (mns audit --baseline ...)."),
        )
    codes = table.column("need_group").to_pylist()
    base = _values(ri, name, table, "baseline_share")
    now = _values(ri, name, table, "reaudit_share")
    nones = [None] * len(codes)
    chart = charts.paired_bars(
        [_group_label(ri, c) for c in codes],
        ("baseline", base, nones, nones),
        ("re-audit", now, nones, nones),
        xlabel="Share of the cases audited",
        title="Share of cases in each need group at the baseline and at the re-audit",
        salt=_salt(ri, name),
    )
    shown = _with_labels(table, "need_group", lambda c: _group_label(ri, c))
    columns = [
        Column(name="need_group_label", label="Need group"),
        Column(name="baseline_cases", label="Baseline cases", format="count"),
        Column(name="baseline_share", label="Baseline share", format="percent"),
        Column(name="reaudit_cases", label="Re-audit cases", format="count"),
        Column(name="reaudit_share", label="Re-audit share", format="percent"),
        Column(
            name="difference",
            label="Change in share (95% interval)",
            format="percent",
            low="difference_low",
            high="difference_high",
        ),
    ]
    body = (
        intro
        + _figure(chart, "Light bars: baseline; dark bars: re-audit.")
        + render_table(
            shown,
            columns,
            id="table-change",
            caption="Need groups at the baseline and at the re-audit",
            symbol=_symbolizer(ri, name),
        )
    )
    return Section(id="change", heading=heading, html=body)


def areas(ri: ReportInput) -> Section:
    name = "areas"
    heading = "Need by area"
    intro = _explain(
        "Where the children live (by the family's postcode district): cases in the year for "
        "every 1,000 children living in the area, with 95% intervals. Areas with few cases "
        "are suppressed.",
    )
    table = ri.table(name)
    if table is None or table.num_rows == 0:
        return Section(
            id="areas",
            heading=heading,
            html=intro + _absent("No population table was given (mns audit --population ...)."),
        )
    labels = [str(a) for a in table.column("area").to_pylist()]
    chart = charts.bars_with_intervals(
        labels,
        _values(ri, name, table, "rate"),
        _values(ri, name, table, "rate_low"),
        _values(ri, name, table, "rate_high"),
        xlabel="Cases per 1,000 children",
        title="Cases per 1,000 children in each area, with 95% intervals",
        salt=_salt(ri, name),
    )
    columns = [
        Column(name="area", label="Area"),
        Column(name="children", label="Children living there", format="count"),
        Column(name="cases", label="Cases", format="count"),
        Column(
            name="rate",
            label="Cases per 1,000 children (95% interval)",
            format="rate",
            low="rate_low",
            high="rate_high",
        ),
    ]
    body = (
        intro
        + _figure(chart, "Cases per 1,000 children; the whiskers are 95% intervals.")
        + render_table(
            table,
            columns,
            id="table-areas",
            caption="Need by area",
            symbol=_symbolizer(ri, name),
        )
    )
    return Section(id="areas", heading=heading, html=body)


def capacity(ri: ReportInput) -> Section:
    name = "capacity"
    heading = "Capacity against demand"
    intro = _explain(
        "For each service in the plan: how many cases a year are likely to need it (the "
        "sample's cases that meet its threshold, scaled up to the year's referrals, with a "
        "95% interval) against the number of cases a year it can take. A shortfall is "
        "demand above capacity.",
    )
    table = ri.table(name)
    if table is None or table.num_rows == 0:
        return Section(
            id="capacity",
            heading=heading,
            html=intro + _absent("Demand could not be estimated: no year's cases were given."),
        )
    codes = table.column("service").to_pylist()
    chart = charts.demand_and_capacity(
        [_service_label(ri, c) for c in codes],
        _values(ri, name, table, "demand"),
        _values(ri, name, table, "demand_low"),
        _values(ri, name, table, "demand_high"),
        _values(ri, name, table, "capacity"),
        xlabel="Cases a year",
        title="Estimated demand for each service against its planned capacity",
        salt=_salt(ri, name),
    )
    shown = _with_labels(table, "service", lambda c: _service_label(ri, c))
    columns = [
        Column(name="service_label", label="Service"),
        Column(
            name="demand",
            label="Demand: cases a year (95% interval)",
            format="count",
            low="demand_low",
            high="demand_high",
        ),
        Column(name="capacity", label="Capacity: cases a year", format="count"),
        Column(name="shortfall", label="Shortfall", format="count"),
    ]
    body = (
        intro
        + _figure(chart, "Bars: estimated demand; black lines: planned capacity.")
        + render_table(
            shown,
            columns,
            id="table-capacity",
            caption="Capacity against demand per service",
            symbol=_symbolizer(ri, name),
        )
    )
    return Section(id="capacity", heading=heading, html=body)


def issues(ri: ReportInput) -> Section:
    heading = "Problems met while reading the records"
    intro = _explain(
        "Every problem met while reading the records, counted by file, field and what was "
        "done: a record 'rejected' is left out of every table; a value 'blanked' is treated "
        "as missing; 'kept' means the value was used as read. The full list, with the row "
        "of each problem, is in issues.csv beside this report.",
    )
    table = ri.table("issues")
    if table is None or table.num_rows == 0:
        return Section(id="issues", heading=heading, html=intro + "<p>No problems were met.</p>")
    columns = [
        Column(name="source", label="File"),
        Column(name="table", label="Table"),
        Column(name="field", label="Field", format="code"),
        Column(name="severity", label="Severity"),
        Column(name="action", label="What was done"),
        Column(name="issues", label="Problems", format="count"),
        Column(name="example", label="Example"),
    ]
    return Section(
        id="issues",
        heading=heading,
        html=intro
        + render_table(
            table,
            columns,
            id="table-issues",
            caption="Problems by file, field and action",
            symbol=_symbolizer(ri, "issues"),
        ),
    )


def disclosure(ri: ReportInput) -> Section:
    heading = "Disclosure control"
    symbols = "".join(
        f"<li><b>{escape(symbol)}</b>: {escape(meaning)}</li>"
        for symbol, meaning in SYMBOLS.items()
    )
    if ri.min_count is None:
        text = (
            '<p class="note">Disclosure control was switched off for this report: it shows '
            "every count however small. Do not publish or share it beyond those allowed to "
            "see the records.</p>"
        )
    else:
        text = paragraphs(
            f"Counts below {ri.min_count} are hidden and shown as 'c', so that no child can "
            "be recognised from the report; where a hidden count could be worked out from a "
            "total, another cell is hidden too (secondary suppression). Shares, rates and "
            "intervals built on a hidden count are hidden with it.",
            "The tables written beside this report (CSV and Parquet) are controlled the same "
            "way; the records themselves are never written into the report.",
        )
    return Section(id="disclosure", heading=heading, html=text + f"<ul>{symbols}</ul>")


def provenance(ri: ReportInput) -> Section:
    heading = "Where the numbers come from"
    rows = [
        ("Plan", f"{ri.plan.name} (language {ri.plan.language})"),
    ]
    if ri.plan_sha256:
        rows.append(("Plan file SHA-256", ri.plan_sha256))
    if ri.reference_date:
        rows.append(("Reference date", ri.reference_date))
    if ri.mns_version:
        rows.append(("Made with", f"mns {ri.mns_version}"))
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    parts = [f'<dl class="provenance">{items}</dl>']
    for role, prov in ri.sources.items():
        files = "".join(
            f"<tr><td>{escape(f.name)}</td><td class='num'>{f.size:,}</td>"
            f"<td class='code'>{escape(f.sha256)}</td></tr>"
            for f in prov.files
        )
        details = [
            f"adapter {prov.adapter}" + (f" {prov.adapter_version}" if prov.adapter_version else "")
        ]
        if prov.collection_year:
            details.append(f"collection year {prov.collection_year}")
        if prov.reference_date:
            details.append(f"reference date {prov.reference_date.isoformat()}")
        details.append("identifiers pseudonymised" if prov.pseudonymised else "identifiers as read")
        parts.append(
            f"<h3>{escape(_ROLE_NAMES.get(role, role))}</h3><p>{escape('; '.join(details))}.</p>"
            + (
                f'<div class="table-wrap"><table class="files" data-role="{escape(role)}">'
                "<thead><tr><th>File</th><th>Bytes</th><th>SHA-256</th></tr></thead>"
                f"<tbody>{files}</tbody></table></div>"
                if files
                else ""
            )
        )
    if ri.notes:
        parts.append(
            "<h3>Notes</h3><ul>" + "".join(f"<li>{escape(n)}</li>" for n in ri.notes) + "</ul>"
        )
    return Section(id="provenance", heading=heading, html="".join(parts))


_ROLE_NAMES = {
    "sample": "The audit sample",
    "baseline": "The baseline audit",
    "referrals": "The year's cases",
    "population": "The population table",
}

#: The sections in report order. Extra sections (e.g. "What the data suggest") go before
#: the issues.
SECTIONS: Sequence[Callable[[ReportInput], Section]] = (
    summary,
    need_groups,
    prevalence,
    matching,
    agreement,
    change,
    areas,
    capacity,
    issues,
    disclosure,
    provenance,
)


def build_sections(ri: ReportInput, extra: Sequence[Section] = ()) -> list[Section]:
    """Every section of the report, in order, with ``extra`` sections before the issues."""
    built = [section(ri) for section in SECTIONS]
    at = next(i for i, s in enumerate(built) if s.id == "issues")
    return [*built[:at], *extra, *built[at:]]
