"""The report section "What the data suggests": what to show, as text and Arrow tables.

The HTML (or any other) report renders it; nothing here formats for a medium. Counts in
these tables are of cases: pass them through disclosure control (``mns.disclose``) before
publishing, as for any other table of the report.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from mns.lca._compare import ClassComparison
from mns.lca._suggest import Suggestion

__all__ = ["ID", "TITLE", "ReportSection", "what_the_data_suggests"]

ID = "what-the-data-suggests"
TITLE = "What the data suggests"
TOP_INDICATORS = 5


@attrs.frozen(kw_only=True, eq=False)
class ReportSection:
    """A report section: an id and title, paragraphs of plain text, and named tables.

    ``tables`` maps stable names (``lca_models``, ``lca_classes``...) to Arrow tables, in the
    order to show them; ``captions`` gives each a heading; ``counts`` names each table's
    columns that count cases (for disclosure control, e.g. ``mns.disclose(table,
    count=counts[name])``).
    """

    id: str
    title: str
    text: tuple[str, ...]
    tables: Mapping[str, pa.Table]
    captions: Mapping[str, str]
    counts: Mapping[str, tuple[str, ...]]

    def table(self, name: str) -> pa.Table:
        """The table ``name``."""
        found = self.tables.get(name)
        if found is None:
            raise KeyError(
                f"no table {name!r} in section {self.title!r} (it has: {', '.join(self.tables)})"
            )
        return found


def _wide_confusion(comparison: ClassComparison) -> pa.Table:
    rows = comparison.confusion.to_pylist()
    groups = sorted({r["need_group"] for r in rows})
    classes = sorted({r["class"] for r in rows})
    cells = {(r["class"], r["need_group"]): r["cases"] for r in rows}
    columns: dict[str, pa.Array] = {"class": pa.array(classes, pa.int32())}
    for g in groups:
        columns[g] = pa.array([cells.get((c, g), 0) for c in classes], pa.int64())
    return pa.table(columns)


def what_the_data_suggests(
    result: Suggestion, comparison: ClassComparison | None = None
) -> ReportSection:
    """What to show of ``result`` (and of its comparison with the panel's need groups).

    Tables, in order: ``lca_models`` (model choice), ``lca_classes``, ``lca_rules`` (draft
    rules), ``lca_indicators`` (the five most distinguishing per class),
    ``lca_demographics``; with ``comparison`` also ``lca_matching`` (classes and need groups)
    and ``lca_confusion`` (classes by need group, one column per need group); after
    :func:`~mns.lca.align`, ``lca_alignment``. Text and tables only: no HTML.
    """
    n_cols = len(result.columns)
    text = [
        f"A latent class analysis of {result.cases:,} cases over {n_cols} indicators suggests "
        f"{result.recommended_k} classes. {result.reason}",
    ]
    if result.k != result.recommended_k:
        text.append(f"The classes below are those of the {result.k}-class model, chosen instead.")
    if result.dropped:
        text.append("Left out: " + "; ".join(f"{c} ({why})" for c, why in result.dropped) + ".")
    text.append(
        "Classes are a statistical starting point for the panel, not need groups: they group "
        "cases whose recorded indicators look alike, assuming the indicators are independent "
        "within a class. Draft rules approximate each class; their precision and recall say "
        "how closely. Edit them into the plan only where the panel agrees."
    )
    models = result.models.select(
        [
            "k",
            "log_likelihood",
            "parameters",
            "bic",
            "sabic",
            "caic",
            "entropy",
            "smallest_class",
            "starts_at_best",
            "problems",
            "recommended",
        ]
    )
    classes = result.classes.select(
        ["class", "cases", "share", "mean_posterior", "median_age", "distinguishing"]
    )
    rules = result.rules.select(["class", "rule", "precision", "recall", "selected", "members"])
    top = result.indicators.filter(pc.less_equal(result.indicators["rank"], TOP_INDICATORS)).select(
        ["class", "rank", "event", "label", "cases", "prevalence", "overall", "lift"]
    )
    demographics = result.demographics.select(
        ["class", "characteristic", "value", "cases", "share", "overall"]
    )
    tables: dict[str, tuple[str, pa.Table, tuple[str, ...]]] = {
        "lca_models": ("Model choice", models, ("smallest_class",)),
        "lca_classes": ("Classes", classes, ("cases",)),
        "lca_rules": ("Draft rules", rules, ("selected", "members")),
        "lca_indicators": ("Distinguishing indicators", top, ("cases",)),
        "lca_demographics": ("Who is in each class", demographics, ("cases",)),
    }
    if comparison is not None:
        kappa = "not defined" if comparison.kappa is None else f"{comparison.kappa:.2f}"
        agree = (
            "" if comparison.agreement is None else f"; {comparison.agreement:.0%} of them agree"
        )
        text.append(
            f"Against the panel's need groups, over the {comparison.cases:,} cases that have both"
            f"{agree} after matching each class to its closest need group (kappa {kappa})."
        )
        tables["lca_matching"] = (
            "Classes and need groups",
            comparison.matching,
            ("agreeing", "class_cases", "group_cases"),
        )
        wide = _wide_confusion(comparison)
        tables["lca_confusion"] = ("Classes by need group", wide, tuple(wide.column_names[1:]))
    if result.alignment is not None:
        tables["lca_alignment"] = ("Alignment with the baseline", result.alignment, ())
    return ReportSection(
        id=ID,
        title=TITLE,
        text=tuple(text),
        tables={name: t for name, (_, t, _) in tables.items()},
        captions={name: c for name, (c, _, _) in tables.items()},
        counts={name: n for name, (_, _, n) in tables.items()},
    )
