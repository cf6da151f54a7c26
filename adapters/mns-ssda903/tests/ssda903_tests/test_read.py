"""Reading 903 returns: tables by their columns, periods of care, placements, outcomes, and
bad files (BOM, repeated headers, blank rows, identifiers with ".0", DOCTYPE)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import mns_ssda903
import pytest
from mns_ssda903 import spec as mns_ssda903_spec
from mns_ssda903.csvread import recognise

import mns.testing
from mns.plugins.manager import Manager

HEADER = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n"
EPISODES = (
    "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,"
    "HOME_POST,PL_POST,URN\n"
)


def files(tmp_path: Path, **tables: str) -> Path:
    """A return folder with one CSV per keyword (names are deliberately unhelpful)."""
    folder = tmp_path / "return"
    folder.mkdir(exist_ok=True)
    for i, (_, text) in enumerate(sorted(tables.items())):
        (folder / f"upload_{i}.csv").write_text(text, encoding="utf-8")
    return folder


def issues(recs: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = recs.issues.to_pylist()
    return rows


GOOD_HEADER = HEADER + "101,1,04/05/2012,WBRI,,,\n102,2,30/11/2009,AIND,,,\n"
GOOD_EPISODES = (
    EPISODES
    + "101,01/06/2023,S,C2,N1,U4,PR1,10/09/2023,X1,,SW1A 1AA,,\n"
    + "101,10/09/2023,L,E1,N1,U4,PR1,02/01/2024,X1,,SW1A 1AA,,\n"
    + "101,02/01/2024,P,E1,N1,K2,PR4,01/03/2024,E11,CARPL,SW1A 1AA,,\n"
    + "102,15/08/2023,S,V2,N4,U6,PR1,,,,M1 2AB,,\n"
)


def test_periods_of_care_and_placements(tmp_path: Path) -> None:
    recs = mns_ssda903.read(files(tmp_path, a=GOOD_HEADER, b=GOOD_EPISODES), year=2024)
    assert recs.issues.num_rows == 0, issues(recs)
    cases = {c["case_id"]: c for c in recs.cases.to_pylist()}
    assert set(cases) == {"101/2023-06-01", "102/2023-08-15"}
    first = cases["101/2023-06-01"]
    assert (first["age"], first["sex"], first["ethnicity"]) == (11, "M", "WBRI")
    assert first["ssda903.legal_status"] == "C2"  # at the start
    assert first["ssda903.category_of_need"] == "N1"
    assert first["ssda903.reason_episode_ceased"] == "E11"
    assert first["area"] == "SW1A"  # mns.read cuts the sector to the district by default
    assert cases["102/2023-08-15"]["ssda903.reason_episode_ceased"] is None  # still looked after
    placements = [(s["detail"], s["start_date"], s["end_date"]) for s in recs.services.to_pylist()]
    assert placements[:2] == [  # the legal status change (RNE L) does not start a placement
        ("U4", dt.date(2023, 6, 1), dt.date(2024, 1, 2)),
        ("K2", dt.date(2024, 1, 2), dt.date(2024, 3, 1)),
    ]
    # postcodes never leave the adapter whole, even when the caller keeps them as read
    raw = mns_ssda903.read(
        files(tmp_path, a=GOOD_HEADER, b=GOOD_EPISODES), year=2024, postcode=None
    )
    assert set(raw.extra["Episodes"].column("HOME_POST").to_pylist()) == {"SW1A 1", "M1 2"}


def test_tables_are_recognised_by_columns_in_any_order_and_case(tmp_path: Path) -> None:
    shuffled = "dob, Ethnic ,child,sex,upn,mother,mc_dob\n04/05/2012,WBRI,101,1,,,\n"
    recs = mns_ssda903.read(files(tmp_path, z=shuffled, b=GOOD_EPISODES), year=2024)
    assert recs.extra["Header"].column("CHILD").to_pylist() == ["101"]
    assert recs.cases.to_pylist()[0]["sex"] == "M"


def test_bom_duplicated_header_blank_rows_and_point_zero_ids(tmp_path: Path) -> None:
    text = (
        "\ufeff"
        + HEADER
        + "101.0,1,04/05/2012,WBRI,,,\n\n,,,,,,\n"
        + HEADER
        + "102,2,30/11/2009,AIND,,,\n"
    )
    recs = mns_ssda903.read(files(tmp_path, a=text, b=GOOD_EPISODES), year=2024)
    assert recs.extra["Header"].column("CHILD").to_pylist() == ["101", "102"]
    found = issues(recs)
    point = next(i for i in found if i["value"] == "101.0")
    assert (point["row"], point["column"], point["severity"]) == (2, "CHILD", "warning")
    assert [i["row"] for i in found if i["message"] == "blank row skipped"] == [3, 4]
    assert [i["row"] for i in found if "header row is repeated" in i["message"]] == [5]
    assert all(i["source"].endswith(".csv") for i in found)


def test_a_column_twice_missing_and_extra_columns(tmp_path: Path) -> None:
    text = "CHILD,SEX,DOB,ETHNIC,SEX,SHOE\n101,1,04/05/2012,WBRI,2,9\n"
    recs = mns_ssda903.read(files(tmp_path, a=text, b=GOOD_EPISODES), year=2024)
    messages = [i["message"] for i in issues(recs)]
    assert any("SEX appears twice" in m for m in messages)
    assert any("SHOE is not a column" in m for m in messages)
    assert any("no UPN column" in m for m in messages)
    assert recs.extra["Header"].column("SEX").to_pylist() == ["1"]


def test_bad_values_are_blanked_with_row_and_column(tmp_path: Path) -> None:
    episodes = EPISODES + "101,31/02/2023,S,ZZ,N9,U4,PR1,,,,,,\n,01/06/2023,S,C2,N1,U4,PR1,,,,,,\n"
    recs = mns_ssda903.read(files(tmp_path, a=GOOD_HEADER, b=episodes), year=2024)
    by_column = {i["column"]: i for i in issues(recs) if i["row"] == 2}
    assert "dd/mm/YYYY" in by_column["DECOM"]["message"]
    assert by_column["LS"]["value"] == "ZZ"
    assert "N9" in by_column["CIN"]["message"]
    rejected = [i for i in issues(recs) if i["action"] == "rejected"]
    assert [(i["row"], i["column"]) for i in rejected] == [(3, "CHILD")]


def test_codes_by_year(tmp_path: Path) -> None:
    # K3 arrives in 2024-25 (collection year 2025): the DfE validator's rule 146 lists
    episodes = EPISODES + "101,01/06/2024,S,C2,N1,K3,PR1,,,,,,\n"
    assert (
        mns_ssda903.read(files(tmp_path, a=GOOD_HEADER, b=episodes), year=2025).issues.num_rows == 0
    )
    old = mns_ssda903.read(files(tmp_path, a=GOOD_HEADER, b=episodes), year=2024)
    [problem] = [i for i in issues(old) if i["field"] == "PLACE"]
    assert "valid from 2025" in problem["message"]
    assert "rule 146" in problem["message"]


def test_the_year_is_inferred_from_the_data_not_the_name(tmp_path: Path) -> None:
    folder = files(tmp_path, a=GOOD_HEADER, b=GOOD_EPISODES)
    (folder / "upload_1.csv").rename(folder / "SSDA903_2019_episodes.csv")
    recs = mns_ssda903.read(folder)
    assert recs.provenance.collection_year == 2024
    assert any(
        "inferred from the latest episode date, 01/03/2024" in i["message"] for i in issues(recs)
    )


def test_outcomes_and_uasc(tmp_path: Path) -> None:
    oc2 = (
        "CHILD,DOB,SDQ_SCORE,SDQ_REASON,CONVICTED,HEALTH_CHECK,IMMUNISATIONS,TEETH_CHECK,"
        "HEALTH_ASSESSMENT,SUBSTANCE_MISUSE,INTERVENTION_RECEIVED,INTERVENTION_OFFERED\n"
        "101,04/05/2012,18.0,,0,1,1,1,1,0,,\n"
    )
    oc3 = "CHILD,DOB,IN_TOUCH,ACTIV,ACCOM\n900,01/02/2005,YES,F2,U1\n"
    uasc = "CHILD,SEX,DOB,DUC\n102,2,30/11/2009,30/11/2027\n"
    recs = mns_ssda903.read(
        files(tmp_path, a=GOOD_HEADER, b=GOOD_EPISODES, c=oc2, d=oc3, e=uasc), year=2024
    )
    outcomes = {(o["case_id"], o["outcome"]): o for o in recs.outcomes.to_pylist()}
    assert outcomes[("101/2023-06-01", "sdq_score")]["value"] == 18.0
    assert outcomes[("101/2023-06-01", "health_check")]["achieved"] is True
    assert outcomes[("900/care_leaver", "activity")]["detail"] == "F2"
    uasc_flags = {c["child_id"]: c["ssda903.uasc"] for c in recs.cases.to_pylist()}
    assert uasc_flags["102"] is True
    assert uasc_flags["101"] is False  # a UASC table was given, and 101 is not in it
    assert any(c["cohort"] == "care_leaver" for c in recs.cases.to_pylist())


XML = """<?xml version='1.0' encoding='us-ascii'?>
<EXPSSDA903><CHILD><HEADER><CHILDID>947390</CHILDID><UPN>E095867270650</UPN><SEX>1</SEX>
<DOB>02/03/2013</DOB><ETHNIC>BOTH</ETHNIC><UASC /><AREVIEW><REVIEW>28/01/2024</REVIEW>
<REVIEW_CODE>PN3</REVIEW_CODE></AREVIEW><MOTHER /><MC_DOB /></HEADER>
<EPISODE><DECOM>11/11/2023</DECOM><RNE>S</RNE><LS>V2</LS><CIN>N1</CIN><PL>A3</PL>
<PL_POST>D4 8NF</PL_POST><HOME_POST>E22 4DI</HOME_POST><URN>1594525</URN>
<PLACE_PROVIDER>PR4</PLACE_PROVIDER><DEC>26/02/2024</DEC><REC>E7</REC><REASON_PLACE_CHANGE />
</EPISODE></CHILD></EXPSSDA903>
"""


def test_xml_form_uses_pl_for_the_placement(tmp_path: Path) -> None:
    path = tmp_path / "return.xml"
    path.write_text(XML)
    recs = mns_ssda903.read(path, year=2024)
    assert recs.issues.num_rows == 0, issues(recs)
    [case] = recs.cases.to_pylist()
    assert case["ssda903.placement_type"] == "A3"
    assert case["ssda903.uasc"] is False
    assert recs.extra["Reviews"].num_rows == 1
    assert recs.extra["Episodes"].column("line").to_pylist() == [5]


def test_xml_with_a_doctype_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "return.xml"
    path.write_text(
        XML.replace(
            "<EXPSSDA903>",
            '<!DOCTYPE EXPSSDA903 [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<EXPSSDA903>',
        )
    )
    recs = mns_ssda903.read(path, year=2024)
    assert recs.cases.num_rows == 0
    assert issues(recs)[0]["field"] == "DOCTYPE"


def test_sniff() -> None:
    assert mns_ssda903.sniff(EPISODES.encode())
    assert mns_ssda903.sniff(EPISODES.replace("\n", "\r\n").encode())
    assert not mns_ssda903.sniff(b'\x00,\r"a\rb\n"x\x85')  # bytes the csv module chokes on
    assert mns_ssda903.sniff(b"\xef\xbb\xbf" + HEADER.encode())
    assert mns_ssda903.sniff(XML.encode())
    assert not mns_ssda903.sniff(b"case_id,child_id,reference_date\nC1,K1,2024-03-31\n")
    assert not mns_ssda903.sniff(b"<Message><Header/>")


@pytest.mark.parametrize("year", [2020, 2024])
def test_conformance(manager: Manager, reference: Path, tmp_path: Path, year: int) -> None:
    from mns import synth

    recs = synth.records(150, seed=year, year=year)
    written = mns_ssda903.write(recs.cases, recs.services, tmp_path / "gen", year=year)
    sample = reference / "ssda903" / "SSDA903_2020_episodes_sample.csv"
    mns.testing.conformance(
        "ssda903",
        {tmp_path / "gen": {"cases": written.periods}, sample: {}},
        options={"year": year},
    )


@pytest.mark.parametrize("name", list(mns_ssda903_spec.TABLES))
def test_every_table_is_recognised_by_its_columns(name: str) -> None:
    columns = list(mns_ssda903_spec.TABLES[name].names)
    assert recognise(list(reversed(columns))) == (name, 1.0)
    assert recognise([c.lower() for c in columns[:-1]])[0] == name  # one column short
