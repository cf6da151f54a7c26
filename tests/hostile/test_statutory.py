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


def test_a_repeated_leaf_in_903_xml_is_reported() -> None:
    seed = seeds.ssda903_xml()
    damaged = seed.data.replace(
        b"<DOB>02/03/2013</DOB>", b"<DOB>02/03/2013</DOB><DOB>02/03/2006</DOB>"
    )
    records = seeds.read(seed, damaged)
    assert any(i["field"] == "DOB" for i in records.issues.to_pylist())
