"""The code set of every coded CIN census element in a collection year.

Codes that are needs (factors, primary need, referral source, reason for closure, category
of abuse, disability) come from ``language("cin")`` with their years of validity; the
structural ones from :mod:`mns_cin_census.spec`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import attrs
import pyarrow as pa

from mns.lang import CategoryValue, Indicator, language, valid_in
from mns_cin_census import spec

__all__ = ["LEGACY_FACTORS", "CodeSet", "Legacy", "code_sets", "factor_codes", "queried"]


@attrs.frozen(kw_only=True)
class Legacy:
    """A factor code that left the published list but that the DfE validator still accepts:
    read in every year, with a query (a located warning naming ``rule``) from ``query_from``."""

    code: str
    replaced_by: tuple[str, ...]
    query_from: int
    rule: str


#: 18A and 19A: in the code list until 2020, split into B/C codes from 2021; the DfE CIN
#: validator (data-to-insight/csc-validator-be-cin) still lists them among the factors it
#: accepts (rule 8897Q, 2022-23 rules, inherited by later years) and only queries them from
#: 2024-25 (rules 8945Q and 8950Q). Rejecting them would lose a physical or sexual abuse factor.
LEGACY_FACTORS: Mapping[str, Legacy] = {
    "18A": Legacy(code="18A", replaced_by=("18B", "18C"), query_from=2025, rule="8945Q"),
    "19A": Legacy(code="19A", replaced_by=("19B", "19C"), query_from=2025, rule="8950Q"),
}

#: element -> indicator of the ``cin`` language holding its values
_BY_INDICATOR = {
    "ReferralSource": "referral_source",
    "PrimaryNeedCode": "primary_need",
    "ReasonForClosure": "reason_for_closure",
    "InitialCategoryOfAbuse": "category_of_abuse",
    "LatestCategoryOfAbuse": "category_of_abuse",
}
_FIXED = {
    "UPNunknown": spec.UPN_UNKNOWN,
    "GenderCurrent": tuple(spec.GENDER_CURRENT),
    "Sex": tuple(spec.SEX),
    "Ethnicity": spec.ETHNICITY,
    "PPOutcome": spec.PP_OUTCOME,
}


@attrs.frozen(kw_only=True)
class CodeSet:
    """The codes an element may hold in a year, and every code it has held in some year
    (with its years, to explain a code used in the wrong year)."""

    element: str
    valid: tuple[str, ...]
    known: Mapping[str, tuple[int | None, int | None]]

    @functools.cached_property
    def array(self) -> pa.Array:
        return pa.array(self.valid, pa.string())

    def explain(self, code: str, year: int | None) -> str:
        """Why ``code`` is not valid for this element in ``year``, and what is."""
        span = self.known.get(code)
        if span is not None:
            first, last = span
            when = (
                f"from {first}"
                if last is None
                else f"until {last}"
                if first is None
                else f"from {first} to {last}"
            )
            return f"<{self.element}> {code!r} is not valid in the {year} collection (valid {when})"
        shown = ", ".join(self.valid[:25]) + (", ..." if len(self.valid) > 25 else "")
        return f"<{self.element}> {code!r} is not a code of this element; expected one of {shown}"


def _span(item: CategoryValue | Indicator) -> tuple[int | None, int | None]:
    return (item.valid_from, item.valid_to)


def _factor_accepted(item: Indicator, year: int | None) -> bool:
    return valid_in(item, year) or (
        item.code in LEGACY_FACTORS
        and (year is None or item.valid_from is None or year >= item.valid_from)
    )


def factor_codes(year: int | None) -> tuple[str, ...]:
    """Assessment factor codes a ``year``'s file may hold (all of them when ``None``), in
    language order: the year's list and the :data:`LEGACY_FACTORS` still accepted."""
    lang = language("cin")
    return tuple(
        i.code
        for i in lang.indicators
        if i.dimension == "assessment_factors" and _factor_accepted(i, year)
    )


def queried(code: str, year: int | None) -> Legacy | None:
    """The legacy factor ``code`` if the DfE validator queries it in ``year``, else ``None``."""
    legacy = LEGACY_FACTORS.get(code)
    if legacy is None or year is None or year < legacy.query_from:
        return None
    return legacy


@functools.cache
def code_sets(year: int | None) -> Mapping[str, CodeSet]:
    """Every coded element's :class:`CodeSet` in ``year`` (``None``: the union of all years)."""
    lang = language("cin")
    out: dict[str, CodeSet] = {}
    for element, code in _BY_INDICATOR.items():
        values = lang.indicator(code).values
        out[element] = CodeSet(
            element=element,
            valid=tuple(v.code for v in values if valid_in(v, year)),
            known={v.code: _span(v) for v in values},
        )
    factors = [i for i in lang.indicators if i.dimension == "assessment_factors"]
    out["AssessmentFactors"] = CodeSet(
        element="AssessmentFactors",
        valid=factor_codes(year),
        known={i.code: _span(i) for i in factors},
    )
    disabilities = [i for i in lang.indicators if i.dimension == "disability"]
    out["Disability"] = CodeSet(
        element="Disability",
        valid=(
            "NONE",
            *(i.code.removeprefix("disability_") for i in disabilities if valid_in(i, year)),
        ),
        known={i.code.removeprefix("disability_"): _span(i) for i in disabilities},
    )
    for element, codes in _FIXED.items():
        out[element] = CodeSet(element=element, valid=tuple(codes), known={})
    return out
