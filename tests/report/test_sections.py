"""The report's sections for the planning group: the audience, the grouping, what
disclosure control withheld, the rules beside the panel, outcomes, match statuses, demand of
unknown group and the census note. Built from hand-made tables of the published shapes."""

from __future__ import annotations

from typing import Any

import attrs
import pyarrow as pa
import pytest

from mns.report import ReportInput, render_report, shown_tables
from mns.report.model import INTERNAL_BANNER
from tests.report import handmade
from tests.report.parse import Page, column, parse

F = pa.float64()
INT = pa.int64()

RULES_PANEL = pa.table(
    {
        "need_group": ["(not audited)", "(not placed)", "A1", "A2", "B1"],
        "both": pa.array([None, None, 14, 9, None], INT),
        "panel_only": pa.array([None, 6, 3, 2, 7], INT),
        "rules_only": pa.array([11, None, 5, 0, 4], INT),
        "precision": pa.array([None, None, 14 / 19, 1.0, None], F),
        "precision_low": pa.array([None, None, 0.51, 0.70, None], F),
        "precision_high": pa.array([None, None, 0.88, 1.0, None], F),
        "recall": pa.array([None, None, 14 / 17, 9 / 11, None], F),
        "recall_low": pa.array([None, None, 0.59, 0.52, None], F),
        "recall_high": pa.array([None, None, 0.94, 0.95, None], F),
    }
)
DISAGREEMENTS = pa.table(
    {
        "case_id": ["P-0007", "P-0002"],
        "panel_group": ["A1", "B1"],
        "rule_group": ["unassigned", "A1"],
        "deciding": ["", "cin.3A"],
    }
)
OUTCOMES = pa.table(
    {
        "need_group": ["A1", "A1", "A1", "A2"],
        "outcome": ["O1", "O1", "O1", "O2"],
        "service": [None, "S1", "S2", None],
        "cases": pa.array([20, 20, 20, 9], INT),
        "recorded": pa.array([20, 12, 0, 9], INT),
        "achieved": pa.array([11, 8, 0, 3], INT),
        "achieved_share": pa.array([0.55, 8 / 12, None, 1 / 3], F),
        "achieved_low": pa.array([0.34, 0.39, None, 0.12], F),
        "achieved_high": pa.array([0.74, 0.86, None, 0.65], F),
        "mean_value": pa.array([None, None, None, None], F),
    }
)
MATCH = pa.table(
    {
        "need_group": ["A1", "A1", "A2", "A2"],
        "service": ["S1", "S2", "S1", "S2"],
        "planned": [True, False, False, True],
        "cases": pa.array([20, 20, 9, 9], INT),
        "received": pa.array([20, 0, 0, 4], INT),
        "eligible": pa.array([20, 0, 0, 9], INT),
        "unmet": pa.array([0, None, None, 5], INT),
        "unplanned": pa.array([None, 6, 0, None], INT),
        "received_below_threshold": pa.array([0, 6, 0, 2], INT),
        "status": ["met", "unplanned", None, "partly met"],
    }
)
CAPACITY = pa.table(
    {
        "service": ["S1", "S2"],
        "capacity": pa.array([60.0, 20.0], F),
        "sample": pa.array([20, 9], INT),
        "estimate": pa.array([75.0, 34.0], F),
        "estimate_low": pa.array([50.0, 20.0], F),
        "estimate_high": pa.array([100.0, 50.0], F),
        "unknown_upper": pa.array([120.0, 41.0], F),
        "shortfall": pa.array([15.0, 14.0], F),
        "load": pa.array([1.25, 1.7], F),
    }
)
WITHHELD = pa.table(
    {
        "table": ["profile", "match", "rules_panel"],
        "cells": pa.array([400, 100, 50], INT),
        "withheld": pa.array([20, 0, 6], INT),
        "primary": pa.array([5, 0, 1], INT),
        "secondary": pa.array([3, 0, 2], INT),
        "derived": pa.array([12, 0, 3], INT),
    }
)


