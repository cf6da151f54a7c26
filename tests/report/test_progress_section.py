"""Progress since the last plan: the report's section from hand-made inputs, checked by hand,
and ``run_audit``/``mns audit`` taking the previous plan through to the folder and report."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import mns
from mns.plan import plan_from_dict, save_plan
from mns.report import ReportInput, render_report
from tests.plan.test_plan_changes import _pair
from tests.report import handmade
from tests.report.parse import column, parse


def _compare(plan: mns.Plan) -> pa.Table:
    # baseline: A1 6, M1 4 (10 cases); now: A1 3, M1 5, N1 2 (10 cases)
    baseline = pa.table({"need_group": ["A1"] * 6 + ["M1"] * 4})
    now = pa.table({"need_group": ["A1"] * 3 + ["M1"] * 5 + ["N1"] * 2})
    return mns.compare(baseline, now, plan=plan)


def _report(**tables: pa.Table | None) -> ReportInput:
    previous, current = _pair()
    given = {"plan_changes": mns.plan_changes(previous, current), "compare": _compare(current)}
    given.update(tables)
    compare = given.get("compare")
    suppressed: dict[str, frozenset[tuple[int, str]]] = {}
    if compare is not None:  # N1's 2 cases now withheld by hand
        n1 = compare.column("need_group").to_pylist().index("N1")
        suppressed["compare"] = frozenset({(n1, "reaudit"), (n1, "reaudit_share")})
    return ReportInput(
        title="Progress",
        plan=current,
        tables={k: v for k, v in given.items() if v is not None},
        suppressed=suppressed,
    )


def test_the_plans_changes_beside_the_change_in_needs() -> None:
    page = parse(render_report(_report()))
    assert page.sections["progress"] == "Progress since the last plan"
    table = "table-progress-groups"
    labels = [c.text for c in column(page, table, "label")]
    assert labels == [
        "A1 Children living with domestic abuse",
        "M1 Adolescents and families",
        "B1a Babies of parents who misuse drugs",
        "B1b Older children of parents who misuse",
        "R9 Young carers",
        "N1 Disabled children",
        "A2 Family conflict (last plan)",
        "A3 Family breakdown (last plan)",
        "B1 Parents who misuse drugs (last plan)",
        "X9 Young carers (last plan)",
    ]
    assert [c.text for c in column(page, table, "plan")] == [
        "name changed",
        "new; A2 merged into it; A3 merged into it",
        "new; part of B1 (split)",
        "new; part of B1 (split)",
        "was X9; rule changed",
        "new",
        "merged into M1",
        "merged into M1",
        "split into B1a, B1b",
        "now R9",
    ]
    # the compare table's cells, with their symbols: A1 6 of 10 then 3 of 10
    baseline = column(page, table, "baseline")
    assert [c.text for c in baseline[:2]] == ["6", "4"]
    assert baseline[0].attrs["data-table"] == "compare"
    now = column(page, table, "reaudit")
    assert [c.text for c in now[:2]] == ["3", "5"]
    assert now[5].text == "c"  # N1's 2 cases, withheld
    change = column(page, table, "change")
    assert change[0].attrs["data-value"] == repr(0.3 - 0.6)
    assert change[1].text.startswith("10.0%")  # 4 of 10 -> 5 of 10
    # groups the audits do not have show no numbers
    assert [c.text for c in baseline[6:]] == ["\u2013"] * 4


def test_the_services_places_and_costs_by_hand() -> None:
    page = parse(render_report(_report()))
    table = "table-progress-services"
    assert [c.text for c in column(page, table, "label")] == [
        "s1 Foster care",
        "s2 Family support",
        "s4 Young carers project",
        "s3 Drop-in",
    ]
    assert [c.text for c in column(page, table, "change")] == [
        "changed",
        "changed",
        "added",
        "withdrawn",
    ]
    assert [c.text for c in column(page, table, "fields")] == [
        "need groups, capacity",
        "need groups, unit cost",
        "",
        "",
    ]
    # s1: 20 cases a year at 2,600 = 52,000, then 24 = 62,400; s2: 40 x 500, then x 600;
    # s4 added at 20 x 250; s3 withdrawn at 5 x 1,000
    cost = [c.text for c in column(page, table, "provision_cost_difference")]
    assert cost == ["10,400", "4,000", "5,000", "-5,000"]
    assert [c.text for c in column(page, table, "provision_cost_before_value")] == [
        "52,000",
        "20,000",
        "z",
        "5,000",
    ]
    places = column(page, table, "places_available_after_value")
    assert [c.text for c in places] == ["12", "\u2013", "\u2013", "z"]
    assert places[0].attrs["data-table"] == "plan_changes"
    # the key figures: the plans' totals
    assert "77,000 \u2192 91,400 cost of the planned capacity a year" in page.text
    assert "5 \u2192 6 need groups" in page.text
    every = page.tables["table-progress-changes"]
    assert len(every) == len(
        [
            r
            for r in _report().tables["plan_changes"].to_pylist()
            if r["change"] != "unchanged"
            and r["field"]
            not in ("cases_available", "places_available", "cost_per_case", "provision_cost")
        ]
    )


def test_without_a_baseline_or_a_previous_plan_the_section_says_what_it_needs() -> None:
    page = parse(render_report(_report(compare=None)))
    assert "No baseline audit was given" in page.text
    assert "baseline" not in {
        c.attrs.get("data-column") for row in page.tables["table-progress-groups"] for c in row
    }
    page = parse(render_report(_report(plan_changes=None)))
    assert page.sections["progress"] == "Progress since the last plan"
    assert "No previous plan was given (mns audit --previous-plan PLAN.toml)." in page.text
    assert "table-progress-groups" not in page.tables


# --- through the audit -----------------------------------------------------------------------


def _previous(tmp_path: Path) -> Path:
    """The handmade plan's previous cycle: no B1 yet, therapy with 15 places of capacity."""
    raw: dict[str, Any] = copy.deepcopy(handmade.PLAN)
    raw["plan"] = {"name": "Handmade plan 2022", "language": "cin"}
    raw["need_group"] = raw["need_group"][:2]
    raw["service"][1] = {**raw["service"][1], "need_groups": ["A2"], "capacity": 15}
    path = tmp_path / "plan-2022.toml"
    save_plan(plan_from_dict(raw), path)
    return path


