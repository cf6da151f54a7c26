"""What the report is made from: the published (disclosure-controlled) tables of an audit,
the plan, and where the records came from.

The report never sees an undisclosed number when disclosure control is on: it is a pure
function of :class:`ReportInput`, so the report that ``mns audit`` writes and the one
``mns report`` rebuilds from the output folder are the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Set as AbstractSet

import attrs
import pyarrow as pa

from mns.plan.model import Plan
from mns.records.bundle import Provenance

__all__ = ["ReportInput", "Suppressed"]

#: Per table, the cells withheld by disclosure control, as (row, column) pairs.
Suppressed = Mapping[str, AbstractSet[tuple[int, str]]]

_NULL_KEY = b"mns.null"  # the field metadata naming the symbol of a column's nulls


@attrs.frozen(kw_only=True)
class ReportInput:
    """Everything one report shows.

    ``tables`` are the published tables by name (see :mod:`mns.audit` for the names and
    their columns); ``suppressed`` lists their withheld cells (shown as ``c``). Other empty
    cells show the symbol their column's metadata gives (``z`` not applicable), else ``:``
    (not available), as in the CSV files. ``sources`` names each input
    (``"sample"``, ``"baseline"``, ``"referrals"``...) with its provenance. ``min_count`` is
    the disclosure threshold, ``None`` when disclosure control was switched off.
    """

    title: str
    plan: Plan
    tables: Mapping[str, pa.Table]
    suppressed: Suppressed = attrs.field(factory=dict)
    sources: Mapping[str, Provenance] = attrs.field(factory=dict)
    min_count: int | None = 5
    reference_date: str | None = None  #: ISO date the audit describes, if known
    notes: tuple[str, ...] = ()  #: notes on how the audit was run (shown under provenance)
    plan_sha256: str | None = None
    mns_version: str = ""

    def table(self, name: str) -> pa.Table | None:
        """The published table ``name``, or ``None`` when the audit did not produce it."""
        return self.tables.get(name)

    def symbol(self, table: str, column: str, row: int) -> str | None:
        """The symbol shown in place of ``table[column][row]``: ``c`` for a withheld cell,
        the column's symbol for another empty cell, ``None`` for a cell with a value."""
        if (row, column) in self.suppressed.get(table, ()):
            return "c"
        data = self.tables.get(table)
        if data is None or column not in data.column_names or data.column(column)[row].is_valid:
            return None
        raw = (data.schema.field(column).metadata or {}).get(_NULL_KEY)
        return raw.decode() if raw else ":"
