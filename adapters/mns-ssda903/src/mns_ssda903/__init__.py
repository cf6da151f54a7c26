"""mns-ssda903: the DfE SSDA903 return on children looked after (England) for mns.

Reads the CSV set (Header, Episodes, Reviews, UASC, OC2, OC3, AD1, PlacedAdoption,
PrevPerm, Missing, SWEpisodes, DoLo; each recognised by its columns) or the XML form into
mns's ``cases`` (periods of care), ``services`` (placements) and ``outcomes`` (OC2, OC3),
with every table of the return in ``Records.extra``; writes canonical tables back out as
a CSV set.

Through mns: ``mns.read("return_folder/")`` (this adapter is named ``ssda903``). Directly::

    import mns_ssda903
    records = mns_ssda903.read("return_folder/", year=2024)
    mns_ssda903.write(records.cases, records.services, "copy/", year=2024)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mns.io import read as mns_read
from mns.plugins import Adapter, Option, hookimpl
from mns.records.bundle import Records
from mns_ssda903.csvread import sniff_csv
from mns_ssda903.read import read_sources
from mns_ssda903.write import Written, write
from mns_ssda903.xmlread import sniff_xml

__all__ = ["ADAPTER", "Written", "adapter", "mns_adapters", "read", "sniff", "write"]

__version__ = "0.1.0"
ADAPTER = "ssda903"


def sniff(head: bytes) -> bool:
    """Whether a file's first bytes look like a 903 file: a CSV whose header row has the
    columns of a 903 table, or the XML form."""
    return sniff_xml(head) or sniff_csv(head)


def adapter() -> Adapter:
    """The ``ssda903`` adapter record."""
    return Adapter(
        name=ADAPTER,
        description="DfE SSDA903 children looked after return, England (CSV set or XML)",
        suffixes=(".csv", ".xml"),
        sniff=sniff,
        read=read_sources,
        tables=("cases", "services", "outcomes"),
        options=(
            Option(
                name="year",
                description="collection year (2024 = 2023-24); default: from the episodes",
                type=int,
            ),
            Option(
                name="la", description="the local authority's code (the return does not state it)"
            ),
        ),
        version=__version__,
    )


@hookimpl
def mns_adapters() -> Iterable[Adapter]:
    """The adapters this distribution provides."""
    yield adapter()


def read(source: Any, *, year: int | None = None, la: str | None = None, **options: Any) -> Records:
    """``mns.read(source, adapter=...)`` with this adapter (a folder, files, or one file).

    Other keyword options are ``mns.read``'s (``strict``, ``pseudonymise``, ``postcode``).
    """
    return mns_read(source, adapter=adapter(), year=year, la=la, **options)
