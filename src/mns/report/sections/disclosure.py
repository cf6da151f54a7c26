"""Disclosure control: what the symbols mean, how small counts were protected, and per
published table what was withheld and why (the information loss)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from mns.report.html import SYMBOLS, Column, format_value, render_table
from mns.report.model import ReportInput
from mns.report.sections._base import Section, fragment

#: The disclosure section reads ``ReportInput.withheld``, no published table.
SHOWS: frozenset[str] = frozenset()

#: What each published table holds, in words (tables not named here show their name).
TABLE_WORDS = {
    "profile": "need groups and indicators",
    "extrapolate": "cases a year per need group",
    "match": "need groups against services",
    "capacity": "demand and capacity per service",
    "agreement": "agreement between audit groups",
    "compare": "change since the baseline",
    "areas": "need by area",
    "areas_by_group": "need by area and need group",
    "outcomes": "outcomes by need group",
    "rules_panel": "the plan's rules beside the panel",
    "issues": "problems met while reading",
}


def build(ri: ReportInput) -> Section:
    note = None
    texts: tuple[str, ...] = ()
    if ri.audience == "internal":
        note = (
            "This is the planning group's internal copy: it shows every count however small. "
            "Do not publish it or share it beyond those allowed to see the records."
        )
    elif ri.min_count is None:
        note = (
            "Disclosure control was switched off for this report: it shows every count "
            "however small. Do not publish or share it beyond those allowed to see the records."
        )
    else:
        texts = (
            f"Counts below {ri.min_count} are hidden and shown as 'c', so that no child can "
            "be recognised from the report; where a hidden count could be worked out from a "
            "total, another cell is hidden too (secondary suppression). Shares, rates and "
            "intervals built on a hidden count are hidden with it. Examples quoting values "
            "from the records are left out of the problems met while reading.",
            "The tables written beside this report (CSV and Parquet) are controlled the same "
            "way; the records themselves are never written into the report.",
        )
    loss, table = _loss(ri.withheld)
    return Section(
        id="disclosure",
        heading="Disclosure control",
        html=fragment(
            "disclosure.html",
            note=note,
            texts=[*texts, *([loss] if loss else [])],
            table=table,
            symbols=list(SYMBOLS.items()),
        ),
    )


def _plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def why(primary: int, secondary: int, derived: int) -> str:
    """Why a table's cells were withheld, in plain words."""
    reasons = []
    if primary:
        reasons.append(_plural(primary, "small count", "small counts"))
    if secondary:
        reasons.append(
            _plural(secondary, "cell", "cells") + " that would let a small count be worked out"
        )
    if derived:
        reasons.append(
            _plural(derived, "share, rate or interval", "shares, rates or intervals")
            + " built on a withheld count"
        )
    return "; ".join(reasons) if reasons else "nothing withheld"


def _loss(withheld: pa.Table | None) -> tuple[str, Any]:
    """The information loss in a sentence, and the table of what each table withheld."""
    if withheld is None or withheld.num_rows == 0:
        return "", None
    rows = withheld.to_pylist()
    cells = sum(int(r["cells"] or 0) for r in rows)
    hidden = sum(int(r["withheld"] or 0) for r in rows)
    share = hidden / cells if cells else 0.0
    sentence = (
        f"In all, {hidden:,} of the {cells:,} published cells were withheld "
        f"({format_value(share, 'percent')}): that is the information disclosure control "
        "cost. The table says, for each published table, how many cells it withheld and why."
    )
    shown = pa.table(
        {
            "table": [str(r["table"]) for r in rows],
            "holds": [TABLE_WORDS.get(str(r["table"]), "") for r in rows],
            "cells": [r["cells"] for r in rows],
            "withheld": [r["withheld"] for r in rows],
            "loss": [(r["withheld"] or 0) / r["cells"] if r["cells"] else None for r in rows],
            "why": [
                why(int(r["primary"] or 0), int(r["secondary"] or 0), int(r["derived"] or 0))
                for r in rows
            ],
        }
    )
    table = render_table(
        shown,
        [
            Column(name="table", label="Table", format="code"),
            Column(name="holds", label="What it holds"),
            Column(name="cells", label="Cells", format="count"),
            Column(name="withheld", label="Withheld", format="count"),
            Column(name="loss", label="Share withheld", format="percent"),
            Column(name="why", label="Why"),
        ],
        id="table-withheld",
        caption="What disclosure control withheld from each published table",
    )
    return sentence, table
