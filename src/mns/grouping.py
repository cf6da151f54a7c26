"""Which grouping the planning tables use: the plan's rules or an audit group's decisions.

In Matching Needs and Services the audit group (the professional panel; the shadow group of
service users) reads each case and decides its need group; the plan's rules are what the
planning group refines from those decisions. :func:`assign` puts one grouping on a cases
table as ``need_group`` so that every analysis can use it.

Groupings (``groups=``):

- ``"rules"``: the plan's rules (the ``need_group`` column :func:`mns.classify` adds).
- ``"professional"``, ``"shadow"``, ``"mixed"``: that audit group's assignments.
- ``"consensus"``: the assignments marked ``consensus`` (the first role, in the order above,
  that has one for the case).
- any other value: the name of an audit (the ``audit`` column of the assignments); with
  several roles in it, each case takes the first role, in the order above, that assigned it.

One case with several assignments in the chosen role (several auditors, or a panel that
recorded its vote): the assignment marked ``consensus`` decides; without one, the group
given by more than half of them; otherwise the case is ``(disputed)``. Nothing is picked
silently: every case whose assignments disagree is counted (``conflicting``), however it was
resolved.

Cases the panel did not place in a group are never dropped, and never ``unknown``:

- ``(not audited)``: the grouping has no assignment for the case;
- ``(not placed)``: the audit group could not place the case (its assignment has no need group);
- ``(disputed)``: the assignments disagree and neither a consensus nor a majority decides;
- ``(no consensus)``: ``groups="consensus"`` only: the case was audited but no assignment of
  it is marked consensus.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from mns._tables import require
from mns.converters import from_metadata, to_metadata
from mns.errors import MnsError, SchemaError
from mns.records.model import Role

__all__ = [
    "DISPUTED",
    "NOT_AUDITED",
    "NOT_PLACED",
    "NO_CONSENSUS",
    "PANEL_LEVELS",
    "ROLES",
    "RULES",
    "assign",
    "describe",
    "grouping_of",
    "summary_of",
]

RULES: Final = "rules"
CONSENSUS: Final = "consensus"
#: The audit groups, in the order a case's assignments are preferred.
ROLES: Final = tuple(r.value for r in Role if r is not Role.RULES)
NOT_AUDITED: Final = "(not audited)"
NOT_PLACED: Final = "(not placed)"
DISPUTED: Final = "(disputed)"
NO_CONSENSUS: Final = "(no consensus)"
#: The values every table of a panel grouping lists after the plan's need groups, even when
#: empty (``(disputed)`` and ``(no consensus)`` are listed when they occur).
PANEL_LEVELS: Final = (NOT_PLACED, NOT_AUDITED)

GROUPS_KEY: Final = b"mns.groups"
SUMMARY_KEY: Final = b"mns.groups.summary"
RULE_GROUP: Final = "rule_group"

_PHRASES: Final = {
    RULES: "the plan's rules",
    "professional": "the professional panel's consensus",
    "shadow": "the shadow group's consensus",
    "mixed": "the mixed panel's consensus",
    CONSENSUS: "the assignments marked consensus",
}


def describe(groups: str) -> str:
    """The grouping in words, for the report: e.g. ``"the professional panel's consensus"``."""
    return _PHRASES.get(groups, f"the need groups of the audit {groups!r}")


def grouping_of(schema: pa.Schema | None) -> str:
    """The grouping a cases table carries (:func:`assign` records it); ``"rules"`` when none
    is recorded (cases straight from :func:`mns.classify`)."""
    raw = (schema.metadata or {}).get(GROUPS_KEY) if schema is not None else None
    return raw.decode() if raw else RULES


@attrs.frozen
class Summary:
    """The counts :func:`assign` keeps in the schema metadata (see :func:`summary_of`)."""

    cases: int
    not_audited: int
    not_placed: int
    disputed: int
    no_consensus: int
    conflicting: int
    undeclared: list[str] | None = None


def summary_of(schema: pa.Schema) -> dict[str, Any]:
    """What :func:`assign` counted: ``cases``, ``not_audited``, ``not_placed``, ``disputed``,
    ``no_consensus``, ``conflicting`` (cases whose assignments disagree, however resolved)
    and ``undeclared`` (need group codes the assignments use that the plan does not have).
    Empty for the rules' grouping."""
    raw = (schema.metadata or {}).get(SUMMARY_KEY)
    summary = from_metadata(raw, Summary, SUMMARY_KEY)
    if summary is None:
        return {}
    return {k: v for k, v in attrs.asdict(summary).items() if v is not None}


