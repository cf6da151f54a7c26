"""Case records as plain objects: one case, one service episode, one outcome, one need-group
assignment, and the audit they belong to. Whole tables are Arrow (:mod:`mns.records.schema`);
these records serve one-case work (an initial assessment, ``explain``) and tests."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from typing import Any

import attrs

from mns._types import IndicatorValue

__all__ = [
    "Assignment",
    "Audit",
    "Case",
    "Cohort",
    "IndicatorValue",
    "OutcomeRecord",
    "Role",
    "ServiceEpisode",
]

SEXES = ("M", "F", "U")  #: male, female, unknown / not recorded / unborn / indeterminate


class Cohort(enum.Enum):
    """The administrative sampling frame a case was drawn from (not a need)."""

    REFERRAL = "referral"
    CHILD_IN_NEED = "child_in_need"
    CHILD_PROTECTION = "child_protection"
    LOOKED_AFTER = "looked_after"
    CARE_LEAVER = "care_leaver"
    EARLY_HELP = "early_help"


class Role(enum.Enum):
    """Who gave a need group to a case."""

    PROFESSIONAL = "professional"
    SHADOW = "shadow"  #: a shadow audit by service users
    MIXED = "mixed"  #: a mixed panel of practitioners, managers and service users
    RULES = "rules"  #: the plan's rules, through ``mns.classify``


def _sex(instance: Any, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and value not in SEXES:
        raise ValueError(
            f"Case {instance.case_id!r}: sex {value!r} is not one of {', '.join(SEXES)}"
        )


def _age(instance: Any, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and not 0 <= value <= 120:
        raise ValueError(f"Case {instance.case_id!r}: age {value} is outside 0-120")


def _indicator_values(
    instance: Any, attribute: attrs.Attribute[Any], value: Mapping[str, IndicatorValue]
) -> None:
    for code in value:
        if "." not in code:
            raise ValueError(
                f"Case {instance.case_id!r}: indicator {code!r} must be qualified by its "
                "language, e.g. 'cin.4B' or 'mns.parent_mental_health'"
            )


@attrs.frozen(kw_only=True)
class Case:
    """One case: a child at a reference date, with the indicators recorded for it.

    ``indicators`` maps qualified codes (``"cin.4B"``, ``"mns.neglect"``) to values.
    """

    case_id: str
    child_id: str | None = None
    reference_date: dt.date | None = None
    birth_month: dt.date | None = None  #: the first day of the month of birth
    age: int | None = attrs.field(default=None, validator=_age)
    sex: str | None = attrs.field(default=None, validator=_sex)
    ethnicity: str | None = None
    disability: bool | None = None
    area: str | None = None  #: postcode district or locality
    la: str | None = None  #: local authority code
    cohort: Cohort | None = None
    agency: str | None = None
    source_system: str | None = None
    team: str | None = None  #: the team (or worker unit) holding the case
    indicators: Mapping[str, IndicatorValue] = attrs.field(
        factory=dict, validator=_indicator_values, hash=False
    )


@attrs.frozen(kw_only=True)
class ServiceEpisode:
    """A service a case received, as the agency recorded it."""

    case_id: str
    service: str
    child_id: str | None = None
    detail: str | None = None  #: e.g. the placement type code
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    agency: str | None = None
    provider: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError(
                f"ServiceEpisode {self.case_id!r}/{self.service!r}: end_date {self.end_date} "
                f"is before start_date {self.start_date}"
            )


@attrs.frozen(kw_only=True)
class OutcomeRecord:
    """An outcome measured for a case."""

    case_id: str
    outcome: str
    recorded_on: dt.date | None = None
    achieved: bool | None = None
    value: float | None = None
    detail: str | None = None


@attrs.frozen(kw_only=True)
class Assignment:
    """A need group given to a case by one audit group."""

    case_id: str
    audit: str  #: the audit run (e.g. "baseline-2026")
    role: Role
    need_group: str | None  #: None: the group could not place the case
    auditor: str | None = None
    consensus: bool | None = None
    notes: str | None = None


@attrs.frozen(kw_only=True)
class Audit:
    """An audit run: what was sampled, from which frame, by whom."""

    name: str
    locality: str = ""
    sample_frame: str = ""  #: e.g. "all referrals, April 2025 - March 2026"
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    sample_size: int | None = None
    population_size: int | None = None
    sampling_fraction: float | None = None
    role: Role = Role.PROFESSIONAL
    strata: Mapping[str, float] = attrs.field(factory=dict, hash=False)  #: fraction per stratum

    def __attrs_post_init__(self) -> None:
        f = self.sampling_fraction
        if f is not None and not 0 < f <= 1:
            raise ValueError(f"Audit {self.name!r}: sampling_fraction {f} must be in (0, 1]")
        for stratum, fraction in self.strata.items():
            if not 0 < fraction <= 1:
                raise ValueError(
                    f"Audit {self.name!r}: stratum {stratum!r} has sampling fraction {fraction}, "
                    "which must be in (0, 1]"
                )
