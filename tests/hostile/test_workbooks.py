"""Workbooks read within bounds: the files that crashed, hung or flooded memory are refused
with a located problem (or read, when only their ``<dimension>`` lied), for every XLSX reader
(Annex A, the mapping adapter, audit forms)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import mns_annex_a
import pytest
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

import mns
from mns.cli import cli
from mns.cli._common import EXIT_INPUT
from mns.plugins import (
    Limits,
    WorkbookError,
    check_workbook,
    limits_from,
    open_workbook,
    sheet_rows,
)
from mns.plugins.manager import Manager, use_manager
from mns.records.issues import rejected
from tests.hostile import seeds
from tests.hostile.killers import PEAK
from tests.hostile.xlsx import bomb_xlsx, build_xlsx, cells_from_rows, replace_part, sheet_xml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def killed() -> dict[str, Any]:
    """What each killer file gave, read in a child process (see tests/hostile/killers.py)."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.hostile.killers"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"the child died ({done.returncode}): {done.stderr[-3000:]}"
    results: dict[str, Any] = json.loads(done.stdout)
    return results


def _refusal(outcome: dict[str, Any]) -> dict[str, Any]:
    [issue] = [i for i in outcome["issues"] if "refused" in i["message"]]
    return issue  # type: ignore[no-any-return]


def test_a_far_cell_refuses_an_annex_a_workbook_at_that_cell(killed: dict[str, Any]) -> None:
    outcome = killed["annex_far_cell"]
    issue = _refusal(outcome)
    assert (issue["sheet"], issue["row"], issue["column"]) == ("List 3", 1048576, "XFD")
    assert "Limits.max_cells" in issue["message"]
    assert outcome["cases"] == 0
    assert outcome["rejected"] == 1


@pytest.mark.parametrize(
    ("case", "error"), [("mapping", "WorkbookError"), ("form", "AdapterError")]
)
def test_a_far_cell_refuses_the_workbook_naming_the_cell(
    killed: dict[str, Any], case: str, error: str
) -> None:
    outcome = killed[f"{case}_far_cell"]
    assert outcome["error"] == error
    assert "XFD1048576" in outcome["message"]
    assert "Limits(max_cells=" in outcome["message"]  # and how to read it anyway


@pytest.mark.parametrize(("case", "cases"), [("mapping", 6), ("form", 4)])
def test_a_lying_dimension_is_not_trusted(killed: dict[str, Any], case: str, cases: int) -> None:
    outcome = killed[f"{case}_lying_dimension"]
    assert outcome["cases"] == cases
    assert outcome["rejected"] == 0


def test_a_zip_bomb_is_refused_before_it_is_inflated(killed: dict[str, Any]) -> None:
    issue = _refusal(killed["annex_zip_bomb"])
    assert "Limits.max_part_bytes" in issue["message"]
    assert "xl/worksheets/sheet1.xml" in issue["message"]


def test_the_killers_are_read_in_bounded_memory(killed: dict[str, Any]) -> None:
    # the 1.6 MB bomb used to pass 4 GB, the far cell to ask for 512 GB: all of them
    # together, with Python, pyarrow and both spreadsheet libraries loaded, stay far below
    assert killed[PEAK] < 768, f"the child's memory peaked at {killed[PEAK]} MiB"


def test_a_part_larger_than_it_declares_is_refused_as_damaged(killed: dict[str, Any]) -> None:
    outcome = killed["mapping_zip_bomb_lying"]
    assert outcome["error"] == "WorkbookError"
    assert "damaged" in outcome["message"]


def test_a_backtracking_pattern_finishes(killed: dict[str, Any]) -> None:
    assert killed["mapping_catastrophic_pattern"]["cases"] == 1


# --- in process: the check itself ------------------------------------------------------------


def test_limits_are_configurable_and_checked() -> None:
    data = build_xlsx({"S": cells_from_rows([["a", "b", "c"]] * 4)})
    assert check_workbook(data, limits=Limits(max_cells=12)).sheet("S").used_range == "A1:C4"
    with pytest.raises(WorkbookError, match=r"Limits\.max_cells") as refused:
        check_workbook(data, name="x.xlsx", limits=Limits(max_cells=11))
    assert (refused.value.file, refused.value.item, refused.value.field) == (
        "x.xlsx",
        "S",
        "max_cells",
    )
    with pytest.raises(WorkbookError, match=r"Limits\.max_rows"):
        check_workbook(data, limits=Limits(max_rows=3))
    with pytest.raises(WorkbookError, match=r"Limits\.max_part_bytes"):
        check_workbook(data, limits=Limits(max_part_bytes=200))
    with pytest.raises(WorkbookError, match=r"Limits\.max_total_bytes"):
        check_workbook(data, limits=Limits(max_total_bytes=1000))
    bomb = bomb_xlsx(20)  # 20 MiB of blanks in about 20 KiB
    assert check_workbook(bomb, limits=Limits(max_ratio=2000)).sheet("Sheet1").rows == 1
    with pytest.raises(WorkbookError, match=r"Limits\.max_ratio"):
        check_workbook(bomb)
    with pytest.raises(ValueError, match=r"Limits\.max_cells must be a whole number"):
        Limits(max_cells=0)
    assert limits_from({"limits": {"max_rows": 5}}) == Limits(max_rows=5)
    assert limits_from({"limits": "max_rows=5, max_cells=1_000"}) == Limits(
        max_rows=5, max_cells=1000
    )
    for bad in ({"max_row": 5}, "max_rows=five", {"max_rows": -1}, 12):
        with pytest.raises(mns.MnsError, match="limits"):
            limits_from({"limits": bad})


