"""What changed from one plan to the next: need groups added, dropped, merged, split or given
a new code; outcomes and clusters added or dropped; services added or withdrawn; and every
field that changed in an item both plans have.

Merges and splits are stated, never guessed: a need group of the new plan lists in
``replaces`` the previous plan's groups it takes the place of. :func:`mns.plan_changes` gives
the same changes as a table, with each service's places and costs.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from typing import Any, Final

import attrs

from mns.errors import PlanError
from mns.plan.model import Cluster, NeedGroup, Outcome, Plan, Service

__all__ = ["CHANGES", "KINDS", "PLAN_FIELDS", "Change", "changes_between"]

#: What a row describes, in the order the changes are listed.
KINDS: Final = ("plan", "cluster", "need_group", "outcome", "service")
#: What happened to an item (or to one of its fields: ``changed``).
CHANGES: Final = (
    "added",
    "dropped",
    "withdrawn",
    "merged",
    "split",
    "recoded",
    "changed",
)


@attrs.frozen(kw_only=True)
class Change:
    """One change from the previous plan to the current one.

    - ``kind``: one of :data:`KINDS`; ``code``: the item's code (the previous plan's for an
      item dropped, withdrawn, merged, split or recoded; ``None`` for the plan itself).
    - ``change``: ``added``; ``dropped`` (a cluster, need group or outcome the current plan
      no longer has) or ``withdrawn`` (a service); ``merged`` (the need group went into one
      group of the current plan that takes the place of others too, or that continues under
      its own code), ``split`` (into several), ``recoded`` (into one new group taking the
      place of it alone: the same group under a new code); ``changed`` (a field).
    - ``field``: the field that changed (``None`` for the item itself).
    - ``before``, ``after``: the values as the plans hold them; for an item's own row
      (``field`` None), its name on the side that has it, and for ``merged``, ``split`` and
      ``recoded`` the tuple of the current codes it went into as ``after``.
    """

    kind: str = attrs.field(validator=attrs.validators.in_(KINDS))
    code: str | None
    change: str = attrs.field(validator=attrs.validators.in_(CHANGES))
    field: str | None = None
    before: Any = None
    after: Any = None


#: Fields never compared: the code is the item's identity, and ``replaces`` is read as the
#: merges and splits it states.
_IDENTITY = frozenset({"code", "replaces"})
#: The plan's own fields compared (its items are compared item by item).
PLAN_FIELDS = ("name", "language", "description", "crosswalks")


def changes_between(previous: Plan, current: Plan) -> tuple[Change, ...]:
    """Every change from ``previous`` to ``current``: the plan's own fields, then clusters,
    need groups, outcomes and services, each sorted by code (an item's own row before its
    fields', fields in the plan file's order; a recoded need group's field rows carry its new
    code and follow the row of the code it replaces).

    A need group of ``current`` whose ``replaces`` names a code that is no need group of
    ``previous`` raises :class:`~mns.errors.PlanError`, unless ``previous`` has the same
    group stating the same (carried over from an earlier cycle: then it is ignored)."""
    if not isinstance(previous, Plan) or not isinstance(current, Plan):
        raise TypeError(
            "comparing plans: give two mns.Plan objects (mns.load_plan), not "
            f"{type(previous).__name__} and {type(current).__name__}"
        )
    found: list[Change] = []
    for name in PLAN_FIELDS:
        before, after = getattr(previous, name), getattr(current, name)
        if before != after:
            found.append(
                Change(
                    kind="plan", code=None, change="changed", field=name, before=before, after=after
                )
            )
    found += _items("cluster", previous.clusters, current.clusters, "dropped")
    found += _need_groups(previous, current)
    found += _items("outcome", previous.outcomes, current.outcomes, "dropped")
    found += _items("service", previous.services, current.services, "withdrawn")
    return tuple(found)


Item = Cluster | NeedGroup | Outcome | Service


def _fields(kind: str, code: str, old: Item, new: Item) -> Iterator[Change]:
    """A ``changed`` row for each field whose value differs, in the class's field order."""
    for field in attrs.fields(type(new)):
        if field.name in _IDENTITY:
            continue
        before, after = getattr(old, field.name), getattr(new, field.name)
        if before != after:
            yield Change(
                kind=kind, code=code, change="changed", field=field.name, before=before, after=after
            )


