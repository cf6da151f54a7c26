"""A small audit's published tables made by hand, to test the report on its own."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from mns.plan import plan_from_dict
from mns.plan.model import Plan
from mns.records.bundle import Provenance, SourceFile
from mns.report import ReportInput

PLAN = {
    "plan": {"name": "Handmade plan", "language": "cin"},
    "cluster": [
        {"code": "A", "name": "Family relationships"},
        {"code": "B", "name": "Parenting"},
    ],
    "need_group": [
        {
            "code": "A1",
            "name": "Domestic abuse",
            "cluster": "A",
            "rule": "cin.3A or cin.3B",
            "description": "Children living with domestic abuse.",
        },
        {
            "code": "A2",
            "name": "Family conflict",
            "cluster": "A",
            "rule": "cin.21",
            "description": "Conflict & <breakdown> in the family.",
        },
        {"code": "B1", "name": "Parental mental health", "cluster": "B", "rule": "cin.4B"},
    ],
    "service": [
        {"code": "S1", "name": "Domestic abuse programme", "need_groups": ["A1"], "capacity": 60},
        {"code": "S2", "name": "Family therapy", "need_groups": ["A2", "B1"], "capacity": 20},
    ],
}


def plan() -> Plan:
    return plan_from_dict(PLAN)


def tables() -> dict[str, pa.Table]:
    groups = ["A1", "A2", "B1", "unassigned"]
    return {
        "need_groups": pa.table(
            {
                "need_group": groups,
                "cases": [80, 60, None, 57],
                "share": [0.4, 0.3, None, 0.285],
                "share_low": [0.335, 0.24, None, 0.227],
                "share_high": [0.469, 0.367, None, 0.351],
            }
        ),
        "prevalence": pa.table(
            {
                "need_group": ["A1", "A1", "A2", "A2", "B1", "B1"],
                "indicator": ["cin.3A", "cin.4B", "cin.3A", "cin.4B", "cin.3A", "cin.4B"],
                "label": ["Domestic violence: child", "Mental health: parent"] * 3,
                "cases": [70, 12, 9, 30, None, None],
                "share": [0.875, 0.15, 0.15, 0.5, None, None],
            }
        ),
        "matching": pa.table(
            {
                "need_group": ["A1", "A1", "A2", "A2", "B1", "B1"],
                "service": ["S1", "S2", "S1", "S2", "S1", "S2"],
                "planned": [True, False, False, True, False, True],
                "matched": [40, 0, 0, 20, 0, None],
                "unmet": [30, 0, 0, 25, 0, None],
                "unplanned": [0, 10, 6, 0, 0, 0],
            }
        ),
        "agreement": pa.table(
            {
                "cases": [200],
                "agreed": [150],
                "agreement": [0.75],
                "kappa": [0.64],
                "kappa_low": [0.56],
                "kappa_high": [0.72],
            }
        ),
        "confusion": pa.table(
            {
                "professional": ["A1", "A1", "A2", "A2", "B1", "unassigned"],
                "shadow": ["A1", "A2", "A2", "A1", "B1", "unassigned"],
                "cases": [70, 10, 45, 15, None, 57],
            }
        ),
        "change": pa.table(
            {
                "need_group": groups,
                "baseline_cases": [70, 70, 6, 54],
                "baseline_share": [0.35, 0.35, 0.03, 0.27],
                "reaudit_cases": [80, 60, None, 57],
                "reaudit_share": [0.4, 0.3, None, 0.285],
                "difference": [0.05, -0.05, None, 0.015],
                "difference_low": [-0.04, -0.14, None, -0.07],
                "difference_high": [0.14, 0.04, None, 0.10],
            }
        ),
        "areas": pa.table(
            {
                "area": ["EX1", "EX2", "EX3"],
                "children": [5200, 4100, 800],
                "cases": [310, 240, None],
                "rate": [59.6, 58.5, None],
                "rate_low": [53.2, 51.4, None],
                "rate_high": [66.6, 66.4, None],
            }
        ),
        "capacity": pa.table(
            {
                "service": ["S1", "S2"],
                "demand": [72.0, 31.0],
                "demand_low": [58.0, 22.0],
                "demand_high": [88.0, 42.0],
                "capacity": [60, 20],
                "shortfall": [12.0, 11.0],
            }
        ),
        "issues": pa.table(
            {
                "source": ["referrals.csv"],
                "table": ["cases"],
                "field": ["age"],
                "severity": ["error"],
                "action": ["blanked"],
                "issues": pa.array([3], pa.int64()),
                "example": ["'x' is not a whole number"],
            }
        ),
    }


def suppressed() -> dict[str, set[tuple[int, str]]]:
    """The withheld cells of :func:`tables` (they are null there)."""
    return {
        name: {
            (row, column) for column, marks in by_column.items() for row, m in enumerate(marks) if m
        }
        for name, by_column in _marks().items()
    }


def _marks() -> dict[str, dict[str, list[str | None]]]:
    c = "c"
    return {
        "need_groups": {
            "cases": [None, None, c, None],
            "share": [None, None, c, None],
            "share_low": [None, None, c, None],
            "share_high": [None, None, c, None],
        },
        "prevalence": {"cases": [None] * 4 + [c, c], "share": [None] * 4 + [c, c]},
        "matching": {"matched": [None] * 5 + [c], "unmet": [None] * 5 + [c]},
        "confusion": {"cases": [None] * 4 + [c, None]},
        "change": {
            k: [None, None, c, None]
            for k in (
                "reaudit_cases",
                "reaudit_share",
                "difference",
                "difference_low",
                "difference_high",
            )
        },
        "areas": {k: [None, None, c] for k in ("cases", "rate", "rate_low", "rate_high")},
    }


def report_input(**changes: object) -> ReportInput:
    values: dict[str, object] = {
        "title": "Handmade audit <test>",
        "plan": plan(),
        "tables": tables(),
        "suppressed": suppressed(),
        "sources": {
            "sample": Provenance(
                adapter="canonical",
                adapter_version="1",
                files=(SourceFile(name="referrals.csv", sha256="ab" * 32, size=1234),),
                reference_date=dt.date(2026, 3, 31),
            )
        },
        "min_count": 5,
        "reference_date": "2026-03-31",
        "mns_version": "0.1.0",
    }
    values.update(changes)
    return ReportInput(**values)  # type: ignore[arg-type]
