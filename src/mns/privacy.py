"""Privacy at read time: keyed pseudonyms for identifiers, birth month, coarse postcodes.

``mns.read(..., pseudonymise=key, postcode="district")`` applies :func:`protect` to what an
adapter read, so raw identifiers never reach the caller's tables:

- identifiers (``case_id``, ``child_id``, and any column whose field metadata has
  ``mns.role = identifier``) are replaced by :func:`pseudonym`: HMAC-SHA256 under the
  caller's key, first 80 bits, base32, 16 lower-case characters. The same key gives the same
  pseudonym in every file and agency, so one child's records link; without the key nobody
  can recompute or reverse it;
- dates of birth (``birth_month``, and columns with ``mns.role = birth_date``) keep only the
  month (the first day of it);
- postcodes (``cases.area``, and columns with ``mns.role = postcode``) are coarsened to the
  district (``"SW1A"``) or the sector (``"SW1A 1"``); values that are not UK postcodes (a
  locality name) are left as they are.

Raw values quoted in the ``issues`` table are treated the same way: identifiers are
pseudonymised, dates of birth have their digits masked (``##/##/####``), postcodes are
coarsened (or masked when they do not parse).

Adapters mark columns of their extra tables with :data:`IDENTIFIER`, :data:`BIRTH_DATE`
or :data:`POSTCODE` field metadata (see :func:`role`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from typing import Literal

import attrs
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "BIRTH_DATE",
    "IDENTIFIER",
    "POSTCODE",
    "PostcodeLevel",
    "birth_month",
    "coarsen_postcode",
    "coarsen_postcodes",
    "protect",
    "pseudonym",
    "pseudonymise",
    "role",
]

ROLE_KEY = b"mns.role"
IDENTIFIER = {ROLE_KEY: b"identifier"}  #: field metadata: the column holds identifiers
BIRTH_DATE = {ROLE_KEY: b"birth_date"}  #: field metadata: the column holds dates of birth
POSTCODE = {ROLE_KEY: b"postcode"}  #: field metadata: the column holds postcodes

PostcodeLevel = Literal["district", "sector"]

#: Canonical columns with a privacy role, by name (in every table).
_BY_NAME = {"case_id": "identifier", "child_id": "identifier", "birth_month": "birth_date"}
_POSTCODE_COLUMNS = {("cases", "area")}

_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)\s*(?:([0-9])\s*([A-Z]{2})?)?$")


def _key(key: str | bytes) -> bytes:
    data = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    if not data:
        raise ValueError(
            "the pseudonymisation key is empty; give a secret of 16 characters or more"
        )
    return data


def pseudonym(identifier: str, key: str | bytes) -> str:
    """The pseudonym of ``identifier`` under ``key``: 16 lower-case base32 characters.

    Surrounding spaces are ignored, so ``" 123 "`` and ``"123"`` link.
    """
    digest = hmac.new(_key(key), identifier.strip().encode("utf-8"), hashlib.sha256).digest()
    return base64.b32encode(digest[:10]).decode("ascii").lower()


def _map_strings(
    values: pa.Array | pa.ChunkedArray, fn: Callable[[str], str | None]
) -> pa.Array | pa.ChunkedArray:
    """Apply ``fn`` to each distinct string once; keeps dictionary encoding and nulls."""
    if isinstance(values, pa.ChunkedArray):
        return pa.chunked_array(
            [_map_strings(chunk, fn) for chunk in values.chunks], type=values.type
        )
    if pa.types.is_dictionary(values.type):  # map the dictionary, then re-encode (no duplicates)
        dictionary = _map_strings(values.dictionary, fn)
        if dictionary.equals(values.dictionary):
            return values  # nothing changes (e.g. postcodes already districts)
        return pc.take(dictionary, values.indices).dictionary_encode().cast(values.type)
    distinct = pc.unique(values)
    mapped = pa.array(
        [None if v is None else fn(v) for v in distinct.to_pylist()], type=values.type
    )
    return pc.take(mapped, pc.index_in(values, value_set=distinct))


def pseudonymise(
    values: pa.Array | pa.ChunkedArray, key: str | bytes
) -> pa.Array | pa.ChunkedArray:
    """``values`` (strings, plain or dictionary) with every identifier replaced by its pseudonym."""
    secret = _key(key)
    return _map_strings(values, lambda v: pseudonym(v, secret))


def birth_month(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Dates (or timestamps) degraded to the first day of their month, as ``date32``."""
    if pa.types.is_timestamp(values.type):
        values = pc.cast(values, pa.date32())
    return pc.floor_temporal(values, unit="month")


