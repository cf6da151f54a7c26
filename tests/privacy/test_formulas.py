"""No formula from data in any CSV or workbook mns writes (OWASP CSV injection)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl import load_workbook

import mns
from mns import synth
from mns.audit import run_audit
from mns.cells import FORMULA_STARTS, CsvWriter, csv_cell
from mns.disclosure import csv_text
from mns.forms import read_workbooks, write_workbook

PLAN = Path(mns.__file__).parent / "demo" / "exampleshire.toml"
FORMULAS = ('=HYPERLINK("http://x","y")', "+1", "@SUM(A1)", "-2+3", "\tt", "\rr", "a\rb", "c\nd")


def formula(i: int) -> str:
    return FORMULAS[i % len(FORMULAS)] + ("" if i < len(FORMULAS) else f"~{i}")


def assert_no_formula_cells(text: str, rows: int | None = None) -> None:
    """Every cell that a spreadsheet could run is a number; ``rows`` (data rows) when given."""
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    for row in parsed:
        for cell in row:
            if cell.startswith(FORMULA_STARTS):
                float(cell)  # a number such as -2 is fine; anything else raises
    if rows is not None:
        assert len(parsed) == rows + 1  # a CR or LF inside a value does not split its row


def test_csv_cells_are_neutralised_but_numbers_stay_numbers() -> None:
    assert [csv_cell(v) for v in ("=1", "+1", "-x", "@a", "\tq", "\rq", "ok")] == [
        "'=1",
        "'+1",
        "'-x",
        "'@a",
        "'\tq",
        "'\rq",
        "ok",
    ]
    assert csv_cell(-3) == -3
    assert csv_cell(-0.5) == -0.5
    buffer = io.StringIO()
    CsvWriter(buffer).writerows([["a\rb", "=x", -3], ["c\nd", "-", 2.5]])
    assert buffer.getvalue() == '"a\rb",\'=x,-3\n"c\nd",\'-,2.5\n'


def test_published_csv_keeps_negative_numbers_and_quotes_line_breaks() -> None:
    table = pa.table(
        {
            "code": list(FORMULAS),
            "change": pa.array([-2, 3, -1, 0, 5, -7, 1, 2], pa.int64()),
            "rate": [-0.25, 1.5, None, 0.0, -1.0, 2.0, 3.0, 4.0],
        }
    )
    text = csv_text(table)
    assert_no_formula_cells(text, rows=table.num_rows)
    parsed = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [r["change"] for r in parsed] == ["-2", "3", "-1", "0", "5", "-7", "1", "2"]
    assert parsed[0]["rate"] == "-0.25"
    assert [r["code"] for r in parsed] == ["'" + f if f[0] in "=+-@\t\r" else f for f in FORMULAS]


def _formula_records(n: int) -> mns.Records:
    recs = synth.records(n, seed=5, year=2024)
    cases = recs.cases
    ids = [formula(i) for i in range(n)]
    old = cases.column("case_id").to_pylist()
    rename = dict(zip(old, ids, strict=True))

    def renamed(table: pa.Table) -> pa.Table:
        index = table.schema.get_field_index("case_id")
        values = [rename[v] for v in table.column(index).to_pylist()]
        return table.set_column(index, table.schema.field(index), pa.array(values, pa.string()))

    index = cases.schema.get_field_index("area")
    areas = pa.array([formula(i % 5) for i in range(n)]).dictionary_encode()
    cases = renamed(cases).set_column(index, "area", areas.cast(cases.schema[index].type))
    assignments = renamed(recs.assignments)
    index = assignments.schema.get_field_index("audit")
    audits = pa.array(["@SUM(A1)"] * assignments.num_rows).cast(assignments.schema[index].type)
    assignments = assignments.set_column(index, assignments.schema.field(index), audits)
    return mns.Records(cases=cases, services=renamed(recs.services), assignments=assignments)


def test_an_audit_of_formula_ids_writes_no_formula(tmp_path: Path) -> None:
    mns.write(_formula_records(60), tmp_path / "records")
    records = mns.read(tmp_path / "records", postcode=None)  # areas kept as read: formulas
    assert records.cases.column("case_id")[0].as_py() == FORMULAS[0]
    areas = sorted({str(a) for a in records.cases.column("area").to_pylist()})
    population = pa.table({"area": areas, "children": [1000] * len(areas)})
    out = tmp_path / "audit"
    run_audit(records, PLAN, referrals=records, population=population, disclose=False, out=out)
    written = sorted(out.glob("*.csv"))
    assert any(p.name == "areas.internal.csv" for p in written)  # the internal copy's name
    for path in written:
        rows = pq.read_table(out / f"{path.name.split('.')[0]}.parquet").num_rows
        assert_no_formula_cells(path.read_text("utf-8"), rows=rows)
    areas_csv = (out / "areas.internal.csv").read_text("utf-8")
    assert "'=HYPERLINK" in areas_csv  # the area was published, neutralised


def test_a_form_of_formula_ids_holds_no_formula_and_reads_back(tmp_path: Path) -> None:
    cases = _formula_records(12).cases
    path = write_workbook(
        tmp_path / "form.xlsx",
        cases,
        plan=PLAN,
        audit='=HYPERLINK("http://x","audit")',
        auditor="+Team A",
        reference_date=dt.date(2024, 3, 31),
    )
    book = load_workbook(path)
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert FORMULAS[0] in texts  # stored as the text it is
    back = read_workbooks([path])
    # the reader trims surrounding white space (a tab or CR) from every cell, as always
    assert sorted(back.cases.column("case_id").to_pylist()) == sorted(
        v.strip() for v in cases.column("case_id").to_pylist()
    )
