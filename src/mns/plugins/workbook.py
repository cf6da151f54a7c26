"""Opening XLSX workbooks within bounds, before any spreadsheet library parses them.

A workbook is a ZIP of XML parts, and both halves can be turned against a reader: a part that
inflates to gigabytes (a zip bomb), or one value at ``XFD1048576`` that makes a reader build a
grid of seventeen billion cells. :func:`check_workbook` reads the ZIP itself first:

- every part's declared size, and their total, are checked against :class:`Limits` before
  anything is inflated; inflating never goes past the declared size (a part that holds more is
  refused as damaged, as its checksum then fails);
- each worksheet is scanned as a stream (never a tree) for the cells that hold something: its
  *used range* is the last row and column holding a value or a formula, whatever its
  ``<dimension>`` says (a dimension can lie either way); a used range over the limits is
  refused, naming the cell that makes it so;
- formulas whose result was never saved (files written by programs that do not calculate) are
  listed, so that readers report them instead of reading a silent blank;
- a part that declares a DTD is refused (spreadsheets never have one).

Readers then iterate only the used range (:func:`sheet_rows`)::

    from mns.plugins import Limits, check_workbook, open_workbook, sheet_rows

    shape = check_workbook(data, name=source.name, limits=Limits(max_cells=5_000_000))
    book = open_workbook(data, name=source.name)          # openpyxl, read-only, values
    for number, cells in sheet_rows(book, shape.sheet("Referrals")):
        ...

A workbook over the limits raises :class:`WorkbookError` (an :class:`mns.MnsError`) naming
the file, the part or sheet and cell, the limit, and how to raise it.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import unescape

import attrs

from mns.errors import MnsError, WorkbookError
from mns.plugins.adapter import Option

if TYPE_CHECKING:
    from mns.records.issues import IssueLog

__all__ = [
    "DEFAULT_LIMITS",
    "LIMITS_OPTION",
    "Limits",
    "SheetShape",
    "WorkbookError",
    "WorkbookShape",
    "cell_reference",
    "check_workbook",
    "limits_from",
    "open_workbook",
    "report_uncached",
    "sheet_rows",
]

_MIB = 1 << 20
_EXCEL_ROWS = 1_048_576
_EXCEL_COLUMNS = 16_384
_CHUNK = 1 << 20
#: Formulas with no saved result remembered per sheet (the rest are counted).
UNCACHED_KEPT = 1000
#: Parts inflating to less than this are never refused for their compression ratio.
RATIO_FLOOR = 16 * _MIB


def _positive(instance: Any, attribute: attrs.Attribute[Any], value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(
            f"Limits.{attribute.name} must be a whole number of 1 or more, not {value!r}"
        )


@attrs.frozen(kw_only=True)
class Limits:
    """How large an input may be before mns refuses it rather than risk memory or time.

    The defaults admit any real return or export (a year of a large authority's referrals is
    a few hundred thousand rows) and refuse what only a damaged or crafted file holds.
    Pass your own through the reading option ``limits`` (``mns.read(path, limits=Limits(...))``)
    or to :func:`check_workbook`.
    """

    #: Largest inflated size of one part of a workbook (ZIP), in bytes.
    max_part_bytes: int = attrs.field(default=512 * _MIB, validator=_positive)
    #: Largest inflated size of all parts of a workbook together, in bytes.
    max_total_bytes: int = attrs.field(default=1024 * _MIB, validator=_positive)
    #: Most parts a workbook may have.
    max_parts: int = attrs.field(default=10_000, validator=_positive)
    #: Largest ratio of a part's inflated size to its compressed size, for parts inflating
    #: past 16 MiB (:data:`RATIO_FLOOR`): spreadsheets compress 5-50 times, zip bombs 1,000.
    max_ratio: int = attrs.field(default=250, validator=_positive)
    #: Most rows in a sheet's used range (Excel's own limit by default).
    max_rows: int = attrs.field(default=_EXCEL_ROWS, validator=_positive)
    #: Most columns in a sheet's used range (Excel's own limit by default).
    max_columns: int = attrs.field(default=_EXCEL_COLUMNS, validator=_positive)
    #: Most cells in a sheet's used range, rows times columns: what a reader holds at once.
    max_cells: int = attrs.field(default=20_000_000, validator=_positive)


DEFAULT_LIMITS = Limits()

#: The ``limits`` option of every adapter that reads workbooks: ``mns.read(path,
#: limits=Limits(max_cells=...))``, or a dict of the same names.
LIMITS_OPTION = Option(
    name="limits",
    description="size limits for workbooks (mns.plugins.Limits, or a dict of its fields)",
    default=None,
)


def limits_from(options: Mapping[str, Any]) -> Limits:
    """The :class:`Limits` an adapter's options give (``limits``: a :class:`Limits`, a dict
    of its fields, or text such as ``"max_cells=50000000,max_rows=200000"`` as the command
    line gives it), or the defaults. A bad value is an :class:`mns.MnsError` saying why."""
    given = options.get("limits")
    if given is None:
        return DEFAULT_LIMITS
    if isinstance(given, Limits):
        return given
    if isinstance(given, str):
        given = _parse_limits(given)
    if not isinstance(given, Mapping):
        raise MnsError(
            f"limits must be mns.plugins.Limits or a dict, not {type(given).__name__}",
            field="limits",
        )
    names = [a.name for a in attrs.fields(Limits)]
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise MnsError(
            f"limits: unknown limit(s) {', '.join(unknown)}; limits are {', '.join(names)}",
            field="limits",
        )
    try:
        return Limits(**given)
    except ValueError as exc:
        raise MnsError(f"limits: {exc}", field="limits") from None


def _parse_limits(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for piece in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = piece.partition("=")
        digits = value.strip().replace("_", "")
        if not digits.isascii() or not digits.isdigit():
            raise MnsError(
                f"limits: {piece!r} is not name=number (e.g. max_cells=50000000)", field="limits"
            )
        out[name.strip()] = int(digits)
    return out


@attrs.frozen(kw_only=True)
class SheetShape:
    """What the scan of one worksheet found."""

    name: str
    part: str  #: the ZIP part holding it, e.g. ``xl/worksheets/sheet1.xml``
    file: str  #: the workbook, as its reader names it
    rows: int  #: the last row holding something (0: the sheet is empty)
    columns: int  #: the last column holding something, 1-based (0: empty)
    declared: str | None  #: the sheet's own ``<dimension ref>``, as written (not trusted)
    cells: int  #: how many cells hold something
    #: (row, column), 1-based, of formulas whose result was never saved (the first
    #: :data:`UNCACHED_KEPT`, in file order) ...
    uncached: tuple[tuple[int, int], ...] = ()
    #: ... and how many there are in all.
    uncached_count: int = 0

    @property
    def uncached_rows(self) -> frozenset[int]:
        """Rows holding a formula with no saved result: not blank rows, though they read so."""
        return frozenset(row for row, _ in self.uncached)

    @property
    def used_range(self) -> str:
        """The used range as a spreadsheet shows it (``A1:F120``), or ``""`` when empty."""
        if not self.rows:
            return ""
        return f"A1:{cell_reference(self.rows, self.columns)}"


@attrs.frozen(kw_only=True)
class WorkbookShape:
    """What :func:`check_workbook` found: each worksheet, in the workbook's order."""

    file: str
    sheets: tuple[SheetShape, ...]
    total_bytes: int  #: the parts' declared inflated size, together

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.sheets)

    def sheet(self, name: str) -> SheetShape:
        for shape in self.sheets:
            if shape.name == name:
                return shape
        raise KeyError(name)


