"""Verify and repair: an interval attack by linear programming over every equation of the
tables being disclosed, and more complements wherever it narrows a withheld count too far.

The attacker knows every published count and every equation between counts (the margins of
each table, the shared identities across tables, ``base = count + rest``) and that counts are
not negative. For a withheld count the smallest and largest values consistent with all of
that are two linear programmes. A count is *exposed* when that range is one value, or, for a
small count (1 to ``min_count - 1``), when the range lies inside 1 to ``min_count - 1``.

An exposed count is *repaired* by the cheapest perturbation that moves it far enough (to 0 or
to ``min_count`` for a small count, by one for any other): a linear programme over the
counts near it minimising the weighted change of the published counts; the published counts
it changes are withheld too (secondary). Margins weigh far more than interior cells, so they
are withheld only when interior cells cannot carry the protection.

The LPs are solved per connected component of the withheld counts (two counts are connected
when an equation holds both), so each is small.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from mns.disclosure._lp import InfeasibleError, Lp
from mns.errors import MnsError

_EPS: Final = 1e-6
_INTERIOR: Final = 1.0  # weight of a unit change of an interior count
_HIDDEN: Final = 100.0  # of a total no table shows
_MARGIN: Final = 10_000.0  # of a total a table shows
_SHARED: Final = 1_000_000.0  # of one shown in every table (group sizes, the audit's total)
_ROUNDS: Final = 1000


class System:
    """The counts (``values``), which are unknown to the attacker (``unknown``), and the
    equations between them as a sparse matrix ``a`` with ``a @ values == 0``."""

    def __init__(
        self,
        values: Sequence[int],
        weights: Sequence[float],
        equations: Sequence[tuple[Sequence[int], int]],
    ) -> None:
        self.values = np.asarray(values, dtype=np.float64)
        self.weights = np.asarray(weights, dtype=np.float64)
        rows: list[int] = []
        cols: list[int] = []
        coefs: list[float] = []
        for r, (parts, total) in enumerate(equations):
            for p in parts:
                rows.append(r)
                cols.append(p)
                coefs.append(1.0)
            rows.append(r)
            cols.append(total)
            coefs.append(-1.0)
        shape = (len(equations), len(self.values))
        self.a = sp.csr_matrix((coefs, (rows, cols)), shape=shape)
        self.a.sum_duplicates()
        self.a_csc = self.a.tocsc()

    def equations_of(self, cells: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """The equations that hold any of ``cells``."""
        sub = self.a_csc[:, cells]
        return np.unique(sub.nonzero()[0])

    def cells_of(self, equations: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """The cells held by any of ``equations``."""
        return np.unique(self.a[equations].nonzero()[1])


def components(system: System, unknown: np.ndarray[Any, Any]) -> list[np.ndarray[Any, Any]]:
    """The unknown cells in groups linked by equations (an equation links its unknowns)."""
    where = np.flatnonzero(unknown)
    if not len(where):
        return []
    b = abs(system.a_csc[:, where]).astype(bool).astype(np.int8)
    link = (b.T @ b).tocsr()
    count, label = connected_components(link, directed=False)
    order = np.argsort(label, kind="stable")
    splits = np.flatnonzero(np.diff(label[order])) + 1
    return [where[g] for g in np.split(order, splits)][:count]


class _Component:
    """The attacker's LP over one component of the unknown cells."""

    def __init__(
        self, system: System, unknown: np.ndarray[Any, Any], component: np.ndarray[Any, Any]
    ) -> None:
        equations = system.equations_of(component)
        known = np.flatnonzero(~unknown)
        sub = system.a[equations]
        a_eq = sub[:, component]
        b_eq = -(sub[:, known] @ system.values[known])
        self.position = {int(c): k for k, c in enumerate(component)}
        self.size = len(component)
        self._lp = Lp(a_eq, b_eq)

    def optimum(self, weights: Mapping[int, float]) -> np.ndarray[Any, Any] | None:
        """A solution maximising the weighted sum of cells (None: unbounded)."""
        objective = np.zeros(self.size)
        for cell, w in weights.items():
            objective[self.position[cell]] = w
        try:
            found = self._lp.solve(objective, maximize=True)
        except InfeasibleError:
            raise MnsError(
                "disclose: the published counts are inconsistent; the disclosure structures "
                "do not describe the tables"
            ) from None
        return None if found is None else found[0]

    def value(self, point: np.ndarray[Any, Any], cell: int) -> float:
        return float(point[self.position[cell]])


def ranges(
    system: System,
    unknown: np.ndarray[Any, Any],
    component: np.ndarray[Any, Any],
    targets: Sequence[int],
) -> dict[int, tuple[float, float]]:
    """The smallest and largest value of each of ``targets`` (cells of ``component``) over
    every non-negative solution of the equations given the published cells."""
    lp = _Component(system, unknown, component)
    out: dict[int, tuple[float, float]] = {}
    for cell in targets:
        high = lp.optimum({cell: 1.0})
        low = lp.optimum({cell: -1.0})
        out[cell] = (
            0.0 if low is None else lp.value(low, cell),
            float(np.inf) if high is None else lp.value(high, cell),
        )
    return out


