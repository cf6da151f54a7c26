"""The report section "What the data suggests": what to show, as text and Arrow tables.

The HTML (or any other) report renders it; nothing here formats for a medium. Counts in
these tables are of cases: pass them through disclosure control (``mns.disclose``) before
publishing, as for any other table of the report.
"""

from __future__ import annotations

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from mns.lca._compare import ClassComparison
from mns.lca._suggest import Suggestion

__all__ = ["TITLE", "Section", "what_the_data_suggests"]

TITLE = "What the data suggests"
TOP_INDICATORS = 5


@attrs.frozen(kw_only=True, eq=False)
class Section:
    """A report section: a title, paragraphs of plain text, and captioned tables in order."""

    title: str
    text: tuple[str, ...]
    tables: tuple[tuple[str, pa.Table], ...]

    def table(self, caption: str) -> pa.Table:
        """The table with this caption."""
        for name, table in self.tables:
            if name == caption:
                return table
        raise KeyError(f"no table {caption!r} in section {self.title!r} (it has: "
                       f"{', '.join(n for n, _ in self.tables)})")


def _wide_confusion(comparison: ClassComparison) -> pa.Table:
    rows = comparison.confusion.to_pylist()
    groups = sorted({r["need_group"] for r in rows})
    classes = sorted({r["class"] for r in rows})
    cells = {(r["class"], r["need_group"]): r["cases"] for r in rows}
    columns: dict[str, pa.Array] = {"class": pa.array(classes, pa.int32())}
    for g in groups:
        columns[g] = pa.array([cells.get((c, g), 0) for c in classes], pa.int64())
    return pa.table(columns)


def what_the_data_suggests(result: Suggestion, comparison: ClassComparison | None = None) -> Section:
    """What to show of ``result`` (and of its comparison with the panel's need groups).

    Tables, in order: "Model choice", "Classes", "Draft rules", "Distinguishing indicators"
    (the top five per class), "Who is in each class", then with ``comparison`` "Classes and
    need groups" and "Classes by need group" (the confusion matrix, one column per need
    group), and after :func:`~mns.lca.align` "Alignment with the baseline".
    """
    n_cols = len(result.columns)
    text = [
        f"A latent class analysis of {result.cases:,} cases over {n_cols} indicators suggests "
        f"{result.recommended_k} classes. {result.reason}",
    ]
    if result.k != result.recommended_k:
        text.append(f"The classes below are those of the {result.k}-class model, chosen instead.")
    if result.dropped:
        text.append(
            "Left out: " + "; ".join(f"{c} ({why})" for c, why in result.dropped) + "."
        )
    text.append(
        "Classes are a statistical starting point for the panel, not need groups: they group "
        "cases whose recorded indicators look alike, assuming the indicators are independent "
        "within a class. Draft rules approximate each class; their precision and recall say "
        "how closely. Edit them into the plan only where the panel agrees."
    )
    models = result.models.select(
        ["k", "log_likelihood", "parameters", "bic", "sabic", "caic", "entropy",
         "smallest_class", "starts_at_best", "problems", "recommended"]
    )
    classes = result.classes.select(
        ["class", "cases", "share", "mean_posterior", "median_age", "distinguishing"]
    )
    rules = result.rules.select(["class", "rule", "precision", "recall", "selected", "members"])
    top = result.indicators.filter(pc.less_equal(result.indicators["rank"], TOP_INDICATORS)).select(
        ["class", "rank", "event", "label", "prevalence", "overall", "lift"]
    )
    demographics = result.demographics.select(["class", "characteristic", "value", "cases", "share", "overall"])
    tables: list[tuple[str, pa.Table]] = [
        ("Model choice", models),
        ("Classes", classes),
        ("Draft rules", rules),
        ("Distinguishing indicators", top),
        ("Who is in each class", demographics),
    ]
    if comparison is not None:
        kappa = "not defined" if comparison.kappa is None else f"{comparison.kappa:.2f}"
        agree = "" if comparison.agreement is None else f"; {comparison.agreement:.0%} of them agree"
        text.append(
            f"Against the panel's need groups, over the {comparison.cases:,} cases that have both"
            f"{agree} after matching each class to its closest need group (kappa {kappa})."
        )
        tables.append(("Classes and need groups", comparison.matching))
        tables.append(("Classes by need group", _wide_confusion(comparison)))
    if result.alignment is not None:
        tables.append(("Alignment with the baseline", result.alignment))
    return Section(title=TITLE, text=tuple(text), tables=tuple(tables))
