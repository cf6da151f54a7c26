"""Bad CIN census files: each gives located issues, loses nothing silently, never crashes,
never touches the network and never expands an entity."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mns_cin_census
import pyarrow as pa
import pytest

from mns.errors import RecordError
from mns.records.issues import rejected


def read(data: bytes, tmp_path: Path, **options: Any) -> Any:
    path = tmp_path / "census.xml"
    path.write_bytes(data)
    return mns_cin_census.read(path, **options)


def line_of(data: bytes, needle: str, start: str = "") -> int:
    """The line of the first ``needle`` (after ``start``) in ``data``."""
    text = data.decode()
    return text.count("\n", 0, text.index(needle, text.index(start) if start else 0)) + 1


def issues(records: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = records.issues.to_pylist()
    return rows


def test_a_clean_file_has_no_issues(tmp_path: Path, build: Any) -> None:
    recs = read(build.document(build.child("A") + build.child("B")), tmp_path)
    assert recs.issues.num_rows == 0
    assert recs.cases.column("case_id").to_pylist() == ["A/2023-06-01", "B/2023-06-01"]
    assert recs.cases.column("cin.3B").to_pylist() == [True, True]
    assert recs.cases.column("cin.1A").to_pylist() == [False, False]


def test_truncated_file_keeps_whole_children_and_rejects_the_cut_one(
    tmp_path: Path, build: Any
) -> None:
    data = build.document(build.child("A") + build.child("B") + build.child("C"))
    text = data.decode()
    start_c = text.index("<LAchildID>C")
    cut = data[: text.index("<CINreferralDate>", start_c) + 20]
    recs = read(cut, tmp_path)
    assert recs.cases.column("child_id").to_pylist() == ["A", "B"]
    [lost] = [i for i in issues(recs) if i["table"] == "cases"]
    assert lost["action"] == "rejected"
    assert lost["line"] == text.count("\n", 0, text.index("<CINdetails>", start_c)) + 1
    assert "not read" in lost["message"]
    [where] = [i for i in issues(recs) if i["table"] == "file"]
    assert "well-formed" in where["message"]
    # accounting: three episodes in the source = two read + one rejected
    assert recs.cases.num_rows + rejected(recs.issues, "cases") == 3


def test_wrong_root_element_is_refused_with_its_name(tmp_path: Path, build: Any) -> None:
    data = build.document(build.child("A")).replace(b"Message>", b"CINCensus>")
    recs = read(data, tmp_path)
    assert recs.cases.num_rows == 0
    [problem] = [i for i in issues(recs) if i["table"] == "file"]
    assert problem["value"] == "CINCensus"
    assert problem["line"] == 1
    assert "<Message>" in problem["message"]
    assert rejected(recs.issues, "cases") == 1  # its one episode, reported as not read


def test_entity_expansion_bomb_is_refused_unexpanded(tmp_path: Path, build: Any) -> None:
    levels = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "' + f"&lol{i - 1};" * 10 + '">' for i in range(1, 10)
    ]
    prolog = '<?xml version="1.0"?>\n<!DOCTYPE Message [\n' + "\n".join(levels) + "\n]>\n"
    body = build.child("A").replace("<Ethnicity>WBRI", "<Ethnicity>&lol9;WBRI")
    path = tmp_path / "census.xml"
    path.write_bytes(build.document(body, prolog=prolog))
    # read in a fresh process and measure its peak memory: 10^9 "lol"s would be gigabytes
    script = (
        "import sys, mns_cin_census\n"
        "recs = mns_cin_census.read(sys.argv[1])\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
        "print(recs.cases.num_rows, int(hwm) // 1024)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True
    )
    cases, peak_mb = map(int, done.stdout.split())
    assert cases == 0
    assert peak_mb < 400
    recs = read(path.read_bytes(), tmp_path)
    [problem] = [i for i in issues(recs) if i["table"] == "file"]
    assert problem["field"] == "DOCTYPE"
    assert "refused" in problem["message"]
    assert rejected(recs.issues, "cases") == 1


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []  # noqa: RUF012 - shared on purpose: the test reads it

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"<x>secret</x>")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Recorder.hits = []
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    thread.join()


def test_external_entity_is_never_fetched(tmp_path: Path, build: Any, server: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    prolog = (
        '<?xml version="1.0"?>\n<!DOCTYPE Message [\n'
        f'<!ENTITY net SYSTEM "{server}/leak">\n<!ENTITY file SYSTEM "file://{secret}">\n'
        f'<!ENTITY % dtd SYSTEM "{server}/dtd"> %dtd;\n]>\n'
    )
    body = build.child("&net;&file;")
    recs = read(build.document(body, prolog=prolog), tmp_path)
    assert _Recorder.hits == []
    assert "TOP SECRET" not in str(recs.issues.to_pylist())
    assert "TOP SECRET" not in str(recs.extra["ChildIdentifiers"].to_pylist())
    assert recs.cases.num_rows == 0
    assert issues(recs)[0]["field"] == "DOCTYPE"


def test_unknown_codes_are_blanked_with_their_line_and_the_fix(tmp_path: Path, build: Any) -> None:
    children = build.child(
        "A", ethnicity="WXYZ", episodes=build.episode(source="1Z", factors=("3B", "99Z"))
    )
    data = build.document(children)
    recs = read(data, tmp_path)
    by_field = {i["field"]: i for i in issues(recs)}
    assert by_field["Ethnicity"]["value"] == "WXYZ"
    assert by_field["Ethnicity"]["line"] == line_of(data, "<Ethnicity>WXYZ")
    assert by_field["AssessmentFactors"]["line"] == line_of(data, "99Z")
    assert "expected one of WBRI" in by_field["Ethnicity"]["message"]
    assert by_field["ReferralSource"]["value"] == "1Z"
    assert by_field["AssessmentFactors"]["value"] == "99Z"
    assert all(i["action"] == "blanked" for i in by_field.values())
    row = recs.cases.to_pylist()[0]
    assert row["ethnicity"] is None
    assert row["cin.referral_source"] is None
    assert row["cin.3B"] is True  # the good factor is kept
    assert recs.cases.num_rows == 1


def test_a_code_of_another_year_names_its_years(tmp_path: Path, build: Any) -> None:
    children = build.child("A", episodes=build.episode(source="5D", factors=("18A", "24A")))
    recs = read(build.document(children, year=2021), tmp_path)
    messages = {i["value"]: i["message"] for i in issues(recs)}
    assert "valid from 2023" in messages["5D"]
    assert "valid from 2022" in messages["24A"]
    # 18A left the list in 2021 but the DfE validator still accepts it (rule 8897Q): kept
    assert "18A" not in messages
    assert recs.cases.to_pylist()[0]["cin.18A"] is True


def test_missing_mandatory_elements_are_located_at_their_block(tmp_path: Path, build: Any) -> None:
    no_source = build.episode().replace("<ReferralSource>1A</ReferralSource>", "")
    no_ethnicity = build.child("B").replace("<Ethnicity>WBRI</Ethnicity>", "")
    data = build.document(build.child("A", episodes=no_source) + no_ethnicity)
    recs = read(data, tmp_path)
    found = {(i["field"], i["record"]): i for i in issues(recs)}
    source = found[("ReferralSource", "A/2023-06-01")]
    assert source["severity"] == "error"
    assert source["action"] == "kept"
    assert source["line"] == line_of(data, "<CINdetails>")  # the block that lacks it
    assert found[("Ethnicity", "B")]["line"] == line_of(
        data, "<ChildCharacteristics>", "<LAchildID>B"
    )
    assert recs.cases.num_rows == 2


def test_a_child_without_id_is_rejected_episode_by_episode(tmp_path: Path, build: Any) -> None:
    two = build.episode() + build.episode(referral="2023-09-01")
    recs = read(build.document(build.child("A") + build.child("", episodes=two)), tmp_path)
    assert recs.cases.column("child_id").to_pylist() == ["A"]
    assert rejected(recs.issues, "cases") == 2
    assert rejected(recs.issues, "services") == 2  # their assessments
    assert recs.cases.num_rows + rejected(recs.issues, "cases") == 3


def test_dates_out_of_order_and_unreadable_dates(tmp_path: Path, build: Any) -> None:
    closure = "<CINclosureDate>2023-05-01</CINclosureDate><ReasonForClosure>RC7</ReasonForClosure>"
    episodes = build.episode(closure=closure).replace("2023-07-01", "2023-02-30")
    recs = read(build.document(build.child("A", episodes=episodes)), tmp_path)
    by_field = {i["field"]: i for i in issues(recs)}
    assert "before <CINreferralDate> 2023-06-01" in by_field["CINclosureDate"]["message"]
    assert by_field["CINclosureDate"]["action"] == "kept"
    assert by_field["AssessmentAuthorisationDate"]["value"] == "2023-02-30"
    assert by_field["AssessmentAuthorisationDate"]["action"] == "blanked"
    assert recs.extra["Assessments"].column("AssessmentAuthorisationDate").to_pylist() == [None]


def test_a_date_after_the_reference_date(tmp_path: Path, build: Any) -> None:
    recs = read(
        build.document(build.child("A", episodes=build.episode(referral="2024-05-01"))), tmp_path
    )
    [problem] = [i for i in issues(recs) if i["field"] == "CINreferralDate"]
    assert "after the census reference date 2024-03-31" in problem["message"]


@pytest.mark.parametrize("data", [b"", b"   \n", b"\xef\xbb\xbf"])
def test_an_empty_file(tmp_path: Path, data: bytes) -> None:
    recs = read(data, tmp_path)
    assert recs.cases.num_rows == 0
    [problem] = issues(recs)
    assert problem["severity"] == "error"
    assert "not well-formed" in problem["message"] or "no XML element" in problem["message"]


def test_a_file_without_children(tmp_path: Path) -> None:
    recs = read(b"<Message><Header/><Children></Children></Message>", tmp_path)
    assert recs.cases.num_rows == 0
    assert any("no <Child>" in i["message"] for i in issues(recs))


def test_unexpected_and_repeated_elements(tmp_path: Path, build: Any) -> None:
    body = build.child("A").replace(
        "<Ethnicity>WBRI</Ethnicity>",
        "<Ethnicity>WBRI</Ethnicity><Ethnicity>WIRI</Ethnicity><Shoe>9</Shoe>",
    )
    recs = read(build.document(body), tmp_path)
    messages = [i["message"] for i in issues(recs)]
    assert any("<Ethnicity> appears twice" in m and "first was kept" in m for m in messages)
    assert any("unexpected element <Shoe>" in m for m in messages)
    assert recs.cases.column("ethnicity").to_pylist() == ["WBRI"]


def test_strict_raises_at_the_first_error_with_its_place(tmp_path: Path, build: Any) -> None:
    data = build.document(build.child("A", ethnicity="WXYZ"))
    with pytest.raises(RecordError) as caught:
        read(data, tmp_path, strict=True)
    assert caught.value.file is not None
    assert caught.value.file.endswith("census.xml")
    assert caught.value.value == "WXYZ"
    assert caught.value.row == line_of(data, "WXYZ")  # the XML line


def test_a_bad_child_never_stops_the_rest(tmp_path: Path, build: Any) -> None:
    bad = build.child("B", sex="<GenderCurrent>7</GenderCurrent>", birth="yesterday", ethnicity="")
    recs = read(build.document(build.child("A") + bad + build.child("C")), tmp_path)
    assert recs.cases.column("child_id").to_pylist() == ["A", "B", "C"]
    assert {i["record"] for i in issues(recs)} == {"B"}
    assert recs.cases.column("sex").to_pylist() == ["M", None, "M"]


def test_namespaced_file_is_read(tmp_path: Path, build: Any) -> None:
    data = build.document(build.child("A")).replace(b"<Message>", b'<Message xmlns="urn:dfe:cin">')
    recs = read(data, tmp_path)
    assert recs.issues.num_rows == 0
    assert recs.cases.num_rows == 1


def test_issue_table_is_canonical(tmp_path: Path, build: Any) -> None:
    recs = read(build.document(build.child("A", ethnicity="??")), tmp_path)
    assert recs.issues.schema.field("line").type == pa.int64()
    assert recs.issues.column("source").to_pylist() == [str(tmp_path / "census.xml")]
