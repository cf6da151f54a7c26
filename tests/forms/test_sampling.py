"""Drawing the audit sample: reproducible, order-free, allocated as documented, and weighted."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import pyarrow as pa
import pytest
from hypothesis import given, strategies as st

import mns
from mns.errors import SchemaError
from mns.records.model import Audit, Role
from mns.sampling import Allocation, Sample, margin, sample, sample_size

AREAS = ("North", "South", "East", None)


def _cases(
    n: int, areas: Sequence[str | None] | None = None, agencies: Sequence[str] | None = None
) -> pa.Table:
    columns = {"case_id": [f"C{i:05d}" for i in range(n)]}
    table = pa.table(columns)
    if areas is not None:
        table = table.append_column("area", pa.array(areas, pa.string()).dictionary_encode())
    if agencies is not None:
        table = table.append_column("agency", pa.array(agencies, pa.string()))
    return table


@st.composite
def populations(draw: st.DrawFn) -> pa.Table:
    n = draw(st.integers(1, 120))
    areas = draw(st.lists(st.sampled_from(AREAS), min_size=n, max_size=n))
    return _cases(n, areas)


def test_exported_lazily() -> None:
    assert mns.sample is sample
    assert mns.sample_size is sample_size


def test_sample_size_known_values() -> None:
    # the textbook figures: 385 for +/- 5 points at 95%; 132 from 200 cases with the correction
    assert sample_size() == 385
    assert sample_size(population=200) == 132
    assert sample_size(margin=0.1) == 97
    assert sample_size(margin=0.05, confidence=0.99) == 664
    assert sample_size(share=0.2) == 246
    assert sample_size(population=10) == 10
    assert sample_size(population=1) == 1


@given(st.floats(0.01, 0.3), st.floats(0.05, 0.95), st.none() | st.integers(1, 100_000))
def test_sample_size_reaches_the_margin(
    target: float, share: float, population: int | None
) -> None:
    n = sample_size(margin=target, share=share, population=population)
    assert margin(n, share=share, population=population) <= target + 1e-9
    if n > 1:  # and one case fewer would not
        assert margin(n - 1, share=share, population=population) > target - 1e-9


@pytest.mark.parametrize(
    "kwargs",
    [{"margin": 0}, {"margin": 1.5}, {"confidence": 1}, {"share": 0}, {"population": 0}],
)
def test_sample_size_rejects_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        sample_size(**kwargs)  # type: ignore[arg-type]


def test_margin_of_200_cases() -> None:
    assert margin(200) == pytest.approx(0.0693, abs=1e-4)
    assert margin(200, population=200) == 0.0


@given(populations(), st.data())
def test_stratified_sample_invariants(cases: pa.Table, data: st.DataObject) -> None:
    strata = {str(a) for a in cases.column("area").to_pylist()}
    n = data.draw(st.integers(len(strata), cases.num_rows))
    allocation: Allocation = data.draw(st.sampled_from(["proportional", "equal"]))
    seed = data.draw(st.integers(0, 2**32))
    drawn = sample(cases, n, seed=seed, strata="area", allocation=allocation)

    ids = drawn.cases.column("case_id").to_pylist()
    assert len(ids) == n == drawn.audit.sample_size
    assert ids == sorted(set(ids))
    assert set(ids) <= set(cases.column("case_id").to_pylist())
    assert drawn.audit.population_size == cases.num_rows
    assert drawn.audit.sampling_fraction == pytest.approx(n / cases.num_rows)

    rows = drawn.strata.to_pylist()
    assert [r["stratum"] for r in rows] == sorted(r["stratum"] for r in rows)
    assert sum(r["population"] for r in rows) == cases.num_rows
    assert sum(r["sampled"] for r in rows) == n
    for r in rows:
        assert 1 <= r["sampled"] <= r["population"]
        assert drawn.audit.strata[r["stratum"]] == pytest.approx(r["sampled"] / r["population"])
    # weights: each stratum's sampled cases stand for exactly its population
    weights: dict[str, float] = {}
    for label, weight in zip(
        drawn.cases.column("stratum").to_pylist(),
        drawn.cases.column("sample_weight").to_pylist(),
        strict=True,
    ):
        weights[label] = weights.get(label, 0.0) + weight
    assert weights == pytest.approx({r["stratum"]: float(r["population"]) for r in rows})
    # each case is in the stratum its area says
    for area, label in zip(
        drawn.cases.column("area").to_pylist(),
        drawn.cases.column("stratum").to_pylist(),
        strict=True,
    ):
        assert label == f"area={'(missing)' if area is None else area}"
    if allocation == "proportional":
        for r in rows:
            quota = n * r["population"] / cases.num_rows
            assert r["sampled"] == 1 or abs(r["sampled"] - quota) < 1 + len(rows)


@given(populations(), st.integers(0, 1000), st.randoms(use_true_random=False))
def test_same_sample_whatever_the_row_order_or_batches(
    cases: pa.Table, seed: int, rnd: random.Random
) -> None:
    n = max(1, cases.num_rows // 3)
    first = sample(cases, n, seed=seed)
    order = list(range(cases.num_rows))
    rnd.shuffle(order)
    shuffled = cases.take(pa.array(order))
    again = sample(shuffled.to_batches(max_chunksize=7), n, seed=seed)
    assert again.cases.equals(first.cases)
    assert again.audit == first.audit


@given(populations(), st.integers(0, 1000), st.data())
def test_larger_samples_contain_smaller_ones(
    cases: pa.Table, seed: int, data: st.DataObject
) -> None:
    small = data.draw(st.integers(1, cases.num_rows))
    large = data.draw(st.integers(small, cases.num_rows))
    a = set(sample(cases, small, seed=seed).cases.column("case_id").to_pylist())
    b = set(sample(cases, large, seed=seed).cases.column("case_id").to_pylist())
    assert a <= b


def test_every_case_equally_likely() -> None:
    cases = _cases(20)
    counts = dict.fromkeys(cases.column("case_id").to_pylist(), 0)
    for seed in range(400):
        for case_id in sample(cases, 5, seed=seed).cases.column("case_id").to_pylist():
            counts[case_id] += 1
    # each case is drawn with probability 1/4: 100 of 400 draws, sd about 8.7
    assert all(60 < c < 140 for c in counts.values()), counts


def test_different_seeds_differ() -> None:
    cases = _cases(500)
    a = sample(cases, 50, seed=1).cases.column("case_id").to_pylist()
    b = sample(cases, 50, seed=2).cases.column("case_id").to_pylist()
    assert a != b


def test_two_fields_explicit_sizes_and_audit_template() -> None:
    areas = ["N", "N", "N", "S", "S", "S", "S", None]
    agencies = ["police", "school", "police", "police", "police", "school", "school", "police"]
    template = Audit(name="baseline-2026", locality="Northtown", role=Role.SHADOW)
    sizes = {
        "area=N; agency=police": 2,
        "area=N; agency=school": 1,
        "area=S; agency=police": 1,
        "area=S; agency=school": 2,
        "area=(missing); agency=police": 1,
    }
    drawn = sample(
        _cases(8, areas, agencies), sizes, seed=3, strata=["area", "agency"], audit=template
    )
    assert isinstance(drawn, Sample)
    assert drawn.audit.name == "baseline-2026"
    assert drawn.audit.locality == "Northtown"
    assert drawn.audit.role is Role.SHADOW
    assert drawn.audit.strata == {
        "area=(missing); agency=police": 1.0,
        "area=N; agency=police": 1.0,
        "area=N; agency=school": 1.0,
        "area=S; agency=police": 0.5,
        "area=S; agency=school": 1.0,
    }
    assert drawn.cases.num_rows == 7
    weights = dict(
        zip(
            drawn.cases.column("case_id").to_pylist(),
            drawn.cases.column("sample_weight").to_pylist(),
            strict=True,
        )
    )
    assert sorted(weights.values()) == [1.0] * 6 + [2.0]


def test_equal_allocation_caps_small_strata() -> None:
    areas = ["A"] * 2 + ["B"] * 50 + ["C"] * 50
    drawn = sample(_cases(102, areas), 30, seed=0, strata="area", allocation="equal")
    assert {r["stratum"]: r["sampled"] for r in drawn.strata.to_pylist()} == {
        "area=A": 2,
        "area=B": 14,
        "area=C": 14,
    }


def test_unstratified_sample_records_one_fraction() -> None:
    drawn = sample(_cases(40), 10, seed=5, audit="referrals-2025")
    assert drawn.audit.strata == {}
    assert drawn.audit.sampling_fraction == 0.25
    assert set(drawn.cases.column("stratum").to_pylist()) == {"all"}
    assert set(drawn.cases.column("sample_weight").to_pylist()) == {4.0}


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"n": 11}, ValueError, "n must be 1 to 10"),
        ({"n": 0}, ValueError, "n must be 1 to 10"),
        ({"n": 1, "strata": "area"}, ValueError, "smaller than the 2 strata"),
        ({"n": 2, "strata": "postcode"}, SchemaError, "no such column"),
        ({"n": 2, "seed": -1}, ValueError, "seed"),
        ({"n": 2, "allocation": "neyman", "strata": "area"}, ValueError, "allocation 'neyman'"),
        ({"n": {"area=N": 1}, "strata": "area"}, ValueError, "no sample size is given for strata"),
        ({"n": {"area=N": 9, "area=S": 1}, "strata": "area"}, ValueError, "must be 1 to 5"),
    ],
)
def test_bad_requests_say_what_to_do(
    kwargs: dict[str, object], error: type[Exception], words: str
) -> None:
    cases = _cases(10, ["N", "S"] * 5)
    args = {"seed": 1, **kwargs}
    with pytest.raises(error, match=words):
        sample(cases, **args)  # type: ignore[arg-type]


def test_bad_cases_are_named() -> None:
    with pytest.raises(SchemaError, match="occur more than once"):
        sample(pa.table({"case_id": ["a", "b", "a"]}), 1, seed=1)
    with pytest.raises(SchemaError, match="has no case_id"):
        sample(pa.table({"case_id": ["a", None]}), 1, seed=1)
    with pytest.raises(SchemaError, match="no 'case_id' column"):
        sample(pa.table({"id": ["a"]}), 1, seed=1)
    drawn = sample(_cases(5), 2, seed=1)
    with pytest.raises(SchemaError, match="look like a sample already"):
        sample(drawn.cases, 1, seed=1)


def test_weights_estimate_population_totals() -> None:
    # a need present in 30% of North and 60% of South: the weighted estimate is unbiased
    rnd = random.Random(7)
    areas = ["North"] * 900 + ["South"] * 100
    need = [rnd.random() < (0.3 if a == "North" else 0.6) for a in areas]
    cases = _cases(1000, areas).append_column("need", pa.array(need))
    truth = sum(need)
    estimates = []
    for seed in range(30):
        drawn = sample(cases, 100, seed=seed, strata="area", allocation="equal")
        rows = drawn.cases.to_pylist()
        estimates.append(sum(r["sample_weight"] for r in rows if r["need"]))
    mean = sum(estimates) / len(estimates)
    assert math.isclose(mean, truth, rel_tol=0.08), (mean, truth)
