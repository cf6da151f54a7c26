"""What an adapter is: a small frozen record a plugin yields from ``mns_adapters``."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, cast

import attrs

from mns.records.bundle import Records
from mns.records.schema import TABLES

__all__ = ["OPTION_TYPES", "RESERVED_OPTIONS", "Adapter", "Option", "Source"]

#: Options ``mns.read`` passes to every adapter's ``read`` (adapters do not list them):
#: ``strict`` (bool: raise :class:`mns.RecordError` on the first error, see
#: :class:`mns.records.issues.IssueLog`) and ``batch_size`` (int or None: rows per batch
#: when the adapter streams; a hint, results must not depend on it).
RESERVED_OPTIONS = ("batch_size", "strict")
#: Names ``mns.read`` takes for itself; no adapter option may use them.
_TAKEN = (*RESERVED_OPTIONS, "adapter", "postcode", "pseudonymise", "source")

_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


@attrs.frozen(kw_only=True)
class Source:
    """One input file: its name as the user gave it, and how to open it (binary).

    ``path`` is set for files on disk; a file object given by a caller has none.
    """

    name: str
    opener: Callable[[], IO[bytes]] = attrs.field(eq=False)
    path: Path | None = None

    @classmethod
    def from_path(cls, path: str | Path) -> Source:
        p = Path(path)
        return cls(name=str(p), opener=lambda: p.open("rb"), path=p)

    @classmethod
    def from_bytes(cls, name: str, data: bytes) -> Source:
        return cls(name=name, opener=lambda: io.BytesIO(data))

    @classmethod
    def from_file(cls, file: IO[bytes], name: str | None = None) -> Source:
        """A source reading a caller's binary file object.

        A seekable object is read from its current position each time it is opened (and is
        never closed by mns); any other object is read into memory once.
        """
        given = getattr(file, "name", None)  # a path, or a descriptor number, or nothing
        label = name or (given if isinstance(given, str) and given else "<stream>")
        if file.seekable():
            start = file.tell()

            def opener() -> IO[bytes]:
                file.seek(start)
                return cast(IO[bytes], _Borrowed(file))

            return cls(name=label, opener=opener)
        return cls.from_bytes(label, file.read())

    def open(self) -> IO[bytes]:
        """A fresh binary stream positioned at the start."""
        return self.opener()

    def head(self, size: int = 4096) -> bytes:
        """The first ``size`` bytes (what ``sniff`` sees)."""
        with self.open() as f:
            return f.read(size)


class _Borrowed(io.BufferedIOBase):
    """A view of a caller's file that reads through to it and leaves it open on close."""

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self._raw = raw

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        return self._raw.read(-1 if size is None else size)

    def read1(self, size: int = -1) -> bytes:
        return self._raw.read(size)

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()


#: The value types an option may declare: what the command line can convert text to.
OPTION_TYPES: tuple[type, ...] = (str, int, float, bool, Path, dt.date)


@attrs.frozen(kw_only=True)
class Option:
    """An option an adapter accepts through ``mns.read(..., name=value)``.

    ``type`` is the value's type, one of :data:`OPTION_TYPES` (``mns read -o name=TEXT``
    converts TEXT to it and reports a bad value in one line); by default the type of
    ``default``, else ``str``.
    """

    name: str = attrs.field(validator=attrs.validators.matches_re(r"^[a-z][a-z0-9_]*$"))
    description: str
    default: Any = None
    type: type | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.in_(OPTION_TYPES))
    )


def _suffixes(value: Sequence[str]) -> tuple[str, ...]:
    return tuple(sorted({(s if s.startswith(".") else f".{s}").lower() for s in value}))


def _check_tables(
    instance: Adapter, attribute: attrs.Attribute[Any], value: tuple[str, ...]
) -> None:
    unknown = sorted(set(value) - set(TABLES))
    if unknown:
        raise ValueError(
            f"Adapter {instance.name!r}: tables {unknown} are not canonical tables; "
            f"choose from {', '.join(TABLES)} (offer others through Records.extra)"
        )


def _tuple_of_str(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _tuple_of_options(value: Iterable[Option]) -> tuple[Option, ...]:
    return tuple(value)


def _never(head: bytes) -> bool:
    return False


@attrs.frozen(kw_only=True)
class Adapter:
    """Reads one kind of agency record into mns's canonical tables.

    ``read(sources, options)`` receives every file of one source (a 903 return is a set of
    CSVs) and the options: those the caller gave (only names listed in ``options``, with
    their defaults filled in) plus the reserved ``strict`` and ``batch_size``
    (:data:`RESERVED_OPTIONS`). It returns :class:`~mns.records.bundle.Records` whose
    ``issues`` account for every record not in a table (see :mod:`mns.records.issues`).
    ``sniff(head)`` looks at a file's first bytes (up to 4096) and must be pure and fast.
    ``tables`` names the canonical tables ``read`` may fill; the others come back empty.
    ``plugin`` is set by the plugin manager to the name of the plugin that gave the adapter.
    """

    name: str = attrs.field(validator=attrs.validators.matches_re(_NAME))
    description: str
    read: Callable[[Sequence[Source], Mapping[str, Any]], Records] = attrs.field(eq=False)
    suffixes: tuple[str, ...] = attrs.field(default=(), converter=_suffixes)
    sniff: Callable[[bytes], bool] = attrs.field(default=_never, eq=False)
    tables: tuple[str, ...] = attrs.field(
        default=("cases",), converter=_tuple_of_str, validator=_check_tables
    )
    options: tuple[Option, ...] = attrs.field(default=(), converter=_tuple_of_options)
    version: str = ""
    plugin: str = attrs.field(default="", eq=False)

    def __attrs_post_init__(self) -> None:
        if not callable(self.read):
            raise TypeError(f"Adapter {self.name!r}: read must be callable")
        if not callable(self.sniff):
            raise TypeError(f"Adapter {self.name!r}: sniff must be callable")
        names = [o.name for o in self.options]
        if len(names) != len(set(names)):
            raise ValueError(f"Adapter {self.name!r}: an option is listed twice in {names}")
        taken = sorted(set(names) & set(_TAKEN))
        if taken:
            raise ValueError(
                f"Adapter {self.name!r}: option names {taken} are taken by mns.read "
                f"({', '.join(_TAKEN)}); {', '.join(RESERVED_OPTIONS)} reach every adapter anyway"
            )