def assign(
    cases: pa.Table,
    assignments: pa.Table | None,
    groups: str = "professional",
    *,
    declared: Iterable[str] | None = None,
) -> pa.Table:
    """``cases`` with ``need_group`` set by the grouping ``groups`` (see the module's text).

    ``cases`` is a table with ``case_id`` (for ``groups="rules"``, classified:
    :func:`mns.classify`); ``assignments`` is the records' assignments table (``case_id``,
    ``audit``, ``role``, ``need_group``, ``consensus``). For a panel grouping the rules'
    need group, when the cases have one, is kept as ``rule_group``. Every case keeps its
    row, in order. The schema metadata ``mns.groups`` names the grouping and
    ``mns.groups.summary`` holds the counts of :func:`summary_of`; ``declared`` (the plan's
    need group codes) lets it count codes the plan does not have.
    """
    if not isinstance(cases, pa.Table):
        raise TypeError(f"assign: cases must be a pyarrow Table, not {type(cases).__name__}")
    require(cases.column_names, ["case_id"], "cases")
    had = grouping_of(cases.schema)
    if groups == RULES:
        return _rules(cases, had)
    if assignments is None:
        raise MnsError(
            f"groups={groups!r} needs the audit groups' assignments; give the records' "
            "assignments table, or use groups='rules'",
            item="assignments",
        )
    require(assignments.column_names, ("case_id", "audit", "role", "need_group"), "assignments")
    chosen = _select(assignments, groups)
    ids = [str(v) for v in _text(cases.column("case_id")).to_pylist()]
    values, summary = _resolve(ids, chosen, consensus_only=groups == CONSENSUS)
    if declared is not None:
        known = set(declared) | {NOT_AUDITED, NOT_PLACED, DISPUTED, NO_CONSENSUS}
        summary["undeclared"] = sorted({v for v in values if v not in known})
    out = cases
    if "need_group" in out.column_names:
        position = out.column_names.index("need_group")
        old = out.column("need_group")
        out = out.remove_column(position)
        if had == RULES and RULE_GROUP not in out.column_names:
            out = out.append_column(RULE_GROUP, old)
    column = pa.array(values, pa.string()).dictionary_encode()
    out = out.append_column(pa.field("need_group", column.type), column)
    metadata = {
        **(out.schema.metadata or {}),
        GROUPS_KEY: groups.encode(),
        SUMMARY_KEY: to_metadata(Summary(**summary)),
    }
    return out.replace_schema_metadata(metadata)


def _rules(cases: pa.Table, had: str) -> pa.Table:
    names = cases.column_names
    out = cases
    if had != RULES:
        if RULE_GROUP not in names:
            raise SchemaError(
                f"cases carry the grouping {had!r} without the rules' groups ({RULE_GROUP!r}); "
                "classify the cases with the plan first: mns.classify(cases, plan)",
                item="cases",
                field=RULE_GROUP,
            )
        out = out.remove_column(names.index("need_group"))
        out = out.rename_columns(["need_group" if n == RULE_GROUP else n for n in out.column_names])
    elif "need_group" not in names:
        raise SchemaError(
            "groups='rules' needs classified cases: mns.classify(cases, plan) adds need_group",
            item="cases",
            field="need_group",
        )
    metadata = {k: v for k, v in (out.schema.metadata or {}).items() if k != SUMMARY_KEY}
    return out.replace_schema_metadata({**metadata, GROUPS_KEY: RULES.encode()})


