"""Draft rules as a table, their precision and recall measured by the rule engine itself.

The draft search (:func:`mns.lca._describe.draft_rule`) scores candidate rules on arrays; the
rule it settles on is then parsed and evaluated as text by :mod:`mns.rules`, exactly as a plan's
rule would be, and the reported precision and recall are the engine's. Where the engine cannot
take the rule (a column of a language mns does not know), the search's own counts are kept and
``evaluated_by`` says so.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from mns.errors import MnsError
from mns.lca._describe import Draft

__all__ = ["ENGINE", "SEARCH", "evaluate", "rules_table"]

ENGINE = "mns.rules"
SEARCH = "draft search"


def evaluate(rule: str, table: pa.Table) -> npt.NDArray[np.bool_]:
    """Where ``rule`` holds on ``table`` (unknown counts as not holding), by the rule engine.

    The rule's names are qualified (``cin.4B``), so it is compiled in the language of its first
    column. Raises :class:`~mns.errors.MnsError` when the engine cannot take it.
    """
    import pyarrow.compute as pc

    from mns.rules import compile_rule, ir
    from mns.rules.arrow import Batch, broadcast, evaluate as evaluate_arrow
    from mns.rules.bind import bind

    first = next((w for w in rule.replace("(", " ").split() if "." in w), None)
    if first is None:
        raise MnsError(f"draft rule {rule!r} names no indicator column")
    expr = compile_rule(rule, first.split(".", 1)[0])
    binding = bind([("draft rule", col) for col in ir.columns(expr)], table.column_names)
    parts = []
    for batch in table.to_batches():
        value = broadcast(evaluate_arrow(expr, Batch(batch, binding)), batch.num_rows)
        parts.append(
            np.asarray(pc.fill_null(value, False).to_numpy(zero_copy_only=False), dtype=bool)
        )
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def rules_table(
    drafts: Sequence[Draft], fitted: pa.Table, modal: npt.NDArray[np.int64]
) -> pa.Table:
    """One row per class: the draft rule and its precision and recall against the class.

    ``fitted`` holds the fitted cases, in the order of ``modal`` (their class, 0-based).
    """
    rows = []
    for c, draft in enumerate(drafts):
        members = modal == c
        selected, tp, by = draft.selected, draft.true_positives, SEARCH
        if draft.rule:
            try:
                holds = evaluate(draft.rule, fitted)
            except (MnsError, ImportError):
                pass  # keep the search's counts; evaluated_by says so
            else:
                selected, tp, by = int(holds.sum()), int((holds & members).sum()), ENGINE
        size = int(members.sum())
        rows.append(
            {
                "class": c + 1,
                "rule": draft.rule or None,
                "terms": draft.terms,
                "selected": selected,
                "members": size,
                "true_positives": tp,
                "precision": tp / selected if selected else None,
                "recall": tp / size if size else None,
                "f1": 2 * tp / (selected + size) if selected + size else None,
                "evaluated_by": by,
            }
        )
    schema = pa.schema(
        [
            ("class", pa.int32()),
            ("rule", pa.string()),
            ("terms", pa.int32()),
            ("selected", pa.int64()),
            ("members", pa.int64()),
            ("true_positives", pa.int64()),
            ("precision", pa.float64()),
            ("recall", pa.float64()),
            ("f1", pa.float64()),
            ("evaluated_by", pa.string()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)
