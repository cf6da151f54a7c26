"""mns.synth: deterministic synthetic cases with realistic, correlated CIN factors."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import Counter
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import mns
from mns import synth
from mns.lang import language
from mns.records import schema
from mns.records.bundle import Records
from mns.synth import _model, _records

# Factor prevalences among children in need (DOMAIN.md section 3; A, B and C combined).
NATIONAL = {
    "domestic violence": (("3A", "3B", "3C"), 0.496),
    "mental health": (("4A", "4B", "4C"), 0.366),
    "drug misuse": (("2A", "2B", "2C"), 0.193),
    "emotional abuse": (("17A",), 0.193),
    "alcohol misuse": (("1A", "1B", "1C"), 0.184),
    "neglect": (("16A",), 0.175),
    "physical abuse": (("18B", "18C"), 0.140),
    "sexual abuse": (("19B", "19C"), 0.064),
    "self-harm": (("15A",), 0.043),
    "CSE": (("11A",), 0.039),
    "missing": (("10A",), 0.027),
    "gangs": (("13A",), 0.012),
}

Bools = npt.NDArray[np.bool_]


@functools.cache
def big() -> pa.Table:
    return synth.cases(20_000, seed=11)


@functools.cache
def recs() -> Records:
    return synth.records(20_000, seed=12)


def flag(table: pa.Table, code: str) -> Bools:
    """A factor column as booleans, null as False."""
    return np.asarray(
        pc.fill_null(table.column(f"cin.{code}"), False).to_numpy(zero_copy_only=False)
    )


def assessed(table: pa.Table) -> Bools:
    return np.asarray(pc.is_valid(table.column("cin.20")).to_numpy(zero_copy_only=False))


def any_of(table: pa.Table, codes: tuple[str, ...]) -> Bools:
    out = np.zeros(table.num_rows, dtype=bool)
    for code in codes:
        out |= flag(table, code)
    return out


def values(table: pa.Table, name: str) -> list[Any]:
    return list(table.column(name).to_pylist())


# --- determinism ------------------------------------------------------------------------


def test_same_seed_same_table_and_different_seed_different_table() -> None:
    a = synth.cases(500, seed=1)
    assert a.equals(synth.cases(500, seed=1))
    b = synth.cases(500, seed=2)
    assert not a.equals(b)
    assert values(a, "case_id") == values(b, "case_id")  # ids number the cases
    assert values(a, "age") != values(b, "age")


def test_batch_size_never_changes_a_value() -> None:
    n = 70_000  # more than one internal block of 65,536
    one = synth.cases(n, seed=3)
    small = synth.cases(n, seed=3, batch_size=9_999)
    assert {b.num_rows for b in small.to_batches()[:-1]} == {9_999}
    assert small.equals(one)
    streamed = pa.Table.from_batches(list(synth.batches(n, seed=3, batch_size=30_000)))
    assert streamed.equals(one)


def test_first_cases_do_not_depend_on_how_many_are_drawn() -> None:
    assert synth.cases(1_000, seed=4).slice(0, 100).equals(synth.cases(100, seed=4))


def test_records_cases_are_the_cases() -> None:
    assert synth.records(300, seed=5).cases.equals(synth.cases(300, seed=5))


# --- schema -----------------------------------------------------------------------------


@pytest.mark.parametrize("year", [2016, 2021, 2024, 2025])
def test_cases_meet_the_canonical_schema_of_their_year(year: int) -> None:
    table = synth.cases(100, seed=6, year=year)
    schema.check(table, "cases")
    assert table.schema.equals(schema.cases_schema([language("cin")], year))
    assert table.num_rows == 100
    assert values(table, "case_id") == sorted(values(table, "case_id"))
    assert set(values(table, "source_system")) == {"cin-census"}
    first, last = dt.date(year - 1, 4, 1), dt.date(year, 3, 31)
    assert all(first <= d <= last for d in values(table, "reference_date"))


def test_year_specific_codes() -> None:
    old = synth.cases(3_000, seed=7, year=2019)
    assert "cin.18A" in old.column_names
    assert "cin.18B" not in old.column_names
    assert "cin.24A" not in old.column_names
    assert "5D" not in set(values(old, "cin.referral_source"))
    assert "RC9" not in set(values(old, "cin.reason_for_closure"))
    assert flag(old, "18A").mean() > 0.05
    new = synth.cases(3_000, seed=7, year=2024)
    assert "5D" in set(values(new, "cin.referral_source"))
    assert flag(new, "24A").mean() > 0


def test_empty_and_small_tables() -> None:
    empty = synth.cases(0, seed=1)
    assert empty.num_rows == 0
    schema.check(empty, "cases")
    assert synth.records(0, seed=1).assignments.num_rows == 0
    assert synth.cases(100, seed=1).num_rows == 100


def test_a_large_table_is_generated_in_one_go() -> None:
    table = synth.cases(200_000, seed=8)  # speed sanity; timings are in the benchmarks
    assert table.num_rows == 200_000
    assert pc.count_distinct(table.column("case_id")).as_py() == 200_000


# --- realism ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(NATIONAL))
def test_factor_prevalence_is_near_the_national_figure(name: str) -> None:
    codes, national = NATIONAL[name]
    table = big()
    seen = any_of(table, codes)[assessed(table)].mean()
    assert abs(seen - national) <= 0.02 + 0.1 * national, f"{name}: {seen:.3f} vs {national}"


def test_other_is_the_third_most_common_factor_family() -> None:
    table = big()
    ok = assessed(table)
    families = {name: any_of(table, codes)[ok].mean() for name, (codes, _) in NATIONAL.items()}
    families["other"] = flag(table, "20")[ok].mean()
    ranked = sorted(families, key=families.__getitem__, reverse=True)
    assert ranked[:3] == ["domestic violence", "mental health", "other"]


def test_parent_factors_dominate_where_they_should() -> None:
    table = big()
    assert flag(table, "3B").mean() > flag(table, "3A").mean() > flag(table, "3C").mean()
    assert flag(table, "4B").mean() > flag(table, "4A").mean()
    assert flag(table, "1B").mean() > flag(table, "1A").mean() + flag(table, "1C").mean()
    assert flag(table, "2B").mean() > flag(table, "2A").mean() + flag(table, "2C").mean()


def test_factors_are_correlated_as_in_real_data() -> None:
    table = big()
    neglect, drugs, alcohol = flag(table, "16A"), flag(table, "2B"), flag(table, "1B")
    assert neglect[drugs].mean() > 1.5 * neglect.mean()
    assert neglect[alcohol].mean() > 1.3 * neglect.mean()
    parent_mh, dv = flag(table, "4B"), flag(table, "3B")
    assert parent_mh[dv].mean() > parent_mh[~dv].mean()
    missing, cse = flag(table, "10A"), flag(table, "11A")
    assert missing[cse].mean() > 3 * missing.mean()


def test_no_factors_flag_is_exactly_the_absence_of_factors() -> None:
    table = big()
    ok = assessed(table)
    factor_codes = [c for c in language("cin").codes(2024) if c[0].isdigit() and c != "21"]
    any_factor = any_of(table, tuple(factor_codes))
    assert np.array_equal(flag(table, "21")[ok], ~any_factor[ok])
    # a case with no assessment has every factor null, and a case with one has none null
    for code in factor_codes:
        valid = np.asarray(pc.is_valid(table.column(f"cin.{code}")).to_numpy(zero_copy_only=False))
        assert np.array_equal(valid, ok)
    assert 0.03 < 1 - ok.mean() < 0.15


def test_primary_need_is_mostly_abuse_or_neglect() -> None:
    share = Counter(values(big(), "cin.primary_need"))
    assert 0.40 <= share["N1"] / big().num_rows <= 0.60
    assert set(share) <= {f"N{i}" for i in range(10)}


def test_ages_follow_the_needs() -> None:
    table = big()
    age = np.asarray(table.column("age").to_numpy())
    assert age.min() == 0
    assert age.max() == 17
    under5 = age < 5
    assert under5[flag(table, "2B")].mean() > under5.mean() + 0.1
    teen = age >= 13
    assert teen[flag(table, "11A") | flag(table, "24A")].mean() > 0.75
    for code, youngest in _model.CHILD_MIN_AGE.items():
        assert not (flag(table, code) & (age < youngest)).any(), code


def test_unborn_children_and_birth_months() -> None:
    table = big()
    sex = np.array(values(table, "sex"))
    age = np.asarray(table.column("age").to_numpy())
    births = values(table, "birth_month")
    refs = values(table, "reference_date")
    unborn = np.array([b is None for b in births])
    assert 0.002 < unborn.mean() < 0.03
    assert set(sex[unborn]) == {"U"}
    assert set(age[unborn]) == {0}
    assert (sex == "U").mean() < 0.03
    for b, r, a in zip(births, refs, age.tolist(), strict=True):
        if b is None:
            continue
        assert b.day == 1
        years = r.year - b.year - ((r.month, r.day) < (b.month, b.day))
        assert years in (a, a + 1)  # the first of the month is up to a month before the birthday


def test_demographics() -> None:
    table = big()
    ethnicity = Counter(values(table, "ethnicity"))
    assert 0.68 <= ethnicity["WBRI"] / table.num_rows <= 0.80
    assert set(ethnicity) <= set(_model.ETHNICITIES)
    disabled = np.asarray(table.column("disability").to_numpy(zero_copy_only=False))
    assert 0.07 < disabled.mean() < 0.2
    kinds = [c for c in table.column_names if c.startswith("cin.disability_")]
    any_kind = any_of(table, tuple(k[len("cin.") :] for k in kinds))
    assert np.array_equal(any_kind, disabled)
    sources = Counter(values(table, "cin.referral_source"))
    assert sources.most_common(2)[0][0] == "6"  # police refer most


def test_cohort_follows_how_far_the_case_went() -> None:
    table = big()
    cohort = np.array(values(table, "cohort"))
    category = np.array([c is not None for c in values(table, "cin.category_of_abuse")])
    assert np.array_equal(cohort == "child_protection", category)
    closure = np.array(values(table, "cin.reason_for_closure"), dtype=object)
    assert set(closure[cohort == "referral"]) <= {"RC8", "RC9"}
    fixed = synth.cases(200, seed=1, cohort="looked_after")
    assert set(values(fixed, "cohort")) == {"looked_after"}


def test_areas_are_nested_in_local_authorities_and_skewed() -> None:
    pop = synth.population(seed=9, areas=60)
    assert pop.column_names == ["area", "la", "children", "residents"]
    assert pop.num_rows == 60
    assert len(set(values(pop, "la"))) == 4
    assert values(pop, "area") == sorted(values(pop, "area"))
    assert all(str(a).startswith("Q") for a in values(pop, "area"))
    children = np.asarray(pop.column("children").to_numpy())
    assert children.max() > 5 * np.median(children)  # Zipf: a few large districts
    table = synth.cases(20_000, seed=9, areas=60)
    la_of = dict(zip(values(pop, "area"), values(pop, "la"), strict=True))
    assert all(
        la_of[a] == la for a, la in zip(values(table, "area"), values(table, "la"), strict=True)
    )
    counts = Counter(values(table, "area"))
    seen = np.array([counts[a] for a in values(pop, "area")], dtype=float)
    assert np.corrcoef(seen, children)[0, 1] > 0.8
    default = synth.population(seed=9)
    assert default.num_rows == 2300
    assert len(set(values(default, "la"))) == 153


def test_weights_shift_the_mix_of_needs() -> None:
    more = synth.records(5_000, seed=10, weights={"C3": 5.0}).extra["truth"]
    base = synth.records(5_000, seed=10).extra["truth"]

    def share(t: pa.Table) -> float:
        return float(values(t, "profile").count("C3") / t.num_rows)

    assert share(more) > 3 * share(base)


# --- missing values ---------------------------------------------------------------------


def test_missing_blanks_values_at_random_and_leaves_the_rest() -> None:
    full = synth.cases(5_000, seed=13)
    holed = synth.cases(5_000, seed=13, missing=0.1)
    assert holed.column("case_id").null_count == 0
    assert 0.08 < holed.column("age").null_count / 5_000 < 0.12
    assert 0.08 < holed.column("sex").null_count / 5_000 < 0.12
    for name in ("age", "area", "cin.3B", "cin.primary_need", "reference_date"):
        kept = pc.is_valid(holed.column(name))
        assert pc.all(
            pc.equal(holed.column(name).filter(kept), full.column(name).filter(kept))
        ).as_py()
    schema.check(holed, "cases")
    assert holed.schema.equals(full.schema)


# --- records ----------------------------------------------------------------------------


def test_records_tables_and_provenance() -> None:
    r = recs()
    assert r.provenance.adapter == "synth"
    assert r.provenance.collection_year == 2024
    for name in ("cases", "services", "outcomes", "assignments"):
        schema.check(getattr(r, name), name)
    ids = set(values(r.cases, "case_id"))
    for name in ("services", "outcomes", "assignments"):
        assert set(values(getattr(r, name), "case_id")) <= ids
    truth = r.extra["truth"]
    assert values(truth, "case_id") == values(r.cases, "case_id")
    assert set(values(truth, "profile")) == set(synth.PROFILES)


def test_services_received() -> None:
    r = recs()
    s = r.services
    codes = set(values(s, "service"))
    assert codes <= {x.code for x in _model.RECORD_SERVICES}
    assert {"assessment", "cin_plan", "cp_plan", "s47", "family_support", "camhs"} <= codes
    start = np.array(values(s, "start_date"), dtype="datetime64[D]")
    ends = zip(values(s, "end_date"), values(s, "start_date"), strict=True)
    end = np.array([e or d for e, d in ends], dtype="datetime64[D]")
    assert (end >= start).all()
    # every case on a child protection plan has an s47 enquiry and a plan with its category
    cases = r.cases
    cp = set(
        pc.filter(
            cases.column("case_id"), pc.is_valid(cases.column("cin.category_of_abuse"))
        ).to_pylist()
    )
    by_service: dict[str, set[str]] = {}
    for case_id, code in zip(values(s, "case_id"), values(s, "service"), strict=True):
        by_service.setdefault(str(code), set()).add(str(case_id))
    assert cp == by_service["cp_plan"]
    assert cp <= by_service["s47"]
    category = dict(
        zip(values(cases, "case_id"), values(cases, "cin.category_of_abuse"), strict=True)
    )
    for case_id, code, detail in zip(
        values(s, "case_id"), values(s, "service"), values(s, "detail"), strict=True
    ):
        if code == "cp_plan":
            assert detail == category[case_id]
    # needs go unmet: many young children of substance-misusing parents get no recovery service
    truth = dict(
        zip(values(r.extra["truth"], "case_id"), values(r.extra["truth"], "profile"), strict=True)
    )
    b1 = {c for c, p in truth.items() if p == "B1"}
    treated = len(b1 & by_service["substance_treatment"]) / len(b1)
    assert 0.2 < treated < 0.7
    # and services follow agency routines too: some go to groups they are not planned for
    assert any(truth[c] == "B4" for c in by_service["idva"])


def test_outcomes_are_achieved_more_often_with_a_matched_service() -> None:
    r = recs()
    o = r.outcomes
    assert set(values(o, "outcome")) == {c for p in _model.PROFILES for c in p.outcomes}
    truth = dict(
        zip(values(r.extra["truth"], "case_id"), values(r.extra["truth"], "profile"), strict=True)
    )
    received: dict[str, set[str]] = {}
    for case_id, code in zip(
        values(r.services, "case_id"), values(r.services, "service"), strict=True
    ):
        received.setdefault(str(case_id), set()).add(str(code))
    hits = {True: [0, 0], False: [0, 0]}
    rows = zip(values(o, "case_id"), values(o, "outcome"), values(o, "achieved"), strict=True)
    for case_id, code, achieved in rows:
        group = truth[str(case_id)]
        assert str(code).startswith(group + ".")
        if achieved is None:
            continue
        matched = bool(received.get(str(case_id), set()) & _records.MATCHED[group])
        hits[matched][0] += bool(achieved)
        hits[matched][1] += 1
    with_service = hits[True][0] / hits[True][1]
    without = hits[False][0] / hits[False][1]
    assert with_service > without + 0.2


def kappa(a: list[object], b: list[object]) -> float:
    n = len(a)
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb[k] for k in ca) / n / n
    return (observed - expected) / (1 - expected)


def test_professional_and_shadow_groups_agree_imperfectly() -> None:
    r = recs()
    a = r.assignments
    assert a.num_rows == 2 * r.cases.num_rows
    assert set(values(a, "audit")) == {"baseline"}
    role = np.array(values(a, "role"))
    group = np.array(values(a, "need_group"), dtype=object)
    professional, shadow = list(group[role == "professional"]), list(group[role == "shadow"])
    truth = [None if p == _model.LOW_NEED else p for p in values(r.extra["truth"], "profile")]

    def right(x: list[Any]) -> float:
        return float(sum(g == t for g, t in zip(x, truth, strict=True)) / len(truth))

    assert 0.80 <= right(professional) <= 0.90
    assert 0.64 <= right(shadow) <= 0.76
    assert 0.55 <= kappa(professional, shadow) <= 0.75
    assert 0.0 < professional.count(None) / len(truth) < 0.2
    assert set(professional) - {None} <= {p for p in synth.PROFILES if p != _model.LOW_NEED}


def test_records_audit_name() -> None:
    a = synth.records(50, seed=1, audit="reaudit-2025").assignments
    assert set(values(a, "audit")) == {"reaudit-2025"}


# --- bad arguments ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"seed": -1}, ValueError, "seed = -1"),
        ({"seed": 1.5}, TypeError, "seed must be a whole number"),
        ({"seed": 1, "year": 2010}, ValueError, "year = 2010"),
        ({"seed": 1, "areas": 0}, ValueError, "areas = 0"),
        ({"seed": 1, "missing": 1.0}, ValueError, "missing = 1.0"),
        ({"seed": 1, "cohort": "children"}, ValueError, "cohort 'children' is not one of"),
        ({"seed": 1, "weights": {"Z9": 1.0}}, ValueError, "unknown profile 'Z9'"),
        ({"seed": 1, "weights": {"A1": -1.0}}, ValueError, "weights['A1'] = -1.0"),
        ({"seed": 1, "batch_size": 0}, ValueError, "batch_size = 0"),
    ],
)
def test_bad_arguments_are_named(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        synth.cases(10, **kwargs)  # type: ignore[arg-type]


def test_too_many_cases() -> None:
    with pytest.raises(ValueError, match="n = 100000000"):
        synth.cases(100_000_000, seed=1)


def test_lazy_export() -> None:
    assert mns.synth is synth
    assert synth.PROFILES[-1] == _model.LOW_NEED
