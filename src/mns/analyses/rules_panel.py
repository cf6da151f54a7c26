"""``rules_vs_panel`` and ``disagreements``: the plan's rules beside the audit group's decisions.

The panel decides each case's need group; the rules are what the planning group refines
from those decisions into thresholds. ``rules_vs_panel`` says, per need group, how far the
rule finds the panel's cases (recall) and only them (precision); ``disagreements`` lists
the cases where they differ, with the conditions that decided the rule's group, for the
planning group (record-level: internal only, never published).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

import numpy as np
import pyarrow as pa

from mns import _tables, stats
from mns.analyses import _common as common
from mns.classification import UNASSIGNED, UNKNOWN
from mns.disclosure import Block, Publication, Structure
from mns.plan.model import Plan
from mns.rules.case import Condition

__all__ = ["disagreements", "rules_vs_panel"]

_COUNTS: Final = ("both", "panel_only", "rules_only")
_RATES: Final = (
    "precision",
    "precision_low",
    "precision_high",
    "recall",
    "recall_low",
    "recall_high",
)


def _pairs(cases: pa.Table, assignments: pa.Table, plan: Plan, role: str) -> tuple[Any, Any, Any]:
    """Case ids, the panel's groups (``role``) and the rules' groups, one per case."""
    from mns.grouping import RULE_GROUP, RULES, assign, grouping_of

    if not isinstance(cases, pa.Table):
        raise TypeError(f"cases must be a pyarrow Table, not {type(cases).__name__}")
    rules_column = "need_group" if grouping_of(cases.schema) == RULES else RULE_GROUP
    _tables.require(
        cases.column_names,
        [rules_column],
        "cases",
        "classify the cases with the plan first: mns.classify(cases, plan)",
    )
    rules = common.as_text(cases.column(rules_column)).to_pylist()
    panel_cases = assign(cases, assignments, role, declared=[g.code for g in plan.need_groups])
    panel = common.as_text(panel_cases.column("need_group")).to_pylist()
    ids = common.as_text(cases.column("case_id")).to_pylist()
    return ids, panel, rules


def _placed(value: str) -> bool:
    from mns.grouping import DISPUTED, NO_CONSENSUS, NOT_AUDITED, NOT_PLACED

    return value not in (NOT_AUDITED, NOT_PLACED, DISPUTED, NO_CONSENSUS)


def rules_vs_panel(
    cases: pa.Table,
    assignments: pa.Table,
    *,
    plan: Plan,
    role: str = "professional",
    confidence: float = 0.95,
) -> pa.Table:
    """How each need group's rule compares with the audit group ``role``'s decisions.

    ``cases`` are classified (:func:`mns.classify`, or carry ``rule_group`` after
    :func:`mns.assign`); ``role`` is a grouping of :func:`mns.assign` (a role,
    ``consensus`` or an audit name). Only the cases the panel placed in a need group are
    compared. One row per need group (the plan's, then codes the panel used that the plan
    does not have), sorted by ``need_group``:

    - ``both`` (int64): cases the panel and the rule both put in the group;
      ``panel_only``: the panel put there, the rule elsewhere (or nowhere); ``rules_only``:
      the rule put there, the panel elsewhere.
    - ``precision`` (float64): ``both / (both + rules_only)``, the share of the rule's cases
      the panel agrees with; ``recall``: ``both / (both + panel_only)``, the share of the
      panel's cases the rule finds; each with its Wilson interval (``_low``, ``_high``);
      null when undefined (no case).

    Rows for the cases outside the comparison, never dropped: ``unassigned`` and
    ``unknown`` (``rules_only``: cases the panel placed that the rules place in no group, or
    cannot place for missing values); ``(not placed)``, ``(disputed)``, ``(no consensus)``
    and ``(not audited)`` (``panel_only``: cases the panel did not place, disagreed on, or
    did not audit). Their other counts are 0 and their rates null. The first two and the
    last two rows are always there.
    """
    from mns.grouping import NOT_AUDITED, NOT_PLACED

    _, panel, rules = _pairs(cases, assignments, plan, role)
    declared = [g.code for g in plan.need_groups]
    both: dict[str, int] = {}
    panel_only: dict[str, int] = {}
    rules_only: dict[str, int] = {}
    for p, r in zip(panel, rules, strict=True):
        if not _placed(p):
            panel_only[p] = panel_only.get(p, 0) + 1
        elif p == r:
            both[p] = both.get(p, 0) + 1
        else:
            panel_only[p] = panel_only.get(p, 0) + 1
            rules_only[r] = rules_only.get(r, 0) + 1
    special = [UNASSIGNED, UNKNOWN, NOT_PLACED, NOT_AUDITED]
    observed = {*both, *panel_only, *rules_only}
    groups = common.dense(observed, [*declared, *special])
    is_group = np.array([g not in special and _placed(g) for g in groups])
    b = np.array([both.get(g, 0) for g in groups], dtype=np.int64)
    po = np.array([panel_only.get(g, 0) for g in groups], dtype=np.int64)
    ro = np.array([rules_only.get(g, 0) for g in groups], dtype=np.int64)
    columns: dict[str, pa.Array] = {
        "need_group": pa.array(groups, pa.string()),
        "both": pa.array(b, pa.int64()),
        "panel_only": pa.array(po, pa.int64()),
        "rules_only": pa.array(ro, pa.int64()),
    }
    for name, extra in (("precision", ro), ("recall", po)):
        n = b + extra
        low, high = stats.wilson_arrays(b, n, confidence)
        with np.errstate(divide="ignore", invalid="ignore"):
            point = np.where(n > 0, b / np.where(n > 0, n, 1), np.nan)
        for suffix, raw in (("", point), ("_low", low), ("_high", high)):
            values = np.where(is_group, raw, np.nan)
            columns[name + suffix] = pa.array(values, pa.float64(), mask=np.isnan(values))
    table = pa.table(columns)
    key = ("need_group",)
    structure = Structure(
        blocks=tuple(Block(count=c, rows=key, label=c, key=key) for c in _COUNTS),
        derived={
            **{f"precision{s}": ("both", "rules_only") for s in ("", "_low", "_high")},
            **{f"recall{s}": ("both", "panel_only") for s in ("", "_low", "_high")},
        },
    )
    return common.finish(table, list(key), structure, not_applicable=_RATES, analysis="rules_panel")


def disagreements(
    cases: pa.Table,
    assignments: pa.Table,
    *,
    plan: Plan,
    role: str = "professional",
) -> pa.Table:
    """The cases the audit group ``role`` placed in a need group where the plan's rules
    disagree: record-level, for the planning group only (it lists case ids: never publish
    it). One row per case, sorted by ``case_id``:

    - ``case_id``, ``panel_group`` (the panel's), ``rule_group`` (the rules': a code,
      ``unassigned`` or ``unknown``) (string).
    - ``deciding`` (string): what decided the rule's group, from :func:`mns.explain`: the
      conditions of the rule's group that held, and those of the panel's group's rule that
      failed (with the values seen), or the missing values the rules depended on.
    """
    from mns.classification import explain_rows
    from mns.grouping import RULE_GROUP

    ids, panel, rules = _pairs(cases, assignments, plan, role)
    rows = [i for i, (p, r) in enumerate(zip(panel, rules, strict=True)) if _placed(p) and p != r]
    skip = {"need_group", RULE_GROUP, "missing_fields"}
    keep = [n for n in cases.column_names if n not in skip and not n.startswith("threshold.")]
    records = cases.select(keep).take(pa.array(rows, pa.int64())).to_pylist() if rows else []
    deciding = [
        _deciding(explanation, panel[i], rules[i])
        for explanation, i in zip(
            explain_rows(records, plan, need_groups=[(panel[i], rules[i]) for i in rows]),
            rows,
            strict=True,
        )
    ]
    table = pa.table(
        {
            "case_id": pa.array([ids[i] for i in rows], pa.string()),
            "panel_group": pa.array([panel[i] for i in rows], pa.string()),
            "rule_group": pa.array([rules[i] for i in rows], pa.string()),
            "deciding": pa.array(deciding, pa.string()),
        }
    )
    return common.finish(table, ["case_id"], None, analysis="disagreements")


def _deciding(explanation: Any, panel: str, rule: str) -> str:
    """The conditions that put the case in the rule's group and kept it out of the panel's."""
    by_code = {o.code: o for o in explanation.need_groups}
    parts = []
    if rule == UNKNOWN:
        parts.append("unknown: missing " + ", ".join(explanation.missing_fields))
    elif rule in by_code and by_code[rule].condition is not None:
        held = "; ".join(_leaves(by_code[rule].condition, True))
        parts.append(f"{rule} holds: {held}")
    mine = by_code.get(panel)
    if mine is None:
        parts.append(f"{panel}: not a need group of the plan")
    elif mine.condition is None:
        parts.append(f"{panel}: no rule in the plan")
    elif mine.outcome is False:
        parts.append(f"{panel} fails: " + "; ".join(_leaves(mine.condition, False)))
    elif mine.outcome is True:
        parts.append(f"{panel} holds too, but {rule} comes first in the plan")
    return " | ".join(parts)


def _leaves(cond: Condition, target: bool) -> Iterator[str]:
    """The innermost conditions whose outcome is ``target``, with the values seen."""
    inner = [p for p in cond.parts if p.outcome is target]
    if inner:
        for part in inner:
            yield from _leaves(part, target)
        return
    seen = ", ".join(f"{name} = {_show(value)}" for name, value in cond.values)
    yield f"{cond.text} ({seen})" if seen else cond.text


def _show(value: Any) -> str:
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return repr(value) if isinstance(value, str) else str(value)


#: What this module publishes (see :mod:`mns.disclosure.publication`).
PUBLICATIONS = (Publication(name="rules_panel", title="Each need group's rule beside the panel"),)
