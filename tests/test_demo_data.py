"""The Exampleshire demo: its plan, its synthetic locality, and how the two fit together."""

from __future__ import annotations

import functools
import re
import sys
from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from mns import classification, synth
from mns.demo import Demo, exampleshire, plan_path
from mns.lang import Crosswalk, crosswalk
from mns.plan import Aim, Evidence, Mode, dump_plan, plan_from_dict
from mns.records import schema
from mns.records.bundle import Records
from mns.rules import FIELDS, compile_rule

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib
from mns.synth import _model, _records

AGENCIES = {"social_care", "health", "education", "housing", "voluntary", "police"}


@functools.cache
def demo() -> Demo:
    return exampleshire()


def values(table: pa.Table, name: str) -> list[Any]:
    return list(table.column(name).to_pylist())


# --- the plan ---------------------------------------------------------------------------


def test_the_plan_has_need_groups_in_three_clusters() -> None:
    plan = demo().plan
    assert plan.language == "mns"
    assert [c.code for c in plan.clusters] == ["A", "B", "C"]
    assert 8 <= len(plan.need_groups) <= 12
    assert {g.cluster for g in plan.need_groups} == {"A", "B", "C"}
    for g in plan.need_groups:
        assert all((g.rule, g.description)), g.code
        outcomes = [o for o in plan.outcomes if o.need_group == g.code]
        assert 1 <= len(outcomes) <= 2, g.code
        assert all(o.objective and o.measure and o.target for o in outcomes)


def test_the_plan_has_services_across_agencies() -> None:
    plan = demo().plan
    assert 10 <= len(plan.services) <= 16
    assert set().union(*(s.agencies for s in plan.services)) == AGENCIES
    for s in plan.services:
        assert all((s.threshold, s.received_as, s.base, s.description)), s.code
        assert all((s.capacity, s.unit_cost, s.duration_weeks)), s.code
    assert {s.mode for s in plan.services} == set(Mode)
    assert {s.aim for s in plan.services} == set(Aim)
    assert {s.evidence for s in plan.services} == set(Evidence)
    groups = {g.code for g in plan.need_groups}
    served = set().union(*(s.need_groups for s in plan.services))
    assert served == groups


def test_the_plan_file_is_shipped_and_round_trips() -> None:
    path = plan_path()
    assert path.name == "exampleshire.toml"
    assert path.is_file()
    assert demo().plan_path == path
    assert plan_from_dict(tomllib.loads(dump_plan(demo().plan))) == demo().plan


