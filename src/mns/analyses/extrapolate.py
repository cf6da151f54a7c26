"""``extrapolate`` and ``capacity``: from the audit sample to a year's cases."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mns import engines, stats
from mns._tables import TableLike
from mns.aggregate import Measure, Spec
from mns.analyses import _common as common, _demand as demand
from mns.analyses.weighting import WEIGHT, WEIGHT2, Weighting, for_a_year
from mns.classification import UNKNOWN
from mns.disclosure import SAMPLE, SAMPLE_TOTAL, Block, Margin, Publication, Structure
from mns.engines import EngineLike
from mns.plan.model import CapacityUnit, CostUnit, Plan, Service

__all__ = ["capacity", "extrapolate"]

#: Schema metadata: how the sample was scaled to a year (``census``, ``sampling fraction
#: 0.200``, ``strata``, ``weights column 'w'``).
SCALING_KEY = b"mns.scaling"


def _noted(table: pa.Table, weighting: Weighting) -> pa.Table:
    metadata = {**(table.schema.metadata or {}), SCALING_KEY: weighting.describe().encode()}
    return table.replace_schema_metadata(metadata)


def _scaled_interval(
    weight: np.ndarray[Any, Any], total_w: float, total_w2: float, years: float, confidence: float
) -> tuple[
    np.ndarray[Any, Any],
    np.ndarray[Any, Any],
    np.ndarray[Any, Any],
    np.ndarray[Any, Any],
    np.ndarray[Any, Any],
]:
    """Shares of the weighted total with Wilson intervals (Kish effective sample size with
    the finite population correction), and the annual numbers they give."""
    with np.errstate(divide="ignore", invalid="ignore"):
        share = weight / total_w if total_w > 0 else np.full(len(weight), np.nan)
    n_eff = total_w**2 / total_w2 if total_w2 > 0 else np.inf
    low, high = stats.wilson_arrays(
        share, np.ones_like(share), confidence, n_effective=np.full(len(share), n_eff)
    )
    scale = total_w / years
    return share, low, high, low * scale, high * scale


def extrapolate(
    cases: TableLike,
    by: str = "need_group",
    *,
    weighting: Weighting | None = None,
    plan: Plan | None = None,
    confidence: float = 0.95,
    engine: EngineLike = None,
) -> pa.Table:
    """Annual numbers per group estimated from an audit sample.

    ``weighting`` (:class:`~mns.Weighting`) says how each sampled case stands for the year's
    cases: ``Weighting.of(audit)`` (its sampling fraction, or one per stratum),
    ``Weighting.sampled(f)``, ``Weighting.by_column(name)``, or ``Weighting.census()`` when
    the cases are every case of the year; totals are divided by its ``years`` (the period
    the sample frame covers: the audit's period, else one year). Without one it is an
    error. The schema metadata ``mns.scaling`` says which was used.

    One row per group (with ``plan``, every need group of the plan, then ``unassigned`` and
    ``unknown``, or ``(not placed)`` and ``(not audited)`` for an audit group's grouping from
    :func:`mns.assign`), sorted by ``<by>``:

    - ``<by>`` (string); ``sample`` (int64): sampled cases in the group.
    - ``share``, ``share_low``, ``share_high`` (float64): the group's (weighted) share of all
      cases, with a Wilson interval using Kish's effective sample size and the finite
      population correction (a census, f = 1, has no sampling error).
    - ``estimate``, ``estimate_low``, ``estimate_high`` (float64): cases a year.
    """
    weighting = for_a_year(weighting, "extrapolate")
    schema, cases = common.peek(cases, "cases")
    span = weighting.span
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
        columns=[by, *weighting.columns],
        what="cases",
        engine=engine,
    )["x"]
    observed = common.as_text(state.column(by)).to_pylist()
    groups = common.dense(observed, common.levels(plan, by, schema))
    at = {g: i for i, g in enumerate(observed)}
    n = np.array(
        [state.column("n")[at[g]].as_py() if g in at else 0 for g in groups], dtype=np.int64
    )
    w = np.array(
        [state.column("w")[at[g]].as_py() if g in at else 0.0 for g in groups], dtype=np.float64
    )
    w2 = float(pc.sum(state.column("w2")).as_py() or 0.0)
    share, low, high, est_low, est_high = _scaled_interval(w, float(w.sum()), w2, span, confidence)
    table = pa.table(
        {
            by: pa.array(groups, pa.string()),
            "sample": pa.array(n, pa.int64()),
            "share": common.floats(share),
            "share_low": common.floats(low),
            "share_high": common.floats(high),
            "estimate": common.floats(w / span),
            "estimate_low": common.floats(est_low),
            "estimate_high": common.floats(est_high),
        }
    )
    derived = ("share", "share_low", "share_high", "estimate", "estimate_low", "estimate_high")
    structure = Structure(
        blocks=(
            Block(
                count="sample",
                rows=(by,),
                label=f"{SAMPLE}.{by}",  # shared: the group sizes of every table of the cases
                key=(by,),
                total=Margin(label=SAMPLE_TOTAL),
            ),
        ),
        derived=dict.fromkeys(derived, ("sample",)),
    )
    out = common.finish(table, [by], structure, not_applicable=derived, analysis="extrapolate")
    return _noted(out, weighting)


def capacity(
    cases: TableLike,
    *,
    plan: Plan,
    weighting: Weighting | None = None,
    confidence: float = 0.95,
    engine: EngineLike = None,
) -> pa.Table:
    """For each plan service, the cases a year that need it against its capacity.

    A case needs a service when it is in one of the need groups the plan offers it to and
    meets its threshold (``threshold.<service>`` from :func:`mns.classify`; every case of
    those groups when the service has no threshold). The sample is extrapolated as in
    :func:`extrapolate` (a ``weighting`` is required).

    One row per plan service, sorted by ``service``:

    - ``service``, ``name`` (string); ``capacity`` (int64): the plan's capacity, in
      ``capacity_unit`` (cases a year unless the plan says places); null if it does not say.
    - ``sample`` (int64): sampled cases that need it; ``unknown`` (int64): sampled cases in
      its groups whose threshold result is unknown; ``unknown_group`` (int64): sampled cases
      whose need group is not known (``unknown`` by the rules; not audited, not placed,
      disputed or without consensus by an audit group: :mod:`mns.grouping`) and whose
      threshold is not known to fail.
    - ``share``, ``share_low``, ``share_high`` (float64): the (weighted) share of all cases
      that need it, with its interval.
    - ``estimate``, ``estimate_low``, ``estimate_high`` (float64): cases a year that need it.
    - ``unknown_upper`` (float64): an upper bound of cases a year that need it: the
      estimate plus every ``unknown`` and ``unknown_group`` case, scaled the same way (what
      the cases of unknown group could add, instead of dropping them).
    - ``shortfall`` (float64): ``estimate - cases_available`` (positive: more need than the
      service can take on); ``load`` (float64): ``estimate / cases_available``.

    Places and costs (each null where the plan does not give what it needs):

    - ``capacity_unit`` (string): what ``capacity`` counts, ``cases`` (a year) or ``places``
      (at any one time); ``duration_weeks`` (float64): how long a case holds a place.
    - ``cases_available`` (float64): cases a year the capacity takes on (``capacity``, or
      ``places * 52 / duration_weeks``); ``places_available`` (float64): places at any one
      time (``capacity``, or ``cases * duration_weeks / 52``).
    - ``places_needed``, ``places_needed_low``, ``places_needed_high`` (float64): places
      the demand fills at any one time, ``estimate * duration_weeks / 52`` (with its
      interval); ``places_shortfall`` (float64): ``places_needed - places_available``.
    - ``unit_cost`` (float64) and ``cost_per`` (string: ``case`` or ``week``) as the plan
      states them; ``cost_per_case`` (float64): ``unit_cost``, or ``unit_cost *
      duration_weeks`` for a weekly cost.
    - ``demand_cost``, ``demand_cost_low``, ``demand_cost_high`` (float64): a year's demand
      at ``cost_per_case``; ``provision_cost`` (float64): the capacity's cost a year
      (``cases_available * cost_per_case``); ``shortfall_cost`` (float64):
      ``demand_cost - provision_cost`` (positive: what meeting the demand would add).
    """
    weighting = for_a_year(weighting, "capacity")
    span = weighting.span
    schema, cases, thresholds, services = demand.inputs(cases, plan)
    unknown_groups = set(_unknown_groups(schema).to_pylist())
    state = engines.run(
        {"x": demand.SPEC},
        cases,
        prepare=demand.Counter(weighting, tuple(thresholds.items())),
        columns=list(dict.fromkeys(["need_group", *thresholds.values(), *weighting.columns])),
        what="cases",
        engine=engine,
    )["x"]
    cells = demand.Demand.of(state)
    total_w, total_w2 = cells.weight()
    counts = np.zeros((len(services), 3), dtype=np.int64)  # needs, unknown, unknown_group
    weight = np.zeros(len(services))
    maybe = np.zeros(len(services))  # the weight of the unknown and unknown_group cases
    for i, s in enumerate(services):
        for group, meets, n, w in cells.of_service(s):
            member = group in s.need_groups
            # a case of unknown group could need it unless its threshold is known to fail
            could = (group is None or group in unknown_groups) and meets is not False
            unknown = member and meets is None
            needs = member and meets is True
            counts[i] += np.array([needs, unknown, could]) * n
            weight[i] += w if needs else 0.0
            maybe[i] += w if unknown or could else 0.0
    share, low, high, est_low, est_high = _scaled_interval(
        weight, total_w, total_w2, span, confidence
    )
    estimate = weight / span
    upper = estimate + maybe / span
    places = places_and_costs(services)
    cap = places["cases_available"]
    with np.errstate(divide="ignore", invalid="ignore"):
        load = np.where(cap > 0, estimate / np.where(cap > 0, cap, 1.0), np.nan)
    weeks = places["duration_weeks"] / 52.0
    per_case = places["cost_per_case"]
    table = pa.table(
        {
            "service": pa.array([s.code for s in services], pa.string()),
            "name": pa.array([s.name for s in services], pa.string()),
            "capacity": pa.array([s.capacity for s in services], pa.int64()),
            "sample": pa.array(counts[:, 0], pa.int64()),
            "unknown": pa.array(counts[:, 1], pa.int64()),
            "unknown_group": pa.array(counts[:, 2], pa.int64()),
            "share": common.floats(share),
            "share_low": common.floats(low),
            "share_high": common.floats(high),
            "estimate": common.floats(estimate),
            "estimate_low": common.floats(est_low),
            "estimate_high": common.floats(est_high),
            "unknown_upper": common.floats(upper),
            "shortfall": common.floats(estimate - cap),
            "load": common.floats(load),
            "capacity_unit": pa.array([s.capacity_unit.value for s in services], pa.string()),
            "duration_weeks": common.floats(places["duration_weeks"]),
            "cases_available": common.floats(cap),
            "places_available": common.floats(places["places_available"]),
            "places_needed": common.floats(estimate * weeks),
            "places_needed_low": common.floats(est_low * weeks),
            "places_needed_high": common.floats(est_high * weeks),
            "places_shortfall": common.floats(estimate * weeks - places["places_available"]),
            "unit_cost": common.floats(places["unit_cost"]),
            "cost_per": pa.array([s.cost_per.value for s in services], pa.string()),
            "cost_per_case": common.floats(per_case),
            "demand_cost": common.floats(estimate * per_case),
            "demand_cost_low": common.floats(est_low * per_case),
            "demand_cost_high": common.floats(est_high * per_case),
            "provision_cost": common.floats(places["provision_cost"]),
            "shortfall_cost": common.floats(estimate * per_case - places["provision_cost"]),
        }
    )
    derived = (
        "share",
        "share_low",
        "share_high",
        "estimate",
        "estimate_low",
        "estimate_high",
        "shortfall",
        "load",
        *DEMAND_DERIVED,
    )
    upper_from = ("sample", "unknown", "unknown_group")
    structure = Structure(
        blocks=(
            # shared: the budget's service totals are the same numbers
            Block(count="sample", label=DEMAND_LABEL, key=("service",)),
            Block(count="unknown", label="unknown", key=("service",)),
            Block(count="unknown_group", label="unknown_group", key=("service",)),
        ),
        derived={**dict.fromkeys(derived, ("sample",)), "unknown_upper": upper_from},
    )
    out = common.finish(
        table,
        ["service"],
        structure,
        not_applicable=[*derived, "unknown_upper", *PLAN_FIGURES],
        analysis="capacity",
    )
    return _noted(out, weighting)


#: The shared identity of the sampled cases that need a service (capacity, budget).
DEMAND_LABEL = "demand.service"
#: The capacity columns computed from the demand (withheld with the counts they come from).
DEMAND_DERIVED = (
    "places_needed",
    "places_needed_low",
    "places_needed_high",
    "places_shortfall",
    "demand_cost",
    "demand_cost_low",
    "demand_cost_high",
    "shortfall_cost",
)
#: The capacity columns that come from the plan alone (null: the plan does not say).
PLAN_FIGURES = (
    "duration_weeks",
    "cases_available",
    "places_available",
    "unit_cost",
    "cost_per_case",
    "provision_cost",
)


def places_and_costs(services: Sequence[Service]) -> dict[str, np.ndarray[Any, Any]]:
    """What the plan says of each service's places and costs, as float arrays (NaN where the
    plan does not give what a figure needs): ``duration_weeks``, ``cases_available`` (cases
    a year), ``places_available`` (at any one time), ``unit_cost``, ``cost_per_case`` and
    ``provision_cost`` (the capacity's cost a year)."""
    nan = float("nan")
    weeks = np.array(
        [nan if s.duration_weeks is None else float(s.duration_weeks) for s in services]
    )
    capacity = np.array([nan if s.capacity is None else float(s.capacity) for s in services])
    in_places = np.array([s.capacity_unit is CapacityUnit.PLACES for s in services], dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        # a case holds a place for duration_weeks: places = cases a year * weeks / 52
        as_cases = np.where(weeks > 0, capacity * 52.0 / np.where(weeks > 0, weeks, 1.0), nan)
    cases = np.where(in_places, as_cases, capacity)
    places = np.where(in_places, capacity, capacity * weeks / 52.0)
    cost = np.array([nan if s.unit_cost is None else float(s.unit_cost) for s in services])
    weekly = np.array([s.cost_per is CostUnit.WEEK for s in services], dtype=bool)
    per_case = np.where(weekly, cost * weeks, cost)
    return {
        "duration_weeks": weeks,
        "cases_available": cases,
        "places_available": places,
        "unit_cost": cost,
        "cost_per_case": per_case,
        "provision_cost": cases * per_case,
    }


def _unknown_groups(schema: pa.Schema) -> pa.Array:
    """The ``need_group`` values of cases whose group is not known, for the grouping."""
    from mns.grouping import DISPUTED, NO_CONSENSUS, NOT_AUDITED, NOT_PLACED, RULES, grouping_of

    if grouping_of(schema) == RULES:
        return pa.array([UNKNOWN], pa.string())
    return pa.array([NOT_AUDITED, NOT_PLACED, DISPUTED, NO_CONSENSUS], pa.string())


#: What this module publishes (see :mod:`mns.disclosure.publication`).
PUBLICATIONS = (
    Publication(name="extrapolate", title="Cases a year per need group"),
    Publication(name="capacity", title="Demand against capacity per service"),
)
