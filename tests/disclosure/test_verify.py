"""The verify step's interval attack on small systems whose answer is known by hand."""

from __future__ import annotations

import numpy as np

from mns.disclosure import verify


def _system() -> verify.System:
    # a + b = t (b and t published: a is pinned at 2), and a + h = u with h and u withheld,
    # so u has no upper bound
    a, b, t, h, u = range(5)
    return verify.System([2, 6, 8, 5, 7], [1.0] * 5, [([a, b], t), ([a, h], u)])


def test_a_pinned_small_count_is_exposed_beside_an_unbounded_one() -> None:
    system = _system()
    unknown = np.array([True, False, False, True, True])
    component = np.array([0, 3, 4])
    # pushing both at once is unbounded (u is): that must not certify a as safe
    found = verify.exposed_in(system, unknown, component, {0: True, 4: False}, min_count=5)
    assert found == [(0, True)]


def test_withholding_the_complement_protects_it() -> None:
    system = _system()
    unknown = np.array([True, True, False, True, True])
    found = verify.exposed(system, unknown, {0: True, 1: False, 4: False}, min_count=5)
    assert found == []
    low, high = verify.ranges(system, unknown, np.array([0, 1, 3, 4]), [0])[0]
    assert (low, high) == (0.0, 8.0)