def test_the_audit_writes_the_plan_changes_and_its_report_shows_them(tmp_path: Path) -> None:
    from mns.audit import load_result

    result = handmade.result(previous_plan=_previous(tmp_path))
    table = result.published["plan_changes"]
    assert result.suppressed["plan_changes"] == frozenset()
    rows = {(r["kind"], r["code"], r["change"], r["field"]) for r in table.to_pylist()}
    assert ("need_group", "B1", "added", None) in rows
    capacity = [r for r in table.to_pylist() if r["code"] == "S2" and r["field"] == "capacity"]
    assert (capacity[0]["before"], capacity[0]["after"], capacity[0]["difference"]) == (
        "15",
        "20",
        5.0,
    )
    out = result.write(tmp_path / "audit").parent
    assert (out / "plan_changes.csv").is_file()
    page = parse(render_report(load_result(out)))
    assert page.sections["progress"] == "Progress since the last plan"
    labels = [c.text for c in column(page, "table-progress-groups", "plan")]
    assert labels == ["unchanged", "unchanged", "new"]
    # the baseline's group sizes sit beside them, as published
    compare = result.published["compare"].to_pylist()
    a1 = next(r for r in compare if r["need_group"] == "A1")
    assert column(page, "table-progress-groups", "baseline")[0].text == str(a1["baseline"])


def test_a_replaces_naming_no_previous_group_stops_the_audit_naming_the_plan_file(
    tmp_path: Path,
) -> None:
    raw: dict[str, Any] = copy.deepcopy(handmade.PLAN)
    raw["need_group"][2] = {**raw["need_group"][2], "replaces": ["Q7"]}
    plan = tmp_path / "plan.toml"
    save_plan(plan_from_dict(raw), plan)
    with pytest.raises(mns.PlanError) as caught:
        mns.run_audit(
            handmade._records(20, "C", 0), plan, previous_plan=_previous(tmp_path), census=True
        )
    assert caught.value.file == str(plan)
    assert caught.value.item == "B1"
    assert str(plan) in caught.value.message
    assert "'Q7' is no need group" in caught.value.message
    with pytest.raises(TypeError, match="previous_plan"):
        mns.run_audit(handmade._records(20, "C", 0), plan, previous_plan=3, census=True)  # type: ignore[arg-type]


def test_mns_audit_takes_the_previous_plan(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from mns.cli import cli
    from mns.plugins.manager import Manager, use_manager

    records = tmp_path / "records"
    mns.write(handmade._records(80, "C", 0), records)
    plan = tmp_path / "plan.toml"
    save_plan(handmade.plan(), plan)
    previous = _previous(tmp_path)
    args: list[Any] = ["audit", str(records), "--plan", str(plan), "--census"]
    with use_manager(Manager(autoload=False)):
        run = CliRunner().invoke(
            cli,
            [*args, "--previous-plan", str(previous), "--out", str(tmp_path / "a")],
            catch_exceptions=False,
        )
        assert run.exit_code == 0, run.output
        written = (tmp_path / "a" / "plan_changes.csv").read_text("utf-8")
        assert "need_group,B1,added" in written
        assert "Progress since the last plan" in (tmp_path / "a" / "report.html").read_text("utf-8")
        # a plan whose replaces names no group of the previous plan fails before the reading
        raw: dict[str, Any] = copy.deepcopy(handmade.PLAN)
        raw["need_group"][2] = {**raw["need_group"][2], "replaces": ["Q7"]}
        bad = tmp_path / "bad-plan.toml"
        save_plan(plan_from_dict(raw), bad)
        run = CliRunner().invoke(
            cli,
            [
                "audit",
                str(records),
                "--plan",
                str(bad),
                "--census",
                "--previous-plan",
                str(previous),
                "--out",
                str(tmp_path / "b"),
            ],
        )
        assert run.exit_code == 1
        assert "'Q7' is no need group of the previous plan" in run.output
        assert "bad-plan.toml" in run.output
        assert not (tmp_path / "b").exists()
