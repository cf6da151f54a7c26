"""``mns.teams``: caseloads by team and need group and how concentrated each team's work is,
by hand; and disclosure control withholds a team's small counts and, with them, its
concentration."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pytest

import mns
from mns.analyses.teams import NOT_RECORDED, has_teams
from mns.disclosure import Structure, structure_of

from ._data import PLAN, split


def _cases(rows: Sequence[tuple[str | None, str | None]]) -> pa.Table:
    """Cases of (team, need group), numbered."""
    return pa.table(
        {
            "case_id": [f"c{i}" for i in range(len(rows))],
            "team": pa.array([t for t, _ in rows], pa.string()).dictionary_encode(),
            "need_group": pa.array([g for _, g in rows], pa.string()),
        }
    )


# North: 6 A, 2 B, 2 unassigned (no need group); South: 1 A, 4 B, 5 C; one case with no team.
CASES = _cases(
    [("N", "A")] * 6
    + [("N", "B")] * 2
    + [("N", "unassigned")] * 2
    + [("S", "A")]
    + [("S", "B")] * 4
    + [("S", "C")] * 5
    + [(None, "C")]
)


def _rows(table: pa.Table) -> dict[tuple[Any, Any], dict[str, Any]]:
    return {(r["team"], r["need_group"]): r for r in table.to_pylist()}


def test_caseloads_and_concentration_by_hand() -> None:
    rows = _rows(mns.teams(CASES, plan=PLAN))
    # every need group of the plan, then unassigned and unknown, for every team
    assert {g for t, g in rows if t == "N"} == {"A", "B", "C", "unassigned", "unknown", None}
    north, south = rows[("N", None)], rows[("S", None)]
    assert north["cases"] == 10
    assert south["cases"] == 10
    assert rows[("N", "A")]["cases"] == 6
    assert rows[("N", "C")]["cases"] == 0
    assert rows[("N", "A")]["team_share"] == pytest.approx(6 / 10)
    assert rows[("N", "A")]["group_share"] == pytest.approx(6 / 7)  # of the 7 cases in A
    # North's measures are over its 8 cases in need groups (unassigned left out)
    assert north["grouped"] == 8
    assert north["largest_group"] == "A"
    assert north["largest_cases"] == 6
    assert north["largest_share"] == pytest.approx(6 / 8)
    assert north["hhi"] == pytest.approx((6 / 8) ** 2 + (2 / 8) ** 2)  # 0.625
    assert north["effective_groups"] == pytest.approx(1 / 0.625)  # 1.6
    assert south["grouped"] == 10
    assert south["largest_group"] == "C"
    assert south["largest_share"] == pytest.approx(0.5)
    assert south["hhi"] == pytest.approx(0.01 + 0.16 + 0.25)  # 0.42
    # the case with no team is a team of its own, so each group's teams add up to its size
    assert rows[(NOT_RECORDED, "C")]["cases"] == 1
    assert rows[(NOT_RECORDED, None)]["hhi"] == pytest.approx(1.0)
    assert sum(r["cases"] for (t, g), r in rows.items() if g == "C" and t is not None) == 6
    # cell rows carry no measures; the team's row no shares of its own
    assert rows[("N", "A")]["hhi"] is None
    assert north["team_share"] is None


def test_ties_go_to_the_first_group_and_a_team_with_no_need_group_has_no_measures() -> None:
    rows = _rows(mns.teams(_cases([("T", "B"), ("T", "A"), ("U", "unassigned")]), plan=PLAN))
    assert rows[("T", None)]["largest_group"] == "A"  # A and B have one case each
    assert rows[("T", None)]["hhi"] == pytest.approx(0.5)
    assert rows[("U", None)]["grouped"] == 0
    assert rows[("U", None)]["hhi"] is None
    assert rows[("U", None)]["largest_group"] is None


def test_streamed_is_one_shot() -> None:
    whole = mns.teams(CASES, plan=PLAN)
    assert mns.teams(split(CASES, [0, 3, 11]), plan=PLAN).equals(whole)


def test_a_team_column_is_needed() -> None:
    assert has_teams(CASES)
    assert not has_teams(CASES.drop_columns(["team"]))
    assert not has_teams(CASES.set_column(1, "team", pa.nulls(CASES.num_rows, pa.string())))
    with pytest.raises(mns.SchemaError, match="team"):
        mns.teams(CASES.drop_columns(["team"]))


def test_a_team_with_one_to_four_cases_in_a_group_is_withheld_with_its_measures() -> None:
    table = mns.teams(CASES, plan=PLAN)
    structure = structure_of(table)
    assert isinstance(structure, Structure)
    assert set(structure.across) >= {"hhi", "largest_share", "largest_group"}
    done = mns.disclose(table)
    shown = _rows(done.table)
    # South has 1 in A and 4 in B: both withheld, and so are South's measures
    assert shown[("S", "A")]["cases"] is None
    assert shown[("S", "B")]["cases"] is None
    for column in ("hhi", "largest_share", "largest_group", "largest_cases", "grouped"):
        assert shown[("S", None)][column] is None, column
    # North has 2 in B and 2 unassigned: withheld too; no count from 1 to 4 is published
    assert shown[("N", "B")]["cases"] is None
    published = [r["cases"] for r in done.table.to_pylist() if r["cases"] is not None]
    assert all(c == 0 or c >= 5 for c in published)
    # the teams' sizes (10 each) stay published
    assert shown[("N", None)]["cases"] == 10
    assert shown[("S", None)]["cases"] == 10


def test_a_team_whose_counts_are_all_published_keeps_its_measures() -> None:
    cases = _cases([("N", "A")] * 10 + [("N", "B")] * 5 + [("S", "A")] * 5 + [("S", "C")] * 6)
    done = mns.disclose(mns.teams(cases, plan=PLAN))
    north = _rows(done.table)[("N", None)]
    assert north["hhi"] == pytest.approx((10 / 15) ** 2 + (5 / 15) ** 2)
    assert north["largest_group"] == "A"
