"""Each analysis on small tables whose answers are worked out by hand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pytest

import mns
from mns import stats
from mns.errors import MnsError, SchemaError
from mns.records import schema
from mns.records.model import Audit

from ._data import PLAN, cases_table, services_table


def _rows(table: pa.Table, *keys: str) -> dict[Any, dict[str, Any]]:
    return {
        tuple(r[k] for k in keys) if len(keys) > 1 else r[keys[0]]: r for r in table.to_pylist()
    }


def _case(i: int, group: str, **more: Any) -> dict[str, Any]:
    return {
        "case_id": f"c{i}",
        "need_group": group,
        "cohort": "referral",
        "la": "Q900",
        "weight": 1.0,
        **more,
    }


# ---------------------------------------------------------------------------- crosstab


def test_crosstab_counts_and_shares() -> None:
    rows = [
        _case(0, "A", area="X"),
        _case(1, "A", area="X"),
        _case(2, "A", area="Y"),
        _case(3, "B", area="Y"),
        _case(4, "B"),
    ]
    got = _rows(mns.crosstab(cases_table(rows), "need_group", "area"), "need_group", "area")
    assert set(got) == {("A", "X"), ("A", "Y"), ("A", None), ("B", "X"), ("B", "Y"), ("B", None)}
    assert got[("A", "X")]["count"] == 2
    assert got[("A", "X")]["row_total"] == 3
    assert got[("A", "X")]["row_share"] == pytest.approx(2 / 3)
    assert got[("A", "X")]["col_share"] == 1.0
    assert got[("B", "X")]["count"] == 0
    assert got[("B", None)]["count"] == 1
    with pytest.raises(ValueError, match="two different"):
        mns.crosstab(cases_table(rows), "area", "area")


def test_a_stream_of_empty_batches_gives_an_empty_table() -> None:
    rows = [_case(0, "A", area="X")]
    empty = cases_table(rows).slice(0, 0)
    batch = pa.RecordBatch.from_pylist([], schema=empty.schema)
    got = mns.crosstab(iter([batch, batch, batch]), "need_group", "area")
    assert got.num_rows == 0
    assert got.column_names == mns.crosstab(empty, "need_group", "area").column_names


@pytest.mark.parametrize("weighting", [None, mns.Weighting.sampled(0.5)])
def test_a_profile_of_no_cases_without_a_plan_is_an_empty_table(
    weighting: mns.Weighting | None,
) -> None:
    empty = cases_table([_case(0, "A")]).slice(0, 0)
    got = mns.profile(empty, indicators=["mns.f1"], weighting=weighting)
    assert got.num_rows == 0
    assert got.column_names[:3] == ["need_group", "variable", "value"]


# ---------------------------------------------------------------------------- match

MATCH_CASES = [
    _case(0, "A", **{"threshold.s1": True, "threshold.s2": False}),
    _case(1, "A", **{"threshold.s1": True, "threshold.s2": True}),
    _case(2, "A", **{"threshold.s1": None, "threshold.s2": False}),
    _case(3, "B", **{"threshold.s1": True, "threshold.s2": True}),
    _case(4, "B", **{"threshold.s1": False, "threshold.s2": True}),
    _case(5, "C", **{"threshold.s1": False, "threshold.s2": False}),
]
MATCH_SERVICES = [
    ("c0", "r1"),
    ("c0", "r1b"),
    ("c2", "r1"),
    ("c4", "r2"),
    ("c5", "r2"),
    ("c5", "yot"),
]


def test_match_by_hand() -> None:
    result = mns.match(cases_table(MATCH_CASES), services_table(MATCH_SERVICES), plan=PLAN)
    got = _rows(result, "need_group", "service")
    a1 = got[("A", "s1")]  # planned for A; eligible c0, c1; received c0, c2
    assert (a1["planned"], a1["cases"], a1["received"], a1["eligible"], a1["eligible_unknown"]) == (
        True,
        3,
        2,
        2,
        1,
    )
    # c1 is eligible and did not receive it: partly met
    assert (a1["unmet"], a1["unplanned"], a1["status"]) == (1, None, "partly met")
    assert a1["received_below_threshold"] == 0  # c2's threshold is unknown, not failed
    assert a1["unmet_share"] == 0.5
    b2 = got[("B", "s2")]  # planned for B; eligible c3, c4; received c4
    assert (b2["received"], b2["eligible"], b2["unmet"], b2["status"]) == (1, 2, 1, "partly met")
    b1 = got[("B", "s1")]  # planned for B; eligible c3; nobody received it
    assert (b1["received"], b1["eligible"], b1["unmet"], b1["status"]) == (0, 1, 1, "unmet")
    c2 = got[("C", "s2")]  # not planned for C; c5 received it
    assert (c2["planned"], c2["unplanned"], c2["unmet"], c2["status"]) == (
        False,
        1,
        None,
        "unplanned",
    )
    assert c2["received_below_threshold"] == 1  # c5 fails s2's threshold
    yot = got[("C", "yot")]  # a service the plan does not have
    assert (yot["in_plan"], yot["eligible"], yot["unplanned"]) == (False, None, 1)
    assert yot["received_below_threshold"] is None
    # per group: planned services needed and received (case-service pairs)
    # A: s1 eligible c0, c1 (2 pairs), received by c0 -> 1
    # B: s1 c3, s2 c3, c4 -> 3 pairs, c4 got s2 -> 1
    assert (a1["planned_needed"], a1["planned_received"], a1["planned_share"]) == (2, 1, 0.5)
    assert (b1["planned_needed"], b1["planned_received"]) == (3, 1)
    assert got[("C", "s3")]["eligible"] == 1  # s3 has no threshold: all the group's cases
    assert {g for g, _ in got} == {"A", "B", "C", "unassigned", "unknown"}


def _episodes(rows: Sequence[tuple[str, str, dt.date | None, dt.date | None]]) -> pa.Table:
    return schema.conform(
        pa.table(
            {
                "case_id": [r[0] for r in rows],
                "service": [r[1] for r in rows],
                "start_date": pa.array([r[2] for r in rows], pa.date32()),
                "end_date": pa.array([r[3] for r in rows], pa.date32()),
            }
        ),
        "services",
    )


def test_match_statuses_the_period_and_services_of_other_cases() -> None:
    day = dt.date
    services = _episodes(
        [
            ("c0", "r1", day(2025, 5, 1), None),  # A s1: in the period
            ("c1", "r1", day(2024, 1, 1), day(2025, 6, 30)),  # overlaps its start
            ("c3", "r1", day(2024, 1, 1), day(2024, 12, 31)),  # B s1: ended before it
            ("c4", "r2", None, None),  # no dates: counts
            ("c3", "r2", day(2026, 4, 1), None),  # B s2: starts after it
            ("x9", "r1", day(2025, 5, 1), None),  # not an audited case
        ]
    )
    period = (day(2025, 4, 1), day(2026, 3, 31))
    result = mns.match(cases_table(MATCH_CASES), services, plan=PLAN, period=period)
    got = _rows(result, "need_group", "service")
    assert (got[("A", "s1")]["received"], got[("A", "s1")]["status"]) == (2, "met")
    assert (got[("B", "s1")]["received"], got[("B", "s1")]["status"]) == (0, "unmet")
    assert (got[("B", "s2")]["received"], got[("B", "s2")]["status"]) == (1, "partly met")
    assert got[("C", "s1")]["status"] is None  # not planned, not received
    assert result.schema.metadata[b"mns.services_outside_period"] == b"2"
    assert result.schema.metadata[b"mns.unmatched_services"] == b"1"
    # without a period every episode counts
    every = _rows(mns.match(cases_table(MATCH_CASES), services, plan=PLAN), "need_group", "service")
    assert every[("B", "s1")]["received"] == 1
    with pytest.raises(ValueError, match=r"ends .* before it starts"):
        mns.match(cases_table(MATCH_CASES), services, plan=PLAN, period=(period[1], period[0]))


def test_match_needs_classified_cases() -> None:
    table = cases_table(MATCH_CASES).drop_columns(["threshold.s2"])
    with pytest.raises(SchemaError, match=r"threshold\.s2.*mns.classify"):
        mns.match(table, services_table(MATCH_SERVICES), plan=PLAN)


# ---------------------------------------------------------------------------- agreement


def _assignments(rows: Sequence[tuple[str, str, str | None]], audit: str = "base") -> pa.Table:
    return schema.conform(
        pa.table(
            {
                "case_id": [r[0] for r in rows],
                "audit": [audit] * len(rows),
                "role": [r[1] for r in rows],
                "need_group": pa.array([r[2] for r in rows], pa.string()),
            }
        ),
        "assignments",
    )


def test_agreement_by_hand() -> None:
    pairs = [("A", "A")] * 6 + [("A", "B")] * 2 + [("B", "B")] * 5 + [("B", None)] * 1
    rows = []
    for i, (p, s) in enumerate(pairs):
        rows += [(f"c{i}", "professional", p), (f"c{i}", "shadow", s)]
    rows += [("only", "professional", "A")]
    result = mns.agreement(_assignments(rows), "professional", "shadow")
    stat = {(r["statistic"], r["group_a"], r["group_b"]): r for r in result.to_pylist()}
    assert stat[("cases", None, None)]["count"] == 14
    assert stat[("only_a", None, None)]["count"] == 1
    assert stat[("only_b", None, None)]["count"] == 0
    matrix = [[6, 2, 0], [0, 5, 1], [0, 0, 0]]  # A, B, unassigned
    for i, ga in enumerate(["A", "B", "unassigned"]):
        for j, gb in enumerate(["A", "B", "unassigned"]):
            assert stat[("confusion", ga, gb)]["count"] == matrix[i][j]
    k = stats.cohen_kappa(matrix)
    assert stat[("cohen_kappa", None, None)]["estimate"] == pytest.approx(k.kappa)
    assert stat[("cohen_kappa", None, None)]["low"] == pytest.approx(k.low)
    assert stat[("observed_agreement", None, None)]["estimate"] == pytest.approx(11 / 14)
    assert stat[("group_agreement", "A", "A")]["estimate"] == pytest.approx(2 * 6 / (8 + 6))


def test_agreement_of_three_groups_adds_fleiss_kappa() -> None:
    rows = []
    for i in range(8):
        rows += [
            (f"c{i}", "professional", "AB"[i % 2]),
            (f"c{i}", "shadow", "AB"[i % 2]),
            (f"c{i}", "mixed", "AB"[i % 3 == 0]),
        ]
    result = mns.agreement(_assignments(rows), "professional", "shadow", "mixed")
    fleiss = [r for r in result.to_pylist() if r["statistic"] == "fleiss_kappa"]
    assert len(fleiss) == 1
    assert fleiss[0]["count"] == 8
    pairs = {
        (r["side_a"], r["side_b"]) for r in result.to_pylist() if r["statistic"] == "cohen_kappa"
    }
    assert pairs == {("professional", "shadow"), ("professional", "mixed"), ("shadow", "mixed")}


def test_agreement_names_sides_by_audit_and_refuses_ambiguity() -> None:
    first = _assignments([("c1", "professional", "A"), ("c2", "professional", "B")], audit="2025")
    second = _assignments([("c1", "professional", "A"), ("c2", "professional", "A")], audit="2026")
    result = mns.agreement(pa.concat_tables([first, second]), "2025", "2026")
    assert [r["count"] for r in result.to_pylist() if r["statistic"] == "cases"] == [2]
    twice = _assignments(
        [("c1", "professional", "A"), ("c1", "professional", "B"), ("c1", "shadow", "A")]
    )
    with pytest.raises(MnsError, match=r"'c1'.*consensus"):
        mns.agreement(twice, "professional", "shadow")
    with pytest.raises(MnsError, match="no assignments with role or audit 'users'"):
        mns.agreement(twice, "professional", "users")


# ---------------------------------------------------------------------------- compare


def test_compare_finds_new_and_vanished_groups() -> None:
    before = cases_table([_case(i, g) for i, g in enumerate("AAAB")] + [_case(9, "unassigned")])
    after = cases_table(
        [_case(i, g) for i, g in enumerate("AACC")]
        + [_case(8, "unassigned"), _case(9, "unassigned")]
    )
    got = _rows(mns.compare(before, after), "need_group")
    assert got["B"]["status"] == "vanished"
    assert got["C"]["status"] == "appeared"
    assert got["A"]["status"] == "both"
    assert (got["unassigned"]["baseline"], got["unassigned"]["reaudit"]) == (1, 2)
    assert got["A"]["change"] == pytest.approx(2 / 6 - 3 / 5)
    assert (got["A"]["change_low"], got["A"]["change_high"]) == pytest.approx(
        stats.newcombe_difference(2, 6, 3, 5)
    )
    assert got["A"]["p_value"] == pytest.approx(stats.two_proportion_test(2, 6, 3, 5)[1])


def test_compare_weights_each_sample_with_the_finite_population_correction() -> None:
    before = cases_table([_case(i, g) for i, g in enumerate("AAAB")])
    after = cases_table([_case(i, g) for i, g in enumerate("AABB")])
    plain = _rows(mns.compare(before, after), "need_group")
    fpc = _rows(
        mns.compare(
            before,
            after,
            weighting=mns.Weighting.sampled(0.5),
            baseline_weighting=mns.Weighting.sampled(0.5),
        ),
        "need_group",
    )
    # one fraction per sample: the shares stay, the intervals narrow (effective n = n / 0.5)
    assert fpc["A"]["change"] == pytest.approx(plain["A"]["change"])
    low, high = stats.wilson_arrays([2], [4], n_effective=[8])
    assert (fpc["A"]["reaudit_low"], fpc["A"]["reaudit_high"]) == pytest.approx((low[0], high[0]))
    assert fpc["A"]["change_high"] - fpc["A"]["change_low"] < (
        plain["A"]["change_high"] - plain["A"]["change_low"]
    )
    assert fpc["A"]["p_value"] < plain["A"]["p_value"]
    # two censuses: no sampling error
    census = _rows(
        mns.compare(
            before,
            after,
            weighting=mns.Weighting.sampled(1.0),
            baseline_weighting=mns.Weighting.sampled(1.0),
        ),
        "need_group",
    )
    assert census["A"]["change_low"] == census["A"]["change_high"] == pytest.approx(-0.25)
    assert census["A"]["p_value"] == 0.0
    # a weights column: the shares are weighted, the counts stay the cases
    weighted = after.set_column(
        after.column_names.index("weight"), "weight", pa.array([3.0, 3.0, 1.0, 1.0])
    )
    got = _rows(
        mns.compare(before, weighted, weighting=mns.Weighting.by_column("weight")), "need_group"
    )
    assert got["A"]["reaudit"] == 2
    assert got["A"]["reaudit_share"] == pytest.approx(6 / 8)


# ------------------------------------------------------------------ extrapolate and capacity


def test_extrapolate_scales_by_the_sampling_fraction() -> None:
    table = cases_table([_case(i, "A" if i < 30 else "B") for i in range(100)])
    got = _rows(mns.extrapolate(table, weighting=mns.Weighting.sampled(0.1)), "need_group")
    assert got["A"]["sample"] == 30
    assert got["A"]["estimate"] == pytest.approx(300.0)
    # Wilson interval with the finite population correction: effective n = 100 / 0.9
    low, high = stats.wilson_arrays([0.3], [1.0], n_effective=[100 / 0.9])
    assert got["A"]["estimate_low"] == pytest.approx(low[0] * 1000)
    assert got["A"]["estimate_high"] == pytest.approx(high[0] * 1000)


def test_extrapolate_over_half_a_year_and_by_stratum() -> None:
    rows = [_case(i, "A", cohort="referral") for i in range(10)] + [
        _case(10 + i, "B", cohort="looked_after") for i in range(5)
    ]
    audit = Audit(
        name="a",
        period_start=dt.date(2025, 4, 1),
        period_end=dt.date(2025, 9, 30),
        strata={"referral": 0.5, "looked_after": 1.0},
    )
    got = _rows(mns.extrapolate(cases_table(rows), weighting=mns.Weighting.of(audit)), "need_group")
    assert got["A"]["estimate"] == pytest.approx(10 / 0.5 * 2)  # six months -> a year
    assert got["B"]["estimate"] == pytest.approx(5 * 2)
    with pytest.raises(ValueError, match=r"Weighting.sampled.*Weighting.census\(\)"):
        mns.extrapolate(cases_table(rows))


def test_extrapolate_and_capacity_take_a_census_only_when_told() -> None:
    table = cases_table([_case(i, "A" if i < 3 else "B") for i in range(5)])

    def extrapolate(**kw: Any) -> pa.Table:
        return mns.extrapolate(table, **kw)

    def capacity(**kw: Any) -> pa.Table:
        return mns.capacity(cases_table(MATCH_CASES), plan=PLAN, **kw)

    for run in (extrapolate, capacity):
        with pytest.raises(ValueError, match=r"Weighting.census\(\)"):
            run()
        with pytest.raises(ValueError, match=r"Weighting.census\(\)"):
            run(weighting=mns.Weighting.unweighted())
        with pytest.raises(TypeError, match=r"must be an mns\.Weighting"):
            run(weighting=0.25)
        census = run(weighting=mns.Weighting.census())
        assert census.schema.metadata[b"mns.scaling"] == b"census"
        assert run(weighting=mns.Weighting.sampled(0.25)).schema.metadata[b"mns.scaling"] == (
            b"sampling fraction 0.250"
        )
    got = _rows(mns.extrapolate(table, weighting=mns.Weighting.census()), "need_group")
    assert (got["A"]["estimate"], got["A"]["estimate_low"], got["A"]["estimate_high"]) == (3, 3, 3)


def test_capacity_counts_cases_in_planned_groups_meeting_the_threshold() -> None:
    result = mns.capacity(cases_table(MATCH_CASES), plan=PLAN, weighting=mns.Weighting.sampled(0.5))
    got = _rows(result, "service")
    # s1 is for A and B: threshold true for c0, c1 (A), c3 (B); c2 unknown
    assert (got["s1"]["sample"], got["s1"]["unknown"], got["s1"]["capacity"]) == (3, 1, 10)
    assert got["s1"]["estimate"] == pytest.approx(6.0)
    assert got["s1"]["shortfall"] == pytest.approx(-4.0)
    assert got["s3"]["sample"] == 1  # no threshold: every case of group C
    assert got["s2"]["capacity"] is None
    assert got["s2"]["load"] is None


def test_capacity_shows_what_cases_of_unknown_group_could_add() -> None:
    rows = [
        *MATCH_CASES,
        _case(6, "unknown", **{"threshold.s1": True, "threshold.s2": None}),
        _case(7, "unknown", **{"threshold.s1": False, "threshold.s2": False}),
        _case(8, "unassigned", **{"threshold.s1": True, "threshold.s2": True}),
    ]
    got = _rows(
        mns.capacity(cases_table(rows), plan=PLAN, weighting=mns.Weighting.sampled(0.5)), "service"
    )
    # s1: needed by c0, c1, c3; c2 (group A) threshold unknown; c6 of unknown group meets
    # it; c7 fails it; c8 is in no group (known: not counted)
    assert (got["s1"]["sample"], got["s1"]["unknown"], got["s1"]["unknown_group"]) == (3, 1, 1)
    assert got["s1"]["estimate"] == pytest.approx(6.0)
    assert got["s1"]["unknown_upper"] == pytest.approx((3 + 1 + 1) / 0.5)
    # s2: threshold unknown counts as could-need; c7 fails it
    assert got["s2"]["unknown_group"] == 1
    # s3 has no threshold: every case of unknown group could need it
    assert got["s3"]["unknown_group"] == 2
    assert got["s3"]["unknown_upper"] == pytest.approx((1 + 2) / 0.5)


def test_capacity_of_a_panel_grouping_counts_unplaced_cases_as_unknown() -> None:
    cases = mns.assign(
        cases_table(MATCH_CASES),
        _assignments([("c0", "professional", "A"), ("c1", "professional", None)]),
        "professional",
    )
    got = _rows(mns.capacity(cases, plan=PLAN, weighting=mns.Weighting.census()), "service")
    # c0 (A) needs s1; c1 not placed and c2..c5 not audited: could need it unless their
    # threshold fails (c4, c5 fail s1)
    assert (got["s1"]["sample"], got["s1"]["unknown_group"]) == (1, 3)
    assert got["s1"]["unknown_upper"] == pytest.approx(4.0)


# ---------------------------------------------------------------------------- areas and outcomes


def test_areas_rates_per_10000() -> None:
    rows = [_case(i, "A", area="QE1") for i in range(3)] + [
        _case(5, "B", area="QE2"),
        _case(6, "B", area="QE7"),
    ]
    population = pa.table({"area": ["QE1", "QE2", "QE3"], "children": [2000, 500, 100]})
    got = _rows(mns.areas(cases_table(rows), population), "area", "need_group")
    assert got[("QE1", "A")]["rate"] == pytest.approx(15.0)
    low, high = stats.garwood(3)  # the exact Poisson interval
    assert got[("QE1", "A")]["rate_low"] == pytest.approx(low / 2000 * 10_000)
    assert got[("QE1", "A")]["rate_high"] == pytest.approx(high / 2000 * 10_000)
    # one case: 0.0253 to 5.572 (Byar's lower limit is about half that)
    assert got[("QE2", "B")]["rate_low"] == pytest.approx(0.025318 / 500 * 10_000, rel=1e-4)
    assert got[("QE2", "B")]["rate_high"] == pytest.approx(5.5716 / 500 * 10_000, rel=1e-4)
    assert got[("QE3", "A")]["rate_high"] == pytest.approx(3.6889 / 100 * 10_000, rel=1e-4)
    assert got[("QE3", "A")]["count"] == 0
    assert got[("QE3", "A")]["rate"] == 0.0
    assert got[("QE7", "B")]["population"] is None
    assert got[("QE7", "B")]["rate"] is None
    assert got[("QE1", "B")]["area_total"] == 3
    with pytest.raises(MnsError, match="listed twice"):
        mns.areas(cases_table(rows), pa.table({"area": ["QE1", "QE1"], "children": [1, 2]}))


def test_outcomes_by_group_and_service() -> None:
    cases = cases_table([_case(0, "A"), _case(1, "A"), _case(2, "A"), _case(3, "B")])
    outcomes = schema.conform(
        pa.table(
            {
                "case_id": ["c0", "c0", "c1", "c2", "c3", "gone"],
                "outcome": ["o1", "o1", "o1", "o1", "o1", "o1"],
                "recorded_on": pa.array(
                    [
                        dt.date(2025, 1, 1),
                        dt.date(2025, 6, 1),
                        None,
                        dt.date(2025, 2, 1),
                        None,
                        None,
                    ],
                    pa.date32(),
                ),
                "achieved": [False, True, False, None, True, True],
                "value": [1.0, 3.0, 2.0, None, 5.0, 0.0],
            }
        ),
        "outcomes",
    )
    services = services_table([("c0", "r1"), ("c2", "r1")])
    result = mns.outcomes(cases, outcomes, services, plan=PLAN)
    got = _rows(result, "need_group", "outcome", "service")
    everyone = got[("A", "o1", None)]  # c0 (latest: achieved, 3.0), c1 (not, 2.0), c2 (unknown)
    assert (everyone["cases"], everyone["recorded"], everyone["achieved"]) == (3, 3, 1)
    assert everyone["mean_value"] == pytest.approx(2.5)
    s1 = got[("A", "o1", "s1")]  # c0 and c2 received s1
    assert (s1["recorded"], s1["achieved"], s1["achieved_share"]) == (2, 1, 0.5)
    assert got[("B", "o1", "s1")]["recorded"] == 0
    assert result.schema.metadata[b"mns.unmatched_outcomes"] == b"1"
