"""ZIP files, looked into safely: what an adapter needs for exports delivered zipped and for
sniffing formats that are ZIPs (XLSX workbooks, a ZIP of CSVs).

Two views, both bounded and neither decompressing anything it is not asked to:

- :func:`head_entries`: the entries whose local headers start in a file's first bytes, for
  ``sniff`` functions (which see only ``head``). An entry's data is as much as the head
  holds; :meth:`HeadEntry.inflated` decompresses at most ``limit`` bytes of it::

      def sniff(head: bytes) -> bool:
          return any(e.name == "xl/workbook.xml" and b"List 1" in e.inflated()
                     for e in head_entries(head))

- :func:`zip_entries`: every entry of a whole ZIP file, from its central directory (names,
  declared sizes, compression), with no entry decompressed; more than ``Limits.max_parts``
  entries, or an entry inflating more than ``Limits.max_ratio`` times, is refused.
  :func:`zip_sources` gives the entries whose names match a pattern (``"*.csv"``) as
  :class:`~mns.plugins.adapter.Source` objects, each opened as a decompressing stream (an
  export of several CSVs in one ZIP is read entry by entry, never inflated whole)::

      for entry in zip_sources(source, "*.csv"):     # "export.zip/referrals.csv", ...
          read_csv(entry)

A file that is not a ZIP, or a damaged one, raises :class:`mns.AdapterError` naming it.
"""

from __future__ import annotations

import fnmatch
import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

import attrs

from mns.errors import AdapterError

if TYPE_CHECKING:
    from mns.plugins.adapter import Source
    from mns.plugins.workbook import Limits

__all__ = [
    "ZIP_MAGIC",
    "HeadEntry",
    "ZipEntry",
    "head_entries",
    "is_zip",
    "zip_entries",
    "zip_sources",
]

#: The first bytes of a ZIP file (a local file header).
ZIP_MAGIC = b"PK\x03\x04"
_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_STORED, _DEFLATED = 0, 8
#: What :meth:`HeadEntry.inflated` gives at most, by default.
INFLATE_LIMIT = 1 << 20
_SMALL = 16 << 20  # entries inflating to less than this are never refused for their ratio


def is_zip(head: bytes) -> bool:
    """Whether ``head`` (a file's first bytes) starts a ZIP file."""
    return head.startswith(ZIP_MAGIC)


@attrs.frozen(kw_only=True)
class HeadEntry:
    """An entry whose local header is in a file's head: its ``name`` (decoded as the ZIP
    says: UTF-8 when flagged, else CP437), compression ``method`` (0 stored, 8 deflated),
    ``size`` as declared (0 when the writer gave it after the data) and ``data``: its
    compressed bytes as far as the head holds them (``complete`` when all of them)."""

    name: str
    method: int
    size: int
    data: bytes = attrs.field(repr=False)
    complete: bool

    def inflated(self, limit: int = INFLATE_LIMIT) -> bytes:
        """The entry's bytes, decompressed as far as the head allows and at most ``limit``
        of them; empty when the method is neither stored nor deflated, or the data is
        damaged."""
        if self.method == _STORED:
            return self.data[:limit]
        if self.method != _DEFLATED:
            return b""
        try:
            return zlib.decompressobj(-15).decompress(self.data, limit)
        except zlib.error:
            return b""


def head_entries(head: bytes) -> Iterator[HeadEntry]:
    """The entries whose local headers are in ``head``, in file order; nothing when ``head``
    is not a ZIP. Stops at the first entry whose size is given only after its data (the next
    entry cannot be found from the head) and at the end of ``head``."""
    position = 0
    while position + _LOCAL.size <= len(head) and head[position : position + 4] == ZIP_MAGIC:
        (_, _, flags, method, _, _, _, size, _, name_length, extra_length) = _LOCAL.unpack_from(
            head, position
        )
        raw = head[position + _LOCAL.size : position + _LOCAL.size + name_length]
        name = raw.decode("utf-8" if flags & 0x800 else "cp437", errors="replace")
        start = position + _LOCAL.size + name_length + extra_length
        deferred = bool(flags & 0x08) and size == 0
        data = head[start:] if deferred else head[start : start + size]
        complete = not deferred and start + size <= len(head)
        yield HeadEntry(
            name=name,
            method=method,
            size=0 if deferred else size,
            data=data,
            complete=complete,
        )
        if deferred or not complete:
            return
        position = start + size


