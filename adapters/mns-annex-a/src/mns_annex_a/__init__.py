"""mns-annex-a: Ofsted's Annex A child-level lists (ILACS, XLSX) for mns.

Reads the eleven lists, each found by its sheet name or its headers, with Ofsted's
"a) Male"-style values normalised to codes, into mns's ``cases`` (early help, referrals,
children in need, child protection, looked after, care leavers) and ``services``, with every
list in ``Records.extra``. A list missing, a column missing or extra: an issue, never fatal.

Through mns: ``mns.read("annex_a.xlsx")`` (this adapter is named ``annex-a``). Directly::

    import mns_annex_a
    records = mns_annex_a.read("annex_a.xlsx")
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mns.io import read as mns_read
from mns.plugins import LIMITS_OPTION, Adapter, Source, hookimpl, limits_from
from mns.records.bundle import Provenance, Records
from mns.records.issues import IssueLog
from mns_annex_a.read import ROLES, read_workbook
from mns_annex_a.spec import LISTS
from mns_annex_a.tables import build

__all__ = ["ADAPTER", "LISTS", "adapter", "mns_adapters", "read", "read_sources", "sniff"]

__version__ = "0.1.0"
ADAPTER = "annex-a"


_LISTS = re.compile(rb"List\s*1\b.*List\s*2\b", re.DOTALL)


def sniff(head: bytes) -> bool:
    """Whether a file's first bytes are an XLSX workbook with Annex A's sheets (``List 1``,
    ``List 2``...): the workbook part (or the document properties) is inflated from the
    head when it is there. A workbook whose sheet names lie further in is not claimed (its
    ``.xlsx`` suffix, or ``adapter="annex-a"``, chooses this adapter)."""
    pos = 0
    while head[pos : pos + 4] == b"PK\x03\x04" and pos + 30 <= len(head):
        method = struct.unpack_from("<H", head, pos + 8)[0]
        size, _, name_len, extra_len = struct.unpack_from("<IIHH", head, pos + 18)
        start = pos + 30 + name_len + extra_len
        name = head[pos + 30 : pos + 30 + name_len]
        data = head[start : start + size] if size else head[start:]
        if name in (b"xl/workbook.xml", b"docProps/app.xml"):
            try:
                text = zlib.decompressobj(-15).decompress(data) if method == 8 else data
            except zlib.error:
                return False
            if _LISTS.search(text):
                return True
        if size == 0:
            return False  # the size is after the data: the next part cannot be found
        pos = start + size
    return False


def read_sources(sources: Sequence[Source], options: Mapping[str, Any]) -> Records:
    """The adapter's ``read``: one or more Annex A workbooks."""
    log = IssueLog(adapter=ADAPTER, strict=bool(options.get("strict", False)), roles=ROLES)
    merged: dict[str, list[Any]] = {spec.name: [] for spec in LISTS.values()}
    limits = limits_from(options)
    for src in sources:
        for name, table in read_workbook(src, log.bind(source=src.name), limits).items():
            merged[name].append(table)
    import pyarrow as pa

    lists = {name: pa.concat_tables(parts) for name, parts in merged.items()}
    cases, services = build(lists)
    return Records(
        provenance=Provenance(),
        cases=cases,
        services=services,
        issues=log.table(),
        extra=lists,
    )


def adapter() -> Adapter:
    """The ``annex-a`` adapter record."""
    return Adapter(
        name=ADAPTER,
        description="Ofsted Annex A child-level lists, ILACS (XLSX, eleven lists)",
        suffixes=(".xlsx",),
        sniff=sniff,
        read=read_sources,
        tables=("cases", "services"),
        options=(LIMITS_OPTION,),
        version=__version__,
    )


@hookimpl
def mns_adapters() -> Iterable[Adapter]:
    """The adapters this distribution provides."""
    yield adapter()


def read(source: Any, **options: Any) -> Records:
    """``mns.read(source, adapter=...)`` with this adapter."""
    return mns_read(source, adapter=adapter(), **options)
