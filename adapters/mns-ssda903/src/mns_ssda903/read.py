"""Reading a 903 return: its CSV set or its XML file, into mns's tables.

Each CSV file is recognised by its columns, never by its name; a table may be split over
several files. The collection year comes from the caller (``year=``) or, failing that, from
the data itself: the year to 31 March that holds the latest episode date (with a warning);
never from a file name or today's date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from mns import privacy
from mns.errors import give
from mns.plugins import Source
from mns.records.bundle import Provenance, Records
from mns.records.issues import IssueLog
from mns_ssda903 import spec
from mns_ssda903.checks import CHILD_NUMBER, check_return
from mns_ssda903.csvread import read_csv
from mns_ssda903.periods import build
from mns_ssda903.raw import RawTable, merge
from mns_ssda903.validate import check_table, parse_dates
from mns_ssda903.xmlread import read_xml, sniff_xml

__all__ = ["ADAPTER", "infer_year", "read_sources"]

ADAPTER = "ssda903"
_ROLES = {
    "CHILD": privacy.IDENTIFIER,
    "UPN": privacy.IDENTIFIER,
    "SW_ID": privacy.IDENTIFIER,
    "DOB": privacy.BIRTH_DATE,
    "MC_DOB": privacy.BIRTH_DATE,
    "HOME_POST": privacy.POSTCODE,
    "PL_POST": privacy.POSTCODE,
}


def infer_year(episodes: RawTable) -> tuple[int | None, dt.date | None]:
    """The collection year holding the latest episode date (start or end), and that date."""
    dates = [parse_dates(pc.utf8_trim_whitespace(episodes.values[c])) for c in ("DECOM", "DEC")]
    latest = pc.max(pa.chunked_array(dates, pa.date32())).as_py()
    if latest is None:
        return None, None
    return (latest.year if latest.month <= 3 else latest.year + 1), latest


def _mark(table: pa.Table) -> pa.Table:
    """The table as published in ``extra``: its columns' privacy roles marked, without the
    checks' child numbers."""
    table = table.drop_columns([CHILD_NUMBER])
    fields = [f.with_metadata(_ROLES[f.name]) if f.name in _ROLES else f for f in table.schema]
    return pa.Table.from_arrays(table.columns, schema=pa.schema(fields))


def _is_xml(source: Source) -> bool:
    head = source.head(1024)
    return source.name.lower().endswith(".xml") or sniff_xml(head) or head.lstrip().startswith(b"<")


_RANK = {"error": 0, "warning": 1, "note": 2}


def _errors_first(issues: pa.Table) -> pa.Table:
    """The issues with errors first, then warnings, then notes; each in file order."""
    if issues.num_rows == 0:
        return issues
    rank = pa.array([_RANK[s] for s in issues.column("severity").to_pylist()], pa.int8())
    keys = pa.table({"rank": rank, "i": pa.array(range(issues.num_rows), pa.int64())})
    return issues.take(pc.sort_indices(keys, sort_keys=[("rank", "ascending"), ("i", "ascending")]))


def read_sources(sources: Sequence[Source], options: Mapping[str, Any]) -> Records:
    """The adapter's ``read``: the files of one 903 return (CSVs or an XML file).

    Options: ``year`` (the collection year; default: inferred from the episodes), ``la``
    (the local authority code, which the return does not state), ``strict``.
    """
    log = IssueLog(adapter=ADAPTER, strict=bool(options.get("strict", False)), roles=_ROLES)
    parts: dict[str, list[RawTable]] = {name: [] for name in spec.TABLES}
    given: set[str] = set()
    for src in sources:
        flog = log.bind(source=src.name)
        if _is_xml(src):
            for name, table in read_xml(src, flog).items():
                parts[name].append(table)
            given.add("UASC")
            continue
        raw = read_csv(src, flog)
        if raw is not None:
            parts[raw.name].append(raw)
            given.add(raw.name)
    raw_tables = {name: merge(tables, name) for name, tables in parts.items()}
    year = options.get("year")
    if year is not None:
        year = int(year)
    else:
        year, latest = infer_year(raw_tables["Episodes"])
        if year is not None:
            log.warning(
                f"no collection year was given: {year} (the year to 31 March {year}) was inferred "
                "from the "
                f"latest episode date, {latest:%d/%m/%Y}; {give('year', '...')} to say",
                field="year",
                source=sources[0].name if sources else "",
                table="cases",
            )
    typed = {name: check_table(raw, year, log) for name, raw in raw_tables.items()}
    check_return(typed, year, log)
    cases, services, outcomes = build(typed, year, log, uasc_given="UASC" in given)
    la = options.get("la")
    if la is not None:
        index = cases.schema.get_field_index("la")
        cases = cases.set_column(
            index,
            cases.schema.field(index),
            pa.repeat(pa.scalar(str(la), pa.string()), cases.num_rows).cast(
                cases.schema.field(index).type
            ),
        )
    return Records(
        provenance=Provenance(
            collection_year=year, reference_date=dt.date(year, 3, 31) if year is not None else None
        ),
        cases=cases,
        services=services,
        outcomes=outcomes,
        issues=_errors_first(log.table()),
        extra={name: _mark(table) for name, table in typed.items()},
    )
