"""``compare``: how the need groups changed between an audit and a re-audit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from mns import engines, stats
from mns._tables import TableLike
from mns.aggregate import Measure, Spec
from mns.analyses import _common as common
from mns.analyses.weighting import WEIGHT, WEIGHT2, Weighting, or_unweighted
from mns.disclosure import BASELINE, SAMPLE, SAMPLE_TOTAL, Block, Margin, Publication, Structure
from mns.engines import EngineLike
from mns.plan.model import Plan

__all__ = ["compare"]


def _counts(
    cases: TableLike, by: str, what: str, weighting: Weighting, engine: EngineLike
) -> tuple[dict[Any, tuple[int, float]], float]:
    """Per group: (cases, weighted cases); and the sum of squared weights times (1 - f)."""
    spec = Spec(
        keys=(by,),
        measures=(
            Measure("n", "count"),
            Measure("w", "sum", WEIGHT),
            Measure("w2", "sum", WEIGHT2),
        ),
    )
    state = engines.run(
        {"x": spec},
        cases,
        prepare=weighting.add,
        columns=list(dict.fromkeys([by, *weighting.columns])),
        what=what,
        engine=engine,
    )["x"]
    groups = common.as_text(state.column(by)).to_pylist()
    counts = zip(state.column("n").to_pylist(), state.column("w").to_pylist(), strict=True)
    w2 = float(sum(v or 0.0 for v in state.column("w2").to_pylist()))
    return dict(zip(groups, ((int(n), float(w or 0.0)) for n, w in counts), strict=True)), w2


def _effective(weights: Any, w2: float) -> float:
    """Kish's effective sample size with the finite population correction (inf: a census)."""
    total = float(np.sum(weights))
    return total * total / w2 if w2 > 0 else np.inf


