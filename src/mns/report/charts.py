"""The report's charts: matplotlib figures rendered offline to inline SVG.

No pyplot (no global figure state, safe in threads), text kept as SVG text in a generic
sans-serif font (no font files, nothing fetched), ids salted per chart so that several
charts in one page never share an id, and no creation date, so the same tables give the
same bytes. Suppressed values (``None``) are never drawn as numbers: bars are left out and
heat-map cells are greyed and marked with the suppression symbol.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from markupsafe import Markup

from mns.report.templating import escape

__all__ = [
    "NO_CLUSTER",
    "PALETTE",
    "bars_with_intervals",
    "demand_and_capacity",
    "heatmap",
    "paired_bars",
    "stacked_bars",
    "svg",
]

#: Colour-blind-safe categorical colours (Okabe and Ito).
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)
_GREY = "#bdbdbd"
#: The colour of need groups outside any cluster ("unassigned", "unknown").
NO_CLUSTER = "#9e9e9e"
_INK = "#222222"
_SVG_OPEN = re.compile(r"<svg\b[^>]*>")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def _shown(labels: Sequence[str]) -> list[str]:
    """Tick labels as drawn: a control character from the records (a tab in an area's name)
    has no glyph, and is drawn as a space."""
    return [_CONTROL.sub(" ", str(label)) for label in labels]


def _rc(salt: str) -> dict[str, Any]:
    return {
        "svg.fonttype": "none",
        "svg.hashsalt": salt,
        "font.family": "sans-serif",
        "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica", "Liberation Sans"],
        "font.size": 10,
        "axes.edgecolor": "#888888",
        "axes.labelcolor": _INK,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "xtick.color": _INK,
        "ytick.color": _INK,
        "figure.dpi": 72,
    }


@contextmanager
def _figure(salt: str, width: float, height: float) -> Iterator[Any]:
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_rc(salt)):  # type: ignore[arg-type]
        fig = Figure(figsize=(width, height), layout="constrained")
        yield fig


def svg(fig: Any, *, title: str, salt: str) -> Markup:
    """``fig`` as an inline ``<svg>`` element that scales with the page, labelled ``title``,
    its ids prefixed with ``salt``."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, count=1, flags=re.DOTALL)
    head = _SVG_OPEN.search(text)
    assert head is not None
    labelled = Markup('<svg role="img" aria-label="{}" class="chart"').format(escape(title))
    opening = head.group(0).replace("<svg", str(labelled), 1)
    text = text[: head.start()] + opening + text[head.end() :].strip()
    # trusted where it is made: matplotlib's own SVG, its text escaped by matplotlib
    return Markup(_prefix_ids(text, f"c{salt}-"))  # noqa: S704


_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(url\(#|href="#)([^")]+)')


def _prefix_ids(text: str, prefix: str) -> str:
    """Every id of the SVG (and every reference to one) prefixed, so that several charts in
    one page never share an id (matplotlib numbers its groups from 1 in each figure)."""
    text = _ID.sub(lambda m: f'id="{prefix}{m.group(1)}"', text)
    return _REF.sub(lambda m: f"{m.group(1)}{prefix}{m.group(2)}", text)


def _height(n: int, per: float = 0.32, base: float = 1.1) -> float:
    return max(1.8, base + per * n)


def _pct(value: float) -> str:
    if 0 < value < 0.01:  # never "0%" for a share above nothing
        return "<1%"
    return f"{100 * value:.0f}%"


def bars_with_intervals(
    labels: Sequence[str],
    values: Sequence[float | None],
    lows: Sequence[float | None],
    highs: Sequence[float | None],
    *,
    colors: Sequence[str] | None = None,
    xlabel: str,
    title: str,
    salt: str,
    percent: bool = False,
    legend: Sequence[tuple[str, str]] = (),
) -> Markup:
    """Horizontal bars with interval whiskers, first label at the top; a ``None`` value is
    a suppressed one: no bar, and the suppression symbol in its place."""
    n = len(labels)
    with _figure(salt, 9.0, _height(n)) as fig:
        ax = fig.subplots()
        ys = list(range(n))[::-1]
        for i, y in enumerate(ys):
            value = values[i]
            color = colors[i] if colors else PALETTE[0]
            if value is None:
                ax.text(0, y, " c (suppressed)", va="center", ha="left", color="#666666")
                continue
            ax.barh(y, value, color=color, height=0.65)
            low, high = lows[i], highs[i]
            if low is not None and high is not None:
                ax.errorbar(
                    value,
                    y,
                    xerr=[[max(0.0, value - low)], [max(0.0, high - value)]],
                    fmt="none",
                    ecolor=_INK,
                    elinewidth=1,
                    capsize=3,
                )
        ax.set_yticks(ys, _shown(labels))
        ax.set_xlabel(xlabel)
        _value_axis(ax, _largest(values, highs), percent=percent)
        ax.grid(axis="x", color="#e5e5e5", linewidth=0.8)
        ax.set_axisbelow(True)
        if legend:
            _legend(ax, legend)
        return svg(fig, title=title, salt=salt)


def _percent_formatter() -> Any:
    # as many decimals as the axis range needs: "0.2% 0.4%", never "0% 0% 1%"
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0, decimals=None)


def _value_axis(ax: Any, largest: float, *, percent: bool) -> None:
    """The value (x) axis from 0: percentages with enough decimals to tell ticks apart,
    counts on whole numbers; with nothing above 0, 0 to 1 (0% to 100%), never -0.04 to 0.04."""
    from matplotlib.ticker import MaxNLocator

    if largest > 0:
        ax.set_xlim(left=0)
    else:
        ax.set_xlim(0, 1)
    if percent:
        ax.xaxis.set_major_formatter(_percent_formatter())
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _largest(*series: Sequence[float | None]) -> float:
    return max((float(v) for values in series for v in values if v is not None), default=0.0)


def _legend(ax: Any, items: Sequence[tuple[str, str]]) -> None:
    """A legend to the right of the axes, where it never hides a bar."""
    from matplotlib.patches import Patch

    handles = [Patch(color=color, label=label) for label, color in items]
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8
    )


def heatmap(
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[float | str | None]],
    *,
    title: str,
    salt: str,
    percent: bool = True,
    colorbar_label: str = "",
    cmap: str = "Blues",
    column_rotation: float = 60,
) -> Markup:
    """A grid of ``values`` (rows x columns) shaded by size and labelled in each cell. A cell
    without a number is grey and marked: with its symbol when it is one (``c`` withheld,
    ``z`` not applicable, ``:`` not available, see :meth:`View.shown`), ``z`` for NaN (a
    share of no cases) and ``:`` for ``None`` (no such row)."""
    import numpy as np
    from matplotlib import colormaps

    n_rows, n_cols = len(rows), len(columns)
    marks = [[_mark(v) for v in row] for row in values]
    numbers = [[v if isinstance(v, (int, float)) else math.nan for v in row] for row in values]
    data = np.array(
        [
            [math.nan if m is not None else float(v) for v, m in zip(row, mrow, strict=True)]
            for row, mrow in zip(numbers, marks, strict=True)
        ],
        dtype=np.float64,
    ).reshape(n_rows, n_cols)
    finite = data[np.isfinite(data)]
    top = float(finite.max()) if finite.size else 1.0
    top = top if top > 0 else 1.0
    row_text = max((len(r) for r in rows), default=0)
    col_text = max((len(c) for c in columns), default=0)
    width = min(13.0, 1.6 + 0.1 * row_text + 0.5 * n_cols)
    height = 1.2 + 0.36 * n_rows + 0.075 * col_text
    colormap = colormaps[cmap].with_extremes(bad=_GREY)
    with _figure(salt, width, height) as fig:
        ax = fig.subplots()
        image = ax.imshow(
            np.ma.masked_invalid(data), cmap=colormap, vmin=0, vmax=top, aspect="auto"
        )
        ax.set_xticks(range(n_cols), _shown(columns), rotation=column_rotation, ha="right")
        ax.set_yticks(range(n_rows), _shown(rows))
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        font = 7 if n_cols > 12 else 8
        for r in range(n_rows):
            for c in range(n_cols):
                v = data[r, c]
                mark = marks[r][c]
                if mark is not None:
                    text, color = mark, _INK
                else:
                    text = _pct(v) if percent else f"{v:,.0f}"
                    color = "white" if v > 0.6 * top else _INK
                ax.text(c, r, text, ha="center", va="center", fontsize=font, color=color)
        bar = fig.colorbar(image, ax=ax, shrink=0.8, pad=0.01)
        if percent:
            bar.ax.yaxis.set_major_formatter(_percent_formatter())
        if colorbar_label:
            bar.set_label(colorbar_label)
        return svg(fig, title=title, salt=salt)


