"""The report's sections: one module per analysis, each a heading, a short plain
explanation, a chart and its table (or a note of what the audit would need).

Every section module states the published tables it shows (``SHOWS``) and builds its
section with ``build(report_input)`` (``None``: nothing to show, left out). Every number
shown carries where it comes from (``data-table``, ``data-row``, ``data-source``), so a test
can check it against the table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import ModuleType

from mns.report.model import ReportInput
from mns.report.sections import (
    agreement,
    areas,
    capacity,
    change,
    costs,
    disclosure,
    issues,
    matching,
    need_groups,
    outcomes,
    participation,
    placements,
    prevalence,
    progress,
    provenance,
    rules_panel,
    suggested,
    summary,
    targets,
    teams,
    what_works,
)
from mns.report.sections._base import MAX_INDICATORS, Section, View

__all__ = [
    "MAX_INDICATORS",
    "MODULES",
    "SECTIONS",
    "TABLES",
    "Section",
    "View",
    "build_sections",
    "shown_tables",
]

#: The section modules in report order; "what the data suggest" and extra sections go
#: before the issues.
MODULES: Sequence[ModuleType] = (
    summary,
    need_groups,
    prevalence,
    matching,
    agreement,
    rules_panel,
    change,
    progress,
    areas,
    capacity,
    costs,
    placements,
    teams,
    outcomes,
    targets,
    what_works,
    participation,
    suggested,
    issues,
    disclosure,
    provenance,
)

#: Each section's builder, in report order.
SECTIONS: Sequence[Callable[[ReportInput], Section | None]] = tuple(m.build for m in MODULES)


def shown_tables() -> frozenset[str]:
    """The names of the published tables some section of the report shows."""
    return frozenset().union(*(m.SHOWS for m in MODULES))


#: The published tables the report reads (the names :func:`mns.audit.run_audit` gives them).
TABLES = tuple(sorted(shown_tables()))


def build_sections(ri: ReportInput, extra: Sequence[Section] = ()) -> list[Section]:
    """Every section of the report with something to show, in order; ``extra`` sections go
    before the issues."""
    built = [s for s in (build(ri) for build in SECTIONS) if s is not None]
    at = next(i for i, s in enumerate(built) if s.id == "issues")
    return [*built[:at], *extra, *built[at:]]