def cell_reference(row: int, column: int) -> str:
    """``(12, 6)`` -> ``"F12"`` (both 1-based)."""
    letters = ""
    n = column
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return f"{letters}{row}"


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


# --- the ZIP and its small XML parts ----------------------------------------------------------

_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_ATTR = re.compile(rb"""([\w:]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_SHEET = re.compile(rb"<(?:\w+:)?sheet\b([^>]*)>")
_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*)>")


def _attrs(text: bytes) -> dict[str, str]:
    """An element's attributes (names without namespace prefix), unescaped; no entity other
    than XML's five is ever expanded."""
    out: dict[str, str] = {}
    for name, double, single in _ATTR.findall(text):
        local = name.decode("utf-8", "replace").rsplit(":", 1)[-1]
        raw = double if double or not single else single
        out.setdefault(
            local,
            unescape(raw.decode("utf-8", "replace"), {"&quot;": '"', "&apos;": "'"}),
        )
    return out


def _refuse(file: str, message: str, **where: Any) -> WorkbookError:
    return WorkbookError(f"{file}: {message}", file=file, **where)


def _over(file: str, what: str, size: int, limits: Limits, field: str) -> WorkbookError:
    """The refusal of a workbook whose ``what`` measures ``size``, over ``limits.<field>``."""
    limit: int = getattr(limits, field)
    return _refuse(
        file,
        f"{what} is {size:,}, over the limit of {limit:,} (Limits.{field}); the workbook was "
        f"refused. If the file is genuine, read it with a larger limit: "
        f"mns.read(..., limits=mns.plugins.Limits({field}=...))",
        field=field,
    )


def _small_part(z: zipfile.ZipFile, name: str, file: str) -> bytes:
    """A small XML part (workbook, relationships), whole; its size was checked already."""
    with z.open(name) as stream:
        data = stream.read()
    if _DTD.search(data):
        raise _refuse(file, f"part {name} declares a DTD, which no workbook has", item=name)
    return data


def _resolve(base: str, target: str) -> str:
    """A relationship's target as a part name (targets are relative to the part's folder)."""
    if target.startswith("/"):
        return target.lstrip("/")
    parts = base.split("/")[:-1]
    for piece in target.split("/"):
        if piece == "..":
            if parts:
                parts.pop()
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts)


