"""Writing canonical ``cases`` and ``services`` as a CIN census XML file of a collection year.

One ``Child`` per ``child_id`` (the case id when it has none), one ``CINdetails`` per case,
in the element order and shape of the year. What a census file cannot hold is left out
and reported (services other than assessments, plans, enquiries and pre-proceedings; codes
not valid in the year); what the census requires but the canonical tables do not carry is
derived, always the same way:

- ``PersonBirthDate``: a day in ``birth_month`` that gives back the case's ``age`` at
  referral (the first of the month when that works); for an unborn child (age 0, no birth
  month) ``ExpectedPersonBirthDate`` is the referral date, as the real one is not known;
- ``GenderCurrent`` (to 2023-24) or ``Sex`` (from 2024-25) from ``sex``; ``U``/``0`` when unknown;
- ``Ethnicity``: ``NOBT`` (not yet obtained) when unknown; ``ReferralSource``: ``10`` (unknown);
- ``Disabilities``: the ``cin.disability_*`` flags that are true, ``NONE`` when
  ``disability`` is false, left out when unknown;
- an ``Assessments`` block starting on the referral date when a case has factors but no
  ``assessment`` service; the factors go on the episode's latest assessment; before
  2020-21, 18B/18C are written 18A and 19B/19C 19A;
- services are those of the census year: one starting after the reference date is left
  out, an end date after it is left out (the service was open on that date);
- ``CINclosureDate`` (when ``cin.reason_for_closure`` is set): the latest start or end date
  of the episode's services, else the referral date, never after the reference date;
- ``ReferralNFA``: true when the episode has no service and no factor;
- ``Section47/ICPCnotRequired``: false when the episode has a child protection plan;
- ``ChildProtectionPlans``: categories from the service's ``detail`` and the case's
  ``cin.category_of_abuse`` (``MUL`` when neither is known); ``NumberOfPreviousCPP``: the
  child's earlier plans in the data.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, TypeAlias
from xml.sax.saxutils import escape

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mns.errors import MnsError
from mns.plugins import replacing
from mns.records import schema as mns_schema
from mns.records.issues import IssueLog
from mns_cin_census import spec
from mns_cin_census.codes import code_sets, factor_codes

__all__ = ["Written", "write", "write_parts", "xsd_errors"]

_CHUNK = 4096
_WRITTEN_SERVICES = ("assessment", "cin_plan", "s47", "cp_plan", "pre_proceedings")
_SEX_GENDER = {"M": "1", "F": "2", "U": "0"}
_MERGED = {"18B": "18A", "18C": "18A", "19B": "19A", "19C": "19A"}


@attrs.frozen(kw_only=True)
class Written:
    """What :func:`write` wrote: the file, how many children and episodes, and the issues
    (what was left out or derived, by case)."""

    path: Path | None
    children: int
    episodes: int
    issues: pa.Table


def _table(data: pa.Table | pa.RecordBatchReader | Any) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatchReader):
        return data.read_all()
    return pa.Table.from_batches(list(data))


def _plain(column: pa.ChunkedArray | pa.Array) -> list[Any]:
    """A column as Python values (dictionary columns decoded)."""
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    return column.to_pylist()  # type: ignore[no-any-return]


def _birth_date(month: dt.date, age: int | None, referral: dt.date | None) -> dt.date:
    """A day of ``month`` whose age at ``referral`` is ``age`` (the 1st when that works)."""
    if age is None or referral is None:
        return month
    last = calendar.monthrange(month.year, month.month)[1]
    for day in (1, min(referral.day + 1, last), last):
        birth = month.replace(day=day)
        years = (
            referral.year - birth.year - ((referral.month, referral.day) < (birth.month, birth.day))
        )
        if years == age:
            return birth
    return month


def _el(name: str, value: str | None) -> str:
    return "" if value is None else f"<{name}>{escape(value)}</{name}>"


def _d(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


_Span = tuple[dt.date | None, dt.date | None, str | None]  #: (start, end, detail)


@attrs.define
class _Services:
    """A case's services by kind, as (start, end, detail) sorted by start."""

    by_kind: dict[str, list[_Span]] = attrs.field(factory=dict)

    def get(self, kind: str) -> list[_Span]:
        return self.by_kind.get(kind, [])


