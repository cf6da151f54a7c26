"""Cases drawn from known latent classes, with explicit class-conditional probabilities.

The recovery test fits latent class models to these and checks it finds the classes again,
so the probabilities below are the whole truth of the data: nothing else shapes it.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

#: Flags (real CIN factor codes, so that draft rules compile in the ``cin`` language).
FLAGS = ("cin.2A", "cin.2B", "cin.3A", "cin.3B", "cin.4A", "cin.4B", "cin.5A", "cin.6A")
RATING = "mns.emotional_wellbeing_concern"
CLASSES = ("drugs", "violence_mental_health", "disability")
#: P(flag | class), one row per class in the order of ``CLASSES``.
FLAG_P = np.array(
    [
        [0.85, 0.80, 0.10, 0.10, 0.15, 0.10, 0.10, 0.20],
        [0.10, 0.15, 0.85, 0.80, 0.80, 0.10, 0.10, 0.25],
        [0.10, 0.10, 0.15, 0.10, 0.10, 0.85, 0.80, 0.75],
    ]
)
#: P(rating = 0, 1, 2, 3 | class).
RATING_P = np.array([[0.60, 0.30, 0.10, 0.00], [0.20, 0.40, 0.30, 0.10], [0.05, 0.15, 0.40, 0.40]])
WEIGHTS = (0.45, 0.35, 0.20)


def latent_cases(
    n: int,
    *,
    seed: int,
    weights: tuple[float, ...] = WEIGHTS,
    missing: float = 0.05,
    prefix: str = "C",
) -> tuple[pa.Table, pa.Table]:
    """``n`` cases and their true classes (``case_id``, ``need_group`` = the class name).

    Each value is blanked with probability ``missing``, independently (missing at random).
    """
    rng = np.random.default_rng(seed)
    z = rng.choice(len(CLASSES), size=n, p=np.asarray(weights) / sum(weights))
    flags = rng.random((n, len(FLAGS))) < FLAG_P[z]
    cdf = np.cumsum(RATING_P[z], axis=1)
    rating = (rng.random(n)[:, None] > cdf).sum(axis=1).clip(0, 3)
    blank = rng.random((n, len(FLAGS) + 1)) < missing
    ids = [f"{prefix}{i:05d}" for i in range(n)]
    columns: dict[str, pa.Array] = {
        "case_id": pa.array(ids, pa.string()),
        "age": pa.array(rng.integers(0, 18, n), pa.int16()),
        "sex": pa.array(rng.choice(["F", "M"], n)).dictionary_encode(),
    }
    for j, name in enumerate(FLAGS):
        columns[name] = pa.array(flags[:, j], pa.bool_(), mask=blank[:, j])
    columns[RATING] = pa.array(rating, pa.int8(), mask=blank[:, -1])
    truth = pa.table({"case_id": ids, "need_group": [CLASSES[i] for i in z]})
    return pa.table(columns), truth