def _relationships(z: zipfile.ZipFile, part: str, names: set[str], file: str) -> dict[str, str]:
    folder, _, leaf = part.rpartition("/")
    rels = f"{folder}/_rels/{leaf}.rels" if folder else f"_rels/{leaf}.rels"
    if rels not in names:
        return {}
    out: dict[str, str] = {}
    for raw in _RELATIONSHIP.findall(_small_part(z, rels, file)):
        found = _attrs(raw)
        if "Id" in found and "Target" in found:
            out[found["Id"]] = _resolve(part, found["Target"])
    return out


def _workbook_part(z: zipfile.ZipFile, names: set[str], file: str) -> str:
    for target in _relationships(z, "", names, file).values():
        if target.endswith(".xml") and target in names and "workbook" in target.lower():
            return target
    if "xl/workbook.xml" in names:
        return "xl/workbook.xml"
    raise _refuse(file, "not an XLSX workbook (it has no workbook part)", item="xl/workbook.xml")


# --- scanning one worksheet -------------------------------------------------------------------

_TOKEN = re.compile(
    rb"(?P<row><(?:\w+:)?row\b(?P<row_attrs>[^>]*)>)"
    rb"|<(?:\w+:)?c\b(?P<cell_attrs>[^>]*?)(?:/>|>(?P<body>.*?)</(?:\w+:)?c>)"
    rb"|(?P<dimension><(?:\w+:)?dimension\b[^>]*>)",
    re.DOTALL,
)
_ROW_END = re.compile(rb"</(?:\w+:)?row>|<(?:\w+:)?row\b[^>]*/>")
_REF = re.compile(rb"""\br\s*=\s*["']([^"']*)["']""")
_CELL_REFERENCE = re.compile(rb"([A-Za-z]{1,3})([0-9]{1,7})")
_ROW_NUMBER = re.compile(rb"""\br\s*=\s*["']([0-9]{1,7})["']""")
_HAS_VALUE = re.compile(rb"<(?:\w+:)?(?:v|is)\b")
_HAS_FORMULA = re.compile(rb"<(?:\w+:)?f\b")
_DIMENSION = re.compile(rb"""<(?:\w+:)?dimension\b[^>]*\bref\s*=\s*["']([^"']*)["']""")
# The fast path, for rows and cells that all begin with their reference (as spreadsheet
# programs write them): whole chunks are read by the regex engine, not cell by cell.
_WELL_REFERENCED = re.compile(rb'<c r="[A-Za-z]{1,3}[0-9]{1,7}"')
_FILLED_CELL = re.compile(rb'<c r="([A-Za-z]{1,3})([0-9]{1,7})"[^>]*(?<!/)>\s*<[vif]')
_UNCACHED_CELL = re.compile(
    rb'<c r="([A-Za-z]{1,3})([0-9]{1,7})"[^>]*(?<!/)>\s*<f\b[^>]*(?:/>|>[^<]*</f>)\s*</c>'
)
_LAST_ROW = re.compile(rb'<row r="([0-9]{1,7})"')