class _Writer:
    def __init__(
        self, out: IO[str], *, year: int, reference_date: dt.date, lea: str | None, log: IssueLog
    ) -> None:
        self.out = out
        self.year = year
        self.reference_date = reference_date
        self.lea = lea
        self.log = log
        self.shape = spec.shape(year)
        self.sets = code_sets(year)
        self.factors = factor_codes(year)
        self.children = 0
        self.episodes = 0

    def header(self) -> None:
        w = self.out.write
        w('<?xml version="1.0" encoding="UTF-8"?>\n<Message>\n<Header>\n<CollectionDetails>')
        w(f"<Collection>CIN</Collection><Year>{self.year}</Year>")
        w(f"<ReferenceDate>{self.reference_date.isoformat()}</ReferenceDate></CollectionDetails>\n")
        if self.lea is not None:
            w(f"<Source><SourceLevel>L</SourceLevel><LEA>{self.lea}</LEA>")
            w(f"<SoftwareCode>mns-cin-census</SoftwareCode><Release>{_version()}</Release>")
            w("<SerialNo>001</SerialNo></Source>\n")
        w("</Header>\n<Children>\n")

    def footer(self) -> None:
        self.out.write("</Children>\n</Message>\n")

    def code(
        self, element: str, value: str | None, case: str, default: str | None = None
    ) -> str | None:
        if value is None:
            return default
        if value in self.sets[element].valid:
            return value
        self.log.warning(
            self.sets[element].explain(value, self.year)
            + (f"; {default!r} was written" if default else "; left out"),
            record=case,
            field=element,
            value=value,
        )
        return default

    def child(self, rows: list[dict[str, Any]], services: list[_Services]) -> None:
        first = rows[0]
        w = self.out.write
        child_id = first["child_id"] if first["child_id"] is not None else first["case_id"]
        w("<Child>\n<ChildIdentifiers>")
        w(_el("LAchildID", str(child_id)))
        if first["birth_month"] is not None:
            w(
                _el(
                    "PersonBirthDate",
                    _d(_birth_date(first["birth_month"], first["age"], first["reference_date"])),
                )
            )
        elif first["age"] == 0:  # unborn at referral: the census wants an expected date
            w(_el("ExpectedPersonBirthDate", _d(first["reference_date"])))
        sex = first["sex"] if first["sex"] in _SEX_GENDER else "U"
        if self.shape.sex_element == "Sex":
            w(_el("Sex", sex))
        else:
            w(_el("GenderCurrent", _SEX_GENDER[sex]))
        w("</ChildIdentifiers>\n<ChildCharacteristics>")
        w(_el("Ethnicity", self.code("Ethnicity", first["ethnicity"], first["case_id"], "NOBT")))
        disabilities = [
            c
            for c in self.sets["Disability"].valid
            if c != "NONE" and first.get(f"cin.disability_{c}")
        ]
        if disabilities:
            w(
                "<Disabilities>"
                + "".join(_el("Disability", c) for c in disabilities)
                + "</Disabilities>"
            )
        elif first["disability"] is False:
            w("<Disabilities><Disability>NONE</Disability></Disabilities>")
        w("</ChildCharacteristics>\n")
        previous_cpp = 0
        for row, svc in zip(rows, services, strict=True):
            previous_cpp = self.episode(row, svc, previous_cpp)
        w("</Child>\n")
        self.children += 1

    def episode(self, row: dict[str, Any], svc: _Services, previous_cpp: int) -> int:
        """Write one ``CINdetails``; returns the child's plans so far."""
        w = self.out.write
        case = row["case_id"]
        referral: dt.date = row["reference_date"]
        factors: list[str] = row["_factors"]
        w("<CINdetails>" + _el("CINreferralDate", _d(referral)))
        source = self.code("ReferralSource", row["cin.referral_source"], case, "10")
        w(_el("ReferralSource", source))
        w(_el("PrimaryNeedCode", self.code("PrimaryNeedCode", row["cin.primary_need"], case)))
        reason = self.code("ReasonForClosure", row["cin.reason_for_closure"], case)
        if reason is not None:
            # no activity after the closure (DfE rule 8565): the latest start or end
            dates = [
                d
                for kind in _WRITTEN_SERVICES
                for s, e, _ in svc.get(kind)
                for d in (s, e)
                if d is not None
            ]
            closure = min(max([referral, *dates]), self.reference_date)
            w(_el("CINclosureDate", _d(closure)) + _el("ReasonForClosure", reason))
        w("\n")
        self.assessments(
            svc.get("assessment") or ([(referral, None, None)] if factors else []), factors
        )
        for start, end, _ in self.allowed(svc.get("cin_plan"), _CIN_PLAN_BLOCK, case):
            w("<CINPlanDates>" + _el("CINPlanStartDate", _d(start)))
            w(_el("CINPlanEndDate", _d(end)) + "</CINPlanDates>\n")
        cpps = svc.get("cp_plan")
        for start, _, _ in svc.get("s47"):
            w("<Section47>" + _el("S47ActualStartDate", _d(start)))
            w(_el("ICPCnotRequired", "false" if cpps else "true") + "</Section47>\n")
        nfa = not factors and not any(svc.get(kind) for kind in _WRITTEN_SERVICES)
        w(_el("ReferralNFA", "true" if nfa else "false") + "\n")
        previous_cpp = self.protection(cpps, row["cin.category_of_abuse"], case, previous_cpp)
        for start, end, detail in self.allowed(svc.get("pre_proceedings"), _PP_BLOCK, case):
            w("<PreProceedingsandFGDM>" + _el("PPStartDate", _d(start)))
            w(
                _el("StepDecisionDate", _d(end))
                + _el("PPOutcome", self.code("PPOutcome", detail, case))
            )
            w("</PreProceedingsandFGDM>\n")
        w("</CINdetails>\n")
        self.episodes += 1
        return previous_cpp

    def allowed(self, items: list[_Span], block: spec.Block, case: str) -> list[_Span]:
        """``items`` if the year's shape has ``block``, else none (with a warning)."""
        if not items or self.shape.allows(block):
            return items
        self.log.warning(
            f"the {self.year} census has no <{block.tag}> (it starts in {block.first_year}); "
            f"{len(items)} service(s) left out",
            record=case,
            field=block.tag,
        )
        return []

    def assessments(self, assessments: list[_Span], factors: list[str]) -> None:
        """The assessments; the factors go on the latest one (by start date, then order)."""
        w = self.out.write
        latest = max(
            range(len(assessments)), key=lambda i: (assessments[i][0] or dt.date.min, i), default=-1
        )
        for i, (start, end, _) in enumerate(assessments):
            w("<Assessments>" + _el("AssessmentActualStartDate", _d(start)))
            w(_el("AssessmentAuthorisationDate", _d(end)))
            if i == latest and factors:
                w("<FactorsIdentifiedAtAssessment>")
                w("".join(_el("AssessmentFactors", f) for f in factors))
                w("</FactorsIdentifiedAtAssessment>")
            w("</Assessments>\n")

    def protection(self, cpps: list[_Span], category: str | None, case: str, previous: int) -> int:
        """The child protection plans; returns the child's plans so far."""
        w = self.out.write
        latest_category = self.code("LatestCategoryOfAbuse", category, case)
        for k, (start, end, detail) in enumerate(cpps):
            initial = self.code("InitialCategoryOfAbuse", detail, case) or latest_category or "MUL"
            current = latest_category if k == len(cpps) - 1 and latest_category else initial
            w(
                "<ChildProtectionPlans>"
                + _el("CPPstartDate", _d(start))
                + _el("CPPendDate", _d(end))
            )
            w(_el("InitialCategoryOfAbuse", initial) + _el("LatestCategoryOfAbuse", current))
            w(_el("NumberOfPreviousCPP", str(previous)) + "</ChildProtectionPlans>\n")
            previous += 1
        return previous


