"""The intervals and tests against published worked examples and independent computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

from mns import stats

# Newcombe, R. G. (1998a). Two-sided confidence intervals for the single proportion:
# comparison of seven methods. Statistics in Medicine 17, 857-872. Table II, method 3
# (Wilson score interval without continuity correction).
NEWCOMBE_1998A = [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0000, 0.1611),
    (1, 29, 0.0061, 0.1718),
]

# Newcombe, R. G. (1998b). Interval estimation for the difference between independent
# proportions: comparison of eleven methods. Statistics in Medicine 17, 873-890. Table II,
# method 10 (hybrid score interval).
NEWCOMBE_1998B = [
    (56, 70, 48, 80, 0.0524, 0.3339),
    (9, 10, 3, 10, 0.1705, 0.8090),
    (5, 56, 0, 29, -0.0381, 0.1926),
    (0, 10, 0, 20, -0.1611, 0.2775),
    (0, 10, 0, 10, -0.2775, 0.2775),
    (10, 10, 0, 20, 0.6791, 1.0000),
    (10, 10, 0, 10, 0.6075, 1.0000),
]


@pytest.mark.parametrize(("x", "n", "low", "high"), NEWCOMBE_1998A)
def test_wilson_matches_newcombe_1998a(x: int, n: int, low: float, high: float) -> None:
    got = stats.wilson(x, n)
    assert got == pytest.approx((low, high), abs=5e-5)


@pytest.mark.parametrize("example", NEWCOMBE_1998B)
def test_difference_matches_newcombe_1998b(
    example: tuple[int, int, int, int, float, float],
) -> None:
    x1, n1, x2, n2, low, high = example
    assert stats.newcombe_difference(x1, n1, x2, n2) == pytest.approx((low, high), abs=5e-5)


def _wilson_by_formula(x: int, n: int, z: float) -> tuple[float, float]:
    """Wilson (1927): the roots in p of (x/n - p)^2 = z^2 p (1 - p) / n."""
    a = 1 + z * z / n
    b = -(2 * x / n + z * z / n)
    c = (x / n) ** 2
    disc = math.sqrt(max(b * b - 4 * a * c, 0.0))
    return (-b - disc) / (2 * a), (-b + disc) / (2 * a)


@given(
    st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_wilson_solves_the_score_equation(xn: tuple[int, int], confidence: float) -> None:
    x, n = xn
    low, high = stats.wilson(x, n, confidence)
    want = _wilson_by_formula(x, n, stats.z_for(confidence))
    assert (low, high) == pytest.approx(want, abs=1e-9)
    assert 0.0 <= low <= x / n <= high <= 1.0


def test_wilson_of_nothing_is_undefined() -> None:
    low, high = stats.wilson(0, 0)
    assert math.isnan(low)
    assert math.isnan(high)


def test_census_has_no_sampling_error() -> None:
    low, high = stats.wilson_arrays([0.3], [1.0], n_effective=[math.inf])
    assert (low[0], high[0]) == (0.3, 0.3)


def test_effective_sample_size_widens_the_interval() -> None:
    narrow = stats.wilson_arrays([30], [100])
    wide = stats.wilson_arrays([30], [100], n_effective=[25])
    assert wide[0][0] < narrow[0][0]
    assert wide[1][0] > narrow[1][0]


def test_byar_is_close_to_the_exact_poisson_interval() -> None:
    # exact (Garwood) 95% limits for 10 events: chi2(0.025, 20)/2 and chi2(0.975, 22)/2
    low, high = stats.byar(10)
    assert low == pytest.approx(4.7954, rel=3e-3)
    assert high == pytest.approx(18.3904, rel=3e-3)
    assert stats.byar(0)[0] == 0.0


def test_two_proportion_test_by_hand() -> None:
    # 56/70 vs 48/80: pooled p = 104/150
    p = 104 / 150
    z_hand = (56 / 70 - 48 / 80) / math.sqrt(p * (1 - p) * (1 / 70 + 1 / 80))
    z, pval = stats.two_proportion_test(56, 70, 48, 80)
    assert z == pytest.approx(z_hand)
    assert pval == pytest.approx(2 * (1 - stats._NORMAL.cdf(abs(z_hand))))
    assert stats.two_proportion_test(0, 10, 0, 10) == (0.0, 1.0)


def test_cohen_kappa_fleiss_levin_paik_worked_example() -> None:
    # Fleiss, Levin & Paik (2003), Statistical Methods for Rates and Proportions, 3rd ed.,
    # section 18.1: diagnoses of 100 patients by two psychiatrists (psychotic, neurotic,
    # organic): observed agreement 0.89, chance agreement 0.66, kappa 0.68.
    table = [[75, 1, 4], [5, 4, 1], [0, 0, 10]]
    k = stats.cohen_kappa(table)
    assert k.observed == pytest.approx(0.89)
    assert k.expected == pytest.approx(0.66)
    assert round(k.kappa, 2) == 0.68
    assert k.low < k.kappa < k.high


def test_cohen_kappa_standard_errors_match_sas() -> None:
    # SAS PROC FREQ (AGREE) output for this table, as recorded in statsmodels' test suite
    # (statsmodels/stats/tests/test_inter_rater.py): kappa 0.4842, ASE 0.1380, 95% limits
    # 0.2137-0.7547; ASE under H0 0.1484, Z 3.2626, two-sided p 0.0011.
    k = stats.cohen_kappa([[0, 4, 1], [0, 8, 0], [0, 1, 5]])
    assert (k.kappa, k.se, k.low, k.high) == pytest.approx(
        (0.4842, 0.1380, 0.2137, 0.7547), abs=5e-5
    )
    assert (k.se0, k.z, k.p) == pytest.approx((0.1484, 3.2626, 0.0011), abs=5e-5)


def test_kappa_of_perfect_and_chance_agreement() -> None:
    assert stats.cohen_kappa([[10, 0], [0, 5]]).kappa == pytest.approx(1.0)
    assert stats.cohen_kappa([[25, 25], [25, 25]]).kappa == pytest.approx(0.0)
    assert math.isnan(stats.cohen_kappa([[7]]).kappa)  # everyone in one group: undefined
    with pytest.raises(ValueError, match="square"):
        stats.cohen_kappa([[1, 2, 3]])


# Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. Psychological
# Bulletin 76, 378-382, Table 1: 30 patients, 6 psychiatrists each, 5 diagnoses; kappa = .430.
FLEISS_1971 = [
    [4, 4, 4, 4, 4, 4],
    [2, 2, 2, 5, 5, 5],
    [2, 3, 3, 3, 3, 5],
    [5, 5, 5, 5, 5, 5],
    [2, 2, 2, 4, 4, 4],
    [1, 1, 3, 3, 3, 3],
    [3, 3, 3, 3, 5, 5],
    [1, 1, 3, 3, 3, 4],
    [1, 1, 4, 4, 4, 4],
    [5, 5, 5, 5, 5, 5],
    [1, 4, 4, 4, 4, 4],
    [1, 2, 4, 4, 4, 4],
    [2, 2, 2, 3, 3, 3],
    [1, 4, 4, 4, 4, 4],
    [2, 2, 4, 4, 4, 5],
    [3, 3, 3, 3, 3, 5],
    [1, 1, 1, 4, 5, 5],
    [1, 1, 1, 1, 1, 2],
    [2, 2, 4, 4, 4, 4],
    [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5],
    [2, 4, 4, 4, 4, 4],
    [2, 2, 4, 5, 5, 5],
    [1, 1, 4, 4, 4, 4],
    [1, 4, 4, 4, 4, 5],
    [2, 2, 2, 2, 2, 4],
    [1, 1, 1, 1, 5, 5],
    [2, 2, 4, 4, 4, 4],
    [1, 3, 3, 3, 3, 3],
    [5, 5, 5, 5, 5, 5],
]


def test_fleiss_kappa_fleiss_1971() -> None:
    counts = [[row.count(c) for c in range(1, 6)] for row in FLEISS_1971]
    k = stats.fleiss_kappa(counts)
    assert round(k.kappa, 3) == 0.430
    # z of Fleiss, Nee & Landis (1979), as R's irr::kappam.fleiss reports it: 17.65183
    assert k.z == pytest.approx(17.65183, abs=1e-4)


def test_fleiss_kappa_with_two_raters_is_close_to_cohen() -> None:
    # with two raters Fleiss' kappa is Scott's pi: equal to Cohen's when the margins agree
    pairs = [(0, 0)] * 20 + [(1, 1)] * 15 + [(0, 1)] * 5 + [(1, 0)] * 5
    counts = [[int(a == 0) + int(b == 0), int(a == 1) + int(b == 1)] for a, b in pairs]
    matrix = np.zeros((2, 2))
    for a, b in pairs:
        matrix[a, b] += 1
    assert stats.fleiss_kappa(counts).kappa == pytest.approx(
        stats.cohen_kappa(matrix.tolist()).kappa
    )


def test_bad_confidence_is_refused() -> None:
    with pytest.raises(ValueError, match="confidence"):
        stats.wilson(1, 2, confidence=95)
