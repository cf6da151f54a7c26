"""The report's sections, each a heading, a short plain explanation, a chart and its table.

Every section reads the published tables of :class:`~mns.report.model.ReportInput` (the
analyses' own tables, after disclosure control) by name and column, and says what the audit
would need where it has nothing to show. Every number shown carries where it comes from
(``data-table``, ``data-row``, ``data-source``), so a test can check it against the table.
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

__all__ = ["SECTIONS", "TABLES", "Section", "View", "build_sections"]

#: The published tables the report reads (the names :func:`mns.audit.run_audit` gives them).
TABLES = (
    "profile",
    "extrapolate",
    "match",
    "capacity",
    "agreement",
    "compare",
    "areas",
    "areas_by_group",
    "issues",
    "lca_models",
    "lca_classes",
    "lca_indicators",
    "lca_need_groups",
)
#: Heat maps show at most this many indicators (the most common ones).
MAX_INDICATORS = 28


@attrs.frozen(kw_only=True)
class Section:
    """One section of the report."""

    id: str
    heading: str
    html: str


class View:
    """A table to show, built from rows of published tables: each shown column remembers the
    table, column and row its values come from (for the symbols and ``data-*`` attributes)."""

    def __init__(self, ri: ReportInput) -> None:
        self.ri = ri
        self.data: dict[str, list[Any]] = {}
        self.origins: dict[str, tuple[str, str, str]] = {}

    def add(
        self, name: str, rows: Sequence[int | None], columns: Sequence[str], prefix: str = ""
    ) -> View:
        """Show ``columns`` of the published table ``name`` at ``rows`` (``None``: no row)."""
        table = self.ri.tables[name]
        key = f"__row:{name}:{prefix}"
        self.data[key] = list(rows)
        for column in columns:
            values = table.column(column).to_pylist()
            shown = f"{prefix}{column}"
            self.data[shown] = [values[r] if r is not None else None for r in rows]
            self.origins[shown] = (name, column, key)
        return self

    def text(self, column: str, values: Sequence[Any]) -> View:
        """Show a column of labels (not from a table)."""
        self.data[column] = list(values)
        return self

    def table(self) -> pa.Table:
        return pa.table({k: pa.array(v) for k, v in self.data.items() if not k.startswith("__")})

    def origin(self, column: str, row: int) -> tuple[str, int, str] | None:
        found = self.origins.get(column)
        if found is None:
            return None
        name, source, key = found
        at = self.data[key][row]
        return None if at is None else (name, at, source)

    def symbol(self, column: str, row: int) -> str | None:
        where = self.origin(column, row)
        if where is None:
            return None
        return self.ri.symbol(where[0], where[2], where[1])

    def values(self, column: str) -> list[Any]:
        """The column's values, with withheld (or otherwise symbolised) cells as ``None``."""
        return [None if self.symbol(column, i) else v for i, v in enumerate(self.data[column])]

    def render(
        self, columns: Sequence[Column], *, id: str, caption: str, row_header: bool = True
    ) -> str:
        return render_table(
            self.table(),
            columns,
            id=id,
            caption=caption,
            symbol=self.symbol,
            origin=self.origin,
            row_header=row_header,
        )


# --- helpers -------------------------------------------------------------------------------


def _salt(ri: ReportInput, name: str) -> str:
    return hashlib.sha256(f"{ri.title}/{name}".encode()).hexdigest()[:10]


def _explain(*texts: str) -> str:
    return f'<div class="explain">{paragraphs(*texts)}</div>'


def _absent(text: str) -> str:
    return f'<p class="absent">{escape(text)}</p>'


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"


def _details(summary: str, body: str) -> str:
    return f"<details><summary>{escape(summary)}</summary>{body}</details>"


def _rows(table: pa.Table, **equal: Any) -> list[int]:
    """Row numbers of ``table`` whose columns equal the given values."""
    columns = {k: table.column(k).to_pylist() for k in equal}
    return [i for i in range(table.num_rows) if all(columns[k][i] == v for k, v in equal.items())]


