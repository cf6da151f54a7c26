"""One fit shared by the latent class tests: 1,000 cases from three known classes."""

from __future__ import annotations

import pyarrow as pa
import pytest

from mns.lca import Suggestion, suggest_groups
from tests.lca.gen import latent_cases

N = 1000


@pytest.fixture(scope="session")
def data() -> tuple[pa.Table, pa.Table]:
    """The cases and their true classes."""
    return latent_cases(N, seed=1)


@pytest.fixture(scope="session")
def result(data: tuple[pa.Table, pa.Table]) -> Suggestion:
    """suggest_groups over k = 1..4."""
    cases, _ = data
    return suggest_groups(cases, k=[1, 2, 3, 4], seed=7, n_init=3)