_CIN_PLAN_BLOCK = next(b for b in spec.BLOCKS if b.tag == "CINPlanDates")
_PP_BLOCK = next(b for b in spec.BLOCKS if b.tag == "PreProceedingsandFGDM")


def _version() -> str:
    from mns_cin_census import __version__

    return __version__


def _factor_lists(chunk: pa.Table, year: int, log: IssueLog) -> list[list[str]]:
    """The factor codes to write per row: true flags valid in ``year`` (18B/C -> 18A ... before
    2021); a true flag the year cannot hold is reported."""
    valid = set(factor_codes(year))
    names = [n for n in chunk.column_names if n.startswith("cin.") and _is_factor(n[4:])]
    out: list[list[str]] = [[] for _ in range(chunk.num_rows)]
    if not names:
        return out
    matrix = np.column_stack(
        [np.asarray(pc.fill_null(chunk.column(n), False).to_numpy(), dtype=bool) for n in names]
    )
    rows, cols = np.nonzero(matrix)
    case_ids: list[Any] | None = None
    for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
        code = names[c][4:]
        if code not in valid:
            merged = _MERGED.get(code)
            if merged in valid:
                code = merged
            else:
                case_ids = case_ids if case_ids is not None else chunk.column("case_id").to_pylist()
                log.warning(
                    f"factor {code} is not collected in the {year} census; left out",
                    record=case_ids[r],
                    field="AssessmentFactors",
                    value=code,
                )
                continue
        if code not in out[r]:
            out[r].append(code)
    return out


