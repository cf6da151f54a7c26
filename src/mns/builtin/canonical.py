"""The canonical adapter: mns's own tables as Parquet, CSV or JSON Lines files.

A folder of canonical files names each table after the file: ``cases.parquet``,
``services.csv``, ``outcomes.jsonl``, ``assignments.ndjson``, ``issues.parquet``. A file with
another name is read as an extra table of that name (with a warning), unless the option
``table="cases"`` says which canonical table it holds. Parquet files written by ``mns.write``
also carry their table name in their metadata, and ``provenance.mns.json`` restores the
provenance they were written with.

Types come from the canonical schemas and, for indicator columns of ``cases``
(``<language>.<code>``), from the shipped language; other columns are read as text. A clean
CSV is read by pyarrow in one typed pass; a file with problems is read again as text and
every bad value is located (CSV: row = line number, the header being row 1; JSON Lines: line;
Parquet: row, the first record being row 1). A record without its key (``case_id``...) is
rejected; a bad value elsewhere is blanked; a row whose cells are all empty is not a record.
"""

from __future__ import annotations

import bisect
import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mns.errors import MnsError, give
from mns.plugins.adapter import Adapter, Option, Source
from mns.plugins.text import WINDOWS_1252, Encoding, decode_text, detect_encoding, text_head
from mns.records import schema
from mns.records.bundle import Provenance, Records
from mns.records.issues import Action, IssueLog, Severity

__all__ = ["ADAPTER", "read_canonical", "sniff_canonical"]

_PROVENANCE_SUFFIX = ".mns.json"
_JSONL = (".jsonl", ".ndjson")
_INDICATOR = re.compile(r"^[a-z][a-z0-9_]*\.[A-Za-z0-9][A-Za-z0-9_]*$")
_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")
_INTEGER = r"^[+-]?[0-9]+$"
_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"

#: Allowed values of category columns, by (table, column).
_VALUES: dict[tuple[str, str], tuple[str, ...]] = {
    ("cases", "sex"): ("M", "F", "U"),
    ("cases", "cohort"): (
        "referral",
        "child_in_need",
        "child_protection",
        "looked_after",
        "care_leaver",
        "early_help",
    ),
    ("assignments", "role"): ("professional", "shadow", "mixed", "rules"),
    ("issues", "severity"): ("error", "warning", "note"),
    ("issues", "action"): ("rejected", "blanked", "kept"),
}
_RANGES: dict[tuple[str, str], tuple[int, int]] = {("cases", "age"): (0, 120)}


# --- which table a file holds, and its column types ------------------------------------------


def _stem(name: str) -> str:
    base = re.split(r"[\\/]", name)[-1]
    return base.split(".", 1)[0]


def _indicator_types(names: Sequence[str]) -> tuple[dict[str, pa.DataType], dict[str, Any]]:
    """Arrow types (and allowed values / ranges) of the indicator columns among ``names``."""
    from mns.lang import language, languages
    from mns.lang.model import Kind

    types: dict[str, pa.DataType] = {}
    rules: dict[str, Any] = {}
    shipped = set(languages())
    for name in names:
        if not _INDICATOR.match(name):
            continue
        lang_name, code = name.split(".", 1)
        if lang_name not in shipped:
            continue
        indicator = language(lang_name).by_code.get(code)
        if indicator is None:
            continue
        types[name] = schema.indicator_type(indicator)
        if indicator.kind is Kind.RATING:
            rules[name] = (0, 3)
        elif indicator.kind is Kind.CATEGORY:
            rules[name] = tuple(v.code for v in indicator.values)
    return types, rules


@attrs.frozen
class _Target:
    """What a file's columns should become."""

    table: str  #: canonical table name, or the extra table's name
    canonical: bool
    types: dict[str, pa.DataType]  #: known columns (others are text)
    values: dict[str, tuple[str, ...]]
    ranges: dict[str, tuple[int, int]]
    keys: tuple[str, ...]  #: non-nullable columns: a record without them is rejected


