"""Statistical disclosure control for published tables: small-count suppression that the
table's own margins cannot undo.

``disclose(table)`` returns a :class:`Disclosed`: the table with every unsafe cell set to null
and a record of what was suppressed and why. It applies

1. **primary suppression**: every count from 1 to ``min_count - 1`` (zeros are published),
   including the implicit counts a table gives away (a group's size minus the cases with a
   flag; a row total computed from published cells);
2. **secondary suppression**: more cells, chosen smallest first, until no suppressed cell can
   be worked out from the published cells and the row, column and grand totals (each
   suppressed count lies on a cycle of suppressed counts in its table, so it can move up and
   down by at least one without changing any published number);
3. **derived suppression**: every share, rate or interval computed from a suppressed count;
4. optional **rounding** of the published counts to a multiple of ``rounding``.

How a table's counts add up is declared in its schema metadata by the analysis that made it
(:class:`Structure`, :func:`describe`), or given to :func:`disclose` for other tables.
:func:`to_csv` writes the official statistics' symbols: ``c`` suppressed, ``z`` not
applicable, ``:`` not available. See ``docs/explanation/disclosure-control.md``.
"""

from mns.disclosure.output import csv_text, to_csv
from mns.disclosure.publication import (
    AUDIENCES,
    INTERNAL_NOTE,
    Publication,
    publication,
    publications,
)
from mns.disclosure.structure import (
    BASELINE,
    NOT_APPLICABLE,
    NOT_AVAILABLE,
    NULL_KEY,
    SAMPLE,
    SAMPLE_TOTAL,
    STRUCTURE_KEY,
    SUPPRESSED,
    YEAR,
    Block,
    Margin,
    Structure,
    describe,
    structure_of,
)
from mns.disclosure.suppress import (
    DISCLOSED_KEY,
    WITHHELD_COLUMNS,
    Disclosed,
    DisclosedSet,
    disclose,
    disclose_all,
    is_shared,
)

__all__ = [
    "AUDIENCES",
    "BASELINE",
    "DISCLOSED_KEY",
    "INTERNAL_NOTE",
    "NOT_APPLICABLE",
    "NOT_AVAILABLE",
    "NULL_KEY",
    "SAMPLE",
    "SAMPLE_TOTAL",
    "STRUCTURE_KEY",
    "SUPPRESSED",
    "WITHHELD_COLUMNS",
    "YEAR",
    "Block",
    "Disclosed",
    "DisclosedSet",
    "Margin",
    "Publication",
    "Structure",
    "csv_text",
    "describe",
    "disclose",
    "disclose_all",
    "is_shared",
    "publication",
    "publications",
    "structure_of",
    "to_csv",
]
