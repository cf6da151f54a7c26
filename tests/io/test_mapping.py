"""The mapping adapter on messy exports: every problem reported with its row and column."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path

import openpyxl
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import mns
import mns.testing
from mns.builtin.mapping import MappingError, load_mapping, mapping_from_dict
from mns.records.issues import rejected

MAPPING = """
table = "cases"
date_formats = ["%d/%m/%Y", "%Y-%m-%d", "%d-%b-%Y"]
ignore = ["Worker"]
collection_year = 2024
reference_date = 2024-03-31

[constants]
la = "E06000999"
cohort = "referral"

[fields.case_id]
column = "Child ID"

[fields.birth_month]
column = "DOB"

[fields.sex]
column = "Gender"
pattern = '^[a-z]\\)\\s*(?P<code>.+)$'
codes = { M = ["Male", "Boy"], F = ["Female", "Girl"], U = ["Unknown", "Not stated"] }

[fields.area]
column = "Postcode"

[fields."cin.primary_need"]
column = "Primary need"
pattern = '^(?P<code>N\\d)'

[multi.factors]
column = "Factors"
language = "cin"
"""

HEADER = [
    "Child ID",
    "DOB",
    "Gender ",
    "Postcode",
    "Primary need",
    "Factors",
    "Worker",
    "Team",
    "Team",
    "",
]
ROWS = [
    [
        "123.0",
        "03/04/2015",
        "a) Male",
        "SW1A 1AA",
        "N1 Abuse or neglect",
        "4B; 3A",
        "Ann",
        "X",
        "Y",
        "",
    ],
    [],
    ["124", "2016-05-01", "FEMALE ", "NW1 6XE", "N2", "2B", "Bob", "", "", "stray"],
    ["", "01/01/2010", "b) Female", "", "", "", "", "", "", ""],
    ["126", "31/02/2019", "Alien", "", "N9", "ZZ;4b", "", "", "", ""],
    ["123", "01/01/2015", "Male", "", "", "", "", "", "", ""],
]


@pytest.fixture
def mapping(tmp_path: Path) -> Path:
    path = tmp_path / "northwick.toml"
    path.write_text(MAPPING, "utf-8")
    return path


def _csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(b"\xef\xbb\xbf" + text.getvalue().encode("utf-8"))
    return path


def _xlsx(
    path: Path, header: list[str], rows: Sequence[Sequence[object]], sheet: str = "Referrals"
) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = sheet
    ws.append(header)
    for row in rows:
        ws.append(list(row))
    book.save(path)
    return path


def _located(records: mns.Records) -> list[tuple[object, ...]]:
    return [(r["row"], r["column"], r["field"], r["action"]) for r in records.issues.to_pylist()]


def test_a_messy_csv_export(tmp_path: Path, mapping: Path) -> None:
    path = _csv(tmp_path / "export.csv", HEADER, ROWS)
    records = mns.read(path, adapter="mapping", mapping=mapping)
    cases = records.cases
    assert cases.column("case_id").to_pylist() == ["123", "124", "126"]
    assert cases.column("sex").to_pylist() == ["M", "F", None]
    assert cases.column("birth_month").to_pylist() == [
        dt.date(2015, 4, 1),
        dt.date(2016, 5, 1),
        None,
    ]
    assert cases.column("area").to_pylist() == ["SW1A", "NW1", None]  # coarsened at read time
    assert cases.column("cin.primary_need").to_pylist() == ["N1", "N2", "N9"]
    assert cases.column("cin.4B").to_pylist() == [True, False, True]
    assert cases.column("cin.2B").to_pylist() == [False, True, False]
    assert cases.column("la").to_pylist() == ["E06000999"] * 3
    assert records.provenance.reference_date == dt.date(2024, 3, 31)
    assert _located(records) == [
        (1, "Team (H)", None, "kept"),  # not mapped, not ignored
        (1, "Team (I)", None, "kept"),
        (4, "J", None, "kept"),  # a value under no header
        (5, "Child ID", "case_id", "rejected"),
        (6, "DOB", "birth_month", "blanked"),
        (6, "Gender", "sex", "blanked"),
        (6, "Factors", "multi.factors", "blanked"),
        (7, "Child ID", "case_id", "rejected"),  # 123 again
    ]
    assert rejected(records.issues, "cases") == 2


def test_a_messy_xlsx_export_is_located_by_column_letter(tmp_path: Path, mapping: Path) -> None:
    rows: list[list[object]] = [list(r) for r in ROWS]
    rows[0][0] = 123.0  # an identifier stored as a number
    rows[0][1] = dt.datetime(2015, 4, 3)  # a real date cell
    path = _xlsx(tmp_path / "export.xlsx", HEADER, rows)
    records = mns.read(path, mapping=mapping)  # .xlsx: only the mapping adapter claims it
    assert records.cases.column("case_id").to_pylist() == ["123", "124", "126"]
    assert records.cases.column("birth_month").to_pylist()[0] == dt.date(2015, 4, 1)
    located = [(r["sheet"], r["row"], r["column"], r["field"]) for r in records.issues.to_pylist()]
    assert ("Referrals", 6, "B", "birth_month") in located
    assert ("Referrals", 6, "C", "sex") in located
    assert ("Referrals", 5, "A", "case_id") in located


def test_the_wrong_sheet_is_an_error_naming_the_sheets(tmp_path: Path, mapping: Path) -> None:
    path = _xlsx(tmp_path / "export.xlsx", HEADER, ROWS[:1], sheet="List 6")
    records = mns.read(path, mapping=mapping, sheet="List 7")
    (issue,) = records.issues.to_pylist()
    assert issue["severity"] == "error"
    assert "sheet 'List 7' not found" in issue["message"]
    assert "'List 6'" in issue["message"]
    with pytest.raises(mns.RecordError, match="List 7"):
        mns.read(path, mapping=mapping, sheet="List 7", strict=True)
    near = mns.read(path, mapping=mapping, sheet="list 6 ")  # case and spaces differ
    assert near.cases.num_rows == 1


def test_an_empty_file_and_a_missing_key_column(tmp_path: Path, mapping: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    records = mns.read(empty, adapter="mapping", mapping=mapping)
    assert records.cases.num_rows == 0
    assert records.issues.column("message").to_pylist() == ["the file is empty"]
    path = _csv(tmp_path / "nokey.csv", ["Child", "DOB"], [["1", "01/01/2015"], ["2", ""]])
    records = mns.read(path, adapter="mapping", mapping=mapping)
    assert records.cases.num_rows == 0
    assert rejected(records.issues, "cases") == 2
    header = (
        records.issues.filter(pc.equal(records.issues.column("row"), 1))
        .column("message")
        .to_pylist()
    )
    assert any(
        "column 'Child ID' is not in the header row (did you mean 'Child'?)" in m for m in header
    )


def test_mapping_file_errors_name_file_key_and_fix(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="unknown key 'feilds' \\(did you mean 'fields'\\?\\)"):
        mapping_from_dict({"feilds": {}}, "m.toml")
    with pytest.raises(
        MappingError, match="'sexx' is not a field of cases \\(did you mean 'sex'\\?\\)"
    ):
        mapping_from_dict({"fields": {"case_id": "ID", "sexx": {"column": "G"}}}, "m.toml")
    with pytest.raises(MappingError, match="needs case_id"):
        mapping_from_dict({"fields": {"sex": "Gender"}}, "m.toml")
    with pytest.raises(MappingError, match="not a regular expression"):
        mapping_from_dict({"fields": {"case_id": {"column": "ID", "pattern": "("}}}, "m.toml")
    with pytest.raises(MappingError, match="does not exist"):
        load_mapping(tmp_path / "none.toml")
    with pytest.raises(MappingError, match="needs a mapping file"):
        mns.read(_csv(tmp_path / "x.csv", ["a"], [["1"]]), adapter="mapping")


def test_conformance_of_the_mapping_adapter(tmp_path: Path, mapping: Path) -> None:
    messy = _csv(tmp_path / "export.csv", HEADER, ROWS)
    xlsx = _xlsx(tmp_path / "export.xlsx", HEADER, ROWS)
    mns.testing.conformance(
        "mapping",
        {messy: {"cases": 5}, xlsx: {"cases": 5}},  # five rows that are not blank
        options={"mapping": mapping},
    )


_cell = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "1",
            "1.0",
            "C7",
            "a) Male",
            "girl",
            "x",
            "03/04/2015",
            "2015-13-01",
            "N1",
            "N4 x",
            "4B;3A",
            "ZZ",
            ";",
            "é",
            '"',
        ]
    ),
    st.text(alphabet="ab19 ;,-/)", max_size=6),
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(_cell, max_size=len(HEADER) + 2), max_size=20), xlsx=st.booleans())
def test_records_in_equal_accepted_plus_rejected(
    rows: list[list[str]], xlsx: bool, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("map")
    (folder / "m.toml").write_text(MAPPING, "utf-8")
    if xlsx:
        path = _xlsx(folder / "e.xlsx", HEADER, [list(r) for r in rows])
    else:
        path = _csv(folder / "e.csv", HEADER, rows)
    records = mns.read(path, adapter="mapping", mapping=folder / "m.toml")
    expected = sum(1 for r in rows if any(c.strip() for c in r))
    assert records.cases.num_rows + rejected(records.issues, "cases") == expected
