"""``Records``: the tables one read produced, with where they came from."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from mns.records import schema

__all__ = ["Provenance", "Records", "SourceFile", "base_name", "publishable"]


@attrs.frozen(kw_only=True)
class SourceFile:
    """A file that was read, with its checksum so a result can be traced to exact inputs."""

    name: str
    sha256: str
    size: int


@attrs.frozen(kw_only=True)
class Provenance:
    """Where records came from and how they were read.

    Adapters leave ``adapter``, ``adapter_version`` and ``files`` empty: ``mns.read`` fills
    them in (the adapter's name and version, every file read with its SHA-256). A
    provenance whose ``adapter`` is already set is a stored one (the canonical reader of a
    folder written by ``mns.write`` restores it) and is kept whole.
    """

    adapter: str = ""
    adapter_version: str = ""
    files: tuple[SourceFile, ...] = ()
    collection_year: int | None = None
    reference_date: dt.date | None = None
    pseudonymised: bool = False
    warnings: tuple[str, ...] = ()


def base_name(path: str) -> str:
    """The file name of ``path`` without its folders (POSIX or Windows)."""
    return PureWindowsPath(PurePosixPath(path).name).name


def publishable(provenance: Provenance) -> Provenance:
    """``provenance`` as published outputs may show it: each file by its base name (no
    folders: they can name people, services or machines) with its checksum and size."""
    files = tuple(attrs.evolve(f, name=base_name(f.name)) for f in provenance.files)
    return attrs.evolve(provenance, files=files)


def _meets(name: str) -> Callable[[object, attrs.Attribute[Any], pa.Table], None]:
    """A validator: the value is a pyarrow Table meeting the canonical schema ``name``."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: pa.Table) -> None:
        if not isinstance(value, pa.Table):
            raise TypeError(
                f"Records.{attribute.name} must be a pyarrow Table, not {type(value).__name__}"
            )
        schema.check(value, name)

    return check


def _check_extra(
    instance: object, attribute: attrs.Attribute[Any], value: Mapping[str, pa.Table]
) -> None:
    for name, table in value.items():
        if name in schema.TABLES:
            raise ValueError(
                f"Records.extra: {name!r} is a canonical table; put it in Records.{name} instead"
            )
        if not isinstance(table, pa.Table):
            raise TypeError(
                f"Records.extra[{name!r}] must be a pyarrow Table, not {type(table).__name__}"
            )


@attrs.frozen(kw_only=True)
class Records:
    """The canonical tables read from one source; absent tables are empty with the right schema.

    ``extra`` holds further tables an adapter offers researchers (e.g. the CIN census's
    relational split), by name.
    """

    provenance: Provenance = attrs.field(factory=Provenance)
    cases: pa.Table = attrs.field(
        factory=functools.partial(schema.empty, "cases"), validator=_meets("cases")
    )
    services: pa.Table = attrs.field(
        factory=functools.partial(schema.empty, "services"), validator=_meets("services")
    )
    outcomes: pa.Table = attrs.field(
        factory=functools.partial(schema.empty, "outcomes"), validator=_meets("outcomes")
    )
    assignments: pa.Table = attrs.field(
        factory=functools.partial(schema.empty, "assignments"), validator=_meets("assignments")
    )
    issues: pa.Table = attrs.field(
        factory=functools.partial(schema.empty, "issues"), validator=_meets("issues")
    )
    extra: Mapping[str, pa.Table] = attrs.field(factory=dict, validator=_check_extra)

    @property
    def errors(self) -> int:
        """How many problems of severity ``error`` were met (a summary of those not listed
        counts as many as it stands for: its ``count``)."""
        errors = pc.equal(self.issues.column("severity"), "error")
        if "count" not in self.issues.column_names:
            return int(pc.sum(errors).as_py() or 0)
        each = pc.fill_null(self.issues.column("count").cast(pa.int64()), 1)
        return int(pc.sum(pc.if_else(errors, each, 0)).as_py() or 0)