def _is_factor(code: str) -> bool:
    return code in _ALL_FACTORS


_ALL_FACTORS = frozenset(factor_codes(None))


def _services_by_case(
    services: pa.Table, case_ids: pa.Array, reference_date: dt.date, log: IssueLog
) -> tuple[np.ndarray[Any, Any], pa.Table]:
    """Services that a census can hold, with the position of their case in ``case_ids``,
    sorted by (position, start); services that start after ``reference_date`` are left out
    and end dates after it blanked."""
    if services.num_rows == 0:
        return np.zeros(0, dtype=np.int64), services
    kind = (
        services.column("service").cast(pa.string())
        if pa.types.is_dictionary(services.schema.field("service").type)
        else services.column("service")
    )
    keep = pc.is_in(kind, value_set=pa.array(_WRITTEN_SERVICES))
    left = services.num_rows - int(pc.sum(keep.cast(pa.int64())).as_py() or 0)
    if left:
        others = pc.unique(kind.filter(pc.invert(keep))).to_pylist()
        log.warning(
            f"{left} service episode(s) of kinds the CIN census does not hold "
            f"({', '.join(sorted(map(str, others)))}) "
            "were left out",
            field="service",
        )
    services = services.filter(keep)
    ref = pa.scalar(reference_date, pa.date32())
    late = pc.fill_null(pc.greater(services.column("start_date"), ref), False)
    n_late = int(pc.sum(late.cast(pa.int64())).as_py() or 0)
    if n_late:
        log.warning(
            f"{n_late} service episode(s) start after the reference date {reference_date} and "
            "belong to a "
            "later census; left out",
            field="start_date",
        )
        services = services.filter(pc.invert(late))
    end = services.column("end_date")
    open_then = pc.fill_null(pc.greater(end, ref), False)
    index = services.schema.get_field_index("end_date")
    services = services.set_column(
        index,
        services.schema.field(index),
        pc.if_else(open_then, pa.scalar(None, pa.date32()), end),
    )
    position = pc.index_in(services.column("case_id"), value_set=case_ids)
    orphan = pc.is_null(position)
    if pc.any(orphan).as_py():
        n = int(pc.sum(orphan.cast(pa.int64())).as_py() or 0)
        log.warning(
            f"{n} service episode(s) name a case that is not in cases; left out", field="case_id"
        )
        services = services.filter(pc.invert(orphan))
        position = position.filter(pc.invert(orphan))
    pos = np.asarray(position.to_numpy(zero_copy_only=False), dtype=np.int64)
    starts = np.asarray(
        pc.fill_null(services.column("start_date").cast(pa.int32()), -(2**31)).to_numpy(),
        dtype=np.int64,
    )
    order = np.lexsort((starts, pos))
    return pos[order], services.take(pa.array(order))


