"""The plan: clusters of need groups, the outcomes each group should reach, and the services
(with thresholds) that should help. Rules are kept as text here; :mod:`mns.rules` parses them."""

from __future__ import annotations

import enum
import re
from typing import Any

import attrs

__all__ = ["Aim", "Cluster", "Evidence", "Mode", "NeedGroup", "Outcome", "Plan", "Service"]

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


@attrs.frozen(kw_only=True)
class Cluster:
    """A family of need groups (e.g. "A: Family relationships")."""

    code: str = attrs.field(validator=_code)
    name: str = attrs.field(validator=_not_blank)
    description: str = ""


@attrs.frozen(kw_only=True)
class NeedGroup:
    """Children with similar needs, and the rule that says which cases belong."""

    code: str = attrs.field(validator=_code)
    name: str = attrs.field(validator=_not_blank)
    cluster: str | None = None
    description: str = ""
    rule: str | None = attrs.field(default=None, validator=_not_blank)


@attrs.frozen(kw_only=True)
class Outcome:
    """A specific, measurable objective for a need group."""

    code: str = attrs.field(validator=_code)
    need_group: str
    objective: str = attrs.field(validator=_not_blank)
    measure: str = attrs.field(validator=_not_blank)  #: how we will know
    target: str = ""


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
    capacity: int | None = attrs.field(default=None, validator=_non_negative)  #: cases a year
    unit_cost: float | None = attrs.field(default=None, validator=_non_negative)
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
