"""The audit report: one self-contained HTML file a planning group can read.

It opens with no network: the style sheet and the charts (matplotlib, rendered to inline SVG)
are in the file, and it needs no script. Each section has a plain heading, a short
explanation, a chart and the table behind it; numbers carry 95% intervals; suppressed cells
show the official symbols; the end says how disclosure control was applied and where every
number came from (adapter, files with checksums, reference date). The report is a pure function
of the published tables, so the same audit always gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path

from mns.report.html import page
from mns.report.model import ReportInput, Suppressed
from mns.report.sections import TABLES, Section, build_sections

__all__ = ["TABLES", "ReportInput", "Section", "Suppressed", "render_report", "write_report"]


def render_report(report: ReportInput, extra: Sequence[Section] = ()) -> str:
    """The report's HTML text; ``extra`` sections go before the issues section."""
    sections = build_sections(report, extra)
    body = "\n".join(
        f'<section id="{escape(s.id)}"><h2>{escape(s.heading)}</h2>{s.html}</section>'
        for s in sections
    )
    plan = report.plan
    lede = f"Matching Needs and Services: the audit set against the plan {plan.name!r}"
    if report.reference_date:
        lede += f", reference date {report.reference_date}"
    footer = (
        "Made with mns"
        + (f" {escape(report.mns_version)}" if report.mns_version else "")
        + ". Matching Needs and Services is the needs-audit method of the Dartington Social "
        "Research Unit."
    )
    return page(
        title=report.title,
        lede=lede + ".",
        contents=[(s.id, s.heading) for s in sections],
        body=body,
        footer=footer,
    )


def write_report(report: ReportInput, path: str | Path, extra: Sequence[Section] = ()) -> Path:
    """Write :func:`render_report` to ``path`` (UTF-8) and return the path."""
    target = Path(path)
    target.write_text(render_report(report, extra), encoding="utf-8")
    return target
