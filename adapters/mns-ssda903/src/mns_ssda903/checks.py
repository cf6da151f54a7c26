"""Checks across the rows and tables of a 903 return, after each column is typed.

Each check is a whole-column comparison (pyarrow and numpy); only the rows that fail are
turned into issues, each naming the child, the file and row (or XML line), the field and
value, what was done, and the DfE 903 validator's rule number where there is one:

- repeated rows: a row identical to an earlier one of its table is left out (rejected);
- one row per child (Header, UASC, OC2, OC3, AD1, PrevPerm; rules INT31-INT36): a child
  with several differing rows is reported and its first row is used;
- a child missing from Header (rules INT01-INT09), once per child and table;
- orphans: social worker episodes, deprivation of liberty orders, missing periods and
  reviews of a child with no episode in the return;
- dates outside the collection year (rules 117, 118, 301, 354, 385, 570, 571, 625, SW06STG2,
  SW07STG2), when the year is known;
- decisions to place for adoption (PlacedAdoption): a ceased decision without its date or
  reason (119), a decision ceased before it was made (522), a reason or date ceased without
  the decision (563), a second decision while an earlier one is open (583) or overlapping
  one that ended (579);
- a placement provider for a placement that takes none (T0-T4, Z1, Z11-Z14; rule 213);
- from 2026-27, a child with a deprivation of liberty order placed other than in K2, Z12 or
  Z13 at the time (rule 709).

Problems with a value are reported and the record kept as read (``kept``), so that an
analysis sees every record and the issues say which values to doubt.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mns.records.issues import IssueLog, Severity
from mns_ssda903 import spec
from mns_ssda903.arrays import mask, plain
from mns_ssda903.raw import field_path

__all__ = ["CHILD_NUMBER", "check_return", "number_children", "numbers"]

#: the column :func:`check_return` adds to every table: the child's number, equal for equal
#: ``CHILD`` across the tables, so that each check compares integers rather than hashing
#: the identifiers again (it travels with the rows through filters and sorts)
CHILD_NUMBER = "child_number"

_PLACE_WITH_DOLO = ("K2", "Z12", "Z13")
_LOCATION = ("source", "row", "line", "path")


def _shown(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return f"{value:%d/%m/%Y}"
    return str(value)


def report(
    log: IssueLog,
    name: str,
    table: pa.Table,
    rows: np.ndarray,
    message: str | Callable[[dict[str, Any]], str],
    *,
    field: str,
    rule: str | None = None,
    severity: Severity = "error",
    action: str = "kept",
) -> None:
    """One issue per row index in ``rows`` of ``table`` (a checked 903 table), naming the
    child and the row's place in its file (in XML, the element path of ``field``, or of the
    row's own element when the row is rejected); ``message`` may use the row's values."""
    if not len(rows):
        return
    picked = table.take(pa.array(rows, pa.int64())).to_pylist()
    for row in picked:
        text = message(row) if callable(message) else message
        log.add(
            severity,
            action,  # type: ignore[arg-type]
            text + spec.cite(rule),
            source=row["source"],
            row=row["row"],
            line=row["line"],
            path=row["path"] if action == "rejected" else field_path(row["path"], field),
            record=row["CHILD"],
            field=field,
            value=_shown(row.get(field)),
            table=name,
        )


def _first_rows(table: pa.Table, mask: np.ndarray) -> np.ndarray:
    """Of the rows in ``mask``, the first of each child."""
    idx = np.flatnonzero(mask)
    if not len(idx):
        return idx
    children = plain(table, "CHILD").take(pa.array(idx, pa.int64()))
    _, first = np.unique(np.asarray(children.to_numpy(zero_copy_only=False)), return_index=True)
    return np.sort(idx[first])


def number_children(tables: dict[str, pa.Table]) -> int:
    """Add :data:`CHILD_NUMBER` to every table (every row has a ``CHILD``); return how many
    children there are."""
    names = list(tables)
    encoded = pc.dictionary_encode(pa.concat_arrays([plain(tables[n], "CHILD") for n in names]))
    start = 0
    for name in names:
        rows = tables[name].num_rows
        tables[name] = tables[name].append_column(CHILD_NUMBER, encoded.indices.slice(start, rows))
        start += rows
    return len(encoded.dictionary)


def numbers(table: pa.Table) -> np.ndarray:
    """The :data:`CHILD_NUMBER` of each row of a checked table."""
    return np.asarray(table.column(CHILD_NUMBER).to_numpy(), dtype=np.int64)


def _codes(column: Any) -> np.ndarray:
    """Integer codes of a column's values (equal values, equal codes; null: -1)."""
    values = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_date32(values.type):
        values = values.cast(pa.int32())
    if pa.types.is_integer(values.type):  # the values are codes already
        values = values.cast(pa.int64())
        return np.asarray(pc.fill_null(values, -1).to_numpy(), dtype=np.int64)
    if not pa.types.is_dictionary(values.type):
        values = pc.dictionary_encode(values)
    return np.asarray(pc.fill_null(values.indices, -1).to_numpy(), dtype=np.int64)