def _name(item: Item) -> str:
    return item.name if isinstance(item, (Cluster, NeedGroup, Service)) else item.objective


def _items(kind: str, previous: Sequence[Item], current: Sequence[Item], gone: str) -> list[Change]:
    """Items matched by code: added, gone (``dropped`` or ``withdrawn``) or changed."""
    before = {i.code: i for i in previous}
    after = {i.code: i for i in current}
    rows: list[Change] = []
    for code in sorted(before.keys() | after.keys()):
        old, new = before.get(code), after.get(code)
        if old is None:
            assert new is not None
            rows.append(Change(kind=kind, code=code, change="added", after=_name(new)))
        elif new is None:
            rows.append(Change(kind=kind, code=code, change=gone, before=_name(old)))
        else:
            rows += _fields(kind, code, old, new)
    return rows


def _successors(previous: Plan, current: Plan) -> dict[str, list[str]]:
    """Previous need-group code -> the current groups that state they replace it."""
    known = {g.code for g in previous.need_groups}
    carried = {(g.code, r) for g in previous.need_groups for r in g.replaces}
    successors: dict[str, list[str]] = {}
    for g in current.need_groups:
        for code in g.replaces:
            if code in known:
                successors.setdefault(code, []).append(g.code)
            elif (g.code, code) not in carried:
                close = difflib.get_close_matches(code, sorted(known), n=1, cutoff=0.5)
                guess = f"did you mean {close[0]!r}? " if close else ""
                raise PlanError(
                    f"the plan {current.name!r}: need group {g.code!r} field replaces: {code!r} "
                    f"is no need group of the previous plan {previous.name!r} ({guess}its groups: "
                    f"{', '.join(repr(c) for c in sorted(known)) or 'none'}); correct the code, "
                    "or take it out of replaces",
                    item=g.code,
                    field="replaces",
                )
    return successors


def _need_groups(previous: Plan, current: Plan) -> list[Change]:
    """Need groups: each previous group the current plan no longer has is dropped, merged,
    split or recoded (as ``replaces`` states); each new group is added, unless it is a
    recoded group (then its fields are compared with the group it replaces)."""
    before = {g.code: g for g in previous.need_groups}
    after = {g.code: g for g in current.need_groups}
    successors = _successors(previous, current)
    takes: dict[str, int] = {}
    for targets in successors.values():
        for t in targets:
            takes[t] = takes.get(t, 0) + 1
    recoded: dict[str, str] = {}  # current code -> the previous group it continues
    for code, targets in successors.items():
        if len(targets) == 1 and targets[0] not in before and takes[targets[0]] == 1:
            recoded[targets[0]] = code
    rows: list[Change] = []
    for code in sorted(before.keys() | after.keys()):
        old, new = before.get(code), after.get(code)
        if old is not None and new is not None:
            rows += _fields("need_group", code, old, new)
        elif old is not None:
            targets = successors.get(code, [])
            if not targets:
                rows.append(Change(kind="need_group", code=code, change="dropped", before=old.name))
            else:
                change = "split" if len(targets) > 1 else "merged"
                if len(targets) == 1 and targets[0] in recoded:
                    change = "recoded"
                rows.append(
                    Change(
                        kind="need_group",
                        code=code,
                        change=change,
                        before=old.name,
                        after=tuple(sorted(targets)),
                    )
                )
                if change == "recoded":
                    rows += _fields("need_group", targets[0], old, after[targets[0]])
        elif code not in recoded:
            assert new is not None
            rows.append(Change(kind="need_group", code=code, change="added", after=new.name))
    return rows
