"""Synthetic areas: postcode districts nested in local authorities, with child populations.

District codes start with ``Q``, which no UK postcode area uses, so a synthetic area can never
be mistaken for a real place. Local-authority codes are ``Q001``, ``Q002``, ...
"""

from __future__ import annotations

import string

import attrs
import numpy as np
import numpy.typing as npt

__all__ = ["NATIONAL_AREAS", "Geography", "geography"]

#: Default number of districts: about England's postcode districts, in about 153 authorities.
NATIONAL_AREAS = 2300
DISTRICTS_PER_LA = 15
CHILDREN_PER_DISTRICT = 5200  # about 25,000 residents, a fifth of them under 18
CHILD_SHARE = 0.21  # children (under 18) among residents
GEO_STREAM = 7001

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@attrs.frozen(kw_only=True, eq=False)
class Geography:
    """Districts with their local authority, child population and relative case rate."""

    areas: tuple[str, ...]
    las: tuple[str, ...]  #: distinct LA codes
    la_of: Ints  #: index into ``las`` per area
    children: Ints
    residents: Ints
    rate: Floats  #: relative rate of cases per child (deprivation)

    @property
    def case_weights(self) -> Floats:
        """Probability that a case lives in each area."""
        w = self.children * self.rate
        return np.asarray(w / w.sum(), dtype=np.float64)


def _letters(i: int) -> str:
    """0 -> 'AA', 1 -> 'AB', ..., 675 -> 'ZZ', 676 -> 'BAA' (base 26, at least two letters)."""
    out = ""
    while True:
        i, r = divmod(i, 26)
        out = string.ascii_uppercase[r] + out
        if i == 0:
            break
    return out.rjust(2, "A")


def _zipf(rng: np.random.Generator, n: int, s: float) -> Floats:
    """Zipf weights 1/rank**s, ranks shuffled, summing to 1."""
    ranks = rng.permutation(n) + 1.0
    w = ranks**-s
    return np.asarray(w / w.sum(), dtype=np.float64)


def geography(seed: int, areas: int | None) -> Geography:
    """The areas of a synthetic country (``areas`` districts, default 2,300) for ``seed``.

    Local-authority sizes follow a Zipf law (exponent 0.8); each authority gets districts in
    proportion to its size (at least one), and districts within it follow a Zipf law
    (exponent 0.7). Each district has a relative case rate drawn from a log-normal law, so
    some districts send twice as many referrals per child as others.
    """
    n = NATIONAL_AREAS if areas is None else areas
    rng = np.random.default_rng([seed, GEO_STREAM, n])
    n_la = max(1, round(n / DISTRICTS_PER_LA))
    la_w = _zipf(rng, n_la, 0.8)
    # districts per LA: one each, the rest in proportion to size (largest remainders)
    quota = la_w * (n - n_la)
    per_la = np.floor(quota).astype(np.int64)
    short = (n - n_la) - int(per_la.sum())
    per_la[np.argsort(-(quota - per_la), kind="stable")[:short]] += 1
    per_la += 1
    la_of = np.repeat(np.arange(n_la, dtype=np.int64), per_la)
    within = np.empty(n, dtype=np.float64)
    start = 0
    for count in per_la.tolist():
        within[start : start + count] = _zipf(rng, count, 0.7)
        start += count
    weight = la_w[la_of] * within
    total = CHILDREN_PER_DISTRICT * n
    children = np.maximum(np.rint(weight * total), 1).astype(np.int64)
    residents = np.rint(children / rng.uniform(0.17, 0.25, n)).astype(np.int64)
    rate = np.exp(rng.normal(0.0, 0.35, n))
    district_no = np.concatenate([np.arange(1, c + 1) for c in per_la.tolist()])
    names = tuple(f"Q{_letters(int(la))}{int(k)}" for la, k in zip(la_of, district_no, strict=True))
    las = tuple(f"Q{i + 1:03d}" for i in range(n_la))
    return Geography(
        areas=names, las=las, la_of=la_of, children=children, residents=residents, rate=rate
    )


def locality(seed: int, names: tuple[str, ...], la: str, residents: int, stream: int) -> Geography:
    """One local authority made of the localities ``names`` with about ``residents`` people."""
    n = len(names)
    rng = np.random.default_rng([seed, GEO_STREAM, stream])
    weight = _zipf(rng, n, 0.6)
    people = np.rint(weight * residents).astype(np.int64)
    children = np.rint(people * rng.uniform(0.18, 0.24, n)).astype(np.int64)
    rate = np.exp(rng.normal(0.0, 0.35, n))
    return Geography(
        areas=names,
        las=(la,),
        la_of=np.zeros(n, dtype=np.int64),
        children=children,
        residents=people,
        rate=rate,
    )
