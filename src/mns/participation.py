"""Who took part: the audit's groups, their members by kind, the meetings they held, and
whether feedback was given to the service users who took part.

The method has practitioners, managers and service users group the cases (a professional
panel, a shadow group of service users, or a mixed one) and a planning group turn the
results into a plan; a Children's Services Plan gives an account of how children, young
people and their families were consulted. An audit records its groups in a small TOML file,
``participation.toml``, beside its records::

    [participation]
    feedback_given = true
    feedback = "The findings were taken back to both groups in June."

    [[group]]
    name = "Multi-agency audit panel"
    role = "professional"
    meetings = 4
    professionals = { "children's social care" = 3, health = 2, education = 2 }

    [[group]]
    name = "Parents' and young people's group"
    role = "shadow"
    meetings = 3
    [group.service_users]
    current = { young_people = 3, adults = 2 }
    past = { young_people = 2, adults = 1 }
    never_served = { adults = 2 }

:func:`load_participation` reads it; :func:`mns.run_audit` (``participation=``) carries it
to the report's "Who took part" section, and ``mns audit`` reads it from the folder of the
audited records. See ``docs/how-to/record-who-took-part.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import attrs
import tomli_w

from mns.converters import describe_errors, make_converter, read_toml
from mns.errors import MnsError

__all__ = [
    "GROUP_ROLES",
    "PARTICIPATION_FILE",
    "AuditGroup",
    "Participation",
    "People",
    "ServiceUsers",
    "dump_participation",
    "load_participation",
    "participation_from_dict",
]

#: The file an audit's folder records who took part in.
PARTICIPATION_FILE: Final = "participation.toml"
#: What a group does: the audit groups that place cases in need groups (as in the records'
#: assignments), and the groups that plan from the results.
GROUP_ROLES: Final = ("professional", "shadow", "mixed", "planning", "steering")


def _not_negative(instance: Any, attribute: attrs.Attribute[Any], value: int) -> None:
    if value < 0:
        raise ValueError(
            f"{type(instance).__name__}.{attribute.name} = {value}: give a whole number, 0 or more"
        )


def _counts(instance: Any, attribute: attrs.Attribute[Any], value: Mapping[str, int]) -> None:
    for agency, people in value.items():
        if not agency.strip():
            raise ValueError(f"{type(instance).__name__}.{attribute.name}: an agency has no name")
        if people < 0:
            raise ValueError(
                f"{type(instance).__name__}.{attribute.name}[{agency!r}] = {people}: give a "
                "whole number, 0 or more"
            )


@attrs.frozen(kw_only=True)
class People:
    """How many young people (under 18) and adults."""

    young_people: int = attrs.field(default=0, validator=_not_negative)
    adults: int = attrs.field(default=0, validator=_not_negative)

    @property
    def total(self) -> int:
        return self.young_people + self.adults


@attrs.frozen(kw_only=True)
class ServiceUsers:
    """The service users of a group: those the services serve now, served in the past, and
    never served (e.g. parents from the community)."""

    current: People = attrs.field(factory=People)
    past: People = attrs.field(factory=People)
    never_served: People = attrs.field(factory=People)

    @property
    def total(self) -> int:
        return self.current.total + self.past.total + self.never_served.total


def _role(instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if value not in GROUP_ROLES:
        raise ValueError(
            f"AuditGroup {instance.name!r}: role {value!r} is not allowed; use one of "
            f"{', '.join(repr(r) for r in GROUP_ROLES)}"
        )


def _agencies(value: Mapping[str, int]) -> Mapping[str, int]:
    return dict(value)


@attrs.frozen(kw_only=True)
class AuditGroup:
    """One group that took part: its ``name``, its ``role`` (one of :data:`GROUP_ROLES`),
    the ``meetings`` it held, its ``professionals`` by agency and its ``service_users``."""

    name: str = attrs.field(validator=attrs.validators.min_len(1))
    role: str = attrs.field(validator=_role)
    meetings: int = attrs.field(default=0, validator=_not_negative)
    professionals: Mapping[str, int] = attrs.field(
        factory=dict, converter=_agencies, validator=_counts, hash=False
    )
    service_users: ServiceUsers = attrs.field(factory=ServiceUsers)
    note: str = ""

    @property
    def members(self) -> int:
        """Everyone in the group: professionals and service users."""
        return sum(self.professionals.values()) + self.service_users.total


def _groups(value: Any) -> tuple[AuditGroup, ...]:
    return tuple(value)


def _distinct(
    instance: Any, attribute: attrs.Attribute[Any], value: tuple[AuditGroup, ...]
) -> None:
    names = [g.name for g in value]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(
            f"Participation.groups: the group name {twice[0]!r} is used twice; give each "
            "group its own name"
        )


@attrs.frozen(kw_only=True)
class Participation:
    """Who took part in an audit: its ``groups``, whether feedback was given to the service
    users who took part (``feedback_given``; ``None``: not recorded) and how (``feedback``),
    and a ``note``."""

    groups: tuple[AuditGroup, ...] = attrs.field(converter=_groups, validator=_distinct)
    feedback_given: bool | None = None
    feedback: str = ""
    note: str = ""


_CONVERTER = make_converter()
_SECTIONS = {"groups": "group"}
_TOP = ("participation", "group")


def load_participation(path: str | Path) -> Participation:
    """Read a ``participation.toml`` file. Raises :class:`~mns.errors.MnsError` naming the
    file, the item and the fix."""
    return participation_from_dict(read_toml(path, what="participation file"), str(path))


def participation_from_dict(raw: Mapping[str, Any], file: str = "<dict>") -> Participation:
    """Build who took part from its TOML-shaped mapping; ``file`` names it in errors."""
    extra = sorted(set(raw) - set(_TOP))
    if extra:
        raise MnsError(
            f"{file}: unknown top-level key {', '.join(map(repr, extra))}; allowed are "
            "[participation] and [[group]]",
            file=file,
            item=extra[0],
        )
    head = raw.get("participation", {})
    if not isinstance(head, dict):
        raise MnsError(
            f"{file}: participation must be a table: write [participation] with feedback_given, "
            "feedback and note",
            file=file,
            item="participation",
        )
    if "group" in head or "groups" in head:
        raise MnsError(
            f"{file}: write each group as a [[group]] table, not inside [participation]",
            file=file,
            item="participation",
        )
    groups = raw.get("group", [])
    if not isinstance(groups, list) or not groups:
        raise MnsError(
            f"{file}: no groups: add a [[group]] table (name, role, meetings, professionals, "
            "service_users) for each group that took part",
            file=file,
            item="group",
        )
    try:
        return _CONVERTER.structure({**head, "groups": groups}, Participation)
    except Exception as exc:
        problems = [
            (_named(place, groups), message)
            for place, message in describe_errors(exc, raw, _SECTIONS, "participation")
        ]
        lines = "\n".join(f"  {place}: {message}" for place, message in problems)
        noun = "problem" if len(problems) == 1 else "problems"
        raise MnsError(
            f"{file}: {len(problems)} {noun} in who took part:\n{lines}",
            file=file,
            item=problems[0][0],
        ) from None


def _named(place: str, groups: list[Any]) -> str:
    """``group[1]`` as ``group[1] (name 'Shadow group')``, when the group has a name."""
    if not place.startswith("group["):
        return place
    index, _, rest = place[len("group[") :].partition("]")
    if index.isdigit() and int(index) < len(groups) and isinstance(groups[int(index)], dict):
        name = groups[int(index)].get("name")
        if isinstance(name, str):
            return f"group[{index}] (name {name!r}){rest}"
    return place


def dump_participation(participation: Participation) -> str:
    """``participation`` as the TOML text :func:`load_participation` reads."""
    data = _CONVERTER.unstructure(participation)
    groups = data.pop("groups")
    out: dict[str, Any] = {}
    if data:
        out["participation"] = data
    out["group"] = groups
    return tomli_w.dumps(out)
