"""``profile`` against a plain Python loop over the same small tables."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given

import mns
from mns import stats
from mns.analyses.profile import band_labels
from mns.disclosure import disclose
from mns.errors import MnsError, SchemaError
from mns.records.model import Audit

from ._data import PLAN, case_rows, cases_table, services_table

VARIABLES = ("sex", "ethnicity", "disability", "cohort", "mns.f1", "mns.f2", "mns.r1", "mns.c1")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _band(age: int | None) -> str | None:
    if age is None:
        return None
    labels = band_labels((1, 5, 10, 16))
    return labels[sum(age >= e for e in (1, 5, 10, 16))]


def _by_loop(rows: list[dict[str, Any]]) -> dict[tuple[Any, str, Any], tuple[int, int]]:
    """(group, variable, value) -> (count, base), computed row by row."""
    size: Counter[Any] = Counter(r["need_group"] for r in rows)
    counts: dict[tuple[Any, str, Any], int] = defaultdict(int)
    for r in rows:
        g = r["need_group"]
        counts[(g, "age_band", _band(r["age"]))] += 1
        for v in VARIABLES:
            counts[(g, v, _text(r[v]))] += 1
    out = {(g, "cases", "all"): (n, len(rows)) for g, n in size.items()}
    for (g, v, value), n in counts.items():
        out[(g, v, value)] = (n, size[g])
    return out


@given(case_rows(min_size=1))
def test_profile_matches_a_plain_loop(rows: list[dict[str, Any]]) -> None:
    table = cases_table(rows)
    result = mns.profile(table, indicators=["mns.f1", "mns.f2", "mns.r1", "mns.c1"])
    got = {
        (r["need_group"], r["variable"], r["value"]): (r["count"], r["base"])
        for r in result.to_pylist()
    }
    want = _by_loop(rows)
    # every count the loop found is in the profile, and every other profile row is a zero
    for key, value in want.items():
        assert got[key] == value, key
    for key, (count, base) in got.items():
        if key not in want:
            assert count == 0, key
            assert base == sum(1 for r in rows if r["need_group"] == key[0])
    # shares are count / base, with the Wilson interval
    for r in result.to_pylist():
        if r["base"]:
            assert r["share"] == pytest.approx(r["count"] / r["base"])
            assert (r["share_low"], r["share_high"]) == pytest.approx(
                stats.wilson(r["count"], r["base"])
            )
    keys = [(r["need_group"], r["variable"], r["value"]) for r in result.to_pylist()]
    assert keys == sorted(keys, key=lambda k: tuple((v is None, v or "") for v in k))


@given(case_rows(min_size=1))
def test_each_variable_adds_up_to_the_group(rows: list[dict[str, Any]]) -> None:
    result = mns.profile(cases_table(rows), plan=PLAN, indicators=["mns.f1", "mns.r1"]).to_pylist()
    sums: dict[tuple[Any, str], int] = defaultdict(int)
    size = {r["need_group"]: r["count"] for r in result if r["variable"] == "cases"}
    for r in result:
        if r["variable"] != "cases":
            sums[(r["need_group"], r["variable"])] += r["count"]
    for (g, _), total in sums.items():
        assert total == size[g]
    assert set(size) == {"A", "B", "C", "unassigned", "unknown"}  # the plan's groups, even empty


def test_weighted_profile_uses_the_weights() -> None:
    rows = [
        {
            "case_id": "a",
            "need_group": "A",
            "sex": "F",
            "cohort": "referral",
            "la": "Q900",
            "weight": 1.0,
        },
        {
            "case_id": "b",
            "need_group": "A",
            "sex": "M",
            "cohort": "referral",
            "la": "Q900",
            "weight": 3.0,
        },
        {
            "case_id": "c",
            "need_group": "B",
            "sex": "M",
            "cohort": "referral",
            "la": "Q900",
            "weight": 4.0,
        },
    ]
    result = mns.profile(
        cases_table(rows), weighting=mns.Weighting.by_column("weight"), indicators=[]
    )
    sex = {(r["need_group"], r["value"]): r for r in result.to_pylist() if r["variable"] == "sex"}
    assert sex[("A", "M")]["count"] == 1
    assert sex[("A", "M")]["estimate"] == 3.0
    assert sex[("A", "M")]["share"] == pytest.approx(0.75)
    cases = {r["need_group"]: r for r in result.to_pylist() if r["variable"] == "cases"}
    assert cases["B"]["share"] == pytest.approx(0.5)


def test_services_received_are_profiled() -> None:
    rows = [
        {
            "case_id": f"c{i}",
            "need_group": "A" if i < 3 else "B",
            "cohort": "referral",
            "la": "Q900",
            "weight": 1.0,
        }
        for i in range(5)
    ]
    services = services_table(
        [("c0", "r1"), ("c0", "r1"), ("c1", "r1b"), ("c3", "r2"), ("c4", "elsewhere")]
    )
    result = mns.profile(cases_table(rows), services=services, plan=PLAN, indicators=[])
    got = {(r["need_group"], r["variable"], r["value"]): r["count"] for r in result.to_pylist()}
    assert got[("A", "service:s1", "true")] == 2  # r1 and r1b both count as s1; c0 once
    assert got[("B", "service:s2", "true")] == 1
    assert got[("B", "service:elsewhere", "true")] == 1  # not in the plan: kept under its code
    assert got[("A", "service:s3", "true")] == 0


def test_profile_errors_name_the_fix() -> None:
    table = cases_table(
        [{"case_id": "a", "need_group": "A", "cohort": "referral", "la": "Q900", "weight": 1.0}]
    )
    with pytest.raises(SchemaError, match=r"mns\.classify"):
        mns.profile(table.drop_columns(["need_group"]))
    with pytest.raises(SchemaError, match=r"'mns\.nope'"):
        mns.profile(table, indicators=["mns.nope"])
    with pytest.raises(ValueError, match="age_bands"):
        mns.profile(table, age_bands=(5, 1))
    with pytest.raises(MnsError, match="no sampling fraction"):
        mns.profile(
            table, weighting=mns.Weighting.of(Audit(name="x", strata={"looked_after": 0.5}))
        )


def test_profile_is_described_for_disclosure() -> None:
    table = cases_table(
        [
            {
                "case_id": f"c{i}",
                "need_group": "AB"[i % 2],
                "sex": "F" if i < 3 else "M",
                "cohort": "referral",
                "la": "Q900",
                "weight": 1.0,
            }
            for i in range(30)
        ]
    )
    result = mns.profile(table, indicators=[])
    assert result.schema.metadata[b"mns.analysis"] == b"profile"
    disclosed = disclose(result)
    small = result.filter(
        pc.and_(pc.greater(result.column("count"), 0), pc.less(result.column("count"), 5))
    )
    assert small.num_rows > 0
    for i, row in enumerate(result.to_pylist()):
        if 0 < row["count"] < 5:
            assert disclosed.is_suppressed(i, "count")
            assert disclosed.is_suppressed(i, "share")
    assert pa.types.is_int64(disclosed.table.schema.field("count").type)
