"""An example mns adapter: Northwick Council's early-help system nightly export.

Northwick is made up; so is its format, which stands for the many small exports an agency
has. A file (``*.nweh``) is pipe-delimited text::

    #NWEH|2|2024-03-31                                     <- banner: format, version, run date
    REF|DOB|SEX|POSTCODE|NEEDS|SERVICE|OPENED|CLOSED        <- header
    EH-0001|2015-04|F|NW9 1AB|parent_mental_health+low_income|Family support worker|2023-11-02|

Each data line is one early-help case: ``REF`` its identifier, ``DOB`` the month of birth
(``YYYY-MM``), ``SEX`` ``M``/``F``/``U``, ``POSTCODE``, ``NEEDS`` the mns audit-form flags
that apply (``+``-separated codes of the ``mns`` language), and, when ``SERVICE`` is filled
in, the service the case receives with its ``OPENED`` and ``CLOSED`` dates (``YYYY-MM-DD``).

The adapter yields ``cases`` (one row per line) and ``services`` (one row per line with a
service). The run date is the reference date. Problems are logged with their line number:
a line without ``REF`` or with the wrong number of fields is rejected (its service too);
other bad values are blanked.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa

import mns
from mns.records.issues import IssueLog

__all__ = ["ADAPTER", "mns_adapters", "read_northwick", "sniff_northwick"]

__version__ = "0.1.0"

MAGIC = b"#NWEH|"
HEADER = ("REF", "DOB", "SEX", "POSTCODE", "NEEDS", "SERVICE", "OPENED", "CLOSED")
SEXES = ("M", "F", "U")


def sniff_northwick(head: bytes) -> bool:
    """A Northwick export starts with its banner (after an optional UTF-8 byte-order mark)."""
    return head.removeprefix(b"\xef\xbb\xbf").startswith(MAGIC)


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _month(text: str) -> dt.date:
    year, month = text.split("-")
    return dt.date(int(year), int(month), 1)


def _collection_year(run: dt.date) -> int:
    """The collection year a run date falls in (years end on 31 March)."""
    return run.year if run.month <= 3 else run.year + 1


class _File:
    """The parsed columns of one export."""

    def __init__(self) -> None:
        self.cases: dict[str, list[Any]] = {
            "case_id": [],
            "reference_date": [],
            "birth_month": [],
            "sex": [],
            "area": [],
            "agency": [],
            "source_system": [],
        }
        self.needs: list[set[str] | None] = []
        self.services: dict[str, list[Any]] = {
            "case_id": [],
            "service": [],
            "start_date": [],
            "end_date": [],
            "agency": [],
        }


def _read_lines(
    lines: Iterator[tuple[int, str]], run: dt.date, log: IssueLog, needs: frozenset[str], out: _File
) -> None:
    header = next(lines, None)
    if header is None or tuple(header[1].split("|")) != HEADER:
        found = header[1] if header else "nothing"
        log.error(
            f"line 2 must be the header {'|'.join(HEADER)}, found {found!r}",
            line=header[0] if header else 2,
            action="kept",
        )
        if header is None or "|" not in header[1]:
            return
    for number, text in lines:
        if not text.strip():
            continue
        cells = [c.strip() for c in text.split("|")]
        has_service = len(cells) > 5 and bool(cells[5])
        if len(cells) != len(HEADER) or not cells[0]:
            problem = (
                f"the line has {len(cells)} fields, expected {len(HEADER)}"
                if len(cells) != len(HEADER)
                else "REF is empty"
            )
            log.error(problem, line=number, table="cases", field="REF", value=text[:200])
            if has_service:
                log.error(problem, line=number, table="services", field="REF", value=text[:200])
            continue
        ref, dob, sex, postcode, need_text, service, opened, closed = cells
        case = out.cases
        case["case_id"].append(ref)
        case["reference_date"].append(run)
        case["agency"].append("Northwick early help")
        case["source_system"].append("NWEH")
        try:
            case["birth_month"].append(_month(dob) if dob else None)
        except ValueError:
            log.error("DOB is not a month written YYYY-MM", action="blanked", line=number,
                      table="cases", field="DOB", value=dob, record=ref)
            case["birth_month"].append(None)
        if sex and sex not in SEXES:
            log.error(f"SEX must be one of {', '.join(SEXES)}", action="blanked", line=number,
                      table="cases", field="SEX", value=sex, record=ref)
            sex = ""
        case["sex"].append(sex or None)
        case["area"].append(postcode or None)
        flags: set[str] = set()
        for code in filter(None, (c.strip() for c in need_text.split("+"))):
            if code in needs:
                flags.add(code)
            else:
                log.error(f"{code!r} is not a flag of the mns language", action="blanked",
                          line=number, table="cases", field="NEEDS", value=code, record=ref)
        out.needs.append(flags if need_text else None)
        if not has_service:
            continue
        dates: list[dt.date | None] = []
        for name, value in (("OPENED", opened), ("CLOSED", closed)):
            try:
                dates.append(_date(value) if value else None)
            except ValueError:
                log.error(f"{name} is not a date written YYYY-MM-DD", action="blanked",
                          line=number, table="services", field=name, value=value, record=ref)
                dates.append(None)
        start, end = dates
        if start and end and end < start:
            log.error("CLOSED is before OPENED", action="blanked", line=number,
                      table="services", field="CLOSED", value=closed, record=ref)
            end = None
        svc = out.services
        svc["case_id"].append(ref)
        svc["service"].append(service)
        svc["start_date"].append(start)
        svc["end_date"].append(end)
        svc["agency"].append("Northwick early help")


def read_northwick(sources: Sequence[mns.Source], options: Mapping[str, Any]) -> mns.Records:
    """Read one or more Northwick exports into ``cases`` and ``services``."""
    log = IssueLog(adapter="northwick", strict=bool(options.get("strict")))
    language = mns.language("mns")
    needs = frozenset(i.code for i in language.indicators if i.kind.value == "flag")
    out = _File()
    runs: list[dt.date] = []
    for source in sources:
        file_log = log.bind(source=source.name)
        with source.open() as stream:
            text = io.TextIOWrapper(stream, "utf-8-sig", errors="replace")
            lines = ((n, t.rstrip("\r\n")) for n, t in enumerate(text, 1))
            banner = next(lines, (1, ""))[1].split("|")
            if banner[0] != "#NWEH" or len(banner) != 3:
                file_log.error("line 1 is not a Northwick banner (#NWEH|2|YYYY-MM-DD); file skipped",
                               line=1, action="kept", value="|".join(banner)[:200])
                continue
            try:
                run = _date(banner[2])
            except ValueError:
                file_log.error("the banner's run date is not YYYY-MM-DD; file skipped", line=1,
                               action="kept", value=banner[2])
                continue
            runs.append(run)
            _read_lines(lines, run, file_log, needs, out)
    present = sorted({c for flags in out.needs if flags for c in flags})
    cases = pa.table(
        {
            **out.cases,
            **{f"mns.{c}": [None if f is None else c in f for f in out.needs] for c in present},
        }
    )
    if cases.num_rows == 0:
        cases = mns.schema.empty("cases")
    services = pa.table(out.services) if out.services["case_id"] else mns.schema.empty("services")
    run = max(runs) if runs else None
    return mns.Records(
        provenance=mns.Provenance(
            reference_date=run, collection_year=_collection_year(run) if run else None
        ),
        cases=mns.schema.conform(cases, "cases"),
        services=mns.schema.conform(services, "services"),
        issues=log.table(),
    )


ADAPTER = mns.Adapter(
    name="northwick",
    description="Northwick Council early-help system nightly export (pipe-delimited, *.nweh)",
    read=read_northwick,
    suffixes=(".nweh",),
    sniff=sniff_northwick,
    tables=("cases", "services"),
    version=__version__,
)


@mns.hookimpl
def mns_adapters() -> Iterator[mns.Adapter]:
    """mns's hook: the adapters this package provides."""
    yield ADAPTER
