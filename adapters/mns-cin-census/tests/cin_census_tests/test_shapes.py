"""Every year's shape, the collection year and reference date, and reading in batches."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import mns_cin_census
import pyarrow.parquet as pq
import pytest

from mns.records.issues import IssueLog


def read(data: bytes, tmp_path: Path, name: str = "census.xml", **options: Any) -> Any:
    path = tmp_path / name
    path.write_bytes(data)
    return mns_cin_census.read(path, **options)


def in_year(text: str, year: int) -> str:
    """The builders' 2023 dates moved into the collection year ``year``."""
    return text.replace("2023-", f"{year - 1}-")


def messages(recs: Any) -> list[str]:
    return [str(m) for m in recs.issues.column("message").to_pylist()]


def test_2020_factors_18a_19a(tmp_path: Path, build: Any) -> None:
    recs = read(
        build.document(
            build.child("A", episodes=in_year(build.episode(factors=("18A", "19A")), 2020)), 2020
        ),
        tmp_path,
    )
    assert recs.issues.num_rows == 0
    case = recs.cases.to_pylist()[0]
    assert case["cin.18A"] is True
    assert case["cin.19A"] is True
    assert "cin.18B" not in case
    assert "cin.24A" not in case


def test_2021_split_and_2022_24a(tmp_path: Path, build: Any) -> None:
    recs = read(
        build.document(
            build.child("A", episodes=in_year(build.episode(factors=("18C", "19B")), 2021)), 2021
        ),
        tmp_path,
    )
    case = recs.cases.to_pylist()[0]
    assert case["cin.18C"] is True
    assert case["cin.19B"] is True
    assert case["cin.18A"] is False  # still accepted (a legacy column), not recorded here
    recs = read(
        build.document(
            build.child("A", episodes=in_year(build.episode(factors=("24A",)), 2022)), 2022
        ),
        tmp_path,
    )
    assert recs.issues.num_rows == 0
    assert recs.cases.to_pylist()[0]["cin.24A"] is True


def test_2023_early_help_codes(tmp_path: Path, build: Any) -> None:
    closure = "<CINclosureDate>2023-07-02</CINclosureDate><ReasonForClosure>RC9</ReasonForClosure>"
    episodes = build.episode(source="5D", closure=closure)
    recs = read(build.document(build.child("A", episodes=episodes), 2024), tmp_path)
    assert recs.issues.num_rows == 0
    case = recs.cases.to_pylist()[0]
    assert (case["cin.referral_source"], case["cin.reason_for_closure"]) == ("5D", "RC9")
    assert case["cohort"] == "referral"  # closed after assessment, referred to early help


def test_cin_plan_dates_before_2022_are_kept_with_a_warning(tmp_path: Path, build: Any) -> None:
    plan = "<CINPlanDates><CINPlanStartDate>2019-07-01</CINPlanStartDate></CINPlanDates>\n"
    episodes = build.episode(referral="2019-06-01", extra=plan).replace("2023-0", "2019-0")
    recs = read(build.document(build.child("A", episodes=episodes), 2020), tmp_path)
    [warning] = recs.issues.to_pylist()
    assert warning["severity"] == "warning"
    assert warning["field"] == "CINPlanDates"
    assert "from 2022" in warning["message"]
    assert recs.services.column("service").to_pylist() == ["assessment", "cin_plan"]


def test_2025_sex_replaces_gender_current(tmp_path: Path, build: Any) -> None:
    children = build.child("A", sex="<Sex>F</Sex>") + build.child("B", sex="<Sex>U</Sex>", birth="")
    recs = read(build.document(children, 2025), tmp_path)
    assert recs.issues.num_rows == 0
    assert recs.cases.column("sex").to_pylist() == ["F", "U"]
    # the old element in a new year, and a value of the old code set in the new element
    old = build.child("C", sex="<GenderCurrent>2</GenderCurrent>") + build.child(
        "D", sex="<Sex>1</Sex>"
    )
    recs = read(build.document(old, 2025), tmp_path)
    found = recs.issues.to_pylist()
    assert any(i["field"] == "GenderCurrent" and "uses <Sex>" in i["message"] for i in found)
    assert any(i["field"] == "Sex" and i["value"] == "1" for i in found)
    assert recs.cases.column("sex").to_pylist() == ["F", None]


