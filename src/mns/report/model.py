"""What the report is made from: the published (disclosure-controlled) tables of an audit,
the plan, and where the records came from.

The report never sees an undisclosed number when disclosure control is on: it is a pure
function of :class:`ReportInput`, so the report that ``mns audit`` writes and the one
``mns report`` rebuilds from the output folder are the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs
import pyarrow as pa

from mns.plan.model import Plan
from mns.records.bundle import Provenance

__all__ = ["ReportInput", "Symbols"]

#: Per table, per column: the symbol each row's cell shows instead of its value
#: (``"c"`` suppressed, ``"z"`` not applicable, ``":"`` not available) or ``None``.
Symbols = Mapping[str, Mapping[str, Sequence["str | None"]]]


@attrs.frozen(kw_only=True)
class ReportInput:
    """Everything one report shows.

    ``tables`` are the published tables by name (see :mod:`mns.audit` for the names and
    their columns); ``symbols`` marks their suppressed cells. ``sources`` names each input
    (``"sample"``, ``"baseline"``, ``"referrals"``...) with its provenance. ``min_count`` is
    the disclosure threshold, ``None`` when disclosure control was switched off.
    """

    title: str
    plan: Plan
    tables: Mapping[str, pa.Table]
    symbols: Symbols = attrs.field(factory=dict)
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
        """The symbol shown in place of ``table[column][row]``, if any."""
        marks = self.symbols.get(table, {}).get(column)
        if marks is None or row >= len(marks):
            return None
        return marks[row]