def compare(
    baseline: TableLike,
    reaudit: TableLike,
    by: str = "need_group",
    *,
    plan: Plan | None = None,
    weighting: Weighting | None = None,
    baseline_weighting: Weighting | None = None,
    confidence: float = 0.95,
    engine: EngineLike = None,
) -> pa.Table:
    """Compare the make-up of two samples (an audit and its re-audit) group by group.

    Weights, as in :func:`mns.profile`: ``weighting`` for the re-audit and
    ``baseline_weighting`` for the baseline (:class:`~mns.Weighting`, e.g.
    ``Weighting.of(audit)``; a weights column of both samples is
    ``Weighting.by_column(name)`` given to both). The shares are then weighted, and their
    intervals and the test use Kish's effective sample size with the finite population
    correction (a census, fraction 1, has no sampling error). Without a weighting every case
    counts once.

    One row per group found in either sample (with ``plan``, every need group of the plan,
    then ``unassigned`` and ``unknown``, or ``(not placed)`` and ``(not audited)`` when the
    re-audit carries an audit group's grouping from :func:`mns.assign`), sorted by ``<by>``:

    - ``<by>`` (string): the group; null for cases with no value.
    - ``baseline``, ``reaudit`` (int64): cases in the group in each sample;
      ``baseline_total``, ``reaudit_total`` (int64): cases in each sample.
    - ``baseline_share``, ``baseline_low``, ``baseline_high``, and the same for ``reaudit``
      (float64): the group's share of its sample with Wilson intervals.
    - ``change`` (float64): ``reaudit_share - baseline_share``; ``change_low``,
      ``change_high``: Newcombe's hybrid score interval for it.
    - ``z``, ``p_value`` (float64): the pooled two-sample z test of equal shares.
    - ``status`` (string): ``both`` (in both samples), ``appeared`` (only in the re-audit),
      ``vanished`` (only in the baseline) or ``neither``. The change in unassigned cases is
      the ``unassigned`` row.
    """
    before = or_unweighted(baseline_weighting)
    after = or_unweighted(weighting)
    schema, reaudit = common.peek(reaudit, "reaudit")
    first, w2_1 = _counts(baseline, by, "baseline", before, engine)
    second, w2_2 = _counts(reaudit, by, "reaudit", after, engine)
    groups = common.dense([*first, *second], common.levels(plan, by, schema))
    x1 = np.array([first.get(g, (0, 0.0))[0] for g in groups], dtype=np.int64)
    x2 = np.array([second.get(g, (0, 0.0))[0] for g in groups], dtype=np.int64)
    n1 = np.full(len(groups), int(x1.sum()), dtype=np.int64)
    n2 = np.full(len(groups), int(x2.sum()), dtype=np.int64)
    # the shares and their intervals use the weights; the counts shown stay the cases
    v1 = np.array([first.get(g, (0, 0.0))[1] for g in groups], dtype=np.float64)
    v2 = np.array([second.get(g, (0, 0.0))[1] for g in groups], dtype=np.float64)
    t1 = np.full(len(groups), float(v1.sum()))
    t2 = np.full(len(groups), float(v2.sum()))
    m1 = np.full(len(groups), _effective(v1, w2_1))
    m2 = np.full(len(groups), _effective(v2, w2_2))
    l1, h1 = stats.wilson_arrays(v1, t1, confidence, n_effective=m1)
    l2, h2 = stats.wilson_arrays(v2, t2, confidence, n_effective=m2)
    dl, dh = stats.newcombe_difference_arrays(
        v2, t2, v1, t1, confidence, n_effective1=m2, n_effective2=m1
    )
    z, p = stats.two_proportion_test_arrays(v2, t2, v1, t1, n_effective1=m2, n_effective2=m1)
    with np.errstate(divide="ignore", invalid="ignore"):
        s1 = np.where(t1 > 0, v1 / np.where(t1 > 0, t1, 1), np.nan)
        s2 = np.where(t2 > 0, v2 / np.where(t2 > 0, t2, 1), np.nan)
    status = [
        "both" if a and b else "appeared" if b else "vanished" if a else "neither"
        for a, b in zip(x1.tolist(), x2.tolist(), strict=True)
    ]

    def floats(values: Any) -> pa.Array:
        arr = np.asarray(values, dtype=np.float64)
        return pa.array(arr, pa.float64(), mask=np.isnan(arr))

    table = pa.table(
        {
            by: pa.array(groups, pa.string()),
            "baseline": pa.array(x1, pa.int64()),
            "baseline_total": pa.array(n1, pa.int64()),
            "baseline_share": floats(s1),
            "baseline_low": floats(l1),
            "baseline_high": floats(h1),
            "reaudit": pa.array(x2, pa.int64()),
            "reaudit_total": pa.array(n2, pa.int64()),
            "reaudit_share": floats(s2),
            "reaudit_low": floats(l2),
            "reaudit_high": floats(h2),
            "change": floats(s2 - s1),
            "change_low": floats(dl),
            "change_high": floats(dh),
            "z": floats(z),
            "p_value": floats(p),
            "status": pa.array(status, pa.string()),
        }
    )
    both = ("baseline", "baseline_total", "reaudit", "reaudit_total")
    structure = Structure(
        blocks=(
            Block(
                count="baseline",
                rows=(by,),
                label=f"{BASELINE}.{by}",  # shared identities: see mns.disclosure
                key=(by,),
                total=Margin(label=f"{BASELINE}.total", column="baseline_total"),
            ),
            Block(
                count="reaudit",
                rows=(by,),
                label=f"{SAMPLE}.{by}",
                key=(by,),
                total=Margin(label=SAMPLE_TOTAL, column="reaudit_total"),
            ),
        ),
        derived={
            **{f"baseline_{k}": ("baseline", "baseline_total") for k in ("share", "low", "high")},
            **{f"reaudit_{k}": ("reaudit", "reaudit_total") for k in ("share", "low", "high")},
            **dict.fromkeys(("change", "change_low", "change_high", "z", "p_value"), both),
        },
    )
    floats_ = [c for c in table.column_names if table.schema.field(c).type == pa.float64()]
    return common.finish(table, [by], structure, not_applicable=floats_, analysis="compare")


#: What this module publishes (see :mod:`mns.disclosure.publication`).
PUBLICATIONS = (
    Publication(name="compare", title="Change in need groups since the baseline audit"),
)
