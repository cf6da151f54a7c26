"""The two evaluators agree: Arrow compute on whole batches == the per-case evaluator, row by
row, on random rules over random tables with nulls in every column; and classify gives the
same result streamed (any batch split) as in one go, and as classify_case on each row."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from mns.classification import (
    ClassifyMode,
    _classify_row as classify_row,
    classify,
    classify_case,
    prepare,
)
from mns.lang import dump_language
from mns.plan.model import NeedGroup, Plan, Service
from mns.rules import ir
from mns.rules.arrow import Batch, broadcast, evaluate as arrow_evaluate
from mns.rules.bind import bind
from mns.rules.case import Row, evaluate
from mns.rules.check import check
from mns.rules.syntax import parse
from tests.rules import gen

# The property this module exists for: at least 500 examples under the "ci" profile (and the
# profile's own count otherwise: "dev" is quick, "thorough" is 2000).
_CI = os.environ.get("HYPOTHESIS_PROFILE") == "ci"
MANY = settings(
    max_examples=max(500 if _CI else 0, settings().max_examples),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SOME = settings(
    max_examples=settings().max_examples,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _arrow(expr: ir.Expr, batches: list[pa.RecordBatch], available: list[str]) -> list[Any]:
    binding = bind([("rule", c) for c in ir.columns(expr)], available)
    out: list[Any] = []
    for batch in batches:
        out.extend(
            broadcast(arrow_evaluate(expr, Batch(batch, binding)), batch.num_rows).to_pylist()
        )
    return out


def _per_case(expr: ir.Expr, table: pa.Table) -> list[Any]:
    binding = bind([("rule", c) for c in ir.columns(expr)], table.column_names)
    return [evaluate(expr, Row(row, binding)) for row in table.to_pylist()]


@MANY
@given(st.data(), gen.rules)
def test_arrow_and_per_case_agree_row_by_row(data: st.DataObject, rule: str) -> None:
    expr = check(parse(rule), rule, gen.SCOPE)
    table = data.draw(gen.tables())
    batches = data.draw(gen.splits(table))
    expected = _per_case(expr, table)
    assert _arrow(expr, batches, table.column_names) == expected
    assert all(v is None or isinstance(v, bool) for v in expected)


@pytest.mark.parametrize("rule", ["age == 0.1", "age <= 0.1", "0.1 < age", "age != 4.9"])
def test_narrow_floats_compare_as_the_per_case_evaluator_does(rule: str) -> None:
    # float32 0.1 is not the double 0.1: compared in float32, it would equal the literal
    expr = check(parse(rule), rule, gen.SCOPE)
    table = pa.table({"age": pa.array([0.1, 4.9, None, 3.0], pa.float32())})
    assert _arrow(expr, table.to_batches(), table.column_names) == _per_case(expr, table)


# --- classify ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def language_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lang") / "t.toml"
    path.write_text(dump_language(gen.LANGUAGE), "utf-8")
    return path


def _plan(language: Path, groups: list[str], thresholds: list[str]) -> Plan:
    return Plan(
        name="random plan",
        language=str(language),
        need_groups=tuple(
            NeedGroup(code=f"G{i}", name=f"group {i}", rule=r) for i, r in enumerate(groups)
        ),
        services=tuple(
            Service(code=f"S{i}", name=f"service {i}", need_groups=("G0",), threshold=r)
            for i, r in enumerate(thresholds)
        ),
    )


def _rows(table: pa.Table, names: list[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = table.select(names).to_pylist()
    return rows


@SOME
@given(
    st.data(),
    st.lists(gen.rules, min_size=0, max_size=5),
    st.lists(gen.rules, max_size=2),
    st.sampled_from(["first", "all"]),
)
def test_classify_agrees_with_classify_case_and_streams(
    language_file: Path,
    data: st.DataObject,
    groups: list[str],
    thresholds: list[str],
    mode: ClassifyMode,
) -> None:
    plan = _plan(language_file, groups, thresholds)
    table = data.draw(gen.tables())
    whole = classify(table, plan, mode, missing_fields=True)
    assert isinstance(whole, pa.Table)
    added = [n for n in whole.column_names if n not in table.column_names]
    got = _rows(whole, added)
    prepared = prepare(plan, table.column_names)
    expected = [
        classify_row(Row(row, prepared.binding), prepared, mode) for row in table.to_pylist()
    ]
    assert got == expected
    if table.num_rows:  # the public one-case function gives the same
        assert classify_case(table.to_pylist()[0], plan, mode) == expected[0]

    batches = data.draw(gen.splits(table))

    def stream() -> Iterator[pa.RecordBatch]:
        yield from batches

    threads = data.draw(st.sampled_from([1, 2]))
    reader = classify(stream(), plan, mode, threads=threads, missing_fields=True)
    assert isinstance(reader, pa.RecordBatchReader)
    streamed = reader.read_all()
    assert streamed.schema == whole.schema
    assert _rows(streamed, whole.column_names) == _rows(whole, whole.column_names)
