"""Draft rules: they parse in the rule language, what is reported is the rule engine's own
evaluation, and the draft search's three-valued arithmetic agrees with the engine."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, strategies as st

from mns.lca import Suggestion, _data, _describe, _rules
from mns.rules import compile_rule, ir
from mns.rules.bind import bind
from mns.rules.case import Row, evaluate


def test_draft_rules_parse_and_evaluate(
    result: Suggestion, data: tuple[pa.Table, pa.Table]
) -> None:
    cases, _ = data
    rows = cases.to_pylist()
    classes = {m["case_id"]: m["class"] for m in result.membership.to_pylist()}
    assert result.rules.num_rows == result.k
    for rule in result.rules.to_pylist():
        assert rule["evaluated_by"] == "mns.rules"
        expr = compile_rule(rule["rule"], "cin")  # parses and type-checks, as in a plan
        # the per-case evaluator, independent of the Arrow path suggest_groups used
        binding = bind([("draft rule", c) for c in ir.columns(expr)], cases.column_names)
        selected = {r["case_id"] for r in rows if evaluate(expr, Row(r, binding)) is True}
        members = {c for c, k in classes.items() if k == rule["class"]}
        assert rule["selected"] == len(selected)
        assert rule["members"] == len(members)
        assert rule["true_positives"] == len(selected & members)
        assert rule["precision"] == pytest.approx(len(selected & members) / len(selected))
        assert rule["recall"] == pytest.approx(len(selected & members) / len(members))
        # on well-separated classes a three-condition rule does well
        assert rule["f1"] >= 0.8, rule


def test_draft_rules_are_in_the_classes_table(result: Suggestion) -> None:
    assert result.classes["rule"].to_pylist() == result.rules["rule"].to_pylist()
    assert result.classes["precision"].to_pylist() == result.rules["precision"].to_pylist()


CODES = ("cin.2A", "cin.2B", "cin.3A", "cin.3B", "cin.4A")


@given(
    n=st.integers(10, 60),
    seed=st.integers(0, 2**32 - 1),
    missing=st.sampled_from([0.0, 0.1, 0.4]),
)
def test_search_and_engine_agree(n: int, seed: int, missing: float) -> None:
    """What the search counts for its rule (literals, negations, count/any/all, and/or, with
    unknowns) is what the engine finds when it evaluates the rule's text."""
    rng = np.random.default_rng(seed)
    flags = rng.random((n, len(CODES))) < 0.4
    rating = rng.integers(0, 4, n)
    members = (flags[:, :3].sum(axis=1) >= 2) ^ (rng.random(n) < 0.1)
    columns: dict[str, pa.Array] = {"case_id": pa.array([f"C{i}" for i in range(n)])}
    for j, code in enumerate(CODES):
        columns[code] = pa.array(flags[:, j], pa.bool_(), mask=rng.random(n) < missing)
    columns["mns.emotional_wellbeing_concern"] = pa.array(
        rating, pa.int8(), mask=rng.random(n) < missing
    )
    table = pa.table(columns)
    items, _ = _data.select(table, None, "test")
    events = [e for item in items for e in _data.events(item)]
    draft = _describe.draft_rule(events, members)
    if not draft.rule:
        return
    holds = _rules.evaluate(draft.rule, table)
    assert int(holds.sum()) == draft.selected, draft.rule
    assert int((holds & members).sum()) == draft.true_positives, draft.rule


def test_count_rules_are_drafted() -> None:
    """A class defined by 'two of three' gets a count(...) rule that finds it exactly."""
    rng = np.random.default_rng(4)
    n = 400
    flags = rng.random((n, 5)) < 0.35
    members = flags[:, :3].sum(axis=1) >= 2
    table = pa.table(
        {"case_id": [f"C{i}" for i in range(n)], **{c: flags[:, j] for j, c in enumerate(CODES)}}
    )
    items, _ = _data.select(table, None, "test")
    draft = _describe.draft_rule([e for it in items for e in _data.events(it)], members)
    assert draft.rule.startswith("count(")
    assert draft.rule.endswith(") >= 2")
    assert draft.precision == 1.0
    assert draft.recall == 1.0
