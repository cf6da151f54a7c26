"""Reading one 903 CSV file: which table it is (by its columns, never its name), and its rows.

Handled and reported: a byte-order mark, a file that is not UTF-8 (read as Windows-1252),
header names in any case or order with stray spaces, columns missing or extra, a column
named twice, blank rows, the header repeated inside the data (files pasted together), rows
with too many or too few cells.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from mns.plugins import Source
from mns.records.issues import IssueLog
from mns_ssda903 import spec
from mns_ssda903.raw import RawTable

__all__ = ["read_csv", "recognise", "sniff_csv"]


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
    """Whether ``head`` starts a 903 CSV table (its header row, recognised by its columns)."""
    text = head.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "replace")
    first = text.lstrip("\r\n").splitlines()[0] if text.strip() else ""
    if "," not in first or len(first) > 1000:
        return False
    try:
        cells = next(csv.reader([first]), [])
    except csv.Error:
        return False
    table, score = recognise(cells)
    return table is not None and score >= 0.5


def _decode(data: bytes, log: IssueLog) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        log.warning(
            "the file is UTF-16 text; it was read as such (save it as UTF-8)", action="kept"
        )
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        log.warning(
            f"the file is not UTF-8 (byte {exc.start}); it was read as Windows-1252 (save it as "
            "UTF-8)",
            action="kept",
        )
        return data.decode("cp1252", errors="replace")


def read_csv(source: Source, log: IssueLog) -> RawTable | None:
    """The rows of one CSV file as the 903 table its columns say, or ``None`` (with an issue)
    when it is not a 903 table."""
    with source.open() as stream:
        data = stream.read()
    text = _decode(data, log)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    first = next((i for i, r in enumerate(rows) if any(c.strip() for c in r)), None)
    if first is None:
        log.error("the file is empty: no header row, no data", action="rejected", table="file")
        return None
    header = [_normal(c) for c in rows[first]]
    name, _ = recognise(header)
    if name is None:
        log.error(
            f"the columns {', '.join(h for h in header if h)} are not those of a 903 table "
            f"({', '.join(spec.TABLES)}); the file was not read",
            action="rejected",
            row=first + 1,
            table="file",
        )
        return None
    table = spec.TABLES[name]
    header_row = first + 1
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
    out = RawTable.empty(name)
    width = len(header)
    for index in range(first + 1, len(rows)):
        cells = rows[index]
        row_number = index + 1
        if not any(c.strip() for c in cells):
            log.warning("blank row skipped", row=row_number, table=name, action="kept")
            continue
        if [_normal(c) for c in cells] == header:
            log.warning(
                "the header row is repeated here; skipped",
                row=row_number,
                table=name,
                action="kept",
            )
            continue
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            log.warning(
                f"the row has {len(cells)} cells but the header {width}; the extra cells were "
                "ignored",
                row=row_number,
                table=name,
                action="blanked",
            )
        record = {
            c: (cells[i] if i < len(cells) else None)
            for c, i in position.items()
            if c in table.columns
        }
        out.append(record, source=source.name, row=row_number)
    return out
