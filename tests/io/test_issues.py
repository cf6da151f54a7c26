"""IssueLog: rows located in the user's file, strict mode, and the rejected-records count."""

from __future__ import annotations

import pytest

import mns
from mns.records import schema
from mns.records.issues import IssueLog, column_letter, rejected


def test_column_letters_are_spreadsheet_letters() -> None:
    assert [column_letter(i) for i in (0, 1, 25, 26, 27, 701, 702)] == [
        "A",
        "B",
        "Z",
        "AA",
        "AB",
        "ZZ",
        "AAA",
    ]
    with pytest.raises(ValueError, match="negative"):
        column_letter(-1)


def test_rows_have_the_canonical_schema_and_file_order() -> None:
    log = IssueLog(source="referrals.csv", table="cases")
    log.warning("column 'Worker' is not mapped", row=1, column="F")
    log.error("no case id", row=9, column="A", field="case_id", value="")
    log.error(
        "not a date", row=4, column="D", field="birth_month", value="31/02/2019", action="blanked"
    )
    table = log.table()
    schema.check(table, "issues")
    assert table.schema == schema.ISSUES
    assert table.column("row").to_pylist() == [1, 4, 9]
    assert table.column("action").to_pylist() == ["kept", "blanked", "rejected"]
    assert table.column("source").to_pylist() == ["referrals.csv"] * 3
    assert log.errors == 2


def test_bound_logs_share_rows_with_their_own_defaults() -> None:
    log = IssueLog(table="cases")
    log.bind(source="a.xlsx", sheet="List 6").error("bad", row=3)
    log.bind(source="b.csv").warning("odd", row=2)
    rows = log.table().to_pylist()
    assert [(r["source"], r["sheet"]) for r in rows] == [("a.xlsx", "List 6"), ("b.csv", None)]
    with pytest.raises(TypeError, match="unknown default"):
        log.bind(severity="error")


def test_strict_raises_on_the_first_error_with_its_location() -> None:
    log = IssueLog(source="x.csv", adapter="acme", strict=True)
    log.warning("only a warning", row=2)
    with pytest.raises(mns.RecordError) as caught:
        log.error("sex must be M, F or U", row=7, column="C", field="sex", value="Q")
    error = caught.value
    assert (error.file, error.row, error.field, error.value, error.adapter) == (
        "x.csv",
        7,
        "sex",
        "Q",
        "acme",
    )
    assert "x.csv, row 7, column C" in str(error)


def test_raise_first_picks_the_earliest_error_in_file_order() -> None:
    log = IssueLog(source="x.csv")
    log.error("late", row=9)
    log.warning("warn", row=1)
    log.error("early", row=3)
    with pytest.raises(mns.RecordError, match="row 3: early"):
        log.raise_first()
    IssueLog().raise_first()  # no errors: nothing raised


def test_rejected_counts_records_not_problems() -> None:
    log = IssueLog(source="x.csv", table="cases")
    log.error("no id", row=3)
    log.error("and a bad date", row=3)  # same record
    log.error("bad sex", row=4, action="blanked")  # kept, blanked
    log.error("no id", row=5)
    log.error("ragged", row=5, table="services")
    log.bind(source="y.csv").error("no id", row=3)
    issues = log.table()
    assert rejected(issues, "cases") == 3
    assert rejected(issues, "services") == 1
    assert rejected(issues) == 4
    assert log.rejected("cases") == 3


def test_bad_severity_or_action_is_refused() -> None:
    log = IssueLog()
    with pytest.raises(ValueError, match="action 'dropped'"):
        log.error("x", action="dropped")  # type: ignore[arg-type]