def _mark(value: float | str | None) -> str | None:
    """The symbol a heat-map cell shows instead of a number, or None for a number."""
    if isinstance(value, str):
        return value
    if value is None:
        return ":"
    return "z" if math.isnan(float(value)) else None


def stacked_bars(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None], str]],
    *,
    xlabel: str,
    title: str,
    salt: str,
    marked: Sequence[bool] = (),
) -> Markup:
    """Horizontal stacked bars, one per label; ``series`` is (name, values, colour).
    A bar with a suppressed part (a ``None`` value, or ``marked``) is drawn without it and
    marked ``c``."""
    n = len(labels)
    with _figure(salt, 9.0, _height(n)) as fig:
        ax = fig.subplots()
        ys = list(range(n))[::-1]
        left = [0.0] * n
        hidden = [bool(m) for m in marked] if marked else [False] * n
        for _name, values, color in series:
            widths = []
            for i, v in enumerate(values):
                if v is None:
                    hidden[i] = True
                    widths.append(0.0)
                else:
                    widths.append(float(v))
            ax.barh(ys, widths, left=left, color=color, height=0.65)
            left = [a + b for a, b in zip(left, widths, strict=True)]
        for i, y in enumerate(ys):
            if hidden[i]:
                ax.text(left[i], y, "  c", va="center", ha="left", color="#666666")
        ax.set_yticks(ys, _shown(labels))
        ax.set_xlabel(xlabel)
        _value_axis(ax, max(left, default=0.0), percent=False)
        ax.grid(axis="x", color="#e5e5e5", linewidth=0.8)
        ax.set_axisbelow(True)
        _legend(ax, [(name, color) for name, _, color in series])
        return svg(fig, title=title, salt=salt)


