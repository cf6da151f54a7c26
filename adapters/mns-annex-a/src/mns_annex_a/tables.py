"""From Annex A lists to mns's ``cases`` and ``services``.

Each row of the lists about children at a stage is a case of that stage (its cohort):
early help (List 2, from the assessment start), referrals (List 3, the referral date and
source), children in need (List 6, the CIN start and primary need), child protection
(List 7, the plan's start and latest category of abuse), looked after (List 8, the date
started, category of need, legal status and placement) and care leavers (List 9). The case
id is ``L<list>/<child>/<date>``.

Services: the early help assessment (List 2), the child protection plan (List 7) and the
most recent placement (List 8), on their own case. Contacts (List 1), assessments (List 4),
section 47 enquiries (List 5), adoption (List 10) and adopters (List 11) name no case of
their own: they are in ``Records.extra`` only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from mns.lang import language
from mns.records import schema

__all__ = ["build", "cases_schema"]

AGENCY = "social_care"
SOURCE_SYSTEM = "annex-a"
#: list name -> (list number, cohort, date column, {indicator column: list column})
_CASES: dict[str, tuple[int, str, str | None, dict[str, str]]] = {
    "early_help": (2, "early_help", "start_date", {}),
    "referrals": (3, "referral", "referral_date", {"cin.referral_source": "referral_source"}),
    "children_in_need": (
        6,
        "child_in_need",
        "cin_start",
        {"cin.primary_need": "primary_need", "cin.reason_for_closure": "closure_reason"},
    ),
    "child_protection": (
        7,
        "child_protection",
        "cpp_start",
        {"cin.category_of_abuse": "latest_category"},
    ),
    "looked_after": (
        8,
        "looked_after",
        "start_date",
        {
            "ssda903.category_of_need": "category_of_need",
            "ssda903.legal_status": "legal_status",
            "ssda903.placement_type": "placement_type",
            "ssda903.placement_provider": "placement_provider",
            "ssda903.reason_episode_ceased": "ceased_reason",
            "ssda903.uasc": "uasc",
        },
    ),
    "care_leavers": (9, "care_leaver", None, {}),
}
#: list name -> (service, start, end, detail, provider)
_SERVICES = {
    "early_help": ("early_help_assessment", "start_date", "completion_date", None, "organisation"),
    "child_protection": ("cp_plan", "cpp_start", "cpp_end", "initial_category", None),
    "looked_after": (
        "placement",
        "placement_start",
        "ceased_date",
        "placement_type",
        "placement_provider",
    ),
}


def cases_schema() -> pa.Schema:
    """The ``cases`` schema: the fixed columns, and the ``cin`` and ``ssda903`` indicators."""
    return schema.cases_schema([language("cin"), language("ssda903")])


def _age(born: dt.date | None, on: dt.date | None) -> int | None:
    if born is None or on is None:
        return None
    return max(on.year - born.year - ((on.month, on.day) < (born.month, born.day)), 0)


def _case_id(number: int, row: Mapping[str, Any], date: dt.date | None) -> str:
    return f"L{number}/{row['child_id']}/{date.isoformat() if date else 'row' + str(row['row'])}"


def build(lists: Mapping[str, pa.Table]) -> tuple[pa.Table, pa.Table]:
    """``cases`` and ``services`` from the lists, sorted by key."""
    cases: list[dict[str, Any]] = []
    services: list[dict[str, Any]] = []
    for name, (number, cohort, date_column, indicators) in _CASES.items():
        for row in lists[name].to_pylist():
            date = row[date_column] if date_column else None
            case_id = _case_id(number, row, date)
            born = row.get("birth_date")
            case = {
                "case_id": case_id,
                "child_id": row["child_id"],
                "reference_date": date,
                "birth_month": born.replace(day=1) if born else None,
                "age": _age(born, date),
                "sex": row.get("gender"),
                "ethnicity": row.get("ethnicity"),
                "disability": row.get("disability"),
                "cohort": cohort,
                "agency": AGENCY,
                "source_system": SOURCE_SYSTEM,
                **{indicator: row.get(column) for indicator, column in indicators.items()},
            }
            cases.append(case)
            service = _SERVICES.get(name)
            if service is not None and row.get(service[1]) is not None:
                kind, start, end, detail, provider = service
                services.append(
                    {
                        "case_id": case_id,
                        "child_id": row["child_id"],
                        "service": kind,
                        "detail": row.get(detail) if detail else None,
                        "start_date": row[start],
                        "end_date": row.get(end),
                        "agency": AGENCY,
                        "provider": row.get(provider) if provider else None,
                    }
                )
    case_table = _table(cases, cases_schema())
    service_table = _table(services, schema.SERVICES)
    case_table = case_table.take(pc.sort_indices(case_table, sort_keys=[("case_id", "ascending")]))
    keys = pa.table({"c": service_table.column("case_id"), "s": service_table.column("start_date")})
    order = pc.sort_indices(keys, sort_keys=[("c", "ascending"), ("s", "ascending")])
    return case_table, service_table.take(order)


def _table(rows: list[dict[str, Any]], target: pa.Schema) -> pa.Table:
    arrays = []
    for field in target:
        column = [r.get(field.name) for r in rows]
        if pa.types.is_dictionary(field.type):
            arrays.append(pa.array(column, pa.string()).cast(field.type))
        else:
            arrays.append(pa.array(column, field.type))
    return pa.Table.from_arrays(arrays, schema=target)
