"""Exampleshire: an invented locality of about 80,000 residents, its audit and its plan.

Everything is generated deterministically by :mod:`mns.synth` from a seed; nothing comes from
real records. ``exampleshire()`` gives the plan (``exampleshire.toml``), the year's referrals
to children's social care, a 200-case audit sample grouped by a professional panel and by a
shadow group of service users, a re-audit sample a year later, and the child population by
locality::

    from mns.demo import exampleshire
    demo = exampleshire()
    demo.sample.assignments        # professional and shadow need groups of the 200 cases
    demo.referrals.cases           # every referral of the year (about 1,000)
    demo.plan.need_groups          # ten need groups in three clusters
    previous_plan_path()           # the plan of the last cycle, to compare with
    demo.reaudit.cases["team"]     # the team holding each case
    demo.participation             # who took part in the audit's groups


See ``docs/explanation/exampleshire.md`` for how it is made and what is realistic.
"""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mns.participation import Participation, load_participation
from mns.plan import Plan, load_plan
from mns.records.bundle import Records
from mns.records.model import Audit, Role
from mns.synth import (
    PROFILES,
    _build_records as build_records,
    _geography,
    _population_table as population_table,
    _scenario,
    _weights,
)

__all__ = [
    "LOCALITY",
    "TEAMS",
    "Demo",
    "exampleshire",
    "participation_path",
    "plan_path",
    "previous_plan_path",
]

LOCALITY = "Exampleshire"
LA_CODE = "Q900"
#: Localities (postcode districts; ``Q`` is no real UK postcode area).
AREAS = tuple(f"QE{i}" for i in range(1, 17))
RESIDENTS = 80_000
BASELINE_YEAR = 2025  #: collection year of the audited referrals: April 2024 - March 2025
REFERRALS_PER_CHILD = 0.06  #: referrals a year per child (England: about 0.055)
SAMPLE_SIZE = 200
#: A year later: more criminal exploitation and self-harm, less domestic abuse.
REAUDIT_SHIFT = {"C3": 1.8, "C2": 1.2, "A1": 0.75}
REAUDIT_GROWTH = 1.04
PANEL = "Exampleshire multi-agency panel"
SHADOW = "Exampleshire parents' and young people's group"
_DEMO_STREAM = 8001
_TEAM_STREAM = 8002
#: Exampleshire's social work teams: two locality teams (north: QE1-QE8, south: QE9-QE16),
#: a disabled children's team and an adolescent team, and the assessment team that holds a
#: case until it moves on. The specialist teams take most of their groups' cases.
TEAMS = ("Assessment", "Locality north", "Locality south", "Disabled children", "Adolescents")
_SPECIALIST = {
    "B4": ("Disabled children", 0.85),
    "C3": ("Adolescents", 0.8),
    "A2": ("Adolescents", 0.6),
}
_ASSESSMENT_SHARE = 0.2


def plan_path() -> Path:
    """The path of the shipped demo plan, ``mns/demo/exampleshire.toml``."""
    return Path(str(resources.files("mns.demo") / "exampleshire.toml"))


def previous_plan_path() -> Path:
    """The path of the plan of Exampleshire's last cycle (2022-2025),
    ``mns/demo/exampleshire-2022.toml``: what ``mns.plan_changes`` compares the demo plan
    with (a group split, two merged, a service added and one withdrawn, places and costs
    changed)."""
    return Path(str(resources.files("mns.demo") / "exampleshire-2022.toml"))


def participation_path() -> Path:
    """The path of the demo's record of who took part, ``mns/demo/participation.toml``."""
    return Path(str(resources.files("mns.demo") / "participation.toml"))


@attrs.frozen(kw_only=True, eq=False)
class Demo:
    """The Exampleshire demo: plan, referrals, audit samples and population."""

    seed: int
    year: int  #: collection year of the baseline audit (2025 = April 2024 - March 2025)
    plan_path: Path
    plan: Plan
    sample: Records  #: the 200 audited referrals, with professional and shadow assignments
    referrals: Records  #: every referral of the year (no assignments: they were not audited)
    reaudit: Records  #: 200 referrals of the next year, audited the same way
    reaudit_referrals: Records  #: every referral of the next year (the re-audit's frame)
    population: pa.Table  #: ``area``, ``la``, ``children``, ``residents`` by locality
    audit: Audit  #: the baseline audit run
    reaudit_audit: Audit  #: the re-audit run
    #: who took part in the re-audit's groups (``participation.toml``)
    participation: Participation


def _audit(name: str, year: int, sample: int, population: int) -> Audit:
    start, end = dt.date(year - 1, 4, 1), dt.date(year, 3, 31)
    return Audit(
        name=name,
        locality=LOCALITY,
        sample_frame=(
            f"all referrals to children's social care, {start.day} {start:%B %Y} - "
            f"{end.day} {end:%B %Y}"
        ),
        period_start=start,
        period_end=end,
        sample_size=sample,
        population_size=population,
        sampling_fraction=sample / population,
        role=Role.PROFESSIONAL,
    )


