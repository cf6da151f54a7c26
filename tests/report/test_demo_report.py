"""`mns demo` end to end: the report has every section, shows the analyses' own numbers,
rebuilds identically from its folder, and opens in a browser without errors."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import mns
from mns import disclosure
from mns.audit import lca_available
from mns.cli import cli
from mns.plan import load_plan
from mns.plugins.manager import Manager, use_manager
from tests.report.chromium import open_page
from tests.report.parse import Page, parse

SECTIONS = [
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
    "placements",
    "teams",
    "outcomes",
    "targets",
    "what-works",
    "participation",
    "issues",
    "disclosure",
    "provenance",
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("demo") / "demo-output"
    with use_manager(Manager(autoload=False)):
        result = CliRunner().invoke(cli, ["demo", "--out", str(out)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        yield out


@pytest.fixture(scope="module")
def page(demo: Path) -> Page:
    return parse((demo / "report.html").read_text("utf-8"))


def _published(folder: Path, name: str) -> tuple[pa.Table, set[tuple[int, str]]]:
    table = pq.read_table(folder / f"{name}.parquet")
    raw = (table.schema.metadata or {}).get(b"mns.suppressed", b"[]")
    return table, {(int(r), str(c)) for r, c in json.loads(raw)}


def test_every_section_is_there(page: Page) -> None:
    expected = list(SECTIONS)
    if lca_available():
        expected.insert(expected.index("issues"), "suggested")
    assert list(page.sections) == expected


def test_every_number_is_the_published_tables(demo: Path) -> None:
    """Each cell that shows a number names its table, row and column; it shows exactly that
    cell of the table the audit wrote, or c where disclosure control withheld it."""
    html = (demo / "report.html").read_text("utf-8")
    cells = _cells(html)
    assert len(cells) > 500
    cache: dict[str, tuple[pa.Table, set[tuple[int, str]]]] = {}
    seen_tables = set()
    for attrs in cells:
        name, row, column = attrs["data-table"], int(attrs["data-row"]), attrs["data-source"]
        if name not in cache:
            cache[name] = _published(demo, name)
        table, withheld = cache[name]
        seen_tables.add(name)
        value = table.column(column)[row].as_py()
        if (row, column) in withheld:
            assert attrs.get("data-symbol") == "c", (name, row, column)
            assert value is None
        elif value is None:
            assert attrs.get("data-symbol") in ("z", ":"), (name, row, column)
        else:
            shown = attrs["data-value"]
            expected = (
                repr(value)
                if isinstance(value, float)
                else (("true" if value else "false") if isinstance(value, bool) else str(value))
            )
            assert shown == expected, (name, row, column)
            for side in ("low", "high"):
                if f"data-{side}" in attrs:
                    other = table.column(attrs[f"data-{side}-source"])[row].as_py()
                    assert attrs[f"data-{side}"] == repr(other)
    assert {
        "profile",
        "extrapolate",
        "match",
        "agreement",
        "compare",
        "areas",
        "capacity",
        "budget",
        "placements",
        "teams",
        "what_works",
        "outcomes_change",
    } <= seen_tables


def _cells(html: str) -> list[dict[str, str]]:
    from html.parser import HTMLParser

    found: list[dict[str, str]] = []

    class Cells(HTMLParser):
        def handle_starttag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
            values = {k: v or "" for k, v in attributes}
            if "data-table" in values:
                found.append(values)

    Cells().feed(html)
    return found


def test_published_tables_are_the_analyses(demo: Path) -> None:
    """The folder's tables are the analyses run on the demo's records, disclosed."""
    records = mns.read(demo / "records" / "audit-2026")
    plan = load_plan(demo / "records" / "plan.toml")
    # the tables group the cases by the professional panel's decisions (mns.assign), and
    # count the services whose dates overlap the collection year
    before = mns.read(demo / "records" / "audit-2025")
    cases = mns.assign(mns.classify(records.cases, plan), records.assignments, "professional")
    baseline = mns.assign(mns.classify(before.cases, plan), before.assignments, "professional")
    year = records.provenance.collection_year
    assert year is not None
    period = (dt.date(year - 1, 4, 1), dt.date(year, 3, 31))
    expected = {
        "compare": mns.compare(baseline, cases, plan=plan),
        "match": mns.match(cases, records.services, plan=plan, period=period),
        "agreement": None,
    }
    for name, table in expected.items():
        if table is None:
            continue
        published, withheld = _published(demo, name)
        done = disclosure.disclose(table, 5)
        primary = {
            (r, c)
            for r, c, why in zip(
                done.suppressed["row"].to_pylist(),
                done.suppressed["column"].to_pylist(),
                done.suppressed["reason"].to_pylist(),
                strict=True,
            )
            if why == "primary"
        }
        # the tables are protected together (mns.disclose_all): every small count is
        # withheld; the complements are chosen across the set, not table by table
        assert primary <= withheld, name
        for row, (mine, theirs) in enumerate(
            zip(published.to_pylist(), table.to_pylist(), strict=True)
        ):
            for column, value in theirs.items():
                if (row, column) in withheld:
                    assert mine[column] is None, (name, row, column)
                else:
                    assert mine[column] == value, (name, row, column)


def test_key_figures(demo: Path, page: Page) -> None:
    profile, _ = _published(demo, "profile")
    base = profile.filter(pa.compute.equal(profile["variable"], "cases")).column("base")[0].as_py()
    assert f"{base:,} cases audited" in page.text
    agreement, _ = _published(demo, "agreement")
    kappa = next(
        r["estimate"]
        for r in agreement.to_pylist()
        if r["statistic"] == "cohen_kappa"
        and r["side_a"] == "professional"
        and r["side_b"] == "shadow"
    )
    assert f"{kappa:.2f} agreement of the professional and shadow audits" in page.text


def test_progress_since_the_last_plan_by_hand(demo: Path, page: Page) -> None:
    """The demo passes the plan of 2022-2025: care grew from 110 places at 1,080 a week to
    125 at 1,150 (80 weeks a case: 110 x 52 / 80 x 1,080 x 80 = 6,177,600 a year, then
    7,475,000); A4 was split into A2 and C3, C4 merged into C1."""
    from tests.report.parse import column

    changes, withheld = _published(demo, "plan_changes")
    assert withheld == set()
    assert "family_centre" in changes.column("code").to_pylist()  # withdrawn
    assert page.sections["progress"] == "Progress since the last plan"
    services = [c.text for c in column(page, "table-progress-services", "label")]
    care = services.index("care Foster and residential care")
    costs = column(page, "table-progress-services", "provision_cost_difference")
    assert costs[care].text == f"{7_475_000 - 6_177_600:,}"
    said = dict(
        zip(
            [c.text for c in column(page, "table-progress-groups", "label")],
            [c.text for c in column(page, "table-progress-groups", "plan")],
            strict=True,
        )
    )
    assert said["A4 Adolescents at risk at home and outside it (last plan)"] == "split into A2, C3"
    assert said["C1 Children of parents with mental health difficulties"].startswith(
        "C4 merged into it"
    )


def test_provenance_names_every_input_with_checksums(demo: Path, page: Page) -> None:
    for folder in ("audit-2026", "audit-2025", "referrals-2026"):
        for file in sorted((demo / "records" / folder).glob("*.parquet")):
            assert file.name in page.text  # published outputs name files by base name
            assert str(file) not in page.text
    assert "adapter synth" in page.text  # the provenance the demo records were made with
    meta = json.loads((demo / "audit.json").read_text("utf-8"))
    assert meta["plan_sha256"] in page.text


def test_report_rebuilds_identically(demo: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.html"
    with use_manager(Manager(autoload=False)):
        result = CliRunner().invoke(cli, ["report", str(demo), "--out", str(again)])
    assert result.exit_code == 0, result.output
    assert again.read_bytes() == (demo / "report.html").read_bytes()


def test_csv_shows_symbols(demo: Path) -> None:
    text = (demo / "profile.csv").read_text("utf-8")
    assert ",c," in text or text.rstrip().endswith(",c")
    table, withheld = _published(demo, "profile")
    assert withheld
    assert all(table.column(c)[r].as_py() is None for r, c in withheld)


def test_no_record_level_data_is_written(demo: Path) -> None:
    written = {p.name for p in demo.iterdir() if p.is_file()}
    assert "cases.parquet" not in written
    html = (demo / "report.html").read_text("utf-8")
    ids = mns.read(demo / "records" / "audit-2026").cases.column("case_id").to_pylist()
    assert not any(str(i) in html for i in ids[:50])


def test_opens_in_chromium_without_errors(demo: Path, tmp_path: Path) -> None:
    opened = open_page(demo / "report.html", tmp_path, screenshot=tmp_path / "demo.png")
    assert opened.console == ()
    for section in SECTIONS:
        assert f'id="{section}"' in opened.dom
    assert (tmp_path / "demo.png").stat().st_size > 10_000


def test_a_withheld_group_size_is_shown_nowhere(demo: Path) -> None:
    """A need group whose size the published `extrapolate` table withholds has no count,
    share or denominator of its size left in `profile`."""
    sizes, _ = _published(demo, "extrapolate")
    hidden = {r["need_group"] for r in sizes.to_pylist() if r["sample"] is None}
    assert hidden, "the demo withholds some group sizes; this test needs one"
    profile, _ = _published(demo, "profile")
    for row in profile.to_pylist():
        if row["need_group"] in hidden:
            if row["variable"] == "cases":  # base: all the cases audited
                assert row["count"] is None, row
            else:  # base: the group's cases with the variable known
                assert row["base"] is None, row
