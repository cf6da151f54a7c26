"""``mns.placements``: looked-after children by need group and placement type, by hand and
with its invariants (groups add up to the type, streamed == one-shot)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pyarrow as pa
import pytest
from hypothesis import given, settings, strategies as st

import mns
from mns.analyses.placements import OUTSIDE_KEY, has_placements, placement_codes
from mns.plan.model import Service
from mns.records import schema

from ._data import PLAN, cases_table, split

D = dt.date


def _case(i: int, group: str) -> dict[str, Any]:
    return {"case_id": f"c{i}", "need_group": group, "cohort": "looked_after", "la": "Q900"}


CASES = [_case(0, "A"), _case(1, "A"), _case(2, "A"), _case(3, "B")]


def episodes(rows: list[tuple[str, str, str | None, D | None, D | None]]) -> pa.Table:
    """Service episodes: (case_id, service, detail, start, end)."""
    return schema.conform(
        pa.table(
            {
                "case_id": [r[0] for r in rows],
                "service": [r[1] for r in rows],
                "detail": [r[2] for r in rows],
                "start_date": pa.array([r[3] for r in rows], pa.date32()),
                "end_date": pa.array([r[4] for r in rows], pa.date32()),
            }
        ),
        "services",
    )


SERVICES = episodes(
    [
        ("c0", "placement", "U4", D(2025, 1, 1), D(2025, 1, 29)),  # 4 weeks
        ("c0", "placement", "U6", D(2025, 2, 1), None),  # open
        ("c1", "placement", "U4", D(2025, 1, 1), D(2025, 3, 12)),  # 10 weeks
        ("c3", "placement", "K2", D(2025, 1, 1), None),  # open
        ("c2", "looked_after", "U4", D(2025, 1, 1), D(2025, 1, 8)),  # not a placement code
        ("c3", "cp_plan", "NEG", D(2025, 1, 1), None),  # not a placement
        ("gone", "placement", "U4", D(2025, 1, 1), None),  # not among the cases
    ]
)


def _rows(table: pa.Table) -> dict[tuple[Any, Any], dict[str, Any]]:
    return {(r["placement_type"], r["need_group"]): r for r in table.to_pylist()}


def test_placements_by_hand() -> None:
    table = mns.placements(cases_table(CASES), SERVICES, weighting=mns.Weighting.census())
    got = _rows(table)
    # open placements count to the latest date of the placements: 12 March 2025
    assert table.schema.metadata[b"mns.placements_as_of"] == b"2025-03-12"
    assert table.schema.metadata[OUTSIDE_KEY] == b"1"
    u4 = got[("U4", "A")]
    assert (u4["children"], u4["placements"], u4["ended"]) == (2, 2, 2)
    assert (u4["weeks_mean"], u4["weeks_median"]) == (7.0, 7.0)
    assert u4["places"] == pytest.approx(14 / 52)  # a census: 14 weeks of a year's placements
    assert u4["estimate"] == 2.0
    u6 = got[("U6", "A")]
    assert (u6["children"], u6["ended"], u6["weeks_mean"]) == (1, 0, None)
    assert u6["places"] == pytest.approx(39 / 7 / 52)  # open from 1 February: 39 days
    assert got[("K2", "B")]["places"] == pytest.approx(10 / 52)
    assert got[("U4", None)]["children"] == 2  # every group of the type
    assert set(got) == {
        ("K2", "B"),
        ("K2", None),
        ("U4", "A"),
        ("U4", None),
        ("U6", "A"),
        ("U6", None),
    }


def test_a_plan_service_delivered_from_a_placement_counts_as_placements() -> None:
    care = Service(
        code="care",
        name="Care",
        need_groups=("A",),
        base="placement",
        received_as=("looked_after",),
    )
    plan = attrs.evolve(PLAN, services=(*PLAN.services, care))
    assert placement_codes(plan) == ["looked_after", "placement"]
    got = _rows(
        mns.placements(cases_table(CASES), SERVICES, plan=plan, weighting=mns.Weighting.census())
    )
    assert got[("U4", "A")]["children"] == 3  # c2's looked_after episode now counts
    # with a plan, every need group is listed for every type, placed or not
    assert got[("K2", "C")]["children"] == 0
    assert has_placements(SERVICES)
    assert not has_placements(episodes([("c0", "cp_plan", "NEG", None, None)]))


def test_placements_scale_to_the_year_and_as_of_can_be_given() -> None:
    table = mns.placements(
        cases_table(CASES), SERVICES, weighting=mns.Weighting.sampled(0.5), as_of=D(2025, 2, 15)
    )
    got = _rows(table)
    assert got[("U4", "A")]["estimate"] == 4.0
    # by 15 February c1's placement had not ended: 4 + 6.5 weeks, each case standing for 2
    assert got[("U4", "A")]["ended"] == 1
    assert got[("U4", "A")]["places"] == pytest.approx(2 * (4 + 45 / 7) / 52)
    with pytest.raises(ValueError, match=r"Weighting.census\(\)"):
        mns.placements(cases_table(CASES), SERVICES)


TYPES = st.sampled_from(["U4", "U6", "K2", None])
EPISODE = st.tuples(
    st.sampled_from(["c0", "c1", "c2", "c3"]),
    TYPES,
    st.none() | st.dates(D(2024, 1, 1), D(2025, 1, 1)),
    st.none() | st.integers(0, 400),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(EPISODE, max_size=12), st.integers(0, 4))
def test_groups_add_up_to_the_type_and_batches_do_not_matter(
    drawn: list[tuple[str, str | None, D | None, int | None]], cut: int
) -> None:
    services = episodes(
        [
            (
                case,
                "placement",
                kind,
                start,
                None if days is None or start is None else start + dt.timedelta(days=days),
            )
            for case, kind, start, days in drawn
        ]
    )
    cases = cases_table(CASES)
    table = mns.placements(cases, services, weighting=mns.Weighting.census())
    again = mns.placements(split(cases, [cut]), services, weighting=mns.Weighting.census())
    assert again.equals(table)
    rows = table.to_pylist()
    for whole in (r for r in rows if r["need_group"] is None):
        parts = [
            r
            for r in rows
            if r["placement_type"] == whole["placement_type"] and r["need_group"] is not None
        ]
        for column in ("children", "placements", "ended"):
            assert sum(r[column] for r in parts) == whole[column]
        assert whole["ended"] <= whole["placements"]
        assert whole["children"] <= whole["placements"]
    assert sum(r["placements"] for r in rows if r["need_group"] is None) == len(drawn)
