"""Reading Annex A workbooks: the eleven lists, normalised values, and workbooks that differ
from the template (a list missing, sheets renamed, columns extra or missing)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import mns_annex_a
import openpyxl
import pytest
from mns_annex_a.normalise import normalise
from mns_annex_a.spec import Kind

import mns.testing
from mns.plugins.manager import Manager

#: lists whose rows are cases (early help, referrals, CIN, CP, looked after, care leavers)
CASE_SHEETS = ("List 2", "List 3", "List 6", "List 7", "List 8", "List 9")


def data_rows(path: Path, sheets: tuple[str, ...] = CASE_SHEETS) -> int:
    """Rows below the header with something in them, counted with openpyxl."""
    book = openpyxl.load_workbook(path, read_only=True)
    total = 0
    for name in sheets:
        if name in book.sheetnames:
            rows = list(book[name].iter_rows(min_row=2, values_only=True))
            total += sum(1 for r in rows if any(c not in (None, "") for c in r))
    return total


def variant(reference: Path, tmp_path: Path, change: Any) -> Path:
    book = openpyxl.load_workbook(reference / "annex_a" / "Annex_A_sample.xlsx")
    change(book)
    out = tmp_path / "annex_a.xlsx"
    book.save(out)
    return out


@pytest.mark.parametrize(
    ("kind", "cell", "value"),
    [
        (Kind.GENDER, "a) Male", "M"),
        (Kind.GENDER, "b) Female", "F"),
        (Kind.GENDER, "c) Not stated/recorded", "U"),
        (Kind.CODE, "a) WBRI", "WBRI"),
        (Kind.CODE, "q) 6: Police", "6"),
        (Kind.CODE, "b) 1B: Individual", "1B"),
        (Kind.CODE, "N1 - Abuse or Neglect", "N1"),
        (Kind.CODE, "E1: Placement order", "E1"),
        (Kind.CODE, "f) U6: Foster placement - not FFA", "U6"),
        (Kind.CODE, "e) PR4 - Private provision", "PR4"),
        (Kind.ABUSE, "Physical abuse", "PHY"),
        (Kind.YES_NO, "a) Yes", True),
        (Kind.YES_NO, "No", False),
        (Kind.ID, 9212044.0, "9212044"),
        (Kind.DATE, dt.datetime(2020, 9, 16), dt.date(2020, 9, 16)),
        (Kind.CATEGORY, "c) Child in need plan", "Child in need plan"),
    ],
)
def test_values_are_normalised(kind: Kind, cell: object, value: object) -> None:
    assert normalise(kind, cell) == (value, None)


def test_unreadable_values_say_why() -> None:
    assert normalise(Kind.DATE, "=H2+5")[1] is not None
    assert "not yes or no" in str(normalise(Kind.YES_NO, "maybe")[1])


def test_reference_sample(reference: Path) -> None:
    path = reference / "annex_a" / "Annex_A_sample.xlsx"
    recs = mns_annex_a.read(path)
    assert set(recs.extra) == {spec.name for spec in mns_annex_a.LISTS.values()}
    assert recs.cases.num_rows == data_rows(path)
    by_id = {c["case_id"]: c for c in recs.cases.to_pylist()}
    referral = by_id["L3/4653765/2020-09-16"]
    assert (referral["sex"], referral["cin.referral_source"], referral["cohort"]) == (
        "M",
        "3D",
        "referral",
    )
    placed = by_id["L8/1761444/2009-08-06"]
    assert (placed["ssda903.legal_status"], placed["ssda903.placement_type"]) == ("E1", "U6")
    [problem] = recs.issues.to_pylist()  # the sample's one adult social care code
    assert (problem["sheet"], problem["row"], problem["column"]) == ("List 6", 2, "H")
    assert problem["action"] == "blanked"


def test_a_missing_list_is_reported_not_fatal(reference: Path, tmp_path: Path) -> None:
    path = variant(reference, tmp_path, lambda book: book.remove(book["List 4"]))
    recs = mns_annex_a.read(path)
    assert recs.extra["assessments"].num_rows == 0
    assert recs.extra["referrals"].num_rows == 6
    assert any("List 4 (Assessments) is missing" in i["message"] for i in recs.issues.to_pylist())


def test_lists_found_by_headers_and_columns_checked(reference: Path, tmp_path: Path) -> None:
    def change(book: Any) -> None:
        book["List 3"].title = "Referrals export"
        sheet = book["List 1"]
        sheet.cell(row=1, column=8, value="Favourite colour")
        sheet.delete_cols(7)  # Contact Source

    recs = mns_annex_a.read(variant(reference, tmp_path, change))
    assert recs.extra["referrals"].num_rows == 6
    assert set(recs.extra["referrals"].column("sheet").to_pylist()) == {"Referrals export"}
    messages = [i["message"] for i in recs.issues.to_pylist()]
    assert any("'Favourite colour' is not a column of List 1" in m for m in messages)
    assert any("List 1 has no column 'Contact Source'" in m for m in messages)


def test_a_row_without_child_id_is_rejected(reference: Path, tmp_path: Path) -> None:
    def clear(book: Any) -> None:
        book["List 3"]["A3"].value = None  # (cell(..., value=None) would leave it)

    recs = mns_annex_a.read(variant(reference, tmp_path, clear))
    [rejected] = [i for i in recs.issues.to_pylist() if i["action"] == "rejected"]
    assert (rejected["sheet"], rejected["row"], rejected["column"]) == ("List 3", 3, "A")
    assert recs.extra["referrals"].num_rows == 5


def test_conformance(manager: Manager, reference: Path, tmp_path: Path) -> None:
    path = reference / "annex_a" / "Annex_A_sample.xlsx"
    missing = variant(reference, tmp_path, lambda book: book.remove(book["List 7"]))
    mns.testing.conformance(
        "annex-a", {path: {"cases": data_rows(path)}, missing: {"cases": data_rows(missing)}}
    )
