"""``compare``: how the need groups changed between an audit and a re-audit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from mns import aggregate, stats
from mns.aggregate import Measure, Source, Spec
from mns.analyses import _common as common
from mns.disclosure import Block, Margin, Structure
from mns.plan.model import Plan

__all__ = ["compare"]


def _counts(cases: Source, by: str, what: str, engine: Any) -> dict[Any, int]:
    spec = Spec(keys=(by,), measures=(Measure("n", "count"),))
    state = aggregate.run({"x": spec}, cases, columns=[by], what=what, engine=engine)["x"]
    groups = common.as_text(state.column(by)).to_pylist()
    return dict(zip(groups, state.column("n").to_pylist(), strict=True))


def compare(
    baseline: Source,
    reaudit: Source,
    by: str = "need_group",
    *,
    plan: Plan | None = None,
    confidence: float = 0.95,
    engine: Any = None,
) -> pa.Table:
    """Compare the make-up of two samples (an audit and its re-audit) group by group.

    One row per group found in either sample (with ``plan``, every need group of the plan,
    ``unassigned`` and ``unknown``), sorted by ``<by>``:

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
    first = _counts(baseline, by, "baseline", engine)
    second = _counts(reaudit, by, "reaudit", engine)
    groups = common.dense([*first, *second], common.levels(plan, by))
    x1 = np.array([first.get(g, 0) for g in groups], dtype=np.int64)
    x2 = np.array([second.get(g, 0) for g in groups], dtype=np.int64)
    n1 = np.full(len(groups), int(x1.sum()), dtype=np.int64)
    n2 = np.full(len(groups), int(x2.sum()), dtype=np.int64)
    l1, h1 = stats.wilson_arrays(x1, n1, confidence)
    l2, h2 = stats.wilson_arrays(x2, n2, confidence)
    dl, dh = stats.newcombe_difference_arrays(x2, n2, x1, n1, confidence)
    z, p = stats.two_proportion_test_arrays(x2, n2, x1, n1)
    with np.errstate(divide="ignore", invalid="ignore"):
        s1 = np.where(n1 > 0, x1 / np.where(n1 > 0, n1, 1), np.nan)
        s2 = np.where(n2 > 0, x2 / np.where(n2 > 0, n2, 1), np.nan)
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
                total=Margin(label="baseline|all", column="baseline_total"),
            ),
            Block(
                count="reaudit",
                rows=(by,),
                total=Margin(label="reaudit|all", column="reaudit_total"),
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
