"""Problems met while reading the records."""

from __future__ import annotations

from mns.records.bundle import base_name
from mns.report.html import Column, paragraphs
from mns.report.model import ReportInput
from mns.report.sections._base import (
    Section,
    View,
    section,
)

SHOWS = frozenset({"issues"})


def build(ri: ReportInput) -> Section:
    heading = "Problems met while reading the records"
    intro = (
        "Every problem met while reading the records, counted by file, field and what was "
        "done: a record 'rejected' is left out of every table; a value 'blanked' is treated "
        "as missing; 'kept' means the value was used as read. `mns read` lists each problem "
        "with its row, for whoever keeps the records.",
    )
    table = ri.table("issues")
    if table is None or table.num_rows == 0:
        return section("issues", heading, intro, paragraphs("No problems were met."))
    names = ["source", "table", "field", "severity", "action", "issues"]
    if "example" in table.column_names:
        names.append("example")
    view = View(ri).add("issues", range(table.num_rows), names)
    # the file's name only: a folder path says nothing to the reader and widens the table
    view.text("file", [base_name(str(s or "")) for s in view.data["source"]])
    columns = [
        Column(name="file", label="File"),
        Column(name="table", label="Table"),
        Column(name="field", label="Field", format="code"),
        Column(name="severity", label="Severity"),
        Column(name="action", label="What was done"),
        Column(name="issues", label="Problems", format="count"),
    ]
    if "example" in names:
        columns.append(Column(name="example", label="Example"))
    return section(
        "issues",
        heading,
        intro,
        view.render(columns, id="table-issues", caption="Problems by file, field and action"),
    )
