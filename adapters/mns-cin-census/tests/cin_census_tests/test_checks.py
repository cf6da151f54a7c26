"""The checks an audit depends on: each problem located at its element's line, naming the
child and the DfE rule, with what was done; dates that cannot be used are blanked."""

from __future__ import annotations

import datetime as dt
import string
from pathlib import Path
from typing import Any

import mns_cin_census
import pyarrow as pa
import pytest
from hypothesis import given, settings, strategies as st
from mns_cin_census.validate import _bad_upns, upn_check_letter


def read(data: bytes, tmp_path: Path, **options: Any) -> Any:
    path = tmp_path / "census.xml"
    path.write_bytes(data)
    return mns_cin_census.read(path, **options)


def line_of(data: bytes, text: str, nth: int = 1) -> int:
    """The line of the ``nth`` occurrence of ``text``."""
    at = -1
    for _ in range(nth):
        at = data.index(text.encode(), at + 1)
    return data.count(b"\n", 0, at) + 1


def with_rule(recs: Any, rule: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [
        i for i in recs.issues.to_pylist() if f"(DfE rule {rule}" in i["message"]
    ]
    return found


def test_a_reference_date_not_31_march_is_rule_100(tmp_path: Path, build: Any) -> None:
    data = build.document(build.child("A")).replace(b"2024-03-31", b"2024-02-29")
    recs = read(data, tmp_path)
    [issue] = with_rule(recs, "100")
    assert (issue["field"], issue["value"], issue["severity"]) == (
        "ReferenceDate",
        "2024-02-29",
        "error",
    )
    assert issue["line"] == line_of(data, "<ReferenceDate>")
    assert "ends on 2024-03-31" in issue["message"]
    assert recs.provenance.reference_date == dt.date(2024, 3, 31)


def test_services_before_the_referral_are_located_and_their_dates_blanked(
    tmp_path: Path, build: Any
) -> None:
    early = (
        "<Assessments><AssessmentActualStartDate>2023-05-01</AssessmentActualStartDate>"
        "</Assessments>\n"
        "<CINPlanDates><CINPlanStartDate>2023-05-05</CINPlanStartDate></CINPlanDates>\n"
        "<Section47><S47ActualStartDate>2023-05-02</S47ActualStartDate>"
        "<DateOfInitialCPC>2023-05-03</DateOfInitialCPC>"
        "<ICPCnotRequired>false</ICPCnotRequired></Section47>\n"
        "<ChildProtectionPlans><CPPstartDate>2023-05-04</CPPstartDate>"
        "<InitialCategoryOfAbuse>NEG</InitialCategoryOfAbuse>"
        "<LatestCategoryOfAbuse>NEG</LatestCategoryOfAbuse>"
        "<NumberOfPreviousCPP>0</NumberOfPreviousCPP></ChildProtectionPlans>\n"
    )
    data = build.document(build.child("C1", episodes=build.episode(factors=(), extra=early)))
    recs = read(data, tmp_path)
    expected = {
        "1103": "AssessmentActualStartDate",
        "2889": "S47ActualStartDate",
        "1104": "DateOfInitialCPC",
        "1105": "CPPstartDate",
        "4015": "CINPlanStartDate",
    }
    for rule, element in expected.items():
        [issue] = with_rule(recs, rule)
        assert issue["field"] == element
        assert issue["line"] == line_of(data, f"<{element}>")
        assert issue["record"] == "C1/2023-06-01"  # the child and the episode
        assert issue["action"] == "blanked"
        assert "before <CINreferralDate> 2023-06-01" in issue["message"]
    services = {
        r["service"]: r["start_date"]
        for r in recs.services.select(["service", "start_date"]).to_pylist()
    }
    # every service is kept (it was received) but its impossible date is not used
    assert services == dict.fromkeys(("assessment", "cin_plan", "s47", "cp_plan"))


def test_activity_after_closure_and_closure_before_referral(tmp_path: Path, build: Any) -> None:
    closed = "<CINclosureDate>2023-06-20</CINclosureDate><ReasonForClosure>RC8</ReasonForClosure>"
    backwards = (
        "<CINclosureDate>2023-05-20</CINclosureDate><ReasonForClosure>RC8</ReasonForClosure>"
    )
    data = build.document(
        build.child("A", episodes=build.episode(closure=closed))
        + build.child("B", episodes=build.episode(factors=(), closure=backwards))
    )
    recs = read(data, tmp_path)
    [after] = with_rule(recs, "8565")  # the assessment was authorised on 2023-07-01
    assert after["field"] == "AssessmentAuthorisationDate"
    assert after["line"] == line_of(data, "<AssessmentAuthorisationDate>")
    assert after["record"] == "A/2023-06-01"
    assert after["action"] == "kept"
    [before] = with_rule(recs, "8630")
    assert (before["field"], before["value"], before["record"]) == (
        "CINclosureDate",
        "2023-05-20",
        "B/2023-06-01",
    )


def test_a_cin_plan_alongside_a_child_protection_plan_is_rule_4001(
    tmp_path: Path, build: Any
) -> None:
    def cpp(start: str, end: str = "") -> str:
        end_el = f"<CPPendDate>{end}</CPPendDate>" if end else ""
        return (
            f"<ChildProtectionPlans><CPPstartDate>{start}</CPPstartDate>{end_el}"
            "<InitialCategoryOfAbuse>NEG</InitialCategoryOfAbuse>"
            "<LatestCategoryOfAbuse>NEG</LatestCategoryOfAbuse>"
            "<NumberOfPreviousCPP>0</NumberOfPreviousCPP></ChildProtectionPlans>\n"
        )

    def cin(start: str, end: str = "") -> str:
        end_el = f"<CINPlanEndDate>{end}</CINPlanEndDate>" if end else ""
        return (
            f"<CINPlanDates><CINPlanStartDate>{start}</CINPlanStartDate>{end_el}</CINPlanDates>\n"
        )

    stepped_up = cin("2023-07-01", "2023-08-01") + cpp("2023-08-01")  # ends as the CPP starts
    alongside = cin("2023-07-01") + cpp("2023-09-01")  # both open at the reference date
    data = build.document(
        build.child("A", episodes=build.episode(extra=stepped_up))
        + build.child("B", episodes=build.episode(extra=alongside))
    )
    recs = read(data, tmp_path)
    [issue] = with_rule(recs, "4001")
    assert issue["record"] == "B/2023-06-01"
    assert issue["line"] == line_of(data, "<CINPlanDates>", 2)
    assert f"(line {line_of(data, '<ChildProtectionPlans>', 2)})" in issue["message"]


def test_dates_outside_the_census_year(tmp_path: Path, build: Any) -> None:
    old = "<CINclosureDate>2023-02-01</CINclosureDate><ReasonForClosure>RC7</ReasonForClosure>"
    data = build.document(
        build.child("A", episodes=build.episode(referral="2024-05-01", factors=()))
        + build.child("B", episodes=build.episode(referral="2023-01-10", factors=(), closure=old))
    )
    recs = read(data, tmp_path)
    [late] = with_rule(recs, "8600")
    assert (late["record"], late["value"]) == ("A/2024-05-01", "2024-05-01")
    [closed] = with_rule(recs, "8620")
    assert closed["record"] == "B/2023-01-10"
    assert "before the census year (2023-04-01 to 2024-03-31)" in closed["message"]
    assert recs.cases.num_rows == 2  # reported, not dropped


def test_upn_check_letter_and_thirteenth_character(tmp_path: Path, build: Any) -> None:
    def with_upn(child_id: str, upn: str) -> str:
        text: str = build.child(child_id)
        return text.replace("</LAchildID>", f"</LAchildID><UPN>{upn}</UPN>", 1)

    data = build.document(
        with_upn("A", "A950000178301")
        + with_upn("B", "R247962919251")
        + with_upn("C", "A95000017830I")
    )
    recs = read(data, tmp_path)
    [check] = with_rule(recs, "1510")
    assert (check["record"], check["action"]) == ("B", "blanked")
    assert "expected Q" in check["message"]
    [thirteenth] = with_rule(recs, "1550")
    assert thirteenth["record"] == "C"
    upns = recs.extra["ChildIdentifiers"].select(["LAchildID", "UPN"]).to_pylist()
    assert {r["LAchildID"]: r["UPN"] for r in upns} == {"A": "A950000178301", "B": None, "C": None}


@settings(max_examples=50, deadline=None)
@given(st.text(string.digits, min_size=12, max_size=12), st.sampled_from("ABCDEFGHJKLMNPQRTUVWXYZ"))
def test_a_upn_is_valid_only_with_its_own_check_letter(digits: str, letter: str) -> None:
    right = upn_check_letter("X" + digits)
    assert right is not None
    flagged = _bad_upns(pa.array([right + digits, letter + digits])).tolist()
    assert flagged == [False, letter != right]


@pytest.mark.parametrize("batch_size", [1, 2, 100])  # the first A in another batch, or not
def test_a_second_child_with_the_same_id_is_rule_8510(
    tmp_path: Path, build: Any, batch_size: int
) -> None:
    second = build.child("A", birth="2016-01-01", episodes=build.episode(referral="2023-09-01"))
    data = build.document(build.child("A") + build.child("B") + second)
    recs = read(data, tmp_path, batch_size=batch_size)
    [issue] = with_rule(recs, "8510")
    assert issue["record"] == "A"
    assert issue["line"] == line_of(data, "<ChildIdentifiers>", 3)
    assert f"line {line_of(data, '<Child>')}" in issue["message"]
    assert "conflict in PersonBirthDate" in issue["message"]
    assert recs.cases.num_rows == 3


def test_none_beside_a_disability_is_rule_8790(tmp_path: Path, build: Any) -> None:
    disabled = build.child("A").replace(
        "</Ethnicity>",
        "</Ethnicity><Disabilities><Disability>NONE</Disability><Disability>MOB</Disability>"
        "</Disabilities>",
    )
    recs = read(build.document(disabled), tmp_path)
    [issue] = with_rule(recs, "8790")
    assert (issue["value"], issue["record"], issue["action"]) == ("MOB", "A", "kept")
    case = recs.cases.to_pylist()[0]
    assert case["disability"] is True
    assert case["cin.disability_MOB"] is True


def test_a_2023_file_with_18a_keeps_it(tmp_path: Path, build: Any) -> None:
    episode = build.episode(factors=("18A", "19A", "3B")).replace("2023-", "2022-")
    recs = read(build.document(build.child("A", episodes=episode), 2023), tmp_path)
    assert recs.issues.num_rows == 0
    case = recs.cases.to_pylist()[0]
    assert (case["cin.18A"], case["cin.19A"], case["cin.18B"]) == (True, True, False)


def test_18a_is_queried_from_2024_25_and_kept(tmp_path: Path, build: Any) -> None:
    episode = build.episode(referral="2024-06-01", factors=("18A",))
    data = build.document(build.child("A", episodes=episode.replace("2023-", "2024-")), 2025)
    recs = read(data.replace(b"<GenderCurrent>1</GenderCurrent>", b"<Sex>M</Sex>"), tmp_path)
    [query] = recs.issues.to_pylist()
    assert query["severity"] == "warning"
    assert "DfE query 8945Q" in query["message"]
    assert (query["record"], query["value"], query["action"]) == ("A/2024-06-01", "18A", "kept")
    assert recs.cases.to_pylist()[0]["cin.18A"] is True


def test_routine_findings_are_one_note_with_a_count(tmp_path: Path, build: Any) -> None:
    empty = build.episode().replace(
        "<PrimaryNeedCode>N1</PrimaryNeedCode>", "<PrimaryNeedCode></PrimaryNeedCode>"
    )
    data = build.document(
        build.child("A", episodes=empty)
        + build.child("B", episodes=empty)
        + build.child("C", episodes=empty)
    )
    recs = read(data, tmp_path, batch_size=2)  # counted across batches
    [note] = recs.issues.to_pylist()
    assert note["severity"] == "note"
    assert "3 time(s)" in note["message"]
    assert (note["field"], note["record"]) == ("PrimaryNeedCode", "A/2023-06-01")
    assert note["line"] == line_of(data, "<PrimaryNeedCode>")


def test_errors_come_first_and_every_record_issue_names_the_child(
    tmp_path: Path, build: Any
) -> None:
    empty = build.episode(need="")
    late = build.episode(referral="2024-05-01", factors=())
    odd = build.child("C").replace("</Ethnicity>", "</Ethnicity><Religion>X</Religion>")
    data = build.document(build.child("A", episodes=empty) + build.child("B", episodes=late) + odd)
    recs = read(data, tmp_path)
    severities = recs.issues.column("severity").to_pylist()
    assert severities == sorted(severities, key=["error", "warning", "note"].index)
    assert severities[0] == "error"
    assert severities[-1] == "note"
    assert all(i["record"] for i in recs.issues.to_pylist())


def test_returns_of_different_years_state_no_single_reference_date(
    tmp_path: Path, build: Any
) -> None:
    late = build.child("Z", episodes=build.episode(referral="2030-01-01", factors=()))
    paths = []
    for year in (2023, 2024):
        episode = build.episode().replace("2023-", f"{year - 1}-")
        path = tmp_path / f"cin_{year}.xml"
        path.write_bytes(build.document(build.child("A", episodes=episode) + late, year))
        paths.append(path)
    recs = mns_cin_census.read(paths)
    assert recs.provenance.reference_date is None  # not 2030, the latest record
    [note] = [i for i in recs.issues.to_pylist() if i["severity"] == "note"]
    assert "2023-03-31, 2024-03-31" in note["message"]
    assert len(with_rule(recs, "8600")) == 2  # the 2030 referral, in each file


def test_a_long_date_column_is_parsed_as_a_short_one() -> None:
    """Dates are parsed a distinct text at a time in a long column (dictionary-encoded):
    the same dates, and the same nulls, as parsing each value."""
    from mns_cin_census.validate import _DISTINCT_FROM, _parse_dates, parse_dates

    texts = ["2022-03-31", "2022-02-30", "2021-13-01", "31/03/2022", "", None, "2020-02-29"]
    values = pa.array(texts * (_DISTINCT_FROM // len(texts) + 1), pa.string())
    assert len(values) >= _DISTINCT_FROM
    assert parse_dates(values).to_pylist() == _parse_dates(values).to_pylist()
    assert parse_dates(values).to_pylist()[: len(texts)] == [
        dt.date(2022, 3, 31),
        None,
        None,
        None,
        None,
        None,
        dt.date(2020, 2, 29),
    ]


def test_a_batch_is_handed_over_not_kept(tmp_path: Path, build: Any) -> None:
    """The parser keeps no reference to a batch it has given: the reader frees it before
    the next is read (the cyclic collector never walks a batch's rows)."""
    import gc
    import weakref

    from mns_cin_census.issues import Issues
    from mns_cin_census.parse import Parser

    from mns.records.issues import IssueLog

    path = tmp_path / "census.xml"
    path.write_bytes(build.document("".join(build.child(f"C{i}") for i in range(3))))
    with path.open("rb") as stream:
        parser = Parser(stream, Issues(IssueLog(adapter="cin-census"), "census.xml"), batch_size=1)
        batches = parser.batches()
        first = next(batches)
        gone = weakref.ref(first.tables["Child"])
        del first
        gc.collect()
        assert gone() is None
        assert sum(b.children for b in batches) == 2
