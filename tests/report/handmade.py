"""A small audit made by hand (80 cases, a plan of three need groups), run through
:func:`mns.audit.run_audit`, to test the report on its own."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa

from mns.audit import AuditResult, run_audit
from mns.plan import plan_from_dict
from mns.plan.model import Plan
from mns.records import schema
from mns.records.bundle import Provenance, Records, SourceFile

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
        {
            "code": "S1",
            "name": "Domestic abuse programme",
            "need_groups": ["A1"],
            "capacity": 60,
            "received_as": ["da"],
        },
        {
            "code": "S2",
            "name": "Family therapy",
            "need_groups": ["A2", "B1"],
            "capacity": 20,
            "threshold": "age >= 5",
            "received_as": ["therapy"],
        },
    ],
}


def plan() -> Plan:
    return plan_from_dict(PLAN)


def _records(n: int, prefix: str, shift: int, files: tuple[SourceFile, ...] = ()) -> Records:
    ids = [f"{prefix}{i:03d}" for i in range(n)]
    cases = pa.table(
        {
            "case_id": ids,
            "age": pa.array([(i * 7 + shift) % 18 for i in range(n)], pa.int16()),
            "sex": ["MF"[i % 2] for i in range(n)],
            "area": [f"EX{1 + (i * 5 + shift) % 3}" for i in range(n)],
            "reference_date": pa.array([dt.date(2026, 3, 31)] * n, pa.date32()),
            "cin.3A": [(i + shift) % 3 == 0 for i in range(n)],
            "cin.3B": [(i + shift) % 11 == 0 for i in range(n)],
            "cin.21": [(i + shift) % 4 == 1 for i in range(n)],
            "cin.4B": [(i + shift) % 5 == 2 for i in range(n)],
        }
    )
    services = pa.table(
        {
            "case_id": [ids[i] for i in range(n) if i % 2 == 0]
            + [ids[i] for i in range(n) if i % 7 == 3],
            "service": ["da"] * len(range(0, n, 2))
            + ["therapy"] * len([i for i in range(n) if i % 7 == 3]),
        }
    )
    groups = ["A1", "A2", "B1", None]
    assignments = pa.table(
        {
            "case_id": ids + ids,
            "audit": ["handmade"] * (2 * n),
            "role": ["professional"] * n + ["shadow"] * n,
            "need_group": [groups[(i + shift) % 4] for i in range(n)]
            + [groups[(i + shift + (i % 5 == 0)) % 4] for i in range(n)],
        }
    )
    issues = pa.table(
        {
            "source": ["referrals.csv", "referrals.csv"],
            "row": pa.array([3, 9], pa.int64()),
            "table": ["cases", "cases"],
            "field": ["age", "age"],
            "value": ["x", "y"],
            "severity": ["error", "error"],
            "action": ["blanked", "blanked"],
            "message": ["'x' is not a whole number", "'y' is not a whole number"],
        }
    )
    return Records(
        provenance=Provenance(
            adapter="canonical",
            adapter_version="1",
            files=files,
            reference_date=dt.date(2026, 3, 31),
        ),
        cases=schema.conform(cases, "cases"),
        services=schema.conform(services, "services"),
        assignments=schema.conform(assignments, "assignments"),
        issues=schema.conform(issues, "issues"),
    )


def population() -> pa.Table:
    return pa.table({"area": ["EX1", "EX2", "EX3"], "children": [5200, 4100, 800]})


def result(**changes: Any) -> AuditResult:
    """The handmade audit; ``changes`` override :func:`run_audit`'s arguments."""
    files = (SourceFile(name="referrals.csv", sha256="ab" * 32, size=1234),)
    arguments: dict[str, Any] = {
        "baseline": _records(70, "B", 1),
        "referrals": _records(300, "R", 2),
        "population": population(),
        "title": "Handmade audit <test>",
    }
    arguments.update(changes)
    return run_audit(_records(80, "C", 0, files), plan(), **arguments)
