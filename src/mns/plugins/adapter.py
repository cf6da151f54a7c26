"""What an adapter is: a small frozen record a plugin yields from ``mns_adapters``."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import attrs

from mns.records.bundle import Records
from mns.records.schema import TABLES

__all__ = ["Adapter", "Option", "Source"]

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

    def open(self) -> IO[bytes]:
        """A fresh binary stream positioned at the start."""
        return self.opener()

    def head(self, size: int = 4096) -> bytes:
        """The first ``size`` bytes (what ``sniff`` sees)."""
        with self.open() as f:
            return f.read(size)


@attrs.frozen(kw_only=True)
class Option:
    """An option an adapter accepts through ``mns.read(..., name=value)``."""

    name: str = attrs.field(validator=attrs.validators.matches_re(r"^[a-z][a-z0-9_]*$"))
    description: str
    default: Any = None


def _suffixes(value: Sequence[str]) -> tuple[str, ...]:
    return tuple(sorted({(s if s.startswith(".") else f".{s}").lower() for s in value}))


def _check_tables(instance: Adapter, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    unknown = sorted(set(value) - set(TABLES))
    if unknown:
        raise ValueError(
            f"Adapter {instance.name!r}: tables {unknown} are not canonical tables; "
            f"choose from {', '.join(TABLES)} (offer others through Records.extra)"
        )


def _never(head: bytes) -> bool:
    return False


@attrs.frozen(kw_only=True)
class Adapter:
    """Reads one kind of agency record into mns's canonical tables.

    ``read(sources, options)`` receives every file of one source (a 903 return is a set of
    CSVs) and the options the caller gave (only names listed in ``options``), and returns
    :class:`~mns.records.bundle.Records`. ``sniff(head)`` looks at a file's first bytes and
    must be pure and fast.
    """

    name: str = attrs.field(validator=attrs.validators.matches_re(_NAME))
    description: str
    read: Callable[[Sequence[Source], Mapping[str, Any]], Records] = attrs.field(eq=False)
    suffixes: tuple[str, ...] = attrs.field(default=(), converter=_suffixes)
    sniff: Callable[[bytes], bool] = attrs.field(default=_never, eq=False)
    tables: tuple[str, ...] = attrs.field(default=("cases",), converter=tuple, validator=_check_tables)
    options: tuple[Option, ...] = attrs.field(default=(), converter=tuple)
    version: str = ""

    def __attrs_post_init__(self) -> None:
        if not callable(self.read):
            raise TypeError(f"Adapter {self.name!r}: read must be callable")
        if not callable(self.sniff):
            raise TypeError(f"Adapter {self.name!r}: sniff must be callable")
        names = [o.name for o in self.options]
        if len(names) != len(set(names)):
            raise ValueError(f"Adapter {self.name!r}: an option is listed twice in {names}")
