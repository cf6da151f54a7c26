"""Progress since the last plan: what changed from the previous plan (need groups added,
merged, split or dropped; services added, changed or withdrawn; places and costs) beside the
change in needs since the baseline audit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from mns.report.html import Column, paragraphs
from mns.report.model import ReportInput
from mns.report.sections._base import (
    Section,
    View,
    details,
    fragment,
    rows_where,
    section,
    service_order,
    shown_or_missing,
)
from mns.report.sections.change import CHANGE_COLUMNS

SHOWS = frozenset({"plan_changes"})

_HEADING = "Progress since the last plan"
#: A service's places and costs: they have rows of their own, not listed as fields changed.
_FIGURES = frozenset({"cases_available", "places_available", "cost_per_case", "provision_cost"})
_TOTALS = (
    ("need_groups", "need groups"),
    ("services", "services"),
    ("outcomes", "outcomes"),
    ("provision_cost", "cost of the planned capacity a year"),
)


def _words(field: str) -> str:
    return field.replace("_", " ")


def _number(value: Any) -> str:
    return "\u2013" if value is None else f"{value:,.0f}"


def _key_figures(table: pa.Table) -> Any:
    figures = []
    for field, label in _TOTALS:
        found = rows_where(table, kind="plan", field=field)
        if not found:
            continue
        row = table.slice(found[0], 1).to_pylist()[0]
        before, after = row["before_value"], row["after_value"]
        shown = _number(after) if before == after else f"{_number(before)} \u2192 {_number(after)}"
        figures.append((shown, f" {label} (last plan \u2192 this plan)"))
    return fragment("key_figures.html", figures=figures)


#: How a group of this plan came from the last plan's, per change of the last plan's group.
_CAME = {"merged": "{} merged into it", "split": "part of {} (split)", "recoded": "was {}"}
#: What became of a group of the last plan.
_WENT = {"merged": "merged into {}", "split": "split into {}", "recoded": "now {}"}


def _group_story(table: pa.Table, ri: ReportInput) -> tuple[list[str], list[str], list[str]]:
    """The need groups to show (this plan's in order, then the last plan's no longer in
    it), their labels and, for each, what the plan did to it in words."""
    came: dict[str, list[str]] = {}
    fields: dict[str, list[str]] = {}
    added: set[str] = set()
    gone: list[tuple[str, str, str]] = []
    for r in table.to_pylist():
        if r["kind"] != "need_group":
            continue
        code, change = r["code"], r["change"]
        if r["field"] is not None:
            fields.setdefault(code, []).append(_words(r["field"]))
        elif change == "added":
            added.add(code)
        elif change == "dropped":
            gone.append((code, r["before"], "dropped"))
        else:
            gone.append((code, r["before"], _WENT[change].format(r["after"])))
            for target in str(r["after"]).split(", "):
                came.setdefault(target, []).append(_CAME[change].format(code))
    codes, labels, said = [], [], []
    for g in ri.plan.need_groups:
        parts = ["new"] if g.code in added else []
        parts += came.get(g.code, [])
        if g.code in fields:
            parts.append(", ".join(fields[g.code]) + " changed")
        codes.append(g.code)
        labels.append(f"{g.code} {g.name}")
        said.append("; ".join(parts) if parts else "unchanged")
    for code, name, text in gone:
        codes.append(code)
        labels.append(f"{code} {name} (last plan)")
        said.append(text)
    return codes, labels, said


def _groups_table(ri: ReportInput, table: pa.Table) -> Any:
    codes, labels, said = _group_story(table, ri)
    compare = ri.table("compare")
    columns = [
        Column(name="label", label="Need group"),
        Column(name="plan", label="In the plan"),
    ]
    view = View(ri)
    if compare is not None and compare.num_rows:
        at = {c: i for i, c in enumerate(compare.column("need_group").to_pylist())}
        view.add(
            "compare",
            [at.get(c) for c in codes],
            [
                "baseline",
                "baseline_share",
                "reaudit",
                "reaudit_share",
                "change",
                "change_low",
                "change_high",
            ],
        )
        columns += CHANGE_COLUMNS
    view.text("label", labels)
    view.text("plan", said)
    return view.render(
        columns,
        id="table-progress-groups",
        caption="Need groups: what the plan changed, beside the change in needs",
    )


def _services_table(ri: ReportInput, table: pa.Table) -> Any:
    data = table.to_pylist()
    services: dict[str, dict[str, Any]] = {}
    for i, r in enumerate(data):
        if r["kind"] != "service":
            continue
        entry = services.setdefault(
            r["code"], {"change": r["change"], "name": None, "fields": [], "rows": {}}
        )
        if r["field"] is None:
            entry["name"] = r["after"] or r["before"]
        elif r["field"] in _FIGURES:
            entry["rows"][r["field"]] = i
        else:
            entry["fields"].append(_words(r["field"]))
    codes = sorted(services, key=service_order(ri))
    view = View(ri)
    for field in ("places_available", "provision_cost"):
        view.add(
            "plan_changes",
            [services[c]["rows"].get(field) for c in codes],
            ["before_value", "after_value", "difference"],
            prefix=f"{field}_",
        )
    names = {s.code: s.name for s in ri.plan.services}
    labels = [f"{c} {names.get(c) or services[c]['name'] or ''}".strip() for c in codes]
    view.text("label", labels)
    view.text("change", [services[c]["change"] for c in codes])
    view.text("fields", [", ".join(services[c]["fields"]) for c in codes])
    return view.render(
        [
            Column(name="label", label="Service"),
            Column(name="change", label="Change"),
            Column(name="fields", label="What changed"),
            Column(
                name="places_available_before_value", label="Places, last plan", format="number"
            ),
            Column(name="places_available_after_value", label="Places now", format="number"),
            Column(name="places_available_difference", label="Places: change", format="number"),
            Column(
                name="provision_cost_before_value",
                label="Cost of the capacity a year, last plan",
                format="count",
            ),
            Column(name="provision_cost_after_value", label="Cost now", format="count"),
            Column(name="provision_cost_difference", label="Cost: change", format="count"),
        ],
        id="table-progress-services",
        caption="Services added, changed and withdrawn, with their places and costs "
        "(\u2013: unchanged)",
    )


def _every_change(ri: ReportInput, table: pa.Table) -> Any:
    rows = [i for i, f in enumerate(table.column("field").to_pylist()) if f not in _FIGURES]
    kinds = table.column("kind").to_pylist()
    changes = table.column("change").to_pylist()
    rows = [r for r in rows if not (kinds[r] == "plan" and changes[r] == "unchanged")]
    view = View(ri).add(
        "plan_changes", rows, ["kind", "code", "change", "field", "before", "after"]
    )
    return view.render(
        [
            Column(name="kind", label="Kind"),
            Column(name="code", label="Code", format="code"),
            Column(name="change", label="Change"),
            Column(name="field", label="Field"),
            Column(name="before", label="Last plan"),
            Column(name="after", label="This plan"),
        ],
        id="table-progress-changes",
        caption="Every change from the last plan",
        row_header=False,
    )


def build(ri: ReportInput) -> Section:
    intro: Sequence[str] = (
        "The plan of the last cycle beside this one: the need groups added, merged, split or "
        "dropped, the services added, changed or withdrawn, and their places and costs; "
        "beside each need group, its share of the audited cases at the baseline audit and now.",
        "A merge or a split is what this plan states (a need group's replaces), never "
        "guessed from the rules. Both audits are grouped by this plan's groups, so a group "
        "split or merged is compared in its new shape. Comparing the plans is mns's own "
        "arithmetic; the plans' figures count no children and need no disclosure control.",
    )
    table = shown_or_missing(
        ri,
        "plan_changes",
        "progress",
        _HEADING,
        intro,
        missing="No previous plan was given (mns audit --previous-plan PLAN.toml).",
    )
    if isinstance(table, Section):
        return table
    parts = [_key_figures(table), _groups_table(ri, table)]
    if ri.table("compare") is None:
        parts.append(
            paragraphs(
                "No baseline audit was given (mns audit --baseline ...): the change in needs "
                "is not shown beside the plan's changes."
            )
        )
    parts += [
        _services_table(ri, table),
        details("Every change from the last plan", _every_change(ri, table)),
    ]
    return section("progress", _HEADING, intro, *parts)
