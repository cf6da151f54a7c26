"""Several files, several record systems, one read: each file to the adapter that knows it.

``mns.read([cin.xml, ssda903/, export.csv])`` and a folder of 903 CSVs beside unrelated
workbooks both come here. :func:`assign` gives each file to the adapter that recognises it
(by suffix, then ``sniff``: :func:`choose`, which ``mns.io`` uses too); a file no
adapter recognises, or several do, is listed as an issue and left out, never decoded as text.
Only when no file at all is recognised is the read an error. With an adapter named by the
caller, the files it does not recognise are left out the same way, unless it recognises none
of them (the caller knows better than suffixes: every file goes to it).

:func:`refuse` logs a file an adapter refused whole (when other files were read), and
:func:`combine` makes one :class:`~mns.records.bundle.Records` of the parts: tables
concatenated (indicator columns of every language kept), ``source_system`` of each case set
to the adapter that read it where the adapter left it empty, provenance merged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from mns import errors, privacy
from mns.errors import AdapterError, MnsError
from mns.plugins.adapter import Adapter, Source
from mns.records import schema
from mns.records.bundle import Provenance, Records
from mns.records.issues import IssueLog

__all__ = [
    "WHOLE_FILE",
    "Part",
    "assign",
    "choose",
    "combine",
    "combine_records",
    "left_out",
    "options_for",
    "refuse",
    "refused",
]

#: the value shown in "choose one" messages
_ANY_NAME = "'name'"

#: The ``field`` of an issue about a whole file (left out, or refused by its adapter).
WHOLE_FILE = "(whole file)"

#: Heads that mark a binary container (zip: XLSX, DOCX; OLE2: XLS; Parquet; PDF; gzip).
_BINARY = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"PAR1", b"%PDF", b"\x1f\x8b")


@attrs.frozen
class Part:
    """What one adapter read from its files."""

    adapter: Adapter
    files: tuple[Source, ...]
    records: Records


def _binary(head: bytes) -> bool:
    return head.startswith(_BINARY) or b"\x00" in head[:1024]


def _takes(adapter: Adapter, wanted: Iterable[str]) -> bool:
    return set(wanted) <= {o.name for o in adapter.options}


def assign(
    files: Sequence[Source],
    candidates: Sequence[Adapter],
    named: str | Adapter | None,
    options: Iterable[str],
    log: IssueLog,
) -> list[tuple[Adapter, tuple[Source, ...]]]:
    """Group ``files`` by the adapter that reads them (in the order adapters first appear);
    every file left out is a warning in ``log`` saying why."""
    if named is not None:
        chosen = named if isinstance(named, Adapter) else choose(files, candidates, named)
        if len(files) == 1:
            return [(chosen, tuple(files))]
        known = [f for f in files if _claims_suffix(chosen, f.name) or _sniffs(chosen, [f.head()])]
        if not known:  # the caller insists: all of them, but not a binary file as text
            known = [f for f in files if not _binary(f.head())] or list(files)
        for file in files:
            if file not in known:
                _leave_out(
                    log,
                    file,
                    f"adapter {chosen.name!r} does not recognise this file (by its name or "
                    "content)",
                )
        return [(chosen, tuple(known))]
    wanted = list(options)
    if len(files) == 1:  # the caller named this file: its suffix is enough
        return [(choose(files, candidates, None, wanted), tuple(files))]
    # an adapter that needs an option not given reads nothing: it gets no file
    usable = [a for a in candidates if {o.name for o in a.options if o.required} <= set(wanted)]
    preferred = [a for a in usable if _takes(a, wanted)]
    groups: dict[str, tuple[Adapter, list[Source]]] = {}
    unknown: list[Source] = []
    for file in files:
        adapter = _recognising(file, preferred, usable, wanted)
        if adapter is None:
            unknown.append(file)
        else:
            groups.setdefault(adapter.name, (adapter, []))[1].append(file)
    if not groups:
        choose(files, candidates, None, wanted)  # the error naming the files and adapters
    for file in unknown:
        _leave_out(log, file, _why(file, preferred or candidates))
    return [(adapter, tuple(group)) for adapter, group in groups.values()]


def _recognising(
    file: Source, preferred: Sequence[Adapter], usable: Sequence[Adapter], wanted: Sequence[str]
) -> Adapter | None:
    """The adapter that reads ``file``, one of several: the one that recognises its content
    (among those taking the options given, then any; its suffix settles a tie), else the one
    claiming its suffix that does not look at content, or that the options name (an option
    no other adapter takes, as ``mapping=``). Otherwise a suffix is not enough: a folder of
    903 CSVs holds other CSV files and workbooks."""
    head = [file.head()]
    for pool in (preferred, usable):
        sniffed = [a for a in pool if _sniffs(a, head)]
        if len(sniffed) > 1:
            sniffed = [a for a in sniffed if _claims_suffix(a, file.name)]
        if len(sniffed) == 1:
            return sniffed[0]
        if sniffed:
            return None
    by_name = [
        a
        for a in preferred
        if _claims_suffix(a, file.name) and (not a.sniffs or _named(a, usable, wanted))
    ]
    return by_name[0] if len(by_name) == 1 else None


def _named(adapter: Adapter, usable: Sequence[Adapter], wanted: Sequence[str]) -> bool:
    """Whether an option given is ``adapter``'s alone."""
    others = {o.name for a in usable if a is not adapter for o in a.options}
    return any(_takes(adapter, [name]) and name not in others for name in wanted)


