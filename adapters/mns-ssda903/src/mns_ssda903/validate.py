"""Checking and typing 903 tables, column by column.

Whitespace is trimmed and codes upper-cased, as the DfE validator does. An identifier a
spreadsheet turned into ``123.0`` is read as ``123`` (with a warning); a flag written
``1.0`` or ``0.0`` is 1 or 0. Dates are ``dd/mm/YYYY``; anything else, or an impossible day,
is blanked with an error naming the value and the format. Codes are checked against the
collection year's code set. Each message ends with the DfE validator's rule number when
there is one. A row without ``CHILD`` is rejected; a missing mandatory value is an error, the
row kept. Postcodes are cut to the sector (``AB1 2``) as they are read: a full postcode never
leaves the adapter.

Coded, dated, flag, count and postcode columns hold few distinct values, so each distinct
text is cleaned and read once (``pyarrow.compute.dictionary_encode``) and the result spread
back to the rows; identifiers and free text are cleaned row by row.
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
from mns_ssda903.arrays import WHITESPACE, holds, mask
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


def _fixed_dates(values: pa.Array) -> pa.Array | None:
    """The dates of a column whose every value is blank or a valid ``dd/mm/YYYY`` (as
    exported, usually), read from the bytes in place; ``None`` when any value is not, for
    :func:`parse_dates` to read (and explain) value by value."""
    if values.null_count or values.type != pa.string():
        return None
    offsets = np.frombuffer(values.buffers()[1], np.int32)[values.offset :][: len(values) + 1]
    width = np.diff(offsets)
    dated = width == 10
    if not (dated | (width == 0)).all():
        return None
    # the values are 10 bytes each, one after another: a column of this matrix per date
    data = np.frombuffer(values.buffers()[2] or b"", np.uint8)[offsets[0] : offsets[-1]]
    d = (data.reshape(-1, 10) - np.uint8(ord("0"))).T.copy()  # "/" becomes 255
    if d.shape[1] and (d[[0, 1, 3, 4, 6, 7, 8, 9]].max() > 9 or d[[2, 5]].min() != 255):
        return None
    day, month = d[0] * np.uint8(10) + d[1], d[3] * np.uint8(10) + d[4]
    year = (d[6] * np.uint16(10) + d[7]) * np.uint16(100) + d[8] * np.uint16(10) + d[9]
    in_year = _LEAP[year] + month  # the year's kind and the month, as one index
    if not ((day >= 1) & (day <= _MONTH_DAYS[in_year])).all():  # also no month 0 or 13
        return None
    days = _YEAR_STARTS[year] + _MONTH_STARTS[in_year] + day.astype(np.int32) - 1
    if dated.all():
        return pa.array(days, pa.int32()).cast(pa.date32())
    spread = np.zeros(len(values), np.int32)
    spread[dated] = days
    return pa.array(spread, pa.int32(), mask=~dated).cast(pa.date32())


def _calendar() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Tables for :func:`_fixed_dates`: by year 0-9999, 100 for a leap year (else 0) and its
    first day (days since 1970-01-01); by that plus a month 0-99, the days in the month
    (0: no such month) and the days of the year before it."""
    years = np.arange(10_000)
    starts = (years - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int32)
    leap = (np.append(starts[1:], starts[-1] + 365) - starts) == 366
    lengths = np.zeros((2, 100), np.int32)
    lengths[0, 1:13] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    lengths[1] = lengths[0]
    lengths[1, 2] = 29
    before = np.cumsum(lengths, axis=1) - lengths
    return leap.astype(np.intp) * 100, starts, lengths.ravel(), before.ravel()


_LEAP, _YEAR_STARTS, _MONTH_DAYS, _MONTH_STARTS = _calendar()


def parse_dates(values: pa.Array) -> pa.Array:
    """Strict ``dd/mm/YYYY`` (a one-digit day or month is accepted); else null."""
    fixed = _fixed_dates(values)
    return fixed if fixed is not None else _pattern_dates(values)


def _pattern_dates(values: pa.Array) -> pa.Array:
    """:func:`parse_dates` for any text, value by value."""
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

    def at(self, i: int, column: str | None = None) -> dict[str, Any]:
        """Row ``i``'s place (in XML, the element of ``column`` when given)."""
        where = self.raw.where(i, column)
        if self.children is not None:
            where["record"] = self.children[i].as_py()
        return where

    children: pa.Array | None = None


