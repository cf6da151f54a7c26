"""The checks an audit depends on: each problem a located issue naming the child and, where
the DfE has one, the validator's rule; routine findings summarised; errors first."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import mns_ssda903

HEADER = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n"
EPISODES = (
    "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,"
    "HOME_POST,PL_POST,URN\n"
)
PLACED = "CHILD,DOB,DATE_PLACED,DATE_PLACED_CEASED,REASON_PLACED_CEASED\n"
PEOPLE = HEADER + "101,1,04/05/2012,WBRI,,,\n102,2,30/11/2009,AIND,,,\n"
ONE_EACH = (
    EPISODES + "101,01/06/2023,S,C2,N1,U4,PR1,,,,,,\n" + "102,15/08/2023,S,V2,N4,U6,PR1,,,,,,\n"
)


def read(tmp_path: Path, year: int = 2024, **tables: str) -> Any:
    folder = tmp_path / "return"
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return mns_ssda903.read(folder, year=year)


def found(recs: Any, **where: Any) -> list[dict[str, Any]]:
    return [i for i in recs.issues.to_pylist() if all(i[k] == v for k, v in where.items())]


def test_reason_placed_ceased_is_checked_against_rule_120(tmp_path: Path) -> None:
    placed = (
        PLACED
        + "101,04/05/2012,01/07/2023,01/09/2023,RD1\n102,30/11/2009,01/07/2023,01/09/2023,RD9\n"
    )
    recs = read(tmp_path, h=PEOPLE, e=ONE_EACH, p=placed)
    [bad] = [i for i in found(recs, field="REASON_PLACED_CEASED") if "rule 120" in i["message"]]
    assert (bad["record"], bad["row"], bad["value"], bad["action"]) == ("102", 3, "RD9", "blanked")
    assert "rule 120" in bad["message"]
    assert recs.extra["PlacedAdoption"].column("REASON_PLACED_CEASED").to_pylist() == ["RD1", None]


def test_decisions_to_place_for_adoption_that_conflict(tmp_path: Path) -> None:
    placed = (
        PLACED
        + "101,04/05/2012,01/07/2023,,\n"  # open ...
        + "101,04/05/2012,01/10/2023,,\n"  # ... and another while it is open: 583
        + "102,30/11/2009,01/07/2023,01/12/2023,RD1\n"
        + "102,30/11/2009,01/09/2023,,\n"  # before the earlier one ceased: 579
        + "102,30/11/2009,01/09/2023,,\n"  # an exact repeat: left out
    )
    recs = read(tmp_path, h=PEOPLE, e=ONE_EACH, p=placed)
    rules = {
        (i["record"], i["row"], rule)
        for i in found(recs, table="PlacedAdoption")
        for rule in ("583", "579")
        if f"rule {rule})" in i["message"]
    }
    assert rules == {("101", 3, "583"), ("102", 5, "579")}
    [repeat] = found(recs, table="PlacedAdoption", action="rejected")
    assert (repeat["row"], repeat["record"]) == (6, "102")
    assert recs.extra["PlacedAdoption"].num_rows == 4  # 5 rows in = 4 kept + 1 rejected


def test_a_ceased_decision_needs_its_date_and_reason(tmp_path: Path) -> None:
    placed = (
        PLACED
        + "101,04/05/2012,01/07/2023,,RD2\n"  # reason without date: 119
        + "102,30/11/2009,01/09/2023,01/08/2023,RD1\n"  # ceased before made: 522
    )
    recs = read(tmp_path, h=PEOPLE, e=ONE_EACH, p=placed)
    messages = {i["record"]: i["message"] for i in found(recs, table="PlacedAdoption")}
    assert "rule 119" in messages["101"]
    assert "rule 522" in messages["102"]


def test_orphan_social_worker_episodes_and_deprivation_of_liberty_orders(tmp_path: Path) -> None:
    sw = (
        "CHILD,DOB,SW_ID,SW_DECOM,SW_DEC,SW_REASON\n"
        "101,04/05/2012,SW1,01/06/2023,,\n999,01/01/2010,SW2,01/06/2023,,\n"
    )
    dolo = "CHILD,DOB,DOLO_START,DOLO_END\n998,01/01/2010,01/06/2023,01/07/2023\n"
    recs = read(tmp_path, h=PEOPLE, e=ONE_EACH, s=sw, d=dolo)
    orphans = {
        (i["table"], i["record"]) for i in found(recs) if "no episode of care" in i["message"]
    }
    assert orphans == {("SWEpisodes", "999"), ("DoLo", "998")}


def test_dates_outside_the_collection_year(tmp_path: Path) -> None:
    episodes = (
        EPISODES
        + "101,01/06/2023,S,C2,N1,U4,PR1,02/04/2024,E8,,,,\n"  # ends after 31 March: 385
        + "102,15/08/2024,S,V2,N4,U6,PR1,,,,,,\n"  # starts after it: 354
    )
    missing = "CHILD,DOB,MISSING,MIS_START,MIS_END\n101,04/05/2012,M,01/05/2024,,\n"
    recs = read(tmp_path, h=PEOPLE, e=episodes, m=missing)
    rules = {(i["record"], i["field"]) for i in found(recs) if "collection year" in i["message"]}
    assert rules == {("101", "DEC"), ("102", "DECOM"), ("101", "MIS_START")}
    for issue in found(recs):
        if "collection year" in issue["message"]:
            assert "rule " in issue["message"]
            assert issue["action"] == "kept"


def test_mother_written_1_0_by_a_spreadsheet_is_read_as_1(tmp_path: Path) -> None:
    people = HEADER + "101,2,04/05/2008,WBRI,,1.0,01/02/2024\n102,2,30/11/2009,AIND,,0.0,\n"
    recs = read(tmp_path, h=people, e=ONE_EACH)
    assert recs.extra["Header"].column("MOTHER").to_pylist() == [True, False]
    assert found(recs, field="MOTHER") == []


def test_a_child_with_two_differing_header_rows_uses_the_first(tmp_path: Path) -> None:
    people = PEOPLE + "101,1,04/05/2005,WBRI,,,\n"
    recs = read(tmp_path, h=people, e=ONE_EACH)
    [twice] = found(recs, table="Header", record="101")
    assert (twice["row"], twice["action"]) == (4, "kept")
    assert "rule INT32" in twice["message"]
    assert "row 2" in twice["message"]
    ages = {c["child_id"]: c["age"] for c in recs.cases.to_pylist()}
    assert ages["101"] == 11  # from the first row's date of birth (2012), not the second's


def test_oc2_for_a_child_with_no_episode_makes_no_looked_after_case(tmp_path: Path) -> None:
    oc2 = (
        "CHILD,DOB,SDQ_SCORE,SDQ_REASON,CONVICTED,HEALTH_CHECK,IMMUNISATIONS,TEETH_CHECK,"
        "HEALTH_ASSESSMENT,SUBSTANCE_MISUSE,INTERVENTION_RECEIVED,INTERVENTION_OFFERED\n"
        "101,04/05/2012,12,,0,1,1,1,1,0,,\n"
        "700,01/01/2010,18,,0,1,1,1,1,0,,\n"
    )
    oc3 = "CHILD,DOB,IN_TOUCH,ACTIV,ACCOM\n800,01/02/2005,YES,F2,U1\n"
    recs = read(tmp_path, h=PEOPLE, e=ONE_EACH, o=oc2, l=oc3)
    cases = {c["case_id"]: c["cohort"] for c in recs.cases.to_pylist()}
    assert "700/looked_after" not in cases
    assert cases["800/care_leaver"] == "care_leaver"
    [orphan] = found(recs, table="OC2", record="700", severity="error")
    assert "rule 190" in orphan["message"]
    assert orphan["row"] == 3
    assert {o["case_id"] for o in recs.outcomes.to_pylist()} == {
        "101/2023-06-01",
        "800/care_leaver",
    }
    assert recs.extra["OC2"].num_rows == 2  # the row itself is kept


def test_dolo_placements_from_2026_27(tmp_path: Path) -> None:
    episodes = EPISODES + "101,01/06/2026,S,C2,N1,U4,PR1,,,,,,\n102,01/06/2026,S,C2,N1,Z12,,,,,,,\n"
    dolo = (
        "CHILD,DOB,DOLO_START,DOLO_END\n"
        "101,04/05/2012,01/07/2026,01/09/2026\n102,30/11/2009,01/07/2026,01/09/2026\n"
    )
    recs = read(tmp_path, year=2027, h=PEOPLE, e=episodes, d=dolo)
    [wrong] = [i for i in found(recs, table="DoLo") if "rule 709" in i["message"]]
    assert wrong["record"] == "101"
    assert [
        i
        for i in found(
            read(
                tmp_path,
                year=2026,
                h=PEOPLE,
                e=episodes.replace("2026", "2025"),
                d=dolo.replace("2026", "2025"),
            )
        )
        if "709" in i["message"]
    ] == []


def test_routine_earlier_starts_are_one_note_and_errors_come_first(tmp_path: Path) -> None:
    people = HEADER + "".join(f"{c},1,04/05/2012,WBRI,,,\n" for c in range(201, 206))
    episodes = (
        EPISODES
        + "".join(f"{c},01/0{c - 200}/2023,P,C2,N1,U4,PR1,,,,,,\n" for c in range(201, 205))
        + "205,01/06/2023,S,ZZ,N1,U4,PR1,,,,,,\n"
    )
    recs = read(tmp_path, h=people, e=episodes)
    rows = recs.issues.to_pylist()
    [note] = [i for i in rows if i["severity"] == "note"]
    assert note["value"] == "4"
    assert "4 children's first episode" in note["message"]
    assert note["record"] == "201"
    severities = [i["severity"] for i in rows]
    assert severities == sorted(severities, key=["error", "warning", "note"].index)
    assert severities[0] == "error"
    assert recs.cases.num_rows == 5
    starts = {c["child_id"]: c["reference_date"] for c in recs.cases.to_pylist()}
    assert starts["201"] == dt.date(2023, 1, 1)


def test_every_issue_about_a_record_names_the_child(tmp_path: Path) -> None:
    people = PEOPLE + "103,9,31/02/2010,XXXX,,7,\n"
    episodes = (
        ONE_EACH
        + "103,31/13/2023,Q,ZZ,N9,H9,PR9,,X1,,NOT A POSTCODE 12,,\n"
        + "104,01/06/2023,S,C2,N1,U4,PR1,01/07/2023,X1,,,,\n"
        + "104,05/07/2023,P,C2,N1,U4,PR1,,,,,,\n"
    )
    recs = read(tmp_path, h=people, e=episodes)
    rows = [i for i in recs.issues.to_pylist() if i["row"] is not None and i["row"] > 1]
    assert len(rows) >= 12
    assert all(i["record"] for i in rows), [i for i in rows if not i["record"]]
