"""The report of a small hand-made audit: sections, numbers, suppression, no network,
determinism, and what it says when parts of the audit are missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from mns.audit import AuditResult
from mns.report import render_report, write_report
from mns.report.html import CSP
from tests.report import handmade
from tests.report.chromium import open_page
from tests.report.parse import cells_with_origin, parse

SECTION_IDS = [
    "summary",
    "need-groups",
    "prevalence",
    "matching",
    "agreement",
    "rules-panel",
    "change",
    "progress",
    "areas",
    "capacity",
    "costs",
    "issues",
    "disclosure",
    "provenance",
]


@pytest.fixture(scope="module")
def audit() -> AuditResult:
    return handmade.result()


@pytest.fixture(scope="module")
def html(audit: AuditResult) -> str:
    return audit.report()


def test_every_section_is_there(html: str) -> None:
    page = parse(html)
    assert list(page.sections) == SECTION_IDS
    assert all(page.sections.values())


def test_every_number_is_a_published_cell(audit: AuditResult, html: str) -> None:
    cells = cells_with_origin(html)
    assert len(cells) > 100
    seen = set()
    for cell in cells:
        name, row, column = cell["data-table"], int(cell["data-row"]), cell["data-source"]
        seen.add(name)
        value = audit.published[name].column(column)[row].as_py()
        if (row, column) in audit.suppressed[name]:
            assert cell["data-symbol"] == "c"
        elif value is None:
            assert cell["data-symbol"] in ("z", ":")
        elif isinstance(value, float):
            assert cell["data-value"] == repr(value)
        elif isinstance(value, bool):
            assert cell["data-value"] == str(value).lower()
        else:
            assert cell["data-value"] == str(value)
    assert {
        "profile",
        "extrapolate",
        "match",
        "agreement",
        "compare",
        "areas",
        "capacity",
        "issues",
    } <= seen


def test_withheld_cells_show_c(audit: AuditResult, html: str) -> None:
    withheld = [(n, r, c) for n, cells in audit.suppressed.items() for r, c in cells]
    assert withheld, "the handmade audit has small counts"
    shown = {
        (c["data-table"], int(c["data-row"]), c["data-source"]): c for c in cells_with_origin(html)
    }
    marked = [shown[w] for w in withheld if w in shown]
    assert marked
    assert all(c["data-symbol"] == "c" for c in marked)


def test_intervals_are_shown_with_their_values(audit: AuditResult, html: str) -> None:
    page = parse(html)
    rows = page.tables["table-need-groups"]
    shares = [
        c
        for row in rows
        for c in row
        if c.attrs.get("data-source") == "share" and "data-low" in c.attrs
    ]
    assert shares
    cell = shares[0]
    table = audit.published["profile"]
    row = int(cell.attrs["data-row"])
    low, high = table.column("share_low")[row].as_py(), table.column("share_high")[row].as_py()
    assert cell.attrs["data-low"] == repr(low)
    assert cell.text.endswith(f"({100 * low:.1f}% to {100 * high:.1f}%)")


def test_matching_matrix(audit: AuditResult, html: str) -> None:
    page = parse(html)
    matrix = page.tables["matrix-matching"]
    labels = [row[0].text for row in matrix]
    assert labels[:3] == ["A1 Domestic abuse", "A2 Family conflict", "B1 Parental mental health"]
    match = audit.published["match"].to_pylist()
    a1_s1 = next(r for r in match if r["need_group"] == "A1" and r["service"] == "S1")
    cell = next(c for c in matrix[0] if c.attrs.get("data-service") == "S1")
    assert cell.attrs["class"] == "planned"
    for key in ("received", "unmet"):  # a count of 0 is left out of the matrix
        value = a1_s1[key]
        shown = f"{key} {'c' if value is None else value}"
        assert (shown in cell.text) == (value != 0), (key, cell.text)
    assert cell.text.endswith(a1_s1["status"])


def test_text_is_escaped(html: str) -> None:
    assert "Handmade audit &lt;test&gt;" in html
    assert "Conflict &amp; &lt;breakdown&gt; in the family." in html
    assert "<breakdown>" not in html


def test_self_contained(html: str) -> None:
    page = parse(html)
    assert [u for u in page.urls if not u.startswith("data:")] == []
    assert "script" not in page.tags
    assert page.tags.get("svg", 0) >= 7
    assert f'content="{CSP}"' in html
    assert len(page.ids) == len(set(page.ids)), "ids must be unique across the inline SVGs"


def test_same_audit_same_bytes(html: str) -> None:
    assert handmade.result().report() == html


def test_missing_parts_say_what_is_needed() -> None:
    bare = handmade.result(baseline=None, referrals=None, population=None, census=True)
    page = parse(bare.report())
    assert list(page.sections) == SECTION_IDS
    assert "--baseline" in page.text
    assert "--population" in page.text
    assert "take the audited cases to be every case of the year (a census" in page.text


def test_disclosure_note(html: str) -> None:
    assert "Counts below 5 are hidden" in parse(html).text
    off = handmade.result(disclose=False)
    page = parse(off.report())
    assert "Disclosure control was switched off" in page.text
    assert "'x' is not a whole number" in page.text  # examples only without disclosure
    assert "'x' is not a whole number" not in html


def test_provenance_lists_files_with_checksums(html: str) -> None:
    text = parse(html).text
    assert "referrals.csv" in text
    assert "ab" * 32 in text
    assert "adapter canonical 1" in text
    assert "2026-03-31" in text


def test_rendering_the_folder_gives_the_same_report(audit: AuditResult, tmp_path: Path) -> None:
    from mns.audit import load_result

    report = audit.write(tmp_path / "audit")
    again = render_report(load_result(tmp_path / "audit"))
    assert again == report.read_text("utf-8")


def test_a_wrong_value_in_audit_json_names_the_file_and_the_key(
    audit: AuditResult, tmp_path: Path
) -> None:
    import json

    from mns.audit import _read_audit_file
    from mns.errors import MnsError

    audit.write(tmp_path / "audit")
    file = tmp_path / "audit" / "audit.json"
    data = json.loads(file.read_text("utf-8"))
    assert _read_audit_file(file).tables == tuple(sorted(audit.published))
    file.write_text(json.dumps({**data, "min_count": "five"}), "utf-8")
    with pytest.raises(MnsError, match=r"audit.json: .*min_count: expected a whole number"):
        _read_audit_file(file)


def test_opens_in_chromium_without_errors(audit: AuditResult, tmp_path: Path) -> None:
    path = write_report(audit.report_input(), tmp_path / "report.html")
    shot = tmp_path / "report.png"
    opened = open_page(path, tmp_path, screenshot=shot)
    assert opened.console == ()
    for section in SECTION_IDS:
        assert f'id="{section}"' in opened.dom
    assert opened.dom.count("<svg") >= 7
    assert shot.stat().st_size > 10_000


def test_the_problems_table_fits_a_1280px_window_whatever_the_paths(
    audit: AuditResult, tmp_path: Path
) -> None:
    """A long folder path and a long value in the problems table wrap (the file shows by its
    name only) instead of widening the table past the window. The layout is measured in
    Chromium by a probe script added to a copy of the report (the report itself allows none)."""
    import re
    import subprocess

    import attrs
    import pyarrow as pa

    from tests.report.chromium import FLAGS, chromium

    issues = audit.published["issues"]
    folder = "/srv/shares/children-services/locality-north/2026/exports/"
    name = "referrals-exported-from-the-case-management-system-" + "x" * 80 + ".csv"
    column = issues.schema.get_field_index("source")
    issues = issues.set_column(
        column, issues.schema.field(column), pa.array([folder + name] * issues.num_rows)
    )
    html = attrs.evolve(audit, published={**audit.published, "issues": issues}).report()
    assert name in html
    assert folder not in html
    probe = (
        "<script>window.onload = function () { var wrap = document.querySelector("
        "'#table-issues').closest('.table-wrap'); document.body.setAttribute('data-probe', "
        "wrap.scrollWidth + ',' + wrap.clientWidth); };</script>"
    )
    html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    page = tmp_path / "probe.html"
    page.write_text(html.replace("</body>", probe + "</body>"), "utf-8")
    done = subprocess.run(
        [chromium(), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=1280,1600", "--dump-dom", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'data-probe="(\d+),(\d+)"', done.stdout)
    assert found is not None, "the probe did not run"
    scroll, visible = int(found.group(1)), int(found.group(2))
    assert scroll <= visible  # nothing hidden to the right of the problems table