def _text(values: pa.Array) -> pa.Array:
    """Trimmed, with blank values null."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if holds(values, WHITESPACE):
        values = pc.utf8_trim_whitespace(values)
    filled = pc.fill_null(pc.not_equal(values, ""), False)
    if values.offset == 0 and filled.offset == 0:  # the same text, a new validity bitmap
        return pa.Array.from_buffers(
            pa.string(), len(values), [filled.buffers()[1], *values.buffers()[1:]]
        )
    return pc.if_else(filled, values, pa.scalar(None, pa.string()))


_FULL_POSTCODE = r"^([A-Z]{1,2}[0-9][A-Z0-9]?) *([0-9])[A-Z]{2}$"


def _sectors(values: pa.Array) -> pa.Array:
    """Each postcode cut to its sector, as :func:`mns.privacy.coarsen_postcode` cuts it: a
    plain full postcode by one regular expression over the column, anything else (partial
    codes, punctuation, area names, addresses) by ``coarsen_postcode`` once per distinct
    value."""
    upper = pc.utf8_upper(values)
    plain = pc.fill_null(pc.match_substring_regex(upper, _FULL_POSTCODE), False)
    sectors = pc.replace_substring_regex(upper, _FULL_POSTCODE, r"\1 \2")
    rest = pc.filter(values, pc.and_(pc.invert(plain), pc.is_valid(values)))
    if len(rest) == 0:
        return pc.if_else(plain, sectors, pa.scalar(None, pa.string()))
    distinct = pc.unique(rest)
    coarse = pa.array([coarsen_postcode(v, "sector") for v in distinct.to_pylist()], pa.string())
    other = coarse.take(pc.index_in(values, distinct))
    return pc.if_else(plain, sectors, other)


def _ids(name: str, column: str, values: pa.Array, where: _Where, log: IssueLog) -> pa.Array:
    if not holds(values, b"."):
        return values
    floats = np.flatnonzero(mask(pc.match_substring_regex(values, _FLOAT_ID.pattern)))
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
            **where.at(i, column),
        )
        texts[i] = fixed
    return pa.array(texts, pa.string())


def check_table(raw: RawTable, year: int | None, log: IssueLog) -> pa.Table:
    """The typed table (``CHILD`` first; ``source``, ``row``, ``line`` and ``path`` last) of
    ``raw``, with every problem logged; rows without ``CHILD`` are left out (rejected)."""
    if not len(raw):  # most returns leave most tables empty: their shape is made once
        return _empty(raw.name, year)
    return _check_rows(raw, year, log)


@functools.cache
def _empty(name: str, year: int | None) -> pa.Table:
    """Table ``name`` typed, without rows (a typed table is immutable, so one serves all)."""
    return _check_rows(RawTable.empty(name), year, IssueLog(adapter="ssda903"))


def _check_rows(raw: RawTable, year: int | None, log: IssueLog) -> pa.Table:
    table = spec.TABLES[raw.name]
    where = _Where(raw)
    columns: dict[str, pa.Array] = {}
    for column, kind in table.columns.items():
        if kind in (spec.Kind.ID, spec.Kind.TEXT):  # mostly distinct values: row by row
            values = _text(raw.values[column])
            if kind is spec.Kind.ID:
                values = _ids(raw.name, column, values, where, log)
            columns[column], blank = values, pc.is_null(values)
        else:  # few distinct values: each is cleaned and read once
            columns[column], blank = _typed(
                raw.name, column, kind, raw.values[column], year, where, log
            )
        if column == "CHILD":
            where.children = columns["CHILD"]
        if column in table.mandatory and column != "CHILD":
            for i in np.flatnonzero(mask(blank)).tolist():
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
    columns["source"] = raw.source
    columns["row"] = raw.row
    columns["line"] = raw.line
    columns["path"] = raw.path
    out = pa.table(columns)
    return out.filter(pa.array(~missing)) if missing.any() else out


def _flags(values: pa.Array) -> pa.Array:
    """0/1 (``1.0``/``0.0`` as a spreadsheet writes them) as booleans; others null."""
    digits = pc.replace_substring_regex(values, r"^([01])\.0+$", r"\1")
    return pa.array([True, False], pa.bool_()).take(pc.index_in(digits, pa.array(["1", "0"])))


def _counts(values: pa.Array) -> pa.Array:
    """Whole numbers (``18.0`` as 18); others null."""
    digits = pc.fill_null(pc.match_substring_regex(values, r"^[0-9]{1,6}(\.0+)?$"), False)
    whole = pc.replace_substring_regex(values, r"\.0+$", "")
    return pc.if_else(digits, whole, pa.scalar(None, pa.string())).cast(pa.int32())


#: kind -> how its text is read (once per distinct value), and the message for a bad one
_READERS: Mapping[spec.Kind, Any] = {
    spec.Kind.DATE: (parse_dates, lambda c, v: f"{c} {v!r} is not a date in the form dd/mm/YYYY"),
    spec.Kind.FLAG: (_flags, lambda c, v: f"{c} {v!r} is not 0 or 1"),
    spec.Kind.COUNT: (_counts, lambda c, v: f"{c} {v!r} is not a whole number"),
    spec.Kind.POSTCODE: (
        _sectors,
        # the value is not quoted: it may be an address
        lambda c, v: (
            f"{c} is not a UK postcode (such as 'SW1A 1AA') nor an area name, so it cannot be "
            "coarsened to its sector"
        ),
    ),
}


def _typed(  # noqa: PLR0917 - one column's whole context
    name: str,
    column: str,
    kind: spec.Kind,
    raw: pa.Array,
    year: int | None,
    where: _Where,
    log: IssueLog,
) -> tuple[pa.Array, pa.Array]:
    """The column read as its kind, and which rows are blank. Each distinct text is trimmed
    (codes and flags upper-cased) and read once; a value that cannot be read is blanked with
    an error naming it, the rule, the row and the child."""
    if kind is spec.Kind.DATE and (dates := _fixed_dates(raw)) is not None:
        return dates, pc.is_null(dates)  # every value blank or a date: nothing to report
    encoded = pc.dictionary_encode(raw)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    words = _text(encoded.dictionary)
    if kind in (spec.Kind.CODE, spec.Kind.FLAG):
        words = pc.utf8_upper(words)
    # each row's word (-1: no text), and the words that are there
    index = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(), dtype=np.int64)
    present = np.append(mask(pc.is_valid(words)), False)  # [-1]: the row without text
    if kind is spec.Kind.CODE:
        codes = code_set(column, year)
        read = pc.index_in(words, pa.array(codes, pa.string()))
        typed = _used(read, index, codes)
        problem: Any = lambda c, v: explain(c, v, year)  # noqa: E731
    else:
        reader, problem = _READERS[kind]
        read = reader(words)
        typed = read.take(encoded.indices)
    blank = pa.array(~present[index])
    wrong = present[:-1] & ~mask(pc.is_valid(read))
    if wrong.any():
        bad = np.flatnonzero((index >= 0) & wrong[np.maximum(index, 0)])
        texts = words.take(pa.array(index[bad], pa.int64())).to_pylist()
        rule = spec.cite(spec.VALUE_RULES.get((name, column)))
        for i, text in zip(bad.tolist(), texts, strict=True):
            log.error(
                problem(column, text) + rule,
                column=column,
                field=column,
                value=text,
                table=name,
                action="blanked",
                **where.at(i, column),
            )
    return typed, blank


def _used(read: pa.Array, index: np.ndarray, codes: tuple[str, ...]) -> pa.Array:
    """A dictionary array of the codes that occur (in code order): ``read`` holds each
    distinct word's position in ``codes`` (null: not a code), ``index`` each row's word
    (-1: none)."""
    position = np.asarray(pc.fill_null(read, -1).to_numpy(), dtype=np.int64)
    present = np.zeros(len(codes), dtype=bool)
    present[position[position >= 0]] = True
    renumber = np.where(present, np.cumsum(present) - 1, -1)
    word = np.append(np.where(position >= 0, renumber[np.maximum(position, 0)], -1), -1)
    rows = word[index].astype(np.int32)  # index -1: the appended "no code"
    return pa.DictionaryArray.from_arrays(
        pa.array(rows, mask=rows < 0), pa.array(codes, pa.string()).filter(pa.array(present))
    )


def year_codes(year: int | None) -> Mapping[str, tuple[str, ...]]:
    """Every coded column's code set in ``year``."""
    return {
        c: code_set(c, year)
        for t in spec.TABLES.values()
        for c, k in t.columns.items()
        if k is spec.Kind.CODE
    }
