"""Small XLSX workbooks made byte by byte, so that a test can plant exactly the fault it needs
(a cell at XFD1048576, a lying ``<dimension>``, a formula with no saved result, a zip bomb)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from xml.sax.saxutils import escape

__all__ = ["Cell", "build_xlsx", "cells_from_rows", "replace_part"]

#: A cell: its reference and its value; a value starting with ``=`` is a formula with no
#: saved result.
Cell = tuple[str, object]

_OOXML = "application/vnd.openxmlformats"
_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    f'<Default Extension="rels" ContentType="{_OOXML}-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    f'ContentType="{_OOXML}-officedocument.spreadsheetml.sheet.main+xml"/>'
    "{overrides}</Types>"
)
_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'


def cells_from_rows(rows: Sequence[Sequence[object]], first_row: int = 1) -> list[Cell]:
    """Cells of a plain grid (row lists from A), skipping ``None`` and ``""``."""
    out: list[Cell] = []
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            if value is not None and value != "":
                out.append((f"{_letters(j)}{first_row + i}", value))
    return out


def _letters(index: int) -> str:
    text = ""
    n = index + 1
    while n:
        n, rest = divmod(n - 1, 26)
        text = chr(65 + rest) + text
    return text


def _row_of(ref: str) -> int:
    return int("".join(c for c in ref if c.isdigit()))


def _cell_xml(ref: str, value: object) -> str:
    if isinstance(value, str) and value.startswith("="):
        return f'<c r="{ref}"><f>{escape(value[1:])}</f></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return (
        f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(str(value))}</t></is></c>'
    )


def sheet_xml(cells: Sequence[Cell], dimension: str | None = None) -> bytes:
    """A worksheet part holding ``cells`` (in row order), with ``dimension`` if given."""
    rows: dict[int, list[str]] = {}
    for ref, value in cells:
        rows.setdefault(_row_of(ref), []).append(_cell_xml(ref, value))
    body = "".join(f'<row r="{r}">{"".join(rows[r])}</row>' for r in sorted(rows))
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {_NS} {_R}>'
        f"{dim}<sheetData>{body}</sheetData></worksheet>"
    ).encode()


def build_xlsx(
    sheets: Mapping[str, Sequence[Cell] | bytes],
    *,
    dimensions: Mapping[str, str] | None = None,
    extra: Mapping[str, bytes] | None = None,
) -> bytes:
    """An XLSX workbook with one worksheet per entry of ``sheets`` (cells, or the part's own
    bytes), in order; ``extra`` adds other parts as they are."""
    dimensions = dimensions or {}
    names = list(sheets)
    workbook = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook {_NS} {_R}><sheets>'
        + "".join(
            f'<sheet name="{escape(n, {chr(34): "&quot;"})}" sheetId="{i + 1}" r:id="rId{i + 1}"/>'
            for i, n in enumerate(names)
        )
        + "</sheets></workbook>"
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(
            f'<Relationship Id="rId{i + 1}" Type="http://schemas.openxmlformats.org/'
            f'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{i + 1}.xml"/>'
            for i in range(len(names))
        )
        + "</Relationships>"
    )
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" ContentType="{_SHEET_TYPE}"/>'
        for i in range(len(names))
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _TYPES.format(overrides=overrides))
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", workbook)
        z.writestr("xl/_rels/workbook.xml.rels", rels)
        for i, name in enumerate(names):
            content = sheets[name]
            part = (
                content if isinstance(content, bytes) else sheet_xml(content, dimensions.get(name))
            )
            z.writestr(f"xl/worksheets/sheet{i + 1}.xml", part)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return buffer.getvalue()


def replace_part(data: bytes, name: str, change: Callable[[bytes], bytes]) -> bytes:
    """``data`` (a ZIP) with the part ``name`` changed by ``change``; other parts as they were."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            content = src.read(info)
            dst.writestr(info, change(content) if info.filename == name else content)
    return out.getvalue()


def _raw_zip(parts: Sequence[tuple[str, bytes, int, int, int]]) -> bytes:
    """A ZIP of already-deflated parts: (name, deflated bytes, crc, size, declared size)."""
    out = io.BytesIO()
    central = []
    for name, deflated, crc, _, declared in parts:
        offset = out.tell()
        encoded = name.encode()
        sizes = (crc, len(deflated), declared, len(encoded))
        out.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0x21, *sizes, 0))
        out.write(encoded + deflated)
        entry = struct.pack(
            "<4sHHHHHHIIIHHHHHII",
            b"PK\x01\x02",
            20,
            20,
            0,
            8,
            0,
            0x21,
            *sizes,
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        central.append(entry + encoded)
    start = out.tell()
    out.write(b"".join(central))
    size, count = out.tell() - start, len(parts)
    out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, size, start, 0))
    return out.getvalue()


def bomb_xlsx(inflated_mib: int, *, declared: int | None = None) -> bytes:
    """A workbook whose one sheet inflates to ``inflated_mib`` MiB of blanks between its tags
    (about 1 KiB of ZIP per MiB), declaring its true size or ``declared``. Made in well under a
    second: one MiB is deflated once and its byte-aligned block repeated."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    blanks = b" " * (1 << 20)
    block = compressor.compress(blanks) + compressor.flush(zlib.Z_FULL_FLUSH)
    head = sheet_xml([("A1", "Child ID")]).replace(b"<sheetData>", b"<sheetData>", 1)
    opening, _, closing = head.partition(b"<sheetData>")
    opening += b"<sheetData>"
    ends = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = ends.compress(opening) + ends.flush(zlib.Z_FULL_FLUSH)
    last = zlib.compressobj(9, zlib.DEFLATED, -15)
    final = last.compress(closing) + last.flush()
    deflated = first + block * inflated_mib + final
    crc = zlib.crc32(opening)
    for _ in range(inflated_mib):
        crc = zlib.crc32(blanks, crc)
    crc = zlib.crc32(closing, crc)
    size = len(opening) + inflated_mib * len(blanks) + len(closing)
    small = build_xlsx({"Sheet1": [("A1", "x")]})
    parts = []
    with zipfile.ZipFile(io.BytesIO(small)) as z:
        for info in z.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                parts.append((info.filename, deflated, crc, size, declared or size))
                continue
            data = z.read(info)
            one = zlib.compressobj(9, zlib.DEFLATED, -15)
            packed = one.compress(data) + one.flush()
            parts.append((info.filename, packed, zlib.crc32(data), len(data), len(data)))
    return _raw_zip(parts)
