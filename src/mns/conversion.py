"""``mns.convert``: agency records straight to a records folder, a batch at a time.

``mns.convert("export.csv", "records/", mapping="export.toml", pseudonymise=key)`` writes the
folder ``mns.write(mns.read(...), "records/")`` would (one Parquet file per table, the issues,
``provenance.mns.json``, the manifest), without ever holding the records: when the adapter
streams (``Adapter.stream``, as the mapping adapter does), each batch is protected by mns's
privacy rules and written as it comes, so memory stays bounded however large the export.
Otherwise (an adapter that reads whole tables, or files that several adapters share), the
records are read, then written.

The folder is written as :func:`mns.write` writes one (:mod:`mns.records.folder`): staged beside
its target, renamed into place with its manifest last, whole or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import pyarrow as pa

from mns import dispatch, io, privacy
from mns.errors import MnsError, RecordError
from mns.io import SourceLike
from mns.plugins.adapter import Adapter, Source
from mns.records import folder as outputs, issues, schema
from mns.records.bundle import Records
from mns.records.issues import IssueLog
from mns.records.provenance import PROVENANCE_FILE, provenance_to_json

if TYPE_CHECKING:
    import pyarrow.parquet as pq

__all__ = ["BATCH_ROWS", "convert"]

#: Rows per batch when the caller does not say: a batch of a wide export is a few MB.
BATCH_ROWS = 16_384


def convert(
    source: SourceLike,
    folder: str | Path,
    adapter: str | Adapter | None = None,
    *,
    strict: bool = False,
    pseudonymise: str | bytes | None = None,
    postcode: str | None = "district",
    overwrite: bool = False,
    issue_files: bool = False,
    batch_rows: int = BATCH_ROWS,
    **options: Any,
) -> Path:
    """Read agency records and write them to ``folder`` as :func:`mns.write` would, a batch
    at a time: the folder equals ``mns.write(mns.read(source, ...), folder)``.

    ``source``, ``adapter``, ``strict``, ``pseudonymise``, ``postcode`` and the adapter's
    options are :func:`mns.read`'s; ``overwrite`` and ``issue_files`` are
    :func:`mns.write`'s. ``batch_rows``: the rows read, protected and written at a time when
    the adapter streams (the result does not depend on it; memory does). Returns the folder.

    With an adapter that streams and one adapter for every file, memory is bounded by the
    batch, not the records; otherwise the records are read whole, then written.
    """
    io._check_arguments(postcode, batch_rows, "batch_rows")
    path = Path(folder)
    io._refuse_file(path)
    files = io.sources(source)
    inputs = [*_given_paths(source), *(f.name for f in files)]
    with (
        privacy.reading(pseudonymise, postcode) as settings,  # type: ignore[arg-type]
        issues.one_read(),
    ):
        log = IssueLog()  # files left out, as mns.read logs them
        groups, unused = io._assign(files, adapter, options, log)
        if len(groups) == 1 and groups[0][0].stream is not None:
            chosen, group = groups[0]
            chosen_options = io._given(chosen, options, strict=strict, batch_size=batch_rows)
            guard = io._Guard(chosen, key=pseudonymise, postcode=postcode, settings=settings)
            with outputs.writing(
                path, kind="records", overwrite=overwrite, inputs=inputs
            ) as staging:
                _streamed(
                    _Read(chosen, group, chosen_options, guard, log, strict, files, unused),
                    staging,
                    issue_files=issue_files,
                )
            return path
    records = io.read(
        source,
        adapter,
        strict=strict,
        pseudonymise=pseudonymise,
        postcode=postcode,
        batch_size=batch_rows,
        **options,
    )
    return io.write(records, path, overwrite=overwrite, issue_files=issue_files, inputs=inputs)


def _given_paths(source: SourceLike) -> list[str]:
    """The paths the caller gave (a folder among them): the output may not be inside one."""
    if isinstance(source, (str, Path)):
        return [str(source)]
    if isinstance(source, Sequence) and not isinstance(source, (bytes, str)):
        return [str(s) for s in source if isinstance(s, (str, Path))]
    return []


@attrs.frozen
class _Read:
    """One adapter reading every file of the conversion."""

    adapter: Adapter
    files: tuple[Source, ...]
    options: Mapping[str, Any]
    guard: io._Guard
    log: IssueLog
    strict: bool
    given: Sequence[Source]  #: every file the caller gave (for the notes on what was not read)
    unused: Sequence[str]


def _streamed(read: _Read, staging: Path, *, issue_files: bool) -> None:
    """Stream ``read`` into the staging folder: each batch protected, then written."""
    guard = read.guard
    tables = _Tables(staging, read.adapter)
    try:
        try:
            rest = io.stream(
                read.adapter,
                read.files,
                read.options,
                lambda name, table: tables.add(name, guard.table(name, table)),
            )
        except RecordError:
            raise
        except MnsError as exc:
            if read.strict or not len(read.log):
                raise
            dispatch.refuse(read.log, read.adapter, read.files, exc)
            raise io._nothing_read(read.log, read.given) from exc
        for name, table in io.tables(rest).items():
            if name != "issues" and (table.num_rows or name not in tables):
                tables.add(name, guard.table(name, table))
        for name in schema.TABLES:
            if name != "issues" and name not in tables:
                tables.add(name, guard.table(name, schema.empty(name)))
        part = Records(
            provenance=guard.provenance(read.adapter, read.files, rest.provenance),
            issues=guard.issues(rest.issues),
        )
        done = io._noted(
            dispatch.combine([dispatch.Part(read.adapter, read.files, part)], read.log),
            read.unused,
            read.given,
        )
        tables.add("issues", done.issues)
    finally:
        tables.close()
    (staging / PROVENANCE_FILE).write_text(provenance_to_json(done.provenance), "utf-8")
    if issue_files:
        from mns.records.issue_files import write_issue_files

        write_issue_files(done.issues, staging)


class _Tables:
    """One Parquet file per table in the staging folder, written a batch at a time; every
    batch of a table with the columns of its first (:func:`mns.plugins.align`)."""

    def __init__(self, staging: Path, adapter: Adapter) -> None:
        self.staging = staging
        self.adapter = adapter
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.schemas: dict[str, pa.Schema] = {}

    def __contains__(self, name: str) -> bool:
        return name in self.writers

    def add(self, name: str, table: pa.Table) -> None:
        import pyarrow.parquet as pq

        writer = self.writers.get(name)
        if writer is None:
            io._check_table_name(name)
            if name not in schema.TABLES:  # say which table it is, as canonical tables do
                meta = {**(table.schema.metadata or {}), b"mns.table": name.encode()}
                table = table.replace_schema_metadata(meta)
            writer = self.writers[name] = pq.ParquetWriter(
                self.staging / f"{name}.parquet", table.schema
            )
            self.schemas[name] = table.schema
        else:
            table = io._aligned(self.adapter, name, table, self.schemas[name])
        if table.num_rows:
            writer.write_table(table)  # a file of the staging folder

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()
