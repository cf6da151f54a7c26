"""Partitioned Parquet datasets: many files read as one table, a file at a time.

:func:`dataset` opens a folder of Parquet files (hive partitions such as ``la=E09000001/
year=2024/part-0.parquet`` become columns), a single file, or a list of files. Nothing is read
but the files' footers. A :class:`Dataset` yields record batches with **projection** (only the
columns asked for are read) and **filter pushdown** (files whose partition values cannot match
are skipped; row groups whose statistics cannot match are skipped; other rows are filtered as
they are read), holding a few batches at a time, however large the dataset.

Every streaming analysis accepts a dataset where it accepts a table: its files are the pieces
an engine computes (see :mod:`mns.engines`), and only the columns the analysis needs are read.
:func:`mns.classify` of a dataset is a dataset too, classified as it is read.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Final, Protocol, TypeAlias

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from mns import _tables
from mns.errors import MnsError, SchemaError
from mns.records import schema as canonical

__all__ = [
    "BATCH_ROWS",
    "METADATA_FILE",
    "TASK_ROWS",
    "Dataset",
    "File",
    "Reader",
    "Step",
    "dataset",
]

#: Files are put together into tasks of at most this many rows (see :meth:`Dataset.tasks`).
TASK_ROWS: Final = 1 << 18
#: Rows per batch read from a file (batches are then put together to be counted).
BATCH_ROWS: Final = 1 << 17
#: Batches read ahead within a file: bounds the memory a scan holds.
READAHEAD: Final = 2
#: File names that are Parquet files; other files in a dataset's folder are an error.
SUFFIXES: Final = (".parquet", ".parq", ".pq")
#: The summary file of a folder's footers (``pyarrow.parquet.write_metadata``): when present,
#: the schema and each file's rows come from it, not from every file's footer.
METADATA_FILE: Final = "_metadata"

#: A partition value as a task carries it: a plain Python value (None: missing).
PartitionValue: TypeAlias = Any


class Step(Protocol):
    """A change made to each batch as it is read (e.g. classification), run where the batch
    is read. It must pickle, to travel to workers."""

    def columns(self, schema: pa.Schema) -> Sequence[str]:
        """The input columns it reads, of a dataset whose columns are ``schema``."""

    def produces(self, schema: pa.Schema) -> Sequence[str]:
        """The output columns it makes (new, or replacing input columns of the same name)."""

    def schema(self, schema: pa.Schema) -> pa.Schema:
        """Its output schema for input ``schema``."""

    def apply(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """The batches changed, in order (one call per task: set-up work is done once)."""


# --------------------------------------------------------------------------------------
# Reading the files of a dataset (what travels to workers)


@attrs.frozen(kw_only=True)
class File:
    """One file of a dataset as a task carries it: plain values, rebuilt into a pyarrow
    fragment only where the file is read (a worker). Nothing here opens the file, so whatever
    forwards a task (a Dask scheduler) never needs to read the data."""

    path: str  #: the path on the dataset's filesystem
    size: int | None = None  #: bytes, from the listing (spares a request per file)
    partition: tuple[tuple[str, PartitionValue], ...] = ()  #: partition column -> value
    rows: int | None = None  #: rows, when a ``_metadata`` file says (else estimated)


@attrs.frozen(kw_only=True, eq=False)
class Reader:
    """How one run reads a file of a dataset: where the files are (``filesystem``), the
    columns read, the filter, the casts to the dataset's types, the steps (each with the
    columns it is given) and the columns kept. It travels once per run to each worker."""

    filesystem: Any  #: a ``pyarrow.fs.FileSystem`` (it pickles as its description)
    scan_schema: pa.Schema  #: the files' unified schema, partition columns included
    read: tuple[str, ...]
    filter: pc.Expression | None
    casts: Mapping[str, pa.DataType]
    steps: tuple[tuple[Step, tuple[str, ...]], ...]
    keep: tuple[str, ...]

    def batches(self, files: Sequence[File]) -> Iterator[pa.RecordBatch]:
        """The batches of some files, read in turn, as the run needs them (small batches of
        successive files are put together before the steps run)."""
        stream: Iterator[pa.RecordBatch] = (
            self._cast(b) for file in files for b in self._read(file) if b.num_rows
        )
        if self.steps:
            stream = _tables.batches(stream, what="dataset")
            for step, given in self.steps:
                stream = step.apply(_selected(stream, given))
        for batch in stream:
            yield batch.select(list(self.keep))

    def fragment(self, file: File) -> Any:
        """``file`` as a pyarrow fragment (its partition values as the fragment's guarantee,
        so that they fill the partition columns and prune by the filter)."""
        import pyarrow.dataset as pads

        return pads.ParquetFileFormat().make_fragment(
            file.path,
            self.filesystem,
            partition_expression=_partition_expression(file.partition, self.scan_schema),
            file_size=file.size,
        )

    def _read(self, file: File) -> Iterator[pa.RecordBatch]:
        name = file.path
        try:
            fragment = self.fragment(file)
            yield from fragment.to_batches(
                schema=self.scan_schema,
                columns=list(self.read),
                filter=self.filter,
                batch_size=BATCH_ROWS,
                batch_readahead=READAHEAD,
                fragment_readahead=1,
            )
        except (pa.ArrowException, OSError) as exc:
            raise _file_error(name, exc) from exc

    def _cast(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if not self.casts:
            return batch
        names = batch.schema.names
        arrays = list(batch.columns)
        fields = list(batch.schema)
        for i, name in enumerate(names):
            target = self.casts.get(name)
            if target is not None and fields[i].type != target:
                arrays[i] = arrays[i].cast(target)
                fields[i] = pa.field(name, target, nullable=fields[i].nullable)
        return pa.RecordBatch.from_arrays(
            arrays, schema=pa.schema(fields, metadata=batch.schema.metadata)
        )


def _partition_expression(
    values: Sequence[tuple[str, PartitionValue]], schema: pa.Schema
) -> pc.Expression:
    """The partition values of a file as the expression pyarrow's discovery gives it."""
    parts = [
        pc.field(name).is_null()
        if value is None
        else pc.field(name) == pc.scalar(pa.scalar(value, schema.field(name).type))
        for name, value in values
    ]
    if not parts:
        return pc.scalar(True)
    expression = parts[0]
    for part in parts[1:]:
        expression = expression & part
    return expression


