"""At a glance: the key figures of the audit."""

from __future__ import annotations

from mns.report.html import format_value
from mns.report.model import ReportInput
from mns.report.sections._base import Section, View, fragment, rows_where, section, total

SHOWS = frozenset({"profile", "match", "agreement", "capacity"})


def build(ri: ReportInput) -> Section:
    figures: list[tuple[str, str]] = []
    profile = ri.table("profile")
    if profile is not None:
        rows = rows_where(profile, variable="cases")
        if rows:
            view = View(ri).add("profile", rows, ["base", "need_group", "share"])
            base = view.values("base")[0]
            if base is not None:
                figures.append((format_value(base, "count"), "cases audited"))
            codes = view.data["need_group"]
            shares = dict(zip(codes, view.values("share"), strict=True))
            figures.extend(_ungrouped(shares))
    figures.append((str(len(ri.plan.need_groups)), "need groups in the plan"))
    figures.append((str(len(ri.plan.services)), "services in the plan"))
    match = ri.table("match")
    if match is not None:
        rows = rows_where(match, planned=True)
        unmet = total(View(ri).add("match", rows, ["unmet"]).values("unmet"))
        if unmet is not None:
            figures.append(
                (format_value(unmet, "count"), "times a case missed a service planned for it")
            )
    kappa = _kappa(ri)
    if kappa is not None:
        figures.append(
            (
                format_value(kappa, "ratio"),
                "agreement of the professional and shadow audits (kappa)",
            )
        )
    capacity = ri.table("capacity")
    if capacity is not None:
        short = [
            s
            for s, v in zip(
                capacity.column("service").to_pylist(),
                View(ri)
                .add("capacity", range(capacity.num_rows), ["shortfall"])
                .values("shortfall"),
                strict=True,
            )
            if v is not None and v > 0
        ]
        figures.append((str(len(short)), "services with more demand than places"))
    grouped = (
        f"The tables use the need groups given by {ri.groups}." if ri.groups is not None else ""
    )
    return section(
        "summary",
        "At a glance",
        (
            f"This report sets the needs of the children in the audit against the plan "
            f"{ri.plan.name!r}: which need groups the children fall into, what each group "
            "needs, what they actually received, and whether the services planned can meet "
            "the demand.",
            grouped,
            "Numbers come with 95% intervals: the range the true value is likely to lie in, "
            "given that the audit looked at a sample. "
            + (
                "This copy shows every count, however small (see 'Disclosure control' near "
                "the end)."
                if ri.audience == "internal" or ri.min_count is None
                else "Small counts are hidden and shown as c (see 'Disclosure control' near "
                "the end)."
            ),
        ),
        fragment("key_figures.html", figures=figures),
    )


#: The cards for cases outside every need group, and what each kind means.
_UNGROUPED = (
    ("unassigned", "of cases fit no need group"),
    ("unknown", "of cases could not be grouped: the fields their group needs are missing"),
)


def _ungrouped(shares: dict[str, float | None]) -> list[tuple[str, str]]:
    """Cards for the cases in no need group: a kind with no cases is left out when another
    kind has some (no "0.0% fit no need group" beside "100.0% could not be grouped")."""
    present = [(shares[code], words) for code, words in _UNGROUPED if code in shares]
    some = any(share is None or share > 0 for share, _ in present)
    cards = []
    for share, words in present:
        if share is None:
            cards.append(("c", words))
        elif share > 0 or not some:
            cards.append((format_value(share, "percent"), words))
    return cards


def _kappa(ri: ReportInput) -> float | None:
    table = ri.table("agreement")
    if table is None:
        return None
    rows = rows_where(table, statistic="cohen_kappa", side_a="professional", side_b="shadow")
    if not rows:
        return None
    value = View(ri).add("agreement", rows[:1], ["estimate"]).values("estimate")[0]
    return None if value is None else float(value)
