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

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, cast

import attrs
import pyarrow as pa

from mns import privacy
from mns.errors import AdapterError, MnsError, RecordError
from mns.plugins.adapter import Adapter, Source
from mns.records import schema
from mns.records.bundle import Provenance, Records, SourceFile

__all__ = [
    "PROVENANCE_FILE",
    "SourceLike",
    "choose",
    "provenance_from_json",
    "provenance_to_json",
    "read",
    "sources",
    "tables",
    "write",
]

#: The provenance file ``write`` puts beside the tables.
PROVENANCE_FILE = "provenance.mns.json"
_NOT_PSEUDONYMISED = (
    "identifiers are not pseudonymised: pass pseudonymise=<secret key> to mns.read to "
    "replace them with keyed pseudonyms"
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
            files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
            if not files:
                raise AdapterError(f"folder {str(path)!r} has no files to read", file=str(path))
            return tuple(Source(name=str(p), opener=_opener(p), path=p) for p in files)
        if not path.is_file():
            raise AdapterError(
                f"{str(path)!r} does not exist (or is not a file or folder)", file=str(path)
            )
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


def _claims_suffix(adapter: Adapter, name: str) -> bool:
    lowered = name.lower()
    return any(lowered.endswith(suffix) for suffix in adapter.suffixes)


def _sniffs(adapter: Adapter, heads: Sequence[bytes]) -> bool:
    try:
        return all(bool(adapter.sniff(head)) for head in heads)
    except Exception:
        return False


def _listing(adapters: Iterable[Adapter]) -> str:
    return ", ".join(f"{a.name!r} (plugin {a.plugin or '?'})" for a in adapters)


def choose(
    files: Sequence[Source],
    candidates: Sequence[Adapter],
    adapter: str | None = None,
    options: Iterable[str] = (),
) -> Adapter:
    """The adapter for ``files``: the one named; else, among the adapters that accept every
    option given (``mapping=`` means the mapping adapter), the only one claiming every file's
    suffix (``sniff`` decides between several), else the only one whose ``sniff`` claims
    every file. None or several is an :class:`mns.AdapterError` listing them."""
    names = [f.name for f in files]
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    if adapter is not None:
        for item in candidates:
            if item.name == adapter:
                return item
        raise AdapterError(
            f"unknown adapter {adapter!r}; installed adapters: {_listing(candidates) or 'none'}",
            adapter=adapter,
        )
    wanted = set(options)
    # Prefer adapters that take the options given; if none does, choose as usual and let
    # the option check name the misspelt option.
    candidates = [a for a in candidates if wanted <= {o.name for o in a.options}] or candidates
    by_suffix = [a for a in candidates if all(_claims_suffix(a, n) for n in names)]
    heads: list[bytes] | None = None
    if len(by_suffix) == 1:
        return by_suffix[0]
    heads = [f.head() for f in files]
    if by_suffix:
        sniffed = [a for a in by_suffix if _sniffs(a, heads)]
        if len(sniffed) == 1:
            return sniffed[0]
        raise AdapterError(
            f"several adapters read files like {shown} and sniffing does not settle it: "
            f"{_listing(by_suffix)}; choose one with adapter='name'",
            file=names[0],
        )
    sniffed = [a for a in candidates if _sniffs(a, heads)]
    if len(sniffed) == 1:
        return sniffed[0]
    if sniffed:
        raise AdapterError(
            f"several adapters recognise {shown}: {_listing(sniffed)}; choose one with "
            "adapter='name'",
            file=names[0],
        )
    raise AdapterError(
        f"no adapter recognises {shown} (by suffix or content); installed adapters: "
        f"{_listing(candidates) or 'none'}; choose one with adapter='name', or install the "
        "adapter for this record system",
        file=names[0],
    )


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


def provenance_to_json(provenance: Provenance) -> str:
    """``provenance`` as JSON text (dates as ISO strings)."""
    data = attrs.asdict(provenance, recurse=True)
    data["files"] = [dict(f) for f in data["files"]]
    data["warnings"] = list(data["warnings"])
    if provenance.reference_date is not None:
        data["reference_date"] = provenance.reference_date.isoformat()
    return json.dumps({"mns_provenance": 1, **data}, indent=2, sort_keys=True) + "\n"


def provenance_from_json(text: str, file: str = "<json>") -> Provenance:
    """Read what :func:`provenance_to_json` wrote."""
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.pop("mns_provenance", None) != 1:
            raise ValueError("not an mns provenance file (no 'mns_provenance': 1)")
        files = tuple(SourceFile(**f) for f in data.pop("files", ()))
        date = data.pop("reference_date", None)
        return Provenance(
            files=files,
            reference_date=dt.date.fromisoformat(date) if date else None,
            warnings=tuple(data.pop("warnings", ())),
            **data,
        )
    except (ValueError, TypeError) as exc:
        raise RecordError(f"{file}: cannot read provenance: {exc}", file=file) from exc


# --- read ----------------------------------------------------------------------------------


def tables(records: Records) -> dict[str, pa.Table]:
    """The canonical tables of ``records`` by name, then its extra tables."""
    return {**{name: getattr(records, name) for name in schema.TABLES}, **records.extra}


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
    """
    from mns.plugins import manager

    if postcode not in (None, "district", "sector"):  # before reading, not after
        raise ValueError(f"postcode={postcode!r}: use 'district', 'sector' or None (keep as read)")
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size={batch_size}: give a positive number of rows")
    files = sources(source)
    chosen = (
        adapter
        if isinstance(adapter, Adapter)
        else choose(files, manager.adapters(), adapter, options)
    )
    given = {**_options(chosen, options), "strict": strict, "batch_size": batch_size}
    with privacy.reading(pseudonymise, postcode) as settings:  # type: ignore[arg-type]
        records = _call(chosen, files, given)
    provenance = records.provenance
    notes = list(provenance.warnings)
    already = provenance.pseudonymised
    if already and pseudonymise is not None:
        notes.append("identifiers were already pseudonymised; the key was not applied again")
    key = pseudonymise if not already else None
    if key is None and not already and _NOT_PSEUDONYMISED not in notes:
        notes.append(_NOT_PSEUDONYMISED)
    protected = privacy.protect(
        {name: t for name, t in tables(records).items() if name != "issues"},
        records.issues,
        key=key,
        postcode=postcode,  # type: ignore[arg-type]
        roles=settings.roles,
    )
    if not provenance.adapter:  # a stored provenance (adapter set) is kept whole
        provenance = attrs.evolve(
            provenance,
            adapter=chosen.name,
            adapter_version=chosen.version,
            files=tuple(_checksum(f) for f in files),
        )
    provenance = attrs.evolve(
        provenance, pseudonymised=already or key is not None, warnings=tuple(notes)
    )
    out = protected.tables
    return Records(
        provenance=provenance,
        **{name: schema.conform(out[name], name) for name in schema.TABLES if name != "issues"},
        issues=schema.conform(protected.issues, "issues"),
        extra={name: table for name, table in out.items() if name not in schema.TABLES},
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
        settings = privacy.active()
        private = settings is not None and settings.key is not None
        detail = privacy.mask_quoted(str(exc)) if private else str(exc)
        error = AdapterError(
            f"adapter {adapter.name!r} (plugin {adapter.plugin or '?'}) failed reading "
            f"{names}: {type(exc).__name__}: {detail}",
            adapter=adapter.name,
            plugin=adapter.plugin or None,
            file=files[0].name,
        )
        if private:  # the original's text may quote raw values: not chained
            raise error from None
        raise error from exc
    if not isinstance(records, Records):
        raise AdapterError(
            f"adapter {adapter.name!r} (plugin {adapter.plugin or '?'}) returned "
            f"{type(records).__name__} from reading {names}; read must return mns.Records",
            adapter=adapter.name,
            plugin=adapter.plugin or None,
        )
    return records


# --- write ---------------------------------------------------------------------------------


def write(records: Records, folder: str | Path, *, overwrite: bool = False) -> Path:
    """Store ``records`` in ``folder``: ``cases.parquet``, ``services.parquet``,
    ``outcomes.parquet``, ``assignments.parquet``, ``issues.parquet``, one
    ``<name>.parquet`` per extra table, and ``provenance.mns.json``.

    The folder is created; one that already holds files is an error unless ``overwrite``
    (which first removes the Parquet and provenance files there). Returns the folder.
    """
    import pyarrow.parquet as pq

    path = Path(folder)
    if path.exists() and not path.is_dir():
        raise MnsError(
            f"{str(path)!r} is a file; give a folder to write records to", file=str(path)
        )
    for name in records.extra:
        if not name.replace("_", "").replace("-", "").isalnum() or name.startswith("-"):
            raise MnsError(
                f"extra table name {name!r} cannot be a file name: "
                "use letters, digits, '_' and '-'",
                item=name,
            )
    path.mkdir(parents=True, exist_ok=True)
    present = [p for p in path.iterdir() if not p.name.startswith(".")]
    if present and not overwrite:
        raise MnsError(
            f"folder {str(path)!r} is not empty ({len(present)} files); pass overwrite=True to "
            "replace mns files there, or choose an empty folder",
            file=str(path),
        )
    for old in present:
        if old.is_file() and (old.suffix == ".parquet" or old.name == PROVENANCE_FILE):
            old.unlink()
    for name, table in tables(records).items():
        if name in schema.TABLES:
            pq.write_table(table, path / f"{name}.parquet")
        else:  # say which table it is, as canonical tables do
            meta = {**(table.schema.metadata or {}), b"mns.table": name.encode()}
            pq.write_table(table.replace_schema_metadata(meta), path / f"{name}.parquet")
    (path / PROVENANCE_FILE).write_text(provenance_to_json(records.provenance), "utf-8")
    return path
