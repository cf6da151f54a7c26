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


def test_messages_quote_values_through_the_log() -> None:
    from mns.records.issues import IssueLog

    outside = IssueLog(roles={"UPN": "identifier"})
    assert outside.quote("K9", "identifier") == "'K9'"  # outside a read: as given
    with privacy.reading(KEY, "district"):
        log = IssueLog(source="f.xml", roles={"UPN": "identifier", "DOB": privacy.BIRTH_DATE})
        assert log.quote("K9", "identifier") == repr(privacy.pseudonym("K9", KEY))
        assert log.quote("2015-06-30", "birth_date") == "'####-##-##'"
        assert log.quote("b15-8pz", "postcode") == "'B15'"
        assert log.quote("Jo Bloggs", "name") == "'## ######'"
        log.warning(f"episode {'K9/2021-07-13'!r} appears twice", record="K9/2021-07-13")
        log.error("<UPN> 'A12345' is not a UPN", field="UPN", value="A12345", action="blanked")
        log.error("DOB 31/02/2015 is not a date", field="DOB", value="31/02/2015")
        with pytest.raises(ValueError, match="role 'secret'"):
            log.quote("x", "secret")
    messages = log.table().column("message").to_pylist()
    assert messages == [
        f"episode {privacy.pseudonym('K9/2021-07-13', KEY)!r} appears twice",
        f"<UPN> {privacy.pseudonym('A12345', KEY)!r} is not a UPN",
        "DOB ##/##/#### is not a date",
    ]


def test_strict_errors_and_adapter_failures_carry_no_raw_value(tmp_path: Path) -> None:
    from mns.records.issues import IssueLog

    with privacy.reading(KEY, "district"):
        log = IssueLog(source="f.csv", strict=True)
        with pytest.raises(mns.RecordError) as caught:
            log.error("case 'A-7' is broken", field="case_id", value="A-7", record="A-7")
    assert "A-7" not in str(caught.value)
    assert caught.value.value == privacy.pseudonym("A-7", KEY)

    def failing(sources: object, options: object) -> mns.Records:
        raise ValueError("invalid value '31/02/2015' for 'K9'")

    adapter = mns.Adapter(
        name="broken", description="fails", suffixes=(".txt",), sniff=lambda h: False, read=failing
    )
    path = tmp_path / "x.txt"
    path.write_text("x")
    with pytest.raises(mns.AdapterError) as failed:
        mns.read(path, adapter, pseudonymise=KEY)
    assert "31/02/2015" not in str(failed.value)
    assert "K9" not in str(failed.value)
    assert failed.value.__cause__ is None  # the original text is not chained either
    with pytest.raises(mns.AdapterError, match="K9"):  # without a key: as it was
        mns.read(path, adapter, postcode=None)


def test_issue_fields_of_an_adapter_follow_its_declared_roles(tmp_path: Path) -> None:
    from mns.records.issues import IssueLog

    def reader(sources: object, options: object) -> mns.Records:
        log = IssueLog(source="export.txt", roles={"DOB": "birth_date", "REF": "identifier"})
        log.error("DOB is not a date", field="DOB", value="31/02/2015", action="blanked")
        log.error("REF repeats", field="REF", value="K9", record="K9")
        return mns.Records(issues=log.table())

    adapter = mns.Adapter(
        name="roles", description="roles", suffixes=(".txt",), sniff=lambda h: False, read=reader
    )
    path = tmp_path / "x.txt"
    path.write_text("x")
    issues = mns.read(path, adapter, pseudonymise=KEY).issues.to_pylist()
    assert [i["value"] for i in issues] == ["##/##/####", privacy.pseudonym("K9", KEY)]
    assert issues[1]["record"] == privacy.pseudonym("K9", KEY)