def exposed(
    system: System,
    unknown: np.ndarray[Any, Any],
    targets: dict[int, bool],
    min_count: int,
) -> list[tuple[int, bool]]:
    """The targets (cell -> whether it is a small count) the interval attack exposes."""
    found: list[tuple[int, bool]] = []
    for component in components(system, unknown):
        found += exposed_in(system, unknown, component, targets, min_count)
    return found


def exposed_in(
    system: System,
    unknown: np.ndarray[Any, Any],
    component: np.ndarray[Any, Any],
    targets: dict[int, bool],
    min_count: int,
) -> list[tuple[int, bool]]:
    """:func:`exposed` within one component of the unknown cells."""
    mine = [int(c) for c in component if int(c) in targets]
    if not mine:
        return []
    values = system.values

    def safe(cell: int, point: np.ndarray[Any, Any] | None, lp: _Component) -> bool:
        """Whether the solution ``point`` (None: unbounded above) proves ``cell`` safe."""
        if point is None:
            return True
        x, v = lp.value(point, cell), values[cell]
        if targets[cell]:
            return bool(x >= min_count - _EPS or x <= _EPS)
        return bool(abs(x - v) >= 1 - _EPS)

    lp = _Component(system, unknown, component)
    # solutions that push every pending cell at once certify many of them; push again while
    # that certifies any, then the rest get their own LPs (up, then down)
    pending = mine
    for sign in (1.0, -1.0):
        while pending:
            point = lp.optimum(dict.fromkeys(pending, sign))
            if point is None:  # some pending cell is unbounded: that says nothing of the rest
                break
            left = [c for c in pending if not safe(c, point, lp)]
            if len(left) == len(pending):
                break
            pending = left
    found = []
    for cell in pending:
        if safe(cell, lp.optimum({cell: 1.0}), lp) or safe(cell, lp.optimum({cell: -1.0}), lp):
            continue
        found.append((cell, targets[cell]))
    return found


def repair(
    system: System, unknown: np.ndarray[Any, Any], cell: int, small: bool, min_count: int
) -> np.ndarray[Any, Any]:
    """The published cells to withhold so that ``cell`` can move far enough: to 0 or to
    ``min_count`` for a small count, by one otherwise (whichever is cheaper)."""
    value = int(system.values[cell])
    moves = [-value, min_count - value] if small else [1, -1] if value >= 1 else [1]
    best: tuple[float, np.ndarray[Any, Any]] | None = None
    for move in moves:
        found = _perturb(system, unknown, cell, move)
        if found is not None and (best is None or found[0] < best[0]):
            best = found
    if best is None:
        raise MnsError(
            "disclose: no set of cells protects a withheld count (the tables' totals are "
            "inconsistent)"
        )
    return best[1]


def _perturb(
    system: System, unknown: np.ndarray[Any, Any], cell: int, move: int
) -> tuple[float, np.ndarray[Any, Any]] | None:
    """The cheapest change of the counts near ``cell`` that moves it by ``move`` and keeps
    every equation: its cost and the published cells it changes (None: impossible)."""
    weights = np.where(unknown, 0.0, system.weights)
    margins = system.weights >= _MARGIN
    region = np.array([cell])
    # grow the region of counts allowed to change: first through interior cells only, and
    # on while a larger region lowers the cost of a change that moves a published margin
    best: tuple[float, np.ndarray[Any, Any]] | None = None
    for level in range(5):
        region = np.union1d(region, system.cells_of(system.equations_of(region)))
        if level < 3:
            inner = region[~margins[region] | unknown[region]]
            region = np.union1d(region, system.cells_of(system.equations_of(inner)))
        found = _perturb_in(system, unknown, weights, region, cell, move)
        if found is None:
            continue
        if best is not None and found[0] >= best[0]:
            return best
        best = found
        if best[0] < _MARGIN:
            return best
    if best is not None:
        return best
    return _perturb_in(system, unknown, weights, np.arange(len(system.values)), cell, move)


def _perturb_in(  # noqa: PLR0917 - one LP's inputs
    system: System,
    unknown: np.ndarray[Any, Any],
    weights: np.ndarray[Any, Any],
    region: np.ndarray[Any, Any],
    cell: int,
    move: int,
) -> tuple[float, np.ndarray[Any, Any]] | None:
    """:func:`_perturb` within ``region``."""
    equations = system.equations_of(region)
    m = system.a[equations][:, region]
    n = len(region)
    a_eq = sp.hstack([m, -m]).tocsr()
    values = system.values[region]
    fixed_zero = (values == 0) & ~unknown[region]  # zeros are published, never complements
    up: list[tuple[float, float | None]] = [(0.0, 0.0 if z else None) for z in fixed_zero]
    down: list[tuple[float, float | None]] = [
        (0.0, 0.0 if z else float(v)) for z, v in zip(fixed_zero, values, strict=True)
    ]
    at = int(np.flatnonzero(region == cell)[0])
    up[at] = (max(move, 0), max(move, 0))
    down[at] = (max(-move, 0), max(-move, 0))
    w = weights[region]
    lower = [b[0] for b in up + down]
    upper = [b[1] for b in up + down]
    try:
        found = Lp(a_eq, np.zeros(a_eq.shape[0]), lower, upper).solve(np.concatenate([w, w]))
    except InfeasibleError:
        return None
    if found is None:
        return None
    x, cost = found
    delta = x[:n] - x[n:]
    changed = region[(np.abs(delta) > _EPS) & ~unknown[region]]
    return cost, changed


