"""Needs in each group: how common each indicator is within each need group (strengths and
protective factors, where the cases record them, are labelled as such)."""

from __future__ import annotations

from collections.abc import Sequence

from mns.report import charts
from mns.report.html import Column
from mns.report.model import ReportInput
from mns.report.sections._base import (
    MAX_INDICATORS,
    Section,
    View,
    details,
    figure,
    group_label,
    group_order,
    grouping,
    salt,
    section,
    short,
)

SHOWS = frozenset({"profile"})


def build(ri: ReportInput) -> Section:
    heading = "Needs in each group"
    intro: tuple[str, ...] = (
        "How common each need (indicator) is within each need group: the darker the cell, the "
        "more of the group's children have it. The planning group reads this to check that "
        "each group hangs together, and to describe it. The heat map shows the most common "
        f"indicators (at most {MAX_INDICATORS}); the table below it has them all.",
    )
    profile = ri.table("profile")
    if profile is None:
        return section("prevalence", heading, intro, missing="No cases were classified.")
    variables = profile.column("variable").to_pylist()
    values = profile.column("value").to_pylist()
    groups = profile.column("need_group").to_pylist()
    rows = [
        i
        for i, (v, x) in enumerate(zip(variables, values, strict=True))
        if "." in str(v) and not str(v).startswith("threshold.") and x == "true"
    ]
    if not rows:
        return section("prevalence", heading, intro, missing="The cases have no flag indicators.")
    view = View(ri).add(
        "profile", rows, ["need_group", "variable", "count", "share", "share_low", "share_high"]
    )
    counts: dict[str, float] = {}
    for v, c in zip(view.data["variable"], view.values("count"), strict=True):
        counts[v] = counts.get(v, 0.0) + float(c or 0)
    chosen = sorted(sorted(counts, key=lambda v: -counts[v])[:MAX_INDICATORS])
    chosen = [v for v in chosen if counts[v] > 0] or chosen
    order = sorted({groups[r] for r in rows}, key=group_order(ri))
    grid = {
        (g, v): s
        for g, v, s in zip(
            view.data["need_group"], view.data["variable"], view.shown("share"), strict=True
        )
    }
    labels = _indicator_labels(ri, chosen)
    chart = charts.heatmap(
        [group_label(ri, g) for g in order],
        [short(f"{v} {labels[v]}".strip(), 40) for v in chosen],
        [[grid.get((g, v)) for v in chosen] for g in order],
        title="Prevalence of the most common indicators in each need group",
        salt=salt(ri, "prevalence"),
        colorbar_label="Share of the group's cases",
    )
    all_labels = _indicator_labels(ri, sorted(counts))
    strengths = {v for v, label in all_labels.items() if label.startswith(STRENGTH)}
    if strengths:
        intro = (
            *intro,
            "Indicators whose meaning starts with 'Strength:' are strengths or protective "
            "factors, recorded when present: the share of the group's children who have them.",
        )
    view.text("group_label", [group_label(ri, g) for g in view.data["need_group"]])
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
    return section(
        "prevalence",
        heading,
        intro,
        figure(
            chart,
            "Grey cells are marked c when withheld (too few cases to show), z when the need "
            "group has no cases." + grouping(ri),
        ),
        details(
            "The numbers behind the heat map (every indicator)",
            view.render(
                columns, id="table-prevalence", caption="Indicator prevalence by need group"
            ),
        ),
    )


#: How the table's "Meaning" starts for a strength or protective factor.
STRENGTH = "Strength: "


def _indicator_labels(ri: ReportInput, columns: Sequence[str]) -> dict[str, str]:
    """Each column's label in its language; a strength's label starts with :data:`STRENGTH`."""
    from mns.lang import Polarity, language

    labels: dict[str, str] = {}
    for column in columns:
        name, _, code = column.partition(".")
        try:
            indicator = language(name).indicator(code)
        except Exception:  # a label is a nicety; the code is shown anyway
            labels[column] = ""
            continue
        strength = indicator.polarity is Polarity.STRENGTH
        labels[column] = f"{STRENGTH}{indicator.label}" if strength else indicator.label
    return labels
