"""The report's charts and key figures checked against the published tables on the edge
cases a real audit meets: every case unknown (the fields the rules need missing), one need
group and one audit group, no assignments at all, and an area with no cases."""

from __future__ import annotations

import re
from typing import Any

import attrs
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from mns.audit import AuditResult, run_audit
from mns.records import schema
from mns.records.bundle import Records
from mns.report import charts
from mns.report.html import format_value

from . import handmade

_TICK = re.compile(r'id="[^"]*-([xy])tick_\d+">.*?<text[^>]*>([^<]*)</text>', re.S)
_CARDS = re.compile(r"<li><b>([^<]*)</b>([^<]*)</li>")
_INDICATORS = ("cin.3A", "cin.3B", "cin.21", "cin.4B")


def _with_flags(records: Records, values: dict[str, bool | None]) -> Records:
    cases = records.cases
    for name, value in values.items():
        i = cases.schema.get_field_index(name)
        column = pa.array([value] * cases.num_rows, pa.bool_())
        cases = cases.set_column(i, cases.schema.field(name), column)
    return attrs.evolve(records, cases=cases)


def _all_unknown() -> AuditResult:
    records = _with_flags(handmade._records(40, "C", 0), dict.fromkeys(_INDICATORS))
    records = attrs.evolve(records, assignments=schema.empty("assignments"))
    return run_audit(records, handmade.plan(), census=True, title="All unknown")


def _one_group() -> AuditResult:
    flags: dict[str, bool | None] = {name: name == "cin.3A" for name in _INDICATORS}
    records = _with_flags(handmade._records(40, "C", 0), flags)
    ids = records.cases.column("case_id").to_pylist()
    assignments = pa.table(
        {
            "case_id": ids,
            "audit": ["handmade"] * len(ids),
            "role": ["professional"] * len(ids),
            "need_group": ["A1"] * len(ids),
        }
    )
    records = attrs.evolve(records, assignments=schema.conform(assignments, "assignments"))
    return run_audit(records, handmade.plan(), census=True, title="One group")


def _no_assignments_and_an_empty_area() -> AuditResult:
    records = attrs.evolve(handmade._records(60, "C", 0), assignments=schema.empty("assignments"))
    referrals = handmade._records(200, "R", 2)
    # nobody in EX3 this year, though children live there
    keep = pc.not_equal(referrals.cases.column("area"), "EX3")
    referrals = attrs.evolve(referrals, cases=referrals.cases.filter(keep))
    return run_audit(
        records,
        handmade.plan(),
        referrals=referrals,
        population=handmade.population(),
        title="No assignments, an empty area",
    )


SCENARIOS = {
    "all_unknown": _all_unknown,
    "one_group": _one_group,
    "no_assignments": _no_assignments_and_an_empty_area,
}


@pytest.fixture(scope="module", params=sorted(SCENARIOS))
def audit(request: pytest.FixtureRequest) -> tuple[str, AuditResult, str]:
    result = SCENARIOS[request.param]()
    return request.param, result, result.report()


def _charts(html: str) -> list[str]:
    return re.findall(r"<svg.*?</svg>", html, re.S)


def _ticks(svg: str, axis: str) -> list[str]:
    return [text.strip() for which, text in _TICK.findall(svg) if which == axis]


def _cases_shares(result: AuditResult) -> dict[str, Any]:
    profile = result.published["profile"]
    rows = profile.filter(pc.equal(profile.column("variable"), "cases")).to_pylist()
    return {r["need_group"]: r["share"] for r in rows}


def test_value_axes_start_at_zero_and_tell_their_ticks_apart(
    audit: tuple[str, AuditResult, str],
) -> None:
    _name, _result, html = audit
    svgs = _charts(html)
    assert svgs
    for svg in svgs:
        ticks = _ticks(svg, "x")
        assert not [t for t in ticks if t.startswith(("-", "\u2212"))], ticks
        assert len(ticks) == len(set(ticks)), ticks  # never "0% 0% 1% 1%"


