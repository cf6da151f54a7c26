"""From a checked batch to mns's canonical ``cases`` and ``services``.

``cases``: one row per episode of need (``CINdetails``), identified by the child and the
referral date, ``LAchildID/YYYY-MM-DD`` (the same episode has the same id in every year's
census). The reference date is the referral date
and the age is the age at referral. The ``cin.*`` indicators are the factors identified at
the *latest* assessment of the episode (by start date; the later in the file on a tie), the
primary need, referral source and reason for closure, the latest category of abuse of the
episode's latest child protection plan, and the child's disabilities.

A factor column is ``null`` when the episode has no assessment, or when its latest
assessment records no (valid) factor: "not assessed" is not "no need".

``services``: one row per assessment (``assessment``), child in need plan (``cin_plan``),
section 47 enquiry (``s47``), child protection plan (``cp_plan``, detail: the initial
category of abuse) and pre-proceedings (``pre_proceedings``, detail: the outcome), with
their start and end dates. The agency is children's social care (``social_care``), the
provider the local authority (``council``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mns.lang import language
from mns.records import schema as mns_schema
from mns_cin_census.codes import code_sets, factor_codes
from mns_cin_census.validate import CATEGORY, Batch, Context

__all__ = ["SERVICES", "SOURCE_SYSTEM", "case_ids", "cases", "cases_schema", "services"]

SOURCE_SYSTEM = "cin-census"
AGENCY = "social_care"
PROVIDER = "council"
#: service code -> (relational table, start element, end element, detail element)
SERVICES = {
    "assessment": ("Assessments", "AssessmentActualStartDate", "AssessmentAuthorisationDate", None),
    "cin_plan": ("CINplanDates", "CINPlanStartDate", "CINPlanEndDate", None),
    "s47": ("Section47", "S47ActualStartDate", None, None),
    "cp_plan": ("ChildProtectionPlans", "CPPstartDate", "CPPendDate", "InitialCategoryOfAbuse"),
    "pre_proceedings": ("PreProceedings", "PPStartDate", "StepDecisionDate", "PPOutcome"),
}
_CASE_KEY = ("LAchildID", "CINdetailsID")


def cases_schema(year: int | None) -> pa.Schema:
    """The ``cases`` schema of a collection year: the fixed columns and the ``cin``
    indicators valid that year (every year's when ``None``), with the legacy factors the
    DfE still accepts that year (18A, 19A: see :data:`mns_cin_census.codes.LEGACY_FACTORS`)."""
    lang = language("cin")
    base = mns_schema.cases_schema([lang], year)
    extra = [
        mns_schema.indicator_field(lang, lang.indicator(code))
        for code in factor_codes(year)
        if f"cin.{code}" not in base.names
    ]
    if not extra:
        return base
    return pa.schema([*base, *extra], metadata=base.metadata)


def _days(values: pa.Array) -> np.ndarray[Any, Any]:
    """Dates as day numbers, null as the smallest int32 (sorts first)."""
    ints = pc.fill_null(values.cast(pa.int32()), np.iinfo(np.int32).min)
    return np.asarray(ints.to_numpy(zero_copy_only=False), dtype=np.int64)


def latest(parent: np.ndarray[Any, Any], dates: pa.Array, groups: int) -> np.ndarray[Any, Any]:
    """For each of ``groups`` parents, the row with the latest date (the later row on a tie,
    a dated row before an undated one); -1 for a parent without rows."""
    out = np.full(groups, -1, dtype=np.int64)
    if len(parent) == 0:
        return out
    rows = np.arange(len(parent))
    order = np.lexsort((rows, _days(dates), parent))
    last = np.ones(len(order), dtype=bool)
    last[:-1] = parent[order][1:] != parent[order][:-1]
    out[parent[order][last]] = order[last]
    return out


def _by_child(values: pa.Array, child: np.ndarray[Any, Any], n_children: int) -> pa.Array:
    """A one-row-per-child column spread to ``n_children`` (null where a child has no row)."""
    where = np.full(n_children, -1, dtype=np.int64)
    where[child] = np.arange(len(child), dtype=np.int64)
    return values.take(pa.array(where, pa.int64(), mask=where < 0))


def _flags(
    rows_group: np.ndarray[Any, Any], codes: pa.Array, valid: tuple[str, ...], groups: int
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """A (groups x codes) bool matrix of which code each group holds, and which groups hold
    any valid code at all."""
    matrix = np.zeros((groups, len(valid)), dtype=bool)
    index = pc.index_in(codes, value_set=pa.array(valid, pa.string()))
    col = np.asarray(pc.fill_null(index, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    ok = col >= 0
    matrix[rows_group[ok], col[ok]] = True
    known = np.zeros(groups, dtype=bool)
    known[rows_group[ok]] = True
    return matrix, known


def _plain(values: pa.Array) -> pa.Array:
    return values.cast(pa.string()) if pa.types.is_dictionary(values.type) else values


def _constant(value: str | None, n: int) -> pa.Array:
    """``value`` ``n`` times, dictionary-encoded (a dictionary of one value)."""
    if value is None or n == 0:
        return pa.nulls(n, CATEGORY)
    return pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(n, dtype=np.int32)), pa.array([value], pa.string())
    )


def case_ids(batch: Batch) -> pa.Array:
    """The case id of each episode of need: ``LAchildID/referral date`` (``LAchildID/#n``,
    the episode's number in the child, when the referral date is missing or unreadable)."""
    cin = batch.tables["CINdetails"]
    ids = cin.column("LAchildID").combine_chunks()
    dates = cin.column("CINreferralDate").combine_chunks().cast(pa.string())
    number = pc.binary_join_element_wise(
        "#", cin.column("CINdetailsID").combine_chunks().cast(pa.string()), ""
    )
    return pc.binary_join_element_wise(ids, pc.coalesce(dates, number), "/")


def _age(batch: Batch, referral: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Age in whole years at referral (0 for a child referred before birth, or unborn: an
    expected birth date and no birth date), and the month of birth, per episode."""
    idents = batch.tables["ChildIdentifiers"]
    take_child = pa.array(batch.child["CINdetails"], pa.int64())
    birth, expected = (
        _by_child(
            idents.column(name).combine_chunks(), batch.child["ChildIdentifiers"], batch.size
        ).take(take_child)
        for name in ("PersonBirthDate", "ExpectedPersonBirthDate")
    )
    years = pc.subtract(pc.year(referral), pc.year(birth))
    before_birthday = pc.or_(
        pc.less(pc.month(referral), pc.month(birth)),
        pc.and_(
            pc.equal(pc.month(referral), pc.month(birth)), pc.less(pc.day(referral), pc.day(birth))
        ),
    )
    age = pc.max_element_wise(pc.subtract(years, pc.cast(before_birthday, pa.int64())), 0)
    unborn = pc.and_(pc.and_(pc.is_null(birth), pc.is_valid(expected)), pc.is_valid(referral))
    return pc.if_else(unborn, 0, age).cast(pa.int16()), pc.floor_temporal(birth, unit="month")


def _disabilities(batch: Batch, year: int | None) -> dict[str, pa.Array]:
    """``disability`` and the ``cin.disability_*`` flags per episode; null when the child
    has no (valid) disability recorded, NONE included."""
    child = batch.child["CINdetails"]
    codes = _plain(batch.tables["Disabilities"].column("Disability").combine_chunks())
    valid = code_sets(year)["Disability"].valid
    matrix, known = _flags(batch.child["Disabilities"], codes, valid, batch.size)
    # any code but NONE: disabled (NONE beside another code: the other code wins)
    disabled = np.asarray(np.delete(matrix, valid.index("NONE"), axis=1).any(axis=1), dtype=bool)
    out = {"disability": pa.array(disabled[child], pa.bool_(), mask=~known[child])}
    for j, code in enumerate(valid):
        if code != "NONE":
            out[f"cin.disability_{code}"] = pa.array(
                matrix[child, j], pa.bool_(), mask=~known[child]
            )
    return out


def _factors(batch: Batch, year: int | None) -> dict[str, pa.Array]:
    """The ``cin.<factor>`` flags: the factors of each episode's latest assessment."""
    n = batch.tables["CINdetails"].num_rows
    asm = batch.tables["Assessments"]
    starts = asm.column("AssessmentActualStartDate").combine_chunks()
    latest_asm = latest(batch.parent["Assessments"], starts, n)
    is_latest = np.zeros(asm.num_rows + 1, dtype=bool)
    is_latest[latest_asm[latest_asm >= 0]] = True
    fac_parent = batch.parent["AssessmentFactors"]
    picked = is_latest[fac_parent] if len(fac_parent) else np.zeros(0, dtype=bool)
    fac_case = (
        batch.parent["Assessments"][fac_parent[picked]]
        if picked.any()
        else np.zeros(0, dtype=np.int64)
    )
    codes = _plain(batch.tables["AssessmentFactors"].column("AssessmentFactors").combine_chunks())
    factors = factor_codes(year)
    matrix, known = _flags(fac_case, codes.filter(pa.array(picked)), factors, n)
    return {
        f"cin.{code}": pa.array(matrix[:, j], pa.bool_(), mask=~known)
        for j, code in enumerate(factors)
    }


def _plans(batch: Batch) -> tuple[pa.Array, pa.Array]:
    """The latest category of abuse of each episode's latest child protection plan, and the
    cohort: ``child_protection`` with a plan, ``referral`` when the referral led to no
    further action or the case closed after assessment (RC8, RC9), else ``child_in_need``."""
    cin = batch.tables["CINdetails"]
    cpp = batch.tables["ChildProtectionPlans"]
    latest_cpp = latest(
        batch.parent["ChildProtectionPlans"],
        cpp.column("CPPstartDate").combine_chunks(),
        cin.num_rows,
    )
    category = _plain(cpp.column("LatestCategoryOfAbuse").combine_chunks()).take(
        pa.array(latest_cpp, pa.int64(), mask=latest_cpp < 0)
    )
    nfa = pc.fill_null(cin.column("ReferralNFA").combine_chunks(), False)
    closure = _plain(cin.column("ReasonForClosure").combine_chunks())
    early = pc.fill_null(pc.is_in(closure, value_set=pa.array(["RC8", "RC9"])), False)
    short = np.asarray(pc.or_(nfa, early).to_numpy(zero_copy_only=False), dtype=bool)
    cohort = np.where(
        latest_cpp >= 0, "child_protection", np.where(short, "referral", "child_in_need")
    )
    return category.cast(CATEGORY), pa.array(cohort.tolist(), pa.string()).cast(CATEGORY)


def cases(batch: Batch, ctx: Context, schema: pa.Schema) -> pa.Table:
    """The ``cases`` of one batch, with the columns of ``schema`` (see :func:`cases_schema`)."""
    cin = batch.tables["CINdetails"]
    n = cin.num_rows
    take_child = pa.array(batch.child["CINdetails"], pa.int64())
    referral = cin.column("CINreferralDate").combine_chunks()
    age, birth_month = _age(batch, referral)
    ethnicity = _by_child(
        _plain(batch.tables["ChildCharacteristics"].column("Ethnicity").combine_chunks()),
        batch.child["ChildCharacteristics"],
        batch.size,
    )
    category, cohort = _plans(batch)
    columns: dict[str, pa.Array] = {
        "case_id": case_ids(batch),
        "child_id": cin.column("LAchildID").combine_chunks(),
        "reference_date": referral,
        "birth_month": birth_month,
        "age": age,
        "sex": batch.children.column("sex").combine_chunks().take(take_child).cast(CATEGORY),
        "ethnicity": ethnicity.take(take_child).cast(CATEGORY),
        "area": pa.nulls(n, CATEGORY),
        "la": _constant(ctx.lea, n),
        "cohort": cohort,
        "agency": _constant(AGENCY, n),
        "source_system": _constant(SOURCE_SYSTEM, n),
        **_factors(batch, ctx.year),
        "cin.primary_need": cin.column("PrimaryNeedCode").combine_chunks(),
        "cin.referral_source": cin.column("ReferralSource").combine_chunks(),
        "cin.reason_for_closure": cin.column("ReasonForClosure").combine_chunks(),
        "cin.category_of_abuse": category,
        **_disabilities(batch, ctx.year),
    }
    arrays = [
        columns[field.name].cast(field.type) if field.name in columns else pa.nulls(n, field.type)
        for field in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def services(batch: Batch) -> tuple[pa.Table, np.ndarray[Any, Any]]:
    """The ``services`` of one batch (assessments, plans, enquiries and pre-proceedings),
    and the row of each service's episode of need (``CINdetails``) in the batch."""
    episode = case_ids(batch)
    parts = []
    lines = []
    for code, (table_name, start, end, detail) in SERVICES.items():
        table = batch.tables[table_name]
        n = table.num_rows
        if n == 0:
            continue
        case_id = episode.take(pa.array(batch.parent[table_name], pa.int64()))
        lines.append(np.asarray(batch.parent[table_name], dtype=np.int64))
        parts.append(
            pa.table(
                {
                    "case_id": case_id,
                    "child_id": table.column("LAchildID").combine_chunks(),
                    "service": _constant(code, n),
                    "detail": (
                        table.column(detail).combine_chunks().cast(CATEGORY)
                        if detail
                        else pa.nulls(n, CATEGORY)
                    ),
                    "start_date": table.column(start).combine_chunks(),
                    "end_date": table.column(end).combine_chunks()
                    if end
                    else pa.nulls(n, pa.date32()),
                    "agency": _constant(AGENCY, n),
                    "provider": _constant(PROVIDER, n),
                },
                schema=mns_schema.SERVICES,
            )
        )
    if not parts:
        return mns_schema.SERVICES.empty_table(), np.zeros(0, dtype=np.int64)
    return pa.concat_tables(parts), np.concatenate(lines)
