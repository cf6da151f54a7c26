"""``mns.assign``: the grouping the planning tables use, and the rules beside the panel."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings, strategies as st

import mns
from mns import stats
from mns.errors import MnsError, SchemaError
from mns.grouping import (
    DISPUTED,
    NO_CONSENSUS,
    NOT_AUDITED,
    NOT_PLACED,
    describe,
    grouping_of,
    summary_of,
)
from mns.plan.model import NeedGroup, Plan
from mns.records import schema
from tests.analyses._data import PLAN, cases_table

Row = tuple[str, str, str | None, bool | None]  # case, role, need group, consensus


def _cases(groups: Sequence[str]) -> pa.Table:
    return cases_table(
        [{"case_id": f"c{i}", "need_group": g, "mns.f1": True} for i, g in enumerate(groups)]
    )


def _assignments(rows: Sequence[Row], audit: str = "audit-2026") -> pa.Table:
    return schema.conform(
        pa.table(
            {
                "case_id": [r[0] for r in rows],
                "audit": [audit] * len(rows),
                "role": [r[1] for r in rows],
                "need_group": pa.array([r[2] for r in rows], pa.string()),
                "consensus": pa.array([r[3] for r in rows], pa.bool_()),
            }
        ),
        "assignments",
    )


def _groups(table: pa.Table) -> list[str]:
    return [str(v) for v in table.column("need_group").cast(pa.string()).to_pylist()]


def test_a_role_places_each_case_and_keeps_the_rules_beside() -> None:
    cases = _cases(["A", "B", "unknown", "C"])
    assignments = _assignments(
        [
            ("c0", "professional", "B", True),
            ("c1", "professional", None, None),  # the panel could not place it
            ("c2", "professional", "C", False),
            ("c0", "shadow", "A", True),
        ]
    )
    out = mns.assign(cases, assignments, "professional")
    assert _groups(out) == ["B", NOT_PLACED, "C", NOT_AUDITED]
    assert out.column("rule_group").cast(pa.string()).to_pylist() == ["A", "B", "unknown", "C"]
    assert grouping_of(out.schema) == "professional"
    assert summary_of(out.schema) == {
        "cases": 4,
        "not_audited": 1,
        "not_placed": 1,
        "disputed": 0,
        "no_consensus": 0,
        "conflicting": 0,
    }
    assert _groups(mns.assign(cases, assignments, "shadow")) == [
        "A",
        NOT_AUDITED,
        NOT_AUDITED,
        NOT_AUDITED,
    ]
    # back to the rules, from the kept column
    back = mns.assign(out, None, "rules")
    assert _groups(back) == ["A", "B", "unknown", "C"]
    assert grouping_of(back.schema) == "rules"
    assert describe("professional") == "the professional panel's consensus"


def test_several_assignments_consensus_then_majority_else_disputed() -> None:
    cases = _cases(["A"] * 4)
    assignments = _assignments(
        [
            ("c0", "professional", "A", False),  # the consensus flag wins over two votes
            ("c0", "professional", "A", False),
            ("c0", "professional", "B", True),
            ("c1", "professional", "C", None),  # a majority decides
            ("c1", "professional", "C", None),
            ("c1", "professional", "A", None),
            ("c2", "professional", "A", None),  # a tie: disputed, never picked silently
            ("c2", "professional", "B", None),
            ("c3", "professional", "A", True),  # two consensus flags disagree: disputed
            ("c3", "professional", "B", True),
        ]
    )
    out = mns.assign(cases, assignments, "professional")
    assert _groups(out) == ["B", "C", DISPUTED, DISPUTED]
    assert summary_of(out.schema)["conflicting"] == 4
    assert summary_of(out.schema)["disputed"] == 2


def test_consensus_and_audit_name_groupings() -> None:
    cases = _cases(["A"] * 3)
    assignments = _assignments(
        [
            ("c0", "professional", "A", False),
            ("c0", "shadow", "B", True),
            ("c1", "professional", "C", True),
            ("c1", "shadow", "A", True),
            ("c2", "shadow", "B", False),
        ]
    )
    assert _groups(mns.assign(cases, assignments, "consensus")) == ["B", "C", NO_CONSENSUS]
    # an audit's name: the first role in order (professional, shadow, mixed) per case
    assert _groups(mns.assign(cases, assignments, "audit-2026")) == ["A", "C", "B"]
    with pytest.raises(MnsError, match=r"groups='panel'.*audit-2026"):
        mns.assign(cases, assignments, "panel")


def test_assign_errors_name_the_fix() -> None:
    cases = _cases(["A"])
    with pytest.raises(MnsError, match="needs the audit groups' assignments"):
        mns.assign(cases, None, "professional")
    with pytest.raises(SchemaError, match=r"mns.classify"):
        mns.assign(cases.drop_columns(["need_group"]), None, "rules")
    panel = mns.assign(cases.drop_columns(["need_group"]), _assignments([]), "shadow")
    with pytest.raises(SchemaError, match="rule_group"):
        mns.assign(panel, None, "rules")


def test_undeclared_codes_are_counted() -> None:
    out = mns.assign(
        _cases(["A"]),
        _assignments([("c0", "professional", "Z9", True)]),
        declared=["A", "B"],
    )
    assert summary_of(out.schema)["undeclared"] == ["Z9"]


# ------------------------------------------------ every case counted once, every grouping

CODES = ("A", "B", "C", None)
ROLES = ("professional", "shadow", "mixed")


@st.composite
def audits(draw: st.DrawFn) -> tuple[pa.Table, pa.Table]:
    n = draw(st.integers(1, 25))
    rules = draw(
        st.lists(st.sampled_from(("A", "B", "C", "unassigned", "unknown")), min_size=n, max_size=n)
    )
    rows = draw(
        st.lists(
            st.tuples(
                st.integers(0, n + 2).map(lambda i: f"c{i}"),  # some ids are not audited cases
                st.sampled_from(ROLES),
                st.sampled_from(CODES),
                st.sampled_from((True, False, None)),
            ),
            max_size=3 * n,
        )
    )
    return _cases(rules), _assignments(rows)


@given(audits(), st.sampled_from(("rules", *ROLES, "consensus", "audit-2026")))
@settings(max_examples=40)
def test_every_case_is_counted_exactly_once_under_every_grouping(
    data: tuple[pa.Table, pa.Table], groups: str
) -> None:
    cases, assignments = data
    if groups == "audit-2026" and assignments.num_rows == 0:
        with pytest.raises(MnsError, match="nor an audit of the assignments"):
            mns.assign(cases, assignments, groups)
        return
    out = mns.assign(cases, assignments, groups)
    assert out.num_rows == cases.num_rows
    assert out.column("case_id").to_pylist() == cases.column("case_id").to_pylist()
    assert pc.sum(pc.is_null(out.column("need_group"))).as_py() == 0
    n = cases.num_rows
    profile = mns.profile(out, plan=PLAN, indicators=[])
    sizes = profile.filter(pc.equal(profile.column("variable"), "cases"))
    assert sum(sizes.column("count").to_pylist()) == n
    listed = {
        g: k
        for g, k in zip(
            sizes.column("need_group").to_pylist(), sizes.column("count").to_pylist(), strict=True
        )
        if k
    }
    assert listed == dict(Counter(_groups(out)))
    extrapolated = mns.extrapolate(out, plan=PLAN, weighting=mns.Weighting.census())
    assert sum(extrapolated.column("sample").to_pylist()) == n
    matched = mns.match(out, schema.empty("services"), plan=PLAN)
    per_group = {r["need_group"]: r["cases"] for r in matched.to_pylist()}
    assert sum(per_group.values()) == n
    changed = mns.compare(out, out, plan=PLAN)
    assert sum(changed.column("reaudit").to_pylist()) == n
    if groups != "rules":
        table = mns.rules_vs_panel(cases, assignments, plan=PLAN, role=groups)
        counts = table.to_pylist()
        # each case is in both or panel_only of exactly one row
        assert sum(r["both"] + r["panel_only"] for r in counts) == n
        panel_placed = sum(
            r["both"] + r["panel_only"] for r in counts if r["need_group"] in ("A", "B", "C")
        )
        assert sum(r["both"] + r["rules_only"] for r in counts) == panel_placed


# ------------------------------------------------------------------ rules beside the panel


def test_rules_vs_panel_by_hand() -> None:
    cases = _cases(["A", "A", "B", "unknown", "A", "C"])
    assignments = _assignments(
        [
            ("c0", "professional", "A", True),  # both A
            ("c1", "professional", "B", True),  # panel B, rules A
            ("c2", "professional", "B", True),  # both B
            ("c3", "professional", "B", True),  # panel B, rules unknown
            ("c4", "professional", None, True),  # not placed
        ]
    )
    got = {
        r["need_group"]: r for r in mns.rules_vs_panel(cases, assignments, plan=PLAN).to_pylist()
    }
    assert (got["A"]["both"], got["A"]["panel_only"], got["A"]["rules_only"]) == (1, 0, 1)
    assert (got["B"]["both"], got["B"]["panel_only"], got["B"]["rules_only"]) == (1, 2, 0)
    assert got["A"]["precision"] == 0.5
    assert got["A"]["recall"] == 1.0
    low, high = stats.wilson(1, 3)
    assert (got["B"]["recall_low"], got["B"]["recall_high"]) == pytest.approx((low, high))
    assert got["C"]["precision"] is None  # no case: undefined
    assert got["unknown"]["rules_only"] == 1
    assert got[NOT_PLACED]["panel_only"] == 1
    assert got[NOT_AUDITED]["panel_only"] == 1  # c5
    assert got[NOT_AUDITED]["precision"] is None


def test_disagreements_say_what_decided_the_rule() -> None:
    plan = Plan(
        name="p",
        language="mns",
        need_groups=(
            NeedGroup(code="A", name="A", rule="mns.homeless"),
            NeedGroup(code="B", name="B", rule="mns.low_income"),
            NeedGroup(code="P", name="Panel only"),  # no rule: filled by the panel
        ),
    )
    table = pa.table(
        {
            "case_id": ["c0", "c1", "c2"],
            "mns.homeless": [True, False, False],
            "mns.low_income": [True, False, True],
        }
    )
    cases = mns.classify(table, plan)
    assert isinstance(cases, pa.Table)
    assignments = _assignments(
        [
            ("c0", "professional", "B", True),
            ("c1", "professional", "P", True),
            ("c2", "professional", "B", True),
        ]
    )
    rows = {r["case_id"]: r for r in mns.disagreements(cases, assignments, plan=plan).to_pylist()}
    assert set(rows) == {"c0", "c1"}
    assert (rows["c0"]["panel_group"], rows["c0"]["rule_group"]) == ("B", "A")
    assert rows["c0"]["deciding"] == (
        "A holds: mns.homeless (mns.homeless = yes) | B holds too, but A comes first in the plan"
    )
    assert rows["c1"]["rule_group"] == "unassigned"
    assert rows["c1"]["deciding"] == "P: no rule in the plan"
    # the rule-less group is filled from the assignments and listed by every table
    grouped = mns.assign(cases, assignments, "professional")
    sizes = mns.profile(grouped, plan=plan, indicators=[])
    assert "P" in sizes.column("need_group").to_pylist()
    listed = (
        mns.extrapolate(grouped, plan=plan, weighting=mns.Weighting.census())
        .column("need_group")
        .to_pylist()
    )
    assert "P" in listed


def test_explain_rows_binds_once_and_agrees_with_explain() -> None:
    from mns.classification import explain, explain_rows
    from mns.demo import exampleshire

    demo = exampleshire()
    rows = demo.sample.cases.slice(0, 12).to_pylist()
    many = list(explain_rows(rows, demo.plan))
    assert many == [explain(row, demo.plan) for row in rows]
