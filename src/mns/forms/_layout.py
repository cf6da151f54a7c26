"""What an audit-form workbook holds, shared by the writer and the reader.

A form records its own layout in a hidden sheet (``_mns_form``): one ``field`` row per column
of the Sample sheet (key, kind, target table, whether it is required, label, whether it is
pre-filled, its section, whether it is a strength) and one ``value``
row per allowed entry of a drop-down (key, code, what the drop-down shows). The reader works
from that sheet alone, so a form made from a user's own language reads back without the
language file.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import attrs
import pyarrow as pa

from mns.records import schema

__all__ = [
    "COVER",
    "FORM_VERSION",
    "GUIDANCE",
    "HEADER_ROWS",
    "LISTS",
    "MARKER",
    "META",
    "SAMPLE",
    "Field",
    "FieldKind",
    "arrow_type",
    "clean_text",
]

MARKER = "mns-audit-form"  #: in the workbook's keywords and in cell A1 of the hidden sheet
FORM_VERSION = "1"
COVER = "Cover"
SAMPLE = "Sample"
GUIDANCE = "Guidance"
LISTS = "Lists"
META = "_mns_form"
HEADER_ROWS = 2  #: row 1: labels for people; row 2: field keys for the reader
FIRST_ROW = HEADER_ROWS + 1


class FieldKind:
    """How a column's cells are read (strings, so the hidden sheet stays readable)."""

    ID = "id"
    TEXT = "text"
    DATE = "date"
    INT = "int"
    FLOAT = "float"
    FLAG = "flag"
    RATING = "rating"
    CATEGORY = "category"
    SERVICES = "services"

    ALL = frozenset({ID, TEXT, DATE, INT, FLOAT, FLAG, RATING, CATEGORY, SERVICES})


#: Flag answers the reader accepts besides the drop-down's "yes" and "no" (case-insensitive).
FLAG_WORDS = {"yes": True, "y": True, "true": True, "no": False, "n": False, "false": False}
#: The canonical tables a form fills.
FORM_TABLES = ("cases", "assignments", "services")


@attrs.frozen(kw_only=True)
class Field:
    """One column of the Sample sheet."""

    key: str  #: "case_id", "mns.homeless", "need_group"... (header row 2)
    label: str  #: what people read (header row 1)
    kind: str = attrs.field(validator=attrs.validators.in_(FieldKind.ALL))
    table: str = attrs.field(validator=attrs.validators.in_(FORM_TABLES))
    required: bool = False
    prefilled: bool = False  #: a known fact copied from the records
    values: tuple[tuple[str, str], ...] = ()  #: (code, display) of a drop-down, in order
    prompt: str = ""  #: shown when the cell is selected (label and definition)
    section: str = ""  #: the dimension the indicator belongs to
    strength: bool = False  #: a strength or protective factor (yes: present), not a need

    @property
    def displays(self) -> tuple[str, ...]:
        return tuple(display for _, display in self.values)


_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]|[\ud800-\udfff]|[\ufffe\uffff]")


def clean_text(text: str) -> str:
    """``text`` without the characters an XLSX file cannot hold (control characters)."""
    return _ILLEGAL.sub("", text)


def has_illegal(text: str) -> bool:
    return _ILLEGAL.search(text) is not None


def arrow_type(field: Field) -> pa.DataType:
    """The Arrow type of a ``cases`` column read from ``field``."""
    if field.key in schema.CASES.names:
        return schema.CASES.field(field.key).type
    if field.key == "sample_weight":
        return pa.float64()
    return {
        FieldKind.FLAG: pa.bool_(),
        FieldKind.RATING: pa.int8(),
        FieldKind.CATEGORY: schema.CATEGORY,
        FieldKind.INT: pa.int64(),
        FieldKind.FLOAT: pa.float64(),
        FieldKind.DATE: pa.date32(),
    }.get(field.kind, pa.string())


def meta_rows(
    fields: Sequence[Field], settings: Iterable[tuple[str, str]], cover: Iterable[tuple[str, str]]
) -> Iterator[list[Any]]:
    """The rows of the hidden sheet."""
    yield [MARKER, FORM_VERSION]
    for name, value in settings:
        yield ["setting", name, value]
    for name, cell in cover:
        yield ["cover", name, cell]
    for f in fields:
        yield [
            "field",
            f.key,
            f.kind,
            f.table,
            int(f.required),
            f.label,
            int(f.prefilled),
            f.section,
            int(f.strength),
        ]
    for f in fields:
        for code, display in f.values:
            yield ["value", f.key, code, display]


@attrs.frozen(kw_only=True)
class Meta:
    """The hidden sheet, read back."""

    version: str
    settings: dict[str, str]
    cover: dict[str, str]
    fields: tuple[Field, ...]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return str(value)


def parse_meta(rows: Iterable[Sequence[object]]) -> Meta:
    """Read the hidden sheet's rows; raises ``ValueError`` describing what is wrong."""
    it = iter(rows)
    first = next(it, None)
    if not first or _text(first[0]) != MARKER:
        raise ValueError(f"cell A1 of the {META!r} sheet is not {MARKER!r}")
    version = _text(first[1]) if len(first) > 1 else ""
    settings: dict[str, str] = {}
    cover: dict[str, str] = {}
    order: list[str] = []
    heads: dict[str, list[str]] = {}
    values: dict[str, list[tuple[str, str]]] = {}
    for number, raw in enumerate(it, start=2):
        row = [_text(v) for v in raw] + [""] * 9
        tag = row[0]
        if tag == "setting":
            settings[row[1]] = row[2]
        elif tag == "cover":
            cover[row[1]] = row[2]
        elif tag == "field":
            if row[1] in heads:
                raise ValueError(f"row {number}: field {row[1]!r} is listed twice")
            order.append(row[1])
            heads[row[1]] = row[1:9]  # forms made before strengths have no 9th column
        elif tag == "value":
            if row[1] not in heads:
                raise ValueError(f"row {number}: value for unknown field {row[1]!r}")
            values.setdefault(row[1], []).append((row[2], row[3]))
        elif tag:
            raise ValueError(f"row {number}: unknown entry {tag!r}")
    fields = []
    for key in order:
        _, kind, table, required, label, prefilled, section, strength = heads[key]
        try:
            fields.append(
                Field(
                    key=key,
                    label=label,
                    kind=kind,
                    table=table,
                    required=required == "1",
                    prefilled=prefilled == "1",
                    values=tuple(values.get(key, ())),
                    section=section,
                    strength=strength == "1",
                )
            )
        except ValueError as exc:
            raise ValueError(f"field {key!r}: {exc}") from None
    return Meta(version=version, settings=settings, cover=cover, fields=tuple(fields))
