"""The MN&S analyses: Arrow tables in, sorted Arrow tables out, ready for disclosure control.

Each analysis accepts a pyarrow Table, a RecordBatchReader or an iterable of record batches,
streams where it can (on :mod:`mns.aggregate`'s mergeable partial aggregates), and returns a
pyarrow Table sorted by its keys whose schema metadata says how its counts add up, so that
:func:`mns.disclose` can protect it. See ``docs/reference/analyses.md``.
"""

from __future__ import annotations

from mns.analyses.agreement import agreement
from mns.analyses.areas import areas
from mns.analyses.budget import budget
from mns.analyses.compare import compare
from mns.analyses.crosstab import crosstab
from mns.analyses.extrapolate import capacity, extrapolate
from mns.analyses.match import match
from mns.analyses.outcomes import outcomes
from mns.analyses.placements import placements
from mns.analyses.profile import profile
from mns.analyses.teams import teams
from mns.analyses.what_works import outcomes_change, what_works

__all__ = [
    "agreement",
    "areas",
    "budget",
    "capacity",
    "compare",
    "crosstab",
    "extrapolate",
    "match",
    "outcomes",
    "outcomes_change",
    "placements",
    "profile",
    "teams",
    "what_works",
]
