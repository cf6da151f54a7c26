"""Reading an Annex A workbook: each list found by its sheet name or, failing that, by its
headers; each column by its header. A list that is missing, a column missing or extra, a
value that cannot be read: each is an issue located by sheet, row and column letter; none
stops the rest.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from mns import privacy
from mns.lang import language
from mns.plugins import (
    DEFAULT_LIMITS,
    Limits,
    Source,
    WorkbookError,
    check_workbook,
    report_uncached,
)
from mns.records.issues import IssueLog, column_letter
from mns_annex_a.normalise import normalise
from mns_annex_a.spec import LISTS, Kind, ListSpec, normal_header

__all__ = ["CODE_SETS", "ROLES", "read_workbook"]

_ETHNICITY = (
    "WBRI", "WIRI", "WIRT", "WOTH", "WROM", "MWBC", "MWBA", "MWAS", "MOTH", "AIND", "APKN",
    "ABAN", "AOTH", "BCRB", "BAFR", "BOTH", "CHNE", "OOTH", "REFU", "NOBT",
)  # fmt: skip
_LANGUAGE = {
    "referral_source": ("cin", "referral_source"),
    "contact_source": ("cin", "referral_source"),
    "primary_need": ("cin", "primary_need"),
    "closure_reason": ("cin", "reason_for_closure"),
    "category_of_need": ("ssda903", "category_of_need"),
    "legal_status": ("ssda903", "legal_status"),
    "placement_type": ("ssda903", "placement_type"),
    "placement_provider": ("ssda903", "placement_provider"),
    "ceased_reason": ("ssda903", "reason_episode_ceased"),
}
_FIXED = {"ethnicity": _ETHNICITY}
_TYPES = {
    Kind.ID: pa.string(),
    Kind.TEXT: pa.string(),
    Kind.DATE: pa.date32(),
    Kind.NUMBER: pa.float64(),
    Kind.COUNT: pa.int32(),
    Kind.YES_NO: pa.bool_(),
    Kind.GENDER: pa.string(),
    Kind.CODE: pa.string(),
    Kind.CATEGORY: pa.string(),
    Kind.ABUSE: pa.string(),
}
ROLES = {
    "child_id": privacy.IDENTIFIER,
    "adopter_id": privacy.IDENTIFIER,
    "birth_date": privacy.BIRTH_DATE,
}


@functools.cache
def _codes(key: str) -> tuple[str, ...] | None:
    if key in _FIXED:
        return _FIXED[key]
    if key in _LANGUAGE:
        name, indicator = _LANGUAGE[key]
        return tuple(v.code for v in language(name).indicator(indicator).values)
    return None


CODE_SETS = {key: _codes(key) for key in (*_LANGUAGE, *_FIXED)}


def _header_row(rows: Sequence[Sequence[Any]], spec: ListSpec) -> tuple[int, float]:
    """The index of the row that best holds ``spec``'s headers (in the first 15), and the share
    of them it holds."""
    wanted = {normal_header(c.header) for c in spec.columns}
    best = (0, 0.0)
    for i, row in enumerate(rows[:15]):
        found = {normal_header(c) for c in row} & wanted
        share = len(found) / len(wanted)
        if share > best[1]:
            best = (i, share)
    return best


def _named(sheet: str, spec: ListSpec) -> bool:
    """Whether a sheet is named for list ``spec``: ``List 3``, ``list3``, ``List 3 - Referrals``
    (but not ``List 30``)."""
    plain, want = normal_header(sheet), normal_header(spec.sheet)
    return plain.startswith(want) and not plain[len(want) : len(want) + 1].isdigit()


def _sheet_for(spec: ListSpec, sheets: Mapping[str, list[list[Any]]], used: set[str]) -> str | None:
    """The sheet holding list ``spec``: the one named for it, else the unused sheet whose
    headers match it best (at least half of them)."""
    for name in sheets:
        if _named(name, spec):
            return name
    best: tuple[float, str] | None = None
    for name, rows in sheets.items():
        if name in used or any(_named(name, other) for other in LISTS.values()):
            continue
        _, share = _header_row(rows, spec)
        if share >= 0.5 and (best is None or share > best[0]):
            best = (share, name)
    return best[1] if best else None


def _holds(cell: Any) -> bool:
    """Whether a cell holds something (a cell of spaces alone does not, as in the mapping
    adapter: such a row is blank, not a record without its key)."""
    return cell is not None and not (isinstance(cell, str) and not cell.strip())


def _read_list(
    spec: ListSpec,
    sheet: str,
    rows: list[list[Any]],
    log: IssueLog,
    formulas: frozenset[int] = frozenset(),
) -> pa.Table:
    """List ``spec`` from the rows of ``sheet``; ``formulas``: row numbers holding formulas
    with no saved result (they read blank but are records, rejected without their key)."""
    head, _ = _header_row(rows, spec)
    header = rows[head] if rows else []
    position: dict[str, int] = {}
    by_header = {normal_header(c.header): c for c in spec.columns}
    for j, text in enumerate(header):
        key = normal_header(text)
        if not key:
            continue
        column = by_header.get(key)
        if column is None:
            log.warning(
                f"column {str(text).strip()!r} is not a column of {spec.sheet} ({spec.title}); it "
                "was ignored",
                sheet=sheet,
                row=head + 1,
                column=column_letter(j),
                action="blanked",
            )
        elif column.key in position:
            log.warning(
                f"column {str(text).strip()!r} appears twice; column "
                f"{column_letter(position[column.key])} was read",
                sheet=sheet,
                row=head + 1,
                column=column_letter(j),
            )
        else:
            position[column.key] = j
    for column in spec.columns:
        if column.key not in position:
            log.warning(
                f"{spec.sheet} has no column {column.header!r}; it was read as empty",
                sheet=sheet,
                row=head + 1,
                field=column.key,
            )
    values: dict[str, list[Any]] = {c.key: [] for c in spec.columns}
    row_numbers: list[int] = []
    key_column = spec.columns[0]
    end = max(len(rows), max(formulas, default=0))  # calamine ends at the last value
    for i in range(head + 1, end):
        cells = rows[i] if i < len(rows) else []
        if not any(_holds(c) for c in cells) and i + 1 not in formulas:
            continue  # empty rows (the template's below the data, or spaces only): not records
        record: dict[str, Any] = {}
        for column in spec.columns:
            at = position.get(column.key)
            raw = cells[at] if at is not None and at < len(cells) else None
            value, problem = normalise(column.kind, raw)
            codes = _codes(column.key) if column.kind is Kind.CODE else None
            if value is not None and codes is not None and value not in codes:
                problem = (
                    f"{raw!r} gives the code {value!r}, which is not one of {', '.join(codes[:25])}"
                )
                value = None
            if problem is not None:
                log.error(
                    f"{column.header}: {problem}",
                    sheet=sheet,
                    row=i + 1,
                    column=column_letter(at) if at is not None else None,
                    field=column.key,
                    value=raw,
                    action="blanked",
                )
            record[column.key] = value
        if record[key_column.key] is None:
            log.error(
                f"the row has no {key_column.header}; it was not read",
                sheet=sheet,
                row=i + 1,
                column=column_letter(position[key_column.key])
                if key_column.key in position
                else None,
                field=key_column.key,
                action="rejected",
            )
            continue
        for key, value in record.items():
            values[key].append(value)
        row_numbers.append(i + 1)
    fields = [pa.field(c.key, _TYPES[c.kind], metadata=ROLES.get(c.key)) for c in spec.columns]
    arrays = [pa.array(values[c.key], _TYPES[c.kind]) for c in spec.columns]
    fields += [pa.field("sheet", pa.string()), pa.field("row", pa.int64())]
    arrays += [pa.array([sheet] * len(row_numbers), pa.string()), pa.array(row_numbers, pa.int64())]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _empty(spec: ListSpec) -> pa.Table:
    fields = [pa.field(c.key, _TYPES[c.kind], metadata=ROLES.get(c.key)) for c in spec.columns]
    fields += [pa.field("sheet", pa.string()), pa.field("row", pa.int64())]
    return pa.schema(fields).empty_table()


def read_workbook(
    source: Source, log: IssueLog, limits: Limits = DEFAULT_LIMITS
) -> dict[str, pa.Table]:
    """Every list of one Annex A workbook, by list name (``contacts``, ``referrals``...);
    a list that is missing is an empty table, with a warning. A workbook over ``limits`` (or
    not a workbook) is refused whole: one error, and every list empty."""
    from python_calamine import CalamineWorkbook

    with source.open() as stream:
        data = stream.read()
    try:  # before calamine: it would build a grid as large as the farthest cell
        shape = check_workbook(data, name=source.name, limits=limits)
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = {
            name: workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
            for name in workbook.sheet_names
            if name in shape.names
        }
    except WorkbookError as exc:
        _refused(log, exc.message.removeprefix(f"{source.name}: "), exc.item, exc.cell)
        return {spec.name: _empty(spec) for spec in LISTS.values()}
    except Exception as exc:  # calamine raises its own errors for damaged parts
        _refused(log, f"the file is not a readable workbook ({type(exc).__name__}: {exc})")
        return {spec.name: _empty(spec) for spec in LISTS.values()}
    out: dict[str, pa.Table] = {}
    used: set[str] = set()
    for spec in LISTS.values():
        sheet = _sheet_for(spec, sheets, used)
        if sheet is None:
            log.warning(
                f"{spec.sheet} ({spec.title}) is missing: no sheet has its name or its headers",
                sheet=spec.sheet,
                table=spec.name,
            )
            out[spec.name] = _empty(spec)
            continue
        used.add(sheet)
        scanned = shape.sheet(sheet)
        report_uncached(log.bind(table=spec.name), scanned)
        out[spec.name] = _read_list(spec, sheet, sheets[sheet], log, scanned.uncached_rows)
    for name in sheets:
        if name not in used:
            log.warning(
                f"sheet {name!r} is not one of the eleven lists; it was ignored", sheet=name
            )
    return out


def _refused(
    log: IssueLog, message: str, sheet: str | None = None, cell: str | None = None
) -> None:
    """Log the refusal of a whole workbook, at the cell that caused it when there is one."""
    row = int(cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) if cell else None
    column = cell.rstrip("0123456789") if cell else None
    log.error(
        message, action="rejected", table="file", sheet=sheet, row=row, column=column, value=cell
    )
