"""Reading filled audit-form workbooks back: the built-in ``audit-form`` adapter.

Several workbooks (one per auditor or audit group) are read together into ``cases``,
``assignments`` (audit name, audit group and auditor from each workbook's cover sheet),
``services`` and ``issues``. Every entry that is not valid, and every required cell left
blank, is reported in ``issues`` with its sheet and cell (``Sample!F12``); nothing is dropped
silently:

- a case audited more than once (in one workbook or several) keeps one assignment per
  audit and is reported;
- ``cases`` has one row per case. When a case is in several workbooks, its row comes from
  the first by audit group (professional, then mixed, then shadow), then by the order the
  workbooks were given, then by row; each other row is reported with the fields whose answers
  differ, and every row read, from every workbook, is in ``Records.extra["form_rows"]`` with
  its audit group, so no answer is lost (and two groups' answers can be compared).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import struct
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa
from openpyxl.utils import get_column_letter

from mns._version import __version__
from mns.errors import AdapterError, MnsError
from mns.forms._layout import (
    COVER,
    FIRST_ROW,
    FLAG_WORDS,
    FORM_VERSION,
    MARKER,
    META,
    SAMPLE,
    Field,
    FieldKind,
    Meta,
    arrow_type,
    parse_meta,
)
from mns.forms.workbook import FORM_ROLES
from mns.plugins.adapter import Adapter, Source
from mns.plugins.workbook import (
    DEFAULT_LIMITS,
    LIMITS_OPTION,
    Limits,
    WorkbookError,
    WorkbookShape,
    check_workbook,
    limits_from,
    open_workbook,
    report_uncached,
    sheet_rows,
)
from mns.records import schema
from mns.records.bundle import Provenance, Records, SourceFile
from mns.records.issues import Action, IssueLog, Severity

__all__ = ["ADAPTER_NAME", "ROWS_TABLE", "form_adapter", "read_workbooks", "sniff"]

ADAPTER_NAME = "audit-form"
#: ``Records.extra`` table with every case row read, from every workbook: ``case_id``, the
#: ``source`` file and ``row``, the cover's ``audit``, ``role`` and ``auditor``, then the same
#: columns as ``cases``. Sorted by case, then as ``cases`` chooses among repeats.
ROWS_TABLE = "form_rows"
_ROLE_ORDER = {"professional": 0, "mixed": 1, "shadow": 2}
_AGE = (0, 120)


class _Issues:
    """The read's :class:`~mns.records.issues.IssueLog`, with the source given first."""

    def __init__(self, *, strict: bool = False) -> None:
        self.log = IssueLog(adapter=ADAPTER_NAME, strict=strict)

    def add(
        self,
        source: str,
        message: str,
        *,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
        table: str | None = None,
        record: str | None = None,
        field: str | None = None,
        value: str | None = None,
        severity: Severity = "error",
        action: Action = "blanked",
    ) -> None:
        self.log.add(
            severity,
            action,
            message,
            source=source,
            sheet=sheet,
            row=row,
            column=column,
            table=table,
            record=record,
            field=field,
            value=value,
        )

    def table(self) -> pa.Table:
        return self.log.table()


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        if value.time() == dt.time():
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _raw(value: object) -> str | None:
    return None if value is None else (_text(value) if not isinstance(value, str) else value)


class _InvalidError(Exception):
    """A cell's value is not allowed; the message says what is."""