def _target(table: str, names: Sequence[str]) -> _Target:
    if table not in schema.TABLES:
        return _Target(table, False, {}, {}, {}, ())
    expected = schema.SCHEMAS[table]
    types = {f.name: f.type for f in expected}
    values = {c: v for (t, c), v in _VALUES.items() if t == table}
    ranges = {c: r for (t, c), r in _RANGES.items() if t == table}
    if table == "cases":
        extra, rules = _indicator_types(names)
        types.update(extra)
        for name, rule in rules.items():
            if isinstance(rule, tuple) and rule and isinstance(rule[0], str):
                values[name] = rule
            else:
                ranges[name] = rule
    keys = tuple(f.name for f in expected if not f.nullable)
    return _Target(table, True, types, values, ranges, keys)


# --- locating rows ---------------------------------------------------------------------------


@attrs.frozen
class _Where:
    """Maps a row index of the read table to where the user sees it."""

    source: str
    kind: str  # "row" (CSV, Parquet) or "line" (JSON Lines)
    first: int  # number of the first data record
    skipped: tuple[int, ...] = ()  # numbers of records skipped before the table was built
    numbers: np.ndarray | None = None  # explicit numbers (JSON Lines)

    def at(self, index: int) -> int:
        if self.numbers is not None:
            return int(self.numbers[index])
        n = self.first + index
        # every skipped number at or before n pushes n one further
        while True:
            shift = bisect.bisect_right(self.skipped, n)
            moved = self.first + index + shift
            if moved == n:
                return n
            n = moved

    def log(
        self,
        log: IssueLog,
        index: int,
        *,
        severity: Severity,
        action: Action,
        message: str,
        **fields: Any,
    ) -> None:
        """Log an issue about the record at ``index`` (in read order)."""
        number = self.at(index)
        if self.kind == "line":
            log.add(severity, action, message, line=number, **fields)
        else:
            log.add(severity, action, message, row=number, **fields)


# --- coercion of text columns and checks of typed columns -----------------------------------


def _blank_to_null(column: pa.Array) -> pa.Array:
    """Text trimmed of surrounding spaces, with blank values made null."""
    trimmed = pc.utf8_trim_whitespace(column)
    blank = pc.equal(trimmed, "")
    if not pc.any(blank).as_py():
        return trimmed
    return pc.if_else(blank, pa.scalar(None, pa.string()), trimmed)


def _bad(raw: pa.Array, result: pa.Array) -> np.ndarray:
    """Indices where a value was given but did not convert."""
    mask = pc.and_(pc.is_valid(raw), pc.is_null(result))
    return np.flatnonzero(mask.to_numpy(zero_copy_only=False))


def _coerce_column(column: pa.Array, target: pa.DataType) -> pa.Array:
    """``column`` (text, blanks already null) converted to ``target``; bad values become null."""
    if pa.types.is_string(target):
        return column
    if pa.types.is_dictionary(target):
        return column.dictionary_encode().cast(target)
    if pa.types.is_date(target):
        stamps = pc.strptime(column, format="%Y-%m-%d", unit="s", error_is_null=True)
        same = pc.equal(pc.strftime(stamps, format="%Y-%m-%d"), column)
        return pc.if_else(same, pc.cast(stamps, target), pa.scalar(None, target))
    if pa.types.is_boolean(target):
        lowered = pc.utf8_lower(column)
        true = pc.is_in(lowered, value_set=pa.array(_TRUE))
        false = pc.is_in(lowered, value_set=pa.array(_FALSE))
        known = pc.or_(true, false)
        return pc.if_else(known, true, pa.scalar(None, pa.bool_()))
    if pa.types.is_integer(target):
        ok = pc.match_substring_regex(column, _INTEGER)
        text = pc.if_else(ok, column, pa.scalar(None, pa.string()))
        # values beyond int64 stay text-valid but cannot convert: treat as bad
        wide = pc.if_else(
            pc.less_equal(pc.utf8_length(text), 18), text, pa.scalar(None, pa.string())
        )
        numbers = pc.cast(wide, pa.int64())
        info = np.iinfo(target.to_pandas_dtype())
        inside = pc.and_(
            pc.greater_equal(numbers, int(info.min)), pc.less_equal(numbers, int(info.max))
        )
        return pc.cast(pc.if_else(inside, numbers, pa.scalar(None, pa.int64())), target)
    if pa.types.is_floating(target):
        ok = pc.match_substring_regex(column, _NUMBER)
        text = pc.if_else(ok, column, pa.scalar(None, pa.string()))
        return pc.cast(text, target)
    raise MnsError(f"canonical reader cannot convert text to {target}")