@attrs.frozen(kw_only=True)
class ZipEntry:
    """One entry of a ZIP file, as its central directory declares it."""

    name: str
    size: int  #: bytes once inflated
    compressed: int  #: bytes stored
    method: int  #: 0 stored, 8 deflated...

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/")


def _open_zip(source: Source) -> tuple[IO[bytes], zipfile.ZipFile]:
    stream = source.open()
    try:
        if not stream.seekable():  # the central directory is at the end: read it whole
            data = stream.read()
            stream.close()
            stream = io.BytesIO(data)
        return stream, zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        stream.close()
        raise AdapterError(
            f"{source.name}: not a readable ZIP file ({exc})", file=source.name
        ) from None


def _limits(limits: Limits | None) -> Limits:
    from mns.plugins.workbook import DEFAULT_LIMITS

    return limits if limits is not None else DEFAULT_LIMITS


def zip_entries(source: Source, *, limits: Limits | None = None) -> tuple[ZipEntry, ...]:
    """The entries of the ZIP file ``source``, from its central directory, in file order;
    nothing is decompressed. Refused (:class:`mns.AdapterError`): a file that is not a ZIP,
    more than ``limits.max_parts`` entries, an entry declaring more than ``limits.max_ratio``
    times its stored size (past 16 MiB), or an encrypted entry."""
    chosen = _limits(limits)
    stream, archive = _open_zip(source)
    try:
        infos = archive.infolist()
    finally:
        archive.close()
        stream.close()
    if len(infos) > chosen.max_parts:
        raise AdapterError(
            f"{source.name}: the ZIP has {len(infos):,} entries, more than mns reads "
            f"(Limits.max_parts = {chosen.max_parts:,}); give limits=Limits(max_parts=...) "
            "to raise it",
            file=source.name,
        )
    entries = []
    for info in infos:
        if info.flag_bits & 0x1:
            raise AdapterError(
                f"{source.name}: entry {info.filename!r} is encrypted; mns reads only "
                "unencrypted ZIP files",
                file=source.name,
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _SMALL and ratio > chosen.max_ratio:
            raise AdapterError(
                f"{source.name}: entry {info.filename!r} would inflate {ratio:,.0f} times "
                f"(to {info.file_size:,} bytes), more than real files do (Limits.max_ratio = "
                f"{chosen.max_ratio}); a ZIP bomb is refused",
                file=source.name,
            )
        entries.append(
            ZipEntry(
                name=info.filename,
                size=info.file_size,
                compressed=info.compress_size,
                method=info.compress_type,
            )
        )
    return tuple(entries)


class _Entry(io.BufferedIOBase):
    """One entry of a ZIP, read as a decompressing stream; closing it closes the ZIP."""

    def __init__(self, source: Source, name: str) -> None:
        super().__init__()
        self._stream, self._archive = _open_zip(source)
        try:
            self._entry: Any = self._archive.open(name)
        except (KeyError, zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
            self.close()
            raise AdapterError(
                f"{source.name}: entry {name!r} cannot be read ({exc})", file=source.name
            ) from None
        self._label = f"{source.name}/{name}"

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        return self._guard(lambda: self._entry.read(-1 if size is None else size))

    def read1(self, size: int = -1) -> bytes:
        return self._guard(lambda: self._entry.read1(size))

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _guard(self, fn: Any) -> bytes:
        try:
            data: bytes = fn()
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise AdapterError(
                f"{self._label}: the ZIP entry is damaged ({exc})", file=self._label
            ) from None
        return data

    def close(self) -> None:
        if not self.closed:
            entry = getattr(self, "_entry", None)
            if entry is not None:
                entry.close()
            self._archive.close()
            self._stream.close()
        super().close()


def zip_sources(
    source: Source, pattern: str = "*", *, limits: Limits | None = None
) -> tuple[Source, ...]:
    """The entries of the ZIP file ``source`` whose names match ``pattern`` (a glob matched
    against the entry's name without its folders, case-insensitively: ``"*.csv"``), as
    sources named ``<zip name>/<entry name>``, in the ZIP's order. Each opens a stream that
    decompresses as it is read. The entries are checked as :func:`zip_entries` does."""
    from mns.plugins.adapter import Source

    wanted = pattern.lower()
    chosen = [
        e
        for e in zip_entries(source, limits=limits)
        if not e.is_dir and fnmatch.fnmatchcase(e.name.rsplit("/", 1)[-1].lower(), wanted)
    ]

    def opener(name: str) -> Any:
        return lambda: _Entry(source, name)

    return tuple(Source(name=f"{source.name}/{e.name}", opener=opener(e.name)) for e in chosen)