def _whole(value: object) -> int:
    if isinstance(value, bool):
        raise _InvalidError("is yes/no, not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = _text(value)
    if text.lstrip("-").isdigit():
        return int(text)
    raise _InvalidError("is not a whole number")


def _match(field: Field, value: object) -> str:
    text = _text(value)
    for code, _ in field.values:
        if text == code:
            return code
    for code, display in field.values:
        if text == display:
            return code
    folded = text.casefold()
    for code, display in field.values:
        if folded in (display.casefold(), code.casefold()):
            return code
    shown = ", ".join(display for _, display in field.values[:8])
    more = ", ..." if len(field.values) > 8 else ""
    raise _InvalidError(f"is not one of the allowed values ({shown}{more})")


def _parse(field: Field, value: object) -> Any:
    """The value of a non-blank cell, or :class:`_InvalidError`."""
    kind = field.kind
    if kind == FieldKind.FLAG:
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float) and value in (0, 1):
            return bool(value)
        word = FLAG_WORDS.get(_text(value).casefold())
        if word is None:
            raise _InvalidError("is not yes or no")
        return word
    if kind == FieldKind.RATING:
        try:
            rating = _whole(value)
        except _InvalidError:
            raise _InvalidError("is not a 0-3 rating; choose 0, 1, 2 or 3") from None
        if not 0 <= rating <= 3:
            raise _InvalidError("is not a 0-3 rating; choose 0, 1, 2 or 3")
        return rating
    if kind == FieldKind.CATEGORY:
        return _match(field, value)
    if kind == FieldKind.INT:
        number = _whole(value)
        if field.key == "age" and not _AGE[0] <= number <= _AGE[1]:
            raise _InvalidError(f"is not an age from {_AGE[0]} to {_AGE[1]}")
        if not -(2**31) <= number < 2**31:
            raise _InvalidError("is out of range")
        return number
    if kind == FieldKind.FLOAT:
        if isinstance(value, bool):
            raise _InvalidError("is yes/no, not a number")
        if isinstance(value, int | float):
            return float(value)
        try:
            return float(_text(value))
        except ValueError:
            raise _InvalidError("is not a number") from None
    if kind == FieldKind.DATE:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(_text(value))
        except ValueError:
            raise _InvalidError("is not a date (write it as a date, or as 2024-03-31)") from None
    if kind == FieldKind.TEXT and field.key != "notes":
        return _text(value)
    if kind == FieldKind.SERVICES:
        codes: list[str] = []
        for part in _text(value).replace("\n", ";").split(";"):
            code = part.strip()
            if code and code not in codes:
                codes.append(code)
        return codes
    return value if isinstance(value, str) else _text(value)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@attrs.frozen(kw_only=True)
class _Row:
    """One case row as read, with where it came from."""

    source: str
    order: tuple[int, int, int]  # audit-group priority, workbook, row
    row: int
    case_id: str
    values: dict[str, Any]  # field key -> value (cases fields only)
    cells: dict[str, str]  # field key -> cell reference
    assignment: dict[str, Any] | None
    audit: str
    role: str | None
    auditor: str | None


@attrs.frozen(kw_only=True)
class _Cover:
    audit: str
    role: str | None
    reference_date: dt.date | None
    auditor: str | None


@attrs.frozen
class _Book:
    """An open workbook and what its check found (its sheets' used ranges)."""

    workbook: Any
    shape: WorkbookShape
    data: bytes

    def rows(self, sheet: str, first: int = 1) -> Iterator[Sequence[object]]:
        """The rows of ``sheet`` from ``first`` to the end of its used range."""
        return (
            cells for _, cells in sheet_rows(self.workbook, self.shape.sheet(sheet), first=first)
        )


def _open(source: Source, limits: Limits) -> _Book:
    with source.open() as f:
        data = f.read()
    try:
        shape = check_workbook(data, name=source.name, limits=limits)
        wb = open_workbook(data, name=source.name)
    except WorkbookError as exc:
        raise AdapterError(
            f"{exc.message}; the audit-form adapter reads workbooks made by "
            "mns.forms.write_workbook or `mns form`",
            adapter=ADAPTER_NAME,
            file=source.name,
        ) from None
    if META not in shape.names or SAMPLE not in shape.names:
        wb.close()
        raise AdapterError(
            f"{source.name}: not an mns audit form (it has no {META!r} or {SAMPLE!r} sheet); read "
            "it with its own adapter, or make audit forms with mns.forms.write_workbook",
            adapter=ADAPTER_NAME,
            file=source.name,
        )
    return _Book(workbook=wb, shape=shape, data=data)


def _meta(book: _Book, source: str) -> Meta:
    try:
        return parse_meta(book.rows(META))
    except ValueError as exc:
        raise AdapterError(
            f"{source}: the hidden {META!r} sheet is damaged ({exc}); generate the form again",
            adapter=ADAPTER_NAME,
            file=source,
        ) from None


