"""Fitting latent class models with StepMix over a range of k, and choosing among them.

The cases are collapsed to their distinct answer patterns (each weighted by how many cases
share it) before fitting: the likelihood is the same, and real audit data, where most
indicators are rare, has far fewer patterns than cases. Classes are numbered 1, 2, ... in
decreasing order of their estimated size, so that the same fit always gives the same labels.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np

from mns.errors import MnsError
from mns.lca._data import FLAG, Floats, Item

__all__ = ["Fit", "FitSettings", "Patterns", "fit_all", "patterns", "problems"]


@attrs.frozen(kw_only=True)
class FitSettings:
    """How models are fitted and judged."""

    seed: int
    n_init: int
    max_iter: int
    tol: float
    min_class_size: int
    duplicate_distance: float


@attrs.frozen(kw_only=True)
class EmissionBlock:
    """Consecutive columns of the pattern matrix fitted by one StepMix emission model.

    Columns with missing values need the full-information models (``binary_nan``,
    ``categorical_nan``); complete columns get the plain ones, which are faster.
    """

    name: str
    model: str  #: the StepMix emission model
    items: tuple[int, ...]  #: item indices, in column order
    max_levels: int = 0
    total_levels: int = 0

    @property
    def categorical(self) -> bool:
        """Whether the block holds ratings and categories (else flags)."""
        return self.model.startswith("categorical")


@attrs.frozen(kw_only=True, eq=False)
class Patterns:
    """The distinct answer patterns of the cases that have at least one observed item.

    ``matrix`` has one column per item, grouped in ``blocks``; ``rows`` are the fitted rows
    of the input table and ``inverse`` the pattern of each of them.
    """

    matrix: Floats
    counts: Floats
    rows: np.ndarray[Any, np.dtype[np.int64]]
    inverse: np.ndarray[Any, np.dtype[np.int64]]
    blocks: tuple[EmissionBlock, ...]

    @property
    def n(self) -> int:
        """How many cases are fitted."""
        return int(self.rows.size)


@attrs.frozen(kw_only=True, eq=False)
class Fit:
    """One fitted model, classes ordered by decreasing size."""

    k: int
    log_likelihood: float
    parameters: int
    weights: Floats  #: estimated class shares
    posterior: Floats  #: (patterns, k) probability of each class given the pattern
    profiles: tuple[Floats, ...]  #: per item (in the caller's order): (k, levels) P(value | class)
    starts: int
    starts_at_best: int
    converged: bool
    iterations: int


def _blocks(items: Sequence[Item], missing: Sequence[bool]) -> tuple[EmissionBlock, ...]:
    blocks = []
    for categorical in (False, True):
        for nan in (False, True):
            chosen = tuple(
                i
                for i, it in enumerate(items)
                if (it.kind != FLAG) == categorical and missing[i] == nan
            )
            if not chosen:
                continue
            base = "categorical" if categorical else "binary"
            levels = [items[i].n_levels for i in chosen] if categorical else []
            blocks.append(
                EmissionBlock(
                    name=("categories" if categorical else "flags") + ("_missing" if nan else ""),
                    model=base + ("_nan" if nan else ""),
                    items=chosen,
                    max_levels=max(levels, default=0),
                    total_levels=sum(levels),
                )
            )
    return tuple(blocks)


def patterns(items: Sequence[Item]) -> Patterns:
    """Collapse the cases to distinct patterns; cases with no observed item are left out."""
    coded = np.column_stack([np.where(np.isnan(it.data), -1, it.data) for it in items]).astype(
        np.int8
    )
    rows = np.flatnonzero((coded >= 0).any(axis=1)).astype(np.int64)
    missing = [bool((coded[rows, i] < 0).any()) for i in range(len(items))]
    blocks = _blocks(items, missing)
    order = [i for b in blocks for i in b.items]
    kept = np.ascontiguousarray(coded[np.ix_(rows, np.array(order, dtype=np.int64))])
    # one bytes key per row: much faster than np.unique(axis=0), and sorted the same way for all
    keys = kept.view(np.dtype((np.void, kept.shape[1]))).reshape(-1)
    _, first, inverse, counts = np.unique(
        keys, return_index=True, return_inverse=True, return_counts=True
    )
    unique = kept[first]
    return Patterns(
        matrix=np.where(unique < 0, np.nan, unique).astype(np.float64),
        counts=counts.astype(np.float64),
        rows=rows,
        inverse=np.asarray(inverse, dtype=np.int64).reshape(-1),
        blocks=blocks,
    )


def n_parameters(k: int, pats: Patterns) -> int:
    """Free parameters of a k-class model: class shares and item response probabilities
    (one per flag, levels - 1 per rating or category)."""
    per_class = sum(
        b.total_levels - len(b.items) if b.categorical else len(b.items) for b in pats.blocks
    )
    return (k - 1) + k * per_class


def _descriptor(pats: Patterns) -> dict[str, dict[str, Any]]:
    descriptor: dict[str, dict[str, Any]] = {}
    for b in pats.blocks:
        descriptor[b.name] = {"model": b.model, "n_columns": len(b.items)}
        if b.categorical:
            descriptor[b.name].update(
                integer_codes=True, max_n_outcomes=b.max_levels, total_outcomes=b.total_levels
            )
    return descriptor


def _profiles(
    params: dict[str, Any], items: Sequence[Item], pats: Patterns, k: int
) -> list[Floats]:
    out: list[Floats] = [np.empty((k, 0))] * len(items)
    measurement = params["measurement"]
    for b in pats.blocks:
        pis = np.asarray(measurement[b.name]["pis"], dtype=np.float64)
        if not b.categorical:  # (k, flags): P(1 | class)
            for col, idx in enumerate(b.items):
                p1 = np.clip(pis[:, col], 0.0, 1.0)
                out[idx] = np.column_stack([1.0 - p1, p1])
            continue
        pis = pis.reshape(k, len(b.items), b.max_levels)
        for col, idx in enumerate(b.items):
            p = np.clip(pis[:, col, : items[idx].n_levels], 0.0, 1.0)
            total = p.sum(axis=1, keepdims=True)
            out[idx] = p / np.where(total > 0, total, 1.0)
    return out


def fit_one(k: int, items: Sequence[Item], pats: Patterns, settings: FitSettings) -> Fit:
    """Fit a k-class model with StepMix (``settings.n_init`` starts from ``settings.seed``)."""
    try:
        from stepmix.stepmix import StepMix
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise MnsError(
            "suggest_groups needs StepMix: install the optional extra with "
            "`pip install 'mns[lca]'` (or `pip install stepmix`)"
        ) from error

    model = StepMix(
        n_components=k,
        measurement=_descriptor(pats),
        n_init=settings.n_init,
        max_iter=settings.max_iter,
        abs_tol=settings.tol,
        init_params="random",
        random_state=settings.seed,
        progress_bar=0,
        verbose=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence is read from the model, below
        with np.errstate(all="ignore"):
            model.fit(pats.matrix, sample_weight=pats.counts)
            n = float(pats.counts.sum())
            log_likelihood = float(model.score(pats.matrix, sample_weight=pats.counts)) * n
            posterior = np.asarray(model.predict_proba_class(pats.matrix), dtype=np.float64)
    params = model.get_parameters()
    weights = np.asarray(params["weights"], dtype=np.float64)
    profiles = _profiles(params, items, pats, k)
    order = np.argsort(-weights, kind="stable")
    starts = [float(v) * n for v in model.lower_bound_buffer_]
    best = max(starts)
    # starts that stopped within this of the best reached the same optimum (EM stops a little
    # short of it, by more when it crawls); distinct optima lie much further apart
    close = max(1.0, 1e-5 * abs(best))
    return Fit(
        k=k,
        log_likelihood=log_likelihood,
        parameters=n_parameters(k, pats),
        weights=weights[order],
        posterior=posterior[:, order],
        profiles=tuple(p[order] for p in profiles),
        starts=len(starts),
        starts_at_best=sum(1 for s in starts if best - s <= close),
        converged=int(model.n_iter_) < settings.max_iter,
        iterations=int(model.n_iter_),
    )


def not_fitted(k: int, pats: Patterns, items: Sequence[Item]) -> str | None:
    """Why a k-class model cannot be fitted to these data, or ``None``."""
    n = int(pats.counts.sum())
    params = n_parameters(k, pats)
    if k > n:
        return f"not fitted: {k} classes for {n} cases"
    if k > pats.counts.size:
        return f"not fitted: {k} classes but only {pats.counts.size} different answer patterns"
    if params >= n:
        return f"not fitted: {params} parameters for {n} cases"
    cells = math.prod(it.n_levels for it in items)
    if params > cells - 1:
        return (
            f"not fitted: {params} parameters but only {cells} possible answer patterns over "
            f"{len(items)} indicators, so the model is not identified"
        )
    return None


def max_difference(fit: Fit, a: int, b: int) -> tuple[float, int]:
    """The largest difference between classes ``a`` and ``b`` (0-based) over the items, as
    total variation (for a flag: the difference in prevalence), and the item where it is."""
    diffs = [0.5 * float(np.abs(p[a] - p[b]).sum()) for p in fit.profiles]
    where = int(np.argmax(diffs))
    return diffs[where], where


def class_sizes(fit: Fit, pats: Patterns) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Cases whose most likely class is each class."""
    modal = fit.posterior.argmax(axis=1)
    return np.bincount(modal, weights=pats.counts, minlength=fit.k).round().astype(np.int64)