def _selected(batches: Iterator[pa.RecordBatch], names: Sequence[str]) -> Iterator[pa.RecordBatch]:
    chosen = list(names)
    for batch in batches:
        yield batch.select(chosen)


def _file_error(name: str, exc: BaseException) -> MnsError:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return SchemaError(
        f"{name}: {text}; every file of a dataset must be Parquet with compatible columns "
        "(the same names and types)",
        file=name,
    )


# --------------------------------------------------------------------------------------
# The dataset


def _listing(names: Sequence[str], limit: int = 12) -> str:
    return ", ".join(names[:limit]) + (", ..." if len(names) > limit else "")


@attrs.frozen(kw_only=True, eq=False, repr=False)
class Dataset:
    """A partitioned Parquet dataset opened by :func:`dataset`. Iterating it gives its
    record batches (only its ``columns``, only rows matching its ``filter``)."""

    path: str  #: as given (a folder, a file, or the first of a list)
    source: Any  #: the pyarrow dataset (all files, unified schema)
    filesystem: Any  #: the ``pyarrow.fs.FileSystem`` the files are on
    scan_schema: pa.Schema  #: the files' columns and the partition columns, as stored
    base_schema: pa.Schema  #: the same with mns's types (categories as dictionaries)
    filter: pc.Expression | None = None
    projection: tuple[str, ...] | None = None  #: the columns given (None: all)
    steps: tuple[Step, ...] = ()
    partitions: tuple[str, ...] = ()  #: the partition columns (from folder names)
    task_rows: int = TASK_ROWS  #: files are put together into tasks of at most this many rows
    sizes: Mapping[str, int] = attrs.field(factory=dict)  #: each file's bytes, as listed
    rows: Mapping[str, int] | None = None  #: each file's rows, from a ``_metadata`` file
    _memo: dict[str, Any] = attrs.field(factory=dict, init=False)  # fragments, tasks
    # what depends only on the files (rows per byte): shared with the datasets made from this
    _of_files: dict[str, Any] = attrs.field(factory=dict, alias="of_files", eq=False)

    # ---------------------------------------------------------------- what it holds

    @property
    def schema(self) -> pa.Schema:
        """The columns of the batches it yields."""
        full = self._stage_schemas()[-1]
        if self.projection is None:
            return full
        return pa.schema([full.field(n) for n in self.projection], metadata=full.metadata)

    @property
    def columns(self) -> tuple[str, ...]:
        """The names of the columns it yields."""
        return tuple(self.schema.names)

    def fragments(self) -> list[Any]:
        """The files that may hold matching rows (others are pruned by partition values),
        sorted by path."""
        found = self._memo.get("fragments")
        if found is None:
            found = self._memo["fragments"] = sorted(
                self.source.get_fragments(filter=self.filter)
                if self.filter is not None
                else self.source.get_fragments(),
                key=lambda f: str(f.path),
            )
        return list(found)

    def tasks(self) -> list[tuple[File, ...]]:
        """:meth:`fragments` as :class:`File` descriptions put together, in order, into tasks
        of at most :attr:`task_rows` rows (a larger file is a task of its own), so that small
        files do not each cost a task. The rows of a file are those a ``_metadata`` file
        gives, else its size on the listing times the rows per byte of the dataset's largest
        file: planning reads one footer, not every file's. The grouping depends only on the
        files, never on the engine; the results do not depend on it at all."""
        found = self._memo.get("tasks")
        if found is None:
            per_byte = self._rows_per_byte()
            groups: list[list[File]] = []
            held = 0
            for fragment in self.fragments():
                file = self._file(fragment)
                rows = file.rows
                if rows is None:
                    rows = max(1, round((file.size or 0) * per_byte))
                if groups and held + rows <= self.task_rows:
                    groups[-1].append(file)
                    held += rows
                else:
                    groups.append([file])
                    held = rows
            found = self._memo["tasks"] = [tuple(group) for group in groups]
        return list(found)

    def _file(self, fragment: Any) -> File:
        import pyarrow.dataset as pads

        path = str(fragment.path)
        keys = pads.get_partition_keys(fragment.partition_expression)
        names = self.scan_schema.names  # a schema given may leave a partition column out
        partition = tuple((n, keys[n]) for n in self.partitions if n in keys and n in names)
        rows = self.rows.get(path) if self.rows is not None else None
        return File(path=path, size=self.sizes.get(path), partition=partition, rows=rows)

    def _rows_per_byte(self) -> float:
        """Rows per byte of the dataset's largest file (one footer read), to estimate the rows
        of the others from their sizes; 0 when a ``_metadata`` file gives every file's rows."""
        if self.rows is not None:
            return 0.0
        known = self._of_files.get("rows_per_byte")
        if known is None:
            known = self._of_files["rows_per_byte"] = self._measure_rows_per_byte()
        return float(known)

    def _measure_rows_per_byte(self) -> float:
        import pyarrow.parquet as pq

        if not self.sizes:
            return 0.0
        # the largest file: its footer weighs least in its size
        first = max(self.sizes, key=lambda path: (self.sizes[path], path))
        if not self.sizes[first]:
            return 0.0
        try:
            with self.filesystem.open_input_file(first) as handle:
                rows = int(pq.ParquetFile(handle).metadata.num_rows)
        except (pa.ArrowException, OSError) as exc:
            raise _file_error(first, exc) from exc
        return rows / self.sizes[first]

    @property
    def files(self) -> list[str]:
        """The paths of :meth:`fragments`."""
        return [str(f.path) for f in self.fragments()]

    def count_rows(self) -> int:
        """How many rows match the filter (read from file footers where it can)."""
        return int(
            self.source.count_rows(filter=self.filter)
            if self.filter is not None
            else self.source.count_rows()
        )

    def __repr__(self) -> str:
        parts = [f"{len(self.files)} files", f"{len(self.columns)} columns"]
        if self.partitions:
            parts.append(f"partitioned by {', '.join(self.partitions)}")
        if self.filter is not None:
            parts.append(f"filter {' '.join(str(self.filter).split())}")
        if self.steps:
            parts.append(f"{len(self.steps)} step(s)")
        return f"<mns Dataset {self.path!r}: {'; '.join(parts)}>"

    # ---------------------------------------------------------------- new datasets

    def where(self, filter: pc.Expression | Mapping[str, Any]) -> Dataset:
        """The rows that also match ``filter`` (see :func:`dataset`). A filter can name the
        files' columns and partition columns, not the columns a step adds: filter before
        classifying."""
        expression = _expression(filter, self)
        combined = expression if self.filter is None else (self.filter & expression)
        return attrs.evolve(self, filter=combined)

    def select(self, columns: Sequence[str]) -> Dataset:
        """Only ``columns`` (read from the files only when needed)."""
        if isinstance(columns, str):
            columns = [columns]
        full = self._stage_schemas()[-1] if self.projection is None else self.schema
        _require(full.names, columns, self.path)
        return attrs.evolve(self, projection=tuple(dict.fromkeys(columns)))

    def map(self, step: Step) -> Dataset:
        """The dataset with ``step`` applied to each batch as it is read (the step's output
        schema is worked out now, so a step that cannot apply fails here)."""
        current = self._stage_schemas()[-1]
        out = step.schema(current)  # fails now if the step cannot apply
        base = attrs.evolve(self, steps=(*self.steps, step))
        if self.projection is None:
            return base
        made = set(step.produces(current))
        keep = [n for n in out.names if n in made or n in self.projection]
        return attrs.evolve(base, projection=tuple(keep))

    # ---------------------------------------------------------------- reading

    def _stage_schemas(self) -> list[pa.Schema]:
        schemas = [self.base_schema]
        for step in self.steps:
            schemas.append(step.schema(schemas[-1]))
        return schemas

    def reader(self, columns: Sequence[str] | None = None) -> Reader:
        """How a run that needs ``columns`` (default: all of :attr:`columns`) reads a file."""
        wanted = list(self.columns if columns is None else columns)
        _require(self.columns, wanted, self.path)
        schemas = self._stage_schemas()
        need = list(wanted)
        given: list[tuple[str, ...]] = []
        for step, before in zip(reversed(self.steps), reversed(schemas[:-1]), strict=True):
            made = set(step.produces(before))
            needed = {n for n in need if n not in made} | set(step.columns(before))
            ordered = tuple(n for n in before.names if n in needed)
            given.append(ordered)
            need = list(ordered)
        given.reverse()
        read = tuple(n for n in self.base_schema.names if n in set(need))
        casts = {
            n: self.base_schema.field(n).type
            for n in read
            if self.base_schema.field(n).type != self.scan_schema.field(n).type
        }
        return Reader(
            filesystem=self.filesystem,
            scan_schema=self.scan_schema,
            read=read,
            filter=self.filter,
            casts=casts,
            steps=tuple(zip(self.steps, given, strict=True)),
            keep=tuple(wanted),
        )

    def batches(self, columns: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
        """The record batches of every file in turn, in this process (only ``columns``)."""
        reader = self.reader(columns)
        for group in self.tasks():
            yield from reader.batches(group)

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        return self.batches()

    def to_table(self, columns: Sequence[str] | None = None) -> pa.Table:
        """Everything (or ``columns``) read into one table: for small datasets and results."""
        reader = self.reader(columns)
        schema = pa.schema(
            [self.schema.field(n) for n in reader.keep], metadata=self.schema.metadata
        )
        batches = [b for b in self.batches(columns) if b.num_rows]
        return pa.Table.from_batches(batches, schema=schema).unify_dictionaries()


def _require(names: Sequence[str], wanted: Iterable[str], where: str) -> None:
    _tables.require(names, wanted, f"dataset {where!r}", file=where)


# --------------------------------------------------------------------------------------
# Filters


_FIELD_REF = re.compile(r"FieldRef\.Name\(([^)]*)\)")


def _unknown_column(column: str, shown: str, data: Dataset) -> SchemaError:
    later = column in data.columns
    return SchemaError(
        f"filter {shown} names column {column!r}, which the files of dataset {data.path!r} do "
        f"not have (they have: {_listing(data.scan_schema.names)})"
        + (
            "; a filter applies as the files are read, so it cannot name a column "
            "classification adds: filter the result instead"
            if later
            else ""
        ),
        file=data.path,
        field=column,
    )


def _expression(filter: pc.Expression | Mapping[str, Any], data: Dataset) -> pc.Expression:
    """A filter as a pyarrow expression, checked against the columns of the files."""
    names = data.scan_schema.names
    if isinstance(filter, pc.Expression):
        expression = filter
    elif isinstance(filter, Mapping):
        if not filter:
            raise ValueError("filter: an empty mapping; give {column: value or list of values}")
        unknown = [name for name in filter if name not in names]
        if unknown:
            raise _unknown_column(unknown[0], str(dict(filter)), data)
        parts = []
        for name, value in filter.items():
            field = pc.field(name)
            if value is None:
                parts.append(field.is_null())
            elif isinstance(value, (list, tuple, set, frozenset)):
                values = (
                    sorted(value, key=str) if isinstance(value, (set, frozenset)) else list(value)
                )
                parts.append(field.isin(values))
            else:
                parts.append(field == value)
        expression = parts[0]
        for part in parts[1:]:
            expression = expression & part
    else:
        raise TypeError(
            f"filter must be a pyarrow.compute expression or a mapping of column -> value(s), "
            f"not {type(filter).__name__}"
        )
    try:
        data.source.scanner(filter=expression, columns=[])
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        text = str(exc).strip().splitlines()[0]
        named = _FIELD_REF.search(text)
        if named:
            raise _unknown_column(named.group(1), str(expression), data) from None
        raise SchemaError(
            f"filter {expression} does not apply to dataset {data.path!r}: {text} (compare each "
            "column with values of its type: strings for categories, numbers for years)",
            file=data.path,
        ) from None
    return expression


# --------------------------------------------------------------------------------------
# Opening


@attrs.frozen(kw_only=True)
class _Listing:
    """What a dataset's path stands for: the filesystem, the Parquet files and their sizes,
    the base folder of the partitions, a ``_metadata`` file, and a label for messages."""

    filesystem: Any
    sizes: dict[str, int]  #: file -> bytes, sorted by path
    base: str | None
    metadata: str | None
    label: str


def _paths(
    path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], filesystem: Any = None
) -> _Listing:
    """The files ``path`` stands for, from one listing (their sizes too: no file is opened)."""
    import pyarrow.fs as pafs

    if isinstance(path, (str, os.PathLike)):
        given = [os.fspath(path)]
    else:
        given = [os.fspath(p) for p in path]
        if not given:
            raise ValueError("dataset: the list of files is empty")
    label = given[0]
    fs, first = _filesystem(given[0], filesystem)
    info = fs.get_file_info(first)
    if len(given) == 1 and info.type == pafs.FileType.Directory:
        selector = pafs.FileSelector(first, recursive=True)
        sizes: dict[str, int] = {}
        base = first.rstrip("/")
        metadata = None
        for entry in fs.get_file_info(selector):
            if entry.type != pafs.FileType.File:
                continue
            relative = entry.path[len(base) :].lstrip("/")
            if relative == METADATA_FILE:
                metadata = entry.path
            if any(part.startswith((".", "_")) for part in relative.split("/")):
                continue  # hidden and bookkeeping files (_SUCCESS, .crc), as pyarrow skips them
            if not entry.path.lower().endswith(SUFFIXES):
                raise MnsError(
                    f"dataset {label!r}: {entry.path!r} is not a Parquet file (its name does not "
                    f"end in {', '.join(SUFFIXES)}); a dataset's folder holds only Parquet files: "
                    "move it out, or give the Parquet files as a list",
                    file=entry.path,
                )
            sizes[entry.path] = int(entry.size or 0)
        if not sizes:
            raise MnsError(f"dataset {label!r}: the folder has no Parquet files", file=label)
        return _Listing(
            filesystem=fs,
            sizes=dict(sorted(sizes.items())),
            base=base,
            metadata=metadata,
            label=label,
        )
    sizes = {}
    for item in given:
        fs_item, resolved = _filesystem(item, filesystem)
        found = fs_item.get_file_info(resolved)
        if found.type == pafs.FileType.NotFound:
            raise MnsError(
                f"dataset: {item!r} does not exist (give a folder of Parquet files, or files)",
                file=item,
            )
        if found.type != pafs.FileType.File:
            raise MnsError(
                f"dataset: {item!r} is a folder; give one folder, or a list of files", file=item
            )
        if fs_item.type_name != fs.type_name:
            raise ValueError(
                f"dataset: the files {label!r} and {item!r} are on different filesystems"
            )
        sizes[resolved] = int(found.size or 0)
    return _Listing(filesystem=fs, sizes=sizes, base=None, metadata=None, label=label)


