"""The report's HTML: escaping, number formats, tables and the page around the sections.

Only the standard library: every value is escaped with :func:`html.escape`, the style sheet
is inline, and nothing is loaded from anywhere. Each table cell that shows a number carries
the exact value in ``data-value`` (and ``data-low``/``data-high`` for intervals), so that a
test or a script can read the report's numbers back without parsing formatted text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from html import escape
from typing import Any

import attrs
import pyarrow as pa

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
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'"
)

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
    return escape(str(value), quote=True)


def render_table(
    table: pa.Table,
    columns: Sequence[Column],
    *,
    id: str,
    caption: str,
    symbol: Symbol = _no_symbol,
    origin: Origin = _no_origin,
    row_header: bool = True,
) -> str:
    """``table`` as an HTML ``<table id=...>`` showing ``columns``; ``symbol(column, row)``
    gives the symbol (``c``, ``z``, ``:``) a cell shows instead of its value, if any, and
    ``origin(column, row)`` the published table, row and column the value comes from (shown
    as ``data-table``, ``data-row`` and ``data-source`` so that the numbers can be checked)."""
    names = {c for col in columns for c in (col.name, col.low, col.high) if c}
    data = {c: table.column(c).to_pylist() for c in names}
    head = "".join(
        f'<th scope="col" data-column="{escape(col.name)}"'
        + (f' title="{escape(col.title)}"' if col.title else "")
        + f">{escape(col.label)}</th>"
        for col in columns
    )
    body = []
    for i in range(table.num_rows):
        cells = []
        for j, col in enumerate(columns):
            tag = "th" if row_header and j == 0 else "td"
            scope = ' scope="row"' if tag == "th" else ""
            cls = "num" if col.format not in ("text", "code") else col.format
            where = origin(col.name, i)
            source = (
                f' data-table="{escape(where[0])}" data-row="{where[1]}" '
                f'data-source="{escape(where[2])}"'
                if where
                else ""
            )
            mark = symbol(col.name, i)
            if mark is not None:
                cells.append(
                    f'<{tag}{scope} class="{cls} symbol" data-column="{escape(col.name)}"{source} '
                    f'data-symbol="{escape(mark)}" title="{escape(SYMBOLS.get(mark, mark))}">'
                    f"{escape(mark)}</{tag}>"
                )
                continue
            value = data[col.name][i]
            shown = format_value(value, col.format)
            attributes = f' data-column="{escape(col.name)}"{source} data-value="{_data(value)}"'
            if col.low and col.high:
                low, high = data[col.low][i], data[col.high][i]
                low_mark, high_mark = symbol(col.low, i), symbol(col.high, i)
                if low_mark is None and high_mark is None and low is not None:
                    shown += _interval(low, high, col.format)
                    attributes += f' data-low="{_data(low)}" data-high="{_data(high)}"'
                    low_at, high_at = origin(col.low, i), origin(col.high, i)
                    if low_at and high_at:
                        attributes += (
                            f' data-low-source="{escape(low_at[2])}"'
                            f' data-high-source="{escape(high_at[2])}"'
                        )
            if shown == "" and value is None:
                shown = "\u2013"
            cells.append(f'<{tag}{scope} class="{cls}"{attributes}>{escape(shown)}</{tag}>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<div class="table-wrap"><table id="{escape(id)}">'
        f"<caption>{escape(caption)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def paragraphs(*texts: str) -> str:
    """Plain-text paragraphs, escaped."""
    return "".join(f"<p>{escape(t)}</p>" for t in texts if t)


_CSS = """
:root { --ink: #1f2328; --muted: #57606a; --line: #d0d7de; --accent: #0072B2; --paper: #ffffff;
  --band: #f6f8fa; }
* { box-sizing: border-box; }
html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif;
  color: var(--ink); background: var(--paper); line-height: 1.5; }
body { margin: 0 auto; max-width: 68rem; padding: 1.5rem 1.5rem 4rem; }
header h1 { margin-bottom: 0.2rem; font-size: 1.9rem; }
.lede { color: var(--muted); margin-top: 0; font-size: 1.05rem; }
nav { background: var(--band); border: 1px solid var(--line); border-radius: 6px;
  padding: 0.6rem 1.2rem; }
nav ol { margin: 0.3rem 0; padding-left: 1.3rem; columns: 2; }
section { border-top: 1px solid var(--line); margin-top: 2rem; padding-top: 0.4rem; }
h2 { font-size: 1.4rem; margin-bottom: 0.3rem; }
h3 { font-size: 1.1rem; margin-bottom: 0.2rem; }
.explain { color: var(--muted); max-width: 52rem; }
.explain p { margin: 0.3rem 0; }
.key-figures { display: flex; flex-wrap: wrap; gap: 0.8rem; padding: 0; list-style: none; }
.key-figures li { background: var(--band); border: 1px solid var(--line); border-radius: 6px;
  padding: 0.5rem 0.9rem; min-width: 10rem; }
.key-figures b { display: block; font-size: 1.35rem; }
.table-wrap { overflow-x: auto; margin: 0.8rem 0; }
table { border-collapse: collapse; font-size: 0.9rem; min-width: 20rem; }
caption { text-align: left; font-weight: 600; padding: 0.3rem 0; }
th, td { border-bottom: 1px solid var(--line); padding: 0.3rem 0.6rem; vertical-align: top; }
thead th { background: var(--band); text-align: left; border-bottom: 2px solid var(--line); }
tbody th { text-align: left; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.code, th.code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.85rem; }
.symbol { color: var(--muted); font-style: italic; }
figure { margin: 1rem 0; }
figcaption { color: var(--muted); font-size: 0.9rem; }
svg.chart { max-width: 100%; height: auto; display: block; }
td.planned { background: #e6f4ea; }
.matrix td { text-align: right; white-space: nowrap; }
.matrix .m { color: #00734d; } .matrix .u { color: #b34700; font-weight: 600; }
.matrix .x { color: #8a6100; }
.note { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: 0.6rem 1rem; }
.absent { color: var(--muted); font-style: italic; }
dl.provenance { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; }
dl.provenance dt { font-weight: 600; }
dl.provenance dd { margin: 0; }
footer { margin-top: 3rem; color: var(--muted); font-size: 0.85rem; }
@media print { nav { display: none; } section { break-inside: avoid-page; } }
"""


def page(
    *, title: str, lede: str, contents: Sequence[tuple[str, str]], body: str, footer: str
) -> str:
    """The whole HTML document: title, a contents list of (id, heading), the sections."""
    items = "".join(f'<li><a href="#{escape(i)}">{escape(h)}</a></li>' for i, h in contents)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="mns">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f'<header><h1>{escape(title)}</h1><p class="lede">{escape(lede)}</p></header>\n'
        f'<nav aria-label="Contents"><b>Contents</b><ol>{items}</ol></nav>\n'
        f"<main>\n{body}\n</main>\n<footer>{footer}</footer>\n</body>\n</html>\n"
    )