def test_rules_name_only_mns_codes_the_crosswalk_derives_and_case_fields() -> None:
    plan = demo().plan
    derived = {m.target for m in crosswalk("cin", "mns").mappings}
    fields = set(FIELDS)
    names = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)?)\b(?!\s*\()")
    keywords = {"and", "or", "not", "in", "true", "false"}
    rules = [g.rule for g in plan.need_groups] + [s.threshold for s in plan.services]
    for rule in rules:
        assert rule is not None
        compile_rule(rule, "mns")
        text = re.sub(r"'[^']*'", "", rule)
        for name in names.findall(text):
            if name in keywords or name.startswith("cin."):
                continue
            assert name in derived or name in fields, f"{name!r} in {rule!r}"


# --- the plan and the generator are in step ---------------------------------------------


def test_profiles_are_the_plans_need_groups() -> None:
    plan = demo().plan
    assert set(synth.PROFILES) == {g.code for g in plan.need_groups} | {_model.LOW_NEED}
    for profile in _model.PROFILES:
        planned = tuple(o.code for o in plan.outcomes if o.need_group == profile.code)
        assert profile.outcomes == planned, profile.code
        for other in profile.confused_with:
            assert other in synth.PROFILES


def test_generated_service_codes_are_the_plans_received_as() -> None:
    plan = demo().plan
    received_as = {code for s in plan.services for code in s.received_as}
    emitted = {s.code for s in _model.RECORD_SERVICES}
    assert received_as <= emitted
    assert emitted - received_as == {s.code for s in _model.RECORD_SERVICES if not s.in_plan}


def test_matched_services_are_those_the_plan_gives_each_group() -> None:
    plan = demo().plan
    for group in plan.need_groups:
        planned = {
            code
            for s in plan.services
            if group.code in s.need_groups
            for code in s.received_as
            if code not in _records.STATUTORY
        }
        assert _records.MATCHED[group.code] == planned, group.code


# --- the locality -----------------------------------------------------------------------


def test_demo_is_deterministic() -> None:
    again = exampleshire()
    d = demo()
    for name in ("sample", "referrals", "reaudit", "reaudit_referrals"):
        a, b = getattr(d, name), getattr(again, name)
        for table in ("cases", "services", "outcomes", "assignments"):
            assert getattr(a, table).equals(getattr(b, table)), (name, table)
    assert d.population.equals(again.population)
    assert d.audit == again.audit
    other = exampleshire(seed=7)
    assert not other.sample.cases.equals(d.sample.cases)


def test_population_of_about_80000_in_one_authority() -> None:
    pop = demo().population
    assert pop.column_names == ["area", "la", "children", "residents"]
    assert 12 <= pop.num_rows <= 20
    assert len(set(values(pop, "la"))) == 1
    residents = sum(values(pop, "residents"))
    children = sum(values(pop, "children"))
    assert 75_000 <= residents <= 85_000
    assert 0.17 <= children / residents <= 0.25


def test_a_years_referrals() -> None:
    d = demo()
    cases = d.referrals.cases
    assert 900 <= cases.num_rows <= 1_200
    schema.check(cases, "cases")
    assert set(values(cases, "cohort")) == {"referral"}
    assert set(values(cases, "area")) <= set(values(d.population, "area"))
    dates = values(cases, "reference_date")
    assert min(dates).isoformat() >= "2024-04-01"
    assert max(dates).isoformat() <= "2025-03-31"
    assert d.referrals.assignments.num_rows == 0
    assert d.referrals.services.num_rows > cases.num_rows
    assert Counter(values(d.referrals.extra["truth"], "profile")).keys() == set(synth.PROFILES)


def test_the_audit_sample() -> None:
    d = demo()
    sample = d.sample
    assert sample.cases.num_rows == 200
    assert set(values(sample.cases, "case_id")) <= set(values(d.referrals.cases, "case_id"))
    a = sample.assignments
    assert a.num_rows == 400
    assert Counter(values(a, "role")) == {"professional": 200, "shadow": 200}
    assert set(values(a, "audit")) == {d.audit.name}
    assert len(set(values(a, "auditor"))) == 2
    assert set(values(a, "need_group")) - {None} <= {g.code for g in d.plan.need_groups}
    assert d.audit.sample_size == 200
    assert d.audit.population_size == d.referrals.cases.num_rows
    assert d.audit.sampling_fraction == pytest.approx(200 / d.referrals.cases.num_rows)
    assert d.audit.period_start is not None
    assert d.audit.period_start.isoformat() == "2024-04-01"


def test_the_reaudit_a_year_later_sees_shifted_needs() -> None:
    d = demo()
    assert d.reaudit.cases.num_rows == 200
    assert set(values(d.reaudit.assignments, "audit")) == {d.reaudit_audit.name}
    assert d.reaudit_audit.period_start is not None
    assert d.audit.period_start is not None
    assert d.reaudit_audit.period_start.year == d.audit.period_start.year + 1
    assert not set(values(d.reaudit.cases, "case_id")) & set(values(d.referrals.cases, "case_id"))

    def share(records: Records, group: str) -> float:
        profiles = values(records.extra["truth"], "profile")
        return profiles.count(group) / len(profiles)

    before, after = d.referrals, d.reaudit_referrals
    assert share(after, "C3") > share(before, "C3")
    assert share(after, "A1") < share(before, "A1")


# --- classification with the plan's rules -----------------------------------------------


def _classify() -> Any:
    return classification  # a core module: an import error fails the tests


def _check_classification(crosswalks: list[Crosswalk] | None) -> None:
    d = demo()
    classify = _classify()
    out = classify.classify(d.referrals.cases, d.plan, crosswalks=crosswalks)
    groups = np.array(values(out, "need_group"), dtype=object)
    counts = Counter(groups.tolist())
    for g in d.plan.need_groups:
        assert counts[g.code] > 0, f"need group {g.code} is empty"
    placed_nowhere = (counts[classify.UNASSIGNED] + counts[classify.UNKNOWN]) / len(groups)
    assert placed_nowhere < 0.20
    truth = np.array(values(d.referrals.extra["truth"], "profile"), dtype=object)
    truth = np.where(truth == _model.LOW_NEED, classify.UNASSIGNED, truth)
    agreement = float((groups == truth).mean())
    chance = sum(
        (truth == k).mean() * (groups == k).mean()
        for k in set(truth.tolist()) | set(groups.tolist())
    )
    assert agreement > 0.45
    assert agreement > 3 * chance


def test_rules_classify_the_years_referrals_sensibly() -> None:
    _check_classification(None)


def test_classified_sample_keeps_the_schema() -> None:
    out = _classify().classify(demo().sample.cases, demo().plan)
    schema.check(out, "cases")
    assert out.num_rows == 200