def _filesystem(path: str, given: Any = None) -> tuple[Any, str]:
    """The filesystem of ``path`` and the path on it: ``given``, else a URL's, else this
    machine's (the path made absolute)."""
    import pyarrow.fs as pafs

    if given is not None:
        return given, path
    if "://" in path:
        try:
            filesystem, inner = pafs.FileSystem.from_uri(path)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise MnsError(f"dataset: cannot open {path!r}: {exc}", file=path) from None
        return filesystem, str(inner)
    return pafs.LocalFileSystem(), os.path.abspath(path)


def _summary(listing: _Listing) -> tuple[pa.Schema, dict[str, int]] | None:
    """The files' schema and each file's rows from the folder's ``_metadata`` file, when it
    lists exactly the files found (a stale one is ignored: the footers are read instead)."""
    if listing.metadata is None or listing.base is None:
        return None
    import pyarrow.parquet as pq

    try:
        with listing.filesystem.open_input_file(listing.metadata) as handle:
            summary = pq.read_metadata(handle)
    except (pa.ArrowException, OSError) as exc:
        raise _file_error(listing.metadata, exc) from exc
    rows: dict[str, int] = {}
    for i in range(summary.num_row_groups):
        group = summary.row_group(i)
        if group.num_columns == 0:
            continue
        name = f"{listing.base}/{group.column(0).file_path}"
        rows[name] = rows.get(name, 0) + group.num_rows
    if set(rows) != set(listing.sizes):
        return None
    return summary.schema.to_arrow_schema(), rows