def _expected(target: pa.DataType) -> str:
    if pa.types.is_date(target):
        return "a date written YYYY-MM-DD"
    if pa.types.is_boolean(target):
        return "true or false"
    if pa.types.is_integer(target):
        return f"a whole number that fits {target}"
    if pa.types.is_floating(target):
        return "a number"
    return str(target)


def _coerce(
    table: pa.Table, target: _Target, where: _Where, log: IssueLog
) -> tuple[pa.Table, np.ndarray]:
    """Convert a table of text columns to the target types, logging every bad value.

    Rows whose cells are all blank are not records and are left out; returns the table and
    the read-order index of each row kept."""
    table = pa.Table.from_arrays(
        [_blank_to_null(c.combine_chunks()) for c in table.columns], names=table.column_names
    )
    table, index = _drop_empty_rows(table)
    columns = []
    fields = []
    for name in table.column_names:
        raw = table.column(name).combine_chunks()
        kind = target.types.get(name, pa.string())
        converted = _coerce_column(raw, kind)
        key = name in target.keys
        for i in _bad(raw, converted).tolist():
            where.log(
                log,
                int(index[i]),
                severity="error",
                action="rejected" if key else "blanked",
                message=f"{raw[i].as_py()!r} is not {_expected(kind)}",
                column=name,
                field=name,
                value=raw[i].as_py(),
            )
        columns.append(converted)
        fields.append(pa.field(name, kind))
    return pa.Table.from_arrays(columns, schema=pa.schema(fields)), index


def _drop_empty_rows(table: pa.Table) -> tuple[pa.Table, np.ndarray]:
    """The table without rows whose cells are all null; and the kept row indices."""
    if table.num_columns == 0 or table.num_rows == 0:
        return table, np.arange(table.num_rows)
    empty = None
    for column in table.columns:
        null = pc.is_null(column)
        empty = null if empty is None else pc.and_(empty, null)
    mask = np.asarray(pc.invert(empty).to_numpy(zero_copy_only=False), dtype=bool)
    if mask.all():
        return table, np.arange(table.num_rows)
    return table.filter(pa.array(mask)), np.flatnonzero(mask)


def _only(column: pa.ChunkedArray, allowed: Sequence[str]) -> bool:
    """Whether a dictionary column's dictionaries hold only ``allowed`` values (cheap: the
    dictionaries are small); False for other columns, which are then checked value by value."""
    if not pa.types.is_dictionary(column.type):
        return False
    permitted = pa.array(allowed, pa.string())
    return all(
        pc.all(pc.is_in(chunk.dictionary, value_set=permitted)).as_py() is not False
        for chunk in column.chunks
    )


