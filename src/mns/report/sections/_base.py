"""What every section shares: :class:`Section`, :class:`View` (a table of published cells),
the one section skeleton (:func:`section`) and the labels, orders and colours of the plan.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import pyarrow as pa
from markupsafe import Markup

from mns.report import charts
from mns.report.html import PACKAGE, Column, render_table
from mns.report.model import ReportInput
from mns.report.templating import render, template_module

__all__ = [
    "MAX_INDICATORS",
    "Section",
    "View",
    "absent",
    "details",
    "figure",
    "group_label",
    "section",
    "shown_or_missing",
]

#: Heat maps show at most this many indicators (the most common ones).
MAX_INDICATORS = 28


def _is_markup(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Markup):
        raise TypeError(
            f"Section {instance.id!r}: html must be markupsafe.Markup (HTML you built from a "
            f"template or escaped yourself), not {type(value).__name__}: build it with "
            "mns.report.templating.render or markupsafe.escape"
        )


@attrs.frozen(kw_only=True)
class Section:
    """One section of the report: ``html`` is its body (trusted :class:`markupsafe.Markup`)."""

    id: str
    heading: str
    html: Markup = attrs.field(validator=_is_markup)


def _macro(name: str, *args: Any) -> Markup:
    """Call the macro ``name`` of ``parts.html`` (its output is escaped Markup)."""
    made = getattr(template_module(PACKAGE, "parts.html"), name)(*args)
    assert isinstance(made, Markup), name  # autoescaping macros return Markup
    return made


def figure(chart: Markup, caption: str) -> Markup:
    """A chart (inline SVG from :mod:`mns.report.charts`) with its caption."""
    return _macro("figure", chart, caption)


def details(summary: str, body: Markup) -> Markup:
    """``body`` folded away under ``summary``."""
    return _macro("details", summary, body)


def absent(text: str) -> Markup:
    """The note a section shows where the audit has nothing for it."""
    return _macro("absent", text)


def section(
    id: str,
    heading: str,
    intro: Sequence[str],
    *parts: Markup,
    missing: str | None = None,
) -> Section:
    """The one section skeleton: a heading, the plain explanation ``intro`` (paragraphs),
    then either the note ``missing`` (the audit has nothing to show here) or ``parts``
    (figures, tables, folded details) in order."""
    body = [_macro("explain", list(intro))]
    body += [absent(missing)] if missing is not None else list(parts)
    return Section(id=id, heading=heading, html=Markup("").join(body))


def shown_or_missing(
    ri: ReportInput, name: str, id: str, heading: str, intro: Sequence[str], *, missing: str
) -> pa.Table | Section:
    """The published table ``name`` a section shows; or, when the audit has none (or an
    empty one), the section itself saying ``missing``."""
    table = ri.table(name)
    if table is None or table.num_rows == 0:
        return section(id, heading, intro, missing=missing)
    return table


def fragment(name: str, **context: Any) -> Markup:
    """The report template ``name`` rendered with ``context``."""
    return render(PACKAGE, name, **context)


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

    def shown(self, column: str) -> list[Any]:
        """The column's values, with each symbolised cell as its symbol (``c`` withheld,
        ``z`` not applicable, ``:`` not available): what a chart marks in its place."""
        return [self.symbol(column, i) or v for i, v in enumerate(self.data[column])]

    def render(
        self, columns: Sequence[Column], *, id: str, caption: str, row_header: bool = True
    ) -> Markup:
        return render_table(
            self.table(),
            columns,
            id=id,
            caption=caption,
            symbol=self.symbol,
            origin=self.origin,
            row_header=row_header,
        )


# --- the plan's labels, orders and colours ------------------------------------------------


def salt(ri: ReportInput, name: str) -> str:
    """The chart ids' prefix: the same for the same report, different across charts."""
    return hashlib.sha256(f"{ri.title}/{name}".encode()).hexdigest()[:10]


def rows_where(table: pa.Table, **equal: Any) -> list[int]:
    """Row numbers of ``table`` whose columns equal the given values."""
    columns = {k: table.column(k).to_pylist() for k in equal}
    return [i for i in range(table.num_rows) if all(columns[k][i] == v for k, v in equal.items())]


_SPECIAL_GROUPS = {"unassigned": "Not in any need group", "unknown": "Unknown (values missing)"}


def group_label(ri: ReportInput, code: Any) -> str:
    """A need group's code and name (or what a special code means)."""
    if code is None:
        return "Not recorded"
    try:
        group = ri.plan.need_group(str(code))
    except KeyError:
        return _SPECIAL_GROUPS.get(str(code), str(code))
    return f"{code} {group.name}"


def service_label(ri: ReportInput, code: Any) -> str:
    try:
        return f"{code} {ri.plan.service(str(code)).name}"
    except KeyError:
        return f"{code} (not in the plan)"


def group_order(ri: ReportInput) -> Callable[[Any], tuple[int, str]]:
    """Sort key of need-group codes: the plan's order, then the special codes, then others."""
    rank = {g.code: i for i, g in enumerate(ri.plan.need_groups)}
    rank.update({"unassigned": len(rank), "unknown": len(rank) + 1})
    return lambda code: (rank.get(str(code), len(rank) + 2), str(code))


def service_order(ri: ReportInput) -> Callable[[Any], tuple[int, str]]:
    rank = {s.code: i for i, s in enumerate(ri.plan.services)}
    return lambda code: (rank.get(str(code), len(rank)), str(code))


def cluster_colors(ri: ReportInput) -> dict[str, str]:
    return {c.code: charts.PALETTE[i % len(charts.PALETTE)] for i, c in enumerate(ri.plan.clusters)}


def group_colors(ri: ReportInput, codes: Sequence[Any]) -> list[str]:
    colors = cluster_colors(ri)
    clusters = {g.code: g.cluster or "" for g in ri.plan.need_groups}
    return [colors.get(clusters.get(str(c), ""), charts.NO_CLUSTER) for c in codes]


def short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def total(values: Sequence[Any]) -> float | None:
    """The sum of ``values``, or ``None`` when one of them is withheld."""
    if any(v is None for v in values):
        return None
    return float(sum(values))


def grouping(ri: ReportInput) -> str:
    """The words naming the grouping the tables use, for chart captions ("" when unknown)."""
    return f" Need groups: {ri.groups}." if ri.groups else ""


def annual(ri: ReportInput) -> str:
    """What the annual figures assume, as a sentence ("" when the audit did not say)."""
    if ri.census is None:
        return ""
    if ri.census:
        return (
            "Annual figures take the audited cases to be every case of the year (a census): "
            "no sampling fraction or year's cases were given, so they are not scaled up."
        )
    return "Annual figures scale the audited cases up to the year's cases (the sampling fraction)."
