"""Who took part: the audit's groups, their members by kind, the meetings they held and
whether feedback was given to the service users who took part (``participation.toml``):
the account of consultation a Children's Services Plan gives."""

from __future__ import annotations

from mns.participation import AuditGroup, Participation
from mns.report.html import Column
from mns.report.model import ReportInput
from mns.report.sections._base import Section, View, details, section

SHOWS: frozenset[str] = frozenset()  # not a published table: the audit's own record

#: What each role of a group means, in the report's words.
ROLE_LABELS = {
    "professional": "Professional audit group",
    "shadow": "Shadow audit by service users",
    "mixed": "Mixed audit group (professionals and service users)",
    "planning": "Planning group",
    "steering": "Steering group",
}


def _professionals(group: AuditGroup) -> str:
    if not group.professionals:
        return "none"
    return "; ".join(f"{agency} {n}" for agency, n in group.professionals.items())


def _feedback(p: Participation) -> str:
    if p.feedback_given is None:
        said = "Whether feedback was given to the service users who took part was not recorded."
    elif p.feedback_given:
        said = "Feedback was given to the service users who took part."
    else:
        said = "No feedback was given to the service users who took part."
    return f"{said} {p.feedback}".strip()


def build(ri: ReportInput) -> Section | None:
    p = ri.participation
    if p is None:
        return None
    heading = "Who took part"
    intro = [
        "The groups that placed the audited cases in need groups and planned from the "
        "results: who was in each (professionals by agency; service users now served, served "
        "in the past or never served, young people and adults) and how many times each met. "
        "A Children's Services Plan gives this account of how children, young people and "
        "their families were consulted.",
        _feedback(p),
        "These numbers describe the audit's own groups as the planning group recorded them "
        "(participation.toml); they are not drawn from children's records, so disclosure "
        "control does not apply to them. Check before publishing that no participant can be "
        "identified from them.",
    ]
    if p.note:
        intro.append(p.note)
    view = View(ri)
    users = [g.service_users for g in p.groups]
    view.text("name", [g.name for g in p.groups])
    view.text("role", [ROLE_LABELS[g.role] for g in p.groups])
    view.text("meetings", [g.meetings for g in p.groups])
    view.text("professionals", [sum(g.professionals.values()) for g in p.groups])
    view.text("current", [u.current.total for u in users])
    view.text("past", [u.past.total for u in users])
    view.text("never", [u.never_served.total for u in users])
    view.text(
        "young",
        [u.current.young_people + u.past.young_people + u.never_served.young_people for u in users],
    )
    view.text("adults", [u.current.adults + u.past.adults + u.never_served.adults for u in users])
    view.text("members", [g.members for g in p.groups])
    table = view.render(
        [
            Column(name="name", label="Group"),
            Column(name="role", label="Role"),
            Column(name="meetings", label="Meetings", format="count"),
            Column(name="professionals", label="Professionals", format="count"),
            Column(name="current", label="Service users: now served", format="count"),
            Column(name="past", label="Served in the past", format="count"),
            Column(name="never", label="Never served", format="count"),
            Column(name="young", label="Of the service users: young people", format="count"),
            Column(name="adults", label="Adults", format="count"),
            Column(name="members", label="Members", format="count"),
        ],
        id="table-participation",
        caption="The audit's groups and their members",
    )
    agencies = View(ri)
    agencies.text("name", [g.name for g in p.groups])
    agencies.text("agencies", [_professionals(g) for g in p.groups])
    agencies.text("note", [g.note for g in p.groups])
    by_agency = agencies.render(
        [
            Column(name="name", label="Group"),
            Column(name="agencies", label="Professionals by agency"),
            Column(name="note", label="Note"),
        ],
        id="table-participation-agencies",
        caption="Professionals of each group by agency",
    )
    return section(
        "participation",
        heading,
        intro,
        table,
        details("Professionals by agency, and notes on each group", by_agency),
    )
