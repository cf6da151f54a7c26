"""The UK postcode grammar, and that no raw postcode reaches a published table."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, strategies as st

import mns
from mns import privacy, synth
from mns.audit import run_audit
from tests.privacy._scan import Marker, assert_no_marker_in_files

KEY = "a synthetic postcode-test key, not a secret"
PLAN = Path(mns.__file__).parent / "demo" / "exampleshire.toml"


@pytest.mark.parametrize(
    ("value", "district", "sector"),
    [
        ("SW1A 1AA", "SW1A", "SW1A 1"),
        ("B15-8PZ", "B15", "B15 8"),
        ("b15 8pz.", "B15", "B15 8"),
        ("  b15\t8PZ ", "B15", "B15 8"),
        ("EC1A1BB", "EC1A", "EC1A 1"),
        ("M11AA", "M1", "M1 1"),
        ("12 High St, Birmingham B15 8PZ", "B15", "B15 8"),
        ("Flat 2; 7 Quay Rd.; Leeds; ls1-4dy", "LS1", "LS1 4"),
        ("B15", "B15", "B15"),  # already a district
        ("b15 8", "B15", "B15 8"),  # already a sector
        ("GIR 0AA", "GIR", "GIR"),  # non-geographic: the outward code only
        ("BFPO 1234", "BFPO", "BFPO"),  # the number names a unit
        ("ASCN 1ZZ", "ASCN", "ASCN"),  # an overseas territory
        ("SAN TA1", "SAN", "SAN"),
    ],
)
def test_postcodes_are_parsed_not_trimmed(value: str, district: str, sector: str) -> None:
    assert privacy.coarsen_postcode(value) == district
    assert privacy.coarsen_postcode(value, "sector") == sector


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Northwick East", "Northwick East"),  # an area name is kept
        ("QAB12", "QAB12"),  # mns.synth's districts (no UK postcode area starts with Q)
        ("B15 8P", None),  # a broken postcode
        ("12 High Street", None),  # an address without a postcode
        ("Flat 3 Rose Court", None),
        ("SW1A 1AA or W1A 0AX", None),  # two postcodes: which one?
        ("=HYPERLINK(1)", None),
        ("", None),
    ],
)
def test_what_holds_no_postcode(value: str, expected: str | None) -> None:
    assert privacy.coarsen_postcode(value) == expected
    assert privacy.parse_postcode(value) is None


_OUTWARD = st.from_regex(r"\A[A-Z]{1,2}[0-9][A-Z0-9]?\Z")
_INWARD = st.from_regex(r"\A[0-9][A-Z]{2}\Z")
_GAP = st.sampled_from(["", " ", "  ", "-", ".", " - ", "\t"])


@given(_OUTWARD, _INWARD, _GAP, st.booleans(), st.sampled_from(["", ".", ",", " "]))
def test_any_spelling_of_a_postcode_parses_the_same(
    outward: str, inward: str, gap: str, lower: bool, tail: str
) -> None:
    written = f"{outward}{gap}{inward}{tail}"
    written = written.lower() if lower else written
    parsed = privacy.parse_postcode(written)
    in_address = privacy.parse_postcode(f"7 Mill Lane, Northwick, {written}")
    assert parsed is not None
    assert in_address == parsed
    # the compact form is ambiguous only where the grammar itself is (A9 9AA vs A99 AA)
    assert str(parsed).replace(" ", "") == f"{outward}{inward}"
    assert privacy.coarsen_postcode(written, "sector") == f"{parsed.outward} {inward[0]}"


def test_unparseable_postcodes_become_null_with_a_masked_issue(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text(
        "case_id,area\nA-1,B15-8PZ\nA-2,12 High Street\nA-3,B15 8P\nA-4,Northwick East\n"
    )
    records = mns.read(path, pseudonymise=KEY)
    assert records.cases.column("area").to_pylist() == ["B15", None, None, "Northwick East"]
    blanked = [i for i in records.issues.to_pylist() if i["field"] == "area"]
    assert [i["value"] for i in blanked] == ["## #### ######", "### ##"]
    assert {i["action"] for i in blanked} == {"blanked"}
    assert [i["record"] for i in blanked] == [
        privacy.pseudonym("A-2", KEY),
        privacy.pseudonym("A-3", KEY),
    ]
    assert all("High" not in i["message"] and "8P" not in i["message"] for i in blanked)


def test_a_crafted_postcode_file_publishes_no_raw_postcode(tmp_path: Path) -> None:
    crafted = [
        "B15-8PZ",
        "b15 8pz.",
        "12 High St, Birmingham B15 8PZ",
        "SW1A1AA",
        "sw1a 1aa",
        "Flat 3 Rose Court",
        "B15 8P",
        "QAB12",
    ]
    recs = synth.records(80, seed=3, year=2024)
    cases = recs.cases
    areas = pa.array([crafted[i % len(crafted)] for i in range(cases.num_rows)])
    index = cases.schema.get_field_index("area")
    cases = cases.set_column(
        index, "area", areas.dictionary_encode().cast(cases.schema[index].type)
    )
    mns.write(
        mns.Records(cases=cases, services=recs.services, assignments=recs.assignments),
        tmp_path / "in",
    )
    records = mns.read(tmp_path / "in", pseudonymise=KEY)
    assert set(records.cases.column("area").to_pylist()) == {"B15", "SW1A", "QAB12", None}
    population = pa.table({"area": ["B15", "SW1A", "QAB12"], "children": [5000, 4000, 3000]})
    out = tmp_path / "audit"
    run_audit(records, PLAN, referrals=records, population=population, out=out)
    assert (out / "areas.csv").is_file()
    assert (out / "areas_by_group.csv").is_file()
    # separators as written above (binary Parquet pages hold any byte between codes)
    raw: list[Marker] = [
        re.compile(r"8[ .\-]?PZ|SW1A[ .\-]?1AA", re.IGNORECASE),
        re.compile(r"B15[ .\-]8|SW1A[ .\-]1"),  # not even a sector: districts were asked for
        "High St",
        "Rose Court",
    ]
    assert assert_no_marker_in_files(out, raw) >= 4
