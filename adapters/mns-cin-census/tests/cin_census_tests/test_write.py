"""Writing canonical tables as census XML: valid against the reference XSDs, and read back
as the same cases and services (synth -> write -> read), in every year's shape."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import mns_cin_census
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from mns_cin_census import spec

from mns import synth
from mns.records import schema
from mns.records.bundle import Records

#: columns a census file carries (not: case_id, which it renames; area and la, which it
#: does not hold; cohort, which it derives from how far the episode went)
CARRIED = ("child_id", "reference_date", "birth_month", "age", "sex", "ethnicity", "disability")
CIN_SERVICES = ("assessment", "cin_plan", "s47", "cp_plan", "pre_proceedings")


def in_census(recs: Records, year: int) -> tuple[pa.Table, pa.Table]:
    """What a census of ``year`` can hold of ``recs``: CIN services only, those started by
    the reference date, end dates after it blanked, the s47 end (not collected) blanked, the
    category of abuse only when a plan remains; CINPlanDates from 2022, pre-proceedings
    from 2026; an assessment on the referral date for factors without one."""
    ref = pa.scalar(dt.date(year, 3, 31), pa.date32())
    services = recs.services
    kinds = [
        k
        for k in CIN_SERVICES
        if not (k == "cin_plan" and year < 2022) and not (k == "pre_proceedings" and year < 2026)
    ]
    kind = services.column("service").cast(pa.string())
    services = services.filter(
        pc.and_(pc.is_in(kind, pa.array(kinds)), pc.less_equal(services.column("start_date"), ref))
    )
    kind = services.column("service").cast(pa.string())
    end = services.column("end_date")
    end = pc.if_else(
        pc.or_(pc.fill_null(pc.greater(end, ref), False), pc.equal(kind, "s47")),
        pa.scalar(None, pa.date32()),
        end,
    )
    services = services.set_column(services.schema.get_field_index("end_date"), "end_date", end)
    cases = recs.cases
    # factors need an assessment: the writer adds one on the referral date when none is left
    factor_columns = [c for c in cases.column_names if c.startswith("cin.") and c[4].isdigit()]
    assessed = pc.is_in(
        cases.column("case_id"),
        pc.unique(services.filter(pc.equal(kind, "assessment")).column("case_id")),
    )
    has_factors = pa.array(
        [
            any(v is not None for v in row.values())
            for row in cases.select(factor_columns).to_pylist()
        ]
    )
    added = cases.filter(pc.and_(has_factors, pc.invert(assessed)))
    if added.num_rows:
        extra = schema.conform(
            pa.table(
                {
                    "case_id": added.column("case_id"),
                    "child_id": added.column("child_id"),
                    "service": pa.array(["assessment"] * added.num_rows),
                    "start_date": added.column("reference_date"),
                    "agency": pa.array(["social_care"] * added.num_rows),
                    "provider": pa.array(["council"] * added.num_rows),
                }
            ),
            "services",
        )
        services = pa.concat_tables([schema.conform(services, "services"), extra])
        kind = services.column("service").cast(pa.string())
    with_plan = pc.unique(services.filter(pc.equal(kind, "cp_plan")).column("case_id"))
    has_plan = pc.is_in(cases.column("case_id"), with_plan)
    category = cases.column("cin.category_of_abuse").cast(pa.string())
    cases = cases.set_column(
        cases.schema.get_field_index("cin.category_of_abuse"),
        "cin.category_of_abuse",
        pc.if_else(has_plan, category, pa.scalar(None, pa.string())),
    )
    return cases, services


def concurrent_plans(cases: pa.Table, services: pa.Table, year: int) -> dict[str, int]:
    """Per episode (``LAchildID/referral date``), its CIN plans that run alongside one of its
    child protection plans (DfE rule 4001: an open plan runs to the reference date).
    ``synth`` ends a child protection plan the day a CIN plan starts, so none should."""
    ref = dt.date(year, 3, 31)
    episode = {
        r["case_id"]: f"{r['child_id']}/{r['reference_date']}"
        for r in cases.select(["case_id", "child_id", "reference_date"]).to_pylist()
    }
    plans: dict[str, dict[str, list[tuple[dt.date, dt.date | None]]]] = {}
    for r in plain(services, ["case_id", "service", "start_date", "end_date"]):
        if r["service"] in ("cin_plan", "cp_plan"):
            by_kind = plans.setdefault(r["case_id"], {"cin_plan": [], "cp_plan": []})
            by_kind[r["service"]].append((r["start_date"], r["end_date"]))
    out: dict[str, int] = {}
    for case, kinds in plans.items():
        n = sum(
            any(
                (e is None and pe is None) or (s < (pe or ref) and ps < (e or ref))
                for ps, pe in kinds["cp_plan"]
            )
            for s, e in kinds["cin_plan"]
        )
        if n:
            out[episode[case]] = n
    return out


def plain(table: pa.Table, columns: list[str]) -> list[dict[str, Any]]:
    out = table.select(columns)
    arrays = [
        c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c for c in out.columns
    ]
    rows: list[dict[str, Any]] = pa.Table.from_arrays(arrays, names=columns).to_pylist()
    return rows


def keyed_cases(cases: pa.Table) -> dict[tuple[Any, Any], dict[str, Any]]:
    columns = [*CARRIED, *(c for c in cases.column_names if c.startswith("cin."))]
    return {(r["child_id"], r["reference_date"]): r for r in plain(cases, columns)}


def keyed_services(services: pa.Table, cases: pa.Table) -> list[tuple[Any, ...]]:
    child = dict(
        zip(cases.column("case_id").to_pylist(), cases.column("child_id").to_pylist(), strict=True)
    )
    referral = dict(
        zip(
            cases.column("case_id").to_pylist(),
            cases.column("reference_date").to_pylist(),
            strict=True,
        )
    )
    rows = plain(
        services, ["case_id", "service", "detail", "start_date", "end_date", "agency", "provider"]
    )
    return sorted(
        (
            child[r["case_id"]],
            referral[r["case_id"]],
            r["service"],
            r["detail"],
            r["start_date"],
            r["end_date"],
            r["agency"],
            r["provider"],
        )
        for r in rows
    )


@pytest.mark.parametrize("year", range(spec.FIRST_YEAR, spec.LAST_YEAR + 1))
def test_synth_write_read_gives_back_the_same_cases(tmp_path: Path, year: int) -> None:
    recs = synth.records(300, seed=7, year=year)
    path = tmp_path / "census.xml"
    written = mns_cin_census.write(recs.cases, recs.services, path, year=year, lea="201")
    assert written.children == written.episodes == recs.cases.num_rows
    back = mns_cin_census.read(path)
    cases, services = in_census(recs, year)
    # synth's census is clean under the reader's own checks (no CIN plan alongside a child
    # protection plan, DfE rule 4001, among them)
    assert back.issues.to_pylist() == []
    assert concurrent_plans(cases, services, year) == {}
    assert back.provenance.collection_year == year
    expected, got = keyed_cases(cases), keyed_cases(back.cases)
    assert expected.keys() == got.keys()
    # 18A/19A are read in every year (the DfE still accepts them); synth writes them only
    # until 2020, so later files give those columns and never a true in them
    legacy = [c for c in back.cases.column_names if c not in cases.column_names]
    assert set(legacy) <= {"cin.18A", "cin.19A"}
    for row in got.values():
        assert not any(row.pop(c) for c in legacy)
    differ = {k: (expected[k], got[k]) for k in expected if expected[k] != got[k]}
    if year <= 2020:  # 18B/18C are written 18A, 19B/19C 19A: compare the merged codes
        differ = {}
        for k in expected:
            e, g = dict(expected[k]), dict(got[k])
            for merged, parts in (
                ("cin.18A", ("cin.18B", "cin.18C")),
                ("cin.19A", ("cin.19B", "cin.19C")),
            ):
                values = [e.pop(p, None) for p in parts] + [e.get(merged)]
                e[merged] = True if True in values else (False if False in values else None)
            if e != g:
                differ[k] = (e, g)
    assert not differ, next(iter(differ.items()))
    assert keyed_services(services, cases) == keyed_services(back.services, back.cases)
    assert set(back.cases.column("la").to_pylist()) == {"201"}


def test_a_write_that_fails_leaves_the_earlier_file_whole(tmp_path: Path) -> None:
    recs = synth.records(20, seed=3, year=2024)
    path = tmp_path / "census.xml"
    mns_cin_census.write(recs.cases, recs.services, path, year=2024)
    before = path.read_bytes()

    def parts() -> Any:
        yield recs.cases, recs.services
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        mns_cin_census.write_parts(parts(), path, year=2024)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["census.xml"]  # no half-written litter


def test_synth_census_raises_no_rule_4001(tmp_path: Path) -> None:
    """The demo data are clean under mns's own checks: a child steps down from a child
    protection plan to a CIN plan, never holds both at once (DfE rule 4001)."""
    year = spec.LAST_YEAR
    recs = synth.records(4000, seed=3, year=year)
    path = tmp_path / "census.xml"
    mns_cin_census.write(recs.cases, recs.services, path, year=year, lea="201")
    back = mns_cin_census.read(path)
    kinds = back.services.column("service").cast(pa.string())
    assert pc.sum(pc.equal(kinds, "cp_plan").cast(pa.int64())).as_py() > 50  # plans were drawn
    assert pc.sum(pc.equal(kinds, "cin_plan").cast(pa.int64())).as_py() > 50
    assert [i for i in back.issues.to_pylist() if "4001" in i["message"]] == []
    assert concurrent_plans(*in_census(recs, year), year) == {}


@pytest.mark.parametrize(
    ("year", "xsd"),
    [
        (2021, "CIN_schema_2021.xsd"),
        (2022, "CIN_schema_2024.xsd"),
        (2023, "CIN_schema_2024.xsd"),
        (2024, "CIN_schema_2024.xsd"),
    ],
)
def test_written_files_validate_against_the_reference_xsds(
    tmp_path: Path, reference: Path, year: int, xsd: str
) -> None:
    assert spec.shape(year).xsd == xsd
    recs = synth.records(400, seed=year, year=year)
    path = tmp_path / "census.xml"
    mns_cin_census.write(recs.cases, recs.services, path, year=year, lea="201")
    assert mns_cin_census.xsd_errors(path, reference / "cin_census" / xsd) == []
    # with the XSD as published, the only complaint allowed is a first plan (0 previous ones)
    strict = mns_cin_census.xsd_errors(path, reference / "cin_census" / xsd, dfe_previous_cpp=False)
    assert all("NumberOfPreviousCPP" in e and "'0'" in e for e in strict)


def test_the_xsd_check_catches_a_broken_file(tmp_path: Path, reference: Path, build: Any) -> None:
    data = build.document(build.child("A", ethnicity="WXYZ"))
    errors = mns_cin_census.xsd_errors(data, reference / "cin_census" / "CIN_schema_2024.xsd")
    assert len(errors) == 1
    assert "WXYZ" in errors[0]


def _one_case(**values: Any) -> pa.Table:
    base: dict[str, Any] = {
        "case_id": "K1-1",
        "child_id": "K1",
        "reference_date": dt.date(2023, 6, 1),
        "birth_month": dt.date(2015, 6, 1),
        "age": 7,
        "sex": "F",
    }
    base.update(values)
    return schema.conform(pa.table({k: [v] for k, v in base.items()}), "cases")


def test_birth_date_gives_back_the_age_within_the_birth_month() -> None:
    out = io.StringIO()
    mns_cin_census.write(_one_case(), None, out, year=2024)
    assert "<PersonBirthDate>2015-06-02</PersonBirthDate>" in out.getvalue()  # 7 on 2023-06-01


def test_unborn_child_gets_an_expected_birth_date_and_sex_for_the_year() -> None:
    case = _one_case(birth_month=None, age=0, sex="U")
    out = io.StringIO()
    mns_cin_census.write(case, None, out, year=2025)
    text = out.getvalue()
    assert "<ExpectedPersonBirthDate>2023-06-01</ExpectedPersonBirthDate>" in text
    assert "<Sex>U</Sex>" in text
    assert "GenderCurrent" not in text
    out = io.StringIO()
    mns_cin_census.write(case, None, out, year=2024)
    assert "<GenderCurrent>0</GenderCurrent>" in out.getvalue()


def test_what_a_census_cannot_hold_is_reported() -> None:
    lang_cases = _one_case(
        reference_date=dt.date(2020, 6, 1), age=4, **{"cin.referral_source": "5D"}
    )
    services = schema.conform(
        pa.table(
            {
                "case_id": ["K1-1", "K1-1", "K1-1"],
                "service": ["camhs", "cin_plan", "s47"],
                "start_date": [dt.date(2020, 7, 1), dt.date(2020, 8, 1), dt.date(2021, 5, 1)],
            }
        ),
        "services",
    )
    out = io.StringIO()
    written = mns_cin_census.write(lang_cases, services, out, year=2021)
    messages = written.issues.column("message").to_pylist()
    assert any("camhs" in m for m in messages)
    assert any("'5D' is not valid in the 2021 collection" in m for m in messages)
    assert any("CINPlanDates" in m and "2022" in m for m in messages)
    assert any("after the reference date" in m for m in messages)
    text = out.getvalue()
    assert "<ReferralSource>10</ReferralSource>" in text
    assert "CINPlanDates" not in text
    assert "Section47" not in text


def test_a_case_without_reference_date_is_not_written() -> None:
    out = io.StringIO()
    written = mns_cin_census.write(_one_case(reference_date=None), None, out, year=2024)
    assert written.episodes == 0
    [issue] = written.issues.to_pylist()
    assert issue["record"] == "K1-1"
    assert issue["severity"] == "error"


def test_bad_year_and_lea_are_refused() -> None:
    with pytest.raises(Exception, match="2012"):
        mns_cin_census.write(_one_case(), None, io.StringIO(), year=2012)
    with pytest.raises(Exception, match="three-digit"):
        mns_cin_census.write(_one_case(), None, io.StringIO(), year=2024, lea="E09")