def _check(
    table: pa.Table, target: _Target, where: _Where, log: IssueLog, index: np.ndarray
) -> pa.Table:
    """Check keys, allowed values and ranges of a typed table; returns the accepted rows.

    ``index`` maps each row of ``table`` to its index in the file's read order.
    """
    reject = np.zeros(table.num_rows, dtype=bool)
    for name in target.keys:
        if name not in table.column_names:
            if table.num_rows:
                for i in range(table.num_rows):
                    where.log(
                        log,
                        int(index[i]),
                        severity="error",
                        action="rejected",
                        message=f"the file has no {name!r} column, which every "
                        f"{target.table} record needs",
                        field=name,
                    )
                reject[:] = True
            continue
        nulls = np.asarray(
            pc.is_null(table.column(name)).to_numpy(zero_copy_only=False), dtype=bool
        )
        for i in np.flatnonzero(nulls & ~reject).tolist():
            where.log(
                log,
                int(index[i]),
                severity="error",
                action="rejected",
                message=f"{name} is empty; every {target.table} record needs one",
                column=name,
                field=name,
            )
        reject |= nulls
    for name, allowed in target.values.items():
        if name not in table.column_names or _only(table.column(name), allowed):
            continue
        column = table.column(name)
        text = column.cast(pa.string()) if pa.types.is_dictionary(column.type) else column
        bad = pc.and_(pc.is_valid(text), pc.invert(pc.is_in(text, value_set=pa.array(allowed))))
        bad_rows = np.flatnonzero(np.asarray(bad.to_numpy(zero_copy_only=False), dtype=bool))
        if not len(bad_rows):
            continue
        key = name in target.keys
        for i in bad_rows.tolist():
            if reject[i] and not key:
                continue
            where.log(
                log,
                int(index[i]),
                severity="error",
                action="rejected" if key else "blanked",
                message=f"{text[i].as_py()!r} is not an allowed value; "
                f"use one of {', '.join(allowed)}",
                column=name,
                field=name,
                value=text[i].as_py(),
            )
        if key:
            reject[bad_rows] = True
        else:
            keep = pa.array(~np.isin(np.arange(table.num_rows), bad_rows))
            table = table.set_column(
                table.schema.get_field_index(name),
                table.schema.field(name),
                pc.if_else(keep, column, pa.nulls(table.num_rows, column.type)),
            )
    for name, (low, high) in target.ranges.items():
        if name not in table.column_names:
            continue
        column = table.column(name)
        outside = pc.or_(pc.less(column, low), pc.greater(column, high))
        bad_rows = np.flatnonzero(
            np.asarray(pc.fill_null(outside, False).to_numpy(zero_copy_only=False), dtype=bool)
        )
        if not len(bad_rows):
            continue
        for i in bad_rows.tolist():
            if reject[i]:
                continue
            where.log(
                log,
                int(index[i]),
                severity="error",
                action="blanked",
                message=f"{column[i].as_py()} is outside {low}-{high}",
                column=name,
                field=name,
                value=column[i].as_py(),
            )
        keep = pa.array(~np.isin(np.arange(table.num_rows), bad_rows))
        table = table.set_column(
            table.schema.get_field_index(name),
            table.schema.field(name),
            pc.if_else(keep, column, pa.nulls(table.num_rows, column.type)),
        )
    if reject.any():
        table = table.filter(pa.array(~reject))
    return table


# --- headers -------------------------------------------------------------------------------


def _header(source: Source, log: IssueLog) -> tuple[list[str] | None, bytes, Encoding]:
    """The CSV header's names (blank and repeated ones renamed, with warnings; None when the
    header cannot be read, which is logged), the file's first bytes and their encoding."""
    with source.open() as stream:
        head = stream.read(1 << 16)
        while b"\n" not in head:
            more = stream.read(1 << 16)
            if not more:
                break
            head += more
    encoding = detect_encoding(head, complete=False)
    text = text_head(head).splitlines()
    first = text[0] if text else ""
    try:
        names = next(csv.reader([first])) if first.strip() else []
    except csv.Error as exc:
        log.error(f"the header row cannot be read ({exc}); the file was not read", row=1)
        return None, head, encoding
    out: list[str] = []
    for i, raw in enumerate(names):
        name = raw.strip()
        if not name:
            name = f"column_{i + 1}"
            log.warning(f"column {i + 1} has no header; read as {name!r}", row=1, column=name)
        if name in out:
            renamed = (
                f"{name}#{out.count(name) + sum(1 for o in out if o.startswith(name + '#')) + 1}"
            )
            log.warning(
                f"header {name!r} appears more than once; this column is read as {renamed!r}",
                row=1,
                column=renamed,
            )
            name = renamed
        out.append(name)
    return out, head, encoding


