"""Checking and typing 903 tables, column by column.

Whitespace is trimmed and codes upper-cased, as the DfE validator does. An identifier a
spreadsheet turned into ``123.0`` is read as ``123`` (with a warning). Dates are
``dd/mm/YYYY``; anything else, or an impossible day, is blanked with an error naming the
value and the format. Codes are checked against the collection year's code set. A row
without ``CHILD`` is rejected; a missing mandatory value is an error, the row kept.
Postcodes are cut to the sector (``AB1 2``) as they are read: a full postcode never
leaves the adapter.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mns.lang import language, valid_in
from mns.privacy import coarsen_postcode
from mns.records.issues import IssueLog
from mns_ssda903 import spec
from mns_ssda903.raw import RawTable

__all__ = ["CATEGORY", "check_table", "code_set", "explain"]

CATEGORY = pa.dictionary(pa.int32(), pa.string())
_DATE = r"^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$"
_FLOAT_ID = re.compile(r"^(-?[0-9]+)\.0+$")


@functools.cache
def _language_values(column: str) -> tuple[tuple[str, int | None, int | None], ...]:
    indicator = language("ssda903").indicator(spec.LANGUAGE_CODES[column])
    return tuple((v.code, v.valid_from, v.valid_to) for v in indicator.values)


@functools.cache
def code_set(column: str, year: int | None) -> tuple[str, ...]:
    """The codes ``column`` may hold in collection ``year`` (every year's when ``None``)."""
    if column in spec.LANGUAGE_CODES:
        lang = language("ssda903").indicator(spec.LANGUAGE_CODES[column])
        return tuple(v.code for v in lang.values if valid_in(v, year))
    return spec.CODES[column]


def explain(column: str, code: str, year: int | None) -> str:
    """Why ``code`` is not valid in ``column`` in ``year``, and what is."""
    if column in spec.LANGUAGE_CODES:
        for value, first, last in _language_values(column):
            if value == code:
                when = (
                    f"from {first}"
                    if last is None
                    else f"until {last}"
                    if first is None
                    else f"{first}-{last}"
                )
                return f"{column} {code!r} is not valid in the {year} collection (valid {when})"
    codes = code_set(column, year)
    shown = ", ".join(codes[:30]) + (", ..." if len(codes) > 30 else "")
    return f"{column} {code!r} is not a {column} code; expected one of {shown}"


def parse_dates(values: pa.Array) -> pa.Array:
    """Strict ``dd/mm/YYYY`` (a one-digit day or month is accepted); else null."""
    shaped = pc.fill_null(pc.match_substring_regex(values, _DATE), False)
    candidate = pc.if_else(shaped, values, pa.scalar(None, pa.string()))
    parsed = pc.strptime(candidate, format="%d/%m/%Y", unit="s", error_is_null=True).cast(
        pa.date32()
    )
    month = pc.cast(
        pc.replace_substring_regex(candidate, r"^[0-9]{1,2}/([0-9]{1,2})/.*$", r"\1"), pa.int64()
    )
    same = pc.fill_null(pc.equal(pc.month(parsed), month), False)
    return pc.if_else(same, parsed, pa.scalar(None, pa.date32()))


class _Where:
    """Where rows came from, for issues."""

    def __init__(self, raw: RawTable) -> None:
        self.raw = raw

    def at(self, i: int) -> dict[str, Any]:
        where = {"source": self.raw.source[i], "row": self.raw.row[i], "line": self.raw.line[i]}
        if self.children is not None:
            where["record"] = self.children[i]
        return where

    children: list[str | None] | None = None


def _text(values: list[str | None]) -> pa.Array:
    arr = pc.utf8_trim_whitespace(pa.array(values, pa.string()))
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def _ids(name: str, column: str, values: pa.Array, where: _Where, log: IssueLog) -> pa.Array:
    floats = np.flatnonzero(
        np.asarray(
            pc.fill_null(pc.match_substring_regex(values, _FLOAT_ID.pattern), False).to_numpy(
                zero_copy_only=False
            )
        )
    )
    if not len(floats):
        return values
    texts = values.to_pylist()
    for i in floats.tolist():
        fixed = _FLOAT_ID.sub(r"\1", texts[i])
        log.warning(
            f"{column} {texts[i]!r} looks like a number a spreadsheet wrote with a decimal part; "
            f"read as {fixed!r}",
            column=column,
            field=column,
            value=texts[i],
            table=name,
            **where.at(i),
        )
        texts[i] = fixed
    return pa.array(texts, pa.string())


def check_table(raw: RawTable, year: int | None, log: IssueLog) -> pa.Table:
    """The typed table (``CHILD`` first; ``source``, ``row`` and ``line`` last) of ``raw``,
    with every problem logged; rows without ``CHILD`` are left out (rejected)."""
    table = spec.TABLES[raw.name]
    where = _Where(raw)
    columns: dict[str, pa.Array] = {}
    for column, kind in table.columns.items():
        values = _text(raw.values[column])
        if kind in (spec.Kind.CODE, spec.Kind.FLAG):
            values = pc.utf8_upper(values)
        if kind is spec.Kind.ID:
            values = _ids(raw.name, column, values, where, log)
        columns[column] = _typed(raw.name, column, kind, values, year, where, log)
        if column == "CHILD":
            where.children = columns["CHILD"].to_pylist()
        if column in table.mandatory and column != "CHILD":
            for i in np.flatnonzero(
                np.asarray(pc.is_null(values).to_numpy(zero_copy_only=False))
            ).tolist():
                log.error(
                    f"{column} is missing; it is mandatory in the {raw.name} table",
                    column=column,
                    field=column,
                    table=raw.name,
                    action="kept",
                    **where.at(i),
                )
    child = columns["CHILD"]
    missing = np.asarray(pc.is_null(child).to_numpy(zero_copy_only=False), dtype=bool)
    for i in np.flatnonzero(missing).tolist():
        log.error(
            f"the {raw.name} row has no CHILD identifier; it was not read",
            column="CHILD",
            field="CHILD",
            table=raw.name,
            action="rejected",
            **where.at(i),
        )
    columns["source"] = pa.array(raw.source, pa.string())
    columns["row"] = pa.array(raw.row, pa.int64())
    columns["line"] = pa.array(raw.line, pa.int64())
    out = pa.table(columns)
    return out.filter(pa.array(~missing)) if missing.any() else out


def _typed(  # noqa: PLR0917 - one column's whole context
    name: str,
    column: str,
    kind: spec.Kind,
    values: pa.Array,
    year: int | None,
    where: _Where,
    log: IssueLog,
) -> pa.Array:
    problem: Any = None
    if kind is spec.Kind.DATE:
        typed = parse_dates(values)
        problem = lambda v: f"{column} {v!r} is not a date in the form dd/mm/YYYY"  # noqa: E731
    elif kind is spec.Kind.CODE:
        codes = code_set(column, year)
        typed = pc.if_else(
            pc.is_in(values, pa.array(codes, pa.string())), values, pa.scalar(None, pa.string())
        )
        problem = lambda v: explain(column, v, year)  # noqa: E731
        typed = typed.cast(CATEGORY)
    elif kind is spec.Kind.FLAG:
        typed = pa.array([True, False], pa.bool_()).take(pc.index_in(values, pa.array(["1", "0"])))
        problem = lambda v: f"{column} {v!r} is not 0 or 1"  # noqa: E731
    elif kind is spec.Kind.COUNT:
        digits = pc.fill_null(pc.match_substring_regex(values, r"^[0-9]{1,6}(\.0+)?$"), False)
        whole = pc.replace_substring_regex(values, r"\.0+$", "")
        typed = pc.if_else(digits, whole, pa.scalar(None, pa.string())).cast(pa.int32())
        problem = lambda v: f"{column} {v!r} is not a whole number"  # noqa: E731
    elif kind is spec.Kind.POSTCODE:
        texts = values.to_pylist()
        typed = pa.array(
            [None if t is None else coarsen_postcode(t, "sector") for t in texts], pa.string()
        )
        problem = lambda v: (  # noqa: E731 - the value is not quoted: it may be an address
            f"{column} is not a UK postcode (such as 'SW1A 1AA') nor an area name, so it "
            "cannot be coarsened to its sector"
        )
    else:
        typed = values
    if problem is not None:
        bad = np.flatnonzero(
            np.asarray(
                pc.and_(pc.is_valid(values), pc.is_null(typed)).to_numpy(zero_copy_only=False)
            )
        )
        texts = values.take(pa.array(bad, pa.int64())).to_pylist() if len(bad) else []
        for i, text in zip(bad.tolist(), texts, strict=True):
            log.error(
                problem(text),
                column=column,
                field=column,
                value=text,
                table=name,
                action="blanked",
                **where.at(i),
            )
    return typed


def year_codes(year: int | None) -> Mapping[str, tuple[str, ...]]:
    """Every coded column's code set in ``year``."""
    return {
        c: code_set(c, year)
        for t in spec.TABLES.values()
        for c, k in t.columns.items()
        if k is spec.Kind.CODE
    }
