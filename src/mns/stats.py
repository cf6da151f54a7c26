"""The interval estimates and tests the analyses report, written out from their published formulas.

Every function takes plain numbers (or NumPy arrays, for the ``*_arrays`` forms the analyses use
on whole columns) and uses :mod:`math`, :class:`statistics.NormalDist`, NumPy and, for the
exact Poisson interval, SciPy's chi-square quantiles. See
``docs/explanation/statistics.md`` for the formulas, their assumptions and references.

- :func:`wilson`: the Wilson score interval for a proportion (Wilson 1927; Newcombe 1998a,
  method 3), with an effective sample size for weighted or finite-population estimates.
- :func:`newcombe_difference`: the hybrid score interval for a difference of two independent
  proportions (Newcombe 1998b, method 10).
- :func:`two_proportion_test`: the pooled two-sample z test of equal proportions.
- :func:`garwood`: the exact Poisson interval for a count (Garwood 1936), from chi-square
  quantiles (the inverse incomplete gamma function of :mod:`scipy.special`): what the rates
  use.
- :func:`byar`: Byar's approximation to the exact Poisson interval (kept for comparison; at
  small counts its lower limit is far off: about half the exact one at 1 case).
- :func:`cohen_kappa`: Cohen's kappa (1960) with the large-sample standard error of Fleiss,
  Cohen & Everitt (1969) and the test of kappa = 0.
- :func:`fleiss_kappa`: Fleiss' kappa (1971) for many raters, with the standard error under
  kappa = 0 of Fleiss, Nee & Landis (1979).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

__all__ = [
    "Kappa",
    "byar",
    "byar_arrays",
    "cohen_kappa",
    "fleiss_kappa",
    "garwood",
    "garwood_arrays",
    "newcombe_difference",
    "newcombe_difference_arrays",
    "two_proportion_test",
    "two_proportion_test_arrays",
    "wilson",
    "wilson_arrays",
    "z_for",
]

Floats = npt.NDArray[np.float64]
_NORMAL = NormalDist()


def z_for(confidence: float) -> float:
    """The two-sided standard normal quantile for ``confidence`` (1.959964... for 0.95)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence = {confidence} must be between 0 and 1 (e.g. 0.95)")
    return _NORMAL.inv_cdf(0.5 + confidence / 2.0)


def _as_float(values: Any) -> Floats:
    return np.asarray(values, dtype=np.float64)


def wilson_arrays(
    count: Any, n: Any, confidence: float = 0.95, *, n_effective: Any = None
) -> tuple[Floats, Floats]:
    """Wilson score intervals for ``count / n``, element by element; NaN where ``n`` is 0.

    ``n_effective`` (optional) replaces ``n`` in the interval's width while the proportion
    stays ``count / n``: a weighted share's Kish effective sample size, or a sample size
    inflated by ``1 / (1 - f)`` for the finite population correction. Infinite
    ``n_effective`` (a census) gives the point itself.
    """
    z = z_for(confidence)
    x, total = _as_float(count), _as_float(n)
    m = total if n_effective is None else _as_float(n_effective)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(total > 0, x / np.where(total > 0, total, 1.0), np.nan)
        z2n = np.where(np.isinf(m), 0.0, z * z / m)
        centre = (p + z2n / 2.0) / (1.0 + z2n)
        half = np.where(
            np.isinf(m),
            0.0,
            z * np.sqrt(np.maximum(p * (1.0 - p) / m + z2n / (4.0 * m), 0.0)) / (1.0 + z2n),
        )
        low = np.clip(centre - half, 0.0, 1.0)
        high = np.clip(centre + half, 0.0, 1.0)
    # exact ends: 0 successes give 0, all successes give 1 (no rounding drift)
    low = np.where(x == 0, 0.0, low)
    high = np.where(x == total, 1.0, high)
    bad = ~(m > 0) | ~(total > 0) | np.isnan(p)
    return np.where(bad, np.nan, low), np.where(bad, np.nan, high)


