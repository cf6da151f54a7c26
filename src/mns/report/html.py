"""The report's HTML: number formats, tables and the page around the sections.

The markup is in Jinja2 templates (``templates/*.html``, autoescaping): values from the
records, the plan or the caller are escaped on output, and only fragments rendered by a
template or a chart are trusted. The style sheet is inline and nothing is loaded from
anywhere. Each table cell that shows a number carries the exact value in ``data-value``
(and ``data-low``/``data-high`` for intervals), so that a test or a script can read the
report's numbers back without parsing formatted text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import pyarrow as pa
from markupsafe import Markup

from mns.report.templating import render

__all__ = [
    "SYMBOLS",
    "Column",
    "Origin",
    "format_value",
    "page",
    "paragraphs",
    "render_table",
]

#: What a table cell shows in place of a number, as in official statistics.
SYMBOLS: Mapping[str, str] = {
    "c": "suppressed to protect confidentiality (a small count, or one that would reveal it)",
    "z": "not applicable",
    ":": "not available",
}

#: The report loads nothing and runs nothing: a browser refuses (and reports) any attempt.
CSP = Markup(
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'"
)

PACKAGE = "mns.report"  #: where the report's templates are

FORMATS = ("text", "count", "percent", "rate", "number", "ratio", "code")


@attrs.frozen(kw_only=True)
class Column:
    """How one column of a table is shown.

    ``format``: ``text``, ``code`` (monospace), ``count`` (whole number, thousands
    separated), ``percent`` (a share 0-1 shown as a percentage), ``rate`` (one decimal),
    ``number`` (up to three significant decimals), ``ratio`` (two decimals, e.g. kappa).
    ``low``/``high`` name the columns of an interval shown with the value.
    """

    name: str
    label: str
    format: str = attrs.field(default="text", validator=attrs.validators.in_(FORMATS))
    low: str | None = None
    high: str | None = None
    title: str = ""  #: a tooltip explaining the column


Symbol = Callable[[str, int], "str | None"]
#: Where a shown cell comes from: (published table, row, column), or None.
Origin = Callable[[str, int], "tuple[str, int, str] | None"]


def _no_origin(column: str, row: int) -> tuple[str, int, str] | None:
    return None


def _no_symbol(column: str, row: int) -> str | None:
    return None


def format_value(value: Any, fmt: str) -> str:
    """``value`` as the report shows it in format ``fmt`` (an empty string for nothing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if fmt == "count":
        return f"{value:,.0f}" if isinstance(value, (int, float)) else str(value)
    if fmt == "percent":
        return f"{100 * float(value):.1f}%"
    if fmt == "rate":
        return f"{float(value):,.1f}"
    if fmt == "ratio":
        return f"{float(value):.2f}"
    if fmt == "number":
        number = float(value)
        return f"{number:,.0f}" if abs(number) >= 100 else f"{number:,.3g}"
    return str(value)


def _interval(low: Any, high: Any, fmt: str) -> str:
    if low is None or high is None:
        return ""
    return f" ({format_value(low, fmt)} to {format_value(high, fmt)})"


def _data(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _cell(
    *,
    col: Column,
    i: int,
    data: Mapping[str, list[Any]],
    tag: str,
    symbol: Symbol,
    origin: Origin,
) -> dict[str, Any]:
    """One cell: its tag, its attributes in order and its text."""
    cls = "num" if col.format not in ("text", "code") else col.format
    attributes: list[tuple[str, Any]] = [("scope", "row")] if tag == "th" else []
    where = origin(col.name, i)
    source = (
        [("data-table", where[0]), ("data-row", where[1]), ("data-source", where[2])]
        if where
        else []
    )
    mark = symbol(col.name, i)
    if mark is not None:
        attributes += [("class", f"{cls} symbol"), ("data-column", col.name), *source]
        attributes += [("data-symbol", mark), ("title", SYMBOLS.get(mark, mark))]
        return {"tag": tag, "attributes": attributes, "text": mark}
    value = data[col.name][i]
    shown = format_value(value, col.format)
    attributes += [("class", cls), ("data-column", col.name), *source, ("data-value", _data(value))]
    if col.low and col.high:
        low, high = data[col.low][i], data[col.high][i]
        if symbol(col.low, i) is None and symbol(col.high, i) is None and low is not None:
            shown += _interval(low, high, col.format)
            attributes += [("data-low", _data(low)), ("data-high", _data(high))]
            low_at, high_at = origin(col.low, i), origin(col.high, i)
            if low_at and high_at:
                attributes += [("data-low-source", low_at[2]), ("data-high-source", high_at[2])]
    if shown == "" and value is None:
        shown = "\u2013"
    return {"tag": tag, "attributes": attributes, "text": shown}


def render_table(
    table: pa.Table,
    columns: Sequence[Column],
    *,
    id: str,
    caption: str,
    symbol: Symbol = _no_symbol,
    origin: Origin = _no_origin,
    row_header: bool = True,
) -> Markup:
    """``table`` as an HTML ``<table id=...>`` showing ``columns``; ``symbol(column, row)``
    gives the symbol (``c``, ``z``, ``:``) a cell shows instead of its value, if any, and
    ``origin(column, row)`` the published table, row and column the value comes from (shown
    as ``data-table``, ``data-row`` and ``data-source`` so that the numbers can be checked)."""
    names = {c for col in columns for c in (col.name, col.low, col.high) if c}
    data = {c: table.column(c).to_pylist() for c in names}
    rows = [
        [
            _cell(
                col=col,
                i=i,
                data=data,
                tag="th" if row_header and j == 0 else "td",
                symbol=symbol,
                origin=origin,
            )
            for j, col in enumerate(columns)
        ]
        for i in range(table.num_rows)
    ]
    return render(PACKAGE, "table.html", id=id, caption=caption, columns=columns, rows=rows)


def paragraphs(*texts: str) -> Markup:
    """Plain-text paragraphs, escaped."""
    return render(PACKAGE, "paragraphs.html", texts=[t for t in texts if t])


def page(
    *,
    title: str,
    lede: str,
    contents: Sequence[tuple[str, str]],
    body: Markup,
    footer: str,
    banner: str = "",
) -> Markup:
    """The whole HTML document: title, a contents list of (id, heading), the sections
    (``body``, already rendered), a plain-text ``footer`` and an optional ``banner`` shown
    at the top (the internal audience's warning)."""
    return render(
        PACKAGE,
        "page.html",
        title=title,
        lede=lede,
        contents=contents,
        body=body,
        footer=footer,
        banner=banner,
        csp=CSP,
    )
