"""``plan_changes``: the plan's progress, the previous plan against the current one.

The table of :func:`mns.plan.diff.changes_between`, with each service's places and costs
(as :func:`mns.capacity` works them out from the plan) and the plans' totals. It holds the
plans' own figures, no count of children: disclosure control has nothing to withhold in it.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterator, Sequence
from typing import Any

import attrs
import numpy as np
import pyarrow as pa

from mns.analyses import _common as common
from mns.analyses.extrapolate import places_and_costs
from mns.disclosure import Publication, Structure
from mns.plan.diff import KINDS, PLAN_FIELDS, Change, changes_between
from mns.plan.model import Cluster, Funding, NeedGroup, Outcome, Plan, Service, Target

__all__ = ["FIGURES", "TOTALS", "plan_changes"]

#: The places and costs of a service compared (see :func:`mns.capacity`).
FIGURES = ("cases_available", "places_available", "cost_per_case", "provision_cost")
#: The plan's totals, one row each whether or not they changed.
TOTALS = ("clusters", "need_groups", "outcomes", "services", "provision_cost")

SCHEMA = pa.schema(
    [
        pa.field("kind", pa.string()),
        pa.field("code", pa.string()),
        pa.field("change", pa.string()),
        pa.field("field", pa.string()),
        pa.field("before", pa.string()),
        pa.field("after", pa.string()),
        pa.field("before_value", pa.float64()),
        pa.field("after_value", pa.float64()),
        pa.field("difference", pa.float64()),
    ]
)


def plan_changes(previous: Plan, current: Plan) -> pa.Table:
    """The changes from the ``previous`` plan to the ``current`` one, one row per change.

    Rows in order: the plans' totals (``kind`` ``plan``, ``field`` one of ``clusters``,
    ``need_groups``, ``outcomes``, ``services`` (how many) and ``provision_cost`` (the
    capacity's cost a year summed over the services that give one), ``change``
    ``unchanged`` or ``changed``); the plan's own fields that changed; then clusters, need
    groups, outcomes and services by code:

    - ``kind`` (string): ``plan``, ``cluster``, ``need_group``, ``outcome`` or ``service``.
    - ``code`` (string): the item's code (the previous plan's for an item no longer there;
      null for the plan).
    - ``change`` (string): ``added``; ``dropped`` (a cluster, need group or outcome) or
      ``withdrawn`` (a service); for a need group the current plan no longer has but one of
      its groups ``replaces``: ``merged`` (into one group that takes the place of others too,
      or keeps its own code), ``split`` (into several) or ``recoded`` (into one new group
      replacing it alone); ``changed``; ``unchanged`` (a total only).
    - ``field`` (string): the field that changed; null for the item itself. A service's
      places and costs (``cases_available``, ``places_available``, ``cost_per_case``,
      ``provision_cost``, as :func:`mns.capacity` defines them) have rows of their own when
      they differ, and on a service added or withdrawn.
    - ``before``, ``after`` (string): the values as text (lists joined by ``", "``); on an
      item's own row, its name on the side that has it, and for ``merged``, ``split`` and
      ``recoded`` the current code(s) it went into as ``after``.
    - ``before_value``, ``after_value`` (float64): the same as numbers, for numeric fields.
    - ``difference`` (float64): ``after_value - before_value``; for a service added or
      withdrawn the side without it counts as 0; null where a side that has the item does
      not give the figure.
    """
    changes = changes_between(previous, current)  # checks the arguments first
    rows = [*_totals(previous, current), *_rows(changes)]
    rows += _figures(previous, current)
    rows.sort(key=_order)
    columns = {name: [r[i] for r in rows] for i, name in enumerate(SCHEMA.names)}
    table = pa.table(
        {
            **{n: pa.array(columns[n], pa.string()) for n in SCHEMA.names[:6]},
            **{n: common.floats(_nan(columns[n])) for n in SCHEMA.names[6:]},
        },
        schema=SCHEMA,
    )
    return common.finish(
        table,
        [],
        Structure(blocks=()),
        not_applicable=[n for n in SCHEMA.names if n not in ("kind", "change")],
        analysis="plan_changes",
    )


Row = tuple[str, str | None, str, str | None, str | None, str | None, Any, Any, Any]
#: Each kind's fields in the plan file's order (a service's places and costs last).
_FIELD_RANK = {
    kind: {name: i for i, name in enumerate(names)}
    for kind, names in {
        "plan": [*TOTALS, *PLAN_FIELDS],
        "cluster": [f.name for f in attrs.fields(Cluster)],
        "need_group": [f.name for f in attrs.fields(NeedGroup)],
        "outcome": [f.name for f in attrs.fields(Outcome)],
        "service": [*(f.name for f in attrs.fields(Service)), *FIGURES],
    }.items()
}


def _order(row: Row) -> tuple[Any, ...]:
    kind, code, _change, field = row[:4]
    own = 0 if field is None else 1
    rank = _FIELD_RANK[kind].get(field or "", -1)
    return (KINDS.index(kind), code is not None, code or "", own, rank)


def _nan(values: Sequence[Any]) -> list[float]:
    return [math.nan if v is None else float(v) for v in values]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def text(value: Any) -> str | None:
    """A plan value as the table shows it."""
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        shown = round(value, 4)  # places at any one time are fractions: 4 decimals
        return repr(shown if shown else value)
    if isinstance(value, Funding):
        return f"{value.agency} {text(value.share)}"
    if isinstance(value, Target):
        measure = (
            f"share {text(value.share)}" if value.share is not None else f"mean {text(value.mean)}"
        )
        return f"{measure}, {value.direction.value} is better"
    if isinstance(value, (tuple, list)):
        return ", ".join(t for t in (text(v) for v in value) if t is not None)
    return str(value)


def _rows(changes: Sequence[Change]) -> Iterator[Row]:
    for c in changes:
        before, after = _number(c.before), _number(c.after)
        both = before is not None and after is not None
        yield (
            c.kind,
            c.code,
            c.change,
            c.field,
            text(c.before),
            text(c.after),
            before,
            after,
            after - before if both else None,  # type: ignore[operator]
        )


def _totals(previous: Plan, current: Plan) -> Iterator[Row]:
    def cost(plan: Plan) -> float:
        known = places_and_costs(plan.services)["provision_cost"]
        return float(np.nansum(known))

    for field in TOTALS:
        if field == "provision_cost":
            before, after = cost(previous), cost(current)
        else:
            before, after = (
                float(len(getattr(previous, field))),
                float(len(getattr(current, field))),
            )
        change = "unchanged" if before == after else "changed"
        yield (
            "plan",
            None,
            change,
            field,
            text(before),
            text(after),
            before,
            after,
            after - before,
        )


def _figures(previous: Plan, current: Plan) -> list[Row]:
    """Rows for each service's places and costs that differ between the plans."""
    before = {s.code: s for s in previous.services}
    after = {s.code: s for s in current.services}
    codes = sorted(before.keys() | after.keys())
    old = places_and_costs([before[c] for c in codes if c in before])
    new = places_and_costs([after[c] for c in codes if c in after])
    at_old = {c: i for i, c in enumerate(c for c in codes if c in before)}
    at_new = {c: i for i, c in enumerate(c for c in codes if c in after)}
    rows: list[Row] = []
    for code in codes:
        change = (
            "changed"
            if code in before and code in after
            else ("added" if code in after else "withdrawn")
        )
        for field in FIGURES:
            b = float(old[field][at_old[code]]) if code in at_old else None
            a = float(new[field][at_new[code]]) if code in at_new else None
            b = None if b is not None and math.isnan(b) else b
            a = None if a is not None and math.isnan(a) else a
            if change == "changed":
                if a == b:
                    continue
                diff = a - b if a is not None and b is not None else None
            else:
                if a is None and b is None:
                    continue
                diff = a if change == "added" else -b  # type: ignore[operator]
            rows.append(("service", code, change, field, text(b), text(a), b, a, diff))
    return rows


#: What this module publishes (see :mod:`mns.disclosure.publication`).
PUBLICATIONS = (
    Publication(
        name="plan_changes",
        title="Changes from the previous plan (the plans' own figures: no counts of children)",
    ),
)
