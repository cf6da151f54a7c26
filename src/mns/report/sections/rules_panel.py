"""Rules beside the panel: per need group, how the plan's rule compares with the audit
panel's grouping (so the rules can be refined into thresholds), and, in the internal copy,
the cases where they disagree."""

from __future__ import annotations

from markupsafe import Markup

from mns.report.html import Column
from mns.report.model import ReportInput
from mns.report.sections._base import (
    Section,
    View,
    details,
    group_label,
    group_order,
    section,
)

SHOWS = frozenset({"rules_panel", "disagreements"})

#: The rows that count cases outside the comparison, and what they mean.
UNCOMPARED = {
    "(not audited)": "Cases the panel did not audit (the rule placed them)",
    "(not placed)": "Cases the panel could not place in a need group",
}


def _label(ri: ReportInput, code: object) -> str:
    return UNCOMPARED.get(str(code), group_label(ri, code))


def build(ri: ReportInput) -> Section | None:
    table = ri.table("rules_panel")
    if table is None or table.num_rows == 0:
        return None
    heading = "Rules beside the panel"
    intro = (
        "The plan's rules put each case in a need group; the audit panel read the cases and "
        "decided their need groups. For each need group: the cases both put in it, those "
        "only the panel put in it, and those only the rule put in it. Precision is the "
        "share of the cases the rule puts in the group that the panel put there too; recall "
        "the share of the panel's cases that the rule finds. A rule with low precision "
        "takes in too much, one with low recall misses cases: both say where the rule can "
        "be refined into a threshold.",
        "Cases the panel did not audit, and cases it could not place, are counted "
        "separately, not left out.",
    )
    codes = table.column("need_group").to_pylist()
    rank = list(UNCOMPARED)

    def key(r: int) -> tuple[int, tuple[int, str]]:
        code = codes[r]
        if code in UNCOMPARED:
            return (1, (rank.index(code), str(code)))
        return (0, group_order(ri)(code))

    rows = sorted(range(table.num_rows), key=key)
    measures = ["need_group", "both", "panel_only", "rules_only"]
    measures += [
        c
        for c in (
            "precision",
            "precision_low",
            "precision_high",
            "recall",
            "recall_low",
            "recall_high",
        )
        if c in table.column_names
    ]
    view = View(ri).add("rules_panel", rows, measures)
    view.text("label", [_label(ri, c) for c in view.data["need_group"]])
    columns = [
        Column(name="label", label="Need group"),
        Column(
            name="both", label="Both", format="count", title="Cases the rule and panel agree on"
        ),
        Column(name="panel_only", label="Panel only", format="count"),
        Column(name="rules_only", label="Rule only", format="count"),
    ]
    if "precision" in measures:
        columns.append(
            Column(
                name="precision",
                label="Precision (95% interval)",
                format="percent",
                low="precision_low" if "precision_low" in measures else None,
                high="precision_high" if "precision_high" in measures else None,
            )
        )
    if "recall" in measures:
        columns.append(
            Column(
                name="recall",
                label="Recall (95% interval)",
                format="percent",
                low="recall_low" if "recall_low" in measures else None,
                high="recall_high" if "recall_high" in measures else None,
            )
        )
    parts = [
        view.render(
            columns,
            id="table-rules-panel",
            caption="The plan's rules beside the panel, per need group",
        )
    ]
    listed = ri.table("disagreements")
    if listed is not None and listed.num_rows:
        parts.append(_disagreements(ri, listed.num_rows))
    return section("rules-panel", heading, intro, *parts)


def _disagreements(ri: ReportInput, n: int) -> Markup:
    cases = ri.tables["disagreements"].column("case_id").to_pylist()
    rows = sorted(range(n), key=lambda r: str(cases[r]))
    view = View(ri).add("disagreements", rows, ["case_id", "panel_group", "rule_group", "deciding"])
    view.text("panel_label", [group_label(ri, g) for g in view.data["panel_group"]])
    view.text("rule_label", [group_label(ri, g) for g in view.data["rule_group"]])
    return details(
        f"The {n:,} cases where the rule and the panel disagree (for the planning group only)",
        view.render(
            [
                Column(name="case_id", label="Case", format="code"),
                Column(name="panel_label", label="The panel's need group"),
                Column(name="rule_label", label="The rule's need group"),
                Column(name="deciding", label="Indicators that decided the rule", format="code"),
            ],
            id="table-disagreements",
            caption="Cases where the plan's rule and the panel disagree",
        ),
    )
