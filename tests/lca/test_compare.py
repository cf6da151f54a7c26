"""Classes against the panel's need groups (optimal label matching, kappa), and classes
aligned to a baseline's at re-audit."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from mns.errors import MnsError, SchemaError
from mns.lca import Suggestion, align, compare_classes, suggest_groups, what_the_data_suggests
from mns.stats import cohen_kappa
from tests.lca.gen import CLASSES, latent_cases


def _with_membership(result: Suggestion, classes: Sequence[int | None]) -> Suggestion:
    ids = [f"X{i:02d}" for i in range(len(classes))]
    membership = pa.table(
        {
            "case_id": ids,
            "class": pa.array(classes, pa.int32()),
            "posterior": [None if c is None else 1.0 for c in classes],
        }
    )
    return attrs.evolve(result, membership=membership)


def test_matching_and_kappa_on_a_known_table(result: Suggestion) -> None:
    # class 1 -> a (5 cases), class 2 -> b (3), class 3 -> a (2); X10 has no class, X11 no group
    fake = _with_membership(result, [1] * 5 + [2] * 3 + [3] * 2 + [None, 1])
    groups = pa.table(
        {"case_id": [f"X{i:02d}" for i in range(11)], "group": ["a"] * 5 + ["b"] * 3 + ["a"] * 3}
    )
    comparison = compare_classes(fake, groups, column="group")
    assert comparison.cases == 10
    assert comparison.only_in_classes == 1  # X11
    assert comparison.only_in_groups == 1  # X10
    assert comparison.agreement == pytest.approx(0.8)
    # rows: the classes' matched labels a, b and "class 3"; columns: the groups a, b, "class 3"
    expected = cohen_kappa([[5, 0, 0], [0, 3, 0], [2, 0, 0]])
    assert comparison.kappa == pytest.approx(expected.kappa)
    assert comparison.kappa == pytest.approx(0.36 / 0.56)
    assert comparison.kappa_interval == pytest.approx((expected.low, expected.high))
    assert comparison.confusion.to_pylist() == [
        {"class": 1, "need_group": "a", "cases": 5},
        {"class": 1, "need_group": "b", "cases": 0},
        {"class": 2, "need_group": "a", "cases": 0},
        {"class": 2, "need_group": "b", "cases": 3},
        {"class": 3, "need_group": "a", "cases": 2},
        {"class": 3, "need_group": "b", "cases": 0},
    ]
    matching = comparison.matching.to_pylist()
    assert [(r["class"], r["need_group"], r["agreeing"]) for r in matching] == [
        (1, "a", 5),
        (2, "b", 3),
        (3, None, 0),
    ]
    assert matching[0]["share_of_group"] == pytest.approx(5 / 7)


def test_more_groups_than_classes(result: Suggestion) -> None:
    fake = _with_membership(result, [1, 1, 1, 2, 2])
    groups = pa.table(
        {"case_id": [f"X{i:02d}" for i in range(5)], "need_group": ["a", "a", "c", "b", "b"]}
    )
    matching = compare_classes(fake, groups).matching.to_pylist()
    assert [(r["class"], r["need_group"]) for r in matching] == [(1, "a"), (2, "b"), (None, "c")]


def test_assignments_need_a_role_when_they_hold_several(
    result: Suggestion, data: tuple[pa.Table, pa.Table]
) -> None:
    _, truth = data
    n = truth.num_rows
    assignments = pa.table(
        {
            "case_id": pa.concat_arrays([truth["case_id"].combine_chunks()] * 2),
            "audit": pa.array(["baseline"] * (2 * n)).dictionary_encode(),
            "role": pa.array(["professional"] * n + ["shadow"] * n).dictionary_encode(),
            "need_group": pa.concat_arrays(
                [truth["need_group"].combine_chunks()] * 2
            ).dictionary_encode(),
        }
    )
    with pytest.raises(
        MnsError, match=r"several audits or roles \(baseline / professional, baseline / shadow\)"
    ):
        compare_classes(result, assignments)
    comparison = compare_classes(result, assignments, role="shadow")
    assert comparison.cases == n
    with pytest.raises(MnsError, match="no row has role 'panel'"):
        compare_classes(result, assignments, role="panel")
    with pytest.raises(SchemaError, match="no 'group' column"):
        compare_classes(result, assignments, column="group", role="shadow")


def test_align_keeps_labels_stable_at_reaudit(
    result: Suggestion, data: tuple[pa.Table, pa.Table]
) -> None:
    _, truth = data
    base_of = {
        r["need_group"]: r["class"]
        for r in compare_classes(result, truth).matching.to_pylist()
        if r["class"]
    }
    # a re-audit: new cases, the classes in other proportions (so size order differs), another seed
    cases2, truth2 = latent_cases(800, seed=2, weights=(0.2, 0.3, 0.5), prefix="R")
    again = suggest_groups(cases2, k=[3], seed=11, n_init=3)
    before = {
        r["need_group"]: r["class"]
        for r in compare_classes(again, truth2).matching.to_pylist()
        if r["class"]
    }
    assert before != base_of  # the labels did change, by size order
    aligned = align(again, result)
    after = {
        r["need_group"]: r["class"]
        for r in compare_classes(aligned, truth2).matching.to_pylist()
        if r["class"]
    }
    assert after == base_of
    assert aligned.alignment is not None
    rows = aligned.alignment.to_pylist()
    assert [r["class"] for r in rows] == [1, 2, 3]
    assert all(r["baseline_class"] == r["class"] and r["distance"] < 0.1 for r in rows)
    assert {r["previous_class"] for r in rows} == {1, 2, 3}
    # every table follows the new labels
    assert aligned.classes["class"].to_pylist() == [1, 2, 3]
    for name in CLASSES:
        ids = truth2.filter(pc.equal(truth2["need_group"], name))["case_id"]
        labels = aligned.membership.filter(pc.is_in(aligned.membership["case_id"], ids))["class"]
        assert pc.mode(labels)[0]["mode"].as_py() == base_of[name]
    assert "lca_alignment" in what_the_data_suggests(aligned).tables


def test_align_with_a_distance_limit_gives_new_labels(result: Suggestion) -> None:
    aligned = align(result, result, max_distance=0.0)  # itself: distance 0, still matched
    assert aligned.alignment is not None
    assert aligned.alignment["baseline_class"].to_pylist() == [1, 2, 3]
    far = align(result, result, max_distance=-1.0)
    assert far.alignment is not None
    assert far.alignment["class"].to_pylist() == [4, 5, 6]
    assert far.alignment["baseline_class"].null_count == 3


def test_align_needs_common_indicators(result: Suggestion) -> None:
    other = attrs.evolve(result, columns=("cin.9A",))
    with pytest.raises(MnsError, match="no indicator in common"):
        align(result, other)