# --- formats -------------------------------------------------------------------------------


def _read_csv(source: Source, table: str, log: IssueLog) -> pa.Table:
    names, head, encoding = _header(source, log)
    if names is None:
        return pa.table({})
    if not names:
        log.warning("the file is empty", row=1 if head.strip() else None)
        return pa.table({})
    target = _target(table, names)
    types = {n: target.types.get(n, pa.string()) for n in names}  # extra tables: all text
    opened: list[Any] = []
    utf8: list[bytes] = []  # the whole file as UTF-8, once it has had to be transcoded

    def stream() -> Any:
        if utf8:
            return io.BytesIO(utf8[0])
        path = source.path
        if path is not None and not encoding.bom:
            return str(path)  # pyarrow reads the file itself (fastest)
        handle = source.open()
        opened.append(handle)
        handle.read(encoding.bom)
        return handle

    def transcode(found: Encoding | None) -> None:
        with source.open() as whole:
            text, _ = decode_text(whole.read(), found)
        utf8[:] = [text.encode("utf-8")]

    if not encoding.is_utf8:
        transcode(encoding)  # pyarrow reads UTF-8 only
    try:
        try:
            return _parse_csv(
                source, names=names, target=target, types=types, stream=stream, log=log
            )
        except pa.ArrowInvalid as exc:
            if utf8 or "UTF8" not in str(exc):
                raise MnsError(
                    f"{source.name}: the file cannot be read as CSV ({exc})", file=source.name
                ) from None
            log.warning(  # valid UTF-8 at the start, not further on
                "the file is not UTF-8 throughout; read as Windows-1252. Export it as UTF-8 "
                "to be sure of accented names"
            )
            transcode(WINDOWS_1252)
            return _parse_csv(
                source, names=names, target=target, types=types, stream=stream, log=log
            )
    finally:
        for handle in opened:
            handle.close()


def _parse_csv(
    source: Source,
    *,
    names: list[str],
    target: _Target,
    types: dict[str, pa.DataType],
    stream: Any,
    log: IssueLog,
) -> pa.Table:
    import pyarrow.csv as pv

    read_options = pv.ReadOptions(column_names=names, skip_rows=1, block_size=1 << 22)
    where = _Where(source=source.name, kind="row", first=2)

    typed: pa.Table | None = None
    try:
        typed = pv.read_csv(
            stream(),
            read_options=read_options,
            parse_options=pv.ParseOptions(ignore_empty_lines=False),
            convert_options=pv.ConvertOptions(
                column_types=types,
                strings_can_be_null=True,
                true_values=list(_TRUE),
                false_values=list(_FALSE),
                timestamp_parsers=["%Y-%m-%d"],
            ),
        )
        typed = _trim_text(typed)
    except pa.ArrowInvalid:
        typed = None
    if typed is None:  # a problem somewhere: read as text and locate each one
        skipped: list[tuple[int, int, str]] = []

        def invalid(row: Any) -> str:
            skipped.append((int(row.number), int(row.actual_columns), str(row.text)))
            return "skip"

        text = pv.read_csv(
            stream(),
            read_options=pv.ReadOptions(
                column_names=names, skip_rows=1, block_size=1 << 22, use_threads=False
            ),
            parse_options=pv.ParseOptions(ignore_empty_lines=False, invalid_row_handler=invalid),
            convert_options=pv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
            ),
        )
        reported: set[int] = set()
        for number, found, raw in skipped:
            if number in reported or _blank_record(raw):
                continue  # a row of blank cells is not a record
            reported.add(number)
            if "\n" in raw and unclosed_quote(raw):
                lines = raw.count("\n")
                log.error(
                    f"a quote opened in this row is never closed, so the rest of the file "
                    f"({lines} more lines) reads as one value: the row and those lines were "
                    "not read. Close or remove the quote and read the file again",
                    row=number,
                    value=raw[:200],
                )
                continue
            log.error(
                f"the row has {found} cells but the header has {len(names)}",
                row=number,
                value=raw[:200],
            )
        where = attrs.evolve(where, skipped=tuple(sorted({n for n, _, _ in skipped})))
        typed, index = _coerce(text, target, where, log)
    else:
        typed, index = _drop_empty_rows(typed)
    return _check(typed, target, where, log, index)