def _why(file: Source, candidates: Sequence[Adapter]) -> str:
    head = [file.head()]
    sniffed = [a.name for a in candidates if _sniffs(a, head)]
    if len(sniffed) > 1:
        listed = ", ".join(sniffed)
        return f"several adapters recognise this file ({listed}) and none is clearly its own"
    named = [a.name for a in candidates if _claims_suffix(a, file.name)]
    if named:
        return (
            f"no installed adapter recognises this file's content ({', '.join(named)} read "
            "files named like it)"
        )
    return "no installed adapter recognises this file (by its name or content)"


def _leave_out(log: IssueLog, file: Source, why: str) -> None:
    log.warning(
        f"{why}; it was not read (read it on its own, naming its adapter, if it holds records)",
        action="rejected",
        source=file.name,
        field=WHOLE_FILE,
    )


def refuse(log: IssueLog, adapter: Adapter, files: Sequence[Source], error: MnsError) -> None:
    """Log that ``adapter`` refused ``files`` whole (the others were read)."""
    settings = privacy.active()
    detail = str(error)
    if settings is not None and settings.key is not None:  # may quote raw values
        detail = privacy.mask_quoted(detail)
    for file in files:
        log.error(
            f"adapter {adapter.name!r} refused the file whole, nothing in it was read: {detail}",
            source=file.name,
            field=WHOLE_FILE,
        )


def refused(issues: pa.Table) -> tuple[str, ...]:
    """The files a read refused whole (an adapter's error), by name as given: a command line
    should fail when there is any."""
    if issues.num_rows == 0:
        return ()
    mask = pc.and_(
        pc.equal(issues.column("field"), WHOLE_FILE), pc.equal(issues.column("severity"), "error")
    )
    picked = issues.filter(pc.fill_null(mask, False)).column("source").to_pylist()
    return tuple(dict.fromkeys(str(s) for s in picked))


def left_out(issues: pa.Table) -> tuple[str, ...]:
    """The files a read left out unread because no adapter (or not the one named)
    recognises them, by name as given: not an error, but a command line lists them."""
    if issues.num_rows == 0:
        return ()
    mask = pc.and_(
        pc.and_(
            pc.equal(issues.column("field"), WHOLE_FILE),
            pc.equal(issues.column("severity"), "warning"),
        ),
        pc.equal(issues.column("action"), "rejected"),
    )
    picked = issues.filter(pc.fill_null(mask, False)).column("source").to_pylist()
    return tuple(dict.fromkeys(str(s) for s in picked))


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
            f"{_listing(by_suffix)}; choose one: {errors.give('adapter', _ANY_NAME)}",
            file=names[0],
        )
    sniffed = [a for a in candidates if _sniffs(a, heads)]
    if len(sniffed) == 1:
        return sniffed[0]
    if sniffed:
        raise AdapterError(
            f"several adapters recognise {shown}: {_listing(sniffed)}; choose one: "
            f"{errors.give('adapter', _ANY_NAME)}",
            file=names[0],
        )
    raise AdapterError(
        f"no adapter recognises {shown} (by suffix or content); installed adapters: "
        f"{_listing(candidates) or 'none'}; choose one ({errors.give('adapter', _ANY_NAME)}), "
        "or install the adapter for this record system",
        file=names[0],
    )


# --- one Records from several -----------------------------------------------------------------


def _concat(tables: Sequence[pa.Table], what: str) -> pa.Table:
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise MnsError(
            f"the {what} tables of the files read cannot be put together: {exc}", item=what
        ) from exc


