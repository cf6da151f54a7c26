"""The plan: clusters of need groups, the outcomes each group should reach, and the services
(with thresholds) that should help. Rules are kept as text here; :mod:`mns.rules` parses them."""

from __future__ import annotations

import enum
import re
from typing import Any

import attrs

__all__ = [
    "Aim",
    "CapacityUnit",
    "Cluster",
    "CostUnit",
    "Direction",
    "Evidence",
    "Funding",
    "Mode",
    "NeedGroup",
    "Outcome",
    "Plan",
    "Service",
    "Target",
]

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _code(instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if not _CODE.match(value):
        raise ValueError(
            f"{type(instance).__name__}: {attribute.name} {value!r} must be letters, digits, "
            "'_', '-' or '.', starting with a letter or digit"
        )


def _not_blank(instance: Any, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and not value.strip():
        raise ValueError(f"{type(instance).__name__}: {attribute.name} must not be blank")


def _non_negative(instance: Any, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and value < 0:
        raise ValueError(
            f"{type(instance).__name__}: {attribute.name} must be 0 or more, not {value}"
        )


class Mode(enum.Enum):
    """How a case reaches a service."""

    CONTRACT = "contract"  #: by referral and agreement
    OPEN_DOOR = "open-door"  #: families come in as they wish


class Aim(enum.Enum):
    """What a service is for."""

    CHANGE = "change"  #: to create change within a set time
    SUPPORT = "support"  #: to support over the long term


class Evidence(enum.Enum):
    """How strong the evidence is that the service helps this need."""

    PROVEN = "proven"
    PROMISING = "promising"
    UNTESTED = "untested"


class CapacityUnit(enum.Enum):
    """What a service's ``capacity`` counts."""

    CASES = "cases"  #: cases a year it can take on
    PLACES = "places"  #: places at any one time (a case holds one for ``duration_weeks``)


class CostUnit(enum.Enum):
    """What a service's ``unit_cost`` pays for."""

    CASE = "case"  #: one case, start to finish
    WEEK = "week"  #: one case for one week (a case costs ``unit_cost * duration_weeks``)


class Direction(enum.Enum):
    """Which way an outcome's measure is better."""

    HIGHER = "higher"  #: a higher share (or mean) is better
    LOWER = "lower"  #: a lower share (or mean) is better


def _share(instance: Any, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise ValueError(
            f"{type(instance).__name__}: {attribute.name} must be a share from 0 to 1 "
            f"(0.7 for 70%), not {value}"
        )


@attrs.frozen(kw_only=True)
class Target:
    """An outcome's target: the ``share`` of cases that should achieve it (0-1), or the
    ``mean`` of its recorded values, and which ``direction`` is better."""

    share: float | None = attrs.field(default=None, validator=_share)
    mean: float | None = None
    direction: Direction = Direction.HIGHER

    def __attrs_post_init__(self) -> None:
        if (self.share is None) == (self.mean is None):
            raise ValueError(
                "Target: give either share (of cases achieving the outcome, 0-1) or mean "
                "(of its recorded values), "
                + ("not both" if self.share is not None else "and neither was given")
            )
        if self.mean is not None and self.mean != self.mean:
            raise ValueError("Target: mean must be a number, not NaN")


@attrs.frozen(kw_only=True)
class Funding:
    """One agency's share of a service's cost (a joint budget)."""

    agency: str = attrs.field(validator=_not_blank)
    share: float = attrs.field()

    @share.validator
    def _positive_share(self, attribute: attrs.Attribute[Any], value: float) -> None:
        if not 0.0 < value <= 1.0:
            raise ValueError(
                f"Funding: share of agency {self.agency!r} must be more than 0 and at most 1 "
                f"(0.25 for a quarter), not {value}"
            )


def _funding(instance: Any, attribute: attrs.Attribute[Any], value: tuple[Funding, ...]) -> None:
    if not value:
        return
    agencies = [f.agency for f in value]
    twice = sorted({a for a in agencies if agencies.count(a) > 1})
    if twice:
        raise ValueError(
            f"Service: funding names agency {twice[0]!r} twice; give each agency one share"
        )
    total = sum(f.share for f in value)
    if abs(total - 1.0) > 1e-6:
        raise ValueError(
            f"Service: the funding shares add up to {total:g}, not 1 "
            f"({', '.join(f'{f.agency} {f.share:g}' for f in value)})"
        )


@attrs.frozen(kw_only=True)
class Cluster:
    """A family of need groups (e.g. "A: Family relationships")."""

    code: str = attrs.field(validator=_code)
    name: str = attrs.field(validator=_not_blank)
    description: str = ""


def _replaces(instance: Any, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    for code in value:
        _code(instance, attribute, code)
    twice = sorted({c for c in value if value.count(c) > 1})
    if twice:
        raise ValueError(
            f"NeedGroup: replaces names {twice[0]!r} twice; list each group of the previous "
            "plan once"
        )
    if instance.code in value:
        raise ValueError(
            f"NeedGroup: {instance.code!r} replaces itself; replaces lists the previous plan's "
            "groups this one takes the place of under another code (leave it out: a group "
            "that keeps its code continues itself)"
        )


@attrs.frozen(kw_only=True)
class NeedGroup:
    """Children with similar needs, and the rule that says which cases belong.

    ``replaces`` lists the codes of the previous plan's need groups this group takes the
    place of: several groups merged into it, one group split between it and others, or one
    group given a new code. :func:`mns.plan_changes` reads it; nothing is guessed from the
    rules."""

    code: str = attrs.field(validator=_code)
    name: str = attrs.field(validator=_not_blank)
    cluster: str | None = None
    description: str = ""
    rule: str | None = attrs.field(default=None, validator=_not_blank)
    replaces: tuple[str, ...] = attrs.field(default=(), validator=_replaces)


@attrs.frozen(kw_only=True)
class Outcome:
    """A specific, measurable objective for a need group."""

    code: str = attrs.field(validator=_code)
    need_group: str
    objective: str = attrs.field(validator=_not_blank)
    measure: str = attrs.field(validator=_not_blank)  #: how we will know
    target: Target | None = None  #: what the planning group aims for
    note: str = ""  #: the target in words (a plan's text ``target`` is read as this note)


@attrs.frozen(kw_only=True)
class Service:
    """A service the plan offers, to whom, and the threshold that admits a case."""

    code: str = attrs.field(validator=_code)
    name: str = attrs.field(validator=_not_blank)
    need_groups: tuple[str, ...]
    agencies: tuple[str, ...] = ()
    base: str = ""  #: where it is delivered from (community, school, clinic, home...)
    duration_weeks: int | None = attrs.field(default=None, validator=_non_negative)
    mode: Mode = Mode.CONTRACT
    aim: Aim = Aim.CHANGE
    evidence: Evidence = Evidence.UNTESTED
    threshold: str | None = attrs.field(default=None, validator=_not_blank)
    capacity: int | None = attrs.field(default=None, validator=_non_negative)
    capacity_unit: CapacityUnit = CapacityUnit.CASES  #: what ``capacity`` counts
    unit_cost: float | None = attrs.field(default=None, validator=_non_negative)
    cost_per: CostUnit = CostUnit.CASE  #: what ``unit_cost`` pays for
    funding: tuple[Funding, ...] = attrs.field(default=(), validator=_funding)  #: joint budget
    received_as: tuple[str, ...] = ()  #: service codes in agency records that count as this one
    description: str = ""


@attrs.frozen(kw_only=True)
class Plan:
    """A planning group's plan, in the terms of one language."""

    name: str = attrs.field(validator=_not_blank)
    language: str
    description: str = ""
    clusters: tuple[Cluster, ...] = ()
    need_groups: tuple[NeedGroup, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    services: tuple[Service, ...] = ()
    crosswalks: tuple[str, ...] = ()  #: paths of user crosswalk files, relative to the plan file

    def need_group(self, code: str) -> NeedGroup:
        """The need group ``code``."""
        for g in self.need_groups:
            if g.code == code:
                return g
        raise KeyError(code)

    def service(self, code: str) -> Service:
        """The service ``code``."""
        for s in self.services:
            if s.code == code:
                return s
        raise KeyError(code)
