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
import contextlib
import contextvars
import hashlib
import hmac
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal

import attrs
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "BIRTH_DATE",
    "COLUMN_ROLES",
    "IDENTIFIER",
    "NAME",
    "POSTCODE",
    "ColumnRole",
    "Postcode",
    "PostcodeLevel",
    "Settings",
    "active",
    "birth_month",
    "coarsen_postcode",
    "coarsen_postcodes",
    "mask_quoted",
    "parse_postcode",
    "protect",
    "pseudonym",
    "pseudonymise",
    "reading",
    "role",
    "scrub",
    "shown",
]

ROLE_KEY = b"mns.role"
IDENTIFIER = {ROLE_KEY: b"identifier"}  #: field metadata: the column holds identifiers
BIRTH_DATE = {ROLE_KEY: b"birth_date"}  #: field metadata: the column holds dates of birth
POSTCODE = {ROLE_KEY: b"postcode"}  #: field metadata: the column holds postcodes
NAME = {ROLE_KEY: b"name"}  #: field metadata: the column holds people's names (masked in issues)

PostcodeLevel = Literal["district", "sector"]
ColumnRole = Literal["identifier", "birth_date", "postcode", "name"]
COLUMN_ROLES: tuple[ColumnRole, ...] = ("identifier", "birth_date", "postcode", "name")

#: Canonical columns with a privacy role, by name (in every table).
_BY_NAME = {"case_id": "identifier", "child_id": "identifier", "birth_month": "birth_date"}
_POSTCODE_COLUMNS = {("cases", "area")}


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


@attrs.frozen(kw_only=True)
class Postcode:
    """A parsed UK postcode: ``outward`` (area letters + district, ``"SW1A"``) and ``inward``
    (sector digit + unit letters, ``"1AA"``; empty when only the outward code or the sector
    was given)."""

    outward: str
    inward: str = ""

    @property
    def sector(self) -> str:
        """``"SW1A 1"``; for a bare outward code, the outward code."""
        return f"{self.outward} {self.inward[0]}" if self.inward else self.outward

    def coarse(self, level: PostcodeLevel) -> str:
        """The district (``"SW1A"``) or the sector (``"SW1A 1"``)."""
        return self.sector if level == "sector" else self.outward

    def __str__(self) -> str:
        return f"{self.outward} {self.inward}" if self.inward else self.outward


# The shapes of the outward code (A9, A99, AA9, AA99, A9A, AA9A) and the inward code (9AA).
# Letters are not restricted by position: any full postcode shape identifies an address.
_OUTWARD = r"[A-Z]{1,2}[0-9][A-Z0-9]?"
_INWARD = r"[0-9][A-Z]{2}"
# Non-geographic and overseas codes: the outward code names a whole territory or service.
_SPECIAL = (
    "GIR",  # Girobank, GIR 0AA
    "SAN",  # Santa's, SAN TA1
    "ASCN",
    "BBND",
    "BIQQ",
    "FIQQ",
    "PCRN",
    "SIQQ",
    "STHL",
    "TDCU",
    "TKCA",
)
_WHOLE = re.compile(rf"({_OUTWARD})({_INWARD})?")  # on the compact form (letters, digits)
_SECTOR = re.compile(rf"({_OUTWARD}) ?([0-9])")
_BFPO = re.compile(r"^BFPO ?[0-9]{1,4}$")
_SPECIAL_WHOLE = re.compile(rf"({'|'.join(_SPECIAL)})([0-9][A-Z0-9]{{2}}|TA1)?")
# Inside free text (an address): separators between the two halves are spaces, hyphens, dots.
_INSIDE = re.compile(
    rf"(?<![A-Z0-9])({_OUTWARD}|{'|'.join(_SPECIAL)})[ \t.\-]*({_INWARD}|TA1)(?![A-Z0-9])"
)
# A house number followed by a word ("12 High Street", "Flat 3 Rose Court"), or a comma:
# the text is an address, not an area name.
_ADDRESS = re.compile(r"[0-9]+[A-Z]?\s+[A-Z]|,")