def _blank_record(raw: str) -> bool:
    """Whether a CSV record's cells are all blank (a field too long to split is not)."""
    try:
        return not any(c.strip() for c in next(csv.reader([raw]), []))
    except csv.Error:
        return False


def unclosed_quote(record: str, delimiter: str = ",") -> bool:
    """Whether ``record`` (the text of one CSV record, all its lines) ends inside a quoted
    field: a quote opened and never closed, which swallows the rest of a file."""
    strict = csv.reader(io.StringIO(record, newline=""), delimiter=delimiter, strict=True)
    try:
        for _ in strict:
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def _trim_text(table: pa.Table) -> pa.Table:
    """Text columns with surrounding spaces removed and blank values made null, touching only
    what needs it (clean files cost a trim per text column and a look at each dictionary)."""
    for i, field in enumerate(table.schema):
        column = table.column(i)
        if column.null_count == table.num_rows:
            continue
        if pa.types.is_string(field.type):
            chunks = [_trimmed(chunk) for chunk in column.chunks]
            if any(new is not old for new, old in zip(chunks, column.chunks, strict=True)):
                table = table.set_column(i, field, pa.chunked_array(chunks, field.type))
        elif pa.types.is_dictionary(field.type) and _needs_trim(
            pa.concat_arrays([chunk.dictionary for chunk in column.chunks])
        ):
            chunks = [
                _blank_to_null(pc.take(chunk.dictionary, chunk.indices)).dictionary_encode()
                for chunk in column.chunks
            ]
            table = table.set_column(i, field, pa.chunked_array(chunks, field.type))
    return table


def _trimmed(chunk: pa.Array) -> pa.Array:
    """``chunk`` itself when no value has surrounding spaces, else :func:`_blank_to_null`."""
    trimmed = pc.utf8_trim_whitespace(chunk)
    if trimmed.buffers()[2] is None or chunk.buffers()[2] is None:
        return chunk
    if trimmed.buffers()[2].size == chunk.buffers()[2].size and chunk.offset == 0:
        return chunk  # not a character was removed
    return _blank_to_null(chunk)


