"""Issues in a CIN census file that is one line (a minified export): each names the element
path of what it is about, which finds it where the line number cannot; nothing is lost.

A path is resolved here as a user would, with lxml's XPath on the same file."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import mns_cin_census
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from lxml import etree

import mns
from mns.plugins.manager import Manager
from mns.records.issue_files import write_issue_files
from mns.records.issues import describe, rejected

_EPISODE = re.compile(r"<CINdetails[\s/>]")
_STEP = re.compile(r"^([A-Za-z_][\w.-]*)(\[\d+\])?$")


def one_line(data: bytes) -> bytes:
    """The file with its line breaks taken out, as a minified export has it."""
    return data.replace(b"\n", b"")


def resolve(tree: Any, path: str) -> list[Any]:
    """The elements ``path`` names in ``tree``, by XPath: steps are local names, so each
    becomes ``*[local-name()='name']`` (a file may have a default namespace)."""
    found = re.fullmatch(r"\(//(\w+)\)\[(\d+)\]", path)
    if found:  # an element that could not be parsed: its place among those of its name
        return list(tree.xpath(f"(//*[local-name()='{found[1]}'])[{found[2]}]"))
    steps = []
    for step in path.strip("/").split("/"):
        match = _STEP.match(step)
        assert match, f"{step!r} is not a step of an element path"
        steps.append(f"*[local-name()='{match[1]}']{match[2] or ''}")
    return list(tree.xpath("/" + "/".join(steps)))


def read(data: bytes, tmp_path: Path, **options: Any) -> Any:
    path = tmp_path / "census.xml"
    path.write_bytes(data)
    return mns_cin_census.read(path, **options), etree.parse(str(path))


#: a kind of bad value: the element it is in, the value, and where it goes in the builders
_FAULTS = {
    "Ethnicity": "WXYZ",
    "PersonBirthDate": "2015-13-45",
    "CINreferralDate": "2023-02-30",
    "ReferralSource": "9Z",
    "AssessmentFactors": "99Z",
    "CPPstartDate": "2023-02-31",
}


def _protection_plan(start: str = "2023-07-01") -> str:
    return (
        f"<ChildProtectionPlans><CPPstartDate>{start}</CPPstartDate>"
        "<InitialCategoryOfAbuse>NEG</InitialCategoryOfAbuse>"
        "<LatestCategoryOfAbuse>NEG</LatestCategoryOfAbuse>"
        "<NumberOfPreviousCPP>0</NumberOfPreviousCPP></ChildProtectionPlans>"
    )


def census(build: Any, shape: list[int], fault: str, at: tuple[int, int, int]) -> bytes:
    """Children with ``shape[i]`` episodes each (each with an assessment of three factors and
    a protection plan), ``fault``'s bad value put in child ``at[0]``, episode ``at[1]``,
    factor ``at[2]``."""
    bad = _FAULTS[fault]
    children = []
    for i, episodes in enumerate(shape):
        here = i == at[0]
        parts = []
        for j in range(episodes):
            there = here and j == at[1]
            factors = ["3B", "4B", "2A"]
            if there and fault == "AssessmentFactors":
                factors[at[2]] = bad
            parts.append(
                build.episode(
                    referral=bad if there and fault == "CINreferralDate" else f"2023-0{j + 5}-01",
                    source=bad if there and fault == "ReferralSource" else "1A",
                    factors=tuple(factors),
                    extra=_protection_plan(
                        bad if there and fault == "CPPstartDate" else "2023-09-01"
                    ),
                )
            )
        children.append(
            build.child(
                f"K{i:03d}",
                ethnicity=bad if here and fault == "Ethnicity" else "WBRI",
                birth=bad if here and fault == "PersonBirthDate" else "2015-06-20",
                episodes="".join(parts),
            )
        )
    data: bytes = build.document("".join(children))
    return data


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_an_issue_in_a_one_line_file_has_the_path_of_the_bad_element(
    tmp_path: Path, build: Any, data: st.DataObject
) -> None:
    shape = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=5), label="episodes")
    fault = data.draw(st.sampled_from(sorted(_FAULTS)), label="fault")
    child = data.draw(st.integers(0, len(shape) - 1), label="child")
    at = (child, data.draw(st.integers(0, shape[child] - 1)), data.draw(st.integers(0, 2)))
    recs, tree = read(one_line(census(build, shape, fault, at)), tmp_path)
    [issue] = [i for i in recs.issues.to_pylist() if i["field"] == fault]
    assert issue["line"] == 1  # the whole file is one line: only the path says where
    [element] = resolve(tree, issue["path"])
    assert etree.QName(element).localname == fault
    assert element.text == _FAULTS[fault]
    assert f"element {issue['path']}" in describe(issue)
    assert recs.cases.num_rows == sum(shape)  # a bad value is blanked, its record kept


def test_paths_number_repeated_elements_and_name_the_others_plainly(
    tmp_path: Path, build: Any
) -> None:
    recs, _ = read(one_line(census(build, [2, 3], "AssessmentFactors", (1, 2, 1))), tmp_path)
    [issue] = [i for i in recs.issues.to_pylist() if i["field"] == "AssessmentFactors"]
    assert issue["path"] == (
        "/Message/Children/Child[2]/CINdetails[3]/Assessments[1]"
        "/FactorsIdentifiedAtAssessment/AssessmentFactors[2]"
    )


def test_children_rejected_on_one_line_are_each_counted(tmp_path: Path, build: Any) -> None:
    """Rejected records sharing a line are told apart by their paths: records in the file =
    records read + records rejected."""
    two = build.episode() + build.episode(referral="2023-08-01")
    data = one_line(build.document(build.child("A") + build.child("", episodes=two)))
    recs, tree = read(data, tmp_path)
    lost = [i for i in recs.issues.to_pylist() if i["action"] == "rejected"]
    assert recs.cases.num_rows == 1
    assert rejected(recs.issues, "cases") == 2 == len(_EPISODE.findall(data.decode())) - 1
    episodes = sorted(i["path"] for i in lost if i["table"] == "cases")
    assert episodes == [
        "/Message/Children/Child[2]/CINdetails[1]",
        "/Message/Children/Child[2]/CINdetails[2]",
    ]
    assert rejected(recs.issues, "services") == 2  # an assessment in each episode
    for issue in lost:
        [element] = resolve(tree, issue["path"])
        assert etree.QName(element).localname in ("CINdetails", "Assessments")


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.floats(0.05, 0.99))
def test_a_one_line_file_cut_anywhere_accounts_for_every_episode(
    tmp_path: Path, build: Any, cut: float
) -> None:
    """The episodes after the break share the line of those read before it: each lost one is
    named by its place among the file's episodes, ``(//CINdetails)[n]``."""
    whole = one_line(
        build.document(
            "".join(build.child(f"C{i}", episodes=build.episode() * 2) for i in range(6))
        )
    )
    kept = whole[: int(len(whole) * cut)]
    (tmp_path / "cut.xml").write_bytes(kept)
    recs = mns_cin_census.read(tmp_path / "cut.xml")
    in_file = len(_EPISODE.findall(kept.decode()))
    assert recs.cases.num_rows + rejected(recs.issues, "cases") == in_file
    lost = [
        i["path"]
        for i in recs.issues.to_pylist()
        if i["table"] == "cases" and i["action"] == "rejected"
    ]
    assert lost == [f"(//CINdetails)[{n}]" for n in range(recs.cases.num_rows + 1, in_file + 1)]
    tree = etree.fromstring(whole).getroottree()  # in the whole file, they are those episodes
    for path in lost:
        [element] = resolve(tree, path)
        assert etree.QName(element).localname == "CINdetails"


