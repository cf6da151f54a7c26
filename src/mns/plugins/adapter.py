"""What an adapter is: a small frozen record a plugin yields from ``mns_adapters``.

An adapter must ``read`` (whole tables). It may also ``stream``: give its tables a batch at a
time, so that ``mns.read`` and ``mns.convert`` apply the privacy rules batch by batch and
``mns.convert`` writes a multi-GB export in bounded memory. A stream is a generator of
``(table name, pyarrow.RecordBatch)`` pairs that *returns* the rest of what it read: a
:class:`~mns.records.bundle.Records` holding the issues, the provenance and any table it did
not stream::

    def stream(sources, options):
        log = IssueLog(adapter="acme", strict=bool(options.get("strict")))
        batcher = RowBatcher(mns.schema.CASES, options.get("batch_size"))
        for row in rows(sources, log):
            batch = batcher.add(row)
            if batch is not None:
                yield "cases", batch
        yield "cases", batcher.flush()
        return Records(provenance=Provenance(collection_year=2024), issues=log.table())

    ADAPTER = Adapter(name="acme", ..., read=lambda s, o: collect(stream(s, o)), stream=stream)

Every batch of one table has the same columns (a later batch may leave a column out: it is
null there); batches of several tables may come in any order; rows keep their order within
each table. :func:`collect` makes the whole :class:`Records` of a stream (what ``read`` gives).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

import attrs

from mns.records.bundle import Records
from mns.records.schema import TABLES

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "OPTION_TYPES",
    "RESERVED_OPTIONS",
    "Adapter",
    "Batches",
    "Option",
    "Source",
    "checked",
    "collect",
    "feed",
]

#: What an adapter's ``stream`` gives: ``(table name, batch)`` pairs (a ``pyarrow.Table`` is
#: taken too), returning the rest of the read (issues, provenance, tables not streamed) as
#: :class:`~mns.records.bundle.Records`, or None when there is nothing more.
Batches = Generator["tuple[str, pa.RecordBatch | pa.Table]", None, "Records | None"]

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
    ``default``, else ``str``. ``required``: the adapter reads nothing without it (the
    mapping adapter's ``mapping``), so a read of several files gives it none unless the
    option is given.
    """

    name: str = attrs.field(validator=attrs.validators.matches_re(r"^[a-z][a-z0-9_]*$"))
    description: str
    default: Any = None
    type: type | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.in_(OPTION_TYPES))
    )
    required: bool = False


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
    ``sniff(head)`` looks at a file's first bytes (up to 4096) and must be pure and fast; in
    a read of several files, a file with the adapter's suffix that its ``sniff`` does not
    recognise is left out (listed), unless an option given is the adapter's alone.
    ``tables`` names the canonical tables ``read`` may fill; the others come back empty.
    ``stream(sources, options)`` (optional) gives the same tables a batch at a time
    (:data:`Batches`; the module's description shows one): ``mns.read`` and ``mns.convert``
    use it when there is one, with ``batch_size`` the rows wanted per batch (None: as the
    adapter likes), and ``read`` must give what :func:`collect` makes of it.
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
    stream: Callable[[Sequence[Source], Mapping[str, Any]], Batches] | None = attrs.field(
        default=None, eq=False
    )

    def __attrs_post_init__(self) -> None:
        if not callable(self.read):
            raise TypeError(f"Adapter {self.name!r}: read must be callable")
        if self.stream is not None and not callable(self.stream):
            raise TypeError(f"Adapter {self.name!r}: stream must be callable or None")
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

    @property
    def sniffs(self) -> bool:
        """Whether the adapter recognises files by their content (it has a ``sniff``); one
        that does not recognises them by their suffix alone."""
        return self.sniff is not _never


# --- streams -------------------------------------------------------------------------------


def checked(batches: Iterable[tuple[str, Any]]) -> Generator[tuple[str, pa.Table], None, Records]:
    """The batches of an adapter's stream, each as a one-batch ``pyarrow.Table`` with its
    table's name, returning the rest of the read (the :class:`Records` the stream returned;
    an empty one for None). Anything else is an error (``TypeError``) naming what was wrong."""
    import pyarrow as pa

    iterator: Iterator[Any] = iter(batches)
    while True:
        try:
            item = next(iterator)
        except StopIteration as stop:
            rest = stop.value
            break
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
            raise TypeError(f"a stream gives (table name, batch) pairs, not {item!r:.80}")
        name, data = item
        if name == "issues":
            raise TypeError(
                "a stream returns its issues at the end (Records(issues=log.table())); it "
                "does not stream them"
            )
        if isinstance(data, pa.RecordBatch):
            data = pa.Table.from_batches([data])
        elif not isinstance(data, pa.Table):
            raise TypeError(
                f"a stream gives pyarrow RecordBatches (or Tables), not {type(data).__name__} "
                f"(table {name!r})"
            )
        yield name, data
    if rest is None:
        return Records()
    if not isinstance(rest, Records):
        raise TypeError(
            "a stream returns mns.Records (the issues, provenance and tables not streamed), "
            f"not {type(rest).__name__}"
        )
    return rest


def feed(batches: Iterable[tuple[str, Any]], sink: Callable[[str, pa.Table], None]) -> Records:
    """Give every batch of ``batches`` (an adapter's stream, see :func:`checked`) to ``sink``
    with its table's name, in order, and return the rest of the read."""
    iterator = checked(batches)
    while True:
        try:
            name, data = next(iterator)
        except StopIteration as stop:
            rest: Records = stop.value
            return rest
        sink(name, data)


def collect(batches: Iterable[tuple[str, Any]]) -> Records:
    """The whole :class:`Records` of an adapter's stream: each table's batches put together
    (a later batch missing a column has nulls there; :func:`mns.plugins.align`), then the rows
    of the same table in the returned :class:`Records`; the returned issues and provenance.
    What an adapter with a ``stream`` gives as its ``read``."""
    import pyarrow as pa

    from mns.plugins.rows import align
    from mns.records import schema

    parts: dict[str, list[pa.Table]] = {}

    def keep(name: str, table: pa.Table) -> None:
        held = parts.setdefault(name, [])
        held.append(align(table, held[0].schema, what=f"a batch of {name}") if held else table)

    rest = feed(batches, keep)
    whole = {name: getattr(rest, name) for name in TABLES if name != "issues"}
    whole.update(rest.extra)
    for name, table in whole.items():
        if name in parts and table.num_rows:
            keep(name, table)
    joined = {
        name: pa.concat_tables(tables) if len(tables) > 1 else tables[0]
        for name, tables in parts.items()
    }
    canonical = {
        name: schema.conform(joined[name], name) if name in joined else whole[name]
        for name in TABLES
        if name != "issues"
    }
    extra = {**rest.extra, **{n: t for n, t in joined.items() if n not in TABLES}}
    return Records(provenance=rest.provenance, issues=rest.issues, extra=extra, **canonical)
