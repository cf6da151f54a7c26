"""The report's sections for costs, placements, targets and what works with whom, rendered
from small hand-made audits: each shows the analyses' numbers, sums the joint budget by
hand, and labels the comparison as an association."""

from __future__ import annotations

import attrs
import pytest

import mns
from mns.disclosure import disclose_all, publication
from mns.report import ReportInput, render_report
from tests.report.parse import Page, column, parse

from ._data import cases_table
from .test_budget import CASES as COST_CASES, _costed
from .test_placements import CASES as PLACED, SERVICES as PLACEMENTS
from .test_what_works import CASES, OUTCOMES, SERVICES, _plan


def _page(min_count: int | None = None) -> tuple[Page, dict[str, object]]:
    plan = attrs.evolve(_costed(), outcomes=_plan(share=0.15).outcomes)
    outcomes = mns.outcomes(CASES, OUTCOMES, SERVICES, plan=plan)
    tables = {
        "capacity": mns.capacity(
            cases_table(COST_CASES), plan=plan, weighting=mns.Weighting.census()
        ),
        "budget": mns.budget(cases_table(COST_CASES), plan=plan, weighting=mns.Weighting.census()),
        "placements": mns.placements(
            cases_table(PLACED), PLACEMENTS, weighting=mns.Weighting.census()
        ),
        "outcomes": outcomes,
        "what_works": mns.what_works(CASES, OUTCOMES, SERVICES, plan=plan),
        "outcomes_change": mns.outcomes_change(outcomes, outcomes),
    }
    suppressed: dict[str, frozenset[tuple[int, str]]] = {n: frozenset() for n in tables}
    shown = dict(tables)
    if min_count is not None:
        done = disclose_all(
            tables,
            min_count,
            structures={n: publication(n).structure_for(t) for n, t in tables.items()},
        )
        shown = {n: d.table for n, d in done.tables.items()}
        suppressed = {
            n: frozenset(
                zip(
                    d.suppressed["row"].to_pylist(), d.suppressed["column"].to_pylist(), strict=True
                )
            )
            for n, d in done.tables.items()
        }
    ri = ReportInput(
        title="New sections", plan=plan, tables=shown, suppressed=suppressed, min_count=min_count
    )
    return parse(str(render_report(ri))), dict(tables)


def _texts(page: Page, table: str, name: str) -> list[str]:
    return [c.text for c in column(page, table, name)]


def test_the_sections_are_there_in_order() -> None:
    page, _ = _page()
    ids = list(page.sections)
    wanted = ["capacity", "costs", "placements", "outcomes", "targets", "what-works"]
    assert [i for i in ids if i in wanted] == wanted
    assert page.sections["costs"] == "Costs and the joint budget"
    assert page.sections["what-works"] == "What works with whom"


def test_the_joint_budget_adds_each_agencys_shares_by_hand() -> None:
    page, _ = _page()
    # s1: 3 cases a year at 1,000 (census), 60% health, 40% social care; capacity 10 cases
    # a year; s3: 1 case at 13 weeks x 20; 4 places take on 16 cases a year
    assert _texts(page, "table-budget-agencies", "agency") == [
        "(not stated)",
        "health",
        "social_care",
    ]
    assert _texts(page, "table-budget-agencies", "demand") == ["260", "1,800", "1,200"]
    assert _texts(page, "table-budget-agencies", "provision") == ["4,160", "6,000", "4,000"]
    places = dict(
        zip(
            _texts(page, "table-places-costs", "label"),
            _texts(page, "table-places-costs", "places_needed"),
            strict=True,
        )
    )
    assert places["s1 Service 1"].startswith("1.5 ")  # 3 a year x 26 / 52


def test_what_works_says_it_is_an_association() -> None:
    page, _ = _page()
    assert "observational association, not the effect of the service" in page.text
    assert _texts(page, "table-what-works", "recorded") == ["3"]
    assert _texts(page, "table-what-works", "other_recorded") == ["3"]
    assert _texts(page, "table-what-works", "difference")[0].startswith("33.3% (")
    assert _texts(page, "table-targets", "meets_target") == ["yes"]
    assert _texts(page, "table-placements", "children") == ["1", "2", "1"]  # K2, U4, U6


def test_withheld_numbers_show_as_c_in_the_new_sections() -> None:
    page, _ = _page(min_count=3)
    # every count in the hand-made what-works table is 3 or less with complements: withheld
    # cells show c, and a comparison is never shown beside a withheld count
    rows = zip(
        _texts(page, "table-what-works", "recorded"),
        _texts(page, "table-what-works", "difference"),
        strict=True,
    )
    for recorded, difference in rows:
        if recorded == "c":
            assert difference == "c"
    assert "c" in _texts(page, "table-placements", "children")
    # an agency's total is c exactly when one of its services' shares is withheld
    budget = _texts(page, "table-budget-shares", "agency_cost")
    assert ("c" in _texts(page, "table-budget-agencies", "demand")) == any(t == "c" for t in budget)


@pytest.mark.parametrize("name", ["budget", "placements", "what_works", "outcomes_change"])
def test_every_new_table_is_declared_and_shown(name: str) -> None:
    from mns.report.sections import shown_tables

    assert publication(name).audience == "public"
    assert name in shown_tables()
