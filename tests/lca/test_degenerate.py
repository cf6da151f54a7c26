"""Empty, tiny and near-duplicate classes, a known failure of latent class fits at high k,
are detected, reported and never recommended."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from mns.lca import suggest_groups
from mns.lca._data import FLAG, Item
from mns.lca._fit import EmissionBlock, Fit, FitSettings, Patterns, problems
from mns.lca._suggest import _recommend

SETTINGS = FitSettings(
    seed=0, n_init=1, max_iter=100, tol=1e-6, min_class_size=5, duplicate_distance=0.1
)
COLUMNS = ("cin.2A", "cin.3A", "cin.4A")


def _items() -> list[Item]:
    return [Item(column=c, kind=FLAG, levels=(), data=np.zeros(1)) for c in COLUMNS]


def _patterns(counts: list[float]) -> Patterns:
    p = len(counts)
    return Patterns(
        matrix=np.zeros((p, 3)),
        counts=np.array(counts),
        rows=np.arange(int(sum(counts)), dtype=np.int64),
        inverse=np.zeros(int(sum(counts)), dtype=np.int64),
        blocks=(EmissionBlock(name="flags", model="binary", items=(0, 1, 2)),),
    )


def _fit(p_true: list[list[float]], posterior: list[list[float]], ll: float) -> Fit:
    prof = np.array(p_true)  # (k, items): P(flag | class)
    k = prof.shape[0]
    return Fit(
        k=k,
        log_likelihood=ll,
        parameters=(k - 1) + 3 * k,
        weights=np.full(k, 1 / k),
        posterior=np.array(posterior),
        profiles=tuple(np.column_stack([1 - prof[:, j], prof[:, j]]) for j in range(3)),
        starts=1,
        starts_at_best=1,
        converged=True,
        iterations=10,
    )


# four patterns of 50, 40, 3 and 7 cases
PATS = _patterns([50, 40, 3, 7])
DEGENERATE = _fit(
    [[0.9, 0.1, 0.1], [0.1, 0.9, 0.1], [0.11, 0.87, 0.1], [0.5, 0.5, 0.9], [0.1, 0.1, 0.9]],
    # pattern -> class: 0 -> 1, 1 -> 2, 2 -> 3 (3 cases), 3 -> 5; class 4 gets no case
    [
        [0.9, 0.05, 0.02, 0.02, 0.01],
        [0.05, 0.6, 0.3, 0.04, 0.01],
        [0.05, 0.3, 0.6, 0.04, 0.01],
        [0.01, 0.01, 0.01, 0.07, 0.9],
    ],
    ll=-100.0,
)
CLEAN = _fit(
    [[0.9, 0.1, 0.1], [0.1, 0.9, 0.1]],
    [[0.95, 0.05], [0.05, 0.95], [0.1, 0.9], [0.6, 0.4]],
    ll=-130.0,
)


def test_constructed_degenerate_classes_are_detected() -> None:
    found = problems(DEGENERATE, PATS, _items(), SETTINGS)
    assert found == [
        "class 3 has 3 cases (fewer than 5)",
        "class 4 is empty (no case is most likely to be in it)",
        "classes 2 and 3 are near-duplicates (they differ by at most 0.03, on cin.3A)",
    ]
    assert problems(CLEAN, PATS, _items(), SETTINGS) == []


def test_a_fit_that_failed_is_reported() -> None:
    broken = _fit([[np.nan, 0.1, 0.1], [0.1, 0.9, 0.1]], [[1, 0]] * 4, ll=-1.0)
    assert problems(broken, PATS, _items(), SETTINGS) == [
        "the fit failed (its estimates are not finite numbers)"
    ]


def test_degenerate_models_are_not_recommended_even_with_a_lower_bic() -> None:
    fits: dict[int, Fit | str] = {2: CLEAN, 5: DEGENERATE}
    found = {2: [], 5: problems(DEGENERATE, PATS, _items(), SETTINGS)}
    n = float(PATS.counts.sum())
    assert -2 * DEGENERATE.log_likelihood + DEGENERATE.parameters * np.log(n) < (
        -2 * CLEAN.log_likelihood + CLEAN.parameters * np.log(n)
    )
    k, reason = _recommend(fits, found, PATS, n_init=1)
    assert k == 2
    assert "k = 5 had a lower BIC but a problem class" in reason
    # when every model has a problem, the lowest BIC is named with its problems
    k, reason = _recommend({5: DEGENERATE}, {5: found[5]}, PATS, n_init=1)
    assert k == 5
    assert reason.startswith("Every model had a problem class; k = 5")
    assert "class 4 is empty" in reason


def test_more_classes_than_the_data_hold_are_flagged_in_a_real_fit() -> None:
    """Two patterns of 100 cases and two single cases cannot fill three classes of 5 or more."""
    patterns = [[1, 1, 1, 1]] * 100 + [[0, 0, 0, 0]] * 100 + [[1, 1, 1, 0], [0, 0, 0, 1]]
    value = np.array(patterns, dtype=bool)
    columns = (*COLUMNS, "cin.5A")
    table = pa.table(
        {
            "case_id": [f"C{i:03d}" for i in range(len(patterns))],
            **{c: value[:, j] for j, c in enumerate(columns)},
        }
    )
    result = suggest_groups(table, k=[2, 3, 5], seed=0, n_init=2)
    rows = {r["k"]: r for r in result.models.to_pylist()}
    assert rows[2]["problems"] is None
    assert rows[3]["problems"] is not None
    assert any(word in rows[3]["problems"] for word in ("empty", "near-duplicates", "fewer than 5"))
    assert rows[5]["fitted"] is False
    assert rows[5]["problems"] == "not fitted: 5 classes but only 4 different answer patterns"
    assert result.recommended_k == 2