def _repeats(table: pa.Table, columns: list[str]) -> np.ndarray:
    """Which rows equal an earlier row in every one of ``columns``: rows are keyed by
    their first two columns' codes, and rows whose key repeats are compared value by value
    in every column."""
    key = np.zeros(table.num_rows, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in columns[:2]:  # rows equal in all columns are equal in these two
            codes = _codes(table.column(CHILD_NUMBER if column == "CHILD" else column))
            key = key * np.uint64(1_000_003) + codes.astype(np.uint64)
    repeated = np.zeros(table.num_rows, dtype=bool)
    ordered = np.sort(key)  # cheaper than hashing integers; repeats are rare
    again = ordered[1:][ordered[1:] == ordered[:-1]]
    if not len(again):
        return repeated
    candidates = np.flatnonzero(np.isin(key, again))
    seen: set[tuple[Any, ...]] = set()
    rows = table.select(columns).take(pa.array(candidates, pa.int64())).to_pylist()
    for i, row in zip(candidates.tolist(), rows, strict=True):
        values = tuple(row.values())
        repeated[i] = values in seen
        seen.add(values)
    return repeated


def drop_repeated_rows(tables: dict[str, pa.Table], log: IssueLog) -> None:
    """Leave out rows identical (in every 903 column) to an earlier row of their table."""
    for name, table in tables.items():
        if table.num_rows < 2:
            continue
        repeated = _repeats(table, list(spec.TABLES[name].names))
        if not repeated.any():
            continue
        report(
            log,
            name,
            table,
            np.flatnonzero(repeated),
            f"the row repeats an earlier {name} row exactly; it was left out",
            field="CHILD",
            severity="warning",
            action="rejected",
        )
        tables[name] = table.filter(pa.array(~repeated))


def _first_used(name: str, where: Mapping[str, str], row: Mapping[str, Any]) -> str:
    return (
        f"the child has more than one {name} row, which holds one per child; the first "
        f"({where[row['CHILD']]}) was used"
    )


def one_row_per_child(tables: dict[str, pa.Table], log: IssueLog) -> None:
    """Report a child with several rows in a table that holds one per child (the first is
    the one used)."""
    for name, rule in spec.ONE_PER_CHILD.items():
        table = tables[name]
        if table.num_rows < 2:
            continue
        number = numbers(table)
        rows_of = np.bincount(number)
        if rows_of.max() == 1:
            continue
        first = np.empty(len(rows_of), dtype=np.int64)
        first[number[::-1]] = np.arange(len(number))[::-1]  # the last write: the first row
        first = first[rows_of > 0]
        seen = np.zeros(table.num_rows, dtype=bool)
        seen[first] = True
        rows = table.select(["CHILD", *_LOCATION]).take(pa.array(first, pa.int64())).to_pylist()
        where = {
            at["CHILD"]: f"row {at['row']}"
            if at["row"] is not None
            else f"line {at['line']}" + (f", {at['path']}" if at["path"] else "")
            for at in rows
        }
        message = functools.partial(_first_used, name, where)
        report(log, name, table, np.flatnonzero(~seen), message, field="CHILD", rule=rule)


def _among(table: pa.Table, children: int) -> np.ndarray:
    """By child number, whether the child has a row in ``table``."""
    found = np.zeros(children, dtype=bool)
    found[numbers(table)] = True
    return found


def children_in_header(tables: Mapping[str, pa.Table], children: int, log: IssueLog) -> None:
    """Report, once per child and table, a child who is not in the Header table."""
    in_header = _among(tables["Header"], children)
    for name, rule in spec.IN_HEADER.items():
        table = tables[name]
        if table.num_rows == 0:
            continue
        missing = ~in_header[numbers(table)]
        report(
            log,
            name,
            table,
            _first_rows(table, missing),
            f"the child is in the {name} table but not in Header (no date of birth, sex or "
            "ethnicity)",
            field="CHILD",
            rule=rule,
            severity="warning",
        )


_ORPHANS = {
    "SWEpisodes": "social worker episode",
    "DoLo": "deprivation of liberty order",
    "Missing": "missing or away from placement period",
    "Reviews": "review",
    "PlacedAdoption": "decision to place for adoption",
}


def orphans(tables: Mapping[str, pa.Table], children: int, log: IssueLog) -> None:
    """Report rows about a child who has no episode of care in the return."""
    looked_after = _among(tables["Episodes"], children)
    for name, what in _ORPHANS.items():
        table = tables[name]
        if table.num_rows == 0:
            continue
        alone = ~looked_after[numbers(table)]
        report(
            log,
            name,
            table,
            np.flatnonzero(alone),
            f"a {what} of a child with no episode of care in the return; it is kept in the "
            f"{name} table but belongs to no case",
            field="CHILD",
            severity="warning",
        )


#: (table, column, bound, rule): ``after`` the collection year's end or ``before`` its start
_YEAR_BOUNDS = (
    ("Header", "DOB", "after", "301"),
    ("Header", "MC_DOB", "after", "625"),
    ("Episodes", "DECOM", "after", "354"),
    ("Episodes", "DEC", "after", "385"),
    ("Episodes", "DEC", "before", None),
    ("Missing", "MIS_START", "after", "570"),
    ("Missing", "MIS_END", "after", "571"),
    ("Missing", "MIS_END", "before", "571"),
    ("PlacedAdoption", "DATE_PLACED", "after", "117"),
    ("PlacedAdoption", "DATE_PLACED_CEASED", "after", "117"),
    ("PlacedAdoption", "DATE_PLACED_CEASED", "before", "118"),
    ("Reviews", "REVIEW", "after", None),
    ("Reviews", "REVIEW", "before", None),
    ("SWEpisodes", "SW_DECOM", "after", "SW06STG2"),
    ("SWEpisodes", "SW_DEC", "after", "SW07STG2"),
    ("SWEpisodes", "SW_DEC", "before", "SW07STG2"),
    ("DoLo", "DOLO_START", "after", None),
    ("DoLo", "DOLO_END", "before", None),
)


def dates_in_year(tables: Mapping[str, pa.Table], year: int, log: IssueLog) -> None:
    """Report dates after the collection year's end, or before its start where a date that
    early cannot belong to this year's return (an episode or review that ended before it)."""
    start, end = dt.date(year - 1, 4, 1), dt.date(year, 3, 31)
    span = f"the {year - 1}-{str(year)[2:]} collection year (1 April {year - 1} to 31 March {year})"
    for name, column, bound, rule in _YEAR_BOUNDS:
        table = tables[name]
        if table.num_rows == 0:
            continue
        dates = table.column(column)
        if bound == "after":
            outside = mask(pc.greater(dates, pa.scalar(end, pa.date32())))
            text = f"{column} is after the end of {span}"
        else:
            outside = mask(pc.less(dates, pa.scalar(start, pa.date32())))
            text = f"{column} is before the start of {span}"
        report(
            log,
            name,
            table,
            np.flatnonzero(outside),
            f"{text}; kept",
            field=column,
            rule=rule,
            severity="error" if rule else "warning",  # the DfE's rules are errors
        )


def placed_for_adoption(tables: Mapping[str, pa.Table], log: IssueLog) -> None:
    """Check the decisions to place a child for adoption, row by row and child by child."""
    table = tables["PlacedAdoption"]
    if table.num_rows == 0:
        return
    placed = table.column("DATE_PLACED")
    ceased = table.column("DATE_PLACED_CEASED")
    reason = table.column("REASON_PLACED_CEASED")
    half = mask(pc.xor(pc.is_valid(ceased), pc.is_valid(reason)))
    report(
        log,
        "PlacedAdoption",
        table,
        np.flatnonzero(half),
        "a decision that the child should no longer be placed for adoption needs both its date "
        "(DATE_PLACED_CEASED) and its reason (REASON_PLACED_CEASED)",
        field="REASON_PLACED_CEASED",
        rule="119",
    )
    report(
        log,
        "PlacedAdoption",
        table,
        np.flatnonzero(mask(pc.greater(placed, ceased))),
        "the decision ceased (DATE_PLACED_CEASED) before it was made (DATE_PLACED)",
        field="DATE_PLACED_CEASED",
        rule="522",
    )
    without = mask(pc.and_(pc.is_null(placed), pc.or_(pc.is_valid(ceased), pc.is_valid(reason))))
    report(
        log,
        "PlacedAdoption",
        table,
        np.flatnonzero(without),
        "the decision ceased, but the date it was made (DATE_PLACED) is blank",
        field="DATE_PLACED",
        rule="563",
    )
    _adoption_decisions_in_order(table, log)


def _adoption_decisions_in_order(table: pa.Table, log: IssueLog) -> None:
    """A child's later decision while the earlier one is open (583) or before it ended (579)."""
    keyed = pa.table(
        {
            "child": plain(table, "CHILD"),
            "placed": table.column("DATE_PLACED"),
            "i": pa.array(np.arange(table.num_rows), pa.int64()),
        }
    )
    order = np.asarray(
        pc.sort_indices(
            keyed, sort_keys=[("child", "ascending"), ("placed", "ascending"), ("i", "ascending")]
        ).to_numpy()
    )
    if len(order) < 2:
        return
    taken = table.take(pa.array(order, pa.int64()))
    child = np.asarray(plain(taken, "CHILD").to_numpy(zero_copy_only=False))
    placed = taken.column("DATE_PLACED").combine_chunks()
    ceased = taken.column("DATE_PLACED_CEASED").combine_chunks()
    same = np.zeros(len(order), dtype=bool)
    same[1:] = child[1:] == child[:-1]
    prev_ceased = pa.concat_arrays([pa.nulls(1, pa.date32()), ceased.slice(0, len(order) - 1)])
    prev_open = np.concatenate([[False], mask(pc.is_null(ceased))[:-1]])
    still_open = same & prev_open
    overlaps = same & ~prev_open & mask(pc.less(placed, prev_ceased))
    report(
        log,
        "PlacedAdoption",
        taken,
        np.flatnonzero(still_open),
        "a further decision to place the child for adoption, while an earlier one has not "
        "ceased (no DATE_PLACED_CEASED)",
        field="DATE_PLACED",
        rule="583",
    )
    report(
        log,
        "PlacedAdoption",
        taken,
        np.flatnonzero(overlaps),
        "a further decision to place the child for adoption before the earlier one ceased",
        field="DATE_PLACED",
        rule="579",
    )


def provider_not_required(tables: Mapping[str, pa.Table], log: IssueLog) -> None:
    """A placement provider given for a placement type that takes none."""
    episodes = tables["Episodes"]
    if episodes.num_rows == 0:
        return
    place = plain(episodes, "PLACE")
    given = pc.is_valid(episodes.column("PLACE_PROVIDER"))
    wrong = mask(pc.and_(given, pc.is_in(place, pa.array(sorted(spec.NO_PROVIDER)))))
    report(
        log,
        "Episodes",
        episodes,
        np.flatnonzero(wrong),
        lambda row: f"PLACE {row['PLACE']} takes no placement provider; PLACE_PROVIDER was kept",
        field="PLACE_PROVIDER",
        rule="213",
        severity="warning",
    )


def dolo_placements(tables: Mapping[str, pa.Table], log: IssueLog) -> None:
    """A deprivation of liberty order overlapping an episode placed other than in K2, Z12 or
    Z13 (rule 709, from the 2026-27 collection)."""
    dolo, episodes = tables["DoLo"], tables["Episodes"]
    if dolo.num_rows == 0 or episodes.num_rows == 0:
        return
    left = pa.table(
        {
            "CHILD": plain(dolo, "CHILD"),
            "start": dolo.column("DOLO_START"),
            "end": dolo.column("DOLO_END"),
            "i": pa.array(np.arange(dolo.num_rows), pa.int64()),
        }
    )
    right = pa.table(
        {
            "CHILD": plain(episodes, "CHILD"),
            "DECOM": episodes.column("DECOM"),
            "DEC": episodes.column("DEC"),
            "PLACE": plain(episodes, "PLACE"),
        }
    )
    joined = left.join(right, "CHILD", join_type="inner", use_threads=False)
    overlap = pc.and_(
        pc.less_equal(joined.column("start"), pc.coalesce(joined.column("DEC"), joined["start"])),
        pc.greater_equal(joined.column("end"), joined.column("DECOM")),
    )
    elsewhere = pc.invert(pc.is_in(joined.column("PLACE"), pa.array(_PLACE_WITH_DOLO)))
    bad = joined.filter(pc.fill_null(pc.and_(overlap, elsewhere), False))
    rows = np.unique(np.asarray(bad.column("i").to_numpy()))
    report(
        log,
        "DoLo",
        dolo,
        rows,
        "the child has a deprivation of liberty order while placed other than in K2, Z12 or Z13",
        field="DOLO_START",
        rule="709",
        severity="warning",
    )


def check_return(tables: dict[str, pa.Table], year: int | None, log: IssueLog) -> None:
    """Every check across rows and tables (``tables`` loses its exactly repeated rows and
    gains :data:`CHILD_NUMBER`)."""
    children = number_children(tables)
    drop_repeated_rows(tables, log)
    one_row_per_child(tables, log)
    children_in_header(tables, children, log)
    orphans(tables, children, log)
    if year is not None:
        dates_in_year(tables, year, log)
    placed_for_adoption(tables, log)
    provider_not_required(tables, log)
    if year is not None and year >= 2027:  # rule 709's first year
        dolo_placements(tables, log)