def problems(fit: Fit, pats: Patterns, items: Sequence[Item], settings: FitSettings) -> list[str]:
    """What makes a fit unusable as a grouping: empty, tiny or near-duplicate classes."""
    out: list[str] = []
    if not np.all(np.isfinite(fit.posterior)) or not all(
        np.all(np.isfinite(p)) for p in fit.profiles
    ):
        return ["the fit failed (its estimates are not finite numbers)"]
    sizes = class_sizes(fit, pats)
    for c, size in enumerate(sizes):
        if size == 0:
            out.append(f"class {c + 1} is empty (no case is most likely to be in it)")
        elif size < settings.min_class_size:
            out.append(
                f"class {c + 1} has {int(size)} case{'s' if size != 1 else ''} "
                f"(fewer than {settings.min_class_size})"
            )
    for a in range(fit.k):
        for b in range(a + 1, fit.k):
            diff, where = max_difference(fit, a, b)
            if diff < settings.duplicate_distance:
                out.append(
                    f"classes {a + 1} and {b + 1} are near-duplicates (they differ by at most "
                    f"{diff:.2f}, on {items[where].column})"
                )
    return out


def fit_all(
    ks: Sequence[int], items: Sequence[Item], pats: Patterns, settings: FitSettings
) -> dict[int, Fit | str]:
    """Each k's fit, or the reason it was not fitted."""
    out: dict[int, Fit | str] = {}
    for k in ks:
        reason = not_fitted(k, pats, items)
        out[k] = reason if reason is not None else fit_one(k, items, pats, settings)
    return out
