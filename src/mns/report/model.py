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

from mns.disclosure import AUDIENCES, INTERNAL_NOTE, WITHHELD_COLUMNS
from mns.participation import Participation
from mns.plan.model import Plan
from mns.records.bundle import Provenance

__all__ = ["AUDIENCES", "INTERNAL_BANNER", "WITHHELD_COLUMNS", "ReportInput", "Suppressed"]

#: Per table, the cells withheld by disclosure control, as (row, column) pairs.
Suppressed = Mapping[str, AbstractSet[tuple[int, str]]]

#: The banner every page of an internal report carries.
INTERNAL_BANNER = f"{INTERNAL_NOTE[0].upper()}{INTERNAL_NOTE[1:]}"

_NULL_KEY = b"mns.null"  # the field metadata naming the symbol of a column's nulls


def _check_withheld(instance: object, attribute: object, value: pa.Table | None) -> None:
    if value is None:
        return
    missing = [c for c in WITHHELD_COLUMNS if c not in value.column_names]
    if missing:
        raise ValueError(
            f"ReportInput.withheld: missing column(s) {', '.join(missing)}; it needs "
            f"{', '.join(WITHHELD_COLUMNS)} (one row per published table)"
        )


@attrs.frozen(kw_only=True)
class ReportInput:
    """Everything one report shows.

    ``tables`` are the published tables by name (see :mod:`mns.audit` for the names and
    their columns); ``suppressed`` lists their withheld cells (shown as ``c``). Other empty
    cells show the symbol their column's metadata gives (``z`` not applicable), else ``:``
    (not available), as in the CSV files. ``sources`` names each input
    (``"sample"``, ``"baseline"``, ``"referrals"``...) with its provenance. ``min_count`` is
    the disclosure threshold, ``None`` when disclosure control was switched off.
    ``audience``, ``groups`` and ``withheld`` say who the report is for, which grouping the
    tables use and what disclosure control withheld from each table.
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
    #: ``"public"`` (disclosure-controlled) or ``"internal"`` (the planning group's working
    #: copy: small numbers shown, every page marked as not for publication)
    audience: str = attrs.field(default="public", validator=attrs.validators.in_(AUDIENCES))
    #: the words naming the grouping the tables use, e.g. "the professional panel's consensus"
    #: or "the plan's rules" (named in the introduction and in the charts of need groups)
    groups: str | None = None
    #: per published table, what disclosure control withheld (see :data:`WITHHELD_COLUMNS`)
    withheld: pa.Table | None = attrs.field(default=None, validator=_check_withheld)
    #: whether the annual figures take the audited cases to be all of the year's (a census);
    #: ``None`` when the audit did not say
    census: bool | None = None
    #: who took part in the audit's groups (``participation.toml``), when recorded
    participation: Participation | None = None

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
