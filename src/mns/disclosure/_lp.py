"""Linear programmes for the interval attack, solved by HiGHS through highspy.

One model per connected component stays loaded while only its objective changes, so each
re-solve starts from the last basis (warm start): the attack asks for the smallest and
largest value of many cells of the same component.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp
from highspy._core import _Highs

from mns.errors import MnsError

_STATUS = highspy.HighsModelStatus


class Lp:
    """``a_eq @ x == b_eq`` with ``lower <= x <= upper`` (``None``: no upper bound)."""

    def __init__(
        self,
        a_eq: Any,
        b_eq: np.ndarray[Any, Any],
        lower: Sequence[float] | np.ndarray[Any, Any] | None = None,
        upper: Sequence[float | None] | np.ndarray[Any, Any] | None = None,
    ) -> None:
        a = sp.csc_matrix(a_eq)
        n = a.shape[1]
        self.size = n
        model = highspy.HighsLp()
        model.num_col_ = n
        model.num_row_ = a.shape[0]
        model.col_cost_ = np.zeros(n)
        model.col_lower_ = np.zeros(n) if lower is None else np.asarray(lower, dtype=float)
        model.col_upper_ = (
            np.full(n, highspy.kHighsInf)
            if upper is None
            else np.array([highspy.kHighsInf if u is None else u for u in upper], dtype=float)
        )
        b = np.asarray(b_eq, dtype=float)
        model.row_lower_ = b
        model.row_upper_ = b
        model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        model.a_matrix_.start_ = a.indptr
        model.a_matrix_.index_ = a.indices
        model.a_matrix_.value_ = a.data.astype(float)
        # the bare solver: highspy.Highs adds Python log callbacks that print a banner to
        # the host's stdout, and threads for Ctrl-C handling we do not need
        self._highs = _Highs()
        self._highs.setOptionValue("output_flag", False)
        self._highs.setOptionValue("threads", 1)
        self._highs.passModel(model)
        self._everything = np.arange(n, dtype=np.int32)

    def solve(self, cost: np.ndarray[Any, Any], *, maximize: bool = False) -> Any:
        """An optimal point for ``cost`` (its values and the objective), or None when the
        objective is unbounded; :class:`InfeasibleError` when no point satisfies the constraints."""
        h = self._highs
        sense = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
        h.changeObjectiveSense(sense)
        h.changeColsCost(self.size, self._everything, np.asarray(cost, dtype=float))
        h.run()
        status = h.getModelStatus()
        if status == _STATUS.kOptimal:
            objective = float(h.getInfo().objective_function_value)
            return np.asarray(h.getSolution().col_value), objective
        if status in (_STATUS.kUnbounded, _STATUS.kUnboundedOrInfeasible):
            return None
        if status == _STATUS.kInfeasible:
            raise InfeasibleError
        raise MnsError(f"disclose: the LP solver stopped with {h.modelStatusToString(status)}")


class InfeasibleError(Exception):
    """No point satisfies the equations and bounds."""