def test_limits_reach_every_workbook_reader_through_mns_read(tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    path.write_bytes(seeds.mapping_xlsx().data)
    read = mns.read(path, adapter="mapping", mapping=seeds.MAPPING)
    assert read.cases.num_rows == 6
    with pytest.raises(WorkbookError, match=r"Limits\.max_rows"):
        mns.read(path, adapter="mapping", mapping=seeds.MAPPING, limits=Limits(max_rows=3))
    form = tmp_path / "form.xlsx"
    form.write_bytes(seeds.audit_form().data)
    with pytest.raises(mns.AdapterError, match=r"Limits\.max_columns"):
        mns.read(form, adapter="audit-form", limits={"max_columns": 2})


def test_mns_read_fails_when_a_workbook_is_refused_whole(tmp_path: Path) -> None:
    # the Annex A adapter refuses a workbook over the limits as an issue, not an exception:
    # the command still fails (it used to exit 0)
    path = tmp_path / "annex_a.xlsx"
    path.write_bytes(seeds.annex_a().data)
    manager = Manager(autoload=False)
    manager.add(mns_annex_a, name="annex-a")
    args = ["read", str(path), "--adapter", "annex-a", "--option"]
    with use_manager(manager):
        fine = CliRunner().invoke(cli, [*args, "limits=max_rows=100"])
        over = CliRunner().invoke(cli, [*args, "limits=max_rows=3"])
    assert fine.exit_code == 0, fine.output
    assert over.exit_code == EXIT_INPUT
    assert "Limits.max_rows" in over.output
    assert f"could not be read (whole or in part): {path}" in over.stderr


def test_not_a_workbook_and_dtds_are_refused() -> None:
    with pytest.raises(WorkbookError, match="not an XLSX workbook"):
        check_workbook(b"PK\x03\x04 not really")
    doctype = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><worksheet/>'
    data = build_xlsx({"S": doctype})
    with pytest.raises(WorkbookError, match="declares a DTD"):
        check_workbook(data)


def test_rows_are_read_only_within_the_used_range() -> None:
    cells = [("A1", "h"), ("C2", 1), ("XFD9", None)]  # the styled far cell holds nothing
    part = sheet_xml([c for c in cells if c[1] is not None], dimension="A1:XFD1048576")
    part = part.replace(
        b"</row></sheetData>", b'</row><row r="9"><c r="XFD9" s="1"/></row></sheetData>'
    )
    data = build_xlsx({"S": part})
    shape = check_workbook(data).sheet("S")
    assert (shape.rows, shape.columns, shape.cells, shape.declared) == (2, 3, 2, "A1:XFD1048576")
    rows = list(sheet_rows(open_workbook(data), shape))
    assert rows == [(1, ("h", None, None)), (2, (None, None, 1))]


@st.composite
def sparse_sheets(draw: st.DrawFn) -> tuple[list[tuple[int, int, object]], bool, bool]:
    """Cells at random places (row, column, value or formula), with or without references."""
    places = draw(
        st.sets(st.tuples(st.integers(1, 400), st.integers(1, 60)), min_size=0, max_size=25)
    )
    values = st.one_of(st.integers(-5, 5), st.text("ab<&\"'", max_size=4), st.just("=A1+1"))
    cells: list[tuple[int, int, object]] = [(r, c, draw(values)) for r, c in sorted(places)]
    return cells, draw(st.booleans()), draw(st.booleans())


def _part(cells: list[tuple[int, int, object]], row_refs: bool, cell_refs: bool) -> bytes:
    """A worksheet part; without references, gaps are filled with empty cells and rows."""
    from tests.hostile.xlsx import _cell_xml

    body: list[str] = []
    last_row = 0
    by_row: dict[int, list[tuple[int, object]]] = {}
    for r, c, v in cells:
        by_row.setdefault(r, []).append((c, v))
    for r in sorted(by_row):
        if not row_refs:
            body.extend("<row/>" for _ in range(last_row + 1, r))
        xml: list[str] = []
        column = 0
        for c, v in by_row[r]:
            ref = mns.records.issues.column_letter(c - 1) + str(r)
            if not cell_refs:
                xml.extend("<c/>" for _ in range(column + 1, c))
            one = _cell_xml(ref, v)
            xml.append(one if cell_refs else one.replace(f' r="{ref}"', "", 1))
            column = c
        body.append((f'<row r="{r}">' if row_refs else "<row>") + "".join(xml) + "</row>")
        last_row = r
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    return f"<worksheet {ns}><sheetData>{''.join(body)}</sheetData></worksheet>".encode()


@settings(max_examples=40)
@given(sparse_sheets())
def test_the_scan_finds_the_used_range_and_unsaved_formulas(
    sheet: tuple[list[tuple[int, int, object]], bool, bool],
) -> None:
    cells, row_refs, cell_refs = sheet
    shape = check_workbook(build_xlsx({"S": _part(cells, row_refs, cell_refs)})).sheet("S")
    assert shape.rows == max((r for r, _, _ in cells), default=0)
    assert shape.columns == max((c for _, c, _ in cells), default=0)
    assert shape.cells == len(cells)
    formulas = [(r, c) for r, c, v in cells if isinstance(v, str) and v.startswith("=")]
    assert list(shape.uncached) == formulas
    assert shape.uncached_count == len(formulas)


# --- formulas with no saved result: located, in every reader ---------------------------------


def test_unsaved_formulas_are_located_in_the_mapping_adapter() -> None:
    seed = seeds.mapping_xlsx()
    rows = seeds.mapping_rows(3)
    rows[1][3] = "=2+3"  # Age of the second record (row 3, column D)
    data = build_xlsx({"Export": cells_from_rows([seeds.MAPPING_HEADER, *rows])})
    records = seeds.read(seed, data)
    [issue] = [i for i in records.issues.to_pylist() if "never saved" in i["message"]]
    assert (issue["sheet"], issue["row"], issue["column"]) == ("Export", 3, "D")
    assert issue["action"] == "blanked"
    assert records.cases.column("age").to_pylist() == [3, None, 5]


def test_unsaved_formulas_are_located_in_annex_a() -> None:
    rows = seeds.annex_rows(3)
    rows[2][0] = '=CONCAT("R",1)'
    from mns_annex_a.spec import LISTS

    sheet = next(s for s in LISTS.values() if s.name == "referrals").sheet
    records = seeds.read(seeds.annex_a(), build_xlsx({sheet: cells_from_rows(rows)}))
    issues = records.issues.to_pylist()
    [formula] = [i for i in issues if "never saved" in i["message"]]
    assert (formula["sheet"], formula["row"], formula["column"]) == (sheet, 3, "A")
    # the record has lost its key: rejected, so it is still counted
    assert records.extra["referrals"].num_rows + rejected(records.issues) == 3


def test_unsaved_formulas_are_located_in_audit_forms() -> None:
    seed = seeds.audit_form()
    part = check_workbook(seed.data).sheet("Sample").part

    def plant(xml: bytes) -> bytes:
        # B3, the first case's first answer (blank in a new form): a formula with no result
        end = xml.index(b"</c>", xml.index(b'r="A3"')) + len(b"</c>")
        return xml[:end] + b'<c r="B3"><f>1+1</f></c>' + xml[end:]

    records = seeds.read(seed, replace_part(seed.data, part, plant))
    located = [
        (i["sheet"], i["row"], i["column"])
        for i in records.issues.to_pylist()
        if "never saved" in i["message"]
    ]
    assert located == [("Sample", 3, "B")]


@pytest.mark.parametrize(
    ("ref", "reason"),
    [("xfd1048576", "Limits.max_cells"), ("A99999999", "not a cell reference"), ("XFDA1", "not a")],
)
def test_references_out_of_form_cannot_hide_a_far_cell(ref: str, reason: str) -> None:
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    part = (
        f'<worksheet {ns}><sheetData><row r="1"><c r="A1"><v>1</v></c>'
        f'<c r="{ref}"><v>2</v></c></row></sheetData></worksheet>'
    ).encode()
    with pytest.raises(WorkbookError, match=reason):
        check_workbook(build_xlsx({"S": part}))


def test_a_far_cell_in_a_part_no_sheet_names_is_refused_too() -> None:
    # a second relationship with the same id: which part a reader takes is its own choice
    far = sheet_xml([("A1", "x"), ("XFD1048576", "far")])
    data = build_xlsx({"S": [("A1", "x")]}, extra={"xl/worksheets/sheet9.xml": far})
    data = replace_part(
        data,
        "xl/_rels/workbook.xml.rels",
        lambda rels: rels.replace(
            b"</Relationships>",
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            b'2006/relationships/worksheet" Target="worksheets/sheet9.xml"/></Relationships>',
        ),
    )
    with pytest.raises(WorkbookError, match="XFD1048576"):
        check_workbook(data)
