"""Reading CIN census files: batch by batch (:func:`batches`), whole (:func:`read`), or
straight to Parquet with flat memory (:func:`to_parquet`).

The collection year and the census reference date come from the file's own header
(``CollectionDetails``) unless the caller gives them; never from the file's name or from
today's date. With neither, codes are checked against every year's code sets and a warning
says so.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mns.errors import give
from mns.plugins import Source
from mns.privacy import PostcodeLevel
from mns.records import schema as mns_schema
from mns.records.bundle import Provenance, Records
from mns.records.issues import IssueLog
from mns_cin_census import spec, tables
from mns_cin_census.issues import Issues
from mns_cin_census.parse import Header, Parser, gc_paused
from mns_cin_census.validate import Batch, Context, Paths, report_tally, validate

__all__ = ["RELATIONAL", "Part", "batches", "read_sources", "to_parquet"]

ADAPTER = "cin-census"
DEFAULT_BATCH = 5000
#: the relational tables offered in ``Records.extra`` (the DfE CIN validator's split)
RELATIONAL = (
    "Header",
    "ChildIdentifiers",
    "ChildCharacteristics",
    "Disabilities",
    "CINdetails",
    "Assessments",
    "AssessmentFactors",
    "CINplanDates",
    "Section47",
    "ChildProtectionPlans",
    "Reviews",
    "PreProceedings",
)
_IDENTIFIERS = ("LAchildID", "UPN", "FormerUPN")
_BIRTH_DATES = ("PersonBirthDate", "ExpectedPersonBirthDate")
#: what the issue logs must protect in messages (see mns.records.issues)
_ROLES = {**dict.fromkeys(_IDENTIFIERS, "identifier"), **dict.fromkeys(_BIRTH_DATES, "birth_date")}


@attrs.frozen(kw_only=True)
class Part:
    """What one batch of children gave: ``cases``, ``services`` and the relational tables
    (``extra``). ``context`` is the file's year and reference date as used;
    ``case_lines`` gives the line of each case's episode of need (``CINdetails``, one per
    case, in order), ``service_episodes`` the episode (the case's row) of each service and
    ``paths`` the element paths of the batch's rows."""

    cases: pa.Table
    services: pa.Table
    extra: Mapping[str, pa.Table]
    context: Context
    case_lines: np.ndarray[Any, Any]
    service_episodes: np.ndarray[Any, Any]
    paths: Paths | None = None


def _mark(table: pa.Table) -> pa.Table:
    """Tag identifier and birth-date columns for :mod:`mns.privacy`."""
    from mns import privacy

    fields = []
    for field in table.schema:
        if field.name in _IDENTIFIERS:
            fields.append(field.with_metadata(privacy.IDENTIFIER))
        elif field.name in _BIRTH_DATES:
            fields.append(field.with_metadata(privacy.BIRTH_DATE))
        else:
            fields.append(field)
    return pa.Table.from_arrays(table.columns, schema=pa.schema(fields))


def _context(
    name: str, header: Header, year: int | None, reference_date: dt.date | None, issues: Issues
) -> Context:
    """The year and reference date to use: the caller's, else the header's."""
    if year is not None and header.year is not None and year != header.year:
        issues.log.warning(
            f"the header gives the collection year {header.year}; the year given by the caller, "
            f"{year}, was used",
            line=header.lines.get("Year"),
            path=header.paths.get("Year"),
            field="Year",
            value=str(header.year),
            table="cases",
        )
    if (
        reference_date is not None
        and header.reference_date is not None
        and reference_date != header.reference_date
    ):
        issues.log.warning(
            f"the header gives the reference date {header.reference_date}; the date given by the "
            "caller, "
            f"{reference_date}, was used",
            line=header.lines.get("ReferenceDate"),
            path=header.paths.get("ReferenceDate"),
            field="ReferenceDate",
            value=str(header.reference_date),
            table="cases",
        )
    use_year = year if year is not None else header.year
    use_ref = reference_date if reference_date is not None else header.reference_date
    if use_year is None and use_ref is not None:
        use_year = use_ref.year
    if use_ref is None and use_year is not None:
        use_ref = dt.date(use_year, 3, 31)
    if use_year is None:
        issues.log.warning(
            "the file states no collection year (Header/CollectionDetails/Year) and none was "
            "given: codes "
            f"were checked against every year's code sets; {give('year', '...')} to check one "
            "year's",
            line=header.line,
            path=header.path,
            field="Year",
            table="cases",
        )
    elif not spec.FIRST_YEAR <= use_year <= spec.LAST_YEAR:
        issues.log.warning(
            f"the collection year {use_year} is outside the years this adapter knows "
            f"({spec.FIRST_YEAR}-{spec.LAST_YEAR}); the file was read with the nearest year's "
            "shape",
            line=header.lines.get("Year"),
            path=header.paths.get("Year"),
            field="Year",
            value=str(use_year),
            table="cases",
        )
    return Context(source=name, year=use_year, reference_date=use_ref, lea=header.lea)


def _header_table(name: str, header: Header) -> pa.Table:
    fields = spec.TABLES["Header"].fields
    row: dict[str, Any] = {"source": [name]}
    for field in fields:
        value = header.values.get(field) or None
        if field == "Year":
            row[field] = pa.array([header.year], pa.int16())
        elif field == "ReferenceDate":
            row[field] = pa.array([header.reference_date], pa.date32())
        else:
            row[field] = pa.array([value], pa.string())
    row["line"] = pa.array([header.line], pa.int64())
    return pa.table(row)


def _part(batch: Batch, ctx: Context, schema: pa.Schema, extra: dict[str, pa.Table]) -> Part:
    """The part of a checked batch: its cases and services, beside ``extra``."""
    services, service_episodes = tables.services(batch)
    cases = tables.cases(batch, ctx, schema)
    return Part(
        cases=cases,
        services=services,
        extra=extra,
        context=ctx,
        case_lines=np.asarray(batch.tables["CINdetails"].column("line").to_numpy(), dtype=np.int64),
        service_episodes=service_episodes,
        paths=batch.paths,
    )


def batches(
    source: Source | str | Path,
    log: IssueLog,
    *,
    year: int | None = None,
    reference_date: dt.date | None = None,
    batch_size: int = DEFAULT_BATCH,
    relational: bool = True,
) -> Iterator[Part]:
    """Read one CIN census file a batch of ``batch_size`` children at a time.

    Problems go to ``log`` (an :class:`mns.records.issues.IssueLog`); the ``Header`` table
    comes with the first part. Memory holds one batch, whatever the file's size.
    """
    src = source if isinstance(source, Source) else Source.from_path(source)
    flog = log.bind(source=src.name)
    issues = Issues(flog, src.name)
    with src.open() as stream:
        parser = Parser(stream, issues, batch_size=batch_size, year=year, reopen=src.open)
        ctx: Context | None = None
        schema: pa.Schema | None = None
        sent_header = False
        tally: dict[str, list[Any]] = {}
        seen: dict[str, Any] = {}  # the children met, for DfE rule 8510
        raws = parser.batches()
        while True:
            # the collector stays paused from reading a batch to its part, and the raw batch
            # (millions of small objects, none in a cycle) is freed before the part is given:
            # the collector, back on while the caller works, never walks it
            with gc_paused():
                raw = next(raws, None)
                if raw is None:
                    break
                if ctx is None:
                    ctx = _context(src.name, parser.header, year, reference_date, issues)
                    schema = tables.cases_schema(ctx.year)
                assert schema is not None
                batch = validate(raw, ctx, issues, tally, seen)
                del raw
                extra: dict[str, pa.Table] = {}
                if relational:
                    if not sent_header:
                        extra["Header"] = _header_table(src.name, parser.header)
                        sent_header = True
                    extra.update({k: _mark(v) for k, v in batch.tables.items()})
                part = _part(batch, ctx, schema, extra)
                del batch
            yield part
            del part
        if ctx is not None:
            report_tally(tally, ctx, issues)
        issues.summarise()
        if ctx is None:  # no child at all (empty, refused or truncated early)
            if parser.refused:
                ctx = Context(source=src.name, year=year, reference_date=reference_date)
            else:
                ctx = _context(src.name, parser.header, year, reference_date, issues)
            if parser.children_read == 0 and not parser.refused:
                issues.log.error(
                    "the file holds no <Child>; a CIN census file has at least one",
                    action="kept",
                    line=parser.header.line,
                    path=parser.header.path,
                    field="Child",
                    table="cases",
                )
            schema = tables.cases_schema(ctx.year)
            empty_extra: dict[str, pa.Table] = {}
            if relational:
                empty = validate(parser.empty_batch(), ctx, issues)
                empty_extra = {"Header": _header_table(src.name, parser.header)}
                empty_extra.update({k: _mark(v) for k, v in empty.tables.items()})
            yield Part(
                cases=schema.empty_table(),
                services=mns_schema.SERVICES.empty_table(),
                extra=empty_extra,
                context=ctx,
                case_lines=np.zeros(0, dtype=np.int64),
                service_episodes=np.zeros(0, dtype=np.int64),
            )


def _union_schema(schemas: Sequence[pa.Schema]) -> pa.Schema:
    names: dict[str, pa.Field] = {}
    for s in schemas:
        for f in s:
            names.setdefault(f.name, f)
    ordered = list(tables.cases_schema(None))
    known = {f.name for f in ordered}
    fields = [f for f in ordered if f.name in names] + [
        f for n, f in names.items() if n not in known
    ]
    return pa.schema(fields, metadata=mns_schema.CASES.metadata)


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    arrays = [
        table.column(f.name) if f.name in table.column_names else pa.nulls(table.num_rows, f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def _dedupe(
    cases: pa.Table,
    services: pa.Table,
    case_origin: list[tuple[str, int]],
    service_origin: list[tuple[str, int]],
    log: IssueLog,
    *,
    place: Callable[[int], tuple[int | None, str | None]],
) -> tuple[pa.Table, pa.Table]:
    """Make case ids unique: a second episode with the same child and referral date (in the
    same file or another) becomes ``<id>#2``, with a warning at its line and element path.

    ``case_origin`` and ``service_origin`` give each row's (file, episode's number in the
    file); ``place(r)`` the line and element path of case row ``r``'s episode.
    """
    ids = cases.column("case_id").combine_chunks()
    counts = pc.value_counts(ids)
    dup = counts.filter(pc.greater(counts.field("counts"), 1)).field("values")
    if len(dup) == 0:
        return cases, services
    rows = np.flatnonzero(
        np.asarray(pc.is_in(ids, value_set=dup).to_numpy(zero_copy_only=False), dtype=bool)
    )
    new_ids = ids.to_pylist()
    seen: dict[str, int] = {}
    rename: dict[tuple[str, tuple[str, int]], str] = {}
    for r in rows:
        cid = new_ids[r]
        k = seen[cid] = seen.get(cid, 0) + 1
        if k == 1:
            continue
        new = f"{cid}#{k}"
        rename[(cid, case_origin[r])] = new
        new_ids[r] = new
        source = case_origin[r][0]
        line, path = place(int(r))
        log.warning(
            f"episode {log.quote(cid, 'identifier')} appears more than once (the same "
            f"LAchildID and CINreferralDate); this one was renamed {log.quote(new, 'identifier')}",
            source=source,
            line=line,
            path=path,
            field="CINreferralDate",
            record=cid,
            table="cases",
        )
    cases = cases.set_column(0, cases.schema.field(0), pa.array(new_ids, pa.string()))
    sid = services.column("case_id").combine_chunks()
    srows = np.flatnonzero(
        np.asarray(pc.is_in(sid, value_set=dup).to_numpy(zero_copy_only=False), dtype=bool)
    )
    if len(srows):
        service_ids = sid.to_pylist()
        for r in srows:
            service_ids[r] = rename.get((service_ids[r], service_origin[r]), service_ids[r])
        services = services.set_column(
            0, services.schema.field(0), pa.array(service_ids, pa.string())
        )
    return cases, services


def _origins(parts: Sequence[tuple[str, np.ndarray[Any, Any]]]) -> list[tuple[str, int]]:
    return [(name, int(number)) for name, numbers in parts for number in numbers]


def _place(parts: Sequence[Part], row: int) -> tuple[int | None, str | None]:
    """The line and element path of the episode of case ``row`` of the parts' cases."""
    for part in parts:
        if row < part.cases.num_rows:
            path = part.paths.of("CINdetails", [row])[0] if part.paths is not None else None
            return int(part.case_lines[row]), path
        row -= part.cases.num_rows
    return None, None


def read_sources(sources: Sequence[Source], options: Mapping[str, Any]) -> Records:
    """The adapter's ``read``: every CIN census file given, as one :class:`Records`.

    Options: ``year`` and ``reference_date`` (override the header), ``relational`` (offer the
    relational tables in ``extra``; default true), ``strict``, ``batch_size``.
    """
    year = options.get("year")
    ref = options.get("reference_date")
    if isinstance(ref, str):
        ref = dt.date.fromisoformat(ref)
    if year is not None:
        year = int(year)
    relational = bool(options.get("relational", True))
    batch_size = int(options.get("batch_size") or DEFAULT_BATCH)
    log = IssueLog(adapter=ADAPTER, strict=bool(options.get("strict", False)), roles=_ROLES)
    cases_parts: list[pa.Table] = []
    service_parts: list[pa.Table] = []
    # each case's and service's (file, episode number in the file); where each part's cases are
    case_numbers: list[tuple[str, np.ndarray[Any, Any]]] = []
    service_numbers: list[tuple[str, np.ndarray[Any, Any]]] = []
    case_parts: list[Part] = []
    extra_parts: dict[str, list[pa.Table]] = {}
    years: set[int | None] = set()
    refs: set[dt.date | None] = set()
    for src in sources:
        numbered = 0  # episodes of the file so far
        for part in batches(
            src, log, year=year, reference_date=ref, batch_size=batch_size, relational=relational
        ):
            years.add(part.context.year)
            refs.add(part.context.reference_date)
            cases_parts.append(part.cases)
            service_parts.append(part.services)
            n = part.cases.num_rows
            case_numbers.append((src.name, np.arange(numbered, numbered + n)))
            service_numbers.append((src.name, numbered + part.service_episodes))
            case_parts.append(part)
            numbered += n
            for name, table in part.extra.items():
                extra_parts.setdefault(name, []).append(table)
    schema = (
        _union_schema([t.schema for t in cases_parts]) if cases_parts else tables.cases_schema(year)
    )
    cases = (
        pa.concat_tables([_conform(t, schema) for t in cases_parts])
        if cases_parts
        else schema.empty_table()
    )
    services = (
        pa.concat_tables(service_parts) if service_parts else mns_schema.SERVICES.empty_table()
    )
    if cases.num_rows:
        ids = cases.column("case_id")
        if pc.count_distinct(ids).as_py() != cases.num_rows:
            cases, services = _dedupe(
                cases,
                services,
                _origins(case_numbers),
                _origins(service_numbers),
                log,
                place=functools.partial(_place, case_parts),
            )
    cases = cases.take(pc.sort_indices(cases, sort_keys=[("case_id", "ascending")]))
    keys = pa.table(
        {
            "case_id": services.column("case_id"),
            "service": services.column("service").cast(pa.string()),
            "start_date": services.column("start_date"),
        }
    )
    services = services.take(
        pc.sort_indices(keys, sort_keys=[(k, "ascending") for k in keys.column_names])
    )
    extra = {
        name: pa.concat_tables(parts, promote_options="permissive")
        for name, parts in extra_parts.items()
    }
    only_year = next(iter(years)) if len(years) == 1 else None
    only_ref = next(iter(refs)) if len(refs) == 1 else None
    if len(refs) > 1:  # never guessed from the records: the caller decides
        stated = ", ".join(sorted(str(r) for r in refs if r is not None))
        log.note(
            f"the files are returns of different census years (reference dates {stated}): "
            "the records state no single reference date; "
            f"{give('reference_date', 'YYYY-MM-DD')} to say which year the audit describes",
            field="ReferenceDate",
            table="cases",
        )
    return Records(
        provenance=Provenance(collection_year=only_year, reference_date=only_ref),
        cases=cases,
        services=services,
        issues=errors_first(log.table()),
        extra=extra,
    )


def errors_first(issues: pa.Table) -> pa.Table:
    """Issues ordered errors, warnings, notes; each kind in file order (stable)."""
    if issues.num_rows == 0:
        return issues
    rank = pc.index_in(issues.column("severity"), value_set=pa.array(["error", "warning", "note"]))
    order = pc.sort_indices(
        pa.table({"rank": rank, "n": pa.array(np.arange(issues.num_rows))}),
        sort_keys=[("rank", "ascending"), ("n", "ascending")],
    )
    return issues.take(order)


def to_parquet(
    source: Source | str | Path,
    folder: str | Path,
    *,
    year: int | None = None,
    reference_date: dt.date | None = None,
    batch_size: int = DEFAULT_BATCH,
    relational: bool = True,
    pseudonymise: str | bytes | None = None,
    postcode: PostcodeLevel | None = "district",
) -> Path:
    """Read one CIN census file straight into Parquet files in ``folder`` (``cases``,
    ``services``, ``issues`` and, with ``relational``, one per relational table), a batch at
    a time: memory stays flat however large the file. The privacy rules of ``mns.read``
    apply (``pseudonymise``, ``postcode``; birth dates cut to the month).

    Rows are in file order (``read`` sorts them by key) and repeated case ids are not
    renamed (``read`` does that); issues say where they are.
    """
    import pyarrow.parquet as pq

    from mns import privacy

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    log = IssueLog(adapter=ADAPTER, roles=_ROLES)
    writers: dict[str, pq.ParquetWriter] = {}
    key = pseudonymise

    def write(name: str, table: pa.Table) -> None:
        writer = writers.get(name)
        if writer is None:
            writer = writers[name] = pq.ParquetWriter(out / f"{name}.parquet", table.schema)
        writer.write_table(table)

    try:
        with privacy.reading(key, postcode):  # messages protected as the tables are
            for part in batches(
                source,
                log,
                year=year,
                reference_date=reference_date,
                batch_size=batch_size,
                relational=relational,
            ):
                named = {"cases": part.cases, "services": part.services, **part.extra}
                protected = privacy.protect(
                    named, mns_schema.ISSUES.empty_table(), key=key, postcode=postcode
                )
                for name, table in protected.tables.items():
                    write(name, table)
        # the empty tables tell protect which issue fields hold identifiers or birth dates
        shapes = {name: w.schema.empty_table() for name, w in writers.items()}
        issues = privacy.protect(shapes, log.table(), key=key, postcode=postcode).issues
        write("issues", issues)
    finally:
        for writer in writers.values():
            writer.close()
    return out