def _referenced(text: bytes) -> bool:
    """Whether every cell and row in ``text`` starts with its reference, unprefixed."""
    if b":c " in text or b":row " in text:
        return False
    cells = text.count(b"<c ") + text.count(b"<c>") + text.count(b"<c/")
    if cells != text.count(b'<c r="') or cells != len(_WELL_REFERENCED.findall(text)):
        return False  # a reference out of form is for the slow path to refuse
    rows = text.count(b"<row ") + text.count(b"<row>") + text.count(b"<row/")
    return rows == text.count(b'<row r="')


def _column_key(letters: bytes) -> tuple[int, bytes]:
    return (len(letters), letters.upper())


@attrs.define
class _Scan:
    """The running state of a worksheet scan (fed whole rows at a time)."""

    limits: Limits
    file: str
    sheet: str
    row: int = 0
    column: int = 0
    rows: int = 0
    columns: int = 0
    cells: int = 0
    far_row: str = ""  # the cell that set the last row / column, to name it when refusing
    far_column: str = ""
    declared: str | None = None
    uncached: list[tuple[int, int]] = attrs.field(factory=list)
    uncached_count: int = 0

    def feed(self, text: bytes) -> None:
        if self.declared is None and self.rows == 0:
            dimension = _DIMENSION.search(text)
            if dimension is not None:
                self.declared = dimension.group(1).decode("ascii", "replace")
        if _referenced(text):
            self.feed_referenced(text)
        else:
            self.feed_each(text)
        self.check()

    def feed_referenced(self, text: bytes) -> None:
        """Rows and cells that all give their reference: counted by the regex engine."""
        last_row = text.rfind(b'<row r="')
        if last_row >= 0:
            found = _LAST_ROW.match(text, last_row)
            self.row, self.column = (int(found.group(1)) if found else self.row), 0
        filled = _FILLED_CELL.findall(text)
        if filled:
            self.cells += len(filled)
            numbers = list(map(int, [f[1] for f in filled]))
            last = max(numbers)
            if last > self.rows:
                far = filled[numbers.index(last)]
                self.rows, self.far_row = last, f"{far[0].decode().upper()}{last}"
            letters = max({f[0] for f in filled}, key=_column_key)
            column = _column_number(letters)
            if column > self.columns:
                far = next(f for f in filled if f[0] == letters)
                self.columns = column
                self.far_column = f"{far[0].decode().upper()}{int(far[1])}"
        if b"<f" in text:
            for letters, number in _UNCACHED_CELL.findall(text):
                self.formula_without_value(int(number), _column_number(letters))

    def feed_each(self, text: bytes) -> None:
        """Rows or cells without references: followed one by one, counting positions."""
        for match in _TOKEN.finditer(text):
            if match.group("row") is not None:
                number = _ROW_NUMBER.search(match.group("row_attrs"))
                self.row = int(number.group(1)) if number else self.row + 1
                self.column = 0
            elif match.group("dimension") is None:
                self.cell(match.group("cell_attrs"), match.group("body"))

    def formula_without_value(self, row: int, column: int) -> None:
        self.uncached_count += 1
        if len(self.uncached) < UNCACHED_KEPT:
            self.uncached.append((row, column))

    def cell(self, attributes: bytes, body: bytes | None) -> None:
        given = _REF.search(attributes)
        if given:
            ref = _CELL_REFERENCE.fullmatch(given.group(1))
            if ref is None:
                raise _refuse(
                    self.file,
                    f"sheet {self.sheet!r}: {given.group(1).decode('utf-8', 'replace')!r} is "
                    "not a cell reference; the workbook is damaged",
                    item=self.sheet,
                )
            self.column = _column_number(ref.group(1))
            self.row = int(ref.group(2))
        else:
            self.column += 1
        if not body or not body.strip():
            return  # an empty (perhaps styled) cell holds nothing
        has_value = _HAS_VALUE.search(body) is not None
        if not has_value and _HAS_FORMULA.search(body) is None:
            return
        self.cells += 1
        if not has_value:
            self.formula_without_value(self.row, self.column)
        if self.row > self.rows:
            self.rows, self.far_row = self.row, cell_reference(self.row, self.column)
        if self.column > self.columns:
            self.columns, self.far_column = self.column, cell_reference(self.row, self.column)

    def check(self) -> None:
        limits = self.limits
        if self.rows > limits.max_rows:
            raise self.too_far("rows", self.rows, limits.max_rows, "max_rows", self.far_row)
        if self.columns > limits.max_columns:
            raise self.too_far(
                "columns", self.columns, limits.max_columns, "max_columns", self.far_column
            )
        if self.rows * self.columns > limits.max_cells:
            far = self.far_row if self.far_row != cell_reference(1, 1) else self.far_column
            raise self.too_far(
                "cells", self.rows * self.columns, limits.max_cells, "max_cells", far
            )

    def too_far(self, what: str, size: int, limit: int, field: str, cell: str) -> WorkbookError:
        used = f"A1:{cell_reference(max(self.rows, 1), max(self.columns, 1))}"
        return _refuse(
            self.file,
            f"sheet {self.sheet!r}: a value at cell {cell} makes the used range at least "
            f"{used}, {size:,} {what}, over the limit of {limit:,} (Limits.{field}); the "
            f"workbook was refused. Delete what is in {cell} (and any other stray cell far "
            f"from the data) and save the file again, or read it with a larger limit: "
            f"mns.read(..., limits=mns.plugins.Limits({field}=...))",
            item=self.sheet,
            field=field,
            cell=cell,
        )

    def shape(self, part: str) -> SheetShape:
        return SheetShape(
            name=self.sheet,
            part=part,
            file=self.file,
            rows=self.rows,
            columns=self.columns,
            declared=self.declared,
            cells=self.cells,
            uncached=tuple(self.uncached),
            uncached_count=self.uncached_count,
        )


