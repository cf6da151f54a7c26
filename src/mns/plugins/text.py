"""Finding a text file's encoding from its bytes: one helper for every adapter's sniffing and
reading.

Exports and returns reach mns in the encodings spreadsheet programs and case-management
systems write: UTF-8 (with or without a byte-order mark), UTF-16 (Excel's "Unicode text",
with a mark), and Windows-1252 (older systems, "ANSI"). :func:`detect_encoding` decides from
the bytes alone, never from the file's name::

    from mns.plugins import decode_text, detect_encoding, text_head

    text, encoding = decode_text(data)       # the whole file; encoding.label for an issue
    sniffed = text_head(head)                # a sniffer's first bytes, whatever the encoding

    with source.open() as stream:            # a file too large to hold: in bounded memory
        encoding, bad = scan_encoding(stream)  # the same answer as for the whole file
    with source.open() as stream:
        for line in text_lines(stream, encoding):   # decoded as decode_text would
            ...

The order: a byte-order mark (UTF-32, UTF-8, UTF-16) wins; then UTF-16 without a mark (every
other byte NUL, as in ASCII text so encoded); then UTF-8 if the bytes are valid UTF-8; else
Windows-1252, with the five bytes it leaves undefined read as the C1 controls they are in
Latin-1 (as web browsers do), so that no byte is ever lost or fails the read.
"""

from __future__ import annotations

import codecs
import contextlib
import io
from collections.abc import Iterator
from typing import IO

import attrs

__all__ = [
    "Encoding",
    "decode_text",
    "detect_encoding",
    "scan_encoding",
    "text_head",
    "text_lines",
]

_BOMS = (  # longest first: the UTF-32 LE mark starts with UTF-16 LE's
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32 (little-endian, with BOM)"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32 (big-endian, with BOM)"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8 with BOM"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16 (little-endian, with BOM)"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16 (big-endian, with BOM)"),
)
_PROBE = 4096


@attrs.frozen(kw_only=True)
class Encoding:
    """An encoding found from bytes: the Python ``codec`` to decode with after skipping
    ``bom`` bytes, and a ``label`` for messages."""

    codec: str
    bom: int
    label: str

    @property
    def is_utf8(self) -> bool:
        return self.codec == "utf-8"


UTF8 = Encoding(codec="utf-8", bom=0, label="UTF-8")
WINDOWS_1252 = Encoding(codec="cp1252", bom=0, label="Windows-1252")


def _utf16_without_bom(head: bytes) -> Encoding | None:
    sample = head[: _PROBE - (_PROBE % 2)]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    nul_even, nul_odd = even.count(0), odd.count(0)
    if nul_odd >= 0.7 * len(odd) and nul_even <= 0.1 * len(even):
        return Encoding(codec="utf-16-le", bom=0, label="UTF-16 (little-endian, no BOM)")
    if nul_even >= 0.7 * len(even) and nul_odd <= 0.1 * len(odd):
        return Encoding(codec="utf-16-be", bom=0, label="UTF-16 (big-endian, no BOM)")
    return None


def _valid_utf8(data: bytes, *, final: bool) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(data, final=final)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(data: bytes, *, complete: bool = True) -> Encoding:
    """The encoding of ``data``: a whole file (``complete=True``) or its first bytes
    (``complete=False``: a character cut off at the end is not held against UTF-8)."""
    for mark, codec, label in _BOMS:
        if data.startswith(mark):
            return Encoding(codec=codec, bom=len(mark), label=label)
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return utf16
    if _valid_utf8(data, final=complete):
        return UTF8
    return WINDOWS_1252


def _cp1252_table() -> dict[int, str]:
    """Latin-1 code points to their Windows-1252 characters (undefined bytes stay C1)."""
    decoded = bytes(range(0x80, 0xA0)).decode("cp1252", errors="replace")
    return {0x80 + i: ch for i, ch in enumerate(decoded) if ch != "\ufffd"}


_CP1252 = _cp1252_table()


def _decode(data: bytes, encoding: Encoding, *, final: bool) -> str:
    body = data[encoding.bom :]
    if encoding.codec == "cp1252":
        return body.decode("latin-1").translate(_CP1252)
    decoder = codecs.getincrementaldecoder(encoding.codec)(errors="replace")
    return decoder.decode(body, final=final)


def decode_text(data: bytes, encoding: Encoding | None = None) -> tuple[str, Encoding]:
    """The text of a whole file, and the encoding it was read in (found from ``data`` unless
    given). A byte that is not valid in a UTF encoding becomes U+FFFD (only possible in a
    damaged file, as the UTF encodings are chosen only for files that hold them)."""
    found = encoding or detect_encoding(data)
    return _decode(data, found, final=True), found


def text_head(head: bytes) -> str:
    """A file's first bytes as text, in the encoding they show (for ``sniff`` functions): a
    UTF-16 or Windows-1252 file's header reads as its UTF-8 twin's does."""
    return _decode(head, detect_encoding(head, complete=False), final=False)


_CHUNK = 1 << 20


def _head(stream: IO[bytes], size: int) -> bytes:
    data = b""
    while len(data) < size:
        more = stream.read(size - len(data))
        if not more:
            break
        data += more
    return data


def scan_encoding(stream: IO[bytes]) -> tuple[Encoding, int | None]:
    """The encoding :func:`detect_encoding` finds for the whole of ``stream`` (a binary file
    at its start), read in chunks so that memory does not grow with the file, and the
    0-based offset of the first byte that is not UTF-8 when that is why it is Windows-1252
    (else None). A byte-order mark or UTF-16 decides from the first bytes; otherwise the
    file is UTF-8 only if every byte of it is."""
    head = _head(stream, _PROBE)
    found = detect_encoding(head, complete=False)
    if found.bom or found.codec not in ("utf-8", "cp1252"):
        return found, None
    decoder = codecs.getincrementaldecoder("utf-8")()
    fed = 0
    data = head
    while True:
        final = not data
        base = fed - len(decoder.getstate()[0])  # undecoded bytes held from the last chunk
        try:
            decoder.decode(data, final=final)
        except UnicodeDecodeError as exc:
            return WINDOWS_1252, base + exc.start
        if final:
            return UTF8, None
        fed += len(data)
        data = stream.read(_CHUNK)


def text_lines(stream: IO[bytes], encoding: Encoding) -> Iterator[str]:
    """The lines of ``stream`` (a binary file at its start, in ``encoding``), decoded as
    :func:`decode_text` decodes a whole file and split as ``io.StringIO(text, newline="")``
    splits it (at ``\\n``, ``\\r\\n`` or ``\\r``, each line keeping its end), a few at a time.
    The caller closes ``stream``."""
    _head(stream, encoding.bom)
    cp1252 = encoding.codec == "cp1252"
    text = io.TextIOWrapper(
        stream,
        encoding="latin-1" if cp1252 else encoding.codec,
        errors="strict" if cp1252 else "replace",
        newline="",
    )
    try:
        if cp1252:
            for line in text:
                yield line.translate(_CP1252)
        else:
            yield from text
    finally:
        with contextlib.suppress(ValueError):  # already closed by the caller
            text.detach()  # the stream is the caller's to close
