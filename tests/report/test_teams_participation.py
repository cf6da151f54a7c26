"""Teams around need groups and who took part: the report's sections from hand-made inputs,
``participation.toml`` read with errors that name the file, the item and the fix, and
``mns audit`` finding it beside the audited records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa
import pytest

import mns
from mns.errors import MnsError
from mns.participation import (
    Participation,
    People,
    ServiceUsers,
    dump_participation,
    load_participation,
    participation_from_dict,
)
from mns.report import ReportInput, render_report
from mns.report.sections.teams import hhi_bounds
from tests.report import handmade
from tests.report.parse import column, parse

TOML = """\
[participation]
feedback_given = true
feedback = "The findings went back to the shadow group in June."

[[group]]
name = "Panel"
role = "professional"
meetings = 4
professionals = { "social care" = 3, health = 2 }

[[group]]
name = "Shadow group"
role = "shadow"
meetings = 3
[group.service_users]
current = { young_people = 3, adults = 2 }
past = { young_people = 1 }
never_served = { adults = 2 }
"""


def _participation(tmp_path: Path) -> Participation:
    path = tmp_path / "participation.toml"
    path.write_text(TOML, "utf-8")
    return load_participation(path)


def test_a_participation_file_reads_and_round_trips(tmp_path: Path) -> None:
    p = _participation(tmp_path)
    assert p.feedback_given is True
    panel, shadow = p.groups
    assert panel.professionals == {"social care": 3, "health": 2}
    assert panel.members == 5
    assert shadow.service_users == ServiceUsers(
        current=People(young_people=3, adults=2),
        past=People(young_people=1),
        never_served=People(adults=2),
    )
    assert shadow.members == 8
    import tomllib

    assert participation_from_dict(tomllib.loads(dump_participation(p))) == p


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            '[[group]]\nname = "Panel"\nrole = "panel"\n',
            ["x.toml", "group[0] (name 'Panel')", "role 'panel' is not allowed", "'professional'"],
        ),
        (
            '[[group]]\nname = "Panel"\nrole = "shadow"\nmeetings = "three"\n',
            ["group[0] (name 'Panel') field meetings", "expected a whole number"],
        ),
        (
            '[[group]]\nname = "S"\nrole = "shadow"\n[group.service_users]\n'
            "current = { children = 2 }\n",
            ["field service_users.current", "unknown key 'children'", "'young_people'"],
        ),
        (
            '[[group]]\nname = "P"\nrole = "planning"\nmeetings = -1\n',
            ["meetings = -1", "0 or more"],
        ),
        ("[participation]\nfeedback_given = true\n", ["no groups", "add a [[group]]"]),
        ('[[groups]]\nname = "P"\n', ["unknown top-level key 'groups'", "[[group]]"]),
        (
            '[[group]]\nname = "P"\nrole = "planning"\n[[group]]\nname = "P"\nrole = "shadow"\n',
            ["'P' is used twice"],
        ),
    ],
)
def test_mistakes_name_the_file_the_item_and_the_fix(
    tmp_path: Path, text: str, words: list[str]
) -> None:
    path = tmp_path / "x.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(MnsError) as caught:
        load_participation(path)
    assert caught.value.file == str(path)
    for word in words:
        assert word in str(caught.value)


def _report(**changes: Any) -> ReportInput:
    return attrs.evolve(ReportInput(title="Teams", plan=handmade.plan(), tables={}), **changes)


def test_who_took_part(tmp_path: Path) -> None:
    page = parse(render_report(_report(participation=_participation(tmp_path))))
    assert page.sections["participation"] == "Who took part"
    texts = {
        name: [c.text for c in column(page, "table-participation", name)]
        for name in ("name", "meetings", "professionals", "current", "past", "never", "young")
    }
    assert texts["name"] == ["Panel", "Shadow group"]
    assert texts["meetings"] == ["4", "3"]
    assert texts["professionals"] == ["5", "0"]
    assert texts["current"] == ["0", "5"]
    assert texts["past"] == ["0", "1"]
    assert texts["never"] == ["0", "2"]
    assert texts["young"] == ["0", "4"]
    assert "Feedback was given to the service users who took part." in page.text
    agencies = [c.text for c in column(page, "table-participation-agencies", "agencies")]
    assert agencies == ["social care 3; health 2", "none"]
    # without a record of who took part there is no section
    assert "participation" not in parse(render_report(_report())).sections


def test_teams_section_shows_the_published_measures_or_their_range() -> None:
    cases = pa.table(
        {
            "case_id": [f"c{i}" for i in range(26)],
            "team": ["N"] * 15 + ["S"] * 11,
            "need_group": ["A1"] * 10 + ["A2"] * 5 + ["A1"] * 5 + ["A2"] * 2 + ["B1"] * 4,
        }
    )
    table = mns.teams(cases, plan=handmade.plan())
    # withheld by hand: S's 2 in A2 and 4 in B1, and with them S's measures
    rows = {(r["team"], r["need_group"]): i for i, r in enumerate(table.to_pylist())}
    cells = {(rows[("S", "A2")], "cases"), (rows[("S", "B1")], "cases")}
    cells |= {
        (rows[("S", None)], c)
        for c in ("grouped", "largest_group", "largest_cases", "largest_share", "hhi")
    }
    cells |= {(rows[("S", None)], "effective_groups")}
    page = parse(
        render_report(_report(tables={"teams": table}, suppressed={"teams": frozenset(cells)}))
    )
    assert page.sections["teams"] == "Teams around need groups"
    teams = [c.text for c in column(page, "table-teams", "team")]
    assert teams == ["N", "S"]
    hhi = [c.text for c in column(page, "table-teams", "hhi_range")]
    # N: 10 of 15 in A1, 5 in A2, all published: its index; S: 5 of 11 in A1 published,
    # 6 in two withheld cells: from 5/11 squared + 2 x (3/11) squared to + (6/11) squared
    assert hhi[0] == f"{(10 / 15) ** 2 + (5 / 15) ** 2:.2f}"  # 0.56
    low, high = hhi_bounds(11, [5], 2) or (0.0, 0.0)
    assert low == pytest.approx((5 / 11) ** 2 + (6 / 11) ** 2 / 2)
    assert high == pytest.approx((5 / 11) ** 2 + (6 / 11) ** 2)
    assert hhi[1] == f"{low:.2f} to {high:.2f}" == "0.36 to 0.50"
    assert [c.text for c in column(page, "table-teams", "largest_share")] == ["66.7%", "c"]
    assert [c.text for c in column(page, "table-teams", "largest_label")] == [
        "A1 Domestic abuse",
        "c",
    ]


def test_hhi_bounds() -> None:
    assert hhi_bounds(None, [3], 1) is None
    assert hhi_bounds(0, [], 0) is None
    assert hhi_bounds(10, [5, 5], 0) == (0.5, 0.5)


def test_the_audit_carries_who_took_part_to_its_folder(tmp_path: Path) -> None:
    from mns.audit import load_result

    p = _participation(tmp_path)
    result = handmade.result(participation=p)
    assert result.participation == p
    assert "Who took part" in result.report()
    out = result.write(tmp_path / "audit").parent
    assert load_participation(out / "participation.toml") == p
    assert load_result(out).participation == p
    # the handmade records carry no team: no table of teams
    assert "teams" not in result.tables


def test_mns_audit_reads_who_took_part_beside_the_records(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from mns.cli import cli
    from mns.plan import save_plan
    from mns.plugins.manager import Manager, use_manager

    records = tmp_path / "records"
    mns.write(handmade._records(80, "C", 0), records)
    (records / "participation.toml").write_text(TOML, "utf-8")
    plan = tmp_path / "plan.toml"
    save_plan(handmade.plan(), plan)
    with use_manager(Manager(autoload=False)):
        run = CliRunner().invoke(
            cli,
            ["audit", str(records), "--plan", str(plan), "--census", "--out", str(tmp_path / "a")],
            catch_exceptions=False,
        )
        assert run.exit_code == 0, run.output
        assert load_participation(tmp_path / "a" / "participation.toml") == _participation(tmp_path)
        assert "Who took part" in (tmp_path / "a" / "report.html").read_text("utf-8")
        # a mistake in the file stops the audit before the records are read, naming it
        bad = tmp_path / "bad.toml"
        bad.write_text('[[group]]\nname = "P"\nrole = "panel"\n', "utf-8")
        run = CliRunner().invoke(
            cli,
            [
                "audit",
                str(records),
                "--plan",
                str(plan),
                "--census",
                "--participation",
                str(bad),
                "--out",
                str(tmp_path / "b"),
                "--json",
            ],
        )
        assert run.exit_code == 1
        assert "bad.toml" in run.output
        assert "role 'panel' is not allowed" in run.output


def test_reading_a_folder_leaves_its_participation_file_alone(tmp_path: Path) -> None:
    (tmp_path / "cases.csv").write_text("case_id,team\nc1,North\nc2,\n", "utf-8")
    (tmp_path / "participation.toml").write_text(TOML, "utf-8")
    records = mns.read(tmp_path)
    assert records.cases.column("team").to_pylist() == ["North", None]
    assert not any("participation" in str(s) for s in records.issues.column("source").to_pylist())
