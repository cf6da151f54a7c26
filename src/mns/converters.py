"""The private cattrs converter for mns's TOML and dict wire format, and its error messages.

One converter per wire format, never the global one. TOML already has dates, so the dict
form and the TOML form share this converter; ISO strings are accepted for dates too, so
that JSON-shaped dicts load as well.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import cattrs
from cattrs.errors import (
    AttributeValidationNote,
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)

from mns._types import IndicatorValue
from mns.errors import MnsError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "describe_errors",
    "from_metadata",
    "make_converter",
    "make_json_converter",
    "read_toml",
    "to_metadata",
]


def read_toml(path: str | Path, error: type[MnsError] = MnsError, what: str = "file") -> Any:
    """The TOML file at ``path`` as a dict (a UTF-8 byte-order mark is allowed); a missing
    or malformed file raises ``error`` naming the file (``what`` it was meant to be)."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text("utf-8-sig"))
    except FileNotFoundError:
        raise error(f"{path}: no such {what} (the {what} does not exist)", file=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}", file=str(path)) from None


def make_converter(converter: cattrs.Converter | None = None) -> cattrs.Converter:
    """Configure ``converter`` (a new one by default) for mns's wire format.

    Extra keys are errors, tuples read from lists, enums by value, dates as
    ``datetime.date`` or ISO text; ``None`` fields are left out when unstructuring.
    """
    conv = converter or cattrs.Converter(forbid_extra_keys=True, omit_if_default=True)

    def structure_date(value: Any, _: type) -> dt.date:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            return dt.date.fromisoformat(value)
        raise ValueError(f"expected a date such as 2024-03-31, got {value!r}")

    conv.register_structure_hook(dt.date, structure_date)
    conv.register_unstructure_hook(dt.date, lambda d: d)

    def structure_enum(value: Any, cls: type[enum.Enum]) -> enum.Enum:
        try:
            return cls(value)
        except ValueError:
            allowed = ", ".join(repr(m.value) for m in cls)
            raise ValueError(f"{value!r} is not allowed; use one of {allowed}") from None

    conv.register_structure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, enum.Enum), structure_enum
    )
    conv.register_structure_hook(IndicatorValue, structure_indicator_value)
    for cls, accepted, noun in _SCALARS:
        conv.register_structure_hook(cls, _strict(accepted, noun))
    return conv


def make_json_converter(converter: cattrs.Converter | None = None) -> cattrs.Converter:
    """Configure ``converter`` (a new one by default) for mns's JSON files (provenance,
    ``audit.json``): the TOML rules, but dates written as ISO text (JSON has no dates) and
    every field written, defaults too, so the file says everything."""
    conv = make_converter(converter or cattrs.Converter(forbid_extra_keys=True))
    conv.register_unstructure_hook(dt.date, lambda d: d.isoformat())
    return conv


def to_metadata(value: Any) -> bytes:
    """``value`` (attrs records, and lists or tuples of them or of scalars) as the JSON of a
    table's schema-metadata entry, through the JSON converter."""
    return json.dumps(_METADATA.unstructure(value), sort_keys=True).encode()


def from_metadata(raw: bytes | None, cls: Any, key: bytes, default: Any = None) -> Any:
    """The ``cls`` that :func:`to_metadata` wrote under ``key`` (``default`` when ``raw`` is
    None); anything else is an :class:`MnsError` naming the entry and what is wrong."""
    if raw is None:
        return default
    try:
        data = json.loads(raw)
        return _METADATA.structure(data, cls)
    except json.JSONDecodeError as exc:
        problems = f"not JSON ({exc})"
    except Exception as exc:  # cattrs' grouped errors
        shape = data if isinstance(data, Mapping) else {}
        problems = "; ".join(f"{p}: {m}" for p, m in describe_errors(exc, shape, {}, "entry"))
    raise MnsError(
        f"the table's schema metadata {key.decode()!r} is not valid: {problems}; mns wrote "
        "it, so the table was changed since",
        item=key.decode(),
    )


# TOML has real types: a string "26" where a number belongs is a mistake to report, not coerce.
_SCALARS: tuple[tuple[type, tuple[type, ...], str], ...] = (
    (int, (int,), "a whole number"),
    (float, (int, float), "a number"),
    (str, (str,), "text in quotes"),
    (bool, (bool,), "true or false"),
)


def _strict(accepted: tuple[type, ...], noun: str) -> Any:
    def structure(value: Any, cls: type) -> Any:
        if isinstance(value, bool) and bool not in accepted:
            raise ValueError(f"expected {noun}, got {value!r}")
        if not isinstance(value, accepted):
            raise ValueError(f"expected {noun}, got {value!r}")
        return cls(value)

    return structure


def structure_indicator_value(value: Any, _: Any) -> IndicatorValue:
    """An indicator value stays what it is: a flag, a 0-3 rating, a category code or missing."""
    if value is None or isinstance(value, bool | int | str):
        return value
    raise ValueError(f"an indicator value must be true/false, 0-3, a code or empty, not {value!r}")


def _format(exc: BaseException) -> str:
    if isinstance(exc, ForbiddenExtraKeysError):
        keys = ", ".join(repr(k) for k in sorted(exc.extra_fields))
        allowed = _field_names(exc.cl)
        return f"unknown key {keys}; allowed keys are {allowed}"
    if isinstance(exc, KeyError):
        return "required key is missing"
    if isinstance(exc, (ValueError, TypeError)) and str(exc):
        text = str(exc)
        if isinstance(exc, TypeError) and "argument" in text:
            return "wrong type"
        return text
    return f"invalid value ({type(exc).__name__})"


def _field_names(cls: type) -> str:
    import attrs

    return ", ".join(repr(a.alias or a.name) for a in attrs.fields(cls))


def _walk(
    exc: BaseException, path: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(exc, ClassValidationError | IterableValidationError):
        with_notes, without = exc.group_exceptions()
        for inner, note in with_notes:
            step: str | int = note.index if isinstance(note, IterableValidationNote) else note.name
            if isinstance(note, AttributeValidationNote | IterableValidationNote):
                yield from _walk(inner, (*path, step))
        for inner in without:
            yield from _walk(inner, path)
    else:
        yield path, _format(exc)


def describe_errors(
    exc: BaseException,
    raw: Mapping[str, Any],
    sections: Mapping[str, str],
    head: str,
) -> list[tuple[str, str]]:
    """Turn a cattrs error group into ``(place, message)`` pairs in the file's own terms.

    ``sections`` maps an attrs field (``need_groups``) to the TOML array that feeds it
    (``need_group``); a place reads ``need_group[3] (code 'NG4') field rule``. Fields of
    the ``[head]`` table read ``[plan] field name``.
    """
    return [(_place(path, raw, sections, head), message) for path, message in _walk(exc, ())]


def _place(
    path: tuple[str | int, ...], raw: Mapping[str, Any], sections: Mapping[str, str], head: str
) -> str:
    if not path:
        return f"[{head}]"
    first, rest = path[0], path[1:]
    if str(first) not in sections:
        return f"[{head}] field " + ".".join(
            str(p) if isinstance(p, str) else f"[{p}]" for p in path
        )
    section = sections[str(first)]
    if rest and isinstance(rest[0], int):
        index = rest[0]
        place = f"{section}[{index}]"
        items = raw.get(section)
        if isinstance(items, list) and index < len(items) and isinstance(items[index], dict):
            code = items[index].get("code")
            if code is not None:
                place += f" (code {code!r})"
        rest = rest[1:]
    else:
        place = section
    if rest:
        place += " field " + ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in rest)
    return place


_METADATA = make_json_converter()