def test_structure_issues_have_paths_too(tmp_path: Path, build: Any) -> None:
    odd = build.episode(extra="<Odd>1</Odd>")
    strays = "<Stray>x</Stray><Other>y</Other>"  # each reported once, in file order
    data = build.document(build.child("A") + strays + build.child("B", episodes=odd))
    data = one_line(data.replace(b"<Year>2024</Year>", b"<Year>2024</Year><Extra>1</Extra>"))
    recs, tree = read(data, tmp_path)
    paths = [(i["field"], i["path"]) for i in recs.issues.to_pylist()]
    assert sorted(paths) == [
        ("Extra", "/Message/Header/CollectionDetails/Extra"),
        ("Odd", "/Message/Children/Child[2]/CINdetails[1]/Odd"),
        ("Other", "/Message/Children/Other[1]"),
        ("Stray", "/Message/Children/Stray[1]"),
    ]
    for field, path in paths:
        [element] = resolve(tree, path)
        assert etree.QName(element).localname == field


def test_a_namespaced_file_gives_local_names(tmp_path: Path, build: Any) -> None:
    data = build.document(build.child("A", ethnicity="WXYZ")).replace(
        b"<Message>", b'<Message xmlns="http://www.dcsf.gov.uk/cin">'
    )
    recs, tree = read(one_line(data), tmp_path)
    [issue] = [i for i in recs.issues.to_pylist() if i["field"] == "Ethnicity"]
    assert issue["path"] == "/Message/Children/Child[1]/ChildCharacteristics/Ethnicity"
    [element] = resolve(tree, issue["path"])
    assert element.text == "WXYZ"


