"""Damaged and unusual files: other encodings, truncation at any point, repeated leaves, a
DOCTYPE with nothing in it. Nothing is lost silently: episodes in the file = read +
rejected."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import mns_cin_census
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import mns
from mns.plugins.manager import Manager
from mns.records.issues import describe, rejected

_EPISODE = re.compile(r"<CINdetails[\s/>]")


def ten_children(build: Any) -> str:
    data: bytes = build.document("".join(build.child(f"C{i}") for i in range(10)))
    return data.decode()


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-8-sig"])
def test_a_file_in_another_encoding_reads_every_episode(
    manager: Manager, tmp_path: Path, build: Any, encoding: str
) -> None:
    declared = "UTF-8" if encoding == "utf-8-sig" else "UTF-16"
    text = f'<?xml version="1.0" encoding="{declared}"?>\n' + ten_children(build)
    path = tmp_path / "census.xml"
    path.write_bytes(text.encode(encoding))
    assert mns_cin_census.sniff(path.read_bytes()[:2048])
    recs = mns.read(path)  # the adapter is found by sniffing, as for any file
    assert recs.provenance.adapter == "cin-census"
    assert recs.cases.num_rows == 10
    assert recs.issues.num_rows == 0


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.floats(0.05, 0.99), encoding=st.sampled_from(["utf-8", "utf-16"]))
def test_a_file_cut_anywhere_accounts_for_every_episode(
    tmp_path: Path, build: Any, cut: float, encoding: str
) -> None:
    data = ten_children(build).encode(encoding)
    kept = data[: int(len(data) * cut) // 2 * 2]  # whole UTF-16 code units
    path = tmp_path / "cut.xml"
    path.write_bytes(kept)
    recs = mns_cin_census.read(path)
    in_file = len(_EPISODE.findall(kept.decode(encoding, errors="ignore")))
    assert recs.cases.num_rows + rejected(recs.issues, "cases") == in_file
    if in_file > recs.cases.num_rows:  # it says how far it got and what it could not read
        [stop] = [i for i in recs.issues.to_pylist() if i["table"] == "file"]
        assert f"{recs.cases.num_rows} <Child> element(s) were read" in stop["message"]
        assert "could not be read" in stop["message"]


def test_a_repeated_leaf_is_reported_and_the_first_kept(tmp_path: Path, build: Any) -> None:
    twice = build.child("A", birth="2015-06-20").replace(
        "</ChildIdentifiers>", "<PersonBirthDate>2005-01-01</PersonBirthDate></ChildIdentifiers>"
    )
    path = tmp_path / "twice.xml"
    data = build.document(twice)
    path.write_bytes(data)
    recs = mns_cin_census.read(path)
    [issue] = recs.issues.to_pylist()
    line = data.count(b"\n", 0, data.index(b"2005-01-01")) + 1
    assert (issue["field"], issue["line"]) == ("PersonBirthDate", line)  # the value is masked
    assert issue["record"] == "A"  # the child it is in
    assert "first was kept" in issue["message"]
    assert recs.cases.column("age").to_pylist() == [7]  # born 2015, referred 2023


def test_a_doctype_with_no_children_is_an_issue(tmp_path: Path) -> None:
    path = tmp_path / "empty.xml"
    path.write_bytes(b"<!DOCTYPE Message>\n<Message><Children></Children></Message>\n")
    recs = mns_cin_census.read(path)
    assert recs.cases.num_rows == 0
    [issue] = recs.issues.to_pylist()
    assert (issue["field"], issue["severity"], issue["line"]) == ("DOCTYPE", "error", 1)


def test_a_cut_inside_a_tag_starting_child_still_counts_the_open_episode(
    tmp_path: Path, build: Any
) -> None:
    plan = (
        "<ChildProtectionPlans><CPPstartDate>2023-07-01</CPPstartDate>"
        "<InitialCategoryOfAbuse>NEG</InitialCategoryOfAbuse>"
        "<LatestCategoryOfAbuse>NEG</LatestCategoryOfAbuse>"
        "<NumberOfPreviousCPP>0</NumberOfPreviousCPP></ChildProtectionPlans>\n"
    )
    data = build.document(build.child("A") + build.child("B", episodes=build.episode(extra=plan)))
    cut = data[: data.index(b"<ChildProtectionPlans") + len(b"<Child")]
    path = tmp_path / "cut.xml"
    path.write_bytes(cut)
    recs = mns_cin_census.read(path)
    assert recs.cases.column("child_id").to_pylist() == ["A"]
    assert rejected(recs.issues, "cases") == 1  # B's episode, open when the file stops


def test_a_file_broken_mid_way_names_the_line_and_column(tmp_path: Path, build: Any) -> None:
    text = ten_children(build)
    at = text.index("</Ethnicity>", text.index("<LAchildID>C4<"))
    broken = text[:at] + "</Ethnic>" + text[at + len("</Ethnicity>") :]
    path = tmp_path / "census.xml"
    path.write_text(broken, "utf-8")
    recs = mns_cin_census.read(path)
    [stop] = [i for i in recs.issues.to_pylist() if i["table"] == "file"]
    line = broken.count("\n", 0, at) + 1
    start = broken.rfind("\n", 0, at) + 1
    assert stop["line"] == line
    column = int(stop["column"])  # the character in the line, where lxml stopped
    assert at - start < column <= len(broken.splitlines()[line - 1]) + 1
    assert f"line {line}, column {column}" in describe(stop)


def test_every_issue_of_a_faulty_file_names_its_xml_line(tmp_path: Path, build: Any) -> None:
    """Element issues carry the element's line (lxml keeps no column for an element)."""
    children = [
        build.child("A", ethnicity="WXYZ"),
        build.child("B", birth="2015-13-45"),
        build.child("C", episodes=build.episode(referral="2023-07-10", extra="<Odd>1</Odd>")),
        build.child("", sex="<GenderCurrent>7</GenderCurrent>"),
    ]
    data = build.document("".join(children))
    path = tmp_path / "census.xml"
    path.write_bytes(data)
    issues = mns_cin_census.read(path).issues.to_pylist()
    assert len(issues) >= 4
    lines = data.decode().splitlines()
    for issue in issues:
        assert issue["line"] is not None, issue
        assert 1 <= issue["line"] <= len(lines)
