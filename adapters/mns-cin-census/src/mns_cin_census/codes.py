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

from mns.lang import Indicator, Value, language, valid_in
from mns_cin_census import spec

__all__ = ["CodeSet", "code_sets", "factor_codes"]

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


def _span(item: Value | Indicator) -> tuple[int | None, int | None]:
    return (item.valid_from, item.valid_to)


def factor_codes(year: int | None) -> tuple[str, ...]:
    """Assessment factor codes valid in ``year`` (all of them when ``None``), in language order."""
    lang = language("cin")
    return tuple(
        i.code for i in lang.indicators if i.dimension == "assessment_factors" and valid_in(i, year)
    )


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
        valid=tuple(i.code for i in factors if valid_in(i, year)),
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