def _cell(ws: Any, ref: str) -> object:
    letters = "".join(c for c in ref if c.isalpha())
    number = int("".join(c for c in ref if c.isdigit()))
    column = 0
    for c in letters.upper():
        column = column * 26 + ord(c) - 64
    for row in ws.iter_rows(
        min_row=number, max_row=number, min_col=column, max_col=column, values_only=True
    ):
        return row[0]
    return None


def _where(sheet: str, ref: str) -> dict[str, Any]:
    """The ``sheet``, ``row`` and ``column`` of an issue at cell ``ref`` (``"F12"``)."""
    digits = "".join(c for c in ref if c.isdigit())
    return {
        "sheet": sheet,
        "row": int(digits) if digits else None,
        "column": "".join(c for c in ref if c.isalpha()) or None,
    }


def _cover(wb: Any, meta: Meta, source: str, issues: _Issues) -> _Cover:
    ws = wb[COVER] if COVER in wb.sheetnames else None
    if ws is None:
        issues.add(source, f"{source}: the {COVER!r} sheet is missing", sheet=COVER)
    values = {key: _cell(ws, ref) if ws is not None else None for key, ref in meta.cover.items()}
    refs = {key: meta.cover.get(key, "") for key in ("audit", "role", "reference_date")}

    audit = _text(values.get("audit"))
    if not audit:
        audit = meta.settings.get("audit", "") or "audit"
        issues.add(
            source,
            f"{COVER}!{refs['audit']}: the audit name is blank; used {audit!r}, the name the "
            "form was made with",
            field="audit",
            severity="warning",
            action="kept",
            **_where(COVER, refs["audit"]),
        )
    raw_role = values.get("role")
    role: str | None = _text(raw_role).casefold()
    if role not in FORM_ROLES:
        issues.add(
            source,
            f"{COVER}!{refs['role']}: audit group {_text(raw_role)!r} is not one of "
            f"{', '.join(FORM_ROLES)}; this workbook's need-group assignments are not read "
            "(each is reported)",
            table="assignments",
            field="role",
            value=_raw(raw_role),
            action="blanked",
            **_where(COVER, refs["role"]),
        )
        role = None
    reference: dt.date | None = None
    raw_date = values.get("reference_date")
    if not _blank(raw_date):
        try:
            reference = _parse(_DATE_FIELD, raw_date)
        except _InvalidError as exc:
            issues.add(
                source,
                f"{COVER}!{refs['reference_date']}: reference date {_raw(raw_date)!r} {exc}",
                field="reference_date",
                value=_raw(raw_date),
                **_where(COVER, refs["reference_date"]),
            )
    auditor = _text(values.get("auditor")) or None
    return _Cover(audit=audit, role=role, reference_date=reference, auditor=auditor)


_DATE_FIELD = Field(
    key="reference_date", label="Reference date", kind=FieldKind.DATE, table="cases"
)


