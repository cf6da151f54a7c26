"""``budget``: what a year's demand costs, by service, need group and funding agency.

A plan's service states its ``unit_cost`` (per case or per week), how long a case lasts and
which agencies fund it with what shares (``funding``, a joint budget); the demand is the
annual number of cases that need the service, as in :func:`mns.capacity`. The method's
sources describe designing services for need groups and taking the audit beyond one agency
(see ``docs/explanation/the-method.md``); costing the services and splitting the costs by
funding shares is mns's own addition, not a step those sources describe.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pyarrow as pa

from mns import engines
from mns._tables import TableLike
from mns.analyses import _common as common, _demand as demand
from mns.analyses.extrapolate import DEMAND_LABEL, _noted, _scaled_interval, places_and_costs
from mns.analyses.weighting import Weighting, for_a_year
from mns.disclosure import Block, Margin, Publication, Structure
from mns.engines import EngineLike
from mns.plan.model import Plan, Service

__all__ = ["NOT_STATED", "budget"]

#: The agency a service's cost goes to when the plan names no funding.
NOT_STATED: Final = "(not stated)"


def _funders(service: Service) -> list[tuple[str, float]]:
    if service.funding:
        return sorted((f.agency, f.share) for f in service.funding)
    return [(NOT_STATED, 1.0)]


def _rows(
    services: list[Service], cells: demand.Demand, plan_figures: dict[str, np.ndarray[Any, Any]]
) -> dict[str, list[Any]]:
    """The table's rows before the estimates: per service, agency and group (then all the
    service's groups), the sampled cases needing it and their weight."""
    rows: dict[str, list[Any]] = {
        k: []
        for k in (
            "service",
            "agency",
            "need_group",
            "funding_share",
            "sample",
            "w",
            "cost_per_case",
            "provision_cost",
        )
    }
    for i, s in enumerate(services):
        per_case = float(plan_figures["cost_per_case"][i])
        provision = float(plan_figures["provision_cost"][i])
        counts = dict.fromkeys(s.need_groups, (0, 0.0))
        for g, meets, n, w in cells.of_service(s):
            if g in counts and meets is True:
                counts[g] = (n, w)
        every = (sum(n for n, _ in counts.values()), sum(w for _, w in counts.values()))
        for agency, share in _funders(s):
            for g in [*s.need_groups, None]:
                n, w = every if g is None else counts[g]
                rows["service"].append(s.code)
                rows["agency"].append(agency)
                rows["need_group"].append(g)
                rows["funding_share"].append(share)
                rows["sample"].append(n)
                rows["w"].append(w)
                rows["cost_per_case"].append(per_case)
                rows["provision_cost"].append(provision if g is None else float("nan"))
    return rows


def budget(
    cases: TableLike,
    *,
    plan: Plan,
    weighting: Weighting | None = None,
    confidence: float = 0.95,
    engine: EngineLike = None,
) -> pa.Table:
    """The cost of a year's demand for each plan service, by need group and funding agency.

    A case needs a service as in :func:`mns.capacity` (in one of its need groups and meeting
    its threshold), and the sample is scaled to a year the same way (a ``weighting`` is
    required: :class:`~mns.Weighting`). A case
    costs the service's ``cost_per_case`` (``unit_cost``, or ``unit_cost * duration_weeks``
    when the plan gives a weekly cost). Each agency pays its ``funding`` share; a service
    without funding goes to the agency ``(not stated)`` whole.

    One row per service, funding agency and need group the service is planned for, and one
    row per service and agency for all its groups (``need_group`` null), sorted by
    ``service``, ``agency``, ``need_group`` (the all-groups row last):

    - ``service``, ``agency``, ``need_group`` (string); ``funding_share`` (float64): the
      agency's share of the service's cost.
    - ``sample`` (int64): sampled cases in the group that need the service (the same on
      every agency's row; the all-groups row's is :func:`mns.capacity`'s ``sample``).
    - ``estimate``, ``estimate_low``, ``estimate_high`` (float64): cases a year, with the
      interval of :func:`mns.capacity`.
    - ``cost_per_case`` (float64); ``demand_cost``, ``demand_cost_low``,
      ``demand_cost_high`` (float64): the year's demand at that cost, whoever pays;
      ``agency_cost``, ``agency_cost_low``, ``agency_cost_high`` (float64): the agency's
      share of it.
    - ``provision_cost`` (float64, all-groups rows only): the capacity's cost a year, as in
      :func:`mns.capacity`; ``agency_provision_cost``: the agency's share of it.

    Costs are null where the plan gives no cost (or a weekly cost without a duration).
    """
    weighting = for_a_year(weighting, "budget")
    span = weighting.span
    _, cases, thresholds, services = demand.inputs(cases, plan)
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

    rows = _rows(services, cells, places_and_costs(services))
    weight = np.asarray(rows["w"], dtype=np.float64)
    _, _, _, est_low, est_high = _scaled_interval(weight, total_w, total_w2, span, confidence)
    estimate = weight / span
    per_case_arr = np.asarray(rows["cost_per_case"], dtype=np.float64)
    share = np.asarray(rows["funding_share"], dtype=np.float64)
    provision = np.asarray(rows["provision_cost"], dtype=np.float64)
    table = pa.table(
        {
            "service": pa.array(rows["service"], pa.string()),
            "agency": pa.array(rows["agency"], pa.string()),
            "need_group": pa.array(rows["need_group"], pa.string()),
            "funding_share": pa.array(share, pa.float64()),
            "sample": pa.array(rows["sample"], pa.int64()),
            "estimate": common.floats(estimate),
            "estimate_low": common.floats(est_low),
            "estimate_high": common.floats(est_high),
            "cost_per_case": common.floats(per_case_arr),
            "demand_cost": common.floats(estimate * per_case_arr),
            "demand_cost_low": common.floats(est_low * per_case_arr),
            "demand_cost_high": common.floats(est_high * per_case_arr),
            "agency_cost": common.floats(estimate * per_case_arr * share),
            "agency_cost_low": common.floats(est_low * per_case_arr * share),
            "agency_cost_high": common.floats(est_high * per_case_arr * share),
            "provision_cost": common.floats(provision),
            "agency_provision_cost": common.floats(provision * share),
        }
    )
    derived = (
        "estimate",
        "estimate_low",
        "estimate_high",
        "demand_cost",
        "demand_cost_low",
        "demand_cost_high",
        "agency_cost",
        "agency_cost_low",
        "agency_cost_high",
    )
    structure = Structure(
        blocks=(
            # each sub-table (service, agency) lists the service's groups: they add up to
            # the service's cases, the number capacity shows (a shared identity)
            Block(
                count="sample",
                unless={"need_group": None},
                table=("service", "agency"),
                rows=("need_group",),
                label="sample",
                key=("service", "need_group"),
                total=Margin(label=DEMAND_LABEL, key=("service",)),
            ),
            Block(
                count="sample",
                where={"need_group": None},
                table=("service", "agency"),
                label=DEMAND_LABEL,
                key=("service",),
            ),
        ),
        derived=dict.fromkeys(derived, ("sample",)),
    )
    out = common.finish(
        table,
        ["service", "agency", "need_group"],
        structure,
        not_applicable=[*derived, "cost_per_case", "provision_cost", "agency_provision_cost"],
        analysis="budget",
    )
    return _noted(out, weighting)


#: What this module publishes (see :mod:`mns.disclosure.publication`).
PUBLICATIONS = (
    Publication(name="budget", title="Cost of the demand by service, need group and agency"),
)
