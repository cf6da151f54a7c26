"""The report on hand-made tables: sections, numbers, suppression, no network, determinism."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from mns.report import render_report, write_report
from mns.report.html import CSP
from tests.report import handmade
from tests.report.chromium import open_page
from tests.report.parse import Cell, column, parse

SECTION_IDS = [
    "summary",
    "need-groups",
    "prevalence",
    "matching",
    "agreement",
    "change",
    "areas",
    "capacity",
    "issues",
    "disclosure",
    "provenance",
]


def _value(cell: Cell) -> object:
    if "data-symbol" in cell.attrs:
        return cell.attrs["data-symbol"]
    return cell.attrs["data-value"]


def _expected(table: pa.Table, name: str, suppressed: set[tuple[int, str]]) -> list[object]:
    out: list[object] = []
    for row, value in enumerate(table.column(name).to_pylist()):
        if (row, name) in suppressed:
            out.append("c")
        elif value is None:
            out.append(":")
        elif isinstance(value, bool):
            out.append("true" if value else "false")
        elif isinstance(value, float):
            out.append(repr(value))
        else:
            out.append(str(value))
    return out


def test_every_section_is_there() -> None:
    page = parse(render_report(handmade.report_input()))
    assert list(page.sections) == SECTION_IDS
    assert all(page.sections.values())


TABLES = {
    "table-need-groups": ("need_groups", ["cases", "share"]),
    "table-prevalence": ("prevalence", ["cases", "share"]),
    "table-matching": ("matching", ["planned", "matched", "unmet", "unplanned"]),
    "table-agreement": ("agreement", ["cases", "agreed", "agreement", "kappa"]),
    "table-confusion": ("confusion", ["cases"]),
    "table-change": ("change", ["baseline_cases", "reaudit_cases", "difference"]),
    "table-areas": ("areas", ["children", "cases", "rate"]),
    "table-capacity": ("capacity", ["demand", "capacity", "shortfall"]),
    "table-issues": ("issues", ["issues"]),
}


@pytest.mark.parametrize("html_id", list(TABLES))
def test_numbers_are_the_tables(html_id: str) -> None:
    ri = handmade.report_input()
    page = parse(render_report(ri))
    name, columns = TABLES[html_id]
    table = ri.tables[name]
    suppressed = set(ri.suppressed.get(name, set()))
    assert len(page.tables[html_id]) == table.num_rows
    for col in columns:
        shown = [_value(c) for c in column(page, html_id, col)]
        assert shown == _expected(table, col, suppressed), col


def test_intervals_are_shown_with_their_values() -> None:
    ri = handmade.report_input()
    page = parse(render_report(ri))
    cells = column(page, "table-need-groups", "share")
    table = ri.tables["need_groups"]
    assert cells[0].text == "40.0% (33.5% to 46.9%)"
    assert float(cells[0].attrs["data-low"]) == table.column("share_low")[0].as_py()
    assert float(cells[0].attrs["data-high"]) == table.column("share_high")[0].as_py()
    kappa = column(page, "table-agreement", "kappa")[0]
    assert kappa.text == "0.64 (0.56 to 0.72)"


def test_suppressed_cells_show_c_and_nothing_else() -> None:
    ri = handmade.report_input()
    html = render_report(ri)
    page = parse(html)
    b1 = column(page, "table-need-groups", "cases")[2]
    assert b1.text == "c"
    assert b1.attrs["data-symbol"] == "c"
    share = column(page, "table-need-groups", "share")[2]
    assert share.text == "c"
    assert "data-low" not in share.attrs
    matrix = page.tables["matrix-matching"]
    b1_s2 = matrix[2][2]
    assert "matched c" in b1_s2.text
    assert "unmet c" in b1_s2.text


def test_matching_matrix_cells() -> None:
    page = parse(render_report(handmade.report_input()))
    matrix = page.tables["matrix-matching"]
    assert [row[0].text for row in matrix] == [
        "A1 Domestic abuse",
        "A2 Family conflict",
        "B1 Parental mental health",
    ]
    a1_s1 = matrix[0][1]
    assert a1_s1.attrs["class"] == "planned"
    assert a1_s1.text == "matched 40unmet 30"
    a1_s2 = matrix[0][2]
    assert "class" not in a1_s2.attrs
    assert a1_s2.text == "unplanned 10"


def test_text_is_escaped() -> None:
    html = render_report(handmade.report_input())
    assert "Handmade audit &lt;test&gt;" in html
    assert "Conflict &amp; &lt;breakdown&gt; in the family." in html
    assert "<breakdown>" not in html


def test_self_contained() -> None:
    html = render_report(handmade.report_input())
    page = parse(html)
    assert [u for u in page.urls if not u.startswith("data:")] == []
    assert "script" not in page.tags
    assert page.tags.get("svg", 0) >= 7
    assert f'content="{CSP}"' in html
    assert len(page.ids) == len(set(page.ids)), "ids must be unique across the inline SVGs"


def test_same_input_same_bytes() -> None:
    assert render_report(handmade.report_input()) == render_report(handmade.report_input())


def test_missing_parts_say_what_is_needed() -> None:
    tables = handmade.tables()
    for name in ("change", "areas", "capacity", "agreement", "confusion", "matching"):
        del tables[name]
    ri = handmade.report_input(tables=tables, suppressed={})
    page = parse(render_report(ri))
    assert list(page.sections) == SECTION_IDS
    assert "--baseline" in page.text
    assert "--population" in page.text
    assert "nothing to compare" in page.text


def test_disclosure_note() -> None:
    on = parse(render_report(handmade.report_input()))
    assert "Counts below 5 are hidden" in on.text
    off = parse(render_report(handmade.report_input(min_count=None)))
    assert "Disclosure control was switched off" in off.text


def test_provenance_lists_files_with_checksums() -> None:
    page = parse(render_report(handmade.report_input()))
    assert "referrals.csv" in page.text
    assert "ab" * 32 in page.text
    assert "adapter canonical 1" in page.text
    assert "2026-03-31" in page.text


def test_summary_figures() -> None:
    page = parse(render_report(handmade.report_input()))
    # a need group's count is suppressed, so the total is not added up from the groups
    assert "200 cases audited" not in page.text
    assert "3 need groups in the plan" in page.text
    assert "28.5% of cases fit no need group" in page.text
    assert "0.64 agreement of the two audits (kappa)" in page.text


def test_opens_in_chromium_without_errors(tmp_path: Path) -> None:
    path = write_report(handmade.report_input(), tmp_path / "report.html")
    shot = tmp_path / "report.png"
    opened = open_page(path, tmp_path, screenshot=shot)
    assert opened.console == ()
    for section in SECTION_IDS:
        assert f'id="{section}"' in opened.dom
    assert opened.dom.count("<svg") >= 7
    assert shot.stat().st_size > 10_000