@attrs.define
class _SampleReader:
    """Reads the Sample sheet of one workbook."""

    source: str
    index: int
    meta: Meta
    cover: _Cover
    issues: _Issues
    columns: dict[str, int] = attrs.field(factory=dict)  # field key -> 0-based column
    strays: dict[int, str] = attrs.field(factory=dict)  # columns not in the form -> row-2 text
    rows: list[_Row] = attrs.field(factory=list)
    services: list[tuple[str, str, int]] = attrs.field(factory=list)
    formulas: frozenset[int] = frozenset()  # rows with formulas that have no saved result

    def issue(self, letter: str, row: int, message: str, **fields: Any) -> None:
        where = f"{SAMPLE}!{letter}{row}" if row else SAMPLE
        self.issues.add(
            self.source,
            f"{where}: {message}",
            sheet=SAMPLE,
            row=row or None,
            column=letter or None,
            **fields,
        )

    def header(self, keys: Sequence[object]) -> None:
        known = {f.key for f in self.meta.fields}
        for number, raw in enumerate(keys):
            key, letter = _text(raw), get_column_letter(number + 1)
            if key in known and key not in self.columns:
                self.columns[key] = number
                continue
            self.strays[number] = key
            if key in known:
                first = get_column_letter(self.columns[key] + 1)
                self.issue(
                    letter,
                    2,
                    f"field {key!r} has a second column; only the first ({first}) is read",
                    field=key,
                    severity="warning",
                    action="blanked",
                )
        for f in self.meta.fields:
            if f.key not in self.columns:
                self.issue(
                    "",
                    0,
                    f"the column for {f.label} ({f.key!r}) is missing from row 2",
                    field=f.key,
                    severity="error" if f.required else "warning",
                    action="kept",
                )

    def read(self, rows: Iterable[Sequence[object]]) -> None:
        id_column = self.columns.get("case_id")
        for number, cells in enumerate(rows, start=FIRST_ROW):
            if all(_blank(v) for v in cells) and number not in self.formulas:
                continue
            raw_id = cells[id_column] if id_column is not None and id_column < len(cells) else None
            if _blank(raw_id):
                self.without_id(number, cells)
            else:
                self.case_row(number, _text(raw_id), cells)

    def without_id(self, number: int, cells: Sequence[object]) -> None:
        id_column = self.columns.get("case_id", 0)
        id_ref = f"{SAMPLE}!{get_column_letter(id_column + 1)}{number}"
        keys = {position: key for key, position in self.columns.items()} | self.strays
        if all(_blank(v) for v in cells):  # only formulas with no saved result
            self.issue(
                get_column_letter(id_column + 1),
                number,
                f"row {number} holds only formulas with no saved result, so it has no case "
                "ID and is not read",
                table="cases",
                field="case_id",
                action="rejected",
            )
        for position, value in enumerate(cells):
            if _blank(value):
                continue
            key = keys.get(position) or None
            self.issue(
                get_column_letter(position + 1),
                number,
                f"row {number} has no case ID ({id_ref}), so its {key or 'value'} "
                f"{_raw(value)!r} is not read",
                table="cases",
                field=key,
                value=_raw(value),
                action="rejected",
            )
        self.issue(
            get_column_letter(id_column + 1),
            number,
            f"row {number} has no case ID, so its need-group assignment is not read",
            table="assignments",
            field="case_id",
            action="rejected",
        )

    def case_row(self, number: int, case_id: str, cells: Sequence[object]) -> None:
        id_letter = get_column_letter(self.columns["case_id"] + 1)
        values: dict[str, Any] = {"case_id": case_id}
        refs = {"case_id": f"{SAMPLE}!{id_letter}{number}"}
        assignment: dict[str, Any] = {}
        for f in self.meta.fields:
            if f.key == "case_id" or f.key not in self.columns:
                continue
            position = self.columns[f.key]
            letter = get_column_letter(position + 1)
            parsed = self.value(
                f, letter, number, case_id, cells[position] if position < len(cells) else None
            )
            if f.table == "cases":
                values[f.key] = parsed
                refs[f.key] = f"{SAMPLE}!{letter}{number}"
            elif f.table == "assignments":
                assignment[f.key] = parsed
            elif parsed:
                self.received(f, letter, number, case_id, parsed)
        for position, key in self.strays.items():
            value = cells[position] if position < len(cells) else None
            if not _blank(value):
                letter = get_column_letter(position + 1)
                self.issue(
                    letter,
                    number,
                    f"column {letter} ({key or 'no field key in row 2'}) "
                    f"is not part of the form, so {_raw(value)!r} is not read for case "
                    f"{case_id!r}",
                    record=case_id,
                    field=key or None,
                    value=_raw(value),
                    severity="warning",
                    action="blanked",
                )
        self.rows.append(
            _Row(
                source=self.source,
                order=(_ROLE_ORDER.get(self.cover.role or "", 3), self.index, number),
                row=number,
                case_id=case_id,
                values=values,
                cells=refs,
                assignment=self.assignment(number, case_id, assignment),
                audit=self.cover.audit,
                role=self.cover.role,
                auditor=self.cover.auditor,
            )
        )

    def value(self, f: Field, letter: str, number: int, case_id: str, raw: object) -> Any:
        if _blank(raw):
            if f.required:
                self.issue(
                    letter,
                    number,
                    f"{f.label} ({f.key}) is required but blank for case {case_id!r}",
                    table=f.table,
                    record=case_id,
                    field=f.key,
                    action="kept",
                )
            return None
        try:
            return _parse(f, raw)
        except _InvalidError as exc:
            self.issue(
                letter,
                number,
                f"{f.label} ({f.key}) {_raw(raw)!r} {exc}; left blank for case {case_id!r}",
                table=f.table,
                record=case_id,
                field=f.key,
                value=_raw(raw),
            )
            return None

    def received(self, f: Field, letter: str, number: int, case_id: str, codes: list[str]) -> None:
        known = {code for code, _ in f.values}
        for code in codes:
            if known and code not in known:
                self.issue(
                    letter,
                    number,
                    f"service {code!r} is not one of the plan's services "
                    f"({', '.join(sorted(known))}); kept as written for case {case_id!r}",
                    table="services",
                    record=case_id,
                    field=f.key,
                    value=code,
                    severity="warning",
                    action="kept",
                )
            self.services.append((case_id, code, number))

    def assignment(
        self, number: int, case_id: str, found: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        if self.cover.role is not None:
            return {
                "case_id": case_id,
                "audit": self.cover.audit,
                "role": self.cover.role,
                "need_group": found.get("need_group"),
                "auditor": self.cover.auditor,
                "consensus": found.get("consensus"),
                "notes": found.get("notes"),
            }
        group = found.get("need_group")
        column = self.columns.get("need_group")
        self.issue(
            get_column_letter(column + 1) if column is not None else "",
            number,
            f"the need-group assignment of case {case_id!r} (need group {group!r}) is not read "
            "because the cover sheet has no valid audit group",
            table="assignments",
            record=case_id,
            field="need_group",
            value=None if group is None else str(group),
            action="rejected",
        )
        return None


def _read_one(book: _Book, meta: Meta, source: str, index: int, issues: _Issues) -> _SampleReader:
    """Read one workbook's cover and Sample sheets."""
    for sheet in (COVER, SAMPLE):
        if sheet in book.shape.names:
            report_uncached(issues.log.bind(source=source), book.shape.sheet(sheet))
    cover = _cover(book.workbook, meta, source, issues)
    reader = _SampleReader(
        source=source,
        index=index,
        meta=meta,
        cover=cover,
        issues=issues,
        formulas=book.shape.sheet(SAMPLE).uncached_rows,
    )
    rows = book.rows(SAMPLE)
    next(rows, None)  # row 1: labels for people
    reader.header(next(rows, ()))
    if "case_id" not in reader.columns:
        return reader
    reader.read(rows)
    return reader


def _as_sources(sources: Iterable[Source | str | Path]) -> list[Source]:
    return [s if isinstance(s, Source) else Source.from_path(s) for s in sources]


def _columns(rows: Sequence[_Row], fields: Mapping[str, Field]) -> dict[str, pa.Array]:
    """The ``cases`` columns of ``rows``, typed, indicators before stratum and weight."""
    keys = [k for k in fields if fields[k].table == "cases"]
    tail: list[str] = [k for k in ("stratum", "sample_weight") if k in keys]
    keys = [k for k in keys if k not in tail] + tail
    arrays = {
        key: pa.array([r.values.get(key) for r in rows], arrow_type(fields[key])) for key in keys
    }
    if "case_id" not in arrays:
        arrays["case_id"] = pa.array([r.case_id for r in rows], pa.string())
    return arrays


def _cases_table(
    rows: Sequence[_Row], fields: Mapping[str, Field], issues: _Issues
) -> tuple[pa.Table, pa.Table]:
    """``cases`` (one row per case) and every row read (:data:`ROWS_TABLE`)."""
    kept: dict[str, _Row] = {}
    for row in sorted(rows, key=lambda r: r.order):
        first = kept.get(row.case_id)
        if first is None:
            kept[row.case_id] = row
            continue
        differ = [
            key
            for key, value in row.values.items()
            if value is not None and value != first.values.get(key)
        ]
        shown = ", ".join(differ[:6]) + (", ..." if len(differ) > 6 else "")
        answers = (
            f"{len(differ)} answer(s) here differ from it ({shown}); "
            if differ
            else "the answers here agree with it; "
        )
        issues.add(
            row.source,
            f"{row.cells['case_id']}: case {row.case_id!r} is audited more than once (also "
            f"{first.source} {first.cells['case_id']}). Each need-group assignment is kept; the "
            f"cases table keeps the other row (professional, then mixed, then shadow audits, then "
            f"the order the workbooks were given); {answers}every row read is in "
            f"Records.extra[{ROWS_TABLE!r}]",
            sheet=SAMPLE,
            row=row.row,
            column=_letters(row.cells["case_id"]),
            table="cases",
            record=row.case_id,
            field=differ[0] if len(differ) == 1 else "case_id",
            value=_text(row.values[differ[0]]) if len(differ) == 1 else row.case_id,
            severity="warning",
            action="rejected",
        )
    ordered = [kept[k] for k in sorted(kept)]
    cases = schema.conform(pa.table(_columns(ordered, fields)), "cases")
    every = sorted(rows, key=lambda r: (r.case_id, r.order))
    where = {
        "source": pa.array([r.source for r in every], pa.string()),
        "row": pa.array([r.row for r in every], pa.int64()),
        "audit": pa.array([r.audit for r in every], schema.CATEGORY),
        "role": pa.array([r.role for r in every], schema.CATEGORY),
        "auditor": pa.array([r.auditor for r in every], schema.CATEGORY),
    }
    columns = _columns(every, fields)
    read = pa.table({"case_id": columns.pop("case_id"), **where, **columns})
    return cases, read


def _letters(ref: str) -> str:
    cell = ref.rsplit("!", 1)[-1]
    return "".join(c for c in cell if c.isalpha())


def read_workbooks(
    sources: Iterable[Source | str | Path], *, strict: bool = False, limits: Limits | None = None
) -> Records:
    """Read filled audit-form workbooks (paths or :class:`~mns.plugins.adapter.Source`) into
    ``cases``, ``assignments``, ``services`` and ``issues``.

    Raises :class:`~mns.errors.AdapterError` for a file that is not an mns audit form, or a
    workbook over ``limits`` (:class:`mns.plugins.Limits`; the defaults if not given); with
    ``strict=True``, :class:`~mns.errors.RecordError` at the first invalid or missing entry.
    """
    items = _as_sources(sources)
    if not items:
        raise AdapterError("audit-form: no workbooks were given", adapter=ADAPTER_NAME)
    issues = _Issues(strict=strict)
    fields: dict[str, Field] = {}
    rows: list[_Row] = []
    services: list[tuple[str, str, int, int]] = []
    files: list[SourceFile] = []
    dates: set[dt.date] = set()
    assignments: list[tuple[tuple[int, int, int], dict[str, Any]]] = []
    for index, source in enumerate(items):
        book = _open(source, limits or DEFAULT_LIMITS)
        data = book.data
        try:
            meta = _meta(book, source.name)
            for f in meta.fields:
                if (
                    f.key in fields
                    and fields[f.key].table == "cases"
                    and arrow_type(fields[f.key]) != arrow_type(f)
                ):
                    raise AdapterError(
                        f"{source.name}: field {f.key!r} is a {f.kind} here but a "
                        f"{fields[f.key].kind} in an earlier workbook; read them separately",
                        adapter=ADAPTER_NAME,
                        file=source.name,
                    )
                fields.setdefault(f.key, f)
            one = _read_one(book, meta, source.name, index, issues)
        except MnsError:
            raise
        except Exception as exc:  # openpyxl's parsers raise what the damaged XML gives them
            raise AdapterError(
                f"{source.name}: the workbook is damaged ({type(exc).__name__}: {exc}); save "
                "it again in a spreadsheet program, or make the form again",
                adapter=ADAPTER_NAME,
                file=source.name,
            ) from None
        finally:
            book.workbook.close()
        cover, found, received = one.cover, one.rows, one.services
        files.append(
            SourceFile(name=source.name, sha256=hashlib.sha256(data).hexdigest(), size=len(data))
        )
        if cover.reference_date is not None:
            dates.add(cover.reference_date)
        rows.extend(found)
        services.extend((case_id, code, index, row) for case_id, code, row in received)
        assignments.extend((r.order, r.assignment) for r in found if r.assignment is not None)
    cases, every_row = _cases_table(rows, fields, issues)
    assignments.sort(key=lambda item: (item[1]["case_id"], item[0]))
    assignment_table = schema.conform(
        pa.Table.from_pylist([a for _, a in assignments], schema=_plain(schema.ASSIGNMENTS)),
        "assignments",
    )
    services.sort()
    service_table = schema.conform(
        pa.table(
            {
                "case_id": pa.array([s[0] for s in services], pa.string()),
                "service": pa.array([s[1] for s in services], pa.string()),
            }
        ),
        "services",
    )
    warnings: tuple[str, ...] = ()
    if len(dates) > 1:
        shown = ", ".join(d.isoformat() for d in sorted(dates))
        warnings = (f"the workbooks give different reference dates: {shown}",)
    provenance = Provenance(
        adapter=ADAPTER_NAME,
        adapter_version=f"{__version__} (form {FORM_VERSION})",
        files=tuple(files),
        reference_date=next(iter(dates)) if len(dates) == 1 else None,
        warnings=warnings,
    )
    return Records(
        provenance=provenance,
        cases=cases,
        assignments=assignment_table,
        services=service_table,
        issues=issues.table(),
        extra={ROWS_TABLE: every_row},
    )


def _plain(schema_: pa.Schema) -> pa.Schema:
    """``schema_`` with dictionary columns as plain strings (for building from Python rows)."""
    return pa.schema(
        [
            pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type) else f.type)
            for f in schema_
        ]
    )