def _text(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    return values if pa.types.is_string(values.type) else pc.cast(values, pa.string())


def _select(assignments: pa.Table, groups: str) -> dict[str, list[tuple[str | None, bool]]]:
    """Each case's assignments in the grouping, as (need group, marked consensus)."""
    ids = _text(assignments.column("case_id")).to_pylist()
    audits = _text(assignments.column("audit")).to_pylist()
    roles = _text(assignments.column("role")).to_pylist()
    codes = _text(assignments.column("need_group")).to_pylist()
    flags = (
        assignments.column("consensus").to_pylist()
        if "consensus" in assignments.column_names
        else [None] * assignments.num_rows
    )
    by_role: dict[str, dict[str, list[tuple[str | None, bool]]]] = {}
    present_audits = set(audits)
    if groups not in (*ROLES, CONSENSUS) and groups not in present_audits:
        raise MnsError(
            f"groups={groups!r} is neither 'rules', a role ({', '.join(ROLES)}), 'consensus' "
            f"nor an audit of the assignments ({', '.join(sorted(map(str, present_audits)))})",
            item="groups",
        )
    for case, audit, role, code, flag in zip(ids, audits, roles, codes, flags, strict=True):
        if groups in ROLES and role != groups:
            continue
        if groups == CONSENSUS and not flag:
            by_role.setdefault("", {}).setdefault(str(case), [])  # audited, not by consensus
            continue
        if groups not in (*ROLES, CONSENSUS) and audit != groups:
            continue
        entries = by_role.setdefault(str(role), {}).setdefault(str(case), [])
        entries.append((code, bool(flag)))
    chosen: dict[str, list[tuple[str | None, bool]]] = {}
    order = [*ROLES, *sorted(r for r in by_role if r not in ROLES and r)]
    for role in order:  # per case, the first role (in ROLES order) that assigned it
        for case, entries in by_role.get(role, {}).items():
            chosen.setdefault(case, entries)
    for case in by_role.get("", {}):
        chosen.setdefault(case, [])
    return chosen


def _resolve(
    ids: Sequence[str],
    chosen: Mapping[str, Sequence[tuple[str | None, bool]]],
    *,
    consensus_only: bool,
) -> tuple[list[str], dict[str, Any]]:
    counts = collections.Counter[str]()
    conflicting = 0
    values: list[str] = []
    for case in ids:
        entries = chosen.get(case)
        if entries is None:
            value = NOT_AUDITED
        elif not entries:
            value = NO_CONSENSUS if consensus_only else NOT_AUDITED
        else:
            value, disagree = _decide(entries)
            conflicting += disagree
        counts[value] += 1
        values.append(value)
    summary: dict[str, Any] = {
        "cases": len(ids),
        "not_audited": counts[NOT_AUDITED],
        "not_placed": counts[NOT_PLACED],
        "disputed": counts[DISPUTED],
        "no_consensus": counts[NO_CONSENSUS],
        "conflicting": conflicting,
    }
    return values, summary


def _decide(entries: Sequence[tuple[str | None, bool]]) -> tuple[str, bool]:
    """One case's group from its assignments in one role, and whether they disagree."""
    placed = [NOT_PLACED if code is None else code for code, _ in entries]
    disagree = len(set(placed)) > 1
    flagged = {NOT_PLACED if code is None else code for code, flag in entries if flag}
    if len(flagged) == 1:
        return flagged.pop(), disagree
    if len(flagged) > 1:
        return DISPUTED, True
    top, n = collections.Counter(placed).most_common(1)[0]
    if 2 * n > len(placed):
        return top, disagree
    return DISPUTED, True
