"""Counts conserved for every format whose records can be counted from the outside: hostile
cell values (quotes, delimiters, line breaks, NULs, long text, formulas with no saved result),
short and long rows and any accepted encoding; records in = accepted + rejected."""

from __future__ import annotations

import csv
import io

from hypothesis import example, given, settings, strategies as st

from mns.records.issues import rejected
from tests.hostile import seeds
from tests.hostile.xlsx import build_xlsx, cells_from_rows

_ALPHABET = st.sampled_from(list("aZ09 \t,;\"'\n\r\x00é€—😀="))
_VALUE = st.one_of(
    st.text(_ALPHABET, max_size=8),
    st.sampled_from(["a) Male", "4B; 3A", "C1", "01/03/2015", "referral", "M"]),
    st.just(""),
    st.builds(lambda k: "x" * (997 * k), st.integers(0, 140)),  # long fields, drawn unfiltered
)


@st.composite
def grids(draw: st.DrawFn, width: int) -> list[list[str]]:
    """Rows of up to ``width`` + 2 cells (short and long rows too)."""
    row = st.lists(_VALUE, min_size=0, max_size=width + 2)
    return draw(st.lists(row, min_size=0, max_size=8))


def _is_record(row: list[str]) -> bool:
    return any(cell.strip() for cell in row)


def _csv_bytes(header: list[str], rows: list[list[str]], encoding: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding, errors="replace")


def _encodable(rows: list[list[str]], encoding: str) -> list[list[str]]:
    """The rows as they read back from ``encoding`` (what it cannot hold becomes ``?``)."""
    return [[c.encode(encoding, "replace").decode(encoding) for c in row] for row in rows]


_ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16"])


@settings(max_examples=60)
@given(grids(4), _ENCODINGS)
def test_canonical_csv_counts(rows: list[list[str]], encoding: str) -> None:
    rows = _encodable(rows, encoding)
    data = _csv_bytes(["case_id", "sex", "age", "cohort"], rows, encoding)
    records = seeds.read(seeds.canonical_csv(), data)
    expected = sum(_is_record(r) for r in rows)
    assert records.cases.num_rows + rejected(records.issues, "cases") == expected


@settings(max_examples=60)
@given(grids(5), _ENCODINGS)
def test_mapping_csv_counts(rows: list[list[str]], encoding: str) -> None:
    rows = _encodable(rows, encoding)
    data = _csv_bytes(seeds.MAPPING_HEADER, rows, encoding)
    records = seeds.read(seeds.mapping_csv(), data)
    expected = sum(_is_record(r) for r in rows)
    assert records.cases.num_rows + rejected(records.issues, "cases") == expected


_SHEET_VALUE = st.one_of(_VALUE, st.integers(-3, 200), st.just("=1+1"))


@settings(max_examples=25)
@given(st.lists(st.lists(_SHEET_VALUE, max_size=7), max_size=8))
def test_mapping_xlsx_counts(rows: list[list[object]]) -> None:
    rows = [[_cell(v) for v in row] for row in rows]
    data = build_xlsx({"Export": cells_from_rows([seeds.MAPPING_HEADER, *rows])})
    records = seeds.read(seeds.mapping_xlsx(), data)
    expected = sum(_sheet_record(r) for r in rows)
    assert records.cases.num_rows + rejected(records.issues, "cases") == expected


@settings(max_examples=25)
@given(st.lists(st.lists(_SHEET_VALUE, max_size=6), max_size=8))
@example([[" "]])  # found by the fuzzer: a row of spaces is blank, as in the mapping adapter
def test_annex_a_counts(rows: list[list[object]]) -> None:
    header = seeds.annex_rows(0)[0]
    rows = [[_cell(v) for v in row] for row in rows]
    sheet = seeds.annex_sheet()
    data = build_xlsx({sheet: cells_from_rows([header, *rows])})
    records = seeds.read(seeds.annex_a(), data)
    expected = sum(_sheet_record(r) for r in rows)
    assert records.extra["referrals"].num_rows + rejected(records.issues) == expected


def _cell(value: object) -> object:
    """A value as a cell holds it: XML cannot hold NUL or lone carriage returns."""
    if isinstance(value, str):
        return value.replace("\x00", "").replace("\r", "")
    return value


def _sheet_record(row: list[object]) -> bool:
    """Whether a sheet row is a record: a value that is not blank, or a formula."""
    return any(not isinstance(v, str) or v.strip() for v in row if v is not None and v != "")
