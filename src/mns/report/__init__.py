"""The audit report: one self-contained HTML file a planning group can read.

It opens with no network: the style sheet and the charts (matplotlib, rendered to inline SVG)
are in the file, and it needs no script. Each section has a plain heading, a short
explanation, a chart and the table behind it; numbers carry 95% intervals; suppressed cells
show the official symbols; the end says how disclosure control was applied and where every
number came from (adapter, files with checksums, reference date). The report is a pure function
of the published tables, so the same audit always gives the same bytes. Its HTML comes from
autoescaping Jinja2 templates (``mns/report/templates``); its sections are
:mod:`mns.report.sections`, one module per analysis.
"""

from __future__ import annotations

from mns._extras import require

require("report", "the report")  # one line naming mns[report], not a ModuleNotFoundError

from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

from markupsafe import Markup  # noqa: E402

from mns.report.html import page  # noqa: E402
from mns.report.model import INTERNAL_BANNER, ReportInput, Suppressed  # noqa: E402
from mns.report.sections import TABLES, Section, build_sections, shown_tables  # noqa: E402
from mns.report.sections._base import fragment  # noqa: E402

__all__ = [
    "TABLES",
    "ReportInput",
    "Section",
    "Suppressed",
    "render_report",
    "shown_tables",
    "write_report",
]


def render_report(report: ReportInput, extra: Sequence[Section] = ()) -> str:
    """The report's HTML text; ``extra`` sections go before the issues section."""
    sections = build_sections(report, extra)
    plan = report.plan
    lede = f"Matching Needs and Services: the audit set against the plan {plan.name!r}"
    if report.reference_date:
        lede += f", reference date {report.reference_date}"
    if report.groups:
        lede += f"; need groups given by {report.groups}"
    footer = (
        "Made with mns"
        + (f" {report.mns_version}" if report.mns_version else "")
        + ". Matching Needs and Services is the needs-audit method of the Dartington Social "
        "Research Unit."
    )
    html = page(
        title=report.title,
        lede=lede + ".",
        contents=[(s.id, s.heading) for s in sections],
        body=Markup("\n").join(fragment("section.html", section=s) for s in sections),
        footer=footer,
        banner=INTERNAL_BANNER if report.audience == "internal" else "",
    )
    return str(html)


def write_report(report: ReportInput, path: str | Path, extra: Sequence[Section] = ()) -> Path:
    """Write :func:`render_report` to ``path`` (UTF-8) and return the path."""
    from mns.records.folder import replacing

    target = Path(path)
    html = render_report(report, extra)
    with replacing(target) as temporary:
        temporary.write_text(html, encoding="utf-8")
    return target
