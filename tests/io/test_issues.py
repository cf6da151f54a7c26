"""IssueLog: rows located in the user's file, strict mode, and the rejected-records count."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings, strategies as st

import mns
from mns.records import schema
from mns.records.issues import (
    IssueLog,
    column_letter,
    describe,
    element_path,
    limits,
    one_read,
    rejected,
)


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


def test_records_on_one_line_are_told_apart_by_their_element_paths() -> None:
    """A one-line XML file puts every record on line 1: its path tells them apart."""
    log = IssueLog(source="one.xml", table="cases")
    log.error("no id", line=1, path="/M/R[1]")
    log.error("and a bad date", line=1, path="/M/R[1]")  # same record
    log.error("no id", line=1, path="/M/R[2]")
    log.bind(line=1, path="/M/R[3]").error("no id")
    issues = log.table()
    assert issues.column("path").to_pylist() == ["/M/R[1]", "/M/R[1]", "/M/R[2]", "/M/R[3]"]
    assert rejected(issues, "cases") == 3
    assert rejected(issues.drop_columns(["path"]), "cases") == 1  # what a line alone can say
    assert describe(issues.to_pylist()[2]) == "one.xml, line 1, element /M/R[2]: no id"


@settings(max_examples=60, deadline=None)
@given(
    records=st.lists(st.integers(0, 3), max_size=40),
    per_kind=st.integers(1, 4),
    memory=st.sampled_from([1, 3000, 1 << 20]),
)
def test_records_on_one_line_add_up_under_any_limits(
    records: list[int], per_kind: int, memory: int
) -> None:
    """Records in = accepted + rejected when rejections sharing a line are counted, not
    listed, past the issue limits."""
    with limits(per_kind=per_kind, memory=memory), one_read():
        log = IssueLog(source="one.xml", table="cases")
        for i, problems in enumerate(records, 1):
            for _ in range(problems):
                log.error("no id", line=1, path=f"/M/R[{i}]", field="id")
        table = log.table()
    accepted = sum(1 for problems in records if not problems)
    assert accepted + rejected(table, "cases") == len(records)


def test_a_table_without_paths_still_meets_the_schema() -> None:
    """Issues written before the path column (an older canonical folder, an adapter's own
    table) still meet the schema; a path, where there is one, comes after the schema's own
    columns and must be text."""
    old = schema.ISSUES.empty_table()
    schema.check(old, "issues")
    assert schema.conform(old, "issues").schema == schema.ISSUES
    moved = pa.table(
        {
            "path": pa.array([], pa.large_string()),
            **dict(zip(old.column_names, old.columns, strict=True)),
        }
    )
    conformed = schema.conform(moved, "issues")
    assert conformed.column_names == [*schema.ISSUES.names, "path"]
    assert conformed.schema.field("path").type == pa.string()
    row = IssueLog(source="x.csv", table="cases")
    row.error("no id", row=2)
    log = IssueLog(source="x.csv", table="cases")
    log.extend(row.table())  # no path column: read as no path
    log.error("no id", line=1, path="/M/R[1]")
    assert log.table().column("path").to_pylist() == [None, "/M/R[1]"]
    with pytest.raises(mns.SchemaError, match="column 'path' is int64"):
        schema.check(conformed.set_column(12, "path", pa.nulls(0, pa.int64())), "issues")


def test_element_paths_number_elements_as_xpath_does() -> None:
    from lxml import etree

    root = etree.fromstring(b'<M xmlns="urn:x"><H/><C><Ch><a/></Ch><Ch><a/><b/><b/></Ch></C></M>')
    paths = [element_path(el, repeated={"Ch"}) for el in root.iter()]
    assert paths == [
        "/M",
        "/M/H",
        "/M/C",
        "/M/C/Ch[1]",
        "/M/C/Ch[1]/a",
        "/M/C/Ch[2]",
        "/M/C/Ch[2]/a",
        "/M/C/Ch[2]/b[1]",
        "/M/C/Ch[2]/b[2]",
    ]
    second = root[1][1]
    assert element_path(second[2], within=second, prefix="/M/C/Ch[2]") == "/M/C/Ch[2]/b[2]"
    tree = root.getroottree()
    for el, path in zip(root.iter(), paths, strict=True):
        steps = "/".join(
            f"*[local-name()='{s.split('[')[0]}']" + (f"[{s.split('[')[1]}" if "[" in s else "")
            for s in path.strip("/").split("/")
        )
        assert tree.xpath("/" + steps) == [el]
