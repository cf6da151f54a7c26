"""What works with whom: within each need group, the outcomes of the children who received
a service beside those of the children who did not (an observational association)."""

from __future__ import annotations

from mns.report import charts
from mns.report.html import Column
from mns.report.model import ReportInput
from mns.report.sections._base import (
    Section,
    View,
    details,
    figure,
    group_label,
    group_order,
    grouping,
    salt,
    section,
    service_label,
    service_order,
    short,
)
from mns.report.sections.targets import outcome_label

SHOWS = frozenset({"what_works"})

#: Said wherever the comparison is shown.
CAVEAT = (
    "This is an observational association, not the effect of the service: children were not "
    "allocated to services at random, so those who received a service may differ from those "
    "who did not in ways that matter for the outcome (how serious their needs were, for a "
    "start). Read it as a question for the planning group, not an answer; testing whether a "
    "service works needs an evaluation designed for it."
)


def build(ri: ReportInput) -> Section | None:
    table = ri.table("what_works")
    if table is None:
        return None
    heading = "What works with whom"
    intro = (
        "For each need group, outcome and service the plan offers the group: the share of "
        "the children (with the outcome recorded) who achieved it among those who received "
        "the service and among those who did not, and the difference with its 95% interval "
        "(Newcombe's interval for a difference of two proportions).",
        CAVEAT,
    )
    if table.num_rows == 0:
        return section("what-works", heading, intro, missing="No need group has outcomes recorded.")
    arms = table.column("arm").to_pylist()
    groups = table.column("need_group").to_pylist()
    outcomes = table.column("outcome").to_pylist()
    services = table.column("service").to_pylist()
    rows = sorted(
        (r for r in range(table.num_rows) if arms[r] == "received"),
        key=lambda r: (
            group_order(ri)(groups[r]),
            str(outcomes[r]),
            service_order(ri)(services[r]),
        ),
    )
    view = View(ri).add(
        "what_works",
        rows,
        [
            "need_group",
            "outcome",
            "service",
            "recorded",
            "achieved",
            "achieved_share",
            "achieved_low",
            "achieved_high",
            "other_recorded",
            "other_achieved",
            "other_share",
            "difference",
            "difference_low",
            "difference_high",
        ],
    )
    view.text("group_label", [group_label(ri, g) for g in view.data["need_group"]])
    view.text("outcome_label", [short(outcome_label(ri, o), 50) for o in view.data["outcome"]])
    view.text("service_label", [service_label(ri, s) for s in view.data["service"]])
    differences = view.values("difference")
    shown = [i for i, d in enumerate(differences) if d is not None]
    parts = []
    if shown:
        chart = charts.bars_with_intervals(
            [
                short(
                    f"{view.data['need_group'][i]} {view.data['outcome'][i]}: "
                    f"{view.data['service'][i]}",
                    40,
                )
                for i in shown
            ],
            [differences[i] for i in shown],
            [view.values("difference_low")[i] for i in shown],
            [view.values("difference_high")[i] for i in shown],
            xlabel="Difference in the share achieved (received minus not received)",
            title="Outcomes of the children who received each service, minus those who did not",
            salt=salt(ri, "what-works"),
            percent=True,
        )
        parts.append(
            figure(
                chart,
                "Only the comparisons whose numbers can be published. An association, not "
                "an effect." + grouping(ri),
            )
        )
    parts.append(
        details(
            "Every comparison, with its numbers",
            view.render(
                [
                    Column(name="group_label", label="Need group"),
                    Column(name="outcome_label", label="Outcome"),
                    Column(name="service_label", label="Service"),
                    Column(name="recorded", label="Received it: children", format="count"),
                    Column(
                        name="achieved_share",
                        label="Received it: share achieved",
                        format="percent",
                        low="achieved_low",
                        high="achieved_high",
                    ),
                    Column(name="other_recorded", label="Did not: children", format="count"),
                    Column(name="other_share", label="Did not: share achieved", format="percent"),
                    Column(
                        name="difference",
                        label="Difference (95% interval)",
                        format="percent",
                        low="difference_low",
                        high="difference_high",
                        title="An observational association, not the effect of the service",
                    ),
                ],
                id="table-what-works",
                caption="What works with whom: an association, not an effect",
            ),
        )
    )
    return section("what-works", heading, intro, *parts)