def paired_bars(
    labels: Sequence[str],
    first: tuple[str, Sequence[float | None], Sequence[float | None], Sequence[float | None]],
    second: tuple[str, Sequence[float | None], Sequence[float | None], Sequence[float | None]],
    *,
    xlabel: str,
    title: str,
    salt: str,
    percent: bool = True,
) -> Markup:
    """Two bars per label (e.g. baseline and re-audit), each (name, values, lows, highs)."""
    n = len(labels)
    with _figure(salt, 9.0, _height(n, per=0.45)) as fig:
        ax = fig.subplots()
        ys = [float(y) for y in range(n)][::-1]
        for offset, (_name, values, lows, highs), color in (
            (0.2, first, PALETTE[4]),
            (-0.2, second, PALETTE[0]),
        ):
            for i, y in enumerate(ys):
                v = values[i]
                if v is None:
                    ax.text(
                        0, y + offset, " c", va="center", ha="left", color="#666666", fontsize=7
                    )
                    continue
                ax.barh(y + offset, v, height=0.38, color=color)
                lo, hi = lows[i], highs[i]
                if lo is not None and hi is not None:
                    ax.errorbar(
                        v,
                        y + offset,
                        xerr=[[max(0.0, v - lo)], [max(0.0, hi - v)]],
                        fmt="none",
                        ecolor=_INK,
                        elinewidth=0.8,
                        capsize=2,
                    )
        ax.set_yticks(ys, _shown(labels))
        ax.set_xlabel(xlabel)
        _value_axis(ax, _largest(first[1], first[3], second[1], second[3]), percent=percent)
        ax.grid(axis="x", color="#e5e5e5", linewidth=0.8)
        ax.set_axisbelow(True)
        _legend(ax, [(first[0], PALETTE[4]), (second[0], PALETTE[0])])
        return svg(fig, title=title, salt=salt)


def demand_and_capacity(
    labels: Sequence[str],
    demand: Sequence[float | None],
    lows: Sequence[float | None],
    highs: Sequence[float | None],
    capacity: Sequence[float | None],
    *,
    xlabel: str,
    title: str,
    salt: str,
) -> Markup:
    """Estimated demand per service (bars with intervals) against its planned capacity
    (a black tick); a service with no capacity in the plan has no tick."""
    n = len(labels)
    with _figure(salt, 9.0, _height(n, per=0.38)) as fig:
        ax = fig.subplots()
        ys = list(range(n))[::-1]
        for i, y in enumerate(ys):
            d = demand[i]
            if d is None:
                ax.text(0, y, " c (suppressed)", va="center", ha="left", color="#666666")
            else:
                over = capacity[i] is not None and d > float(capacity[i] or 0)
                ax.barh(y, d, height=0.6, color=PALETTE[5] if over else PALETTE[2])
                lo, hi = lows[i], highs[i]
                if lo is not None and hi is not None:
                    ax.errorbar(
                        d,
                        y,
                        xerr=[[max(0.0, d - lo)], [max(0.0, hi - d)]],
                        fmt="none",
                        ecolor=_INK,
                        elinewidth=1,
                        capsize=3,
                    )
            cap = capacity[i]
            if cap is not None:
                ax.plot([cap, cap], [y - 0.42, y + 0.42], color="black", linewidth=2.2)
            else:
                ax.text(0, y - 0.42, " no capacity in the plan", fontsize=7, color="#666666")
        ax.set_yticks(ys, _shown(labels))
        ax.set_xlabel(xlabel)
        _value_axis(ax, _largest(demand, highs, capacity), percent=False)
        ax.grid(axis="x", color="#e5e5e5", linewidth=0.8)
        ax.set_axisbelow(True)
        _legend(
            ax,
            [
                ("demand within capacity", PALETTE[2]),
                ("demand above capacity", PALETTE[5]),
                ("planned capacity (black line)", "black"),
            ],
        )
        return svg(fig, title=title, salt=salt)