def test_a_file_of_many_lines_has_paths_as_well(tmp_path: Path, build: Any) -> None:
    recs, tree = read(census(build, [1, 2], "CINreferralDate", (1, 1, 0)), tmp_path)
    [issue] = [i for i in recs.issues.to_pylist() if i["field"] == "CINreferralDate"]
    assert issue["line"] > 1
    assert issue["path"] == "/Message/Children/Child[2]/CINdetails[2]/CINreferralDate"
    [element] = resolve(tree, issue["path"])
    assert element.sourceline == issue["line"]


@pytest.mark.parametrize("key", [None, "a secret key"])
def test_issue_files_carry_the_path_and_it_quotes_no_identifier(
    manager: Manager, tmp_path: Path, build: Any, key: str | None
) -> None:
    path = tmp_path / "census.xml"
    path.write_bytes(one_line(census(build, [1, 1, 1], "Ethnicity", (2, 0, 0))))
    recs = mns.read(path, pseudonymise=key)
    assert "path" in recs.issues.column_names
    csv_file, _ = write_issue_files(recs.issues, tmp_path)
    with csv_file.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    [row] = [r for r in rows if r["field"] == "Ethnicity"]
    assert row["element path"] == "/Message/Children/Child[3]/ChildCharacteristics/Ethnicity"
    assert row["line"] == "1"
    for issue in recs.issues.to_pylist():  # ordinals and element names only
        assert not re.search(r"K\d{3}", issue["path"] or "")


def test_a_repeated_episode_on_one_line_keeps_its_own_services(tmp_path: Path, build: Any) -> None:
    """Two episodes with the same child and referral date become two cases; each one's
    assessment stays with its own case though both are on line 1."""
    data = one_line(build.document(build.child("A", episodes=build.episode() * 2)))
    recs, tree = read(data, tmp_path)
    assert recs.cases.column("case_id").to_pylist() == ["A/2023-06-01", "A/2023-06-01#2"]
    assert sorted(recs.services.column("case_id").to_pylist()) == [
        "A/2023-06-01",
        "A/2023-06-01#2",
    ]
    [renamed] = recs.issues.to_pylist()
    assert renamed["path"] == "/Message/Children/Child[1]/CINdetails[2]"
    [element] = resolve(tree, renamed["path"])
    assert etree.QName(element).localname == "CINdetails"