_LOCAL = b"PK\x03\x04"
_HEADER = struct.Struct("<4sHHHHHIIIHH")


def sniff(head: bytes) -> bool:
    """Whether ``head`` (a file's first bytes) starts an mns audit-form workbook.

    Looks inside the zip's first entries: the core properties (keywords ``mns-audit-form``,
    written first by openpyxl) or the workbook part (the hidden ``_mns_form`` sheet, early in
    files a spreadsheet program saved again). An entry cut off by the end of ``head`` is read
    as far as it goes. Other XLSX files (Annex A returns, exports) are never claimed.
    """
    position = 0
    while position + _HEADER.size <= len(head) and head[position : position + 4] == _LOCAL:
        (_, _, flags, method, _, _, _, size, _, name_length, extra_length) = _HEADER.unpack_from(
            head, position
        )
        name = head[position + _HEADER.size : position + _HEADER.size + name_length]
        start = position + _HEADER.size + name_length + extra_length
        streamed = bool(flags & 0x08) and size == 0
        chunk = head[start:] if streamed else head[start : start + size]
        if name in (b"docProps/core.xml", b"xl/workbook.xml"):
            text = chunk
            if method == 8:
                try:
                    text = zlib.decompressobj(-15).decompress(chunk)
                except zlib.error:
                    text = b""
            elif method != 0:
                text = b""
            if MARKER.encode() in text or f'name="{META}"'.encode() in text:
                return True
        if streamed:
            break
        position = start + size
    return False


def _read(sources: Sequence[Source], options: Mapping[str, Any]) -> Records:
    return read_workbooks(
        sources, strict=bool(options.get("strict", False)), limits=limits_from(options)
    )


def form_adapter() -> Adapter:
    """The built-in ``audit-form`` adapter (registered by :mod:`mns.builtin`)."""
    return Adapter(
        name=ADAPTER_NAME,
        description=(
            "Filled mns audit-form workbooks (XLSX made by `mns form`): cases, need-group "
            "assignments with their audit group, services received; several workbooks at once"
        ),
        read=_read,
        suffixes=(".xlsx",),
        sniff=sniff,
        tables=("cases", "assignments", "services"),
        options=(LIMITS_OPTION,),
        version=FORM_VERSION,
    )
