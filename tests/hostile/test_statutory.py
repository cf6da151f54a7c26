"""The statutory returns (CIN census XML, 903 CSV and XML) under the damage issue 17 lists:
counts conserved where the damage leaves them knowable (re-encoding, a quote never closed, a
file cut short, a repeated leaf element). These adapters are owned elsewhere: an example that
fails is marked ``xfail(strict=True)`` with its reason, for their owner."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import given, settings, strategies as st

from mns.records.bundle import Records
from mns.records.issues import rejected
from tests.hostile import seeds

_CHILD = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:Child|CHILD)[\s/>]")


def _episodes(data: bytes) -> int:
    """Data rows of a 903 Episodes CSV (non-blank lines after the header)."""
    return sum(1 for line in data.splitlines()[1:] if line.strip(b", \t\r"))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig"])
def test_a_cin_file_in_another_encoding_reads_every_child(encoding: str) -> None:
    seed = seeds.cin_xml()
    text = seed.data.decode()
    text = re.sub(r"encoding=['\"][^'\"]*['\"]", f'encoding="{encoding.upper()}"', text, count=1)
    data = text.encode(encoding)
    records = seeds.read(seed, data)
    assert records.cases.num_rows == seeds.read(seed, seed.data).cases.num_rows


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "cp1252"])
def test_a_903_csv_in_another_encoding_reads_every_episode(encoding: str) -> None:
    seed = seeds.ssda903_csv()
    records = seeds.read(seed, seed.data.decode().encode(encoding))
    assert records.extra["Episodes"].num_rows == _episodes(seed.data)


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: b"\xef\xbb\xbf\xc3" + d[1:],  # found by the fuzzer: CHILD's C flipped
        lambda d: b"\xef\xbb\xbf" + d.replace(b",S,", b",\xac,", 1),
    ],
    ids=["header", "row"],
)
def test_a_903_csv_marked_utf8_but_not_throughout_is_read(
    damage: Callable[[bytes], bytes],
) -> None:
    # the byte-order mark says UTF-8, a damaged byte says otherwise: an issue, not a crash
    seed = seeds.ssda903_csv()
    records = seeds.read(seed, damage(seed.data))
    messages = [i["message"] for i in records.issues.to_pylist()]
    assert any("not UTF-8 throughout" in m for m in messages)
    accepted = records.extra["Episodes"].num_rows
    if accepted:  # the header read: every episode is counted
        assert accepted + rejected(records.issues, "Episodes") == _episodes(seed.data)
    else:  # the header damaged: the file is refused, with an issue
        assert rejected(records.issues, "file") == 1


@settings(max_examples=20)
@given(st.data())
def test_a_903_quote_never_closed_counts_every_episode(data: st.DataObject) -> None:
    seed = seeds.ssda903_csv()
    lines = seed.data.split(b"\n")
    at = data.draw(st.integers(1, len(lines) - 2))
    lines[at] = b'"' + lines[at]
    damaged = b"\n".join(lines)
    records = seeds.read(seed, damaged)
    accepted = records.extra["Episodes"].num_rows
    assert accepted + rejected(records.issues, "Episodes") == _episodes(seed.data)


#: What a cut file must account for, by format: its unit of record (the start tags of which
#: are counted in the bytes left) and the accepted rows of that unit.
_UNITS: dict[str, tuple[re.Pattern[bytes], Callable[[Records], int], str | None]] = {
    "cin.xml": (re.compile(rb"<CINdetails[\s/>]"), lambda r: r.cases.num_rows, "cases"),
    "return.xml": (_CHILD, lambda r: r.extra["Header"].num_rows, None),
}


def _accounted(seed: seeds.Seed, damaged: bytes) -> tuple[int, int]:
    """(records accepted + rejected, records started in ``damaged``)."""
    pattern, accepted, table = _UNITS[seed.name]
    records = seeds.read(seed, damaged)
    if table is None:  # a refusal of the whole file counts no record
        lost = rejected(records.issues) - rejected(records.issues, "file")
    else:
        lost = rejected(records.issues, table)
    return accepted(records) + lost, len(pattern.findall(damaged))


@pytest.mark.parametrize("make", [seeds.cin_xml, seeds.ssda903_xml], ids=["cin", "903"])
@settings(max_examples=20)
@given(st.data())
def test_a_file_cut_short_counts_the_records_it_starts(
    make: Callable[[], seeds.Seed], data: st.DataObject
) -> None:
    seed = make()
    damaged = seed.data[: data.draw(st.integers(1, len(seed.data) - 1))]
    got, started = _accounted(seed, damaged)
    assert got == started


def test_a_cin_file_cut_inside_a_child_named_tag_counts_the_open_episode() -> None:
    seed = seeds.cin_xml()
    at = seed.data.index(b"<ChildProtectionPlans") + len(b"<Child")
    got, started = _accounted(seed, seed.data[:at])
    assert got == started


def test_a_repeated_leaf_in_903_xml_is_reported_and_the_first_kept() -> None:
    # the case of the issue: age 7 became 18 because the last <DOB> won, in silence
    seed = seeds.ssda903_xml()
    damaged = seed.data.replace(
        b"<DOB>02/03/2013</DOB>", b"<DOB>02/03/2013</DOB><DOB>02/03/2006</DOB>"
    )
    records = seeds.read(seed, damaged)
    assert any(i["field"] == "DOB" for i in records.issues.to_pylist())
    assert records.cases.num_rows == seeds.read(seed, seed.data).cases.num_rows
    [age] = [
        a
        for c, a in zip(
            records.cases.column("case_id").to_pylist(),
            records.cases.column("age").to_pylist(),
            strict=True,
        )
        if "947390" in c
    ]
    assert age == 10  # born March 2013, at 31 March 2024: not 18 (born 2006)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"<SEX>2</SEX>", b"<SEX>2</SEX<"),  # a tag broken in the second child
        (b"<DECOM>11/11/2023</DECOM>", b"<DECOM>11/11/2023</EPISODE>"),  # tags crossed
        (b"<CHILDID>947391", b"<CHILDID>\x00947391"),  # a byte XML cannot hold
    ],
    ids=["broken-tag", "crossed-tags", "nul"],
)
def test_malformed_903_xml_counts_every_child_it_starts(old: bytes, new: bytes) -> None:
    seed = seeds.ssda903_xml()
    damaged = seed.data.replace(old, new, 1)
    assert damaged != seed.data
    got, started = _accounted(seed, damaged)
    assert got == started == 2
