"""``mns.read`` and ``mns.write``: agency records in, canonical tables out, and back again.

``read`` turns what the caller gave into :class:`~mns.plugins.adapter.Source` objects,
chooses an adapter (explicit name, then file suffix, then ``sniff``), lets it read, and then
does what every read needs whatever the adapter: canonical column types, provenance with
checksums, and the privacy rules of :mod:`mns.privacy`.

``write`` stores :class:`~mns.records.bundle.Records` as a folder of Parquet files (one per
table, named after it) plus ``provenance.mns.json``; ``read(folder)`` gives them back
identically.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, cast

import attrs
import pyarrow as pa

from mns import dispatch, errors, privacy
from mns.dispatch import choose
from mns.errors import AdapterError, MnsError, RecordError
from mns.participation import PARTICIPATION_FILE
from mns.plugins.adapter import Adapter, Source
from mns.records import folder as outputs, issues, schema
from mns.records.bundle import Provenance, Records, SourceFile
from mns.records.issues import IssueLog
from mns.records.provenance import PROVENANCE_FILE, provenance_to_json

__all__ = [
    "SourceLike",
    "choose",
    "read",
    "sources",
    "stream",
    "tables",
    "write",
]


_NOT_PSEUDONYMISED = "identifiers are not pseudonymised: "


def _not_pseudonymised() -> str:
    return (
        _NOT_PSEUDONYMISED
        + f"{errors.give('pseudonymise', '<secret key>', to='mns.read')} to replace them with "
        "keyed pseudonyms"
    )


SourceLike = str | Path | IO[bytes] | Source | Sequence["str | Path | IO[bytes] | Source"]


# --- sources -------------------------------------------------------------------------------


def _is_file_object(value: object) -> bool:
    return hasattr(value, "read") and not isinstance(value, (str, Path, Source))


def sources(source: SourceLike) -> tuple[Source, ...]:
    """The files ``source`` stands for: a path, a folder (its files, sorted, hidden ones and
    sub-folders left out), a binary file object, a :class:`Source`, or a list of these."""
    if isinstance(source, Source):
        return (source,)
    if _is_file_object(source):
        return (Source.from_file(source),)  # type: ignore[arg-type]
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.is_dir():
            files = sorted(
                p
                for p in path.iterdir()
                if p.is_file() and not p.name.startswith(".") and p.name != PARTICIPATION_FILE
            )  # who took part in the audit (mns audit reads it) is not records
            if {p.name for p in files} & {PROVENANCE_FILE, outputs.MANIFEST_FILE}:
                # mns wrote it: only whole (a complete manifest); the tables are the Parquet
                # files it lists; the issues' CSV and workbook copies beside them are for people
                listed = {e.name for e in outputs.check(path).files}
                files = [
                    p
                    for p in files
                    if p.name in listed and (p.suffix == ".parquet" or p.name == PROVENANCE_FILE)
                ]
            if not files:
                raise AdapterError(f"folder {str(path)!r} has no files to read", file=str(path))
            return tuple(Source(name=str(p), opener=_opener(p), path=p) for p in files)
        if not path.is_file():
            raise AdapterError(
                f"{str(path)!r} does not exist (or is not a file or folder)", file=str(path)
            )
        outputs.refuse_unfinished(path)
        return (Source.from_path(path),)
    if isinstance(source, Iterable) and not isinstance(source, bytes):
        found = tuple(s for item in source for s in sources(cast(SourceLike, item)))
        if not found:
            raise AdapterError("no files to read: the list of sources is empty")
        names = [s.name for s in found]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise AdapterError(f"the same file is given twice: {', '.join(twice)}", file=twice[0])
        return found
    raise TypeError(
        f"cannot read from {type(source).__name__}: give a path, a folder, a binary file "
        "object, or a list of these"
    )


def _opener(path: Path) -> Any:
    return lambda: path.open("rb")


# --- choosing the adapter ------------------------------------------------------------------


def _options(adapter: Adapter, given: Mapping[str, Any]) -> dict[str, Any]:
    accepted = {o.name: o for o in adapter.options}
    unknown = sorted(set(given) - set(accepted))
    if unknown:
        listed = ", ".join(sorted(accepted)) or "none"
        raise AdapterError(
            f"adapter {adapter.name!r} does not take option(s) {', '.join(unknown)}; "
            f"it takes: {listed}",
            adapter=adapter.name,
            plugin=adapter.plugin or None,
        )
    return {name: given.get(name, option.default) for name, option in accepted.items()}


# --- provenance ----------------------------------------------------------------------------


def _checksum(source: Source) -> SourceFile:
    digest = hashlib.sha256()
    size = 0
    with source.open() as stream:
        while chunk := stream.read(1 << 22):
            digest.update(chunk)
            size += len(chunk)
    return SourceFile(name=source.name, sha256=digest.hexdigest(), size=size)


# --- read ----------------------------------------------------------------------------------


def tables(records: Records) -> dict[str, pa.Table]:
    """The canonical tables of ``records`` by name, then its extra tables."""
    return {**{name: getattr(records, name) for name in schema.TABLES}, **records.extra}


def _check_arguments(postcode: str | None, batch_size: int | None, name: str) -> None:
    if postcode not in (None, "district", "sector"):  # before reading, not after
        raise ValueError(f"postcode={postcode!r}: use 'district', 'sector' or None (keep as read)")
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
    ):
        raise ValueError(f"{name}={batch_size!r}: give a positive number of rows")


def read(
    source: SourceLike,
    adapter: str | Adapter | None = None,
    *,
    strict: bool = False,
    pseudonymise: str | bytes | None = None,
    postcode: str | None = "district",
    batch_size: int | None = None,
    **options: Any,
) -> Records:
    """Read agency records into mns's canonical tables.

    ``source``: a path, several paths, a folder, or a binary file object. ``adapter``: an
    adapter name (see ``mns.adapters()``) or an :class:`mns.Adapter`; by default the adapter
    is chosen by file suffix, then by content. ``strict=True`` raises :class:`mns.RecordError`
    at the first error; otherwise every problem is a row of ``issues``.
    ``pseudonymise``: a secret key; identifiers become keyed pseudonyms (same key, same
    pseudonym, in every file and agency). ``postcode``: ``"district"`` (default),
    ``"sector"`` or ``None`` (as read). Dates of birth are always cut to the month.
    ``batch_size``: rows per batch for adapters that stream (results do not depend on it).
    Other keyword options go to the adapter (``mns adapters`` lists them).

    An adapter that streams (``Adapter.stream``) is read a batch at a time, each batch
    protected as it comes; :func:`mns.convert` writes such a read to a folder without
    holding it.
    """
    _check_arguments(postcode, batch_size, "batch_size")
    files = sources(source)
    read_parts: list[tuple[Adapter, tuple[Source, ...], _Part]] = []
    with (
        privacy.reading(pseudonymise, postcode) as settings,  # type: ignore[arg-type]
        issues.one_read(),  # one issue memory for the whole read (issues.IssueLimits)
    ):
        log = IssueLog()  # files left out or refused whole, when others are read
        groups, unused = _assign(files, adapter, options, log)
        for chosen, group in groups:
            given = _given(chosen, options, strict=strict, batch_size=batch_size)
            guard = _Guard(chosen, key=pseudonymise, postcode=postcode, settings=settings)
            try:
                read_parts.append((chosen, group, _read_part(chosen, group, given, guard)))
            except RecordError:
                raise
            except MnsError as exc:
                if strict or (len(groups) == 1 and not len(log)):
                    raise  # nothing else to give back
                dispatch.refuse(log, chosen, group, exc)
    if not read_parts:
        raise _nothing_read(log, files)
    parts = [  # issues protected once every log of the read has declared its roles
        dispatch.Part(chosen, group, part.records(chosen, group))
        for chosen, group, part in read_parts
    ]
    return _noted(dispatch.combine(parts, log), unused, files)


def _assign(
    files: Sequence[Source],
    adapter: str | Adapter | None,
    options: Mapping[str, Any],
    log: IssueLog,
) -> tuple[list[tuple[Adapter, tuple[Source, ...]]], list[str]]:
    """Which adapter reads which files (:func:`mns.dispatch.assign`), and the options no
    adapter of the read takes (when only mns's own tables are read; else an error)."""
    from mns.plugins import manager

    candidates = () if isinstance(adapter, Adapter) else manager.adapters()
    _refuse_adapter_for_own_tables(files, adapter)
    groups = dispatch.assign(files, candidates, adapter, options, log)
    taken = {o.name for chosen, _ in groups for o in chosen.options}
    unused = sorted(set(options) - taken)
    own = adapter is None and all(chosen.name == _OWN_TABLES for chosen, _ in groups)
    if unused and not own:  # an option no adapter of this read takes: name it
        _options(groups[0][0], options)
    return groups, unused


def _given(
    chosen: Adapter, options: Mapping[str, Any], *, strict: bool, batch_size: int | None
) -> dict[str, Any]:
    """What ``chosen`` receives: its options, defaults filled in, and the reserved ones."""
    return {
        **_options(chosen, dispatch.options_for(chosen, options)),
        "strict": strict,
        "batch_size": batch_size,
    }


def _nothing_read(log: IssueLog, files: Sequence[Source]) -> AdapterError:
    return AdapterError(
        "no file could be read: " + "; ".join(f"{i['source']}: {i['message']}" for i in log),
        file=files[0].name,
    )


def _noted(records: Records, unused: Sequence[str], files: Sequence[Source]) -> Records:
    """``records`` with a note of the options not applied to reading mns's own tables."""
    if not unused:
        return records
    folders = _folders(files)
    note = (
        f"{', '.join(folders)} {'hold' if len(folders) > 1 else 'holds'} mns's own tables: "
        "read as they are "
        f"({', '.join(f'{name}=' for name in unused)} not applied to reading them)"
    )
    provenance = records.provenance
    return attrs.evolve(
        records, provenance=attrs.evolve(provenance, warnings=(*provenance.warnings, note))
    )


#: The adapter that reads mns's own tables (a folder ``mns read --out`` or :func:`write`
#: wrote, or their Parquet files): they are read as they are, whatever the options.
_OWN_TABLES = "canonical"


def _folders(files: Sequence[Source]) -> list[str]:
    return sorted({str(Path(f.name).parent) for f in files})


def _refuse_adapter_for_own_tables(files: Sequence[Source], adapter: str | Adapter | None) -> None:
    """A folder mns wrote (its manifest or provenance beside the tables) holds mns's own
    tables: naming another adapter for it is a mistake, said in one line."""
    name = adapter.name if isinstance(adapter, Adapter) else adapter
    if name in (None, _OWN_TABLES) or not files:
        return
    marks = (PROVENANCE_FILE, outputs.MANIFEST_FILE)
    parents = {f.path.parent for f in files if f.path is not None}
    if all(f.path is not None for f in files) and all(
        any((folder / mark).is_file() for mark in marks) for folder in parents
    ):
        folders = ", ".join(sorted(str(p) for p in parents))
        raise AdapterError(
            f"{folders} holds mns's own tables (a folder `mns read --out` or mns.write wrote), "
            f"which mns reads as they are: read it without naming the adapter {name!r} (and "
            "without its options)",
            file=folders,
            adapter=name,
        )


# --- privacy, table by table or batch by batch ---------------------------------------------


class _Guard:
    """mns's privacy rules applied to what one adapter reads: each table, or each batch of a
    stream, as it comes (:meth:`table`); then its issues (:meth:`issues`, once every issue
    log of the read has declared the roles of its fields) and its provenance.

    A table protected whole and the same table protected batch by batch are the same rows:
    every rule looks at one value at a time, and the issues the rules add (postcodes that
    had to be left out) are kept per table, in the order of :func:`tables`.
    """

    def __init__(
        self,
        adapter: Adapter,
        *,
        key: str | bytes | None,
        postcode: str | None,
        settings: privacy.Settings,
        already: bool = False,
    ) -> None:
        self.adapter = adapter
        self.given = key
        self.postcode = postcode
        self.settings = settings
        self.already = already  # identifiers already pseudonymised (mns's own tables)
        self.used = False  # whether any table or batch went through the key
        self.roles: dict[str, str] = {}
        self.blanked: dict[str, list[pa.Table]] = {}

    @property
    def key(self) -> str | bytes | None:
        return None if self.already else self.given

    def table(self, name: str, table: pa.Table) -> pa.Table:
        """``table`` (or one batch of it, as a table) protected; canonical ones conformed."""
        protected = privacy.protect(
            {name: table},
            _no_issues(),
            key=self.key,
            postcode=self.postcode,  # type: ignore[arg-type]
        )
        self.used = self.used or self.key is not None
        for column, role in protected.roles.items():
            self.roles.setdefault(column, role)
        if protected.issues.num_rows:
            self.blanked.setdefault(name, []).append(protected.issues)
        out = protected.tables[name]
        if name not in schema.TABLES:
            return out
        try:
            return schema.conform(out, name)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            chosen = self.adapter
            raise AdapterError(
                f"adapter {chosen.name!r} (plugin {chosen.plugin or '?'}) gave a {name} table "
                f"mns cannot make canonical: {exc}",
                adapter=chosen.name,
                plugin=chosen.plugin or None,
            ) from exc

    def issues(self, found: pa.Table) -> pa.Table:
        """The adapter's issues protected, then those the rules added, table by table."""
        protected = privacy.protect(
            {},
            found,
            key=self.key,
            postcode=self.postcode,  # type: ignore[arg-type]
            roles={**self.settings.roles, **self.roles},
        ).issues
        order = [*(n for n in schema.TABLES if n in self.blanked), *self.blanked]
        added = [t for name in dict.fromkeys(order) for t in self.blanked[name]]
        if added:
            protected = pa.concat_tables([protected, *added], promote_options="default")
        return schema.conform(protected, "issues")

    def provenance(
        self, chosen: Adapter, files: Sequence[Source], provenance: Provenance
    ) -> Provenance:
        """``provenance`` with what the read did: adapter, version and files (unless a
        stored provenance, adapter set, is kept whole), pseudonymised or not, and why."""
        notes = list(provenance.warnings)
        already = provenance.pseudonymised
        if already and not self.already and self.used:
            raise AdapterError(
                f"adapter {chosen.name!r} says, after streaming them, that its records were "
                "already pseudonymised: the key was applied to them again. An adapter of "
                "pseudonymised records reads them whole (no stream)",
                adapter=chosen.name,
                plugin=chosen.plugin or None,
            )
        if already and self.given is not None:
            notes.append("identifiers were already pseudonymised; the key was not applied again")
        key = self.given if not already else None
        if key is None and not already:  # said once, in the terms of who reads (CLI or Python)
            notes = [n for n in notes if not n.startswith(_NOT_PSEUDONYMISED)]
            notes.append(_not_pseudonymised())
        if not provenance.adapter:  # a stored provenance (adapter set) is kept whole
            provenance = attrs.evolve(
                provenance,
                adapter=chosen.name,
                adapter_version=chosen.version,
                files=tuple(_checksum(f) for f in files),
            )
        return attrs.evolve(
            provenance, pseudonymised=already or key is not None, warnings=tuple(notes)
        )


def _no_issues() -> pa.Table:
    return pa.Table.from_batches([], schema=schema.ISSUES)


@attrs.define
class _Part:
    """What one adapter read, its tables already protected; its issues and provenance as
    the adapter gave them, protected by :meth:`records`."""

    guard: _Guard
    tables: dict[str, pa.Table]
    issues: pa.Table
    provenance: Provenance

    def records(self, chosen: Adapter, files: Sequence[Source]) -> Records:
        out = self.tables
        return Records(
            provenance=self.guard.provenance(chosen, files, self.provenance),
            **{
                name: out.get(name, schema.conform(schema.empty(name), name))
                for name in schema.TABLES
                if name != "issues"
            },
            issues=self.guard.issues(self.issues),
            extra={name: table for name, table in out.items() if name not in schema.TABLES},
        )


def _read_part(
    chosen: Adapter, files: Sequence[Source], options: Mapping[str, Any], guard: _Guard
) -> _Part:
    """Read ``files`` with ``chosen``: a batch at a time when it streams, else whole; every
    table protected by ``guard`` as it comes."""
    if chosen.stream is None:
        records = _call(chosen, files, options)
        guard.already = records.provenance.pseudonymised
        protected = {
            name: guard.table(name, table)
            for name, table in tables(records).items()
            if name != "issues"
        }
        return _Part(guard, protected, records.issues, records.provenance)
    parts: dict[str, list[pa.Table]] = {}

    def keep(name: str, table: pa.Table) -> None:
        held = parts.setdefault(name, [])
        held.append(_aligned(chosen, name, table, held[0].schema) if held else table)

    rest = stream(chosen, files, options, lambda name, table: keep(name, guard.table(name, table)))
    whole = {name: table for name, table in tables(rest).items() if name != "issues"}
    for name, table in whole.items():
        if table.num_rows or name not in parts:
            keep(name, guard.table(name, table))
    protected = {
        name: pa.concat_tables(held) if len(held) > 1 else held[0] for name, held in parts.items()
    }
    return _Part(guard, protected, rest.issues, rest.provenance)


def _aligned(chosen: Adapter, name: str, table: pa.Table, first: pa.Schema) -> pa.Table:
    """A later batch of table ``name`` with the columns of its first (see ``plugins.align``)."""
    from mns.plugins.rows import align

    try:
        return align(table, first, what=f"a batch of {name}")
    except (ValueError, pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise AdapterError(
            f"adapter {chosen.name!r} (plugin {chosen.plugin or '?'}) streamed {name}: {exc}",
            adapter=chosen.name,
            plugin=chosen.plugin or None,
        ) from exc


def stream(
    chosen: Adapter,
    files: Sequence[Source],
    options: Mapping[str, Any],
    sink: Callable[[str, pa.Table], None],
) -> Records:
    """Run ``chosen``'s stream over ``files``: each batch to ``sink`` (table name, a one-batch
    table) as it comes; returns the rest (issues, provenance, tables not streamed). The
    adapter's own failures are reported as :func:`read` reports them; the sink's are its own."""
    from mns.plugins.adapter import checked, feed

    assert chosen.stream is not None
    make = chosen.stream

    def batches() -> Any:
        try:
            rest = yield from checked(make(files, options))
        except MnsError as exc:
            if isinstance(exc, RecordError) and exc.adapter is None:
                exc.adapter = chosen.name
            raise
        except Exception as exc:
            raise _failure(chosen, files, exc) from _cause(exc)
        return rest

    return feed(batches(), sink)


def _private() -> bool:
    settings = privacy.active()
    return settings is not None and settings.key is not None


def _cause(exc: BaseException) -> BaseException | None:
    """What an adapter's failure is chained to: nothing in a private read (its text may
    quote raw values)."""
    return None if _private() else exc


def _failure(adapter: Adapter, files: Sequence[Source], exc: Exception) -> AdapterError:
    names = ", ".join(f.name for f in files)
    detail = privacy.mask_quoted(str(exc)) if _private() else str(exc)
    return AdapterError(
        f"adapter {adapter.name!r} (plugin {adapter.plugin or '?'}) failed reading "
        f"{names}: {type(exc).__name__}: {detail}",
        adapter=adapter.name,
        plugin=adapter.plugin or None,
        file=files[0].name,
    )


def _call(adapter: Adapter, files: Sequence[Source], options: Mapping[str, Any]) -> Records:
    names = ", ".join(f.name for f in files)
    try:
        records = adapter.read(files, options)
    except RecordError as exc:
        if exc.adapter is None:
            exc.adapter = adapter.name
        raise
    except MnsError:
        raise
    except Exception as exc:
        raise _failure(adapter, files, exc) from _cause(exc)
    if not isinstance(records, Records):
        raise AdapterError(
            f"adapter {adapter.name!r} (plugin {adapter.plugin or '?'}) returned "
            f"{type(records).__name__} from reading {names}; read must return mns.Records",
            adapter=adapter.name,
            plugin=adapter.plugin or None,
        )
    return records


# --- write ---------------------------------------------------------------------------------


def write(
    records: Records,
    folder: str | Path,
    *,
    overwrite: bool = False,
    issue_files: bool = False,
    inputs: Iterable[str | Path] = (),
) -> Path:
    """Store ``records`` in ``folder``: ``cases.parquet``, ``services.parquet``,
    ``outcomes.parquet``, ``assignments.parquet``, ``issues.parquet``, one
    ``<name>.parquet`` per extra table, and ``provenance.mns.json``. With ``issue_files``,
    also ``issues.csv`` and ``issues.xlsx`` for people (:mod:`mns.records.issue_files`;
    the workbook needs ``mns[xlsx]``); reading the folder reads the Parquet files only.

    The folder is written whole or not at all (:mod:`mns.records.folder`): beside it, then
    renamed into place, with ``manifest.mns.json`` (every file's size and SHA-256) last, so a
    read refuses a folder whose writing did not finish. One that already holds files is an
    error unless ``overwrite``, which replaces only what mns wrote there (the files of its
    manifest): other files are kept. ``inputs`` (the paths the records were read from; the
    files of ``records.provenance`` always count): a folder equal to one of them, or inside
    one, is refused. Returns the folder.
    """
    import pyarrow.parquet as pq

    path = Path(folder)
    _refuse_file(path)
    for name in records.extra:
        _check_table_name(name)
    with outputs.writing(
        path, kind="records", overwrite=overwrite, inputs=_input_files(records, inputs)
    ) as staging:
        for name, table in tables(records).items():
            if name in schema.TABLES:
                pq.write_table(table, staging / f"{name}.parquet")
            else:  # say which table it is, as canonical tables do
                meta = {**(table.schema.metadata or {}), b"mns.table": name.encode()}
                pq.write_table(table.replace_schema_metadata(meta), staging / f"{name}.parquet")
        (staging / PROVENANCE_FILE).write_text(provenance_to_json(records.provenance), "utf-8")
        if issue_files:
            from mns.records.issue_files import write_issue_files

            write_issue_files(records.issues, staging)
    return path


def _refuse_file(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise MnsError(
            f"{str(path)!r} is a file; give a folder to write records to", file=str(path)
        )


def _check_table_name(name: str) -> None:
    """A table's name is its file's: letters, digits, '_' and '-' only."""
    if not name.replace("_", "").replace("-", "").isalnum() or name.startswith("-"):
        raise MnsError(
            f"extra table name {name!r} cannot be a file name: use letters, digits, '_' and '-'",
            item=name,
        )


def _input_files(records: Records, inputs: Iterable[str | Path]) -> list[str | Path]:
    """The paths ``records`` were read from: those given, and the files of its provenance."""
    return [*inputs, *(f.name for f in records.provenance.files)]