def _last_row_end(text: bytes, start: int) -> int:
    """Where the last row that ends at or after ``start`` ends (0: none does)."""
    plain = text.rfind(b"</row>", start)
    if plain >= 0:
        return plain + len(b"</row>")
    end = 0
    for match in _ROW_END.finditer(text, start):  # prefixed or empty rows: rare
        end = match.end()
    return end


def _scan_sheet(z: zipfile.ZipFile, part: str, sheet: str, limits: Limits, file: str) -> SheetShape:
    scan = _Scan(limits=limits, file=file, sheet=sheet)
    pending = b""
    first = True
    with z.open(part) as stream:
        while True:
            chunk = stream.read(_CHUNK)
            if first:
                if _DTD.search(chunk[:4096]):
                    raise _refuse(
                        file, f"part {part} declares a DTD, which no workbook has", item=sheet
                    )
                first = False
            if not chunk:
                break
            start = max(0, len(pending) - 16)  # a row end may straddle the chunks
            pending += chunk
            cut = _last_row_end(pending, start)
            if cut:  # scan whole rows; keep the unfinished one for the next chunk
                scan.feed(pending[:cut])
                pending = pending[cut:]
    scan.feed(pending)
    return scan.shape(part)


# --- the public checks -------------------------------------------------------------------------


def check_workbook(
    data: bytes, *, name: str = "<workbook>", limits: Limits | None = None
) -> WorkbookShape:
    """Check an XLSX workbook (its bytes) against ``limits`` before anything parses it, and
    scan its worksheets' used ranges. Raises :class:`WorkbookError` for a file that is not
    a workbook, is damaged, or is over a limit (see the module's description)."""
    limits = limits or DEFAULT_LIMITS
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise _refuse(name, f"not an XLSX workbook (not a ZIP that can be read: {exc})") from None
    with z:
        try:
            return _check(z, name, limits)
        except WorkbookError:
            raise
        except (
            zipfile.BadZipFile,
            zlib.error,
            EOFError,
            OSError,
            ValueError,
            NotImplementedError,
            KeyError,
        ) as exc:
            raise _refuse(
                name, f"the workbook is damaged ({type(exc).__name__}: {exc}); save it again"
            ) from None


