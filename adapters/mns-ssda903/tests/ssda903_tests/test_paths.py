"""Issues in a 903 XML file that is one line (a minified export): each names the element path
of what it is about, which finds it where the line number cannot; nothing is lost.

A path is resolved here as a user would, with lxml's XPath on the same file."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import mns_ssda903
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from lxml import etree

import mns
from mns.plugins.manager import Manager
from mns.records.issue_files import write_issue_files
from mns.records.issues import rejected

#: a bad value for an element: (table column, element, value)
_FAULTS = {
    "SEX": ("SEX", "SEX", "7"),
    "DOB": ("DOB", "DOB", "31/02/2013"),
    "ETHNIC": ("ETHNIC", "ETHNIC", "XXXX"),
    "DECOM": ("DECOM", "DECOM", "99/12/2023"),
    "PL": ("PLACE", "PL", "ZZ"),
    "REVIEW": ("REVIEW", "REVIEW", "31/13/2023"),
}


def child(number: int, episodes: int, reviews: int, fault: str | None, at: int) -> str:
    """One ``<CHILD>``: its header with ``reviews`` reviews, then ``episodes`` episodes; the
    bad value of ``fault``, if any, in episode or review number ``at``."""

    def value(name: str, good: str, k: int | None = None) -> str:
        """``good``, or the bad value where the fault is (in the header: once a child)."""
        return _FAULTS[name][2] if fault == name and k in (None, at) else good

    review = "".join(
        f"<AREVIEW><REVIEW>{value('REVIEW', f'2{k}/01/2024', k)}</REVIEW>"
        "<REVIEW_CODE>PN3</REVIEW_CODE></AREVIEW>"
        for k in range(reviews)
    )
    episode = "".join(
        f"<EPISODE><DECOM>{value('DECOM', f'1{k}/11/2023', k)}</DECOM>"
        f"<RNE>{'S' if k == 0 else 'P'}</RNE><LS>V2</LS><CIN>N1</CIN>"
        f"<PL>{value('PL', 'U4', k)}</PL><PLACE_PROVIDER>PR1</PLACE_PROVIDER>"
        f"{f'<DEC>1{k + 1}/11/2023</DEC><REC>P1</REC>' if k < episodes - 1 else ''}</EPISODE>\n"
        for k in range(episodes)
    )
    return (
        f"<CHILD>\n<HEADER><CHILDID>{number}</CHILDID><SEX>{value('SEX', '1')}</SEX>\n"
        f"<DOB>{value('DOB', '02/03/2013')}</DOB><ETHNIC>{value('ETHNIC', 'BOTH')}</ETHNIC>\n"
        f"{review}</HEADER>\n{episode}</CHILD>\n"
    )


def document(children: list[str]) -> bytes:
    return f"<?xml version='1.0'?>\n<EXPSSDA903>\n{''.join(children)}</EXPSSDA903>\n".encode()


def one_line(data: bytes) -> bytes:
    """The file with its line breaks taken out, as a minified export has it."""
    return data.replace(b"\n", b"")


def read(data: bytes, tmp_path: Path) -> tuple[Any, Any]:
    path = tmp_path / "return.xml"
    path.write_bytes(data)
    return mns_ssda903.read(path, year=2024), etree.parse(str(path))


def resolve(tree: Any, path: str) -> list[Any]:
    found: list[Any] = tree.xpath(path)
    return found


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_an_issue_in_a_one_line_file_has_the_path_of_the_bad_element(
    tmp_path: Path, data: st.DataObject
) -> None:
    shape = data.draw(
        st.lists(st.tuples(st.integers(1, 3), st.integers(1, 2)), min_size=1, max_size=4)
    )
    fault = data.draw(st.sampled_from(sorted(_FAULTS)), label="fault")
    broken = data.draw(st.integers(0, len(shape) - 1), label="child")
    episodes, reviews = shape[broken]
    at = data.draw(st.integers(0, (reviews if fault == "REVIEW" else episodes) - 1), label="at")
    children = [
        child(100 + i, e, r, fault if i == broken else None, at) for i, (e, r) in enumerate(shape)
    ]
    recs, tree = read(one_line(document(children)), tmp_path)
    column, tag, bad = _FAULTS[fault]
    found = [
        i for i in recs.issues.to_pylist() if i["field"] == column and i["action"] == "blanked"
    ]
    assert found
    for issue in found:  # a child's DOB, given once in its HEADER, is checked in each table
        assert issue["line"] == 1  # the whole file is one line: only the path says where
        [element] = resolve(tree, issue["path"])
        assert (element.tag, element.text) == (tag, bad)
        assert f"/CHILD[{broken + 1}]/" in issue["path"]
    in_file = sum(e for e, _ in shape)
    assert recs.extra["Episodes"].num_rows + rejected(recs.issues, "Episodes") == in_file


def test_paths_name_the_block_and_the_element(tmp_path: Path) -> None:
    children = [child(100, 1, 1, None, 0), child(101, 3, 2, "PL", 2), child(102, 1, 2, None, 0)]
    recs, _ = read(one_line(document(children)), tmp_path)
    [issue] = [i for i in recs.issues.to_pylist() if i["field"] == "PLACE"]
    assert issue["path"] == "/EXPSSDA903/CHILD[2]/EPISODE[3]/PL"
    paths = recs.extra["Reviews"].column("path").to_pylist()
    assert paths[1:3] == [
        "/EXPSSDA903/CHILD[2]/HEADER/AREVIEW[1]",
        "/EXPSSDA903/CHILD[2]/HEADER/AREVIEW[2]",
    ]


def test_rows_rejected_on_one_line_are_each_counted(tmp_path: Path) -> None:
    """Rejected records sharing a line are told apart by their paths: records in the file =
    records read + records rejected."""
    nameless = child(101, 2, 0, None, 0).replace("<CHILDID>101</CHILDID>", "")
    recs, tree = read(one_line(document([child(100, 1, 0, None, 0), nameless])), tmp_path)
    assert recs.extra["Episodes"].num_rows == 1
    assert rejected(recs.issues, "Episodes") == 2
    assert rejected(recs.issues, "Header") == 1
    lost = sorted(i["path"] for i in recs.issues.to_pylist() if i["action"] == "rejected")
    assert lost == [
        "/EXPSSDA903/CHILD[2]/EPISODE[1]",
        "/EXPSSDA903/CHILD[2]/EPISODE[2]",
        "/EXPSSDA903/CHILD[2]/HEADER",
    ]
    for path in lost:
        assert len(resolve(tree, path)) == 1


def test_children_lost_in_a_cut_one_line_file_are_numbered(tmp_path: Path) -> None:
    whole = one_line(document([child(100 + i, 1, 0, None, 0) for i in range(5)]))
    cut = whole[: whole.index(b"<CHILDID>103")]  # inside the fourth child
    path = tmp_path / "return.xml"
    path.write_bytes(cut)
    recs = mns_ssda903.read(path, year=2024)
    assert recs.extra["Header"].num_rows == 3
    lost = [i for i in recs.issues.to_pylist() if i["action"] == "rejected"]
    assert [(i["line"], i["row"], i["path"]) for i in lost] == [(1, 4, "(//CHILD)[4]")]
    tree = etree.fromstring(whole).getroottree()
    [element] = resolve(tree, lost[0]["path"])  # in the whole file, that child
    assert element.findtext("HEADER/CHILDID") == "103"


@pytest.mark.parametrize("key", [None, "a secret key"])
def test_issue_files_carry_the_path_and_it_quotes_no_identifier(
    manager: Manager, tmp_path: Path, key: str | None
) -> None:
    path = tmp_path / "return.xml"
    path.write_bytes(
        one_line(document([child(4711, 1, 0, None, 0), child(4712, 2, 0, "DECOM", 1)]))
    )
    recs = mns.read(path, year=2024, pseudonymise=key)
    csv_file, _ = write_issue_files(recs.issues, tmp_path)
    with csv_file.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    [row] = [r for r in rows if r["field"] == "DECOM" and r["action"] == "blanked"]
    assert row["element path"] == "/EXPSSDA903/CHILD[2]/EPISODE[2]/DECOM"
    for issue in recs.issues.to_pylist():  # element names and ordinals only
        assert "471" not in (issue["path"] or "")


def test_a_csv_return_has_no_paths(manager: Manager, tmp_path: Path) -> None:
    (tmp_path / "header.csv").write_text(
        "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n101,7,04/05/2012,WBRI,,,\n"
    )
    recs = mns.read(tmp_path / "header.csv", adapter="ssda903", year=2024)
    [issue] = [i for i in recs.issues.to_pylist() if i["field"] == "SEX"]
    assert (issue["row"], issue.get("path")) == (2, None)
