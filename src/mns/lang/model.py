"""The common language of need: dimensions, indicators, languages and crosswalks.

Plain frozen attrs records. Validators hold the invariants that must hold wherever an
object came from; conversion from and to TOML lives in :mod:`mns.lang.load`.
"""

from __future__ import annotations

import difflib
import enum
import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from mns.errors import UnknownCodeError

__all__ = [
    "CategoryValue",
    "Concerns",
    "Crosswalk",
    "CrosswalkProvenance",
    "Derivation",
    "Dimension",
    "Indicator",
    "Kind",
    "Language",
    "Polarity",
]

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]*$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
RATINGS = (0, 1, 2, 3)


class Kind(enum.Enum):
    """How an indicator is recorded."""

    FLAG = "flag"  #: yes / no
    RATING = "rating"  #: 0 none, 1 some, 2 significant, 3 severe (0-3, compared as numbers)
    CATEGORY = "category"  #: one of the indicator's listed values


class Concerns(enum.Enum):
    """Whom an indicator is about (the CIN factor letters A, B, C and the wider family)."""

    CHILD = "child"
    PARENT_CARER = "parent_carer"
    HOUSEHOLD_MEMBER = "household_member"
    FAMILY_ENVIRONMENT = "family_environment"


class Polarity(enum.Enum):
    """Which way an indicator points: a need (or risk) to meet, or a strength to build on.

    The Assessment Framework (2000) asks that assessments "build on strengths as well as
    identify difficulties"; resilience frameworks (Daniel and Wassell 2002) and the CANS
    (Praed Foundation) record strengths beside needs. A strength is recorded as a flag:
    present or not. Dimensions group strengths as the child's, the family's and the
    community's (in ``mns``: ``child_strengths``, ``family_strengths``, ``community_strengths``).
    """

    NEED = "need"  #: a need, difficulty or risk: "yes" is a concern
    STRENGTH = "strength"  #: a strength or protective factor: "yes" is something to build on


class CrosswalkProvenance(enum.Enum):
    """Who stands behind a crosswalk."""

    OFFICIAL = "official"  #: published by the owner of the code sets
    MNS = "mns"  #: mns's own construct: no official mapping exists


