"""Damaged 903 files: nothing lost without a count, every loss located, no crash.

Records in the file = rows read + records rejected (``mns.records.issues.rejected``), for
CSV files with broken quoting and for XML cut short; fields given twice, short rows and a
DOCTYPE with no children are located issues; a workbook is refused, never read as text.
The fast (pyarrow) and careful (``csv`` module) CSV readers give the same rows.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import mns_ssda903
from hypothesis import given, settings, strategies as st
from mns_ssda903.csvread import _careful, _fast

from mns.errors import MnsError
from mns.plugins import Source
from mns.records.issues import IssueLog, rejected

HEADER = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n"
EPISODES = (
    "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,"
    "HOME_POST,PL_POST,URN\n"
)


def episodes(n: int) -> list[str]:
    return [f"{100 + i},01/06/2023,S,C2,N1,U4,PR1,,,,,,\n" for i in range(n)]


def read(tmp_path: Path, **files: str | bytes) -> Any:
    folder = tmp_path / "return"
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return mns_ssda903.read(folder, year=2024)


def test_an_unterminated_quote_loses_one_record_not_the_rest(tmp_path: Path) -> None:
    rows = episodes(10)
    rows[3] = '103,01/06/2023,S,C2,N1,U4,PR1,,,,"SW1A 1AA,,\n'  # the quote never closes
    recs = read(tmp_path, **{"e.csv": EPISODES + "".join(rows)})
    kept = recs.extra["Episodes"].column("CHILD").to_pylist()
    assert len(kept) == 9
    assert "103" not in kept
    assert len(kept) + rejected(recs.issues, "Episodes") == 10
    [broken] = [i for i in recs.issues.to_pylist() if i["action"] == "rejected"]
    assert (broken["row"], broken["table"]) == (5, "Episodes")
    assert "line 5" in broken["message"]
    assert "reading went on at line 6" in broken["message"]


def test_short_rows_are_reported_not_padded_silently(tmp_path: Path) -> None:
    text = EPISODES + "101,01/06/2023,S,C2,N1,U4,PR1,,,,,,\n102,01/06/2023,S,C2\n"
    recs = read(tmp_path, **{"e.csv": text})
    [short] = [i for i in recs.issues.to_pylist() if "cells but the header" in i["message"]]
    assert (short["row"], short["record"], short["column"]) == (3, "102", "CIN")
    assert "CIN, PLACE" in short["message"]
    assert recs.extra["Episodes"].num_rows == 2


def test_a_workbook_named_csv_is_refused_unread(tmp_path: Path) -> None:
    book = b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 4
    files: dict[str, str | bytes] = {"e.csv": EPISODES + "".join(episodes(2)), "x.csv": book}
    recs = read(tmp_path, **files)
    [refused] = [i for i in recs.issues.to_pylist() if i["source"].endswith("x.csv")]
    assert (refused["action"], refused["table"]) == ("rejected", "file")
    assert "XLSX" in refused["message"]
    assert refused["value"] is None
    assert recs.extra["Episodes"].num_rows == 2


def test_utf16_and_windows_1252_files_read_every_row(tmp_path: Path) -> None:
    text = HEADER + "101,1,04/05/2012,WBRI,,,\n102,2,30/11/2009,AIND,,,\n"
    recs = read(
        tmp_path,
        **{
            "h.csv": text.encode("utf-16"),
            "e.csv": (EPISODES + "".join(episodes(3))).encode("cp1252"),
        },
    )
    assert recs.extra["Header"].num_rows == 2
    assert recs.extra["Episodes"].num_rows == 3
    assert any("UTF-16" in i["message"] for i in recs.issues.to_pylist())


XML_CHILD = """<CHILD><HEADER><CHILDID>{id}</CHILDID><SEX>1</SEX><DOB>02/03/2013</DOB>
<ETHNIC>BOTH</ETHNIC></HEADER><EPISODE><DECOM>11/11/2023</DECOM><RNE>S</RNE><LS>V2</LS>
<CIN>N1</CIN><PL>U4</PL><PLACE_PROVIDER>PR1</PLACE_PROVIDER></EPISODE></CHILD>
"""


def xml(children: int) -> str:
    body = "".join(XML_CHILD.format(id=900 + i) for i in range(children))
    return f"<?xml version='1.0'?>\n<EXPSSDA903>\n{body}</EXPSSDA903>\n"


def test_xml_cut_short_counts_the_children_it_lost(tmp_path: Path) -> None:
    text = xml(6)
    cut = text[: text.index("<CHILDID>903")]  # inside the fourth child
    recs = read(tmp_path, **{"r.xml": cut + "<CHILD><HEADER><CHILDID>999</CHILDID></CHILD>"})
    read_children = recs.extra["Header"].num_rows
    assert read_children == 3
    assert read_children + rejected(recs.issues, "Header") == 5  # 3 read + the cut one + 999
    lost = [i for i in recs.issues.to_pylist() if i["action"] == "rejected"]
    assert [(i["row"], i["line"]) for i in lost] == [(4, 12), (5, 12)]  # the 4th and 5th
    [stop] = [i for i in recs.issues.to_pylist() if i["table"] == "file"]
    assert stop["line"] == 12
    assert stop["column"] is not None  # where lxml stopped, in the line
    assert "reading stopped at line" in stop["message"]
    assert 1 <= int(stop["column"]) <= len(text.splitlines()[11]) + 60


def test_a_field_given_twice_keeps_the_first_and_says_so(tmp_path: Path) -> None:
    text = xml(1).replace("<DOB>02/03/2013</DOB>", "<DOB>02/03/2016</DOB>\n<DOB>02/03/2005</DOB>")
    recs = read(tmp_path, **{"r.xml": text})
    assert recs.cases.column("age").to_pylist() == [7]  # not 18
    [twice] = [i for i in recs.issues.to_pylist() if i["field"] == "DOB"]
    assert (twice["severity"], twice["line"], twice["record"]) == ("error", 4, "900")
    assert "lines 3 and 4" in twice["message"]
    assert "2005" not in str(twice["value"])  # a date of birth is never quoted in issues


def test_a_doctype_without_children_is_still_reported(tmp_path: Path) -> None:
    text = '<?xml version="1.0"?>\n<!DOCTYPE EXPSSDA903 [<!ENTITY x "y">]>\n<EXPSSDA903/>\n'
    recs = read(tmp_path, **{"r.xml": text})
    [refused] = recs.issues.to_pylist()
    assert (refused["field"], refused["action"]) == ("DOCTYPE", "rejected")
    empty = read(tmp_path / "b", **{"r.xml": "<?xml version='1.0'?>\n<EXPSSDA903></EXPSSDA903>\n"})
    assert [i["message"] for i in empty.issues.to_pylist()] == [
        "the file holds no <CHILD>: no child was read from it"
    ]


_CELL = st.text(alphabet='ab1,"\n\r /', max_size=6)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(_CELL, min_size=13, max_size=13), max_size=6))
def test_the_fast_reader_reads_what_the_careful_reader_reads(rows: list[list[str]]) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # so a lone CR in a cell is quoted
    writer.writerow(EPISODES.strip().split(","))
    writer.writerows([[f"C{i}", *r[1:]] for i, r in enumerate(rows)])
    data = out.getvalue().encode()
    source = Source.from_bytes("e.csv", data)
    fast = _fast(data, source, IssueLog())
    careful = _careful(data.decode(), source, IssueLog())
    assert careful is not None
    if fast is not None:  # the fast reader may decline (a quoted line end): never differ
        assert fast.name == careful.name
        for column, values in careful.values.items():
            assert fast.values[column].to_pylist() == values.to_pylist(), column
        assert fast.row.to_pylist() == careful.row.to_pylist()
    assert len(careful) == len(rows)


@settings(max_examples=15, deadline=None)
@given(st.binary(max_size=300), st.integers(min_value=0, max_value=400))
def test_damaged_files_raise_nothing_but_mns_errors(noise: bytes, at: int) -> None:
    good = (EPISODES + "".join(episodes(4))).encode()
    for data in (good[:at] + noise, noise + good[at:], xml(3).encode()[:at] + noise):
        try:
            recs = mns_ssda903.read(io.BytesIO(data), year=2024)
        except MnsError:
            continue
        issues = recs.issues.to_pylist()
        assert all(i["source"] for i in issues)  # every problem located in a file