def test_unborn_child_is_age_zero(tmp_path: Path, build: Any) -> None:
    unborn = build.child("A", sex="<Sex>U</Sex>", birth="").replace(
        "</ChildIdentifiers>",
        "<ExpectedPersonBirthDate>2023-09-01</ExpectedPersonBirthDate></ChildIdentifiers>",
    )
    unborn = unborn.replace(
        "<Sex>U</Sex><ExpectedPersonBirthDate>2023-09-01</ExpectedPersonBirthDate>",
        "<ExpectedPersonBirthDate>2023-09-01</ExpectedPersonBirthDate><Sex>U</Sex>",
    )
    recs = read(build.document(unborn, 2025), tmp_path)
    case = recs.cases.to_pylist()[0]
    assert (case["age"], case["birth_month"]) == (0, None)


def test_2026_pre_proceedings(tmp_path: Path, build: Any) -> None:
    block = (
        "<PreProceedingsandFGDM><PPStartDate>2025-09-09</PPStartDate><LBPSentDate>2025-09-20</LBPSentDate>"
        "<FGDMMeetingOffer>1</FGDMMeetingOffer><ReviewMeetingsCount>3</ReviewMeetingsCount>"
        "<StepDecisionDate>2025-12-01</StepDecisionDate><PPOutcome>A</PPOutcome></PreProceedingsandFGDM>\n"
    )
    episodes = (
        build.episode(referral="2025-06-01")
        .replace("2023-0", "2025-0")
        .replace("</CINdetails>", block + "</CINdetails>")
    )
    recs = read(
        build.document(build.child("A", sex="<Sex>M</Sex>", episodes=episodes), 2026), tmp_path
    )
    assert recs.issues.num_rows == 0, recs.issues.to_pylist()
    [pp] = recs.extra["PreProceedings"].to_pylist()
    assert (
        pp["PPStartDate"],
        pp["FGDMMeetingOffer"],
        pp["ReviewMeetingsCount"],
        pp["PPOutcome"],
    ) == (
        dt.date(2025, 9, 9),
        True,
        3,
        "A",
    )
    service = [s for s in recs.services.to_pylist() if s["service"] == "pre_proceedings"]
    assert service[0]["end_date"] == dt.date(2025, 12, 1)
    assert service[0]["detail"] == "A"
    # the block in an older file is read, with a warning
    recs = read(
        build.document(build.child("A", episodes=episodes.replace("2025-", "2023-")), 2024),
        tmp_path,
    )
    assert any("from 2026" in m for m in messages(recs))


def test_year_and_reference_date_come_from_the_header_not_the_name(
    tmp_path: Path, build: Any
) -> None:
    recs = read(build.document(build.child("A"), 2022), tmp_path, name="cin_2019_final.xml")
    assert recs.provenance.collection_year == 2022
    assert recs.provenance.reference_date == dt.date(2022, 3, 31)


def test_the_caller_overrides_the_header(tmp_path: Path, build: Any) -> None:
    recs = read(
        build.document(build.child("A"), 2022), tmp_path, year=2024, reference_date="2024-03-31"
    )
    assert recs.provenance.collection_year == 2024
    assert recs.provenance.reference_date == dt.date(2024, 3, 31)
    assert sum("the year given by the caller" in m for m in messages(recs)) == 1