def _component_of(system: System, unknown: np.ndarray[Any, Any], cell: int) -> np.ndarray[Any, Any]:
    seen = {cell}
    frontier = np.array([cell])
    while len(frontier):
        reached = system.cells_of(system.equations_of(frontier))
        new = [int(c) for c in reached if unknown[c] and int(c) not in seen]
        seen.update(new)
        frontier = np.array(new, dtype=np.int64)
    return np.array(sorted(seen), dtype=np.int64)


def weight(cost: float, margin_cost: float, hidden_cost: float, *, shared: bool) -> float:
    """An LP weight from a cell's cost in the graph pass (see ``suppress``) and whether it is
    a shared identity: a group size withheld is lost from every table, a table's own total
    from one."""
    if cost >= margin_cost:
        return _SHARED if shared else _MARGIN
    if cost >= hidden_cost:
        return _HIDDEN
    return _INTERIOR + cost / 10_000.0


def secure(
    system: System,
    unknown: np.ndarray[Any, Any],
    primary: np.ndarray[Any, Any],
    shown: np.ndarray[Any, Any],
    min_count: int,
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Withhold more cells until the attack exposes no withheld count: the cells added, and
    the complements published again because the published cells already determine them.

    A complement the attacker can compute exactly protects nothing, and publishing it leaves
    every range as it was (it is checked against the withheld cells as they are then, since
    a repair elsewhere in the round may have withheld what determined it); any other exposed
    count gets more complements (:func:`repair`). A count once safe stays safe (neither step
    narrows any range), so each round checks only the counts not yet shown safe, and repairs
    one exposed count per component (a repair often protects its neighbours too)."""
    added = np.zeros(len(unknown), dtype=bool)
    released = np.zeros(len(unknown), dtype=bool)
    safe: set[int] = set()
    for _ in range(_ROUNDS):
        targets = {
            int(c): bool(primary[c])
            for c in np.flatnonzero(unknown & (primary | shown))
            if int(c) not in safe
        }
        if not targets:
            return added & unknown, released & ~unknown
        repaired = False
        before = unknown.copy()  # the round's components are of this state
        for component in components(system, before):
            mine = {int(c): targets[int(c)] for c in component if int(c) in targets}
            if not mine:
                continue
            found = exposed_in(system, before, component, mine, min_count)
            safe.update(set(mine) - {c for c, _ in found})
            pinned = [c for c, small in found if not small and _determined(system, unknown, c)]
            if pinned:
                unknown[pinned] = False
                released[pinned] = True
                repaired = True
            elif found:
                cell, small = found[0]
                more = repair(system, unknown, cell, small, min_count)
                unknown[more] = True
                added[more] = True
                repaired = True
        if not repaired:
            return added & unknown, released & ~unknown
    raise MnsError(f"disclose: protection did not converge in {_ROUNDS} rounds")


def _determined(system: System, unknown: np.ndarray[Any, Any], cell: int) -> bool:
    """Whether the published cells and the equations give ``cell`` exactly."""
    low, high = ranges(system, unknown, _component_of(system, unknown, cell), [cell])[cell]
    return high - low < _EPS


def prune(
    system: System,
    unknown: np.ndarray[Any, Any],
    primary: np.ndarray[Any, Any],
    shown: np.ndarray[Any, Any],
    min_count: int,
) -> np.ndarray[Any, Any]:
    """Publish again each withheld shown margin (secondary) whose protection other withheld
    cells already carry, dearest first: the margins published again."""
    candidates = np.flatnonzero(unknown & shown & ~primary & (system.weights >= _MARGIN))
    freed = np.zeros(len(unknown), dtype=bool)
    for cell in sorted(candidates, key=lambda c: (-system.weights[c], -system.values[c], c)):
        unknown[cell] = False
        if _exposed_near(system, unknown, primary, shown, int(cell), min_count):
            unknown[cell] = True
        else:
            freed[cell] = True
    return freed


def _exposed_near(  # noqa: PLR0917
    system: System,
    unknown: np.ndarray[Any, Any],
    primary: np.ndarray[Any, Any],
    shown: np.ndarray[Any, Any],
    cell: int,
    min_count: int,
) -> list[tuple[int, bool]]:
    """The withheld counts the attack exposes among those sharing an equation with ``cell``
    (and their components)."""
    near = system.cells_of(system.equations_of(np.array([cell])))
    seen: set[int] = set()
    for start in near:
        if not unknown[start] or int(start) in seen:
            continue
        component = _component_of(system, unknown, int(start))
        seen.update(int(c) for c in component)
        targets = {int(c): bool(primary[c]) for c in component if primary[c] or shown[c]}
        found = exposed_in(system, unknown, component, targets, min_count)
        if found:
            return found
    return []