def wilson(count: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval (without continuity correction) for ``count`` of ``n``.

    ``(nan, nan)`` when ``n`` is 0. Newcombe (1998a), method 3: 81/263 gives
    (0.2553, 0.3662).
    """
    low, high = wilson_arrays([count], [n], confidence)
    return float(low[0]), float(high[0])


def newcombe_difference_arrays(
    x1: Any,
    n1: Any,
    x2: Any,
    n2: Any,
    confidence: float = 0.95,
    *,
    n_effective1: Any = None,
    n_effective2: Any = None,
) -> tuple[Floats, Floats]:
    """Newcombe's hybrid score intervals for ``x1/n1 - x2/n2``, element by element.

    ``n_effective1`` and ``n_effective2`` (optional) are the samples' effective sizes, as in
    :func:`wilson_arrays` (weighted shares, the finite population correction)."""
    a, b, c, d = _as_float(x1), _as_float(n1), _as_float(x2), _as_float(n2)
    l1, u1 = wilson_arrays(a, b, confidence, n_effective=n_effective1)
    l2, u2 = wilson_arrays(c, d, confidence, n_effective=n_effective2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p1 = np.where(b > 0, a / np.where(b > 0, b, 1.0), np.nan)
        p2 = np.where(d > 0, c / np.where(d > 0, d, 1.0), np.nan)
    diff = p1 - p2
    delta = np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    epsilon = np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return diff - delta, diff + epsilon


def newcombe_difference(
    x1: float, n1: float, x2: float, n2: float, confidence: float = 0.95
) -> tuple[float, float]:
    """The hybrid score interval for the difference ``x1/n1 - x2/n2`` of two independent
    proportions (Newcombe 1998b, method 10): 56/70 - 48/80 gives (0.0524, 0.3339)."""
    low, high = newcombe_difference_arrays([x1], [n1], [x2], [n2], confidence)
    return float(low[0]), float(high[0])


def two_proportion_test_arrays(
    x1: Any, n1: Any, x2: Any, n2: Any, *, n_effective1: Any = None, n_effective2: Any = None
) -> tuple[Floats, Floats]:
    """The pooled z statistic and two-sided p-value for equal proportions, element by element.

    Where the pooled proportion is 0 or 1 (no variation), z is 0 and p is 1; NaN where either
    sample is empty. With effective sizes (weighted shares, finite population correction)
    the shares stay ``x/n`` and the variance uses the effective sizes; two censuses (infinite
    effective sizes) have no sampling error: z is infinite where the shares differ.
    """
    a, b, c, d = _as_float(x1), _as_float(n1), _as_float(x2), _as_float(n2)
    m1 = b if n_effective1 is None else _as_float(n_effective1) * np.ones_like(b)
    m2 = d if n_effective2 is None else _as_float(n_effective2) * np.ones_like(d)
    with np.errstate(divide="ignore", invalid="ignore"):
        p1 = a / b
        p2 = c / d
        w1 = np.where(np.isinf(m1), 1.0, m1)
        w2 = np.where(np.isinf(m2), 1.0, m2)
        pooled = (p1 * w1 + p2 * w2) / (w1 + w2)
        se = np.sqrt(pooled * (1.0 - pooled) * (1.0 / m1 + 1.0 / m2))
        census = (se == 0) & (p1 != p2)
        z = np.where(se > 0, (p1 - p2) / np.where(se > 0, se, 1.0), 0.0)
        z = np.where(census, np.sign(p1 - p2) * np.inf, z)
    empty = ~(b > 0) | ~(d > 0)
    z = np.where(empty, np.nan, z)
    p = np.array([math.nan if math.isnan(v) else 2.0 * _NORMAL.cdf(-abs(v)) for v in z.tolist()])
    return z, p.astype(np.float64)


def two_proportion_test(x1: float, n1: float, x2: float, n2: float) -> tuple[float, float]:
    """The pooled two-sample z test of ``x1/n1 == x2/n2``: ``(z, two-sided p)``."""
    z, p = two_proportion_test_arrays([x1], [n1], [x2], [n2])
    return float(z[0]), float(p[0])


def _chi2_ppf(q: float, df: Floats) -> Floats:
    """The chi-square quantile ``q`` (0 < q < 1) with ``df`` degrees of freedom: what
    ``scipy.stats.chi2.ppf`` computes, from :mod:`scipy.special` alone (``scipy.stats``
    costs some 50 MB of memory to import; ``scipy.special`` half as much)."""
    from scipy.special import gammaincinv

    return np.asarray(2.0 * gammaincinv(df / 2.0, q), dtype=np.float64)


def garwood_arrays(count: Any, confidence: float = 0.95) -> tuple[Floats, Floats]:
    """Exact (Garwood 1936) Poisson intervals for counts, element by element: half the
    chi-square quantiles with ``2x`` and ``2x + 2`` degrees of freedom (lower 0 at 0)."""
    alpha = 1.0 - confidence
    z_for(confidence)  # checks confidence
    o = _as_float(count)
    if (o < 0).any() or not np.isfinite(o).all():
        raise ValueError("garwood: counts must be finite and 0 or more")
    low = np.where(o > 0, _chi2_ppf(alpha / 2.0, 2.0 * np.maximum(o, 1.0)) / 2.0, 0.0)
    high = _chi2_ppf(1.0 - alpha / 2.0, 2.0 * o + 2.0) / 2.0
    return np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)


def garwood(count: float, confidence: float = 0.95) -> tuple[float, float]:
    """The exact Poisson interval for an observed count (Garwood 1936); divide by the
    population for a rate's interval. 0 gives (0, 3.689), 1 gives (0.0253, 5.572), 10 gives
    (4.795, 18.390)."""
    low, high = garwood_arrays([count], confidence)
    return float(low[0]), float(high[0])


def byar_arrays(count: Any, confidence: float = 0.95) -> tuple[Floats, Floats]:
    """Byar's approximate Poisson intervals for counts, element by element (lower 0 at 0)."""
    z = z_for(confidence)
    o = _as_float(count)
    with np.errstate(divide="ignore", invalid="ignore"):
        safe = np.where(o > 0, o, 1.0)
        low = np.where(o > 0, o * (1.0 - 1.0 / (9.0 * safe) - z / (3.0 * np.sqrt(safe))) ** 3, 0.0)
        up = o + 1.0
        high = up * (1.0 - 1.0 / (9.0 * up) + z / (3.0 * np.sqrt(up))) ** 3
    return np.maximum(low, 0.0), high


def byar(count: float, confidence: float = 0.95) -> tuple[float, float]:
    """Byar's approximation to the exact (Garwood) Poisson interval for an observed count;
    divide by the population for a rate's interval. 10 gives (4.787, 18.392); exact is
    (4.795, 18.390)."""
    low, high = byar_arrays([count], confidence)
    return float(low[0]), float(high[0])


@attrs.frozen(kw_only=True)
class Kappa:
    """A kappa statistic with its inference.

    ``se`` is the large-sample standard error (for the interval ``low``-``high``); ``se0`` the
    standard error when kappa is 0 (for ``z`` and the two-sided ``p``). Fleiss' kappa has no
    interval here (``se``, ``low`` and ``high`` are NaN): see the statistics explanation.
    """

    kappa: float
    observed: float  #: observed agreement
    expected: float  #: agreement expected by chance
    n: int  #: subjects rated
    se: float
    low: float
    high: float
    se0: float
    z: float
    p: float


def _nan_kappa(observed: float, expected: float, n: int) -> Kappa:
    nan = math.nan
    return Kappa(
        kappa=nan,
        observed=observed,
        expected=expected,
        n=n,
        se=nan,
        low=nan,
        high=nan,
        se0=nan,
        z=nan,
        p=nan,
    )


def cohen_kappa(matrix: Sequence[Sequence[float]], confidence: float = 0.95) -> Kappa:
    """Cohen's kappa for a square table of counts (rows: rater A, columns: rater B).

    The standard error is Fleiss, Cohen & Everitt's (1969) large-sample formula; the test of
    kappa = 0 uses their standard error under the null. Kappa is NaN when chance agreement is
    1 (every case in one category for both raters).
    """
    table = _as_float(matrix)
    if table.ndim != 2 or table.shape[0] != table.shape[1]:
        raise ValueError(f"cohen_kappa needs a square table of counts, not shape {table.shape}")
    if (table < 0).any():
        raise ValueError("cohen_kappa: counts must not be negative")
    n = float(table.sum())
    if n == 0:
        return _nan_kappa(math.nan, math.nan, 0)
    p = table / n
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    po = float(np.trace(p))
    pe = float((rows * cols).sum())
    if pe >= 1.0:
        return _nan_kappa(po, pe, int(n))
    kappa = (po - pe) / (1.0 - pe)
    # Fleiss, Cohen & Everitt (1969), equation (13)
    diag = np.diag(p)
    a = float((diag * (1.0 - (rows + cols) * (1.0 - kappa)) ** 2).sum())
    off = p.copy()
    np.fill_diagonal(off, 0.0)
    b = (1.0 - kappa) ** 2 * float((off * (cols[:, None] + rows[None, :]) ** 2).sum())
    c = (kappa - pe * (1.0 - kappa)) ** 2
    var = max(a + b - c, 0.0) / (n * (1.0 - pe) ** 2)
    se = math.sqrt(var)
    # under kappa = 0 (their equation (14))
    var0 = (pe + pe * pe - float((rows * cols * (rows + cols)).sum())) / (n * (1.0 - pe) ** 2)
    se0 = math.sqrt(max(var0, 0.0))
    z_crit = z_for(confidence)
    z = kappa / se0 if se0 > 0 else math.nan
    return Kappa(
        kappa=kappa,
        observed=po,
        expected=pe,
        n=int(n),
        se=se,
        low=kappa - z_crit * se,
        high=kappa + z_crit * se,
        se0=se0,
        z=z,
        p=math.nan if math.isnan(z) else 2.0 * _NORMAL.cdf(-abs(z)),
    )


def fleiss_kappa(counts: Sequence[Sequence[float]]) -> Kappa:
    """Fleiss' kappa for subjects each rated by the same number of raters.

    ``counts[i][j]`` is how many raters put subject ``i`` in category ``j``. The test of
    kappa = 0 uses Fleiss, Nee & Landis's (1979) standard error under the null.
    """
    table = _as_float(counts)
    if table.ndim != 2 or table.shape[0] == 0:
        raise ValueError("fleiss_kappa needs a table: one row per subject, one column per category")
    raters = table.sum(axis=1)
    if (raters != raters[0]).any():
        raise ValueError(
            "fleiss_kappa: every subject must be rated by the same number of raters "
            f"(found {sorted(set(raters.astype(int).tolist()))})"
        )
    m, subjects = float(raters[0]), table.shape[0]
    if m < 2:
        raise ValueError("fleiss_kappa needs at least two ratings per subject")
    p_j = table.sum(axis=0) / (subjects * m)
    p_i = ((table * table).sum(axis=1) - m) / (m * (m - 1.0))
    observed = float(p_i.mean())
    expected = float((p_j * p_j).sum())
    if expected >= 1.0:
        return _nan_kappa(observed, expected, subjects)
    kappa = (observed - expected) / (1.0 - expected)
    pq = p_j * (1.0 - p_j)
    spq = float(pq.sum())
    var0 = (
        2.0 / (subjects * m * (m - 1.0)) * (spq**2 - float((pq * (1.0 - 2.0 * p_j)).sum())) / spq**2
    )
    se0 = math.sqrt(max(var0, 0.0))
    z = kappa / se0 if se0 > 0 else math.nan
    nan = math.nan
    return Kappa(
        kappa=kappa,
        observed=observed,
        expected=expected,
        n=subjects,
        se=nan,
        low=nan,
        high=nan,
        se0=se0,
        z=z,
        p=nan if math.isnan(z) else 2.0 * _NORMAL.cdf(-abs(z)),
    )