def _subset(records: Records, case_ids: pa.Array | None, *, assignments: bool) -> Records:
    """``records`` restricted to ``case_ids`` (all when None), without assignments unless
    asked."""

    def keep(table: pa.Table) -> pa.Table:
        if case_ids is None:
            return table
        return table.filter(pc.is_in(table.column("case_id"), value_set=case_ids))

    return Records(
        provenance=records.provenance,
        cases=keep(records.cases),
        services=keep(records.services),
        outcomes=keep(records.outcomes),
        assignments=keep(records.assignments) if assignments else records.assignments.slice(0, 0),
        issues=records.issues,
        extra={name: keep(table) for name, table in records.extra.items()},
    )


def _year(
    seed: int, year: int, geo: _geography.Geography, growth: float, shift: dict[str, float]
) -> tuple[Records, pa.Array]:
    """One year's referrals and a simple random sample of ``SAMPLE_SIZE`` of their case ids."""
    rng = np.random.default_rng([seed, _DEMO_STREAM, year])
    n = int(rng.poisson(float(geo.children.sum()) * REFERRALS_PER_CHILD * growth))
    base = _weights(None, referral=True)
    weights = {
        code: float(w) * shift.get(code, 1.0) for code, w in zip(PROFILES, base, strict=True)
    }
    scenario = _scenario(
        seed=seed,
        year=year,
        areas=None,
        cohort="referral",
        weights=weights,
        geo=geo,
        prefix=f"EX{year}-",
    )
    year_seed = int(np.random.SeedSequence([seed, _DEMO_STREAM, year]).generate_state(1)[0])
    records = build_records(
        n, scenario, seed=year_seed, audit=f"exampleshire-{year}", auditors=(PANEL, SHADOW)
    )
    records = _with_teams(records, seed, year)
    picked = np.sort(rng.choice(n, size=SAMPLE_SIZE, replace=False))
    ids = records.cases.column("case_id").take(pa.array(picked)).combine_chunks()
    return records, ids


def _with_teams(records: Records, seed: int, year: int) -> Records:
    """``records`` with the team holding each case: the specialist team of its need group
    (as the professional panel placed it) for most cases of that group, the assessment team
    for some, the locality team of its area for the rest."""
    rng = np.random.default_rng([seed, _TEAM_STREAM, year])
    cases = records.cases
    panel = records.assignments.filter(pc.equal(records.assignments.column("role"), "professional"))
    group_of = dict(
        zip(
            panel.column("case_id").to_pylist(),
            panel.column("need_group").to_pylist(),
            strict=True,
        )
    )
    north = set(AREAS[: len(AREAS) // 2])
    draws = rng.random((cases.num_rows, 2))
    teams = []
    for (case_id, area), (first, second) in zip(
        zip(cases.column("case_id").to_pylist(), cases.column("area").to_pylist(), strict=True),
        draws,
        strict=True,
    ):
        specialist, share = _SPECIALIST.get(group_of.get(case_id) or "", ("", 0.0))
        if first < share:
            teams.append(specialist)
        elif second < _ASSESSMENT_SHARE:
            teams.append("Assessment")
        else:
            teams.append("Locality north" if area in north else "Locality south")
    column = pa.array(teams, pa.string()).dictionary_encode()
    index = cases.schema.get_field_index("team")
    cases = cases.set_column(index, cases.schema.field(index), column)
    return attrs.evolve(records, cases=cases)


def exampleshire(seed: int = 2026) -> Demo:
    """Build the Exampleshire demo for ``seed`` (the same seed gives the same demo)."""
    geo = _geography.locality(seed, AREAS, LA_CODE, RESIDENTS, stream=_DEMO_STREAM)
    year = BASELINE_YEAR
    referrals, sample_ids = _year(seed, year, geo, 1.0, {})
    later, reaudit_ids = _year(seed, year + 1, geo, REAUDIT_GROWTH, REAUDIT_SHIFT)
    path = plan_path()
    return Demo(
        seed=seed,
        year=year,
        plan_path=path,
        plan=load_plan(path),
        sample=_subset(referrals, sample_ids, assignments=True),
        referrals=_subset(referrals, None, assignments=False),
        reaudit=_subset(later, reaudit_ids, assignments=True),
        reaudit_referrals=_subset(later, None, assignments=False),
        population=population_table(geo),
        audit=_audit(f"exampleshire-{year}", year, SAMPLE_SIZE, referrals.cases.num_rows),
        reaudit_audit=_audit(
            f"exampleshire-{year + 1}", year + 1, SAMPLE_SIZE, later.cases.num_rows
        ),
        participation=load_participation(participation_path()),
    )
