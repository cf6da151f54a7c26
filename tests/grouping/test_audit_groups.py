"""``run_audit`` with a grouping: a plan's need group without a rule, filled by the panel,
shows in every table; services of cases outside the audit are issues."""

from __future__ import annotations

import copy
from typing import Any

import attrs
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from mns.audit import run_audit
from mns.errors import MnsError
from mns.plan import plan_from_dict
from mns.records import schema
from mns.records.bundle import Records
from tests.report import handmade


def _with_panel_only_group() -> dict[str, Any]:
    spec: dict[str, Any] = copy.deepcopy(handmade.PLAN)
    groups = spec["need_group"]
    assert isinstance(groups, list)
    groups.append({"code": "P1", "name": "Seen only by the panel", "cluster": "B"})
    services = spec["service"]
    assert isinstance(services, list)
    services[1]["need_groups"] = ["A2", "B1", "P1"]
    return spec


def _records_with_p1() -> tuple[Records, Records]:
    records = handmade._records(80, "C", 0)
    baseline = handmade._records(70, "B", 1)
    out = []
    for r in (records, baseline):
        a = r.assignments
        groups = a.column("need_group").cast(pa.string()).to_pylist()
        # every professional "B1" becomes the panel-only group P1
        roles = a.column("role").cast(pa.string()).to_pylist()
        changed = [
            "P1" if g == "B1" and role == "professional" else g
            for g, role in zip(groups, roles, strict=True)
        ]
        table = a.set_column(
            a.column_names.index("need_group"), "need_group", pa.array(changed, pa.string())
        )
        extra = schema.conform(
            pa.table({"case_id": ["NOT-AUDITED"], "service": ["da"]}), "services"
        )
        services = pa.concat_tables([r.services, extra])
        out.append(
            attrs.evolve(r, services=services, assignments=schema.conform(table, "assignments"))
        )
    return out[0], out[1]


def test_a_rule_less_group_is_filled_by_the_panel_and_shown_everywhere() -> None:
    plan = plan_from_dict(_with_panel_only_group())
    assert plan.need_groups[-1].rule is None
    records, baseline = _records_with_p1()
    result = run_audit(
        records,
        plan,
        baseline=baseline,
        referrals=handmade._records(300, "R", 2),
        population=handmade.population(),
        disclose=False,
    )
    assert result.groups == "professional"
    assert result.report_input().groups == "the professional panel's consensus"
    cases = result.cases
    p1 = int(pc.sum(pc.equal(cases.column("need_group").cast(pa.string()), "P1")).as_py())
    assert p1 > 0
    for name in ("profile", "extrapolate", "match", "compare", "areas_by_group", "rules_panel"):
        groups = set(result.tables[name].column("need_group").to_pylist())
        assert "P1" in groups, name
    sizes = result.tables["profile"]
    row = sizes.filter(
        pc.and_(
            pc.equal(sizes.column("variable"), "cases"), pc.equal(sizes.column("need_group"), "P1")
        )
    )
    assert row.column("count").to_pylist() == [p1]
    rules_panel = {r["need_group"]: r for r in result.tables["rules_panel"].to_pylist()}
    assert rules_panel["P1"]["both"] == 0  # no rule can find it
    assert rules_panel["P1"]["panel_only"] == p1
    assert "disagreements" in result.internal
    assert "disagreements" not in result.tables
    assert "disagreements" not in result.published
    # the service of a case outside the audit is an issue, not silently dropped
    issues = result.tables["issues"].to_pylist()
    stray = [i for i in issues if i["table"] == "services" and i["field"] == "case_id"]
    assert [i["issues"] for i in stray] == [1]
    # by the rules there is no P1 case, but the group is still listed
    by_rules = run_audit(
        records,
        plan,
        referrals=handmade._records(300, "R", 2),
        groups="rules",
        disclose=False,
    )
    profile = by_rules.tables["profile"]
    assert "P1" in profile.column("need_group").to_pylist()
    assert "rule_group" not in by_rules.cases.column_names


def test_run_audit_needs_referrals_or_census() -> None:
    records = handmade._records(80, "C", 0)
    with pytest.raises(MnsError, match=r"census=True"):
        run_audit(records, handmade.plan())
    result = run_audit(records, handmade.plan(), census=True, disclose=False)
    assert result.census
    assert result.report_input().census is True
    unassigned = attrs.evolve(records, assignments=schema.empty("assignments"))
    with pytest.raises(MnsError, match="no audit group's assignments"):
        run_audit(unassigned, handmade.plan(), census=True, groups="shadow")


def test_the_disagreeing_cases_are_listed_only_in_the_internal_report() -> None:
    records, _ = _records_with_p1()
    plan = plan_from_dict(_with_panel_only_group())
    public = run_audit(records, plan, census=True)
    internal = run_audit(records, plan, census=True, audience="internal")
    disagreeing = internal.internal["disagreements"]
    assert disagreeing.num_rows > 0
    assert "table-disagreements" in internal.report()
    assert "table-disagreements" not in public.report()
    assert "disagreements" not in public.published
