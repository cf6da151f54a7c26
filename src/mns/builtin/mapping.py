"""The mapping adapter: any CSV or XLSX export from a case-management system, plus a mapping
file (TOML) saying which column is which field.

``mns.read("export.xlsx", adapter="mapping", mapping="northwick.toml")``. The mapping file's
shape is documented in docs/reference/mapping-files.md; in short::

    table = "cases"                     # cases | services | outcomes | assignments
    sheet = "Referrals"                 # XLSX only (default: the first sheet)
    header_row = 1
    date_formats = ["%d/%m/%Y", "%Y-%m-%d"]
    ignore = ["Worker"]                 # columns deliberately not read
    collection_year = 2024              # optional provenance
    reference_date = 2024-03-31

    [constants]                         # one value for every record
    la = "E06000999"

    [fields.case_id]
    column = "Referral ID"              # or letter = "A"

    [fields.sex]
    column = "Gender"
    pattern = '^[a-z]\\)\\s*(?P<code>.+)$'   # "a) Male" -> "Male"
    codes = { M = ["Male", "Boy"], F = ["Female", "Girl"], U = ["Not known"] }

    [multi.factors]                     # "4B; 3A" -> cin.4B = true, cin.3A = true
    column = "Assessment factors"
    separator = "[;,]"
    language = "cin"

Every problem is an issue located by row (and column letter for XLSX, header for CSV):
unknown values, bad dates, missing or repeated headers, unmapped columns, the wrong sheet.
A record without its key (e.g. ``case_id``) is rejected, as is a repeated ``case_id`` in
``cases``; a bad value elsewhere is blanked. Blank rows are not records.

The adapter streams (:func:`stream_mapping`, ``Adapter.stream``): a CSV is read from the file
a few lines at a time, never whole, and its records are given ``batch_size`` at a time, so
``mns.convert`` writes an export of any size in bounded memory. A ZIP of CSV files is read
entry by entry, each decompressed as it is read.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mns import errors
from mns.builtin.canonical import _FALSE, _TRUE, _target, unclosed_quote
from mns.converters import read_toml
from mns.errors import MappingError
from mns.plugins.adapter import Adapter, Batches, Option, Source, collect
from mns.plugins.rows import RowBatcher
from mns.plugins.text import Encoding, scan_encoding, text_lines
from mns.plugins.workbook import (
    LIMITS_OPTION,
    Limits,
    check_workbook,
    limits_from,
    open_workbook,
    report_uncached,
    sheet_rows,
)
from mns.plugins.zip import head_entries, is_zip, zip_sources
from mns.records import schema
from mns.records.bundle import Provenance, Records
from mns.records.issues import IssueLog, column_letter

__all__ = [
    "ADAPTER",
    "FieldMap",
    "MappingError",
    "MappingFile",
    "MultiMap",
    "load_mapping",
    "read_mapping",
    "stream_mapping",
]

DEFAULT_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")
_TOP = (
    "table",
    "sheet",
    "header_row",
    "delimiter",
    "date_formats",
    "ignore",
    "collection_year",
    "reference_date",
    "constants",
    "fields",
    "multi",
)
_FIELD_KEYS = ("column", "letter", "pattern", "codes", "date_formats")
_MULTI_KEYS = ("column", "letter", "separator", "language", "pattern", "codes")
_ID_FIELDS = ("case_id", "child_id")
_NUMBER_TEXT = re.compile(r"^[+-]?[0-9]+\.0+$")


@attrs.frozen
class Pattern:
    """A mapping file's regular expression (case-insensitive), run by RE2: its time is linear
    in the text, so no pattern and no cell can make a read hang (Python's ``re`` backtracks:
    ``^(a+)+$`` takes minutes on a cell of 30 a's and a b)."""

    text: str
    compiled: Any = attrs.field(eq=False, repr=False)

    def search(self, value: str) -> Any:
        return self.compiled.search(value)

    def split(self, value: str) -> list[str]:
        return list(self.compiled.split(value))


def compile_pattern(text: str) -> Pattern:
    """``text`` compiled by RE2, case-insensitive; raises ``ValueError`` saying why not."""
    import re2

    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    try:
        return Pattern(text, re2.compile(text, options))
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ValueError(str(reason)) from None


def _default_separator() -> Pattern:
    return compile_pattern("[;,]")


@attrs.frozen(kw_only=True)
class FieldMap:
    """How one field is read: its column (by header or letter) and how values map to codes."""

    field: str
    column: str | None = None
    letter: str | None = None
    pattern: Pattern | None = None
    codes: Mapping[str, str] = attrs.field(factory=dict)  #: normalised alias -> code
    date_formats: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class MultiMap:
    """A column whose cells list several codes; each becomes a flag column."""

    name: str
    column: str | None = None
    letter: str | None = None
    separator: Pattern = attrs.field(factory=_default_separator)
    language: str | None = None
    pattern: Pattern | None = None
    codes: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class MappingFile:
    """A mapping file, checked."""

    file: str
    table: str = "cases"
    sheet: str | None = None
    header_row: int = 1
    delimiter: str = ","
    date_formats: tuple[str, ...] = DEFAULT_DATE_FORMATS
    ignore: tuple[str, ...] = ()
    collection_year: int | None = None
    reference_date: dt.date | None = None
    constants: Mapping[str, Any] = attrs.field(factory=dict)
    fields: tuple[FieldMap, ...] = ()
    multi: tuple[MultiMap, ...] = ()


def _norm(text: str) -> str:
    """Text as compared: trimmed, inner spaces collapsed, case folded."""
    return " ".join(text.split()).casefold()


def _fail(file: str, where: str, message: str) -> MappingError:
    return MappingError(f"{file}: {where}: {message}", file=file, item=where)


def _unknown_keys(file: str, where: str, given: Mapping[str, Any], allowed: Sequence[str]) -> None:
    for key in given:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise _fail(
                file, where, f"unknown key {key!r}{hint}; allowed keys are {', '.join(allowed)}"
            )


def _regex(file: str, where: str, text: Any) -> Pattern | None:
    if text is None:
        return None
    if not isinstance(text, str):
        raise _fail(file, where, f"pattern must be text (a regular expression), not {text!r}")
    try:
        return compile_pattern(text)
    except ValueError as exc:
        raise _fail(
            file,
            where,
            f"pattern {text!r} is not a regular expression mns can run ({exc}). mns runs "
            "patterns with RE2, whose time never depends on the text: write the pattern "
            "without lookarounds such as (?=...) or (?!...) and without backreferences such "
            "as \\1 (see docs/reference/mapping-files.md)",
        ) from None


def _codes(file: str, where: str, raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise _fail(file, where, "codes must be a table: code = [aliases...]")
    out: dict[str, str] = {}
    for code, aliases in raw.items():
        names = [aliases] if isinstance(aliases, str) else aliases
        if not isinstance(names, list) or not all(isinstance(a, (str, int)) for a in names):
            raise _fail(
                file, f"{where}.{code}", 'give the aliases as a list of text, e.g. ["Male", "Boy"]'
            )
        for alias in [code, *names]:
            key = _norm(str(alias))
            if key in out and out[key] != code:
                raise _fail(
                    file, where, f"alias {alias!r} is given for both {out[key]!r} and {code!r}"
                )
            out[key] = code
    return out


def _letter(file: str, where: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{1,3}", value):
        raise _fail(
            file, where, f"letter must be a column letter such as 'A' or 'AB', not {value!r}"
        )
    return value.upper()


def _formats(file: str, where: str, value: Any, default: tuple[str, ...]) -> tuple[str, ...]:
    if value is None:
        return default
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise _fail(
            file, where, 'date_formats must be a list of strptime formats, e.g. ["%d/%m/%Y"]'
        )
    return tuple(value)


def _one_column(file: str, where: str, spec: Mapping[str, Any]) -> None:
    if ("column" in spec) == ("letter" in spec):
        raise _fail(file, where, "give exactly one of column (the header) or letter (e.g. 'C')")


def _field_map(file: str, table: str, name: str, raw: Any, formats: tuple[str, ...]) -> FieldMap:
    where = f"fields.{name}"
    spec = {"column": raw} if isinstance(raw, str) else raw
    if not isinstance(spec, Mapping):
        raise _fail(file, where, 'give a table, e.g. { column = "Child ID" }, or a header')
    _unknown_keys(file, where, spec, _FIELD_KEYS)
    names = schema.SCHEMAS[table].names
    if name not in names and not re.fullmatch(r"[a-z][a-z0-9_]*\.[A-Za-z0-9_]+", name):
        close = difflib.get_close_matches(name, names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise _fail(
            file,
            where,
            f"{name!r} is not a field of {table}{hint}; fields are {', '.join(names)} "
            "and indicator columns '<language>.<code>'",
        )
    _one_column(file, where, spec)
    return FieldMap(
        field=name,
        column=spec.get("column"),
        letter=_letter(file, f"{where}.letter", spec.get("letter")),
        pattern=_regex(file, f"{where}.pattern", spec.get("pattern")),
        codes=_codes(file, f"{where}.codes", spec.get("codes")),
        date_formats=_formats(file, f"{where}.date_formats", spec.get("date_formats"), formats),
    )


def _multi_map(file: str, table: str, name: str, spec: Any) -> MultiMap:
    where = f"multi.{name}"
    if not isinstance(spec, Mapping):
        raise _fail(file, where, "give a table with column, separator and language")
    _unknown_keys(file, where, spec, _MULTI_KEYS)
    _one_column(file, where, spec)
    if table != "cases":
        raise _fail(file, where, "multi-valued columns fill indicator columns of cases only")
    language = spec.get("language")
    if not isinstance(language, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", language):
        raise _fail(
            file,
            f"{where}.language",
            f"{language!r}: name the language whose codes the cell lists, e.g. 'cin'",
        )
    separator = _regex(file, f"{where}.separator", spec.get("separator", "[;,]"))
    assert separator is not None
    return MultiMap(
        name=name,
        column=spec.get("column"),
        letter=_letter(file, f"{where}.letter", spec.get("letter")),
        separator=separator,
        language=language,
        pattern=_regex(file, f"{where}.pattern", spec.get("pattern")),
        codes=_codes(file, f"{where}.codes", spec.get("codes")),
    )


def mapping_from_dict(raw: Mapping[str, Any], file: str = "<mapping>") -> MappingFile:
    """Check a mapping given as a dict (as read from TOML) and build a :class:`MappingFile`."""
    _unknown_keys(file, "top level", raw, _TOP)
    table = raw.get("table", "cases")
    if table not in schema.TABLES or table == "issues":
        allowed = [t for t in schema.TABLES if t != "issues"]
        raise _fail(file, "table", f"{table!r} is not one of {', '.join(allowed)}")
    header_row = raw.get("header_row", 1)
    if not isinstance(header_row, int) or header_row < 1:
        raise _fail(file, "header_row", f"{header_row!r} must be a row number (1 or more)")
    delimiter = raw.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise _fail(file, "delimiter", f"{delimiter!r} must be one character")
    formats = _formats(file, "date_formats", raw.get("date_formats"), DEFAULT_DATE_FORMATS)
    ignore = raw.get("ignore", [])
    if not isinstance(ignore, list) or not all(isinstance(i, str) for i in ignore):
        raise _fail(file, "ignore", "ignore must be a list of column headers")
    reference = raw.get("reference_date")
    if reference is not None and not isinstance(reference, dt.date):
        raise _fail(file, "reference_date", f"{reference!r} must be a TOML date, e.g. 2024-03-31")
    year = raw.get("collection_year")
    if year is not None and (not isinstance(year, int) or not 1990 <= year <= 2100):
        raise _fail(
            file, "collection_year", f"{year!r} must be the year a collection ends, e.g. 2024"
        )
    expected = schema.SCHEMAS[table]
    fields = [
        _field_map(file, table, name, spec, formats)
        for name, spec in dict(raw.get("fields", {})).items()
    ]
    multi = [
        _multi_map(file, table, name, spec) for name, spec in dict(raw.get("multi", {})).items()
    ]
    constants = dict(raw.get("constants", {}))
    for name in constants:
        if name not in expected.names:
            raise _fail(file, f"constants.{name}", f"{name!r} is not a field of {table}")
    mapped = {f.field for f in fields}
    keys = [f.name for f in expected if not f.nullable]
    missing = [k for k in keys if k not in mapped and k not in constants]
    if missing:
        raise _fail(
            file, "fields", f"every {table} record needs {', '.join(missing)}: map a column to it"
        )
    return MappingFile(
        file=file,
        table=table,
        sheet=raw.get("sheet"),
        header_row=header_row,
        delimiter=delimiter,
        date_formats=formats,
        ignore=tuple(ignore),
        collection_year=year,
        reference_date=reference,
        constants=constants,
        fields=tuple(fields),
        multi=tuple(multi),
    )


def load_mapping(path: str | Path) -> MappingFile:
    """Read and check a mapping file (TOML)."""
    return mapping_from_dict(read_toml(path, MappingError, "mapping file"), str(path))


# --- reading the export ----------------------------------------------------------------------


@attrs.frozen
class _Grid:
    """The rows of one sheet or CSV file, numbered as the user sees them."""

    rows: Iterator[tuple[int, Sequence[Any]]]
    sheet: str | None
    letters: bool  #: locate columns by letter (spreadsheets) or by header (CSV)
    #: rows holding formulas with no saved result: records, though they may read blank
    formulas: frozenset[int] = frozenset()

    def close(self) -> None:
        """Close the file the rows are read from (when they are read from one)."""
        close = getattr(self.rows, "close", None)
        if close is not None:
            close()


def _csv_grid(source: Source, mapping: MappingFile, log: IssueLog) -> _Grid:
    """A CSV file's records, read from the file as they are needed. Its encoding is found
    first from all of its bytes, in one pass (the answer ``decode_text`` gives the whole
    file), so that a stray byte at the end still makes it Windows-1252 throughout."""
    with source.open() as stream:
        encoding, bad = scan_encoding(stream)
    if bad is not None:
        log.warning(
            f"the file is not UTF-8 (byte {bad + 1}); read as Windows-1252. "
            "Export it as UTF-8 to be sure of accented names"
        )
    rows = _csv_file(source, encoding, mapping.delimiter, log)
    return _Grid(rows=rows, sheet=None, letters=False)


def _csv_file(
    source: Source, encoding: Encoding, delimiter: str, log: IssueLog
) -> Iterator[tuple[int, list[str]]]:
    with source.open() as stream:
        yield from _csv_records(text_lines(stream, encoding), delimiter, log)


def _csv_records(
    lines: Iterable[str], delimiter: str, log: IssueLog
) -> Iterator[tuple[int, list[str]]]:
    """The CSV's records, numbered from 1 as in a spreadsheet (a record may span lines).

    A record the csv module cannot read (a field over its 131,072-character limit) is
    rejected and reading goes on after it (after the end of a quoted value it was in); a
    quote never closed swallows the rest of the file, which is reported with how many lines
    could not be read."""
    numbered = _Lines(lines)
    reader = csv.reader(numbered, delimiter=delimiter)
    number = 0
    while True:
        number += 1
        numbered.record.clear()
        start = numbered.count + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if _inside_quotes(numbered.record, delimiter) and not numbered.skip_quoted(delimiter):
                _never_closed(log, number, start, numbered)
                return
            log.error(
                f"the record starting at line {start} cannot be read ({exc}); it was rejected",
                row=number,
                line=start,
            )
            continue
        if len(numbered.record) > 1 and unclosed_quote("".join(numbered.record), delimiter):
            _never_closed(log, number, start, numbered)
            return
        yield number, cells


def _never_closed(log: IssueLog, number: int, start: int, lines: _Lines) -> None:
    log.error(
        f"a quote opened in the record starting at line {start} is never closed, so "
        f"the rest of the file ({lines.count - start + 1} lines, to line "
        f"{lines.count}) reads as one value: the record and those lines were not "
        "read. Close or remove the quote and read the file again",
        row=number,
        line=start,
        value=lines.first[:200],
    )


#: The csv module's states that matter here: in a quoted value, or just after its closing quote.
_PLAIN, _QUOTED, _CLOSED = 0, 1, 2


def _quote_state(text: str, delimiter: str, state: int, at_start: bool) -> tuple[int, bool]:
    """Where the csv module (double quotes, not strict) is after ``text``, from ``state``:
    a quote opens a quoted value only at the start of a field; ``""`` inside is a quote."""
    for ch in text:
        if state == _QUOTED:
            if ch == '"':
                state = _CLOSED
        elif state == _CLOSED:
            if ch == '"':
                state = _QUOTED  # a doubled quote: still quoted
            else:
                state = _PLAIN
                at_start = ch == delimiter or ch in "\r\n"
        elif ch == '"' and at_start:
            state, at_start = _QUOTED, False
        else:
            at_start = ch == delimiter or ch in "\r\n"
    return state, at_start


def _inside_quotes(record: Sequence[str], delimiter: str) -> bool:
    """Whether the lines of a record end inside a quoted value (so the record goes on)."""
    state, at_start = _PLAIN, True
    for line in record:
        state, at_start = _quote_state(line, delimiter, state, at_start)
    return state == _QUOTED


class _Lines:
    """The lines of a text, counted, remembering those of the record being read (the first
    in full, then only how many: a record can be the rest of a file)."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
        self.count = 0
        self.record: list[str] = []

    @property
    def first(self) -> str:
        return self.record[0] if self.record else ""

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.count += 1
        self.record.append(line)
        return line

    def skip_quoted(self, delimiter: str) -> bool:
        """Skip the lines of the quoted value the record read so far ends in, and the rest
        of the record after it; False when the file ends first (the quote is never closed)."""
        state, at_start = _QUOTED, False
        kept = self.record[:1]
        for line in self._lines:
            self.count += 1
            state, at_start = _quote_state(line, delimiter, state, at_start)
            if state != _QUOTED:
                self.record = kept
                return True
        self.record = kept
        return False


def _xlsx_grid(source: Source, mapping: MappingFile, log: IssueLog, limits: Limits) -> _Grid | None:
    with source.open() as stream:
        data = stream.read()
    shape = check_workbook(data, name=source.name, limits=limits)
    book = open_workbook(data, name=source.name)
    names = list(shape.names)
    wanted = mapping.sheet
    if wanted is None:
        if not names:
            log.warning("the workbook has no sheets")
            return None
        wanted = names[0]
    elif wanted not in names:
        close = [n for n in names if _norm(n) == _norm(wanted)]
        if close:
            log.warning(
                f"sheet {wanted!r} not found; read {close[0]!r}, "
                "whose name differs only in case or spaces",
                sheet=close[0],
            )
            wanted = close[0]
        else:
            hint = difflib.get_close_matches(wanted, names, n=1)
            extra = f" (did you mean {hint[0]!r}?)" if hint else ""
            log.error(
                f"sheet {wanted!r} not found{extra}; the workbook has "
                f"{', '.join(repr(n) for n in names)}. "
                "Fix `sheet` in the mapping file",
                action="rejected",
                sheet=wanted,
                field="sheet",
                value=wanted,
            )
            return None
    sheet = shape.sheet(wanted)
    report_uncached(log.bind(sheet=wanted), sheet)
    return _Grid(
        rows=sheet_rows(book, sheet), sheet=wanted, letters=True, formulas=sheet.uncached_rows
    )


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _blank_row(cells: Sequence[Any], spreadsheet: bool) -> bool:
    if not spreadsheet:  # a CSV row: text only
        return not "".join(cells).strip()
    return all(_blank(c) for c in cells)


def _text(value: Any, field: str) -> str | None:
    if _blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    text = " ".join(str(value).split())
    if field in _ID_FIELDS and _NUMBER_TEXT.match(text):
        text = text.split(".", 1)[0]
    return text


_MISSING = object()
_CACHED = 1 << 15  #: cells kept per field before the cache starts again


@attrs.frozen
class _Column:
    """Where one mapped field is in the grid."""

    index: int | None  #: None: not in the file
    name: str  #: as the user knows it (header, or letter)


class _Reader:
    """Turns the grid's rows into typed columns, logging every problem at its cell."""

    def __init__(self, mapping: MappingFile, log: IssueLog, grid: _Grid) -> None:
        self.mapping = mapping
        self.log = log
        self.grid = grid
        names = [f.field for f in mapping.fields] + list(mapping.constants)
        self.target = _target(mapping.table, names)
        self.multi_codes: dict[str, dict[str, str]] = {}
        #: values already converted, by field (or multi-valued column) and cell
        self.cache: dict[str, dict[Any, Any]] = {}
        self.logged = 0  #: problems logged about values (a conversion that logs is not kept)
        self.headless: set[int] = set()
        self.fields: dict[str, _Column] = {}
        self.multi: dict[str, _Column] = {}

    # -- header --

    def header(self, cells: Sequence[Any], row: int) -> None:
        """Locate the mapped columns in the header row (``fields``, ``multi``), and warn
        about repeated, missing and unmapped ones."""
        headers = [_text(c, "") or "" for c in cells]
        by_name: dict[str, list[int]] = {}
        for i, h in enumerate(headers):
            if not h:
                continue
            by_name.setdefault(_norm(h), []).append(i)
        used: set[int] = set()

        def locate(what: str, column: str | None, letter: str | None) -> _Column:
            if letter is not None:
                index = _letter_index(letter)
                if index >= len(headers):
                    self._header_error(
                        what,
                        f"column {letter} is beyond the last column "
                        f"({column_letter(len(headers) - 1) if headers else 'none'})",
                        row,
                        letter,
                    )
                    return _Column(None, letter)
                used.add(index)
                return _Column(index, letter if self.grid.letters else (headers[index] or letter))
            assert column is not None
            found = by_name.get(_norm(column), [])
            if not found:
                close = difflib.get_close_matches(column, [h for h in headers if h], n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self._header_error(
                    what,
                    f"column {column!r} is not in the header row{hint}; headers are "
                    f"{', '.join(repr(h) for h in headers if h)}",
                    row,
                    column,
                )
                return _Column(None, column)
            if len(found) > 1:
                self.log.warning(
                    f"header {column!r} appears in columns "
                    f"{', '.join(column_letter(i) for i in found)}; read column "
                    f"{column_letter(found[0])} (give letter = '...' in the mapping to choose)",
                    row=row,
                    column=self._where(found[0], headers),
                    field=what,
                )
            used.add(found[0])
            return _Column(found[0], self._where(found[0], headers))

        self.fields = {f.field: locate(f.field, f.column, f.letter) for f in self.mapping.fields}
        self.multi = {
            m.name: locate(f"multi.{m.name}", m.column, m.letter) for m in self.mapping.multi
        }
        ignored = {_norm(i) for i in self.mapping.ignore}
        for i, h in enumerate(headers):
            if i in used:
                continue
            if not h:
                self.headless.add(i)
            elif _norm(h) not in ignored:
                self.log.warning(
                    f"column {h!r} is not mapped; add it to `ignore` in the mapping file if it is "
                    "not needed",
                    row=row,
                    column=self._where(i, headers),
                )

    def beyond(self, cells: Sequence[Any], row: int, width: int) -> None:
        """Warn about values in columns with no header: inside the header's width (once per
        column) or beyond it (once per row)."""
        if self.headless:
            self.headless_values(cells, row)
        if len(cells) > width and any(not _blank(c) for c in cells[width:]):
            last = column_letter(width - 1) if width else "none"
            self.log.warning(
                f"the row has values beyond the last headed column ({last}); they are not read",
                row=row,
                column=column_letter(width) if self.grid.letters else None,
            )

    def headless_values(self, cells: Sequence[Any], row: int) -> None:
        """Warn (once per column) about values in a column that has no header."""
        for i in sorted(self.headless):
            if i < len(cells) and not _blank(cells[i]):
                self.headless.discard(i)
                self.log.warning(
                    f"column {column_letter(i)} has no header but holds values (first at row "
                    f"{row}); it is not read. Give it a header, or map it with "
                    f"letter = '{column_letter(i)}'",
                    row=row,
                    column=column_letter(i),
                    value=cells[i],
                )

    def _where(self, index: int, headers: Sequence[str]) -> str:
        """A column as the user finds it: its letter in a spreadsheet; its header in a CSV
        (with the letter when the header is blank or repeated)."""
        if self.grid.letters:
            return column_letter(index)
        header = headers[index] if index < len(headers) else ""
        if not header:
            return column_letter(index)
        if sum(1 for h in headers if _norm(h) == _norm(header)) > 1:
            return f"{header} ({column_letter(index)})"
        return header

    def _header_error(self, field: str, message: str, row: int, column: str) -> None:
        key = field in self.target.keys
        self.log.error(  # the records themselves are rejected row by row when it is a key
            message + ("; every record needs it" if key else "; the field is left empty"),
            action="blanked",
            row=row,
            column=column if self.grid.letters else None,
            field=field,
            value=column,
        )

    # -- values --

    def convert(self, fmap: FieldMap, raw: Any, row: int, where: str, record: str | None) -> Any:
        """The field's value from one cell, or None (with an issue when a value was lost).

        A cell met before gives the value it gave then (exports repeat their codes, dates
        and words), unless converting it logged a problem, which is logged again each time."""
        if fmap.field in _ID_FIELDS:  # each one different: nothing to keep
            return self._convert(fmap, raw, row, where, record)
        return self._remembered(
            fmap.field, self._convert, fmap, raw, row=row, where=where, record=record
        )

    def _remembered(
        self,
        slot: str,
        convert: Any,
        spec: Any,
        raw: Any,
        *,
        row: int,
        where: str,
        record: str | None,
    ) -> Any:
        """``convert(spec, raw, ...)``, or what it gave for an equal cell before in ``slot``
        (not kept when it logged a problem, so that the problem is logged each time)."""
        cache = self.cache.get(slot)
        if cache is None:
            cache = self.cache[slot] = {}
        key = (raw.__class__, raw)  # 1, 1.0 and True are equal keys, not equal cells
        found = cache.get(key, _MISSING)
        if found is not _MISSING:
            return found
        before = self.logged
        value = convert(spec, raw, row, where, record)
        if self.logged == before:
            if len(cache) >= _CACHED:
                cache.clear()
            cache[key] = value
        return value

    def _convert(self, fmap: FieldMap, raw: Any, row: int, where: str, record: str | None) -> Any:
        kind = self.target.types.get(fmap.field, pa.string())
        if _blank(raw):
            return None
        if pa.types.is_date(kind):
            return self._date(fmap, raw, row, where, record)
        text = _text(raw, fmap.field)
        assert text is not None
        original = text
        if fmap.pattern is not None:
            match = fmap.pattern.search(text)
            if match is not None:
                groups = match.groupdict()
                text = (
                    groups.get("code") or (match.group(1) if match.groups() else match.group(0))
                ).strip()
        if fmap.codes:
            code = fmap.codes.get(_norm(text))
            if code is not None:
                text = code
            elif not self.target.values.get(fmap.field) and not pa.types.is_boolean(kind):
                return self._bad(
                    fmap,
                    original,
                    f"{original!r} is not one of the codes the mapping lists "
                    f"({', '.join(sorted(set(fmap.codes.values())))})",
                    row=row,
                    where=where,
                    record=record,
                )
        if pa.types.is_boolean(kind):
            lowered = text.casefold()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            return self._bad(
                fmap,
                original,
                f"{original!r} is not yes/no (map it under codes: true = [...], false = [...])",
                row=row,
                where=where,
                record=record,
            )
        if pa.types.is_integer(kind) or pa.types.is_floating(kind):
            try:
                number = float(text)
            except ValueError:
                return self._bad(
                    fmap,
                    original,
                    f"{original!r} is not a number",
                    row=row,
                    where=where,
                    record=record,
                )
            if pa.types.is_integer(kind):
                if not number.is_integer():
                    return self._bad(
                        fmap,
                        original,
                        f"{original!r} is not a whole number",
                        row=row,
                        where=where,
                        record=record,
                    )
                low, high = self.target.ranges.get(fmap.field, (-(2**31), 2**31 - 1))
                if not low <= number <= high:
                    return self._bad(
                        fmap,
                        original,
                        f"{original!r} is outside {low}-{high}",
                        row=row,
                        where=where,
                        record=record,
                    )
                return int(number)
            return number
        allowed = self.target.values.get(fmap.field)
        if allowed:
            folded = {a.casefold(): a for a in allowed}
            found = folded.get(text.casefold())
            if found is None:
                return self._bad(
                    fmap,
                    original,
                    f"{original!r} is not an allowed value ({', '.join(allowed)}); "
                    "map it under codes in the mapping file",
                    row=row,
                    where=where,
                    record=record,
                )
            return found
        return text

    def _date(
        self, fmap: FieldMap, raw: Any, row: int, where: str, record: str | None
    ) -> dt.date | None:
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        if isinstance(raw, (int, float)) and not isinstance(raw, bool) and 1 <= raw < 2958466:
            value = dt.date(1899, 12, 30) + dt.timedelta(days=int(raw))
            self.logged += 1
            self.log.warning(
                f"a number, {raw!r}, where a date was expected: read as the spreadsheet "
                f"date {value.isoformat()}",
                row=row,
                column=where,
                field=fmap.field,
                value=raw,
                record=record,
            )
            return value
        text = " ".join(str(raw).split())
        for form in fmap.date_formats:
            parsed = _strptime(text, form)
            if parsed is not None:
                return parsed
        self._bad(
            fmap,
            raw,
            f"{text!r} is not a date in any of the formats {', '.join(fmap.date_formats)}",
            row=row,
            where=where,
            record=record,
        )
        return None

    def _bad(
        self, fmap: FieldMap, raw: Any, message: str, *, row: int, where: str, record: str | None
    ) -> Any:
        """Log a bad value: blanked (returns None), or the record rejected (raises)."""
        key = fmap.field in self.target.keys
        self.logged += 1
        self.log.error(
            message,
            action="rejected" if key else "blanked",
            row=row,
            column=where,
            field=fmap.field,
            value=raw,
            record=record,
        )
        if key:
            raise _RejectedError

    def codes(
        self, mmap: MultiMap, raw: Any, row: int, where: str, record: str | None
    ) -> list[str] | None:
        """The codes a multi-valued cell lists (a cell met before, as :meth:`convert`)."""
        codes: list[str] | None = self._remembered(
            _CODES + mmap.name, self._codes, mmap, raw, row=row, where=where, record=record
        )
        return codes

    def _codes(
        self, mmap: MultiMap, raw: Any, row: int, where: str, record: str | None
    ) -> list[str] | None:
        from mns.lang import language, languages

        if _blank(raw):
            return None
        known = self.multi_codes.get(mmap.name)
        if known is None:
            known = {}
            if mmap.language in languages():
                from mns.lang.model import Kind

                lang = language(str(mmap.language))
                known = {i.code.casefold(): i.code for i in lang.indicators if i.kind is Kind.FLAG}
            self.multi_codes[mmap.name] = known
        out = []
        for part in mmap.separator.split(str(raw)):
            item = " ".join(part.split())
            if not item:
                continue
            if mmap.pattern is not None:
                match = mmap.pattern.search(item)
                if match is not None:
                    item = (
                        match.groupdict().get("code")
                        or (match.group(1) if match.groups() else match.group(0))
                    ).strip()
            item = mmap.codes.get(_norm(item), item)
            if known:
                code = known.get(item.casefold())
                if code is None:
                    self.logged += 1
                    self.log.error(
                        f"{item!r} is not a flag code of language {mmap.language!r}; "
                        "it is left out "
                        "(map it under codes in the mapping file)",
                        action="blanked",
                        row=row,
                        column=where,
                        field=f"multi.{mmap.name}",
                        value=raw,
                        record=record,
                    )
                    continue
                item = code
            elif not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_]*", item):
                self.logged += 1
                self.log.error(
                    f"{item!r} is not a code (letters, digits and underscores); it is left out",
                    action="blanked",
                    row=row,
                    column=where,
                    field=f"multi.{mmap.name}",
                    value=raw,
                    record=record,
                )
                continue
            if item not in out:
                out.append(item)
        return out


def _strptime(text: str, form: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(text, form).date()
    except ValueError:
        return None


class _RejectedError(Exception):
    """The current record is rejected (already logged)."""


def _letter_index(letter: str) -> int:
    n = 0
    for ch in letter:
        n = n * 26 + (ord(ch) - ord("A") + 1)
    return n - 1


def _cell(cells: Sequence[Any], column: _Column) -> Any:
    index = column.index
    return cells[index] if index is not None and index < len(cells) else None


class _FirstSeen:
    """Where each case id was first seen (its row), for the check that a case appears once,
    in little memory however long the file: the last ``RECENT`` ids as they are; older ones
    as 64-bit digests (BLAKE2b) with their rows, in sorted runs behind a Bloom filter, about
    13 bytes an id. Two different ids with one digest (a chance of about 1 in 10^7 in a file
    of 10 million cases) would read as the same case."""

    RECENT = 1 << 16
    RUN = 1 << 20  #: runs are merged up to this many ids (what a merge holds twice)

    def __init__(self) -> None:
        self.recent: dict[str, int] = {}
        self.runs: list[tuple[np.ndarray, np.ndarray]] = []
        self.older = 0
        self._bits = bytearray(1)
        self._mask = 0

    def get(self, key: str) -> int | None:
        """The row where ``key`` was first seen, or None."""
        row = self.recent.get(key)
        if row is not None or not self.runs:
            return row
        digest = _digest(key)
        mask = self._mask
        first, second = digest & mask, (digest >> 32) & mask
        bits = self._bits
        if not (bits[first >> 3] >> (first & 7)) & 1 or not (bits[second >> 3] >> (second & 7)) & 1:
            return None
        wanted = np.uint64(digest)  # a Python int would make numpy compare as floats
        for digests, rows in self.runs:
            i = int(digests.searchsorted(wanted))
            if i < len(digests) and digests[i] == wanted:
                return int(rows[i])
        return None

    def add(self, key: str, row: int) -> None:
        self.recent[key] = row
        if len(self.recent) >= self.RECENT:
            self._spill()

    def _spill(self) -> None:
        count = len(self.recent)
        digests = np.fromiter((_digest(k) for k in self.recent), np.uint64, count)
        rows = np.fromiter(self.recent.values(), np.int64, count)
        if int(rows.max()) < 1 << 32:
            rows = rows.astype(np.uint32)
        order = np.argsort(digests)
        self.runs.append((digests[order], rows[order]))
        self.recent = {}
        self.older += count
        while len(self.runs) > 1:
            (a, ra), (b, rb) = self.runs[-2], self.runs[-1]
            if len(b) < len(a) // 2 or len(a) + len(b) > self.RUN:
                break
            self.runs[-2:] = [_merged(a, ra, b, rb)]
        self._filter(digests)

    def _filter(self, added: np.ndarray) -> None:
        """The Bloom filter (two probes, 8 to 16 bits an id) of every older id."""
        size = 1 << max(16, (self.older * 8 - 1).bit_length())
        if size - 1 != self._mask:  # grown: made again from every run
            self._mask = size - 1
            self._bits = bytearray(size >> 3)
            for digests, _ in self.runs:
                _set_bits(self._bits, digests, self._mask)
            return
        _set_bits(self._bits, added, self._mask)


def _merged(
    a: np.ndarray, ra: np.ndarray, b: np.ndarray, rb: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Two sorted runs (digests and their rows) as one."""
    at = np.searchsorted(a, b) + np.arange(len(b))
    rest = np.ones(len(a) + len(b), dtype=bool)
    rest[at] = False
    digests = np.empty(len(a) + len(b), a.dtype)
    digests[at], digests[rest] = b, a
    rows = np.empty(len(a) + len(b), np.result_type(ra, rb))
    rows[at], rows[rest] = rb, ra
    return digests, rows


def _set_bits(bits: bytearray, digests: np.ndarray, mask: int) -> None:
    view = np.frombuffer(bits, np.uint8)
    for probe in (digests & np.uint64(mask), (digests >> np.uint64(32)) & np.uint64(mask)):
        byte = (probe >> np.uint64(3)).astype(np.intp)
        np.bitwise_or.at(view, byte, np.left_shift(1, probe & np.uint64(7)).astype(np.uint8))


def _digest(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little")


def _keys(reader: _Reader, cells: Sequence[Any], number: int, seen: _FirstSeen) -> dict[str, Any]:
    """The key fields of one row; raises :class:`_RejectedError` (logged) without them."""
    mapping, log = reader.mapping, reader.log
    out: dict[str, Any] = {}
    for fmap in mapping.fields:
        if fmap.field not in reader.target.keys:
            continue
        col = reader.fields[fmap.field]
        if col.index is None:
            log.error(
                f"the record has no {fmap.field}: column {col.name!r} is not in the file",
                row=number,
                field=fmap.field,
            )
            raise _RejectedError
        value = reader.convert(fmap, _cell(cells, col), number, col.name, None)
        if value is None:
            log.error(
                f"{fmap.field} is empty; every {mapping.table} record needs one",
                row=number,
                column=col.name,
                field=fmap.field,
            )
            raise _RejectedError
        out[fmap.field] = value
    record = out.get("case_id")
    if mapping.table == "cases" and record is not None:
        first = seen.get(record)
        if first is not None:
            log.error(
                f"case_id {record!r} appears again (first at row {first}); one row per case",
                row=number,
                column=reader.fields["case_id"].name,
                field="case_id",
                value=record,
                record=record,
            )
            raise _RejectedError
        seen.add(record, number)
    return out


class _Silent:
    """An issue log that keeps nothing: the first pass over a file (which codes it holds)
    meets every problem again in the second."""

    strict = False

    def error(self, *args: Any, **kwargs: Any) -> None:
        pass

    warning = note = add = error

    def bind(self, **defaults: Any) -> _Silent:
        return self


#: The column of a batch holding a multi-valued cell's codes (a list), until they become flags.
_CODES = "#codes."


def _rows(
    source: Source,
    mapping: MappingFile,
    log: IssueLog,
    *,
    limits: Limits,
    batch_rows: int | None,
    seen: _FirstSeen,
    codes_only: bool = False,
) -> Iterator[pa.Table]:
    """The records of one file as typed tables of ``batch_rows`` rows (None: one), each
    multi-valued column still a list of codes; nothing when the file has no header row. The
    last table may have no rows (so a file with a header but no records still has columns).
    ``codes_only``: only the keys (which records are accepted) and the codes are read."""
    if source.head(8).strip() == b"":
        log.warning("the file is empty")
        return
    spreadsheet = source.name.lower().endswith((".xlsx", ".xlsm"))
    grid = (
        _xlsx_grid(source, mapping, log, limits) if spreadsheet else _csv_grid(source, mapping, log)
    )
    if grid is None:
        return
    reader = _Reader(mapping, log.bind(sheet=grid.sheet) if grid.sheet else log, grid)
    fields = [
        pa.field(f.field, reader.target.types.get(f.field, pa.string()))
        for f in mapping.fields
        if not codes_only
    ]
    lists = [pa.field(_CODES + m.name, pa.list_(pa.string())) for m in mapping.multi]
    batcher = RowBatcher(pa.schema([*fields, *lists]), batch_rows)
    width: int | None = None
    try:
        for number, cells in grid.rows:
            if number < mapping.header_row:
                continue
            if number == mapping.header_row:
                reader.header(cells, number)
                width = len(cells)
                continue
            if width is None or (_blank_row(cells, grid.letters) and number not in grid.formulas):
                continue
            if not codes_only:
                reader.beyond(cells, number, width)
                if not grid.letters and len(cells) < width:
                    log.warning(
                        f"the row has {len(cells)} cells but the header has {width}; the "
                        "missing cells were read as blank",
                        row=number,
                    )
            try:
                row_values = _keys(reader, cells, number, seen)
            except _RejectedError:
                continue
            record = row_values.get("case_id")
            if codes_only:
                row_values = {}
            for fmap in () if codes_only else mapping.fields:
                if fmap.field not in row_values:
                    col = reader.fields[fmap.field]
                    row_values[fmap.field] = reader.convert(
                        fmap, _cell(cells, col), number, col.name, record
                    )
            for mmap in mapping.multi:
                col = reader.multi[mmap.name]
                row_values[_CODES + mmap.name] = reader.codes(
                    mmap, _cell(cells, col), number, col.name, record
                )
            batch = batcher.add(row_values)
            if batch is not None:
                yield pa.Table.from_batches([batch])
    finally:
        grid.close()
    if width is None:
        log.warning(f"the file has no header row (expected at row {mapping.header_row})")
        return
    if len(batcher) or not batcher.batches:
        yield pa.Table.from_batches([batcher.flush()])


def _plain(kind: pa.DataType) -> pa.DataType:
    return kind.value_type if pa.types.is_dictionary(kind) else kind


def _present(mapping: MappingFile, table: pa.Table) -> dict[str, set[str]]:
    """The codes each multi-valued column lists in ``table``."""
    out = {}
    for mmap in mapping.multi:
        found = pc.unique(pc.list_flatten(table.column(_CODES + mmap.name))).to_pylist()
        out[mmap.name] = {c for c in found if c is not None}
    return out


def _flag_columns(
    mapping: MappingFile, present: Mapping[str, set[str]]
) -> dict[str, tuple[str, str]]:
    """The flag columns of the codes ``present`` (a file's), in the order a whole read gives
    them: by multi-valued column, each in its language's order (codes it does not know after
    them, sorted); column name -> (multi-valued column, code). Of two columns with one name,
    the place is the first's and the values the last's."""
    from mns.lang import language, languages

    out: dict[str, tuple[str, str]] = {}
    for mmap in mapping.multi:
        codes = present.get(mmap.name, set())
        order: list[str] = []
        if mmap.language in languages():
            order = [c for c in language(str(mmap.language)).codes() if c in codes]
        for code in order + sorted(codes - set(order)):
            out[f"{mmap.language}.{code}"] = (mmap.name, code)
    return out


def _flags(
    mapping: MappingFile,
    table: pa.Table,
    here: Mapping[str, tuple[str, str]],
    columns: Sequence[str],
) -> pa.Table:
    """``table`` with its multi-valued cells (lists of codes) made flag columns, one per name
    of ``columns`` (those of every file read, in order): true where the cell lists the code,
    false where it lists others, null where it is blank; all null for a column this file's
    codes (``here``) lack, as a whole read of files with different codes gives them."""
    rows = table.num_rows
    parsed = {}
    for mmap in mapping.multi:
        cells = table.column(_CODES + mmap.name).combine_chunks()
        blank = np.asarray(cells.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        parsed[mmap.name] = (pc.list_flatten(cells), pc.list_parent_indices(cells), blank)
    table = table.drop_columns([_CODES + m.name for m in mapping.multi])
    for name in columns:
        spec = here.get(name)
        if spec is None:
            if name in table.column_names:
                continue  # a mapped field of that name, in a file without the code
            column = pa.nulls(rows, pa.bool_())
        else:
            flat, parents, blank = parsed[spec[0]]
            flag = np.zeros(rows, dtype=bool)
            flag[pc.filter(parents, pc.equal(flat, spec[1])).to_numpy()] = True
            column = pa.array(flag, mask=blank)
        if name in table.column_names:
            table = table.set_column(table.schema.get_field_index(name), name, column)
        else:
            table = table.append_column(name, column)
    return table


def _with_constants(
    mapping: MappingFile, types: Mapping[str, pa.DataType], table: pa.Table
) -> pa.Table:
    """``table`` with the mapping's constants, one value in every row, after the fields (a
    constant for a mapped field takes the field's place)."""
    position = len(mapping.fields)
    for name, value in mapping.constants.items():
        kind = types.get(name, pa.string())
        column = pa.array([value] * table.num_rows, _plain(kind))
        if pa.types.is_dictionary(kind):
            column = column.dictionary_encode().cast(kind)
        if name in table.column_names:
            table = table.set_column(table.schema.get_field_index(name), name, column)
        else:
            table = table.add_column(position, name, column)
            position += 1
    return table


def _first_pass(source: Source, mapping: MappingFile, limits: Limits) -> dict[str, set[str]]:
    """The codes each multi-valued column lists in the records of ``source`` that a read
    accepts: a read batch by batch must know every flag column before its first batch. The
    problems met are met again (and logged) in the read itself."""
    silent = cast(IssueLog, _Silent())
    found: dict[str, set[str]] = {m.name: set() for m in mapping.multi}
    for table in _rows(
        source,
        mapping,
        silent,
        limits=limits,
        batch_rows=_FIRST_PASS_ROWS,
        seen=_FirstSeen(),
        codes_only=True,
    ):
        for name, codes in _present(mapping, table).items():
            found[name] |= codes
    return found


_FIRST_PASS_ROWS = 1 << 16


def _files(sources: Sequence[Source], log: IssueLog, limits: Limits) -> list[Source]:
    """The files to read: each source, and for a ZIP (an export delivered zipped) the CSV
    files in it, each read as it is decompressed (never inflated whole)."""
    out: list[Source] = []
    for source in sources:
        if source.name.lower().endswith((".xlsx", ".xlsm")) or not is_zip(source.head(4)):
            out.append(source)
            continue
        inside = zip_sources(source, "*.csv", limits=limits)
        if not inside:
            log.warning(
                "the ZIP holds no CSV file (.csv); it was not read",
                source=source.name,
                field="(whole file)",
            )
        out.extend(inside)
    return out


def _mapping_of(options: Mapping[str, Any]) -> MappingFile:
    given = options.get("mapping")
    if given is None:
        raise MappingError(
            "the mapping adapter needs a mapping file: "
            f"{errors.give('mapping', repr('export.toml'), to='mns.read')} "
            "(see docs/reference/mapping-files.md)"
        )
    mapping = (
        given
        if isinstance(given, MappingFile)
        else (mapping_from_dict(given) if isinstance(given, Mapping) else load_mapping(given))
    )
    if options.get("sheet"):
        mapping = attrs.evolve(mapping, sheet=options["sheet"])
    return mapping


def stream_mapping(sources: Sequence[Source], options: Mapping[str, Any]) -> Batches:
    """Read exports through a mapping (see the module's description), ``batch_size`` records
    at a time (None: a batch per file). A file is read as its rows are needed, so memory does
    not grow with it; with multi-valued columns and several batches (or files), a first pass
    over the file finds which codes, so which flag columns, it has."""
    mapping = _mapping_of(options)
    log = IssueLog(adapter="mapping", table=mapping.table, strict=bool(options.get("strict")))
    batch_rows = options.get("batch_size")
    limits = limits_from(options)
    files = _files(sources, log, limits)
    names = [f.field for f in mapping.fields] + list(mapping.constants)
    types = _target(mapping.table, names).types
    known: list[dict[str, tuple[str, str]]] | None = None
    columns: list[str] = []
    if mapping.multi and (batch_rows is not None or len(files) > 1):
        known = [_flag_columns(mapping, _first_pass(f, mapping, limits)) for f in files]
        columns = list(dict.fromkeys(name for file in known for name in file))
    for index, source in enumerate(files):
        file_log = log.bind(source=source.name)
        for read in _rows(
            source, mapping, file_log, limits=limits, batch_rows=batch_rows, seen=_FirstSeen()
        ):
            if known is None:  # the whole file is this one table
                here = _flag_columns(mapping, _present(mapping, read))
                out = _flags(mapping, _with_constants(mapping, types, read), here, list(here))
            else:
                out = _flags(mapping, _with_constants(mapping, types, read), known[index], columns)
            yield mapping.table, schema.conform(out, mapping.table)
    provenance = Provenance(
        collection_year=mapping.collection_year, reference_date=mapping.reference_date
    )
    return Records(provenance=provenance, issues=log.table())


def read_mapping(sources: Sequence[Source], options: Mapping[str, Any]) -> Records:
    """Read exports through a mapping (see the module's description): the whole tables of
    :func:`stream_mapping`."""
    return collect(stream_mapping(sources, options))


def sniff_mapping(head: bytes) -> bool:
    """A ZIP of CSV files (an export delivered zipped): its first entry is a ``.csv``. Other
    files are the mapping adapter's by their suffix (``.csv``, ``.xlsx``) or by name."""
    first = next(head_entries(head), None)
    return first is not None and first.name.lower().endswith(".csv")


ADAPTER = Adapter(
    name="mapping",
    description="any CSV or XLSX export from a case-management system (or a ZIP of CSVs), "
    "with a mapping file (TOML)",
    read=read_mapping,
    stream=stream_mapping,
    sniff=sniff_mapping,
    suffixes=(".csv", ".xlsx", ".xlsm"),
    tables=("cases", "services", "outcomes", "assignments"),
    options=(
        Option(
            name="mapping",
            description="the mapping file (a path to TOML, or a dict)",
            default=None,
            type=Path,
            required=True,
        ),
        LIMITS_OPTION,
        Option(
            name="sheet", description="the sheet to read, overriding the mapping's", default=None
        ),
    ),
    version="1",
)