def _input(**changes: Any) -> ReportInput:
    tables = {
        "rules_panel": RULES_PANEL,
        "disagreements": DISAGREEMENTS,
        "outcomes": OUTCOMES,
        "match": MATCH,
        "capacity": CAPACITY,
    }
    made = ReportInput(
        title="Sections",
        plan=handmade.plan(),
        tables=tables,
        suppressed={
            "rules_panel": frozenset({(4, "both")}),
            "outcomes": frozenset({(3, "achieved")}),
        },
    )
    return attrs.evolve(made, **changes)


@pytest.fixture(scope="module")
def html() -> str:
    return render_report(_input(audience="internal", groups="the professional panel's consensus"))


@pytest.fixture(scope="module")
def page(html: str) -> Page:
    return parse(html)


def _texts(page: Page, table: str, name: str) -> list[str]:
    return [c.text for c in column(page, table, name)]


def test_every_published_table_has_a_section() -> None:
    published = {
        "profile", "extrapolate", "match", "capacity", "agreement", "compare", "areas",
        "areas_by_group", "issues", "outcomes", "rules_panel", "disagreements",
        "lca_models", "lca_classes", "lca_need_groups",
    }  # fmt: skip
    assert published <= shown_tables()


def test_internal_copy_is_marked_on_every_page(html: str, page: Page) -> None:
    assert f"<title>{INTERNAL_BANNER} | Sections</title>" in html
    assert html.count('class="internal"') == 2  # at the top and at the end
    assert INTERNAL_BANNER in page.text
    assert "internal copy" in page.text
    assert "This copy shows every count, however small" in page.text
    assert "Small counts are hidden" not in page.text
    public = render_report(_input())
    assert INTERNAL_BANNER not in public
    assert 'class="internal"' not in public


def test_audience_is_checked() -> None:
    with pytest.raises(ValueError, match="audience"):
        _input(audience="secret")


def test_the_grouping_is_named(page: Page) -> None:
    assert "need groups given by the professional panel's consensus" in page.text
    assert "The tables use the need groups given by the professional panel's consensus" in (
        page.text
    )


def test_the_grouping_is_named_in_every_chart_of_need_groups() -> None:
    ri = attrs.evolve(handmade.result().report_input(), groups="the plan's rules")
    html = render_report(ri)
    grouped = ("need-groups", "prevalence", "matching", "change", "areas")
    for section in grouped:
        body = html.split(f'<section id="{section}">')[1].split("</section>")[0]
        captions = [c.split("</figcaption>")[0] for c in body.split("<figcaption>")[1:]]
        assert captions, section
        for caption in captions:
            if section == "areas" and "need group" not in caption:
                continue  # the areas' own chart shows no need groups
            assert caption.endswith("Need groups: the plan&#x27;s rules."), (section, caption)


def test_rules_beside_the_panel(page: Page) -> None:
    assert page.sections["rules-panel"] == "Rules beside the panel"
    labels = _texts(page, "table-rules-panel", "label")
    assert labels == [
        "A1 Domestic abuse",
        "A2 Family conflict",
        "B1 Parental mental health",
        "Cases the panel did not audit (the rule placed them)",
        "Cases the panel could not place in a need group",
    ]
    both = column(page, "table-rules-panel", "both")
    assert [c.text for c in both] == ["14", "9", "c", ":", ":"]  # null: not available
    assert _texts(page, "table-rules-panel", "rules_only") == ["5", "0", "4", "11", ":"]
    assert _texts(page, "table-rules-panel", "panel_only")[4] == "6"
    precision = column(page, "table-rules-panel", "precision")[0]
    assert precision.text == "73.7% (51.0% to 88.0%)"
    assert precision.attrs["data-low-source"] == "precision_low"
    assert _texts(page, "table-rules-panel", "recall")[1] == "81.8% (52.0% to 95.0%)"


