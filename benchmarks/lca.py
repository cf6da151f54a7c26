"""Benchmark: ``mns.lca.suggest_groups`` against StepMix called directly, same data, same run.

Data: ``mns.synth.cases`` (synthetic CIN cases, drawn from latent need profiles) with the
first 40 CIN assessment-factor flags as indicators. Both sides fit k = 2..10 with the same
StepMix settings (``n_init`` random starts from the same seed, the same tolerance):

- mns: ``suggest_groups(cases, indicators=<the 40 columns>, k=range(2, 11))``, end to end:
  Arrow in, the model-choice table, the chosen model's classes described, draft rules
  drafted and evaluated by the rule engine, membership out. mns fits the distinct answer
  patterns weighted by their counts (the same likelihood, far fewer rows).
- StepMix: ``StepMix(measurement="binary").fit(X)`` for each k on the NumPy matrix of the
  cases that have factors (the matrix built outside the timing), then ``.bic(X)``: what a
  user of StepMix alone would run to get a BIC per k.

Run::

    .venv/bin/python -m benchmarks.lca                        # 10,000 and 100,000 cases
    .venv/bin/python -m benchmarks.lca --cases 10000 --n-init 2

CI never fails on a timing: this prints figures and the ratio mns / StepMix.
"""

from __future__ import annotations

import argparse
import time
import warnings
from typing import Any

import numpy as np
import pyarrow as pa

INDICATORS = 40
KS = range(2, 11)


def _data(n: int, seed: int) -> tuple[pa.Table, list[str]]:
    import mns

    cases = mns.synth.cases(n, seed=seed)
    flags = [
        c
        for c in cases.column_names
        if c.startswith("cin.") and pa.types.is_boolean(cases.schema.field(c).type)
    ][:INDICATORS]
    return cases, flags


def _mns(cases: pa.Table, flags: list[str], n_init: int, seed: int) -> tuple[float, Any]:
    from mns.lca import suggest_groups

    start = time.perf_counter()
    result = suggest_groups(cases, indicators=flags, k=KS, seed=seed, n_init=n_init)
    return time.perf_counter() - start, result


def _stepmix(
    cases: pa.Table, flags: list[str], n_init: int, seed: int, tol: float
) -> tuple[float, dict[int, float]]:
    from stepmix.stepmix import StepMix

    x = np.column_stack(
        [cases.column(f).cast(pa.float64()).to_numpy(zero_copy_only=False) for f in flags]
    )
    x = x[~np.isnan(x).all(axis=1)]
    missing = bool(np.isnan(x).any())
    bics: dict[int, float] = {}
    start = time.perf_counter()
    for k in KS:
        model = StepMix(
            n_components=k,
            measurement="binary_nan" if missing else "binary",
            n_init=n_init,
            abs_tol=tol,
            max_iter=1000,
            random_state=seed,
            progress_bar=0,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(x)
        bics[k] = float(model.bic(x))
    return time.perf_counter() - start, bics


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, action="append", help="cases (repeatable)")
    parser.add_argument("--n-init", type=int, default=3, help="random starts per k (default 3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--no-reference", action="store_true", help="time mns only (StepMix alone is slow)"
    )
    args = parser.parse_args(argv)
    sizes = args.cases or [10_000, 100_000]
    import stepmix.stepmix  # noqa: F401 - import once, outside every timing

    from mns.lca._data import select
    from mns.lca._fit import patterns

    print(
        f"latent class models, k = {KS.start}..{KS.stop - 1}, {INDICATORS} indicators, "
        f"n_init = {args.n_init}, seed = {args.seed}",
        flush=True,
    )
    for n in sizes:
        cases, flags = _data(n, args.seed)
        items, _ = select(cases, flags, "benchmark")
        n_patterns = patterns(items).counts.size
        t_mns, result = _mns(cases, flags, args.n_init, args.seed)
        print(
            f"{n:>9,} cases ({result.cases:,} with factors, {n_patterns:,} answer patterns): "
            f"mns {t_mns:.1f} s, recommends k = {result.recommended_k}",
            flush=True,
        )
        if args.no_reference:
            continue
        t_sm, bics = _stepmix(cases, flags, args.n_init, args.seed, tol=1e-6)
        k_sm = min(bics, key=lambda k: bics[k])
        print(
            f"{'':>9}        StepMix alone {t_sm:.1f} s, lowest BIC at k = {k_sm}; "
            f"ratio mns / StepMix = {t_mns / t_sm:.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