def _group_label(ri: ReportInput, code: Any) -> str:
    if code is None:
        return "Not recorded"
    try:
        group = ri.plan.need_group(str(code))
    except KeyError:
        return {"unassigned": "Not in any need group", "unknown": "Unknown (values missing)"}.get(
            str(code), str(code)
        )
    return f"{code} {group.name}"


def _service_label(ri: ReportInput, code: Any) -> str:
    try:
        return f"{code} {ri.plan.service(str(code)).name}"
    except KeyError:
        return f"{code} (not in the plan)"


def _order(ri: ReportInput) -> Callable[[Any], tuple[int, str]]:
    rank = {g.code: i for i, g in enumerate(ri.plan.need_groups)}
    rank.update({"unassigned": len(rank), "unknown": len(rank) + 1})
    return lambda code: (rank.get(str(code), len(rank) + 2), str(code))


def _service_order(ri: ReportInput) -> Callable[[Any], tuple[int, str]]:
    rank = {s.code: i for i, s in enumerate(ri.plan.services)}
    return lambda code: (rank.get(str(code), len(rank)), str(code))


def _cluster_colors(ri: ReportInput) -> dict[str, str]:
    return {c.code: charts.PALETTE[i % len(charts.PALETTE)] for i, c in enumerate(ri.plan.clusters)}


def _group_colors(ri: ReportInput, codes: Sequence[Any]) -> list[str]:
    colors = _cluster_colors(ri)
    clusters = {g.code: g.cluster or "" for g in ri.plan.need_groups}
    return [colors.get(clusters.get(str(c), ""), charts.NO_CLUSTER) for c in codes]


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _sum(values: Sequence[Any]) -> float | None:
    """The sum of ``values``, or ``None`` when one of them is withheld."""
    if any(v is None for v in values):
        return None
    return float(sum(values))


# --- sections ------------------------------------------------------------------------------


def summary(ri: ReportInput) -> Section:
    figures: list[tuple[str, str]] = []
    profile = ri.table("profile")
    if profile is not None:
        rows = _rows(profile, variable="cases")
        if rows:
            view = View(ri).add("profile", rows, ["base", "need_group", "share"])
            base = view.values("base")[0]
            if base is not None:
                figures.append((format_value(base, "count"), "cases audited"))
            codes = view.data["need_group"]
            if "unassigned" in codes:
                share = view.values("share")[codes.index("unassigned")]
                figures.append(
                    (
                        "c" if share is None else format_value(share, "percent"),
                        "of cases fit no need group",
                    )
                )
    figures.append((str(len(ri.plan.need_groups)), "need groups in the plan"))
    figures.append((str(len(ri.plan.services)), "services in the plan"))
    match = ri.table("match")
    if match is not None:
        rows = _rows(match, planned=True)
        unmet = _sum(View(ri).add("match", rows, ["unmet"]).values("unmet"))
        if unmet is not None:
            figures.append(
                (format_value(unmet, "count"), "times a case missed a service planned for it")
            )
    kappa = _kappa(ri)
    if kappa is not None:
        figures.append(
            (
                format_value(kappa, "ratio"),
                "agreement of the professional and shadow audits (kappa)",
            )
        )
    capacity = ri.table("capacity")
    if capacity is not None:
        short = [
            s
            for s, v in zip(
                capacity.column("service").to_pylist(),
                View(ri)
                .add("capacity", range(capacity.num_rows), ["shortfall"])
                .values("shortfall"),
                strict=True,
            )
            if v is not None and v > 0
        ]
        figures.append((str(len(short)), "services with more demand than places"))
    items = "".join(f"<li><b>{escape(v)}</b>{escape(label)}</li>" for v, label in figures)
    text = _explain(
        f"This report sets the needs of the children in the audit against the plan "
        f"{ri.plan.name!r}: which need groups the children fall into, what each group needs, "
        "what they actually received, and whether the services planned can meet the demand.",
        "Numbers come with 95% intervals: the range the true value is likely to lie in, given "
        "that the audit looked at a sample. Small counts are hidden and shown as c (see "
        "'Disclosure control' near the end).",
    )
    return Section(
        id="summary", heading="At a glance", html=text + f'<ul class="key-figures">{items}</ul>'
    )