def test_disagreements_are_listed_when_present(page: Page) -> None:
    assert _texts(page, "table-disagreements", "case_id") == ["P-0002", "P-0007"]
    assert _texts(page, "table-disagreements", "rule_label") == [
        "A1 Domestic abuse",
        "Not in any need group",
    ]
    assert _texts(page, "table-disagreements", "deciding") == ["cin.3A", ""]
    without = parse(render_report(_input(tables={"rules_panel": RULES_PANEL})))
    assert "table-rules-panel" in without.tables
    assert "table-disagreements" not in without.tables


def test_sections_of_absent_tables_are_left_out() -> None:
    page = parse(render_report(_input(tables={})))
    assert "rules-panel" not in page.sections
    assert "outcomes" not in page.sections
    assert "matching" in page.sections  # a section of the method says what it needs


def test_outcomes(page: Page) -> None:
    assert page.sections["outcomes"] == "Outcomes"
    assert _texts(page, "table-outcomes", "group_label") == [
        "A1 Domestic abuse",
        "A2 Family conflict",
    ]
    assert _texts(page, "table-outcomes", "achieved_share")[0] == "55.0% (34.0% to 74.0%)"
    assert _texts(page, "table-outcomes", "achieved") == ["11", "c"]
    services = _texts(page, "table-outcomes-by-service", "service_label")
    assert services == ["S1 Domestic abuse programme", "S2 Family therapy"]
    assert _texts(page, "table-outcomes-by-service", "achieved_share") == [
        "66.7% (39.0% to 86.0%)",
        ":",
    ]


def test_match_status_and_received_below_threshold(page: Page) -> None:
    assert _texts(page, "table-matching", "status") == ["met", "unplanned", ":", "partly met"]
    assert _texts(page, "table-matching", "received_below_threshold") == ["0", "6", "0", "2"]
    matrix = page.tables["matrix-matching"]
    a2 = next(c for c in matrix[1] if c.attrs.get("data-service") == "S2")
    assert a2.text == "received 4unmet 5 partly met"  # the parser joins the lines


def test_demand_of_unknown_group(page: Page) -> None:
    assert _texts(page, "table-capacity", "unknown_upper") == ["120", "41"]
    bare = parse(render_report(_input(tables={"capacity": CAPACITY.drop(["unknown_upper"])})))
    assert "table-capacity" in bare.tables
    assert all(
        c.attrs.get("data-column") != "unknown_upper" for c in bare.tables["table-capacity"][0]
    )


def test_what_disclosure_control_withheld() -> None:
    page = parse(render_report(_input(withheld=WITHHELD, min_count=5)))
    assert _texts(page, "table-withheld", "table") == ["profile", "match", "rules_panel"]
    assert _texts(page, "table-withheld", "loss") == ["5.0%", "0.0%", "12.0%"]
    why = _texts(page, "table-withheld", "why")
    assert why[0] == (
        "5 small counts; 3 cells that would let a small count be worked out; "
        "12 shares, rates or intervals built on a withheld count"
    )
    assert why[1] == "nothing withheld"
    assert why[2].startswith("1 small count; 2 cells")
    assert "In all, 26 of the 550 published cells were withheld (4.7%)" in page.text


def test_withheld_must_have_its_columns() -> None:
    with pytest.raises(ValueError, match=r"withheld: missing column.*secondary, derived"):
        _input(withheld=WITHHELD.drop(["secondary", "derived"]))


@pytest.mark.parametrize(
    ("census", "words"),
    [
        (True, "take the audited cases to be every case of the year (a census)"),
        (False, "scale the audited cases up to the year's cases (the sampling fraction)"),
    ],
)
def test_the_report_says_whether_annual_figures_assume_a_census(census: bool, words: str) -> None:
    page = parse(render_report(_input(census=census)))
    assert f"Annual figures {words}" in page.text
    assert "Annual figures" not in parse(render_report(_input())).text
