"""What the data suggest: the latent class analysis, when the audit ran it."""

from __future__ import annotations

from mns.report.html import Column
from mns.report.model import ReportInput
from mns.report.sections._base import (
    Section,
    View,
    details,
    group_label,
    section,
)

SHOWS = frozenset({"lca_models", "lca_classes", "lca_need_groups"})


def build(ri: ReportInput) -> Section | None:
    """What the data suggest (latent class analysis), when the audit ran it."""
    classes = ri.table("lca_classes")
    if classes is None:
        return None
    heading = "What the data suggest"
    intro = (
        "A latent class analysis groups the audited cases by how alike their recorded "
        "indicators are, with no reference to the plan. Its classes are a statistical "
        "starting point for the planning group, not need groups: where a class matches a "
        "need group, the grouping is supported by the data; where it cuts across groups, the "
        "group may want another look. Draft rules approximate each class (precision: the "
        "share of cases meeting the rule that are in the class; recall: the share of the "
        "class meeting the rule).",
    )
    view = View(ri).add(
        "lca_classes",
        range(classes.num_rows),
        ["class", "cases", "share", "distinguishing", "rule", "precision", "recall"],
    )
    body = view.render(
        [
            Column(name="class", label="Class"),
            Column(name="cases", label="Cases", format="count"),
            Column(name="share", label="Share", format="percent"),
            Column(name="distinguishing", label="What distinguishes it"),
            Column(name="rule", label="Draft rule", format="code"),
            Column(name="precision", label="Precision", format="ratio"),
            Column(name="recall", label="Recall", format="ratio"),
        ],
        id="table-lca-classes",
        caption="The classes the data suggest",
    )
    matching_ = ri.table("lca_need_groups")
    if matching_ is not None and matching_.num_rows:
        mview = View(ri).add(
            "lca_need_groups",
            range(matching_.num_rows),
            ["class", "need_group", "agreeing", "share_of_class", "share_of_group"],
        )
        mview.text("group_label", [group_label(ri, g) for g in mview.data["need_group"]])
        body += mview.render(
            [
                Column(name="class", label="Class"),
                Column(name="group_label", label="Closest need group"),
                Column(name="agreeing", label="Cases in both", format="count"),
                Column(name="share_of_class", label="Share of the class", format="percent"),
                Column(name="share_of_group", label="Share of the group", format="percent"),
            ],
            id="table-lca-need-groups",
            caption="Classes and the professional audit's need groups",
        )
    models = ri.table("lca_models")
    if models is not None and models.num_rows:
        body += details(
            "How the number of classes was chosen",
            View(ri)
            .add(
                "lca_models",
                range(models.num_rows),
                ["k", "bic", "sabic", "entropy", "smallest_class", "recommended", "problems"],
            )
            .render(
                [
                    Column(name="k", label="Classes"),
                    Column(name="bic", label="BIC", format="number"),
                    Column(name="sabic", label="SABIC", format="number"),
                    Column(name="entropy", label="Entropy", format="ratio"),
                    Column(name="smallest_class", label="Smallest class", format="count"),
                    Column(name="recommended", label="Recommended"),
                    Column(name="problems", label="Problems"),
                ],
                id="table-lca-models",
                caption="Models fitted (lower BIC is better)",
            ),
        )
    return section("suggested", heading, intro, body)