def test_no_header_and_no_year_checks_every_years_codes(tmp_path: Path, build: Any) -> None:
    children = build.child("A", episodes=in_year(build.episode(factors=("18A", "24A")), 2021))
    recs = read(build.document(children, None), tmp_path)
    assert recs.provenance.collection_year is None
    [warning] = recs.issues.to_pylist()
    assert "states no collection year" in warning["message"]
    case = recs.cases.to_pylist()[0]
    assert case["cin.18A"] is True
    assert case["cin.24A"] is True
    recs = read(build.document(children, None), tmp_path, year=2021)
    assert {i["value"] for i in recs.issues.to_pylist()} == {"24A"}  # 18A is still accepted


def test_latest_assessment_gives_the_factors(tmp_path: Path, build: Any) -> None:
    later = (
        "<Assessments><AssessmentActualStartDate>2023-09-01</AssessmentActualStartDate>"
        "<FactorsIdentifiedAtAssessment><AssessmentFactors>1B</AssessmentFactors></FactorsIdentifiedAtAssessment>"
        "</Assessments>\n"
    )
    recs = read(build.document(build.child("A", episodes=build.episode(extra=later))), tmp_path)
    case = recs.cases.to_pylist()[0]
    assert case["cin.1B"] is True
    assert case["cin.3B"] is False
    assert recs.extra["AssessmentFactors"].num_rows == 3  # all kept for researchers


def test_no_assessment_means_unknown_not_no_need(tmp_path: Path, build: Any) -> None:
    recs = read(build.document(build.child("A", episodes=build.episode(factors=()))), tmp_path)
    assert recs.cases.to_pylist()[0]["cin.3B"] is None


def test_episode_ids_repeat_across_years_and_duplicates_are_renamed(
    tmp_path: Path, build: Any
) -> None:
    twice = build.child("A") + build.child("A")
    recs = read(build.document(twice), tmp_path)
    assert recs.cases.column("case_id").to_pylist() == ["A/2023-06-01", "A/2023-06-01#2"]
    assert {s["case_id"] for s in recs.services.to_pylist()} == {"A/2023-06-01", "A/2023-06-01#2"}
    assert any("renamed" in m for m in messages(recs))


@pytest.mark.parametrize("size", [1, 2, 1000])
def test_results_do_not_depend_on_the_batch_size(tmp_path: Path, build: Any, size: int) -> None:
    children = "".join(
        build.child(f"K{i}", ethnicity="WBRI" if i % 3 else "NOPE") for i in range(7)
    )
    whole = read(build.document(children), tmp_path)
    batched = read(build.document(children), tmp_path, batch_size=size)
    assert whole.cases.equals(batched.cases)
    assert whole.issues.equals(batched.issues)
    for name, table in whole.extra.items():
        assert table.combine_chunks().equals(batched.extra[name].combine_chunks()), name


def test_batches_stream_and_to_parquet_writes_the_same(tmp_path: Path, build: Any) -> None:
    children = "".join(build.child(f"K{i}") for i in range(9))
    path = tmp_path / "census.xml"
    path.write_bytes(build.document(children))
    log = IssueLog()
    parts = list(mns_cin_census.batches(path, log, batch_size=4))
    assert [p.cases.num_rows for p in parts] == [4, 4, 1]
    out = mns_cin_census.to_parquet(
        path, tmp_path / "out", batch_size=4, pseudonymise="a secret key"
    )
    cases = pq.read_table(out / "cases.parquet")
    assert cases.num_rows == 9
    assert not any(
        str(c).startswith("K") for c in cases.column("child_id").to_pylist()
    )  # pseudonymised
    assert {p.name for p in out.iterdir()} >= {
        "cases.parquet",
        "services.parquet",
        "issues.parquet",
        "CINdetails.parquet",
    }


def test_sniff() -> None:
    assert mns_cin_census.sniff(
        b"<?xml version='1.0'?><Message><Header><CollectionDetails><Collection>CIN</Collection>"
    )
    assert not mns_cin_census.sniff(b"<Message><Body>SOAP</Body>")
    assert not mns_cin_census.sniff(b"CHILD,DECOM,RNE\n")