def _chunks(n: int, size: int) -> Iterator[tuple[int, int]]:
    for a in range(0, n, size):
        yield a, min(n, a + size)


_CASE_COLUMNS = (
    "case_id",
    "child_id",
    "reference_date",
    "birth_month",
    "age",
    "sex",
    "ethnicity",
    "disability",
)
_CASE_CODES = (
    "cin.referral_source",
    "cin.primary_need",
    "cin.reason_for_closure",
    "cin.category_of_abuse",
)


def _ordered_cases(table: pa.Table, log: IssueLog) -> tuple[pa.Table, list[Any]]:
    """Cases with a reference date, sorted by child, referral date and case id, and the
    child key of each row (the case id when a case has no child id)."""
    mns_schema.check(table, "cases")
    missing = pc.is_null(table.column("reference_date"))
    if pc.any(missing).as_py():
        for case in table.filter(missing).column("case_id").to_pylist():
            log.error(
                "the case has no reference_date, which a census episode needs (CINreferralDate)",
                record=case,
                field="reference_date",
            )
        table = table.filter(pc.invert(missing))
    child_key = pc.coalesce(table.column("child_id"), table.column("case_id"))
    keys = pa.table(
        {"k": child_key, "d": table.column("reference_date"), "c": table.column("case_id")}
    )
    order = pc.sort_indices(keys, sort_keys=[(k, "ascending") for k in keys.column_names])
    return table.take(order), child_key.take(order).to_pylist()


def _emit(
    writer: _Writer, table: pa.Table, keys: list[Any], svc_pos: np.ndarray[Any, Any], svc: pa.Table
) -> None:
    """Write the children of ``table`` (sorted by child) a chunk of rows at a time (the
    ``Message`` around them is the caller's)."""
    svc_cols = {
        name: _plain(svc.column(name)) for name in ("service", "start_date", "end_date", "detail")
    }
    wanted = [
        *_CASE_COLUMNS,
        *(n for n in table.column_names if n in _CASE_CODES or n.startswith("cin.disability_")),
    ]
    pending_rows: list[dict[str, Any]] = []
    pending_svc: list[_Services] = []
    for a, b in _chunks(table.num_rows, _CHUNK):
        chunk = table.slice(a, b - a)
        cols = {n: _plain(chunk.column(n)) for n in wanted}
        for n in _CASE_CODES:
            cols.setdefault(n, [None] * (b - a))
        factor_lists = _factor_lists(chunk, writer.year, writer.log)
        lo, hi = np.searchsorted(svc_pos, [a, b])
        per_case: dict[int, _Services] = {}
        for j in range(int(lo), int(hi)):
            spans = per_case.setdefault(int(svc_pos[j]), _Services()).by_kind
            spans.setdefault(svc_cols["service"][j], []).append(
                (svc_cols["start_date"][j], svc_cols["end_date"][j], svc_cols["detail"][j])
            )
        for i in range(b - a):
            row = {n: cols[n][i] for n in cols}
            row["_factors"] = factor_lists[i]
            if pending_rows and keys[a + i] != keys[a + i - 1]:
                writer.child(pending_rows, pending_svc)
                pending_rows, pending_svc = [], []
            pending_rows.append(row)
            pending_svc.append(per_case.get(a + i, _Services()))
    if pending_rows:
        writer.child(pending_rows, pending_svc)


Tables: TypeAlias = pa.Table | pa.RecordBatchReader | Iterable[pa.RecordBatch]


