"""Turning Annex A cells into values: "a) Male" -> M, "q) 6: Police" -> 6, dates, yes/no.

Each function returns ``(value, problem)``: the normalised value (``None`` when the cell is
empty or cannot be read) and, when it cannot be read, what is wrong with it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from mns_annex_a.spec import Kind

__all__ = ["NORMALISERS", "normalise", "strip_prefix"]

_PREFIX = re.compile(r"^\s*[a-z]{1,2}\)\s*")
_CODE = re.compile(r"^([A-Za-z0-9]{1,6})\s*(?:[:\-–]\s*.*)?$")
_FLOAT_ID = re.compile(r"^(-?[0-9]+)\.0+$")
_ABUSE = {
    "neglect": "NEG",
    "physical": "PHY",
    "physicalabuse": "PHY",
    "sexual": "SAB",
    "sexualabuse": "SAB",
    "emotional": "EMO",
    "emotionalabuse": "EMO",
    "multiple": "MUL",
    "multiplenotrecommended": "MUL",
}
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}
_GENDER = {"male": "M", "m": "M", "female": "F", "f": "F"}
_UNKNOWN_GENDER = {
    "notstatedrecorded",
    "notstated",
    "notrecorded",
    "unknown",
    "indeterminate",
    "u",
    "other",
}

Result = tuple[object, str | None]


def strip_prefix(text: str) -> str:
    """``"a) Male"`` -> ``"Male"``: the list letter Ofsted's template puts before a value."""
    return _PREFIX.sub("", text).strip()


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).replace("\xa0", " ").strip()
    return text or None


def _id(value: object) -> Result:
    text = _text(value)
    if text is None:
        return None, None
    match = _FLOAT_ID.match(text)
    return (match.group(1) if match else text), None


def _strptime(text: str, fmt: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(text, fmt).date()
    except ValueError:
        return None


def _date(value: object) -> Result:
    if value is None or value == "":
        return None, None
    if isinstance(value, dt.datetime):
        return value.date(), None
    if isinstance(value, dt.date):
        return value, None
    text = str(value).strip()
    parsed = next(
        (d for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y") if (d := _strptime(text, fmt))), None
    )
    if parsed is not None:
        return parsed, None
    if text.startswith("="):
        return (
            None,
            f"{text!r} is a formula without a calculated value (open and save the workbook in "
            "Excel)",
        )
    return None, f"{text!r} is not a date"


def _number(value: object) -> Result:
    if value is None or value == "":
        return None, None
    try:
        return float(str(value).strip()), None
    except ValueError:
        return None, f"{value!r} is not a number"


def _count(value: object) -> Result:
    number, problem = _number(value)
    if problem or number is None:
        return None, problem
    assert isinstance(number, float)
    if number < 0 or not number.is_integer():
        return None, f"{value!r} is not a whole number of 0 or more"
    return int(number), None


def _yes_no(value: object) -> Result:
    text = _text(value)
    if text is None:
        return None, None
    word = strip_prefix(text).lower()
    if word in _YES:
        return True, None
    if word in _NO:
        return False, None
    return None, f"{text!r} is not yes or no"


def _gender(value: object) -> Result:
    text = _text(value)
    if text is None:
        return None, None
    word = re.sub(r"[^a-z]", "", strip_prefix(text).lower())
    if word in _GENDER:
        return _GENDER[word], None
    if word in _UNKNOWN_GENDER:
        return "U", None
    return None, f"{text!r} is not a gender (Male, Female, Not stated/recorded)"


def _code(value: object) -> Result:
    text = _text(value)
    if text is None:
        return None, None
    match = _CODE.match(strip_prefix(text))
    if match is None:
        return None, f"{text!r} does not start with a code"
    return match.group(1).upper(), None


def _category(value: object) -> Result:
    text = _text(value)
    return (strip_prefix(text) if text is not None else None), None


def _abuse(value: object) -> Result:
    text = _text(value)
    if text is None:
        return None, None
    plain = strip_prefix(text)
    if plain.upper() in _ABUSE.values():
        return plain.upper(), None
    word = re.sub(r"[^a-z]", "", plain.lower())
    if word in _ABUSE:
        return _ABUSE[word], None
    return (
        None,
        f"{text!r} is not a category of abuse (neglect, physical, sexual, emotional, multiple)",
    )


NORMALISERS: dict[Kind, Callable[[object], Result]] = {
    Kind.ID: _id,
    Kind.TEXT: lambda v: (_text(v), None),
    Kind.DATE: _date,
    Kind.NUMBER: _number,
    Kind.COUNT: _count,
    Kind.YES_NO: _yes_no,
    Kind.GENDER: _gender,
    Kind.CODE: _code,
    Kind.CATEGORY: _category,
    Kind.ABUSE: _abuse,
}


def normalise(kind: Kind, value: object) -> Result:
    """The value of a cell of ``kind``, and what is wrong with it if it cannot be read."""
    return NORMALISERS[kind](value)