def _base_schema(scan: pa.Schema, partitions: Sequence[str], table: str | None) -> pa.Schema:
    """The dataset's columns with mns's types: string partition columns and the category
    columns of a canonical table as dictionaries."""
    expected = canonical.SCHEMAS.get(table) if table else None
    fields = []
    for field in scan:
        target = field.type
        if field.name in partitions and pa.types.is_string(field.type):
            target = canonical.CATEGORY
        if expected is not None and field.name in expected.names:
            want = expected.field(field.name).type
            if want != field.type and _castable(field.type, want):
                target = want
        fields.append(pa.field(field.name, target, nullable=field.nullable))
    return pa.schema(fields, metadata=scan.metadata)


def _is_filesystem(value: object) -> bool:
    import pyarrow.fs as pafs

    return isinstance(value, pafs.FileSystem)


def _castable(actual: pa.DataType, wanted: pa.DataType) -> bool:
    if pa.types.is_dictionary(wanted):
        return bool(
            pa.types.is_string(actual)
            or (pa.types.is_dictionary(actual) and pa.types.is_string(actual.value_type))
        )
    if pa.types.is_integer(wanted):
        return bool(pa.types.is_integer(actual))
    return bool(pa.types.is_string(wanted) and pa.types.is_large_string(actual))


def dataset(
    path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    filter: pc.Expression | Mapping[str, Any] | None = None,
    columns: Sequence[str] | None = None,
    partitioning: str | None = "hive",
    schema: pa.Schema | str = "all",
    table: str | None = None,
    task_rows: int = TASK_ROWS,
    filesystem: Any = None,
) -> Dataset:
    """Open a Parquet dataset: a folder (read recursively; hive partition folders such as
    ``la=E09000001/year=2024`` become columns), one file, or a list of files. Only the files'
    footers are read now (with ``schema="all"``; a ``_metadata`` file, written by
    ``pyarrow.parquet.write_metadata``, spares even that).

    - ``filter``: the rows to read, a ``pyarrow.compute`` expression (``pc.field("year") >=
      2020``) or a mapping ``{column: value}`` (``{"la": ["E09000001", "E09000002"], "year":
      2024}``: a list means any of, ``None`` means missing; all must hold). Files whose
      partition values cannot match are never opened.
    - ``columns``: the only columns the dataset has (default: all); analyses read only those
      they need in any case.
    - ``partitioning``: ``"hive"`` (``name=value`` folders, the default) or ``None``.
      String partition values are categories (dictionary columns), numbers stay numbers.
    - ``schema``: ``"all"`` (the default) unifies the columns of every file (files of years
      whose indicators differ give nulls for the columns they lack), ``"first"`` takes the
      first file's (faster for many files of one schema), or give a ``pyarrow.Schema``.
    - ``table``: the canonical table the files hold (``"cases"``...); default: what the files
      say (``mns.write`` records it). Its columns are checked and given their canonical types.
    - ``task_rows``: an engine computes a few files at a time as one task of at most this
      many rows (a larger file is a task of its own); the result does not depend on it.
    - ``filesystem``: a ``pyarrow.fs.FileSystem`` the paths are on (default: this machine's,
      or the URL's). It travels to the workers with each run, so it must pickle.
    """
    import pyarrow.dataset as pads

    if isinstance(task_rows, bool) or not isinstance(task_rows, int) or task_rows < 1:
        raise ValueError(f"task_rows = {task_rows!r} must be a whole number of rows, 1 or more")
    if partitioning not in ("hive", None):
        raise ValueError(f"partitioning {partitioning!r} is not 'hive' or None")
    if table is not None and table not in canonical.SCHEMAS:
        raise ValueError(f"table {table!r} is not one of {', '.join(canonical.SCHEMAS)}")
    if not isinstance(schema, pa.Schema) and schema not in ("all", "first"):
        raise ValueError(f"schema {schema!r} is not 'all', 'first' or a pyarrow.Schema")
    if filesystem is not None and not _is_filesystem(filesystem):
        raise TypeError(
            f"filesystem must be a pyarrow.fs.FileSystem, not {type(filesystem).__name__}"
        )
    listing = _paths(path, filesystem)
    label, base = listing.label, listing.base
    options = pads.FileSystemFactoryOptions(
        partition_base_dir=base,
        partitioning=pads.HivePartitioning.discover()
        if partitioning == "hive" and base is not None
        else None,
        exclude_invalid_files=False,
    )
    factory = pads.FileSystemDatasetFactory(
        listing.filesystem, list(listing.sizes), pads.ParquetFileFormat(), options
    )
    summary = _summary(listing)
    try:
        if isinstance(schema, pa.Schema):
            scan_schema = schema
        elif schema == "all" and summary is not None:  # the footers' schema, in one file
            scan_schema = pa.unify_schemas(
                [summary[0], factory.inspect(fragments=0)], promote_options="permissive"
            )
        else:
            scan_schema = factory.inspect(
                promote_options="permissive", fragments=None if schema == "all" else 1
            )
        source = factory.finish(scan_schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OSError) as exc:
        text = str(exc).strip().splitlines()[0]
        raise MnsError(
            f"dataset {label!r}: the files cannot be read as one table: {text}; every file must "
            "be Parquet, with the same type for each column name",
            file=label,
        ) from None
    partitions: tuple[str, ...] = ()
    found = getattr(source, "partitioning", None)
    if found is not None and getattr(found, "schema", None) is not None:
        partitions = tuple(found.schema.names)
    stored = (scan_schema.metadata or {}).get(b"mns.table", b"").decode() or None
    name = table or (stored if stored in canonical.SCHEMAS else None)
    base_schema = _base_schema(scan_schema, partitions, name)
    if name is not None:
        try:
            canonical.check(base_schema, name)
        except SchemaError as exc:
            raise SchemaError(f"dataset {label!r}: {exc.message}", file=label, item=name) from None
    data = Dataset(
        path=label,
        source=source,
        filesystem=listing.filesystem,
        sizes=listing.sizes,
        rows=summary[1] if summary is not None else None,
        scan_schema=scan_schema,
        base_schema=base_schema,
        partitions=partitions,
        task_rows=task_rows,
    )
    if filter is not None:
        data = data.where(filter)
    if columns is not None:
        data = data.select(columns)
    return data
