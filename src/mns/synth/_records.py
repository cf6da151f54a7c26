"""Services received, outcomes and need-group assignments for synthetic cases.

Drawn block by block from each block's own random stream (``RECORD_STREAM``), from the same
frames as the cases, so ``records(n, seed=s).cases`` equals ``cases(n, seed=s)``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from mns.records import schema
from mns.synth import _model as m
from mns.synth._cases import FACTORS, Frame, Scenario, _category, _date, flags, ids

__all__ = [
    "MATCHED",
    "assignments",
    "outcomes",
    "services",
]

RECORD_STREAM = 3
AUDIT_STREAM = 4

Bools = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

SERVICE_CODES = tuple(s.code for s in m.RECORD_SERVICES)
_SERVICE = {code: j for j, code in enumerate(SERVICE_CODES)}
STATUTORY = ("assessment", "s47", "cin_plan", "cp_plan", "looked_after")
AGENCIES = tuple(sorted({s.agency for s in m.RECORD_SERVICES}))
PROVIDERS = tuple(sorted({s.provider for s in m.RECORD_SERVICES}))
PLACEMENTS = ("U1", "U3", "U4", "U6", "K2", "H5", "P1", "K3")
_PLACEMENT_P = np.array([0.05, 0.15, 0.15, 0.45, 0.10, 0.0, 0.10, 0.0])
_PLACEMENT_P_16 = np.array([0.03, 0.10, 0.12, 0.30, 0.15, 0.25, 0.05, 0.0])
#: from 2024-25 the 903 codes supported accommodation K3; H5 is withdrawn in 2025-26
_K3_FROM = (dt.date(2024, 4, 1) - dt.date(1970, 1, 1)).days
NFA_FACTOR = 0.15  #: services reach cases closed after referral much less often

#: Record codes of the targeted (non-statutory) services the demo plan lists for each group:
#: receiving one of them is receiving a service matched to the need.
MATCHED: Mapping[str, frozenset[str]] = {
    "A1": frozenset({"family_support", "idva", "da_recovery", "housing_support", "refuge"}),
    "A2": frozenset(
        {
            "family_support",
            "edge_of_care",
            "parenting_programme",
            "school_mentoring",
            "education_welfare",
        }
    ),
    "A3": frozenset(
        {
            "family_support",
            "adult_mental_health",
            "school_mentoring",
            "education_welfare",
            "young_carers",
        }
    ),
    "B1": frozenset({"family_support", "substance_treatment", "health_visiting"}),
    "B2": frozenset(
        {"family_support", "health_visiting", "parenting_programme", "housing_support", "refuge"}
    ),
    "B3": frozenset({"camhs"}),
    "B4": frozenset({"short_breaks", "parenting_programme"}),
    "C1": frozenset({"family_support", "adult_mental_health", "health_visiting"}),
    "C2": frozenset({"camhs", "school_mentoring", "education_welfare"}),
    "C3": frozenset(
        {
            "edge_of_care",
            "camhs",
            "school_mentoring",
            "education_welfare",
            "exploitation_support",
            "return_interview",
        }
    ),
}

# Assignment model: a case file misleads both audit groups alike (shared misreading), then
# each group errs on its own. Tuned so that the professional group agrees with the latent
# profile about 85% of the time, the shadow group about 70%, and kappa between them is 0.6-0.7.
P_FILE_CLEAR = 0.95
P_PROFESSIONAL = 0.90
P_SHADOW = 0.74
P_UNPLACED_IF_WRONG = (0.25, 0.25)  #: professional, shadow: an error is "could not place"


def _profile_services() -> Floats:
    p = np.zeros((len(m.PROFILES), len(SERVICE_CODES)))
    for k, prof in enumerate(m.PROFILES):
        for code, q in prof.services.items():
            p[k, _SERVICE[code]] = q
    return p


_PROFILE_P = _profile_services()


def _episodes(frame: Frame, rng: np.random.Generator) -> tuple[Ints, Ints, Ints, Ints, Ints]:
    """(case row, service index, start day, end day or -1, detail code or -1) of every episode."""
    n = frame.size
    status, age = frame.status, frame.age
    rows: list[Ints] = []
    kinds: list[Ints] = []
    starts: list[Ints] = []
    ends: list[Ints] = []
    details: list[Ints] = []

    def add(at: Bools, service: str, start: Ints, detail: Ints | None = None) -> tuple[Ints, Ints]:
        idx = np.flatnonzero(at)
        spec = m.RECORD_SERVICES[_SERVICE[service]]
        begin = start[idx]
        length = np.rint(spec.weeks * 7 * rng.uniform(0.5, 1.5, len(idx))).astype(np.int64)
        end = begin + np.maximum(length, 1)
        end[rng.random(len(idx)) < 0.15] = -1  # still open
        rows.append(idx)
        kinds.append(np.full(len(idx), _SERVICE[service], dtype=np.int64))
        starts.append(begin)
        ends.append(end)
        details.append(np.full(len(idx), -1, dtype=np.int64) if detail is None else detail[idx])
        return idx, end

    ref = frame.reference
    # statutory services follow how far the case went (coded as the CIN census adapter does)
    add(frame.assessed, "assessment", ref + rng.integers(0, 10, n))
    s47_start = ref + rng.integers(0, 15, n)
    cp = status == 2
    looked_after = status == 3
    on_plan = frame.abuse >= 0
    add(
        on_plan | (looked_after & (rng.random(n) < 0.5)) | ((status == 1) & (rng.random(n) < 0.12)),
        "s47",
        s47_start,
    )
    on_cp, cp_end = add(on_plan, "cp_plan", s47_start + 15, frame.abuse)
    cin_start = np.where(
        cp, s47_start + 15 + rng.integers(180, 400, n), ref + rng.integers(20, 60, n)
    )
    on_cin, _ = add(
        ((status == 1) & (rng.random(n) < 0.92)) | (cp & (rng.random(n) < 0.4)),
        "cin_plan",
        cin_start,
    )
    # a child steps down from a child protection plan to a CIN plan: the CP plan ends the day
    # the CIN plan starts, never alongside it (DfE rule 4001)
    both = np.isin(on_cp, on_cin)
    stepped_down = cin_start[on_cp[both]]
    cp_end[both] = np.where(cp_end[both] < 0, stepped_down, np.minimum(cp_end[both], stepped_down))
    placement = np.where(
        age >= 16,
        np.searchsorted(np.cumsum(_PLACEMENT_P_16), rng.random(n) * _PLACEMENT_P_16.sum()),
        np.searchsorted(np.cumsum(_PLACEMENT_P), rng.random(n) * _PLACEMENT_P.sum()),
    ).astype(np.int64)
    la_start = ref + rng.integers(0, 120, n)
    h5, k3 = PLACEMENTS.index("H5"), PLACEMENTS.index("K3")
    placement = np.where((placement == h5) & (la_start >= _K3_FROM), k3, placement)
    add(looked_after, "looked_after", la_start, placement)

    # targeted services: by latent need, and prompted by recorded factors
    reach = np.where(status == 0, NFA_FACTOR, 1.0)
    for j, spec in enumerate(m.RECORD_SERVICES):
        if spec.code in STATUTORY:
            continue
        p = _PROFILE_P[frame.profile, j] * reach
        if spec.drivers:
            driven = frame.factors[[_FACTOR_INDEX[c] for c in spec.drivers]].any(axis=0)
            p = 1 - (1 - p) * (1 - spec.driver_p * driven * reach)
        p = np.where((age >= spec.min_age) & (age <= spec.max_age) & ~frame.unborn, p, 0.0)
        if spec.code == "health_visiting":  # universal service that reaches unborn babies' mothers
            p = np.where(frame.unborn, _PROFILE_P[frame.profile, j] * reach, p)
        p = 1 - (1 - p) * (1 - 0.01 * reach)  # unplanned: services follow agency routines too
        add(rng.random(n) < p, spec.code, ref + rng.integers(7, 90, n))
    return (
        np.concatenate(rows),
        np.concatenate(kinds),
        np.concatenate(starts),
        np.concatenate(ends),
        np.concatenate(details),
    )


_FACTOR_INDEX = {code: j for j, code in enumerate(FACTORS)}


def services(
    frame: Frame, scenario: Scenario, seed: int, block: int
) -> tuple[pa.RecordBatch, Bools]:
    """The ``services`` rows of ``frame`` (sorted by case, start date, service) and, per
    case, whether it received a targeted service matched to its latent need."""
    rng = np.random.default_rng([seed, RECORD_STREAM, block])
    row, kind, start, end, detail = _episodes(frame, rng)
    order = np.lexsort((kind, start, row))
    row, kind, start, end, detail = row[order], kind[order], start[order], end[order], detail[order]
    matched_sets = [MATCHED.get(p.code, frozenset()) for p in m.PROFILES]
    matched_table = np.array(
        [[code in s for code in SERVICE_CODES] for s in matched_sets], dtype=np.bool_
    )
    matched = np.zeros(frame.size, dtype=np.bool_)
    hit = matched_table[frame.profile[row], kind]
    matched[row[hit]] = True
    case_ids = ids(scenario.prefix, frame.start, frame.size)
    child_ids = ids(scenario.prefix + "K", frame.start, frame.size)
    take = pa.array(row)
    agency = np.array([AGENCIES.index(s.agency) for s in m.RECORD_SERVICES])[kind]
    provider = np.array([PROVIDERS.index(s.provider) for s in m.RECORD_SERVICES])[kind]
    detail_codes = _detail_codes()
    detail_index = np.where(
        kind == _SERVICE["cp_plan"],
        detail,
        np.where(kind == _SERVICE["looked_after"], len(m.CATEGORIES_OF_ABUSE) + detail, -1),
    )
    batch = pa.RecordBatch.from_arrays(
        [
            case_ids.take(take),
            child_ids.take(take),
            _category(kind, SERVICE_CODES, None),
            _category(np.maximum(detail_index, 0), detail_codes, detail_index < 0),
            _date(start, None),
            _date(np.maximum(end, 0), end < 0),
            _category(agency, AGENCIES, None),
            _category(provider, PROVIDERS, None),
        ],
        schema=schema.SERVICES,
    )
    return batch, matched


def _detail_codes() -> tuple[str, ...]:
    return (*m.CATEGORIES_OF_ABUSE, *PLACEMENTS)


def outcome_codes() -> tuple[str, ...]:
    """Every outcome code the generator uses, in profile order."""
    return tuple(code for p in m.PROFILES for code in p.outcomes)


def outcomes(
    frame: Frame, scenario: Scenario, matched: Bools, seed: int, block: int
) -> pa.RecordBatch:
    """Outcome records: for cases that went beyond referral, the outcomes the demo plan sets
    for their latent group, achieved more often when a matched service was received."""
    rng = np.random.default_rng([seed, RECORD_STREAM, block, 1])
    codes = outcome_codes()
    rows: list[Ints] = []
    kinds: list[Ints] = []
    position = 0
    for k, prof in enumerate(m.PROFILES):
        for _ in prof.outcomes:
            at = np.flatnonzero((frame.profile == k) & (frame.status > 0) & frame.assessed)
            rows.append(at)
            kinds.append(np.full(len(at), position, dtype=np.int64))
            position += 1
    row = np.concatenate(rows)
    kind = np.concatenate(kinds)
    order = np.lexsort((kind, row))
    row, kind = row[order], kind[order]
    count = len(row)
    recorded = frame.reference[row] + 182 + rng.integers(-30, 31, count)
    p = 0.30 + 0.35 * matched[row]
    achieved = rng.random(count) < p
    unknown = rng.random(count) < 0.08
    case_ids = ids(scenario.prefix, frame.start, frame.size)
    return pa.RecordBatch.from_arrays(
        [
            case_ids.take(pa.array(row)),
            _category(kind, codes, None),
            _date(recorded, None),
            flags(achieved, unknown),
            pa.nulls(count, pa.float64()),
            pa.nulls(count, pa.string()),
        ],
        schema=schema.OUTCOMES,
    )


def _confusions() -> tuple[Ints, Ints]:
    """Per profile, up to three groups it is mistaken for (-1: none), as profile indexes."""
    codes = [p.code for p in m.PROFILES]
    table = np.full((len(codes), 3), -1, dtype=np.int64)
    for k, prof in enumerate(m.PROFILES):
        for j, other in enumerate(prof.confused_with[:3]):
            table[k, j] = codes.index(other)
    counts = (table >= 0).sum(axis=1)
    return table, counts


def _misread(rng: np.random.Generator, truth: Ints) -> Ints:
    table, counts = _confusions()
    choice = np.floor(rng.random(len(truth)) * counts[truth]).astype(np.int64)
    return table[truth, choice]


def assignments(
    frame: Frame,
    scenario: Scenario,
    *,
    audit: str,
    seed: int,
    block: int,
    auditors: tuple[str | None, str | None] = (None, None),
) -> pa.RecordBatch:
    """Two rows per case: the professional group's need group and the shadow group's."""
    rng = np.random.default_rng([seed, AUDIT_STREAM, block])
    n = frame.size
    truth = frame.profile
    low = [p.code for p in m.PROFILES].index(m.LOW_NEED)
    apparent = np.where(rng.random(n) < P_FILE_CLEAR, truth, _misread(rng, truth))
    placed = []
    consensus = []
    for p_right, p_unplaced in zip((P_PROFESSIONAL, P_SHADOW), P_UNPLACED_IF_WRONG, strict=True):
        right = rng.random(n) < p_right
        wrong = np.where(rng.random(n) < p_unplaced, low, _misread(rng, apparent))
        group = np.where(right, apparent, wrong)
        placed.append(group)
        consensus.append(rng.random(n) < np.where(right, 0.85, 0.45))
    group_codes = tuple(p.code for p in m.PROFILES if p.code != m.LOW_NEED)
    lookup = np.array(
        [group_codes.index(p.code) if p.code != m.LOW_NEED else -1 for p in m.PROFILES]
    )
    group = lookup[np.stack(placed, axis=1).reshape(-1)]
    role = np.tile(np.array([0, 1]), n)
    row = np.repeat(np.arange(n), 2)
    case_ids = ids(scenario.prefix, frame.start, n)
    names = tuple(sorted({a for a in auditors if a is not None}))
    auditor = np.array([names.index(a) if a is not None else -1 for a in auditors])[role]
    return pa.RecordBatch.from_arrays(
        [
            case_ids.take(pa.array(row)),
            _category(np.zeros(2 * n, dtype=np.int64), (audit,), None),
            _category(role, ("professional", "shadow"), None),
            _category(np.maximum(group, 0), group_codes, group < 0),
            _category(np.maximum(auditor, 0), names, auditor < 0),
            flags(np.stack(consensus, axis=1).reshape(-1)),
            pa.nulls(2 * n, pa.string()),
        ],
        schema=schema.ASSIGNMENTS,
    )
