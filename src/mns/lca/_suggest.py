"""``suggest_groups``: latent class models over k, the recommended k and its classes described."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mns._tables import TableLike, materialise
from mns.errors import MnsError, SchemaError
from mns.lca import _data, _describe, _fit, _rules
from mns.lca._data import Item
from mns.lca._fit import Fit, FitSettings, Patterns

__all__ = ["Suggestion", "suggest_groups"]

WHAT = "suggest_groups"


@attrs.frozen(kw_only=True, eq=False)
class Suggestion:
    """What the data suggest: latent class models over k and the chosen model's classes.

    Every table is an Arrow table sorted by its key:

    - ``models``: one row per k tried (``k``, ``fitted``, ``log_likelihood``, ``parameters``,
      ``aic``, ``bic``, ``sabic``, ``caic``, ``entropy``, ``smallest_class``,
      ``smallest_share``, ``starts``, ``starts_at_best``, ``converged``, ``problems``,
      ``recommended``).
    - ``classes``: one row per class of the described model (``class``, ``cases``, ``share``,
      ``expected_cases``, ``mean_posterior``, ``median_age``, ``distinguishing``, ``rule``,
      ``precision``, ``recall``).
    - ``indicators``: class x event (``class``, ``rank``, ``event``, ``indicator``, ``label``,
      ``cases``, ``prevalence``, ``overall``, ``lift``).
    - ``demographics``: class x characteristic x value (``cases``, ``share``, ``overall``).
    - ``rules``: one draft rule per class (``class``, ``rule``, ``terms``, ``selected``,
      ``members``, ``true_positives``, ``precision``, ``recall``, ``f1``, ``evaluated_by``).
    - ``membership``: one row per case (``case_id``, ``class``, ``posterior``); class and
      posterior are null for a case with no observed indicator.
    - ``profiles``: the model's estimates, P(value | class) (``class``, ``indicator``,
      ``value``, ``probability``).
    - ``alignment``: after :func:`align`, each class with the baseline class it took the
      label of and their distance; ``None`` otherwise.
    """

    models: pa.Table
    classes: pa.Table
    indicators: pa.Table
    demographics: pa.Table
    rules: pa.Table
    membership: pa.Table
    profiles: pa.Table
    recommended_k: int
    k: int  #: the number of classes described (the recommended one unless chosen)
    reason: str
    columns: tuple[str, ...]  #: the indicator columns modelled
    dropped: tuple[tuple[str, str], ...]  #: columns left out, with the reason
    seed: int
    cases: int  #: cases fitted (with at least one observed indicator)
    alignment: pa.Table | None = None


def _ks(k: int | Iterable[int]) -> list[int]:
    values: list[Any] = list(k) if isinstance(k, Iterable) else [k]
    if not values:
        raise ValueError(
            f"{WHAT}: k is empty; give the numbers of classes to try, e.g. range(2, 13)"
        )
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise TypeError(f"{WHAT}: k must hold whole numbers of classes, not {v!r}")
        if int(v) < 1:
            raise ValueError(f"{WHAT}: k must hold whole numbers of classes of 1 or more, not {v}")
        out.append(int(v))
    return sorted(set(out))


def _check(name: str, value: Any, low: float, integral: bool = True) -> None:
    ok = isinstance(value, numbers.Integral) if integral else isinstance(value, numbers.Real)
    kind = "a whole number" if integral else "a number"
    if isinstance(value, bool) or not ok:
        raise TypeError(f"{WHAT}: {name} must be {kind} of at least {low}, not {value!r}")
    if value < low:
        raise ValueError(f"{WHAT}: {name} must be {kind} of at least {low}, not {value!r}")


def _labels(columns: Sequence[str]) -> dict[str, str]:
    """Indicator labels from the shipped languages (empty where a language is not known)."""
    from mns.lang import language

    out: dict[str, str] = {}
    cache: dict[str, Any] = {}
    for column in columns:
        lang, code = column.split(".", 1)
        if lang not in cache:
            try:
                cache[lang] = language(lang)
            except MnsError:
                cache[lang] = None
        found = cache[lang]
        if found is not None and code in found.by_code:
            out[column] = found.by_code[code].label
    return out


def _entropy(fit: Fit, pats: Patterns) -> float | None:
    if fit.k < 2:
        return None
    p = np.clip(fit.posterior, 1e-300, 1.0)
    total = float(-(pats.counts[:, None] * fit.posterior * np.log(p)).sum())
    return 1.0 - total / (float(pats.counts.sum()) * math.log(fit.k))


def _models(
    fits: dict[int, Fit | str], found: dict[int, list[str]], pats: Patterns, recommended: int
) -> pa.Table:
    n = float(pats.counts.sum())
    rows: list[dict[str, Any]] = []
    for k, fit in fits.items():
        if isinstance(fit, str):
            rows.append({"k": k, "fitted": False, "problems": fit, "recommended": False})
            continue
        ll, p = fit.log_likelihood, fit.parameters
        sizes = _fit.class_sizes(fit, pats)
        rows.append(
            {
                "k": k,
                "fitted": True,
                "log_likelihood": ll,
                "parameters": p,
                "aic": -2 * ll + 2 * p,
                "bic": -2 * ll + p * math.log(n),
                "sabic": -2 * ll + p * math.log((n + 2) / 24),
                "caic": -2 * ll + p * (math.log(n) + 1),
                "entropy": _entropy(fit, pats),
                "smallest_class": int(sizes.min()),
                "smallest_share": float(sizes.min()) / n,
                "starts": fit.starts,
                "starts_at_best": fit.starts_at_best,
                "converged": fit.converged,
                "problems": "; ".join(found[k]) or None,
                "recommended": k == recommended,
            }
        )
    schema = pa.schema(
        [
            ("k", pa.int32()),
            ("fitted", pa.bool_()),
            ("log_likelihood", pa.float64()),
            ("parameters", pa.int32()),
            ("aic", pa.float64()),
            ("bic", pa.float64()),
            ("sabic", pa.float64()),
            ("caic", pa.float64()),
            ("entropy", pa.float64()),
            ("smallest_class", pa.int64()),
            ("smallest_share", pa.float64()),
            ("starts", pa.int32()),
            ("starts_at_best", pa.int32()),
            ("converged", pa.bool_()),
            ("problems", pa.string()),
            ("recommended", pa.bool_()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def _argmin(values: dict[int, float]) -> int:
    return min(values, key=lambda k: (values[k], k))


def _recommend(
    fits: dict[int, Fit | str], found: dict[int, list[str]], pats: Patterns, n_init: int
) -> tuple[int, str]:
    n = float(pats.counts.sum())
    done = {k: f for k, f in fits.items() if isinstance(f, Fit)}
    if not done:
        reasons = "; ".join(f"k = {k}: {f}" for k, f in fits.items())
        raise MnsError(
            f"{WHAT}: no model could be fitted ({reasons}); try fewer classes or more cases",
            field="k",
        )
    crit = {
        name: {k: -2 * f.log_likelihood + f.parameters * pen for k, f in done.items()}
        for name, pen in (
            ("BIC", math.log(n)),
            ("SABIC", math.log((n + 2) / 24)),
            ("CAIC", math.log(n) + 1),
        )
    }
    clean = [k for k in done if not found[k]]
    parts: list[str] = []
    if clean:
        bic_clean = {k: crit["BIC"][k] for k in clean}
        best = _argmin(bic_clean)
        parts.append(
            f"k = {best} has the lowest BIC ({bic_clean[best]:,.1f}) among the {len(clean)} "
            f"model{'s' if len(clean) != 1 else ''} with no empty, small or near-duplicate class."
        )
        worse = sorted(k for k in done if found[k] and crit["BIC"][k] < bic_clean[best])
        if worse:
            listed = ", ".join(str(k) for k in worse)
            parts.append(f"k = {listed} had a lower BIC but a problem class (see problems).")
    else:
        best = _argmin(crit["BIC"])
        parts.append(
            f"Every model had a problem class; k = {best} has the lowest BIC "
            f"({crit['BIC'][best]:,.1f}) but: {'; '.join(found[best])}. Read its classes with care."
        )
    pool = clean or list(done)
    others = []
    for name in ("SABIC", "CAIC"):
        k_other = _argmin({k: crit[name][k] for k in pool})
        others.append(f"{name} {'agrees' if k_other == best else f'prefers k = {k_other}'}")
    parts.append("; ".join(others) + ".")
    if best == max(done) and len(done) > 1:
        parts.append(
            "BIC is lowest at the largest k fitted: fit larger k to see where it turns, and "
            "remember that many classes can also mean the indicators depend on each other "
            "within classes (see the explanation)."
        )
    fit = done[best]
    entropy = _entropy(fit, pats)
    if entropy is not None:
        quality = (
            "classes are well separated"
            if entropy >= 0.8
            else "classes are fairly well separated"
            if entropy >= 0.6
            else "many cases sit between classes, so memberships are uncertain"
        )
        parts.append(f"Entropy {entropy:.2f}: {quality}.")
    if n_init > 1 and fit.starts_at_best == 1:
        parts.append(
            f"Its best likelihood was reached by only 1 of {fit.starts} starts: "
            "refit with more starts (n_init) to check it is the best."
        )
    if not fit.converged:
        parts.append("Its fit stopped at max_iter before converging: raise max_iter.")
    return best, " ".join(parts)


def _profiles_table(fit: Fit, items: Sequence[Item]) -> pa.Table:
    rows: dict[str, list[Any]] = {"class": [], "indicator": [], "value": [], "probability": []}
    for item, prof in sorted(zip(items, fit.profiles, strict=True), key=lambda t: t[0].column):
        if item.kind == _data.FLAG:
            values = ["false", "true"]
        elif item.kind == _data.RATING:
            values = ["0", "1", "2", "3"]
        else:
            values = list(item.levels)
        for c in range(fit.k):
            for j, v in enumerate(values):
                rows["class"].append(c + 1)
                rows["indicator"].append(item.column)
                rows["value"].append(v)
                rows["probability"].append(float(prof[c, j]))
    table = pa.table(
        {
            "class": pa.array(rows["class"], pa.int32()),
            "indicator": pa.array(rows["indicator"], pa.string()),
            "value": pa.array(rows["value"], pa.string()),
            "probability": pa.array(rows["probability"], pa.float64()),
        }
    )
    return table.sort_by(
        [("class", "ascending"), ("indicator", "ascending"), ("value", "ascending")]
    )


def _membership(table: pa.Table, fit: Fit, pats: Patterns) -> pa.Table:
    n = table.num_rows
    cls = np.zeros(n, dtype=np.int32)
    post = np.full(n, np.nan)
    valid = np.zeros(n, dtype=bool)
    per_row = fit.posterior[pats.inverse]
    cls[pats.rows] = per_row.argmax(axis=1) + 1
    post[pats.rows] = per_row.max(axis=1)
    valid[pats.rows] = True
    out = pa.table(
        {
            "case_id": pc.cast(table.column("case_id"), pa.string()),
            "class": pa.array(cls, pa.int32(), mask=~valid),
            "posterior": pa.array(post, pa.float64(), mask=~valid),
        }
    )
    return out.sort_by("case_id")


def _check_ids(table: pa.Table) -> None:
    if "case_id" not in table.column_names:
        raise SchemaError(f"{WHAT}: the cases table has no 'case_id' column", field="case_id")
    ids = pc.cast(table.column("case_id"), pa.string())
    if ids.null_count:
        row = int(np.flatnonzero(ids.is_null().to_numpy(zero_copy_only=False))[0])
        raise SchemaError(
            f"{WHAT}: row {row + 1} has no case_id; every case needs one", field="case_id"
        )
    counts = pc.value_counts(ids)
    dup = counts.filter(pc.greater(counts.field("counts"), 1))
    if len(dup):
        first = sorted(v["values"] for v in dup.to_pylist())[0]
        raise SchemaError(
            f"{WHAT}: case_id {first!r} appears more than once; each case must be one row",
            field="case_id",
        )


def suggest_groups(
    cases: TableLike,
    *,
    indicators: str | Sequence[str] | None = None,
    k: int | Iterable[int] = range(2, 13),
    seed: int = 0,
    n_init: int = 10,
    max_iter: int = 1000,
    tol: float = 1e-6,
    min_class_size: int = 5,
    duplicate_distance: float = 0.1,
    choose: int | None = None,
) -> Suggestion:
    """Fit latent class models for each number of classes in ``k`` and describe the best.

    ``indicators`` are the columns modelled: ``None`` for every flag and rating column
    (``<language>.<code>``), a language name (``"cin"``) for its flag and rating columns, or a
    list of columns (flags, ratings 0-3 or categories). Missing values are left missing: the
    model uses what each case has (full-information maximum likelihood).

    Each k is fitted ``n_init`` times from random starts drawn from ``seed`` (EM stops when
    the average log-likelihood per case improves by less than ``tol``, or after ``max_iter``
    steps). A model with a class of fewer than ``min_class_size`` cases, or two classes whose
    answer probabilities differ by less than ``duplicate_distance`` on every indicator, is
    reported and not recommended. The recommended k has the lowest BIC among the others.
    ``choose`` describes another fitted k instead of the recommended one.

    Needs the optional extra ``mns[lca]`` (StepMix). The same inputs and seed give the same
    result.
    """
    _check("seed", seed, 0)
    _check("n_init", n_init, 1)
    _check("max_iter", max_iter, 1)
    _check("min_class_size", min_class_size, 1)
    _check("tol", tol, 0, integral=False)
    _check("duplicate_distance", duplicate_distance, 0, integral=False)
    ks = _ks(k)
    if choose is not None and choose not in ks:
        raise ValueError(f"{WHAT}: choose = {choose!r} is not among the k fitted ({ks})")
    table = materialise(cases, WHAT)
    _check_ids(table)
    items, dropped = _data.select(table, indicators, WHAT)
    if len(items) < 3:
        raise SchemaError(
            f"{WHAT}: {len(items)} usable indicator column{'s' if len(items) != 1 else ''} "
            f"({', '.join(it.column for it in items) or 'none'}); latent class analysis needs at "
            "least three" + (f" (left out: {', '.join(c for c, _ in dropped)})" if dropped else ""),
            field="indicators",
        )
    pats = _fit.patterns(items)
    if pats.n == 0:
        raise SchemaError(
            f"{WHAT}: no case has a value for any of the indicators", field="indicators"
        )
    settings = FitSettings(
        seed=int(seed),
        n_init=int(n_init),
        max_iter=int(max_iter),
        tol=float(tol),
        min_class_size=int(min_class_size),
        duplicate_distance=float(duplicate_distance),
    )
    fits = _fit.fit_all(ks, items, pats, settings)
    found = {
        kk: _fit.problems(f, pats, items, settings) if isinstance(f, Fit) else []
        for kk, f in fits.items()
    }
    recommended, reason = _recommend(fits, found, pats, settings.n_init)
    described = recommended if choose is None else choose
    fit = fits[described]
    if isinstance(fit, str):
        raise MnsError(f"{WHAT}: choose = {choose}: {fit}", field="choose")
    return _describe_fit(
        table=table,
        items=items,
        dropped=dropped,
        pats=pats,
        fits=fits,
        found=found,
        fit=fit,
        recommended=recommended,
        reason=reason,
        seed=settings.seed,
    )


def _describe_fit(
    *,
    table: pa.Table,
    items: Sequence[Item],
    dropped: Sequence[tuple[str, str]],
    pats: Patterns,
    fits: dict[int, Fit | str],
    found: dict[int, list[str]],
    fit: Fit,
    recommended: int,
    reason: str,
    seed: int,
) -> Suggestion:
    labels = _labels([it.column for it in items])
    events = [
        _data.Event(
            column=e.column,
            text=e.text,
            negation=e.negation,
            value=e.value[pats.rows],
            known=e.known[pats.rows],
        )
        for it in items
        for e in _data.events(it)
    ]
    modal = fit.posterior[pats.inverse].argmax(axis=1).astype(np.int64)
    # sums over the (sorted) patterns, weighted by their counts: the same whatever the row order
    pattern_modal = fit.posterior.argmax(axis=1)
    weighted = fit.posterior * pats.counts[:, None]
    indicators = _describe.lifts(events, modal, fit.k, labels)
    demographics = _describe.demographics(table, pats.rows, modal, fit.k)
    fitted = table.take(pa.array(pats.rows))
    rules = _rules.rules_table(
        [_describe.draft_rule(events, modal == c) for c in range(fit.k)], fitted, modal
    )
    sizes = np.bincount(modal, minlength=fit.k)
    ages = (
        pc.cast(fitted.column("age"), pa.float64()).to_numpy(zero_copy_only=False)
        if "age" in fitted.column_names
        else np.full(pats.n, np.nan)
    )
    rule_rows = {r["class"]: r for r in rules.to_pylist()}
    class_rows = []
    for c in range(fit.k):
        members = modal == c
        member_ages = ages[members]
        member_ages = member_ages[~np.isnan(member_ages)]
        class_rows.append(
            {
                "class": c + 1,
                "cases": int(sizes[c]),
                "share": float(sizes[c]) / pats.n,
                "expected_cases": float(weighted[:, c].sum()),
                "mean_posterior": (
                    float(weighted[pattern_modal == c, c].sum()) / float(sizes[c])
                    if sizes[c]
                    else None
                ),
                "median_age": float(np.median(member_ages)) if member_ages.size else None,
                "distinguishing": _describe.summary(indicators, c + 1),
                "rule": rule_rows[c + 1]["rule"],
                "precision": rule_rows[c + 1]["precision"],
                "recall": rule_rows[c + 1]["recall"],
            }
        )
    classes = pa.Table.from_pylist(
        class_rows,
        schema=pa.schema(
            [
                ("class", pa.int32()),
                ("cases", pa.int64()),
                ("share", pa.float64()),
                ("expected_cases", pa.float64()),
                ("mean_posterior", pa.float64()),
                ("median_age", pa.float64()),
                ("distinguishing", pa.string()),
                ("rule", pa.string()),
                ("precision", pa.float64()),
                ("recall", pa.float64()),
            ]
        ),
    )
    return Suggestion(
        models=_models(fits, found, pats, recommended),
        classes=classes,
        indicators=indicators,
        demographics=demographics,
        rules=rules,
        membership=_membership(table, fit, pats),
        profiles=_profiles_table(fit, items),
        recommended_k=recommended,
        k=fit.k,
        reason=reason,
        columns=tuple(sorted(it.column for it in items)),
        dropped=tuple(dropped),
        seed=seed,
        cases=pats.n,
    )