def _needs_trim(values: pa.Array) -> bool:
    if len(values) == 0:
        return False
    return not pc.all(pc.equal(pc.utf8_trim_whitespace(values), values)).as_py() or bool(
        pc.any(pc.equal(values, "")).as_py()
    )


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def _object(repeated: list[str]) -> Any:
    """A ``json`` object hook that notes keys given twice in one object (JSON keeps the last)."""

    def build(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(pairs)
        if len(out) < len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen and key not in repeated:
                    repeated.append(key)
                seen.add(key)
        return out

    return build


def _read_jsonl(source: Source, table: str, log: IssueLog, batch_size: int | None) -> pa.Table:
    names: list[str] = []
    rows: list[dict[str, Any]] = []
    lines: list[int] = []
    with source.open() as stream:
        whole, _ = decode_text(stream.read())
    for number, raw in enumerate(io.StringIO(whole, newline=None), 1):
        if not raw.strip():
            continue
        repeated: list[str] = []
        try:
            item = json.loads(raw, object_pairs_hook=_object(repeated))
        except json.JSONDecodeError as exc:
            log.error(
                f"not valid JSON: {exc.msg} (at character {exc.pos + 1})",
                line=number,
                value=raw.strip()[:200],
            )
            continue
        except (ValueError, RecursionError) as exc:  # too deep, or a number too long
            log.error(f"not JSON mns can read: {exc}", line=number, value=raw.strip()[:200])
            continue
        for key in repeated:
            log.error(
                f"key {key!r} is given more than once in this record; the last value was read",
                action="kept",
                line=number,
                field=key,
            )
        if not isinstance(item, dict):
            log.error(
                f"expected a JSON object, found {type(item).__name__}",
                line=number,
                value=raw.strip()[:200],
            )
            continue
        for key in item:
            if key not in names:
                names.append(key)
        rows.append(item)
        lines.append(number)
    if not rows and not names:
        log.warning("the file has no records")
        return pa.table({})
    step = batch_size or len(rows) or 1
    chunks = {name: [] for name in names}  # type: dict[str, list[pa.Array]]
    for start in range(0, len(rows), step):
        part = rows[start : start + step]
        for name in names:
            chunks[name].append(pa.array([_json_text(r.get(name)) for r in part], pa.string()))
    text = pa.table({name: pa.chunked_array(chunks[name], pa.string()) for name in names})
    target = _target(table, names)
    where = _Where(source=source.name, kind="line", first=1, numbers=np.asarray(lines))
    typed, index = _coerce(text, target, where, log)
    return _check(typed, target, where, log, index)


def _read_parquet(
    source: Source, option: str | None, log: IssueLog, batch_size: int | None
) -> tuple[str, pa.Table]:
    try:
        if source.path is not None:
            return _parquet(str(source.path), source, option, log, batch_size)
        with source.open() as handle:
            return _parquet(handle, source, option, log, batch_size)
    except (pa.ArrowException, OSError, ValueError) as exc:  # a damaged or truncated file
        raise MnsError(
            f"{source.name}: not a readable Parquet file ({exc}); write it again",
            file=source.name,
        ) from None


def _parquet(
    handle: Any, source: Source, option: str | None, log: IssueLog, batch_size: int | None
) -> tuple[str, pa.Table]:
    import pyarrow.parquet as pq

    file = pq.ParquetFile(handle)
    arrow = file.schema_arrow
    stored = (arrow.metadata or {}).get(b"mns.table", b"").decode()
    name = option or stored or _table_for(source, None, log)
    log = log.bind(table=name)
    target = _target(name, arrow.names)
    # text columns that should be categories are read straight into dictionaries
    wanted = [
        n
        for n in arrow.names
        if pa.types.is_dictionary(target.types.get(n, pa.null()))
        and pa.types.is_string(arrow.field(n).type)
    ]
    if wanted:
        if not isinstance(handle, str):
            handle.seek(0)
        file = pq.ParquetFile(handle, read_dictionary=wanted)
    data = file.read() if batch_size is None else _batched(file, batch_size)
    if not target.canonical:
        return name, data
    try:
        schema.check(data, name)
        data = _cast(data, target)
    except (MnsError, pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise MnsError(f"{source.name}: {exc}", file=source.name, item=name) from exc
    where = _Where(source=source.name, kind="row", first=1)
    data, index = _drop_empty_rows(data)
    return name, _check(data, target, where, log, index)


def _batched(file: Any, batch_size: int) -> pa.Table:
    batches = list(file.iter_batches(batch_size=batch_size))
    return pa.Table.from_batches(batches, schema=file.schema_arrow)


def _cast(table: pa.Table, target: _Target) -> pa.Table:
    for i, field in enumerate(table.schema):
        want = target.types.get(field.name)
        if want is not None and field.type != want:
            table = table.set_column(i, pa.field(field.name, want), table.column(i).cast(want))
    return table


# --- the adapter ---------------------------------------------------------------------------


def _table_for(source: Source, option: str | None, log: IssueLog) -> str:
    if option:
        return option
    stem = _stem(source.name)
    if stem.lower() in schema.TABLES:
        return stem.lower()
    log.warning(
        f"the file name does not say which table it holds ({', '.join(schema.TABLES)}); "
        f"read as the extra table {stem!r}. Name the file e.g. cases.csv, or "
        f"{give('table', repr('cases'))}",
        source=source.name,
    )
    return stem


def read_canonical(sources: Sequence[Source], options: Mapping[str, Any]) -> Records:
    """Read canonical files (see the module's description)."""
    from mns.records.provenance import provenance_from_json

    option = options.get("table")
    if option is not None and option not in schema.TABLES:
        raise MnsError(
            f"table={option!r} is not a canonical table; choose from {', '.join(schema.TABLES)}"
        )
    batch_size = options.get("batch_size")
    log = IssueLog(adapter="canonical")  # errors are found column by column: see raise_first
    found: dict[str, list[pa.Table]] = {}
    provenance = Provenance()
    for source in sources:
        lowered = source.name.lower()
        file_log = log.bind(source=source.name)
        if lowered.endswith(_PROVENANCE_SUFFIX):
            with source.open() as stream:
                provenance = provenance_from_json(stream.read().decode("utf-8"), source.name)
            continue
        if lowered.endswith(".parquet"):
            name, data = _read_parquet(source, option, file_log, batch_size)
        else:
            name = _table_for(source, option, file_log)
            file_log = file_log.bind(table=name)
            if lowered.endswith(_JSONL):
                data = _read_jsonl(source, name, file_log, batch_size)
            else:
                data = _read_csv(source, name, file_log)
        found.setdefault(name, []).append(data)
    tables: dict[str, pa.Table] = {}
    for name, read_parts in found.items():
        parts = [p for p in read_parts if p.num_columns] or read_parts[:1]
        merged = parts[0] if len(parts) == 1 else pa.concat_tables(parts, promote_options="default")
        if name in schema.TABLES:
            merged = schema.conform(merged, name) if merged.num_columns else schema.empty(name)
        tables[name] = merged
    if options.get("strict"):
        log.raise_first()
    issues = tables.pop("issues", schema.empty("issues"))
    if len(log):
        issues = pa.concat_tables(
            [schema.conform(issues, "issues"), log.table()], promote_options="default"
        )
    return Records(
        provenance=provenance,
        **{name: tables.pop(name) for name in schema.TABLES if name in tables},
        issues=issues,
        extra=tables,
    )


def sniff_canonical(head: bytes) -> bool:
    """Whether ``head`` starts a canonical file: Parquet's magic, an mns provenance file, or a
    CSV header / JSON Lines object with the key columns of a canonical table and mostly
    canonical (or indicator) columns."""
    if head.startswith(b"PAR1"):
        return True
    text = text_head(head).lstrip()
    if text.startswith("{"):
        if '"mns_provenance"' in text:
            return True
        line = text.split("\n", 1)[0]
        names = re.findall(r'"([^"\\]+)"\s*:', line)
    else:
        line = text.split("\n", 1)[0].rstrip("\r")
        names = [n.strip().strip('"') for n in line.split(",")]
    return _canonical_names(names)


def _canonical_names(names: Sequence[str]) -> bool:
    if not names:
        return False
    for table, expected in schema.SCHEMAS.items():
        required = {f.name for f in expected if not f.nullable}
        allowed = set(expected.names)
        if not required <= set(names):
            continue
        others = [n for n in names if n not in allowed]
        if table == "cases":
            others = [n for n in others if not _INDICATOR.match(n) and n != "need_group"]
        if len(others) * 2 <= len(names):  # the key columns, and mostly canonical ones
            return True
    return False


ADAPTER = Adapter(
    name="canonical",
    description=(
        "mns's own tables as Parquet, CSV or JSON Lines files (cases.parquet, services.csv, ...)"
    ),
    read=read_canonical,
    suffixes=(".parquet", ".csv", ".jsonl", ".ndjson", _PROVENANCE_SUFFIX),
    sniff=sniff_canonical,
    tables=schema.TABLES,
    options=(
        Option(
            name="table",
            description="the canonical table every file holds, when file names do not say",
            default=None,
        ),
    ),
    version="1",
)