def coarsen_postcode(value: str, level: PostcodeLevel = "district") -> str:
    """A UK postcode cut to its district (``"SW1A 1AA"`` -> ``"SW1A"``) or sector
    (``"SW1A 1"``); anything that is not a postcode is returned unchanged."""
    match = _POSTCODE.match(value.strip().upper())
    if match is None:
        return value
    district, sector, _ = match.groups()
    if level == "sector" and sector is not None:
        return f"{district} {sector}"
    return str(district)


def coarsen_postcodes(
    values: pa.Array | pa.ChunkedArray, level: PostcodeLevel = "district"
) -> pa.Array | pa.ChunkedArray:
    """:func:`coarsen_postcode` over a string (or dictionary) array."""
    if level not in ("district", "sector"):
        raise ValueError(f"postcode level {level!r} is not 'district' or 'sector'")
    return _map_strings(values, lambda v: coarsen_postcode(v, level))


def role(field: pa.Field, table: str) -> str | None:
    """The privacy role of a column: ``identifier``, ``birth_date``, ``postcode`` or None."""
    if field.metadata and ROLE_KEY in field.metadata:
        return str(field.metadata[ROLE_KEY].decode())
    if (table, field.name) in _POSTCODE_COLUMNS:
        return "postcode"
    return _BY_NAME.get(field.name)


def _mask(value: str) -> str:
    return re.sub(r"[0-9]", "#", value)


def _mask_all(value: str) -> str:
    return re.sub(r"[A-Za-z0-9]", "#", value)


def _protect_table(
    table: pa.Table,
    name: str,
    key: bytes | None,
    level: PostcodeLevel | None,
    roles: dict[str, str],
) -> pa.Table:
    for i, field in enumerate(table.schema):
        kind = role(field, name)
        if kind is None:
            continue
        roles.setdefault(field.name, kind)
        column = table.column(i)
        is_text = pa.types.is_string(field.type) or (
            pa.types.is_dictionary(field.type) and pa.types.is_string(field.type.value_type)
        )
        if kind == "identifier" and key is not None and is_text:
            column = pseudonymise(column, key)
        elif kind == "birth_date" and (
            pa.types.is_date(field.type) or pa.types.is_timestamp(field.type)
        ):
            column = pc.cast(birth_month(column), field.type)
        elif kind == "postcode" and level is not None and is_text:
            column = coarsen_postcodes(column, level)
        else:
            continue
        table = table.set_column(i, field, column)
    return table


def _protect_issues(
    issues: pa.Table, key: bytes | None, level: PostcodeLevel | None, roles: Mapping[str, str]
) -> pa.Table:
    if issues.num_rows == 0:
        return issues
    fields = issues.column("field").to_pylist()
    values = issues.column("value").to_pylist()
    out: list[str | None] = []
    for field, value in zip(fields, values, strict=True):
        kind = roles.get(field or "")
        if value is None or kind is None:
            out.append(value)
        elif kind == "identifier":
            out.append(pseudonym(value, key) if key is not None else value)
        elif kind == "birth_date":
            out.append(_mask(value))
        elif level is not None:  # postcode
            coarse = coarsen_postcode(value, level)
            out.append(_mask_all(value) if coarse == value and value.strip() else coarse)
        else:
            out.append(value)
    index = issues.schema.get_field_index("value")
    issues = issues.set_column(index, issues.schema.field(index), pa.array(out, pa.string()))
    if key is not None:
        index = issues.schema.get_field_index("record")
        issues = issues.set_column(
            index, issues.schema.field(index), pseudonymise(issues.column(index), key)
        )
    return issues


@attrs.frozen(kw_only=True)
class Protected:
    """What :func:`protect` returns: the tables, and what it did."""

    tables: dict[str, pa.Table]
    issues: pa.Table
    roles: Mapping[str, str]  #: column name -> role, over every table


def protect(
    tables: Mapping[str, pa.Table],
    issues: pa.Table,
    *,
    key: str | bytes | None,
    postcode: PostcodeLevel | None = "district",
) -> Protected:
    """Apply the read-time privacy rules to ``tables`` (by name) and to ``issues``.

    ``key=None`` leaves identifiers as read; ``postcode=None`` leaves postcodes as read.
    Dates of birth are always degraded to the month.
    """
    secret = _key(key) if key is not None else None
    if postcode not in (None, "district", "sector"):
        raise ValueError(f"postcode={postcode!r}: use 'district', 'sector' or None (keep as read)")
    roles: dict[str, str] = {}
    out = {
        name: _protect_table(table, name, secret, postcode, roles) for name, table in tables.items()
    }
    return Protected(
        tables=out, issues=_protect_issues(issues, secret, postcode, roles), roles=roles
    )
