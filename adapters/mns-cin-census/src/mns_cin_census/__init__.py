"""mns-cin-census: the DfE Children in Need census (England, XML) for mns.

Reads every shape of the census from 2016-17 to 2025-26 with a hardened streaming parser
(one ``Child`` at a time; no DTD, no entity expansion, no network), checks it a batch at a
time against the year's code sets and structure, and gives mns's ``cases`` (one per episode
of need) and ``services``, plus the relational tables of the DfE validator's split. Writes
canonical tables back out as census XML.

Through mns: ``mns.read("census.xml")`` (this adapter is named ``cin-census``). Directly::

    import mns_cin_census
    records = mns_cin_census.read("census.xml")            # mns.read with this adapter
    mns_cin_census.to_parquet("census.xml", "out/")        # flat memory, any size
    mns_cin_census.write(records.cases, records.services, "copy.xml", year=2024)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from mns.io import read as mns_read
from mns.plugins import Adapter, Option, hookimpl, text_head
from mns.records.bundle import Records
from mns_cin_census.read import RELATIONAL, Part, batches, read_sources, to_parquet
from mns_cin_census.write import Written, write, write_parts, xsd_errors

__all__ = [
    "ADAPTER",
    "RELATIONAL",
    "Part",
    "Written",
    "adapter",
    "batches",
    "mns_adapters",
    "read",
    "sniff",
    "to_parquet",
    "write",
    "write_parts",
    "xsd_errors",
]

__version__ = "0.1.0"
ADAPTER = "cin-census"


def sniff(head: bytes) -> bool:
    """Whether a file's first bytes look like a CIN census file (a ``<Message>`` with CIN
    content; ``<Message>`` alone is too common)."""
    text = text_head(head)  # UTF-16 and Windows-1252 files too
    if "<Message" not in text:
        return False
    return any(mark in text for mark in (">CIN<", "<CINdetails", "<LAchildID", "<ChildIdentifiers"))


def adapter() -> Adapter:
    """The ``cin-census`` adapter record."""
    return Adapter(
        name=ADAPTER,
        description="DfE Children in Need census, England (XML, 2016-17 to 2025-26)",
        suffixes=(".xml",),
        sniff=sniff,
        read=read_sources,
        tables=("cases", "services"),
        options=(
            Option(
                name="year",
                description="collection year (2024 = 2023-24); default: the file's header",
                type=int,
            ),
            Option(
                name="reference_date",
                description=(
                    "census reference date (YYYY-MM-DD); default: the file's header, else 31 March"
                ),
                type=dt.date,
            ),
            Option(
                name="relational",
                description="also give the DfE validator's relational tables in Records.extra",
                default=True,
            ),
        ),
        version=__version__,
    )


@hookimpl
def mns_adapters() -> Iterable[Adapter]:
    """The adapters this distribution provides."""
    yield adapter()


def read(
    source: Any,
    *,
    year: int | None = None,
    reference_date: dt.date | str | None = None,
    relational: bool = True,
    **options: Any,
) -> Records:
    """``mns.read(source, adapter=...)`` with this adapter: one or more CIN census files.

    Other keyword options are ``mns.read``'s (``strict``, ``pseudonymise``, ``postcode``,
    ``batch_size``).
    """
    return mns_read(
        source,
        adapter=adapter(),
        year=year,
        reference_date=reference_date,
        relational=relational,
        **options,
    )
