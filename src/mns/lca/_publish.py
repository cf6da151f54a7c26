"""What "what the data suggest" publishes: the latent-class tables of an audit and how their
counts add up (see :mod:`mns.disclosure.publication`)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from mns.disclosure import SAMPLE_TOTAL, Block, Margin, Publication, Structure

_CLASS = "lca.class"  # shared identity: a class's size, in every LCA table

PUBLICATIONS = (
    Publication(
        name="lca_models",
        title="Latent class models compared",
        structure=Structure(blocks=(Block(count="smallest_class", rows=("k",)),)),
    ),
    Publication(
        name="lca_classes",
        title="The classes the data suggest",
        structure=Structure(
            blocks=(
                Block(
                    count="cases",
                    rows=("class",),
                    label=_CLASS,
                    key=("class",),
                    total=Margin(label=SAMPLE_TOTAL),
                ),
                # the draft rule's counts, which its precision and recall give away
                Block(count="rule_agreeing", rows=("class",), base="rule_cases"),
            ),
            derived={
                "share": ("cases",),
                "precision": ("rule_agreeing", "rule_cases"),
                "recall": ("rule_agreeing", "cases"),
            },
        ),
    ),
    Publication(
        name="lca_indicators",
        title="The indicators that distinguish each class",
        structure=Structure(
            blocks=(Block(count="cases", rows=("class", "event")),),
            derived={"prevalence": ("cases",), "lift": ("cases",)},
        ),
        unshown="the report shows each class's distinguishing indicators from lca_classes",
    ),
    Publication(
        name="lca_need_groups",
        title="The classes beside the panel's need groups",
        structure=Structure(
            blocks=(Block(count="agreeing", rows=("class", "need_group")),),
            derived={"share_of_class": ("agreeing",), "share_of_group": ("agreeing",)},
        ),
    ),
)


def published_tables(result: Any, comparison: Any | None) -> dict[str, pa.Table]:
    """The published LCA tables of a :class:`~mns.lca.Suggestion` (and, when the panel
    grouped the cases, its :class:`~mns.lca.ClassComparison`)."""
    top = result.indicators.filter(pc.less_equal(result.indicators["rank"], 5))
    rules = result.rules.select(["class", "selected", "true_positives"]).rename_columns(
        ["class", "rule_cases", "rule_agreeing"]
    )
    classes = result.classes.select(
        ["class", "cases", "share", "distinguishing", "rule", "precision", "recall"]
    ).join(rules, "class", join_type="left outer")
    out = {
        "lca_models": result.models.select(
            ["k", "bic", "sabic", "entropy", "smallest_class", "recommended", "problems"]
        ),
        "lca_classes": classes.sort_by("class"),
        "lca_indicators": top.select(
            ["class", "rank", "event", "label", "cases", "prevalence", "lift"]
        ),
    }
    if comparison is not None:
        out["lca_need_groups"] = comparison.matching.select(
            ["class", "need_group", "agreeing", "share_of_class", "share_of_group"]
        )
    return out
