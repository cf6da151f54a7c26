"""Privacy at read time: keyed pseudonyms that link across files, birth month, postcodes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

import mns
from mns import privacy

KEY = "a synthetic test key, not a secret"


def test_pseudonyms_are_keyed_short_and_stable() -> None:
    one = privacy.pseudonym("123", KEY)
    assert len(one) == 16
    assert one == one.lower()
    assert privacy.pseudonym(" 123 ", KEY) == one
    assert privacy.pseudonym("123", KEY + "x") != one
    assert privacy.pseudonym("124", KEY) != one
    with pytest.raises(ValueError, match="key is empty"):
        privacy.pseudonym("123", "")


def test_array_helpers_keep_nulls_and_dictionaries() -> None:
    ids = pa.array(["1", None, "1", "2"]).dictionary_encode()
    out = privacy.pseudonymise(ids, KEY)
    assert out.type == ids.type
    values = out.to_pylist()
    assert values[1] is None
    assert values[0] == values[2] == privacy.pseudonym("1", KEY)
    months = privacy.birth_month(pa.array([dt.date(2015, 6, 30), None]))
    assert months.to_pylist() == [dt.date(2015, 6, 1), None]
    codes = pa.array(["SW1A 1AA", "nw1 6xe", "B33 8TH", "Northwick East", "EC1A1BB", None])
    assert privacy.coarsen_postcodes(codes).to_pylist() == [
        "SW1A",
        "NW1",
        "B33",
        "Northwick East",
        "EC1A",
        None,
    ]
    assert privacy.coarsen_postcodes(codes, "sector").to_pylist() == [
        "SW1A 1",
        "NW1 6",
        "B33 8",
        "Northwick East",
        "EC1A 1",
        None,
    ]


def _write(path: Path, rows: str) -> Path:
    path.write_text("case_id,child_id,birth_month,area\n" + rows)
    return path


def test_the_same_child_links_across_agencies(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = _write(tmp_path / "a" / "cases.csv", "A-1,K9,2015-06-01,SW1A 1AA\n")
    b = _write(tmp_path / "b" / "cases.csv", "B-7,K9,2015-06-01,SW1A 2BB\n")
    ra = mns.read(a, pseudonymise=KEY)
    rb = mns.read(b, pseudonymise=KEY, postcode="sector")
    assert ra.cases.column("child_id").to_pylist() == rb.cases.column("child_id").to_pylist()
    assert ra.cases.column("child_id")[0].as_py() != "K9"
    assert ra.cases.column("case_id")[0].as_py() == privacy.pseudonym("A-1", KEY)
    assert ra.cases.column("area").to_pylist() == ["SW1A"]
    assert rb.cases.column("area").to_pylist() == ["SW1A 2"]
    assert ra.provenance.pseudonymised
    assert not any("not pseudonymised" in w for w in ra.provenance.warnings)
    plain = mns.read(a, postcode=None)
    assert plain.cases.column("child_id").to_pylist() == ["K9"]
    assert plain.cases.column("area").to_pylist() == ["SW1A 1AA"]
    assert not plain.provenance.pseudonymised
    assert any("not pseudonymised" in w for w in plain.provenance.warnings)


def test_raw_values_in_issues_are_protected_too(tmp_path: Path) -> None:
    path = _write(tmp_path / "cases.csv", "A-1,K9,2015-13-01,SW1A 1AA\n,K8,,\n")
    issues = mns.read(path, pseudonymise=KEY).issues.to_pylist()
    birth = next(i for i in issues if i["field"] == "birth_month")
    assert birth["value"] == "####-##-##"
    assert birth["row"] == 2
    stored = mns.read(
        mns.write(mns.read(path, pseudonymise=KEY), tmp_path / "out"), pseudonymise=KEY
    )
    assert stored.cases.column("case_id").to_pylist() == [
        privacy.pseudonym("A-1", KEY)
    ]  # not hashed twice
    assert any("already pseudonymised" in w for w in stored.provenance.warnings)


def test_extra_tables_follow_field_metadata() -> None:
    table = pa.table(
        {"LAchildID": ["K1"], "PersonBirthDate": [dt.date(2015, 6, 30)], "PostCode": ["NW1 6XE"]}
    )
    table = table.cast(
        pa.schema(
            [
                pa.field("LAchildID", pa.string(), metadata=privacy.IDENTIFIER),
                pa.field("PersonBirthDate", pa.date32(), metadata=privacy.BIRTH_DATE),
                pa.field("PostCode", pa.string(), metadata=privacy.POSTCODE),
            ]
        )
    )
    out = privacy.protect({"children": table}, mns.schema.empty("issues"), key=KEY).tables[
        "children"
    ]
    assert out.to_pylist() == [
        {
            "LAchildID": privacy.pseudonym("K1", KEY),
            "PersonBirthDate": dt.date(2015, 6, 1),
            "PostCode": "NW1",
        }
    ]