def write(
    cases: Tables,
    services: Tables | None,
    path: str | Path | IO[str],
    *,
    year: int,
    reference_date: dt.date | None = None,
    lea: str | None = None,
) -> Written:
    """Write ``cases`` and ``services`` as the CIN census XML of collection ``year``.

    ``reference_date`` defaults to 31 March of ``year``; ``lea`` (three digits) fills the
    header's ``Source``. ``path`` may be a file name or a text stream. Returns what was
    written, with issues for what could not be (see the module notes).
    """
    return write_parts([(cases, services)], path, year=year, reference_date=reference_date, lea=lea)


def write_parts(
    parts: Iterable[tuple[Tables, Tables | None]],
    path: str | Path | IO[str],
    *,
    year: int,
    reference_date: dt.date | None = None,
    lea: str | None = None,
) -> Written:
    """:func:`write` for data of any size: ``parts`` yields ``(cases, services)`` pairs, each
    written as it comes (one part in memory at a time). A child's cases, and a case's
    services, must be in one part."""
    if not spec.FIRST_YEAR <= year <= spec.LAST_YEAR:
        raise MnsError(
            f"year {year}: the CIN census shapes known are {spec.FIRST_YEAR}-{spec.LAST_YEAR}",
            field="year",
        )
    if lea is not None and not (len(lea) == 3 and lea.isdigit()):
        raise MnsError(f"lea {lea!r} is not a three-digit local authority code", field="lea")
    ref = reference_date or dt.date(year, 3, 31)
    name = str(path) if isinstance(path, (str, Path)) else str(getattr(path, "name", "<stream>"))
    log = IssueLog(source=name, table="cases", adapter="cin-census")

    def emit(out: IO[str]) -> _Writer:
        writer = _Writer(out, year=year, reference_date=ref, lea=lea, log=log)
        writer.header()
        for cases, services in parts:
            table, keys = _ordered_cases(_table(cases), log)
            svc = _table(services) if services is not None else mns_schema.SERVICES.empty_table()
            svc_pos, svc = _services_by_case(
                svc, table.column("case_id").combine_chunks(), ref, log
            )
            _emit(writer, table, keys, svc_pos, svc)
        writer.footer()
        return writer

    if isinstance(path, (str, Path)):
        target: Path | None = Path(path)
        # whole or not at all: a killed write never leaves half a return under its name
        with (
            replacing(path) as temporary,
            temporary.open("w", encoding="utf-8", newline="\n") as out,
        ):
            writer = emit(out)
    else:
        target = None
        writer = emit(path)
    return Written(
        path=target, children=writer.children, episodes=writer.episodes, issues=log.table()
    )


def xsd_errors(
    xml: str | Path | bytes, xsd: str | Path, *, dfe_previous_cpp: bool = True, limit: int = 50
) -> list[str]:
    """The XSD validation errors of a CIN census file (``[]`` when it is valid).

    ``xsd`` is a schema file such as the reference ``CIN_schema_2024.xsd``. Those schemas
    type ``NumberOfPreviousCPP`` as a positive integer, while the DfE rule (8730) asks for
    a number of 0 or more; with ``dfe_previous_cpp`` (the default) 0 is accepted.
    The file is parsed with entities and network access off.
    """
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    schema_doc = etree.parse(str(xsd), parser)
    if dfe_previous_cpp:
        ns = {"xs": "http://www.w3.org/2001/XMLSchema"}
        for el in schema_doc.iterfind(".//xs:element[@name='NumberOfPreviousCPP']", ns):
            el.set("type", "xs:nonNegativeInteger")
    schema = etree.XMLSchema(schema_doc)
    doc = (
        etree.fromstring(xml, parser)
        if isinstance(xml, bytes)
        else etree.parse(str(xml), parser).getroot()
    )
    if schema.validate(doc):
        return []
    errors: Any = schema.error_log  # iterable and indexable; lxml-stubs say neither
    return [f"line {errors[i].line}: {errors[i].message}" for i in range(min(len(errors), limit))]
