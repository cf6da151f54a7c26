"""``mns.link``: one child's records from several returns or agencies become one case.

A CIN census and an SSDA903 return describe some of the same children: a child in need who
later became looked after has a case in each. Both carry the local authority's child id
(``child_id``; with ``mns.read(..., pseudonymise=key)`` its keyed pseudonym, equal in every
file read with the same key). :func:`link` joins every case that shares ``child_id`` (or the
columns ``by`` names) into one case, so that the audit counts children, not records:

- the linked case keeps the ``case_id`` of the child's earliest case (by reference date, then
  the order read); its services, outcomes and assignments follow it;
- each column takes the child's most recent known value (by reference date), except flags
  (true when any record says so: a factor found in either return), ratings (the highest),
  ``disability`` (any), and ``agency`` and ``source_system`` (every one, joined with ``+``,
  e.g. ``cin-census+ssda903``);
- a child whose records disagree on ``sex``, ``birth_month`` or ``ethnicity`` is an issue
  (the most recent value is kept); a case with no ``child_id`` stays as it is;
- ``extra["links"]`` maps every case read to its linked case, and the provenance says how
  many children were linked across record systems and agencies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mns.errors import MnsError
from mns.records import schema
from mns.records.bundle import Provenance, Records
from mns.records.issues import IssueLog

__all__ = ["LINKS", "Linkage", "link", "linkage"]

#: The name of the extra table mapping each case read to its linked case.
LINKS = "links"
_JOINED = ("agency", "source_system")
_ANY = ("disability",)
_CHECKED = ("sex", "birth_month", "ethnicity")
_ORDER = "__mns_order"
_SOURCE = "mns.link"


@attrs.frozen(kw_only=True)
class Linkage:
    """How many records :func:`link` joined."""

    cases_in: int  #: cases before linking
    cases_out: int  #: cases after: one per child with an id, plus cases with none
    children: int  #: children with an id
    linked: int  #: children with cases from more than one record system or agency
    several: int  #: children with more than one case (in one system or several)
    unkeyed: int  #: cases left as they were: no id to link by
    by_systems: dict[str, int]  #: linked children by the systems joined (``a+b``)


def _plain(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column


def _rule(name: str, kind: pa.DataType, indicators: set[str]) -> str:
    """How a column's values of one child's cases become one value."""
    if name in _JOINED:
        return "join"
    if name in _ANY or (name in indicators and pa.types.is_boolean(kind)):
        return "any"
    if name in indicators and pa.types.is_integer(kind):
        return "max"
    return "last"


def _together(records: Records | Sequence[Records]) -> Records:
    if isinstance(records, Records):
        return records
    from mns.dispatch import combine_records

    parts = list(records)
    if not parts:
        raise MnsError("mns.link: no records given")
    named = [(r.provenance.adapter or f"records {i + 1}", r) for i, r in enumerate(parts)]
    return combine_records(named)


def link(records: Records | Sequence[Records], *, by: str | Sequence[str] = "child_id") -> Records:
    """The records with one case per child (see the module's description).

    ``records``: what ``mns.read`` gave for several returns together, or a list of
    :class:`Records` (read separately, with the same pseudonymisation key). ``by``: the
    column, or columns (e.g. ``("la", "child_id")`` when several authorities' ids may
    clash), that say two cases are the same child. :func:`linkage` counts what was linked.
    """
    source = _together(records)
    keys = [by] if isinstance(by, str) else list(by)
    cases = source.cases
    missing = [k for k in keys if k not in cases.column_names]
    if missing or not keys:
        raise MnsError(f"mns.link: cases have no column {', '.join(missing) or '(none given)'}")
    log = IssueLog(source=_SOURCE, table="cases")
    cases = cases.append_column(_ORDER, pa.array(np.arange(cases.num_rows), pa.int64()))
    keyed = _keyed(cases, keys)
    loose = cases.filter(pc.invert(keyed))
    linked_in = cases.filter(keyed)
    merged, mapping = _merge(linked_in, keys, log, source.provenance)
    out_cases = pa.concat_tables(
        [schema.conform(merged, "cases"), schema.conform(loose.drop_columns([_ORDER]), "cases")],
        promote_options="permissive",
    )
    out_cases = out_cases.take(pc.sort_indices(out_cases, sort_keys=[("case_id", "ascending")]))
    old_ids = pa.concat_arrays(
        [mapping.column("case_id").combine_chunks(), loose.column("case_id").combine_chunks()]
    )
    new_ids = pa.concat_arrays(
        [
            mapping.column("linked_case_id").combine_chunks(),
            loose.column("case_id").combine_chunks(),
        ]
    )
    links = _links(cases, keyed, old_ids, new_ids, keys)
    tables = {
        name: _relabel(getattr(source, name), old_ids, new_ids)
        for name in ("services", "outcomes", "assignments")
    }
    _check_assignments(tables["assignments"], log)
    note = _note(linkage(links), keys)
    provenance = attrs.evolve(source.provenance, warnings=(*source.provenance.warnings, note))
    issues = source.issues
    if len(log):
        issues = pa.concat_tables(
            [issues, schema.conform(log.table(), "issues")], promote_options="permissive"
        )
    return Records(
        provenance=provenance,
        cases=out_cases,
        issues=schema.conform(issues, "issues"),
        extra={**source.extra, LINKS: links},
        **tables,
    )


def _note(summary: Linkage, keys: Sequence[str]) -> str:
    systems = ", ".join(f"{k}: {v}" for k, v in sorted(summary.by_systems.items()))
    note = (
        f"mns.link by {', '.join(keys)}: {summary.cases_in} cases became {summary.cases_out}; "
        f"{summary.linked} {'child' if summary.linked == 1 else 'children'} linked across "
        "record systems or agencies"
        f"{f' ({systems})' if systems else ''}, {summary.several} with several cases"
    )
    if summary.unkeyed:
        note += f"; {summary.unkeyed} cases have no {keys[0]} and are left as they were"
    return note


def _keyed(cases: pa.Table, keys: Sequence[str]) -> pa.Array:
    """Whether each case has every key column (an empty string is no key)."""
    mask = pa.array(np.ones(cases.num_rows, dtype=bool))
    for key in keys:
        column = _plain(cases[key])
        valid = pc.is_valid(column)
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            valid = pc.and_(valid, pc.fill_null(pc.not_equal(column, ""), False))
        mask = pc.and_(mask, valid)
    return mask.combine_chunks() if isinstance(mask, pa.ChunkedArray) else mask


def _merge(
    cases: pa.Table, keys: Sequence[str], log: IssueLog, provenance: Provenance
) -> tuple[pa.Table, pa.Table]:
    """One row per child, and the map from each case to its child's linked case id."""
    indicators = {n for n in cases.column_names if "." in n}
    # unknown reference dates count as oldest (whatever pyarrow's null placement)
    when = pc.fill_null(cases["reference_date"], pa.scalar(dt.date.min, pa.date32()))
    order = pc.sort_indices(
        pa.table({"when": when, "order": cases[_ORDER]}),
        sort_keys=[("when", "ascending"), ("order", "ascending")],
    )
    ordered = cases.take(order)  # oldest first: "last" is the most recent known value
    # a column with no value at all (null type) has nothing to merge: it stays empty
    plain = pa.table(
        {
            name: _plain(ordered[name])
            for name in ordered.column_names
            if not pa.types.is_null(ordered.schema.field(name).type) or name in keys
        }
    )
    rules = {
        name: _rule(name, plain.schema.field(name).type, indicators)
        for name in plain.column_names
        if name not in keys and name != _ORDER
    }
    aggregations: list[tuple[str, str]] = [("case_id", "first"), (_ORDER, "count")]
    for name, rule in rules.items():
        if name == "case_id":
            continue
        aggregations.append((name, "distinct" if rule == "join" else rule))
    aggregations += [(n, "count_distinct") for n in _CHECKED if n in plain.column_names]
    grouped = plain.group_by(list(keys), use_threads=False).aggregate(aggregations)
    columns: dict[str, pa.Array] = {}
    for name in ordered.column_names:
        if name == _ORDER:
            continue
        if name not in plain.column_names:
            columns[name] = pa.nulls(grouped.num_rows)
        elif name in keys:
            columns[name] = grouped[name]
        elif name == "case_id":
            columns[name] = grouped["case_id_first"]
        elif rules[name] == "join":
            joined = [
                "+".join(sorted(str(v) for v in values if v is not None)) or None
                for values in grouped[f"{name}_distinct"].to_pylist()
            ]
            columns[name] = pa.array(joined, pa.string())
        else:
            columns[name] = grouped[f"{name}_{rules[name]}"]
    merged = pa.table(columns)
    merged = pa.table(
        {
            name: merged[name].cast(cases.schema.field(name).type)
            if merged[name].type != cases.schema.field(name).type
            else merged[name]
            for name in merged.column_names
        }
    )
    for name in _CHECKED:
        if name not in plain.column_names:
            continue
        differ = pc.greater(grouped[f"{name}_count_distinct"], 1)
        for child in grouped.filter(differ).select(list(keys)).to_pylist():
            record = "/".join(str(child[k]) for k in keys)
            log.warning(
                f"this child's records disagree on {name}: the most recent is kept",
                record=record,
                field=name,
            )
    # every case read -> the first case id of its child
    first = pa.table({**{k: grouped[k] for k in keys}, "linked_case_id": grouped["case_id_first"]})
    mapping = cases.select([*keys, "case_id"]).join(first, keys=list(keys), join_type="left outer")
    return merged, mapping.select(["case_id", "linked_case_id"])


def _relabel(table: pa.Table, old: pa.Array, new: pa.Array) -> pa.Table:
    if table.num_rows == 0:
        return table
    index = table.schema.get_field_index("case_id")
    positions = pc.index_in(table["case_id"], value_set=old)
    moved = pc.if_else(pc.is_valid(positions), pc.take(new, positions), table["case_id"])
    return table.set_column(index, table.schema.field(index), moved)


def _links(
    cases: pa.Table, keyed: pa.Array, old: pa.Array, new: pa.Array, keys: Sequence[str]
) -> pa.Table:
    """Every case read, its linked case, its key (null when it had none) and its systems."""
    positions = pc.index_in(cases["case_id"], value_set=old)
    columns = {
        "case_id": cases["case_id"],
        "linked_case_id": pc.take(new, positions),
        **{k: pc.if_else(keyed, _plain(cases[k]), None) for k in keys if k != "case_id"},
        **{n: _plain(cases[n]) for n in _JOINED if n in cases.column_names},
    }
    table = pa.table(columns)
    order = [("linked_case_id", "ascending"), ("case_id", "ascending")]
    return table.take(pc.sort_indices(table, sort_keys=order))


def _check_assignments(assignments: pa.Table, log: IssueLog) -> None:
    """An audit group that placed two of one child's cases in different need groups."""
    if assignments.num_rows == 0:
        return
    plain = pa.table(
        {n: _plain(assignments[n]) for n in ("case_id", "audit", "role", "need_group")}
    )
    grouped = plain.group_by(["case_id", "audit", "role"]).aggregate(
        [("need_group", "count_distinct")]
    )
    for row in grouped.filter(pc.greater(grouped["need_group_count_distinct"], 1)).to_pylist():
        log.warning(
            f"audit {row['audit']!r} ({row['role']}) placed this child's linked cases in "
            "different need groups: both assignments are kept",
            table="assignments",
            record=row["case_id"],
            field="need_group",
        )


def linkage(links: pa.Table | Records) -> Linkage:
    """What :func:`link` joined, counted from its ``links`` table (or the linked records)."""
    table = links.extra[LINKS] if isinstance(links, Records) else links
    cases_in = table.num_rows
    grouped = table.group_by("linked_case_id").aggregate(
        [("case_id", "count")] + [(n, "distinct") for n in _JOINED if n in table.column_names]
    )
    several = int(pc.sum(pc.greater(grouped["case_id_count"], 1)).as_py() or 0)
    linked = 0
    by_systems: dict[str, int] = {}
    for row in grouped.to_pylist():
        systems = sorted({str(v) for v in row.get("source_system_distinct") or [] if v})
        agencies = sorted({str(v) for v in row.get("agency_distinct") or [] if v})
        if len(systems) > 1 or len(agencies) > 1:
            linked += 1
            label = "+".join(systems or agencies)
            by_systems[label] = by_systems.get(label, 0) + 1
    keys = [n for n in table.column_names if n not in ("case_id", "linked_case_id", *_JOINED)]
    unkeyed = int(pc.sum(pc.is_null(table[keys[0]])).as_py() or 0) if keys else 0
    return Linkage(
        cases_in=cases_in,
        cases_out=grouped.num_rows,
        children=grouped.num_rows - unkeyed,
        linked=linked,
        several=several,
        unkeyed=unkeyed,
        by_systems=by_systems,
    )
