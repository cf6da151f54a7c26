"""The 903 code lists year by year: the shipped lists equal the DfE validator's published
lists for every collection year we hold them for, each code cites its source, and a 2025-26
return with the new placement codes reads without error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mns_ssda903
import pytest
from mns_ssda903 import spec
from mns_ssda903.validate import code_set

import mns

from .published import CODE_LISTS, NO_PROVIDER

HEADER = (
    "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n101,1,04/05/2012,WBRI,,,\n102,2,30/11/2009,AIND,,,\n"
)
EPISODES = (
    "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,"
    "HOME_POST,PL_POST,URN\n"
)


def folder(tmp_path: Path, **tables: str) -> Path:
    out = tmp_path / "return"
    out.mkdir(exist_ok=True)
    for name, text in tables.items():
        (out / f"{name}.csv").write_text(text, encoding="utf-8")
    return out


def issues(recs: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = recs.issues.to_pylist()
    return rows


@pytest.mark.parametrize(
    ("year", "column"), [(y, c) for y, lists in sorted(CODE_LISTS.items()) for c in lists]
)
def test_shipped_codes_equal_the_published_list(year: int, column: str) -> None:
    published = {c.upper() for c in CODE_LISTS[year][column]}  # 2024-25 spells K3 "k3"
    assert set(code_set(column, year)) == published


@pytest.mark.parametrize("year", sorted(NO_PROVIDER))
def test_placements_without_a_provider_follow_rules_178_and_213(year: int) -> None:
    valid = set(code_set("PLACE", year))
    assert spec.NO_PROVIDER & valid == set(NO_PROVIDER[year])


def test_every_placement_code_cites_its_source_and_years() -> None:
    place = mns.language("ssda903").indicator("placement_type")
    for value in place.values:
        assert "csc-validator-be-903" in value.source, value.code
    years = {v.code: (v.valid_from, v.valid_to) for v in place.values}
    assert years["K3"] == (2025, None)
    assert years["H5"] == years["P2"] == years["Z1"] == (None, 2025)
    assert {years[c] for c in ("Z11", "Z12", "Z13", "Z14")} == {(2026, None)}


def test_a_2025_26_return_with_z11_to_z14_reads_without_error(tmp_path: Path) -> None:
    episodes = (
        EPISODES
        + "101,01/05/2025,S,C2,N1,Z11,,10/06/2025,X1,,SW1A 1AA,,\n"
        + "101,10/06/2025,P,C2,N1,Z12,,01/08/2025,X1,,SW1A 1AA,,\n"
        + "101,01/08/2025,P,C2,N1,Z13,,01/10/2025,X1,,SW1A 1AA,,\n"
        + "101,01/10/2025,P,C2,N1,Z14,,,,,SW1A 1AA,,\n"
        + "102,01/06/2025,S,V2,N4,K3,PR4,,,,M1 2AB,,\n"
    )
    recs = mns_ssda903.read(folder(tmp_path, h=HEADER, e=episodes), year=2026)
    assert [i for i in issues(recs) if i["severity"] == "error"] == []
    details = [s["detail"] for s in recs.services.to_pylist()]
    assert details == ["Z11", "Z12", "Z13", "Z14", "K3"]


@pytest.mark.parametrize("code", ["H5", "P2", "Z1"])
def test_withdrawn_placements_are_errors_from_2025_26(tmp_path: Path, code: str) -> None:
    episodes = EPISODES + f"101,01/05/2025,S,C2,N1,{code},PR1,,,,,,\n"
    recs = mns_ssda903.read(folder(tmp_path, h=HEADER, e=episodes), year=2026)
    [problem] = [i for i in issues(recs) if i["field"] == "PLACE"]
    assert (problem["severity"], problem["action"], problem["value"]) == ("error", "blanked", code)
    assert "valid until 2025" in problem["message"]
    assert "rule 146" in problem["message"]
    assert problem["record"] == "101"
    earlier = mns_ssda903.read(folder(tmp_path, h=HEADER, e=episodes), year=2025)
    assert [i for i in issues(earlier) if i["field"] == "PLACE"] == []


def test_a_provider_for_a_placement_that_takes_none_is_reported(tmp_path: Path) -> None:
    episodes = EPISODES + "101,01/05/2025,S,C2,N1,Z12,PR1,,,,,,\n"
    recs = mns_ssda903.read(folder(tmp_path, h=HEADER, e=episodes), year=2026)
    [problem] = [i for i in issues(recs) if i["field"] == "PLACE_PROVIDER"]
    assert "rule 213" in problem["message"]
    assert (problem["row"], problem["record"]) == (2, "101")
