"""Synthetic cases: seeded, deterministic, in the canonical schema, coded as the CIN census.

For tests, benchmarks and the demo. Nothing here comes from real children's records: every
value is drawn from an invented model (see ``docs/explanation/exampleshire.md``)::

    import mns
    cases = mns.synth.cases(10_000, seed=1)               # a pyarrow Table
    recs = mns.synth.records(2_000, seed=1)               # cases, services, outcomes, assignments
    pop = mns.synth.population(seed=1)                    # children by postcode district

Each case has a latent *need profile* (one per need group of the demo plan, plus a residual
low-need profile) and its CIN assessment factors, primary need, referral source, age, sex and
what happened next are drawn given that profile, so factors are correlated as in real data.
The same seed gives the same tables, whatever the batch size and whatever else has run.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from mns._version import __version__
from mns.records import schema
from mns.records.bundle import Provenance, Records
from mns.synth import _cases, _model, _records
from mns.synth._geography import Geography, geography

__all__ = ["COHORTS", "PROFILES", "batches", "cases", "population", "records"]

#: The latent need profiles: the demo plan's need-group codes and ``"low_need"``.
PROFILES: tuple[str, ...] = tuple(p.code for p in _model.PROFILES)
#: The values ``cases(..., cohort=...)`` accepts (``None`` too).
COHORTS: tuple[str, ...] = _cases.COHORTS


def _n(x: int) -> str:
    return f"{x:,}" if x >= 10_000 else str(x)


def _check_int(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"mns.synth: {name} must be a whole number, not {value!r}")
    if not low <= int(value) <= high:
        raise ValueError(f"mns.synth: {name} = {value} is outside {_n(low)}-{_n(high)}")
    return int(value)


def _weights(weights: Mapping[str, float] | None, referral: bool) -> npt.NDArray[np.float64]:
    base = {p.code: (p.referral_weight if referral else p.weight) for p in _model.PROFILES}
    for code, w in (weights or {}).items():
        if code not in base:
            raise ValueError(
                f"mns.synth: weights names unknown profile {code!r}; profiles are "
                + ", ".join(repr(c) for c in base)
            )
        if not w >= 0:
            raise ValueError(f"mns.synth: weights[{code!r}] = {w} must be 0 or more")
        base[code] = float(w)
    total = sum(base.values())
    if total <= 0:
        raise ValueError("mns.synth: weights leave no profile with a positive weight")
    return np.array([base[p.code] / total for p in _model.PROFILES])


def _scenario(
    *,
    seed: int,
    year: int,
    areas: int | None,
    cohort: str | None,
    weights: Mapping[str, float] | None,
    geo: Geography | None = None,
    prefix: str = "C",
) -> _cases.Scenario:
    _check_int("seed", seed, 0, 2**63 - 1)
    _check_int("year", year, _cases.FIRST_FACTOR_YEAR, 2100)
    if areas is not None:
        _check_int("areas", areas, 1, 100_000)
    if cohort is not None and cohort not in COHORTS:
        raise ValueError(
            f"mns.synth: cohort {cohort!r} is not one of {', '.join(map(repr, COHORTS))} "
            "(or None: each case's cohort follows how far it went)"
        )
    return _cases.Scenario(
        year=year,
        weights=_weights(weights, referral=cohort == "referral"),
        cohort=cohort,
        geography=geo if geo is not None else geography(seed, areas),
        prefix=prefix,
    )


def _cases_schema(year: int) -> pa.Schema:
    from mns.lang import language

    return schema.cases_schema([language("cin")], year)


def _blanker(seed: int, block: int, n: int, missing: float) -> _Blank:
    return _Blank(np.random.default_rng([seed, _cases.MISSING_STREAM, block]), n, missing)


class _Blank:
    """Gives each nullable column in turn its own random mask of values to blank."""

    def __init__(self, rng: np.random.Generator, n: int, share: float) -> None:
        self.rng, self.n, self.share = rng, n, share

    def __call__(self) -> npt.NDArray[np.bool_] | None:
        if self.share <= 0:
            return None
        return self.rng.random(self.n) < self.share


def _frame_batches(
    scenario: _cases.Scenario, n: int, seed: int, missing: float
) -> Iterator[tuple[int, _cases.Frame, pa.RecordBatch]]:
    sch = _cases_schema(scenario.year)
    for block, frame in enumerate(_cases.frames(scenario, n, seed)):
        blank = _blanker(seed, block, frame.size, missing)
        yield block, frame, _cases.to_batch(frame, scenario, sch, blank)


def _rebatch(
    batches: Iterator[pa.RecordBatch], schema_: pa.Schema, size: int
) -> Iterator[pa.RecordBatch]:
    """The rows of ``batches`` again, in batches of ``size`` rows (the last may be shorter)."""
    pending: list[pa.RecordBatch] = []
    held = 0
    for whole in batches:
        rest = whole
        while rest.num_rows:
            take = min(size - held, rest.num_rows)
            pending.append(rest.slice(0, take))
            held += take
            rest = rest.slice(take)
            if held == size:
                yield _concat(pending, schema_)
                pending, held = [], 0
    if held:
        yield _concat(pending, schema_)


def _concat(parts: list[pa.RecordBatch], schema_: pa.Schema) -> pa.RecordBatch:
    if len(parts) == 1:
        return parts[0]
    table = pa.Table.from_batches(parts, schema=schema_).combine_chunks()
    return table.to_batches()[0]


def batches(
    n: int,
    *,
    seed: int,
    year: int = 2024,
    areas: int | None = None,
    missing: float = 0.0,
    batch_size: int = _cases.BLOCK,
    cohort: str | None = None,
    weights: Mapping[str, float] | None = None,
) -> Iterator[pa.RecordBatch]:
    """The rows of :func:`cases` as a stream of record batches of ``batch_size`` rows, drawn
    as they are consumed (memory stays at one block of 65,536 cases, whatever ``n``)."""
    _check_int("n", n, 0, _cases.MAX_CASES)
    _check_int("batch_size", batch_size, 1, 2**31 - 1)
    if not 0.0 <= missing < 1.0:
        raise ValueError(f"mns.synth: missing = {missing} must be at least 0 and below 1")
    scenario = _scenario(seed=seed, year=year, areas=areas, cohort=cohort, weights=weights)
    sch = _cases_schema(year)
    stream = (batch for _, _, batch in _frame_batches(scenario, n, seed, missing))
    return _rebatch(stream, sch, batch_size)


def cases(
    n: int,
    *,
    seed: int,
    year: int = 2024,
    areas: int | None = None,
    missing: float = 0.0,
    batch_size: int | None = None,
    cohort: str | None = None,
    weights: Mapping[str, float] | None = None,
) -> pa.Table:
    """``n`` synthetic cases in the canonical ``cases`` schema with the ``cin`` columns of
    collection ``year`` (2024 = April 2023 to March 2024), sorted by ``case_id``.

    - ``seed``: the same seed gives the same table; ``batch_size`` only sets the chunk size
      (default 65,536 rows) and never changes a value.
    - ``areas``: how many postcode districts (nested in about one local authority per 15);
      default 2,300, in 153 authorities. :func:`population` gives their child populations.
    - ``missing``: the share of values to blank at random in every nullable column, to test
      missing-value logic (the unblanked values are those of ``missing=0``).
    - ``cohort``: the administrative frame written in ``cohort`` (``"referral"``,
      ``"child_in_need"``, ``"child_protection"``, ``"looked_after"``); ``None`` (default):
      each case's cohort follows how far it went. ``"referral"`` also switches to the referral
      mix of profiles (more low-need cases).
    - ``weights``: relative weights of the latent profiles by code (see :data:`PROFILES`);
      profiles not named keep their default weight.

    Assessment-factor columns are ``True``/``False``, and all null for a case that had no
    assessment. ``cin.category_of_abuse`` is set for cases on a child protection plan,
    ``cin.reason_for_closure`` for closed cases.
    """
    size = _cases.BLOCK if batch_size is None else batch_size
    sch = _cases_schema(year)
    stream = batches(
        n,
        seed=seed,
        year=year,
        areas=areas,
        missing=missing,
        batch_size=size,
        cohort=cohort,
        weights=weights,
    )
    return pa.Table.from_batches(list(stream), schema=sch)


def records(
    n: int,
    *,
    seed: int,
    year: int = 2024,
    audit: str = "baseline",
    areas: int | None = None,
    cohort: str | None = None,
    weights: Mapping[str, float] | None = None,
) -> Records:
    """``n`` synthetic cases with the services they received, outcomes and need-group
    assignments by a professional and a shadow audit group.

    - ``cases``: as :func:`cases` with the same arguments.
    - ``services``: episodes with codes such as ``cin_plan``, ``cp_plan``, ``s47``,
      ``looked_after``, ``family_support``, ``camhs``, ``parenting_programme`` (the demo
      plan's ``received_as`` codes, and two it does not plan: ``youth_offending``,
      ``school_nursing``); some needs go unmet and some services are unplanned.
    - ``outcomes``: the demo plan's outcome codes for each case's group (cases beyond
      referral), achieved more often when a matched service was received.
    - ``assignments``: two rows per case, roles ``professional`` and ``shadow``, audit
      ``audit``; ``need_group`` is null where the group placed the case in no need group.
    - ``extra["truth"]``: ``case_id`` and the latent ``profile`` (for tests).
    """
    return _build_records(
        n,
        _scenario(seed=seed, year=year, areas=areas, cohort=cohort, weights=weights),
        seed=seed,
        audit=audit,
    )


def _build_records(
    n: int,
    scenario: _cases.Scenario,
    *,
    seed: int,
    audit: str,
    auditors: tuple[str | None, str | None] = (None, None),
) -> Records:
    _check_int("n", n, 0, _cases.MAX_CASES)
    if not audit or not audit.strip():
        raise ValueError("mns.synth: audit must name the audit run, e.g. 'baseline'")
    case_batches, service_batches, outcome_batches, assignment_batches, truth = [], [], [], [], []
    for block, frame, batch in _frame_batches(scenario, n, seed, 0.0):
        case_batches.append(batch)
        service, matched = _records.services(frame, scenario, seed, block)
        service_batches.append(service)
        outcome_batches.append(_records.outcomes(frame, scenario, matched, seed, block))
        assignment_batches.append(
            _records.assignments(
                frame, scenario, audit=audit, seed=seed, block=block, auditors=auditors
            )
        )
        truth.append(
            pa.RecordBatch.from_arrays(
                [batch.column(0), _cases._category(frame.profile, PROFILES, None)],
                names=["case_id", "profile"],
            )
        )
    sch = _cases_schema(scenario.year)
    truth_schema = pa.schema([("case_id", pa.string()), ("profile", schema.CATEGORY)])
    return Records(
        provenance=Provenance(
            adapter="synth", adapter_version=__version__, collection_year=scenario.year
        ),
        cases=pa.Table.from_batches(case_batches, schema=sch),
        services=pa.Table.from_batches(service_batches, schema=schema.SERVICES),
        outcomes=pa.Table.from_batches(outcome_batches, schema=schema.OUTCOMES),
        assignments=pa.Table.from_batches(assignment_batches, schema=schema.ASSIGNMENTS),
        extra={"truth": pa.Table.from_batches(truth, schema=truth_schema)},
    )


def population(*, seed: int, areas: int | None = None) -> pa.Table:
    """Children (under 18) and residents by area, for the areas :func:`cases` uses with the
    same ``seed`` and ``areas``: columns ``area``, ``la``, ``children``, ``residents``,
    sorted by area."""
    _check_int("seed", seed, 0, 2**63 - 1)
    if areas is not None:
        _check_int("areas", areas, 1, 100_000)
    return _population_table(geography(seed, areas))


def _population_table(geo: Geography) -> pa.Table:
    order = np.argsort(np.array(geo.areas), kind="stable")
    table = pa.table(
        {
            "area": pa.array(geo.areas).dictionary_encode(),
            "la": _cases._category(geo.la_of, geo.las, None),
            "children": pa.array(geo.children),
            "residents": pa.array(geo.residents),
        }
    )
    return table.take(pa.array(order))
