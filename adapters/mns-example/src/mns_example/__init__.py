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


def _date(text: str) -> dt.date | None:
    """A ``YYYY-MM-DD`` date; None if the text is not one."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _month(text: str) -> dt.date | None:
    """The first day of a ``YYYY-MM`` month; None if the text is not one."""
    return _date(f"{text}-01") if len(text) == 7 else None


def _collection_year(run: dt.date) -> int:
    """The collection year a run date falls in (years end on 31 March)."""
    return run.year if run.month <= 3 else run.year + 1


class _File:
    """The parsed columns of the exports read so far."""

    def __init__(self) -> None:
        self.cases: dict[str, list[Any]] = {
            name: [] for name in ("case_id", "reference_date", "birth_month", "sex", "area")
        }
        self.needs: list[set[str] | None] = []
        self.services: dict[str, list[Any]] = {
            name: [] for name in ("case_id", "service", "start_date", "end_date")
        }


def _case(cells: list[str], run: dt.date, log: IssueLog, needs: frozenset[str], out: _File) -> None:
    """Append one line's case; ``log`` is bound to the line (bad values are blanked)."""
    ref, dob, sex, postcode, need_text = cells[:5]
    birth = _month(dob) if dob else None
    if dob and birth is None:
        log.error("DOB is not a month written YYYY-MM", action="blanked", field="DOB", value=dob)
    if sex and sex not in SEXES:
        log.error(
            f"SEX must be one of {', '.join(SEXES)}", action="blanked", field="SEX", value=sex
        )
        sex = ""
    flags: set[str] = set()
    for code in filter(None, (c.strip() for c in need_text.split("+"))):
        if code in needs:
            flags.add(code)
        else:
            message = f"{code!r} is not a flag of the mns language"
            log.error(message, action="blanked", field="NEEDS", value=code)
    for name, value in zip(
        out.cases, (ref, run, birth, sex or None, postcode or None), strict=True
    ):
        out.cases[name].append(value)
    out.needs.append(flags if need_text else None)


def _service(cells: list[str], log: IssueLog, out: _File) -> None:
    """Append one line's service episode (bad dates are blanked)."""
    ref, service, opened, closed = cells[0], cells[5], cells[6], cells[7]
    start, end = _date(opened), _date(closed)
    for name, text, value in (("OPENED", opened, start), ("CLOSED", closed, end)):
        if text and value is None:
            message = f"{name} is not a date written YYYY-MM-DD"
            log.error(message, action="blanked", field=name, value=text)
    if start and end and end < start:
        log.error("CLOSED is before OPENED", action="blanked", field="CLOSED", value=closed)
        end = None
    for name, item in zip(out.services, (ref, service, start, end), strict=True):
        out.services[name].append(item)


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
            continue  # a blank line is not a record
        cells = [c.strip() for c in text.split("|")]
        has_service = len(cells) > 5 and bool(cells[5])
        if len(cells) != len(HEADER) or not cells[0]:
            problem = (
                f"the line has {len(cells)} fields, expected {len(HEADER)}"
                if len(cells) != len(HEADER)
                else "REF is empty"
            )
            # one rejection per record lost: the case, and its service when it had one
            log.error(problem, line=number, table="cases", field="REF", value=text[:200])
            if has_service:
                log.error(problem, line=number, table="services", field="REF", value=text[:200])
            continue
        at_line = log.bind(line=number, record=cells[0])  # where this line's problems are
        _case(cells, run, at_line.bind(table="cases"), needs, out)
        if has_service:
            _service(cells, at_line.bind(table="services"), out)


def read_northwick(sources: Sequence[mns.Source], options: Mapping[str, Any]) -> mns.Records:
    """Read one or more Northwick exports into ``cases`` and ``services``."""
    roles = {"REF": "identifier", "DOB": "birth_date", "POSTCODE": "postcode"}
    log = IssueLog(adapter="northwick", strict=bool(options.get("strict")), roles=roles)
    language = mns.language("mns")
    needs = frozenset(i.code for i in language.indicators if i.kind.value == "flag")
    out = _File()
    runs: list[dt.date] = []
    for source in sources:
        file_log = log.bind(source=source.name)
        with io.TextIOWrapper(source.open(), "utf-8-sig", errors="replace") as text:
            lines = ((n, t.rstrip("\r\n")) for n, t in enumerate(text, 1))
            banner = next(lines, (1, ""))[1].split("|")
            if banner[0] != "#NWEH" or len(banner) != 3:
                file_log.error(
                    "line 1 is not a Northwick banner (#NWEH|2|YYYY-MM-DD); file skipped",
                    line=1,
                    action="kept",
                    value="|".join(banner)[:200],
                )
                continue
            run = _date(banner[2])
            if run is None:
                file_log.error(
                    "the banner's run date is not YYYY-MM-DD; file skipped",
                    line=1,
                    action="kept",
                    value=banner[2],
                )
                continue
            runs.append(run)
            _read_lines(lines, run, file_log, needs, out)
    present = sorted({c for flags in out.needs if flags for c in flags})
    n = len(out.needs)
    cases = pa.table(
        {
            **out.cases,
            "agency": ["Northwick early help"] * n,
            "source_system": ["NWEH"] * n,
            **{f"mns.{c}": [None if f is None else c in f for f in out.needs] for c in present},
        }
    )
    if cases.num_rows == 0:
        cases = mns.schema.empty("cases")
    services = (
        pa.table(
            {**out.services, "agency": ["Northwick early help"] * len(out.services["case_id"])}
        )
        if out.services["case_id"]
        else mns.schema.empty("services")
    )
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