def test_key_figures_agree_with_the_profile_table(audit: tuple[str, AuditResult, str]) -> None:
    name, result, html = audit
    cards = {label: value for value, label in _CARDS.findall(html)}
    shares = _cases_shares(result)
    unknown = "of cases could not be grouped: the fields their group needs are missing"
    unassigned = "of cases fit no need group"
    if name == "all_unknown":
        assert shares["unknown"] == 1.0
        assert cards[unknown] == "100.0%"
        assert unassigned not in cards  # not "0.0% fit no need group" beside 100% unknown
    for code, label in (("unknown", unknown), ("unassigned", unassigned)):
        if label in cards:
            share = shares[code]  # withheld in the table: the card shows the same symbol
            assert cards[label] == ("c" if share is None else format_value(share, "percent"))
    assert cards["cases audited"] == format_value(result.cases.num_rows, "count")


def test_agreement_says_how_many_audit_groups_were_recorded(
    audit: tuple[str, AuditResult, str],
) -> None:
    name, result, html = audit
    none = "No audit group&#x27;s need groups were recorded"
    one = "Only one audit group&#x27;s need groups were recorded"
    if name == "one_group":
        assert none not in html
        assert any(n.startswith("Only one audit group's") for n in result.notes)
    else:
        assert none in html
        assert one not in html
        assert "agreement" not in result.published


def test_heat_maps_mark_withheld_cells_only_where_the_table_withholds(
    audit: tuple[str, AuditResult, str],
) -> None:
    _name, result, html = audit
    withheld = sum(len(cells) for cells in result.suppressed.values())
    marked = sum(
        len(re.findall(r">c</text>", svg)) for svg in _charts(html) if "matplotlib.axis" in svg
    )
    if withheld == 0:
        assert marked == 0
    areas = result.published.get("areas_by_group")
    if areas is not None:
        empty = areas.filter(pc.equal(areas.column("area"), "EX3"))
        assert empty.num_rows > 0
        assert all(c == 0 for c in empty.column("count").to_pylist())


def test_a_percent_axis_over_a_small_range_has_distinct_ticks() -> None:
    svg = charts.bars_with_intervals(
        ["a", "b", "c"],
        [0.001, 0.004, 0.012],
        [0.0, 0.001, 0.008],
        [0.003, 0.007, 0.016],
        xlabel="Share",
        title="small shares",
        salt="small",
        percent=True,
    )
    ticks = _ticks(str(svg), "x")
    assert len(ticks) >= 3
    assert len(ticks) == len(set(ticks)), ticks
    assert any("." in t for t in ticks), ticks


def test_an_all_zero_count_axis_runs_from_zero_on_whole_numbers() -> None:
    svg = charts.stacked_bars(
        ["NG1", "NG2"],
        [("received", [0, 0], "#0072B2"), ("unmet", [0, 0], "#E69F00")],
        xlabel="Cases",
        title="nothing",
        salt="zero",
    )
    ticks = _ticks(str(svg), "x")
    assert ticks[0] == "0"
    assert all(re.fullmatch(r"\d+", t) for t in ticks), ticks


def test_a_heat_map_shows_each_cell_its_own_symbol() -> None:
    svg = str(
        charts.heatmap(
            ["empty group", "small group"],
            ["x", "y"],
            [[float("nan"), "z"], ["c", 0.5]],
            title="symbols",
            salt="symbols",
        )
    )
    assert len(re.findall(r">z</text>", svg)) == 2  # a share of no cases is not applicable
    assert len(re.findall(r">c</text>", svg)) == 1  # only the withheld cell
    assert ">50%</text>" in svg


def test_a_control_character_in_a_label_is_drawn_as_a_space() -> None:
    """An area or group name read with a tab in it has no glyph: it is drawn as a space,
    without matplotlib's "Glyph 9 missing" warning."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph would fail the test
        svg = str(
            charts.bars_with_intervals(
                ["EX\t1", "EX2"],
                [0.2, 0.4],
                [0.1, 0.3],
                [0.3, 0.5],
                xlabel="Share",
                title="tabs",
                salt="tabs",
                percent=True,
            )
        )
    assert "EX 1" in svg
