"""Reading one 903 CSV file: which table it is (by its columns, never its name), and its rows.

A clean file (one record per line, every row as wide as the header, no blank or repeated
header rows) is parsed by pyarrow's CSV reader in one pass. Anything else is read row by
row with Python's ``csv`` module, which locates every problem:

- the encoding is found from the bytes (UTF-8 with or without a byte-order mark, UTF-16,
  Windows-1252; anything but UTF-8 is reported); a workbook (XLSX, XLS) is refused unread,
  never decoded as text;
- header names in any case or order with stray spaces; columns missing, extra or named
  twice; blank rows and the header repeated inside the data (files pasted together);
- rows with too many cells (the extra ones ignored) or too few (the missing ones read as
  empty), each reported;
- a record the ``csv`` module cannot parse (an unterminated quote, text after a closing
  quote) is rejected, located by its row and the line it starts on, and reading resumes on
  the next line: every line after it is still read, so records in the file = rows read +
  rows rejected.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from mns.plugins import Source, decode_text, detect_encoding, text_head
from mns.records.issues import IssueLog
from mns_ssda903 import spec
from mns_ssda903.arrays import WHITESPACE, holds
from mns_ssda903.raw import RawRows, RawTable

__all__ = ["read_csv", "recognise", "sniff_csv"]

_WORKBOOKS = (
    (b"PK\x03\x04", "an XLSX workbook (a ZIP file)"),
    (b"\xd0\xcf\x11\xe0", "an XLS workbook"),
)


def _normal(name: str) -> str:
    return name.replace("\ufeff", "").strip().upper().replace(" ", "_")


def recognise(header: Sequence[str]) -> tuple[str | None, float]:
    """The 903 table whose columns best match ``header`` and how well (1.0: exactly).

    A table is a candidate when the header holds its ``CHILD`` column and most of its own
    columns; the best is the one with most columns in common, then fewest left over.
    """
    names = {_normal(h) for h in header if h and h.strip()}
    if "CHILD" not in names:
        return None, 0.0
    best: tuple[float, int, str] | None = None
    for table in spec.TABLES.values():
        own = set(table.names)
        common = len(own & names)
        score = common / len(own | names)
        if common < max(2, (len(own) + 1) // 2):
            continue
        key = (score, -len(names - own), table.name)
        if best is None or key > best:
            best = key
    if best is None:
        return None, 0.0
    return best[2], best[0]


def sniff_csv(head: bytes) -> bool:
    """Whether ``head`` starts a 903 CSV table (its header row, recognised by its columns),
    whatever its encoding."""
    if head.startswith(tuple(mark for mark, _ in _WORKBOOKS)):
        return False
    text = text_head(head).removeprefix("\ufeff")
    first = text.lstrip("\r\n").splitlines()[0] if text.strip() else ""
    if "," not in first or len(first) > 1000:
        return False
    try:
        cells = next(csv.reader([first]), [])
    except csv.Error:
        return False
    table, score = recognise(cells)
    return table is not None and score >= 0.5


def _utf8(data: bytes, log: IssueLog) -> bytes | None:
    """The file as UTF-8 bytes without a byte-order mark, or ``None`` (with an issue) when
    it is a workbook, not text."""
    for mark, what in _WORKBOOKS:
        if data.startswith(mark):
            log.error(
                f"the file is {what}, not a CSV file; it was not read (save each table as CSV)",
                action="rejected",
                table="file",
            )
            return None
    encoding = detect_encoding(data)
    if encoding.is_utf8:
        body = data[encoding.bom :]
        if not encoding.bom:
            return body  # found valid UTF-8 throughout
        try:  # a byte-order mark says UTF-8: a damaged file may not be, further on
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            log.warning(
                f"the file starts as UTF-8 but is not UTF-8 throughout ({exc.reason} at byte "
                f"{exc.start + encoding.bom}); such bytes were read as \ufffd (save it as UTF-8)",
                action="kept",
            )
            return decode_text(data, encoding)[0].encode("utf-8")
        return body
    log.warning(
        f"the file is {encoding.label} text; it was read as such (save it as UTF-8)",
        action="kept",
    )
    text, _ = decode_text(data, encoding)
    return text.encode("utf-8")


def _header(cells: list[str], row: int, log: IssueLog) -> str | None:
    """The table a header row names (``None``, with an issue, when none)."""
    header = [_normal(c) for c in cells]
    name, _ = recognise(header)
    if name is None:
        log.error(
            f"the columns {', '.join(h for h in header if h)} are not those of a 903 table "
            f"({', '.join(spec.TABLES)}); the file was not read",
            action="rejected",
            row=row,
            table="file",
        )
    return name


def _positions(name: str, header: list[str], header_row: int, log: IssueLog) -> dict[str, int]:
    """Column -> its place in the header row, reporting columns named twice, extra and
    missing."""
    table = spec.TABLES[name]
    position: dict[str, int] = {}
    for i, column in enumerate(header):
        if not column:
            continue
        if column in position:
            log.warning(
                f"column {column} appears twice in the header; the first (column "
                f"{position[column] + 1}) was read",
                row=header_row,
                column=column,
                table=name,
            )
            continue
        position[column] = i
        if column not in table.columns:
            log.warning(
                f"column {column} is not a column of the {name} table; it was ignored",
                row=header_row,
                column=column,
                table=name,
                action="blanked",
            )
    for column in table.names:
        if column not in position:
            log.warning(
                f"the {name} table has no {column} column; it was read as empty",
                row=header_row,
                column=column,
                table=name,
                action="kept",
            )
    return position


def _clean_lines(data: bytes) -> bool:
    """Whether no quoted value runs over a line end (every line holds an even number of
    quotes): then each line of the file is one record."""
    if b'"' not in data:
        return True
    raw = np.frombuffer(data, dtype=np.uint8)
    quotes = np.flatnonzero(raw == ord('"'))
    ends = np.flatnonzero(raw == ord("\n"))
    per_line = np.bincount(np.searchsorted(ends, quotes), minlength=len(ends) + 1)
    return not (per_line % 2).any()


def _fast(data: bytes, source: Source, log: IssueLog) -> RawTable | None:
    """The table of a clean 903 file, parsed by pyarrow; ``None`` when the file needs the
    careful reader (not a 903 table; a quoted line end; a blank, short, long or repeated
    header row; anything pyarrow cannot parse)."""
    end = data.find(b"\n")
    first = data[: end if end >= 0 else len(data)].decode("utf-8", "replace").rstrip("\r")
    try:
        cells = next(csv.reader([first]), [])
    except csv.Error:
        return None
    header = [_normal(c) for c in cells]
    name, _ = recognise(header)
    if name is None or not _clean_lines(data):
        return None
    odd: list[int] = []

    def invalid(row: pacsv.InvalidRow) -> str:
        odd.append(row.actual_columns)
        return "skip"

    try:
        parsed = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(
                column_names=[f"c{i}" for i in range(len(cells))], skip_rows=1
            ),
            parse_options=pacsv.ParseOptions(
                newlines_in_values=False, ignore_empty_lines=False, invalid_row_handler=invalid
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={f"c{i}": pa.string() for i in range(len(cells))},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if odd:
        return None
    body = [c.combine_chunks() for c in parsed.columns]
    rows = parsed.num_rows
    if rows and "CHILD" in header:
        # a blank row, or the header repeated, shows in the CHILD column: the careful reader
        # reports those (and a row without CHILD) where they are
        child = body[header.index("CHILD")]
        if holds(child, WHITESPACE):
            child = pc.utf8_trim_whitespace(child)
        width = pc.binary_length(child)
        if pc.min(width).as_py() == 0:
            return None
        named = pc.utf8_upper(child.filter(pc.equal(width, len("CHILD"))))
        if pc.any(pc.equal(named, "CHILD")).as_py():
            return None
    position = _positions(name, header, 1, log.bind(table=name))
    return RawTable(
        name=name,
        values={
            c: body[position[c]] if c in position else pa.nulls(rows, pa.string())
            for c in spec.TABLES[name].names
        },
        source=pa.repeat(pa.scalar(source.name, pa.string()), rows),
        row=pa.array(np.arange(2, rows + 2), pa.int64()),
        line=pa.nulls(rows, pa.int64()),
        path=pa.nulls(rows, pa.string()),
    )


class _Broken:
    """A record the ``csv`` module could not parse: where, why, and its line as text."""

    def __init__(self, line: int, lines_left: int, why: str, text: str) -> None:
        self.line, self.lines_left, self.why, self.text = line, lines_left, why, text


def _records(text: str) -> Iterator[tuple[int, list[str] | _Broken]]:
    """(record number, cells) of each record of ``text``; a record the ``csv`` module cannot
    parse comes as :class:`_Broken`, and reading resumes on the line after it starts."""
    lines = text.splitlines(keepends=True)
    start, number = 0, 0
    while start < len(lines):
        reader = csv.reader(lines[start:], strict=True)
        first = start
        try:
            for cells in reader:
                number += 1
                yield number, cells
                first = start + reader.line_num
            return
        except csv.Error as exc:
            number += 1
            yield number, _Broken(first + 1, len(lines) - first - 1, str(exc), lines[first])
            start = first + 1


def _reject(broken: _Broken, number: int, log: IssueLog, child: str | None) -> None:
    left = f", with {broken.lines_left} line(s) after it" if broken.lines_left else ""
    log.error(
        f"row {number} (line {broken.line}) cannot be read as CSV ({broken.why}); it was left "
        f"out and reading went on at line {broken.line + 1}{left}",
        action="rejected",
        row=number,
        value=broken.text.rstrip("\r\n")[:200],
        record=child,
    )


def _careful(text: str, source: Source, log: IssueLog) -> RawTable | None:
    records = _records(text)
    for number, cells in records:
        if isinstance(cells, _Broken):
            _reject(cells, number, log.bind(table="file"), None)
        elif any(c.strip() for c in cells):
            break
        else:
            log.warning("blank row skipped", row=number, action="kept")
    else:
        log.error("the file is empty: no header row, no data", action="rejected", table="file")
        return None
    name = _header(cells, number, log)
    if name is None:
        return None
    header = [_normal(c) for c in cells]
    tlog = log.bind(table=name)
    position = _positions(name, header, number, tlog)
    out = RawRows(name)
    width = len(header)
    wanted = {c: i for c, i in position.items() if c in spec.TABLES[name].columns}
    at_child = wanted.get("CHILD", width)
    for row_number, row in records:
        if isinstance(row, _Broken):
            first = row.text.split(",")
            _reject(
                row, row_number, tlog, first[at_child].strip() if at_child < len(first) else None
            )
            continue
        if not any(c.strip() for c in row):
            tlog.warning("blank row skipped", row=row_number, action="kept")
            continue
        if [_normal(c) for c in row] == header:
            tlog.warning("the header row is repeated here; skipped", row=row_number, action="kept")
            continue
        child = row[at_child] if at_child < len(row) else None
        if len(row) > width and any(c.strip() for c in row[width:]):
            tlog.warning(
                f"the row has {len(row)} cells but the header {width}; the extra cells were "
                "ignored",
                row=row_number,
                action="blanked",
                record=child,
            )
        short = [c for c, i in wanted.items() if i >= len(row)]
        if short:
            tlog.warning(
                f"the row has {len(row)} cells but the header {width}; "
                f"{', '.join(short)} read as empty",
                row=row_number,
                column=short[0],
                action="kept",
                record=child,
            )
        out.append(
            {c: row[i] if i < len(row) else None for c, i in wanted.items()},
            source=source.name,
            row=row_number,
        )
    return out.table()


def read_csv(source: Source, log: IssueLog) -> RawTable | None:
    """The rows of one CSV file as the 903 table its columns say, or ``None`` (with an issue)
    when it is not a 903 table."""
    with source.open() as stream:
        data = stream.read()
    utf8 = _utf8(data, log)
    if utf8 is None:
        return None
    fast = _fast(utf8, source, log)
    if fast is not None:
        return fast
    return _careful(utf8.decode("utf-8"), source, log)