def _check_code(what: str) -> Any:
    def check(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
        if not _CODE.match(value):
            raise ValueError(
                f"{type(instance).__name__}.{attribute.name}: {what} {value!r} must be letters, "
                "digits and underscores, not starting with an underscore"
            )

    return check


def _check_years(instance: Any, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and not 1990 <= value <= 2100:
        raise ValueError(
            f"{type(instance).__name__} {instance.code!r}: {attribute.name} = {value} is not a "
            "collection year (the year the collection ends, e.g. 2024 for 2023-24)"
        )
    frm = instance.valid_from
    if attribute.name == "valid_to" and frm is not None and value is not None and value < frm:
        raise ValueError(
            f"{type(instance).__name__} {instance.code!r}: "
            f"valid_to {value} is before valid_from {frm}"
        )


def valid_in(item: CategoryValue | Indicator, year: int | None) -> bool:
    """Whether a code may be used in a collection year (``None``: any year)."""
    if year is None:
        return True
    if item.valid_from is not None and year < item.valid_from:
        return False
    return not (item.valid_to is not None and year > item.valid_to)


def _suggest(code: str, candidates: Iterable[str]) -> tuple[str, ...]:
    pool = list(candidates)
    lowered = {c.lower(): c for c in pool}
    close = difflib.get_close_matches(code.lower(), list(lowered), n=3, cutoff=0.6)
    return tuple(lowered[c] for c in close)


def unknown(what: str, code: str, candidates: Iterable[str], where: str) -> UnknownCodeError:
    """An :class:`UnknownCodeError` for ``code`` with the closest candidates suggested."""
    suggestions = _suggest(code, candidates)
    hint = f" (did you mean {' or '.join(repr(s) for s in suggestions)}?)" if suggestions else ""
    return UnknownCodeError(
        f"unknown {what} {code!r} in {where}{hint}", code=code, suggestions=suggestions
    )


@attrs.frozen(kw_only=True)
class Dimension:
    """A heading of the language (an audit-form section, a framework domain or dimension)."""

    code: str = attrs.field(validator=_check_code("code"))
    label: str
    description: str = ""
    parent: str | None = None  #: the enclosing dimension, for two-level frameworks


@attrs.frozen(kw_only=True)
class CategoryValue:
    """One allowed value of a category indicator."""

    code: str
    label: str
    plain_label: str | None = None
    valid_from: int | None = attrs.field(default=None, validator=_check_years)
    valid_to: int | None = attrs.field(default=None, validator=_check_years)
    source: str = ""  #: where the code and its years are published (citation)


def _check_values(
    instance: Indicator, attribute: attrs.Attribute[Any], value: tuple[CategoryValue, ...]
) -> None:
    if instance.kind is Kind.CATEGORY and not value:
        raise ValueError(f"Indicator {instance.code!r}: a category indicator needs its values")
    if instance.kind is not Kind.CATEGORY and value:
        raise ValueError(
            f"Indicator {instance.code!r}: only category indicators list values "
            f"(this one is a {instance.kind.value})"
        )
    seen: set[str] = set()
    for v in value:
        if v.code in seen:
            raise ValueError(f"Indicator {instance.code!r}: value {v.code!r} is listed twice")
        seen.add(v.code)


def _check_polarity(instance: Indicator, attribute: attrs.Attribute[Any], value: Polarity) -> None:
    if value is Polarity.STRENGTH and instance.kind is not Kind.FLAG:
        raise ValueError(
            f"Indicator {instance.code!r}: a strength is a flag (present or not), not a "
            f"{instance.kind.value}: the language's 0-3 rating labels and category values "
            "describe need"
        )


@attrs.frozen(kw_only=True)
class Indicator:
    """One item of need: a flag, a 0-3 rating, or a category with its allowed values; or,
    with ``polarity = "strength"``, a strength or protective factor (a flag)."""

    code: str = attrs.field(validator=_check_code("code"))
    label: str
    dimension: str
    kind: Kind = Kind.FLAG
    concerns: Concerns | None = None
    values: tuple[CategoryValue, ...] = attrs.field(default=(), validator=_check_values)
    polarity: Polarity = attrs.field(default=Polarity.NEED, validator=_check_polarity)
    valid_from: int | None = attrs.field(default=None, validator=_check_years)
    valid_to: int | None = attrs.field(default=None, validator=_check_years)
    plain_label: str | None = None  #: wording for families' self-assessment
    definition: str = ""
    source: str = ""  #: where the code and its years are published (citation)

    def value(self, code: str) -> CategoryValue:
        """The allowed value ``code``; an :class:`UnknownCodeError` suggests close ones."""
        for v in self.values:
            if v.code == code:
                return v
        raise unknown("value", code, (v.code for v in self.values), f"indicator {self.code!r}")


def _unique(kind: str, items: Iterable[Any]) -> None:
    seen: set[str] = set()
    for item in items:
        if item.code in seen:
            raise ValueError(f"Language: {kind} code {item.code!r} is defined twice")
        seen.add(item.code)


def _check_language(instance: Language) -> None:
    _unique("dimension", instance.dimensions)
    _unique("indicator", instance.indicators)
    dims = {d.code for d in instance.dimensions}
    for d in instance.dimensions:
        if d.parent is not None and d.parent not in dims:
            raise ValueError(
                f"Language {instance.name!r}: dimension {d.code!r} has unknown parent {d.parent!r}"
            )
    for ind in instance.indicators:
        if ind.dimension not in dims:
            hint = _suggest(ind.dimension, dims)
            extra = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise ValueError(
                f"Language {instance.name!r}: indicator {ind.code!r} names unknown dimension "
                f"{ind.dimension!r}{extra}"
            )


@attrs.frozen(kw_only=True)
class Language:
    """A named, versioned set of dimensions and indicators."""

    name: str = attrs.field(validator=attrs.validators.matches_re(_NAME))
    version: str
    title: str = ""
    description: str = ""
    rating_labels: tuple[str, ...] = (
        "No evidence of need",
        "Some need: watch",
        "Significant need: act",
        "Severe need: act now",
    )
    dimensions: tuple[Dimension, ...] = ()
    indicators: tuple[Indicator, ...] = ()

    def __attrs_post_init__(self) -> None:
        _check_language(self)

    def indicator(self, code: str) -> Indicator:
        """The indicator ``code``; an :class:`UnknownCodeError` suggests the closest codes."""
        found = self.by_code.get(code)
        if found is None:
            raise unknown("indicator", code, self.by_code, f"language {self.name!r}")
        return found

    @functools.cached_property
    def by_code(self) -> Mapping[str, Indicator]:
        """Indicators by code."""
        return {i.code: i for i in self.indicators}

    def dimension(self, code: str) -> Dimension:
        """The dimension ``code``; an :class:`UnknownCodeError` suggests the closest codes."""
        for d in self.dimensions:
            if d.code == code:
                return d
        raise unknown(
            "dimension", code, (d.code for d in self.dimensions), f"language {self.name!r}"
        )

    def codes(
        self, year: int | None = None, *, polarity: Polarity | str | None = None
    ) -> tuple[str, ...]:
        """Indicator codes, in file order, valid in ``year`` (all when ``None``); with
        ``polarity`` (``"need"`` or ``"strength"``), only the needs or only the strengths."""
        wanted = None if polarity is None else Polarity(polarity)
        return tuple(
            i.code
            for i in self.indicators
            if valid_in(i, year) and (wanted is None or i.polarity is wanted)
        )


@attrs.frozen(kw_only=True)
class Derivation:
    """One derived indicator: ``target`` (a code of the crosswalk's target language) holds
    when ``rule`` (a rule over the source language's codes) holds."""

    target: str
    rule: str
    note: str = ""


@attrs.frozen(kw_only=True)
class Crosswalk:
    """Derives indicators of one language from the codes of another."""

    source: str
    target: str
    version: str
    provenance: CrosswalkProvenance
    reference: str = ""  #: where an official mapping is published, or why mns made its own
    mappings: tuple[Derivation, ...] = ()

    def __attrs_post_init__(self) -> None:
        seen: set[str] = set()
        for m in self.mappings:
            if m.target in seen:
                raise ValueError(
                    f"Crosswalk {self.source}->{self.target}: target {m.target!r} is mapped twice"
                )
            seen.add(m.target)