def _kappa(ri: ReportInput) -> float | None:
    table = ri.table("agreement")
    if table is None:
        return None
    rows = _rows(table, statistic="cohen_kappa", side_a="professional", side_b="shadow")
    if not rows:
        return None
    value = View(ri).add("agreement", rows[:1], ["estimate"]).values("estimate")[0]
    return None if value is None else float(value)


def need_groups(ri: ReportInput) -> Section:
    heading = "Need groups"
    intro = _explain(
        "Children with similar needs form a need group; related groups form a cluster. Each "
        "case is in the first need group, in the plan's order, whose rule it meets. 'Not in "
        "any need group' counts cases that meet no group's rule; 'unknown' counts cases whose "
        "group depends on values missing from the records.",
        "Cases a year scale the audited cases up to the year's cases, with 95% intervals.",
    )
    profile = ri.table("profile")
    if profile is None:
        return Section(
            id="need-groups", heading=heading, html=intro + _absent("No cases were classified.")
        )
    rows = sorted(
        _rows(profile, variable="cases"),
        key=lambda r: _order(ri)(profile.column("need_group")[r].as_py()),
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
    view.text("label", [_group_label(ri, c) for c in codes])
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
    colors = _cluster_colors(ri)
    chart = charts.bars_with_intervals(
        view.data["label"],
        view.values("share"),
        view.values("share_low"),
        view.values("share_high"),
        colors=_group_colors(ri, codes),
        xlabel="Share of the cases audited",
        title="Share of cases in each need group, with 95% intervals",
        salt=_salt(ri, "need-groups"),
        percent=True,
        legend=[
            *((f"{c.code} {c.name}", colors[c.code]) for c in plan.clusters),
            ("no cluster", charts.NO_CLUSTER),
        ],
    )
    body = (
        intro
        + _figure(chart, "Share of cases in each need group; the whiskers are 95% intervals.")
        + view.render(columns, id="table-need-groups", caption="Need groups: size and description")
    )
    return Section(id="need-groups", heading=heading, html=body)


def _description(ri: ReportInput, code: Any) -> str:
    try:
        return ri.plan.need_group(str(code)).description
    except KeyError:
        return {
            "unassigned": "Cases that meet none of the plan's need-group rules.",
            "unknown": "Cases whose need group depends on values missing from the records.",
        }.get(str(code), "")


def prevalence(ri: ReportInput) -> Section:
    heading = "Needs in each group"
    intro = _explain(
        "How common each need (indicator) is within each need group: the darker the cell, the "
        "more of the group's children have it. The planning group reads this to check that "
        "each group hangs together, and to describe it. The heat map shows the most common "
        f"indicators (at most {MAX_INDICATORS}); the table below it has them all.",
    )
    profile = ri.table("profile")
    if profile is None:
        return Section(
            id="prevalence", heading=heading, html=intro + _absent("No cases were classified.")
        )
    variables = profile.column("variable").to_pylist()
    values = profile.column("value").to_pylist()
    groups = profile.column("need_group").to_pylist()
    rows = [
        i
        for i, (v, x) in enumerate(zip(variables, values, strict=True))
        if "." in str(v) and not str(v).startswith("threshold.") and x == "true"
    ]
    if not rows:
        return Section(
            id="prevalence",
            heading=heading,
            html=intro + _absent("The cases have no flag indicators."),
        )
    view = View(ri).add(
        "profile", rows, ["need_group", "variable", "count", "share", "share_low", "share_high"]
    )
    shares = view.values("share")
    counts: dict[str, float] = {}
    for v, c in zip(view.data["variable"], view.values("count"), strict=True):
        counts[v] = counts.get(v, 0.0) + float(c or 0)
    chosen = sorted(sorted(counts, key=lambda v: -counts[v])[:MAX_INDICATORS])
    chosen = [v for v in chosen if counts[v] > 0] or chosen
    order = sorted({groups[r] for r in rows}, key=_order(ri))
    grid = {
        (g, v): s
        for g, v, s in zip(view.data["need_group"], view.data["variable"], shares, strict=True)
    }
    labels = _indicator_labels(ri, chosen)
    chart = charts.heatmap(
        [_group_label(ri, g) for g in order],
        [_short(f"{v} {labels[v]}".strip(), 40) for v in chosen],
        [[grid.get((g, v)) for v in chosen] for g in order],
        title="Prevalence of the most common indicators in each need group",
        salt=_salt(ri, "prevalence"),
        colorbar_label="Share of the group's cases",
    )
    all_labels = _indicator_labels(ri, sorted(counts))
    view.text("group_label", [_group_label(ri, g) for g in view.data["need_group"]])
    view.text("meaning", [all_labels.get(v, "") for v in view.data["variable"]])
    columns = [
        Column(name="group_label", label="Need group"),
        Column(name="variable", label="Indicator", format="code"),
        Column(name="meaning", label="Meaning"),
        Column(name="count", label="Cases with it", format="count"),
        Column(
            name="share",
            label="Share of the group (95% interval)",
            format="percent",
            low="share_low",
            high="share_high",
        ),
    ]
    body = (
        intro
        + _figure(chart, "Grey cells marked c are withheld (too few cases to show).")
        + _details(
            "The numbers behind the heat map (every indicator)",
            view.render(
                columns, id="table-prevalence", caption="Indicator prevalence by need group"
            ),
        )
    )
    return Section(id="prevalence", heading=heading, html=body)


def _indicator_labels(ri: ReportInput, columns: Sequence[str]) -> dict[str, str]:
    from mns.lang import language

    labels: dict[str, str] = {}
    for column in columns:
        name, _, code = column.partition(".")
        try:
            labels[column] = language(name).indicator(code).label
        except Exception:  # a label is a nicety; the code is shown anyway
            labels[column] = ""
    return labels


def matching(ri: ReportInput) -> Section:
    heading = "Matching needs and services"
    intro = _explain(
        "Each need group against each service. Shaded cells are the services the plan gives "
        "the group: 'received' counts its cases that got the service, 'unmet' those that meet "
        "the service's threshold but did not get it. In the other cells, 'unplanned' counts "
        "cases that got a service the plan does not give their group, which may answer an "
        "agency's needs rather than the child's.",
    )
    table = ri.table("match")
    if table is None or table.num_rows == 0:
        return Section(
            id="matching",
            heading=heading,
            html=intro
            + _absent("No services received were recorded, so nothing could be matched."),
        )
    rows = list(range(table.num_rows))
    view = View(ri).add(
        "match",
        rows,
        ["need_group", "service", "planned", "cases", "received", "eligible", "unmet", "unplanned"],
    )
    groups = sorted(set(view.data["need_group"]), key=_order(ri))
    received = view.values("received")
    unmet = view.values("unmet")
    unplanned = view.values("unplanned")
    planned = view.data["planned"]
    totals = {g: {"received": 0.0, "unmet": 0.0, "unplanned": 0.0} for g in groups}
    hidden: set[str] = set()
    for i, g in enumerate(view.data["need_group"]):
        parts = (
            (("received", received[i], "received"), ("unmet", unmet[i], "unmet"))
            if planned[i]
            else (("unplanned", unplanned[i], "unplanned"),)
        )
        for key, value, column in parts:
            if value is None and view.symbol(column, i) == "c":
                hidden.add(g)
            elif value is not None:
                totals[g][key] += float(value)
    chart = charts.stacked_bars(
        [_group_label(ri, g) for g in groups],
        [
            ("received (planned)", [totals[g]["received"] for g in groups], charts.PALETTE[2]),
            ("unmet", [totals[g]["unmet"] for g in groups], charts.PALETTE[5]),
            ("unplanned", [totals[g]["unplanned"] for g in groups], charts.PALETTE[1]),
        ],
        xlabel="Case-services (a case counts once for each service)",
        title="Planned services received, unmet and unplanned, by need group",
        salt=_salt(ri, "matching"),
        marked=[g in hidden for g in groups],
    )
    view.text("group_label", [_group_label(ri, g) for g in view.data["need_group"]])
    view.text("service_label", [_service_label(ri, s) for s in view.data["service"]])
    columns = [
        Column(name="group_label", label="Need group"),
        Column(name="service_label", label="Service"),
        Column(name="planned", label="Planned for the group"),
        Column(name="cases", label="Cases in the group", format="count"),
        Column(name="eligible", label="Meet the threshold", format="count"),
        Column(name="received", label="Received it", format="count"),
        Column(name="unmet", label="Unmet", format="count"),
        Column(name="unplanned", label="Unplanned", format="count"),
    ]
    body = (
        intro
        + _matrix(ri, view, groups)
        + _figure(
            chart,
            "Bars add up a group's cases over the services; a bar marked c leaves out a "
            "withheld count.",
        )
        + _details(
            "The matching matrix as a list",
            view.render(
                columns, id="table-matching", caption="Need groups by services, one row per pair"
            ),
        )
    )
    return Section(id="matching", heading=heading, html=body)


def _matrix(ri: ReportInput, view: View, groups: Sequence[str]) -> str:
    """The matching matrix: need groups (rows) by services (columns)."""
    services = sorted(set(view.data["service"]), key=_service_order(ri))
    cells = {
        (g, s): i
        for i, (g, s) in enumerate(zip(view.data["need_group"], view.data["service"], strict=True))
    }
    head = "".join(
        f'<th scope="col" data-service="{escape(str(s))}" title="{escape(_service_label(ri, s))}">'
        f"{escape(str(s)).replace('_', '_<wbr>')}</th>"
        for s in services
    )
    rows = []
    for g in groups:
        tds = []
        for s in services:
            i = cells.get((g, s))
            if i is None:
                tds.append('<td class="none">\u2013</td>')
                continue
            planned = bool(view.data["planned"][i])
            keys = (("received", "m"), ("unmet", "u")) if planned else (("unplanned", "x"),)
            parts = [_matrix_part(view, key, mark, i) for key, mark in keys]
            shown = "<br>".join(p for p in parts if p) or "\u2013"
            cls = ' class="planned"' if planned else ""
            tds.append(
                f'<td{cls} data-need-group="{escape(str(g))}" '
                f'data-service="{escape(str(s))}">{shown}</td>'
            )
        rows.append(f'<tr><th scope="row">{escape(_group_label(ri, g))}</th>{"".join(tds)}</tr>')
    return (
        '<div class="table-wrap"><table id="matrix-matching" class="matrix">'
        "<caption>The matching matrix: need groups by services (shaded: the plan gives the "
        "group this service; the services' names are in the list below)</caption>"
        f'<thead><tr><th scope="col">Need group</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _matrix_part(view: View, key: str, mark: str, i: int) -> str:
    where = view.origin(key, i)
    source = (
        f' data-table="{escape(where[0])}" data-row="{where[1]}" data-source="{escape(where[2])}"'
        if where
        else ""
    )
    symbol = view.symbol(key, i)
    value = view.data[key][i]
    if symbol == "c":
        meaning = escape(SYMBOLS["c"])
        return (
            f'<span class="{mark} symbol" data-symbol="c"{source} title="{key}: {meaning}">'
            f"{key} c</span>"
        )
    if value:
        shown = escape(format_value(value, "count"))
        return f'<span class="{mark}" data-value="{value!r}"{source}>{key} {shown}</span>'
    return ""


def agreement(ri: ReportInput) -> Section:
    heading = "Professional and shadow audits compared"
    intro = _explain(
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
        return Section(
            id="agreement",
            heading=heading,
            html=intro
            + _absent(
                "Only one audit group's need groups were recorded: there is nothing to compare."
            ),
        )

    def first(stat: str, a: str, b: str) -> int | None:
        found = _rows(table, statistic=stat, side_a=a, side_b=b)
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
    body = intro + view.render(
        columns, id="table-agreement", caption="Agreement between audit groups"
    )
    a, b = pairs[0]
    confusion = _rows(table, statistic="confusion", side_a=a, side_b=b)
    if confusion:
        cview = View(ri).add("agreement", confusion, ["group_a", "group_b", "count"])
        rows_ = sorted(set(cview.data["group_a"]), key=_order(ri))
        cols_ = sorted(set(cview.data["group_b"]), key=_order(ri))
        grid = dict(
            zip(
                zip(cview.data["group_a"], cview.data["group_b"], strict=True),
                cview.values("count"),
                strict=True,
            )
        )
        chart = charts.heatmap(
            [_group_label(ri, g) for g in rows_],
            [str(g) for g in cols_],
            [[grid.get((r, c), 0) for c in cols_] for r in rows_],
            title=f"Need groups given by the {a} (rows) and {b} (columns) audits",
            salt=_salt(ri, "confusion"),
            percent=False,
            colorbar_label="Cases",
            column_rotation=45,
        )
        cview.text("a_label", [_group_label(ri, g) for g in cview.data["group_a"]])
        cview.text("b_label", [_group_label(ri, g) for g in cview.data["group_b"]])
        body += _figure(
            chart,
            f"Rows: the {a} audit's need group; columns: the {b} audit's. Cases on the "
            "diagonal were grouped alike.",
        ) + _details(
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
    return Section(id="agreement", heading=heading, html=body)


def change(ri: ReportInput) -> Section:
    heading = "Change since the baseline audit"
    intro = _explain(
        "This audit against the baseline audit: the share of cases in each need group then "
        "and now, and the change with its 95% interval. An interval that does not include 0 "
        "suggests a real change rather than the chance of sampling.",
    )
    table = ri.table("compare")
    if table is None or table.num_rows == 0:
        return Section(
            id="change",
            heading=heading,
            html=intro + _absent("No baseline audit was given (mns audit --baseline ...)."),
        )
    codes = table.column("need_group").to_pylist()
    rows = sorted(range(table.num_rows), key=lambda r: _order(ri)(codes[r]))
    view = View(ri).add(
        "compare",
        rows,
        [
            "need_group",
            "baseline",
            "baseline_share",
            "baseline_low",
            "baseline_high",
            "reaudit",
            "reaudit_share",
            "reaudit_low",
            "reaudit_high",
            "change",
            "change_low",
            "change_high",
            "p_value",
        ],
    )
    labels = [_group_label(ri, c) for c in view.data["need_group"]]
    chart = charts.paired_bars(
        labels,
        (
            "baseline",
            view.values("baseline_share"),
            view.values("baseline_low"),
            view.values("baseline_high"),
        ),
        (
            "this audit",
            view.values("reaudit_share"),
            view.values("reaudit_low"),
            view.values("reaudit_high"),
        ),
        xlabel="Share of the cases audited",
        title="Share of cases in each need group at the baseline and now",
        salt=_salt(ri, "change"),
    )
    view.text("label", labels)
    columns = [
        Column(name="label", label="Need group"),
        Column(name="baseline", label="Baseline cases", format="count"),
        Column(name="baseline_share", label="Baseline share", format="percent"),
        Column(name="reaudit", label="Cases now", format="count"),
        Column(name="reaudit_share", label="Share now", format="percent"),
        Column(
            name="change",
            label="Change in share (95% interval)",
            format="percent",
            low="change_low",
            high="change_high",
        ),
        Column(name="p_value", label="p-value", format="ratio"),
    ]
    body = (
        intro
        + _figure(
            chart, "Light bars: the baseline; dark bars: this audit; whiskers: 95% intervals."
        )
        + view.render(columns, id="table-change", caption="Need groups at the baseline and now")
    )
    return Section(id="change", heading=heading, html=body)


def areas(ri: ReportInput) -> Section:
    heading = "Need by area"
    intro = _explain(
        "Where the children live (the family's postcode district): the year's cases for every "
        "10,000 children living in the area, with 95% intervals, and the same by need group. "
        "Areas with few cases are withheld.",
    )
    table = ri.table("areas")
    if table is None or table.num_rows == 0:
        return Section(
            id="areas",
            heading=heading,
            html=intro
            + _absent(
                "No year's cases and population table were given "
                "(mns audit --referrals ... --population ...)."
            ),
        )
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
        salt=_salt(ri, "areas"),
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
    body = (
        intro
        + _figure(chart, "Cases per 10,000 children; the whiskers are 95% intervals.")
        + view.render(columns, id="table-areas", caption="Need by area")
    )
    by_group = ri.table("areas_by_group")
    if by_group is not None and by_group.num_rows:
        gview = View(ri).add(
            "areas_by_group",
            range(by_group.num_rows),
            ["area", "need_group", "count", "rate", "rate_low", "rate_high"],
        )
        area_list = sorted({a for a in gview.data["area"] if a is not None}, key=_area_key)
        group_list = sorted(set(gview.data["need_group"]), key=_order(ri))
        grid = dict(
            zip(
                zip(gview.data["area"], gview.data["need_group"], strict=True),
                gview.values("rate"),
                strict=True,
            )
        )
        chart = charts.heatmap(
            [str(a) for a in area_list],
            [_short(_group_label(ri, g), 36) for g in group_list],
            [[grid.get((a, g)) for g in group_list] for a in area_list],
            title="The year's cases per 10,000 children by area and need group",
            salt=_salt(ri, "areas-by-group"),
            percent=False,
            colorbar_label="Cases per 10,000 children",
        )
        gview.text("group_label", [_group_label(ri, g) for g in gview.data["need_group"]])
        body += _figure(
            chart, "Cases per 10,000 children by area and need group; c: withheld."
        ) + _details(
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
    return Section(id="areas", heading=heading, html=body)


def _area_key(area: Any) -> tuple[int, str]:
    text = str(area)
    digits = "".join(ch for ch in text if ch.isdigit())
    return (int(digits) if digits else 0, text)


def capacity(ri: ReportInput) -> Section:
    heading = "Capacity against demand"
    intro = _explain(
        "For each service in the plan: how many cases a year are likely to need it (the "
        "audited cases in the groups it is planned for that meet its threshold, scaled up to "
        "the year, with a 95% interval) against the places a year it has. A shortfall is "
        "demand above capacity.",
    )
    table = ri.table("capacity")
    if table is None or table.num_rows == 0:
        return Section(
            id="capacity", heading=heading, html=intro + _absent("The plan has no services.")
        )
    codes = table.column("service").to_pylist()
    rows = sorted(range(table.num_rows), key=lambda r: _service_order(ri)(codes[r]))
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
        ],
    )
    labels = [_service_label(ri, s) for s in view.data["service"]]
    chart = charts.demand_and_capacity(
        labels,
        view.values("estimate"),
        view.values("estimate_low"),
        view.values("estimate_high"),
        view.values("capacity"),
        xlabel="Cases a year",
        title="Estimated demand for each service against its planned capacity",
        salt=_salt(ri, "capacity"),
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
        Column(name="capacity", label="Capacity: places a year", format="count"),
        Column(name="shortfall", label="Shortfall", format="count"),
        Column(name="load", label="Demand / capacity", format="ratio"),
    ]
    body = (
        intro
        + _figure(
            chart,
            "Bars: estimated demand (red where above capacity); black lines: planned capacity.",
        )
        + view.render(columns, id="table-capacity", caption="Capacity against demand per service")
    )
    return Section(id="capacity", heading=heading, html=body)


def suggested(ri: ReportInput) -> Section | None:
    """What the data suggest (latent class analysis), when the audit ran it."""
    classes = ri.table("lca_classes")
    if classes is None:
        return None
    heading = "What the data suggest"
    intro = _explain(
        "A latent class analysis groups the audited cases by how alike their recorded "
        "indicators are, with no reference to the plan. Its classes are a statistical "
        "starting point for the planning group, not need groups: where a class matches a "
        "need group, the grouping is supported by the data; where it cuts across groups, the "
        "group may want another look. Draft rules approximate each class (precision: the "
        "share of cases meeting the rule that are in the class; recall: the share of the "
        "class meeting the rule).",
    )
    view = View(ri).add(
        "lca_classes",
        range(classes.num_rows),
        ["class", "cases", "share", "distinguishing", "rule", "precision", "recall"],
    )
    body = intro + view.render(
        [
            Column(name="class", label="Class"),
            Column(name="cases", label="Cases", format="count"),
            Column(name="share", label="Share", format="percent"),
            Column(name="distinguishing", label="What distinguishes it"),
            Column(name="rule", label="Draft rule", format="code"),
            Column(name="precision", label="Precision", format="ratio"),
            Column(name="recall", label="Recall", format="ratio"),
        ],
        id="table-lca-classes",
        caption="The classes the data suggest",
    )
    matching_ = ri.table("lca_need_groups")
    if matching_ is not None and matching_.num_rows:
        mview = View(ri).add(
            "lca_need_groups",
            range(matching_.num_rows),
            ["class", "need_group", "agreeing", "share_of_class", "share_of_group"],
        )
        mview.text("group_label", [_group_label(ri, g) for g in mview.data["need_group"]])
        body += mview.render(
            [
                Column(name="class", label="Class"),
                Column(name="group_label", label="Closest need group"),
                Column(name="agreeing", label="Cases in both", format="count"),
                Column(name="share_of_class", label="Share of the class", format="percent"),
                Column(name="share_of_group", label="Share of the group", format="percent"),
            ],
            id="table-lca-need-groups",
            caption="Classes and the professional audit's need groups",
        )
    models = ri.table("lca_models")
    if models is not None and models.num_rows:
        body += _details(
            "How the number of classes was chosen",
            View(ri)
            .add(
                "lca_models",
                range(models.num_rows),
                ["k", "bic", "sabic", "entropy", "smallest_class", "recommended", "problems"],
            )
            .render(
                [
                    Column(name="k", label="Classes"),
                    Column(name="bic", label="BIC", format="number"),
                    Column(name="sabic", label="SABIC", format="number"),
                    Column(name="entropy", label="Entropy", format="ratio"),
                    Column(name="smallest_class", label="Smallest class", format="count"),
                    Column(name="recommended", label="Recommended"),
                    Column(name="problems", label="Problems"),
                ],
                id="table-lca-models",
                caption="Models fitted (lower BIC is better)",
            ),
        )
    return Section(id="suggested", heading=heading, html=body)


def issues(ri: ReportInput) -> Section:
    heading = "Problems met while reading the records"
    intro = _explain(
        "Every problem met while reading the records, counted by file, field and what was "
        "done: a record 'rejected' is left out of every table; a value 'blanked' is treated "
        "as missing; 'kept' means the value was used as read. `mns read` lists each problem "
        "with its row, for whoever keeps the records.",
    )
    table = ri.table("issues")
    if table is None or table.num_rows == 0:
        return Section(id="issues", heading=heading, html=intro + "<p>No problems were met.</p>")
    names = ["source", "table", "field", "severity", "action", "issues"]
    if "example" in table.column_names:
        names.append("example")
    view = View(ri).add("issues", range(table.num_rows), names)
    columns = [
        Column(name="source", label="File"),
        Column(name="table", label="Table"),
        Column(name="field", label="Field", format="code"),
        Column(name="severity", label="Severity"),
        Column(name="action", label="What was done"),
        Column(name="issues", label="Problems", format="count"),
    ]
    if "example" in names:
        columns.append(Column(name="example", label="Example"))
    return Section(
        id="issues",
        heading=heading,
        html=intro
        + view.render(columns, id="table-issues", caption="Problems by file, field and action"),
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
            "intervals built on a hidden count are hidden with it. Examples quoting values from "
            "the records are left out of the problems met while reading.",
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
    known = list(_ROLE_NAMES)
    for role in sorted(ri.sources, key=lambda r: (known.index(r) if r in known else len(known), r)):
        prov = ri.sources[role]
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
    """Every section of the report, in order; "what the data suggest" (when the audit ran
    it) and ``extra`` sections go before the issues."""
    built = [section(ri) for section in SECTIONS]
    more = [s for s in (suggested(ri),) if s is not None]
    at = next(i for i, s in enumerate(built) if s.id == "issues")
    return [*built[:at], *more, *extra, *built[at:]]