def _with_source_system(cases: pa.Table, name: str) -> pa.Table:
    """``cases`` with an empty ``source_system`` set to the adapter's name."""
    index = cases.schema.get_field_index("source_system")
    column = cases.column(index)
    if column.null_count == 0 or cases.num_rows == 0:
        return cases
    text = column.cast(pa.string())
    filled = pc.fill_null(text, name).cast(schema.CATEGORY)
    return cases.set_column(index, cases.schema.field(index), filled)


def _provenance(provs: Sequence[Provenance]) -> Provenance:
    notes: list[str] = []
    for prov in provs:
        notes.extend(n for n in prov.warnings if n not in notes)
    years = {p.collection_year for p in provs if p.collection_year is not None}
    dates = {p.reference_date for p in provs if p.reference_date is not None}
    if len(years) > 1:
        notes.append(
            f"the files are of different collection years ({', '.join(map(str, sorted(years)))})"
        )
    if len(dates) > 1:
        notes.append(
            "the files give different reference dates "
            f"({', '.join(d.isoformat() for d in sorted(dates))}): none is kept; give the "
            "audit's own"
        )
    if len({p.pseudonymised for p in provs}) > 1:
        notes.append(
            "some of these records are pseudonymised and some are not: their identifiers "
            "cannot match (mns.link finds no child in both)"
        )
    names = list(dict.fromkeys(p.adapter for p in provs if p.adapter))
    versions = list(dict.fromkeys(f"{p.adapter} {p.adapter_version}".strip() for p in provs))
    return Provenance(
        adapter="+".join(names),
        adapter_version="; ".join(versions),
        files=tuple(f for p in provs for f in p.files),
        collection_year=years.pop() if len(years) == 1 else None,
        reference_date=dates.pop() if len(dates) == 1 else None,
        pseudonymised=all(p.pseudonymised for p in provs),  # else some ids are as read
        warnings=tuple(notes),
    )


def _shared_ids(named: Sequence[tuple[str, Records]], log: IssueLog) -> None:
    """Warn once per case id that two parts both use (different returns, one id)."""
    seen: dict[str, str] = {}
    for name, records in named:
        for case_id in pc.unique(records.cases.column("case_id")).to_pylist():
            other = seen.setdefault(case_id, name)
            if other != name:
                log.warning(
                    f"case id {case_id!r} is used by records read by {other!r} and by {name!r}: "
                    "both are kept as separate rows; mns.link(records) joins one child's "
                    "cases by child id",
                    table="cases",
                    record=case_id,
                    field="case_id",
                )


def combine(parts: Sequence[Part], log: IssueLog) -> Records:
    """One :class:`Records` from the parts of a read (each already protected), with ``log``'s
    issues (files left out or refused) after theirs."""
    if len(parts) == 1:
        records = parts[0].records
        if not len(log):
            return records
        issues = _concat([records.issues, schema.conform(log.table(), "issues")], "issues")
        return attrs.evolve(records, issues=issues)
    return combine_records([(p.adapter.name, p.records) for p in parts], log)


def combine_records(named: Sequence[tuple[str, Records]], log: IssueLog | None = None) -> Records:
    """One :class:`Records` from several, each named by the adapter (or system) that read it:
    tables concatenated, each case's empty ``source_system`` set to that name, provenance
    merged; ``log`` (issues of the read itself, and case ids two parts share) last."""
    log = log if log is not None else IssueLog(source="mns.read")
    _shared_ids(named, log)
    tables: dict[str, pa.Table] = {}
    for table_name in schema.TABLES:
        found = [getattr(records, table_name) for _, records in named]
        if table_name == "cases":
            found = [
                _with_source_system(table, name)
                for table, (name, _) in zip(found, named, strict=True)
            ]
        if table_name == "issues":
            found.append(schema.conform(log.table(), "issues"))
        tables[table_name] = schema.conform(_concat(found, table_name), table_name)
    extra: dict[str, pa.Table] = {}
    for name, records in named:
        for table_name, table in records.extra.items():
            if table_name not in extra:
                extra[table_name] = table
                continue
            try:
                extra[table_name] = pa.concat_tables(
                    [extra[table_name], table], promote_options="permissive"
                )
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                extra[f"{table_name}_{name.replace('-', '_')}"] = table
    provenance = _provenance([records.provenance for _, records in named])
    return Records(provenance=provenance, extra=extra, **tables)


def options_for(adapter: Adapter, given: Mapping[str, Any]) -> dict[str, Any]:
    """The options of ``given`` that ``adapter`` takes (several adapters share one read)."""
    names = {o.name for o in adapter.options}
    return {k: v for k, v in given.items() if k in names}