def _check(z: zipfile.ZipFile, file: str, limits: Limits) -> WorkbookShape:
    infos = z.infolist()
    if len(infos) > limits.max_parts:
        raise _over(file, "the number of parts", len(infos), limits, "max_parts")
    for info in infos:
        if info.file_size > limits.max_part_bytes:
            what = f"part {info.filename}'s inflated size"
            raise _over(file, what, info.file_size, limits, "max_part_bytes")
        ratio = info.file_size // max(info.compress_size, 1)
        if info.file_size > RATIO_FLOOR and ratio > limits.max_ratio:
            what = f"part {info.filename}'s compression ratio ({info.file_size:,} bytes inflated)"
            raise _over(file, what, ratio, limits, "max_ratio")
    total = sum(info.file_size for info in infos)
    if total > limits.max_total_bytes:
        raise _over(file, "the parts' inflated size", total, limits, "max_total_bytes")
    names = {info.filename for info in infos}
    workbook = _workbook_part(z, names, file)
    targets = _relationships(z, workbook, names, file)
    sheets: list[SheetShape] = []
    for raw in _SHEET.findall(_small_part(z, workbook, file)):
        found = _attrs(raw)
        title, part = found.get("name"), targets.get(found.get("id", ""))
        if title is None or part is None or part not in names:
            continue  # not a worksheet part this file holds: the readers do not see it either
        sheets.append(_scan_sheet(z, part, title, limits, file))
    # Every other XML part too, against the same limits: a reader may resolve a sheet to a
    # part differently (a repeated relationship id, an odd path), and must find it bounded.
    scanned = {shape.part for shape in sheets}
    for info in infos:
        if info.filename.lower().endswith(".xml") and info.filename not in scanned:
            _scan_sheet(z, info.filename, f"part {info.filename}", limits, file)
    return WorkbookShape(file=file, sheets=tuple(sheets), total_bytes=total)


def open_workbook(data: bytes, *, name: str = "<workbook>") -> Any:
    """An openpyxl workbook (read-only, cached values) over bytes that passed
    :func:`check_workbook`. Raises :class:`WorkbookError` when openpyxl cannot read it."""
    import openpyxl

    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises whatever its parts' parsers raise
        raise _refuse(name, f"not a readable XLSX workbook ({type(exc).__name__}: {exc})") from None


def sheet_rows(
    book: Any, shape: SheetShape, *, first: int = 1, last: int | None = None
) -> Iterator[tuple[int, Sequence[Any]]]:
    """``(row number, values)`` for the rows ``first`` to ``last`` of the sheet's used range
    (the whole used range by default), each exactly as wide as the used range. A sheet that
    openpyxl cannot parse (damaged XML) raises :class:`WorkbookError` at the row it reached."""
    end = shape.rows if last is None else min(last, shape.rows)
    if end < first or not shape.columns:
        return
    number = first
    try:
        rows = book[shape.name].iter_rows(
            min_row=first, max_row=end, min_col=1, max_col=shape.columns, values_only=True
        )
        for cells in rows:
            yield number, cells
            number += 1
    except Exception as exc:  # openpyxl raises whatever its XML parser meets
        raise _refuse(
            shape.file,
            f"sheet {shape.name!r} is damaged after row {number - 1} ({type(exc).__name__}: "
            f"{exc}); the rows before it were read, the rest could not be",
            item=shape.name,
        ) from None


def report_uncached(log: IssueLog, sheet: SheetShape) -> None:
    """Log each formula of ``sheet`` whose result was never saved (read as blank), located by
    sheet, row and column; beyond :data:`UNCACHED_KEPT`, one issue counts the rest."""
    for row, column in sheet.uncached:
        ref = cell_reference(row, column)
        log.error(
            f"cell {ref} holds a formula whose result was never saved (the file was written "
            "by a program that does not calculate), so it was read as blank. Open the file "
            "in a spreadsheet program and save it, so that results are saved",
            action="blanked",
            sheet=sheet.name,
            row=row,
            column=ref.rstrip("0123456789"),
        )
    more = sheet.uncached_count - len(sheet.uncached)
    if more > 0:
        log.error(
            f"{more:,} more formulas have no saved result and were read as blank",
            action="blanked",
            sheet=sheet.name,
        )