def _compact(value: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", value.upper())


def parse_postcode(value: str) -> Postcode | None:
    """``value`` as a UK postcode, or None when it holds none.

    Case, spacing and punctuation do not matter (``"b15-8pz."`` is ``B15 8PZ``); a postcode
    inside an address (``"12 High St, Birmingham B15 8PZ"``) is found; an outward code alone
    (``"B15"``) or a sector (``"B15 8"``) parses to that much. Special codes keep only their
    outward code: ``GIR 0AA``, ``SAN TA1``, the overseas territories (``ASCN 1ZZ``), and
    ``BFPO 1234`` (as ``BFPO``: the number names a unit). An address with two different
    postcodes is not one postcode (None).
    """
    text = value.upper().strip()
    if _BFPO.match(re.sub(r"[^A-Z0-9 ]", "", text)):
        return Postcode(outward="BFPO")
    compact = _compact(text)
    special = _SPECIAL_WHOLE.fullmatch(compact)
    if special is not None:
        return Postcode(outward=special.group(1))
    whole = _WHOLE.fullmatch(compact)
    if whole is not None:
        return Postcode(outward=whole.group(1), inward=whole.group(2) or "")
    sector = _SECTOR.fullmatch(re.sub(r"[^A-Z0-9]+", " ", text).strip())
    if sector is not None:
        return Postcode(outward=sector.group(1), inward=sector.group(2))
    found = {
        (m.group(1), m.group(2)) for m in _INSIDE.finditer(re.sub(r"[^A-Z0-9 \t.\-]", " ", text))
    }
    if len(found) != 1:
        return None
    outward, inward = found.pop()
    if outward in _SPECIAL:
        return Postcode(outward=outward)
    return Postcode(outward=outward, inward=inward)


def _area_name(value: str) -> bool:
    """A place or area name (``"Northwick East"``, ``"QAB12"``): starts with a letter, does
    not begin like a postcode, and is not an address."""
    text = value.strip().upper()
    if not text or not text[0].isalpha() or _ADDRESS.search(text):
        return False
    return (
        re.match(rf"{_OUTWARD} ?[0-9]", text) is None
        and re.match(rf"{_OUTWARD}(?![A-Z])", text) is None
    )


def coarsen_postcode(value: str, level: PostcodeLevel = "district") -> str | None:
    """A UK postcode cut to its district (``"SW1A 1AA"`` -> ``"SW1A"``) or sector
    (``"SW1A 1"``), parsed by :func:`parse_postcode` (so ``"sw1a-1aa."`` and postcodes in
    addresses are cut too).

    A value holding no postcode is returned unchanged when it is an area name
    (``"Northwick East"``); otherwise (an address without a postcode, a broken postcode such
    as ``"B15 8P"``) it is None: it cannot be coarsened, so it must not be published.
    """
    parsed = parse_postcode(value)
    if parsed is not None:
        return parsed.coarse(level)
    return value.strip() if _area_name(value) else None


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


def _blanked_postcodes(
    name: str,
    field: str,
    before: pa.ChunkedArray,
    after: pa.ChunkedArray,
    ids: pa.ChunkedArray | None,
) -> list[dict[str, Any]]:
    """One issue per value that held neither a postcode nor an area name (now null), naming
    its case by ``ids`` when given."""
    lost = pc.and_(pc.is_valid(before), pc.is_null(after))
    rows = pc.indices_nonzero(lost).to_pylist()
    if not rows:
        return []
    taken = pa.array(rows, pa.int64())
    values = before.take(taken).to_pylist()
    records = [None] * len(rows) if ids is None else ids.take(taken).to_pylist()
    return [
        {
            "source": "",
            "table": name,
            "field": field,
            "record": record,
            "value": _mask_all(str(value)),
            "severity": "warning",
            "action": "blanked",
            "message": (
                f"{name}.{field} holds neither a UK postcode nor an area name, so it cannot "
                "be coarsened and is left out (give a postcode such as 'SW1A 1AA', a district "
                "such as 'SW1A', or the area's name)"
            ),
        }
        for value, record in zip(values, records, strict=True)
    ]


def _protect_table(
    table: pa.Table,
    name: str,
    key: bytes | None,
    level: PostcodeLevel | None,
    roles: dict[str, str],
    *,
    blanked: list[dict[str, Any]],
) -> pa.Table:
    original = table  # blanked issues name the case by its id as read (protected with the rest)
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
            ids = original.column("case_id") if "case_id" in table.column_names else None
            blanked.extend(_blanked_postcodes(name, field.name, original.column(i), column, ids))
        else:
            continue
        table = table.set_column(i, field, column)
    return table


def _protect_issues(
    issues: pa.Table, key: bytes | None, level: PostcodeLevel | None, roles: Mapping[str, str]
) -> pa.Table:
    if issues.num_rows == 0:
        return issues
    settings = Settings(key=key, postcode=level)
    fields = issues.column("field").to_pylist()
    values = issues.column("value").to_pylist()
    out = [
        value if value is None else shown(value, roles.get(field or ""), settings)
        for field, value in zip(fields, values, strict=True)
    ]
    index = issues.schema.get_field_index("value")
    issues = issues.set_column(index, issues.schema.field(index), pa.array(out, pa.string()))
    if key is not None:
        index = issues.schema.get_field_index("record")
        issues = issues.set_column(
            index, issues.schema.field(index), pseudonymise(issues.column(index), key)
        )
    return issues


@attrs.frozen(kw_only=True)
class Settings:
    """The privacy settings of a read: the pseudonymisation key (None: identifiers as read)
    and the postcode level (None: postcodes as read). Dates of birth and names are always
    masked in messages."""

    key: bytes | None = None
    postcode: PostcodeLevel | None = "district"
    #: roles of issue fields declared by the read's issue logs (filled during the read)
    roles: dict[str, str] = attrs.field(factory=dict, eq=False)


_ACTIVE: contextvars.ContextVar[Settings | None] = contextvars.ContextVar(
    "mns_privacy", default=None
)


@contextlib.contextmanager
def reading(key: str | bytes | None, postcode: PostcodeLevel | None) -> Iterator[Settings]:
    """Within this block, :func:`shown` (and so every :class:`~mns.records.issues.IssueLog`
    message and error) protects values as ``mns.read`` will protect the tables."""
    settings = Settings(key=_key(key) if key is not None else None, postcode=postcode)
    token = _ACTIVE.set(settings)
    try:
        yield settings
    finally:
        _ACTIVE.reset(token)


def active() -> Settings | None:
    """The settings of the read in progress (None outside ``mns.read``)."""
    return _ACTIVE.get()


def shown(value: Any, role: str | None, settings: Settings | None = None) -> str | None:
    """``value`` as it may appear in a message or an issue: an identifier as its pseudonym
    (with a key), a date of birth or a name masked (``##/##/####``), a postcode coarsened
    (or masked when it does not parse). Outside a read (no settings) values are shown as given.
    """
    settings = settings if settings is not None else active()
    if value is None:
        return None
    text = value.decode("utf-8", "backslashreplace") if isinstance(value, bytes) else str(value)
    if settings is None or role is None:
        return text
    if role == "identifier":
        return pseudonym(text, settings.key) if settings.key is not None else text
    if role == "birth_date":
        return _mask(text)
    if role == "name":
        return _mask_all(text)
    if role == "postcode" and settings.postcode is not None:
        parsed = parse_postcode(text)
        return parsed.coarse(settings.postcode) if parsed is not None else _mask_all(text)
    return text


def scrub(text: str, raw: str, replacement: str) -> str:
    """``text`` with ``raw`` replaced wherever it stands on its own (not inside a longer word
    or number) or in quotes; a very short ``raw`` only in quotes, so ``'7'`` is replaced
    but ``row 7`` is left."""
    raw = raw.strip()
    if not raw or raw == replacement or raw not in text:
        return text
    for quote in ("'", '"'):
        text = text.replace(f"{quote}{raw}{quote}", f"{quote}{replacement}{quote}")
    if len(raw) < 3:
        return text
    return re.sub(rf"(?<![A-Za-z0-9]){re.escape(raw)}(?![A-Za-z0-9])", replacement, text)


def mask_quoted(text: str) -> str:
    """``text`` with the letters and digits of every quoted part masked: for the text of
    exceptions from other libraries, which quote raw values (``invalid value '31/02/2019'``)."""
    return re.sub(r"'[^']*'|\"[^\"]*\"", lambda m: _mask_all(m.group(0)), text)


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
    roles: Mapping[str, str] | None = None,
) -> Protected:
    """Apply the read-time privacy rules to ``tables`` (by name) and to ``issues``.

    ``key=None`` leaves identifiers as read; ``postcode=None`` leaves postcodes as read.
    Dates of birth are always degraded to the month. ``roles`` (field name -> role) adds the
    roles of issue fields that name no column of ``tables`` (e.g. a source's own headers).
    """
    secret = _key(key) if key is not None else None
    if postcode not in (None, "district", "sector"):
        raise ValueError(f"postcode={postcode!r}: use 'district', 'sector' or None (keep as read)")
    found: dict[str, str] = {}
    blanked: list[dict[str, Any]] = []
    out = {
        name: _protect_table(table, name, secret, postcode, found, blanked=blanked)
        for name, table in tables.items()
    }
    protected = _protect_issues(issues, secret, postcode, {**(roles or {}), **found})
    if blanked:  # already masked; only their case ids still need their pseudonyms
        added = pa.Table.from_pylist(blanked, schema=issues.schema)
        protected = pa.concat_tables([protected, _protect_issues(added, secret, None, {})])
    return Protected(tables=out, issues=protected, roles=found)
