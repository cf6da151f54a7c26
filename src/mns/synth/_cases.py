"""Drawing synthetic cases, one block of rows at a time, as numpy arrays and then Arrow.

Each block of ``BLOCK`` cases has its own random stream, seeded from ``(seed, stream, block
number)``: the values of a case never depend on how many cases are drawn or on how the output
is batched, so the first *m* cases of ``cases(n, seed=s)`` are ``cases(m, seed=s)``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator, Mapping, Sequence

import attrs
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from mns.lang import Kind, language, valid_in
from mns.records import schema
from mns.synth import _model as m
from mns.synth._geography import Geography

__all__ = ["BLOCK", "Frame", "Scenario", "frames", "to_batch"]

BLOCK = 1 << 16
CASE_STREAM = 1
MISSING_STREAM = 2
MAX_CASES = 99_999_999  # case ids have eight digits
FIRST_FACTOR_YEAR = 2014  # assessment factors were first collected in 2013-14

Bools = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

#: The assessment factors drawn (modern codes; 18A/19A and 21 are derived per year).
FACTORS: tuple[str, ...] = (
    "1A", "1B", "1C", "2A", "2B", "2C", "3A", "3B", "3C", "4A", "4B", "4C", "5A", "5B", "5C",
    "6A", "6B", "6C", "7A", "8B", "8C", "8D", "8E", "8F", "9A", "10A", "11A", "12A", "13A",
    "14A", "15A", "16A", "17A", "18B", "18C", "19B", "19C", "20", "22A", "23A", "24A",
)  # fmt: skip
_FACTOR = {code: j for j, code in enumerate(FACTORS)}
SEXES = ("M", "F", "U")
COHORTS = ("referral", "child_in_need", "child_protection", "looked_after")
CLOSURES = ("RC1", "RC2", "RC3", "RC4", "RC5", "RC6", "RC7", "RC8", "RC9")
#: P(reason for closure) by status; the rest stay open. RC9 exists from 2023.
_CLOSURE_BY_STATUS: tuple[Mapping[str, float], ...] = (
    {"RC8": 0.65, "RC9": 0.35},
    {"RC7": 0.40, "RC3": 0.01, "RC4": 0.01, "RC5": 0.02, "RC6": 0.005},
    {"RC7": 0.08, "RC5": 0.02},
    {"RC1": 0.02, "RC4": 0.03, "RC5": 0.01},
)
P_ASSESSED = (0.75, 0.985, 1.0, 0.99)  #: by status: NFA referrals are often closed unassessed
P_CP_IF_LOOKED_AFTER = 0.30
P_SEX_UNKNOWN = 0.002


@attrs.frozen(kw_only=True, eq=False)
class Scenario:
    """What to draw: the year, the mix of profiles, the cohort and the areas."""

    year: int
    weights: Floats  #: profile mixture, in PROFILES order, summing to 1
    cohort: str | None  #: None: each case's cohort follows how far it went
    geography: Geography
    prefix: str = "C"  #: case ids are prefix + eight digits


@attrs.frozen(kw_only=True, eq=False)
class Frame:
    """One block of cases as numpy arrays (the latent profile included)."""

    start: int  #: number of the first case (0-based)
    profile: Ints
    status: Ints
    assessed: Bools
    age: Ints
    unborn: Bools
    sex: Ints
    ethnicity: Ints
    area: Ints
    reference: Ints  #: days since 1970-01-01
    birth_month: Ints  #: days since 1970-01-01 of the first of the birth month (unborn: unset)
    factors: Bools  #: (n, len(FACTORS)), False where not assessed
    disabilities: Bools  #: (n, len(DISABILITIES))
    primary_need: Ints
    source: Ints
    closure: Ints  #: index into CLOSURES, -1 open
    abuse: Ints  #: index into CATEGORIES_OF_ABUSE, -1 no child protection plan

    @property
    def size(self) -> int:
        return len(self.profile)


def _pmf(table: Mapping[str, float], codes: Sequence[str], allowed: Sequence[str] = ()) -> Floats:
    p = np.array([table.get(c, 0.0) for c in codes], dtype=np.float64)
    if allowed:
        p[[c not in allowed for c in codes]] = 0.0
    return np.asarray(p / p.sum(), dtype=np.float64)


@attrs.frozen(kw_only=True, eq=False)
class Tables:
    """The model's parameters as arrays, for one collection year."""

    factor_p: npt.NDArray[np.float32]  #: (K, F)
    min_age: Ints  #: (F,), -1 for factors not about the child
    age_cdf: Floats  #: (K, 18)
    female: Floats
    unborn: Floats
    disabled: Floats
    need_cdf: Floats  #: (K, 10)
    source_cdf: Floats  #: (K, S)
    status_cdf: Floats  #: (K, 4)
    abuse_cdf: Floats  #: (K, 5)
    closure_cdf: Floats  #: (4, 1 + 9): open, RC1..RC9
    ethnicity_cdf: Floats
    asylum_cdf: Floats  #: over ETHNICITY codes
    disability_p: Floats
    sources: tuple[str, ...]  #: referral-source codes valid in the year


@functools.cache
def tables(year: int) -> Tables:
    """The parameter arrays for ``year`` (referral source and closure codes valid in it)."""
    cin = language("cin")
    sources = tuple(v.code for v in cin.indicator("referral_source").values if valid_in(v, year))
    closures = tuple(v.code for v in cin.indicator("reason_for_closure").values if valid_in(v, year))
    profiles = m.PROFILES
    factor_p = np.zeros((len(profiles), len(FACTORS)), dtype=np.float64)
    for k, prof in enumerate(profiles):
        for code, p in prof.factors.items():
            factor_p[k, _FACTOR[code]] = p
    background = np.array([m.BACKGROUND.get(c, 0.0) for c in FACTORS])
    factor_p = 1 - (1 - factor_p) * (1 - background)
    base = np.array([m.REFERRAL_SOURCES[c] if c in sources else 0.0 for c in sources])
    source_p = np.array([base * [prof.sources.get(c, 1.0) for c in sources] for prof in profiles])
    closure_p = np.zeros((len(m.STATUSES), 1 + len(CLOSURES)))
    for s, table in enumerate(_CLOSURE_BY_STATUS):
        moved = 0.0
        for code, p in table.items():
            if code in closures:
                closure_p[s, 1 + CLOSURES.index(code)] += p
            else:  # a code not yet in use: its cases close with the older code
                moved += p
        if moved:
            closure_p[s, 1 + CLOSURES.index("RC8")] += moved
        closure_p[s, 0] = 1 - closure_p[s, 1:].sum()
    ethnicities = tuple(m.ETHNICITIES)
    return Tables(
        factor_p=factor_p.astype(np.float32),
        min_age=np.array([m.CHILD_MIN_AGE.get(c, -1) for c in FACTORS], dtype=np.int64),
        age_cdf=_cdf(np.array([m.AGE_SHAPES[p.age] for p in profiles])),
        female=np.array([p.female for p in profiles]),
        unborn=np.array([p.unborn for p in profiles]),
        disabled=np.array([p.disabled for p in profiles]),
        need_cdf=_cdf(np.array([_pmf(p.primary_need, m.PRIMARY_NEEDS) for p in profiles])),
        source_cdf=_cdf(source_p),
        status_cdf=_cdf(np.array([p.status for p in profiles])),
        abuse_cdf=_cdf(np.array([_pmf(p.abuse, m.CATEGORIES_OF_ABUSE) for p in profiles])),
        closure_cdf=_cdf(closure_p),
        ethnicity_cdf=_cdf(_pmf(m.ETHNICITIES, ethnicities)[None, :])[0],
        asylum_cdf=_cdf(_pmf(m.ASYLUM_ETHNICITIES, ethnicities)[None, :])[0],
        disability_p=np.array(list(m.DISABILITIES.values())),
        sources=sources,
    )


def _cdf(p: Floats) -> Floats:
    """Row-wise cumulative sums, normalised so the last column is exactly 1."""
    c = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
    c[:, -1] = 1.0
    return np.asarray(c, dtype=np.float64)


def _pick(cdf: Floats, rows: Ints | None, u: Floats) -> Ints:
    """Inverse-CDF draws: row ``rows[i]`` of ``cdf`` (or the single row) at uniform ``u[i]``."""
    width = cdf.shape[-1]
    if rows is None:
        return np.minimum(np.searchsorted(cdf, u, side="right"), width - 1).astype(np.int64)
    # row k of the table shifted up by k: one sorted array, one vectorised search
    shifted = (cdf + np.arange(cdf.shape[0])[:, None]).reshape(-1)
    out = np.searchsorted(shifted, u + rows, side="right") - rows * width
    return np.minimum(out, width - 1).astype(np.int64)


def _days(year: int, month: int, day: int) -> int:
    return (dt.date(year, month, day) - dt.date(1970, 1, 1)).days


def draw(scenario: Scenario, start: int, n: int, rng: np.random.Generator) -> Frame:
    """Draw ``n`` cases numbered from ``start`` with ``rng``."""
    t = tables(scenario.year)
    k = len(m.PROFILES)
    profile = np.searchsorted(np.cumsum(scenario.weights), rng.random(n), side="right")
    profile = np.minimum(profile, k - 1).astype(np.int64)
    age = _pick(t.age_cdf, profile, rng.random(n))
    unborn = (age == 0) & (rng.random(n) < t.unborn[profile])
    u = rng.random(n)
    sex = np.where(u < t.female[profile], 1, 0).astype(np.int64)
    sex[unborn | (rng.random(n) < P_SEX_UNKNOWN)] = 2
    status = _pick(t.status_cdf, profile, rng.random(n))
    assessed = rng.random(n) < np.asarray(P_ASSESSED)[status]

    # assessment factors, conditionally independent given the profile
    factors = rng.random((n, len(FACTORS)), dtype=np.float32) < t.factor_p[profile]
    child_age = np.where(unborn, -1, age)
    factors &= child_age[:, None] >= t.min_age[None, :]
    factors &= assessed[:, None]

    ethnicity = _pick(t.ethnicity_cdf, None, rng.random(n))
    uasc = factors[:, _FACTOR["9A"]]
    if uasc.any():
        ethnicity[uasc] = _pick(t.asylum_cdf, None, rng.random(int(uasc.sum())))
        sex[uasc & (rng.random(n) < 0.9)] = 0
    nobt = unborn & (rng.random(n) < 0.7)
    ethnicity[nobt] = list(m.ETHNICITIES).index("NOBT")

    disabled = ~unborn & (rng.random(n) < t.disabled[profile])
    disabilities = (rng.random((n, len(m.DISABILITIES))) < t.disability_p[None, :]) & disabled[:, None]
    none_drawn = disabled & ~disabilities.any(axis=1)
    disabilities[none_drawn, list(m.DISABILITIES).index("DDA")] = True

    primary_need = _pick(t.need_cdf, profile, rng.random(n))
    source = _pick(t.source_cdf, profile, rng.random(n))
    closure = _pick(t.closure_cdf, status, rng.random(n)) - 1
    on_plan = (status == 2) | ((status == 3) & (rng.random(n) < P_CP_IF_LOOKED_AFTER))
    abuse = np.where(on_plan, _pick(t.abuse_cdf, profile, rng.random(n)), -1)

    weights = scenario.geography.case_weights
    area = np.minimum(
        np.searchsorted(np.cumsum(weights), rng.random(n), side="right"), len(weights) - 1
    ).astype(np.int64)

    first = _days(scenario.year - 1, 4, 1)
    last = _days(scenario.year, 3, 31)
    reference = first + rng.integers(0, last - first + 1, n)
    born = reference - np.floor((age + rng.random(n)) * 365.25).astype(np.int64)
    birth_month = (
        born.astype("datetime64[D]").astype("datetime64[M]").astype("datetime64[D]")
    ).astype(np.int64)
    return Frame(
        start=start,
        profile=profile,
        status=status,
        assessed=assessed,
        age=age,
        unborn=unborn,
        sex=sex,
        ethnicity=ethnicity,
        area=area,
        reference=reference,
        birth_month=birth_month,
        factors=factors,
        disabilities=disabilities,
        primary_need=primary_need,
        source=source,
        closure=closure,
        abuse=abuse,
    )


def frames(scenario: Scenario, n: int, seed: int) -> Iterator[Frame]:
    """The ``n`` cases of ``scenario`` for ``seed``, in blocks of ``BLOCK``."""
    for block, start in enumerate(range(0, n, BLOCK)):
        rng = np.random.default_rng([seed, CASE_STREAM, block])
        yield draw(scenario, start, min(BLOCK, n - start), rng)


# --- Arrow ------------------------------------------------------------------------------


def ids(prefix: str, start: int, n: int, digits: int = 8) -> pa.StringArray:
    """``prefix`` + zero-padded case numbers ``start+1 .. start+n``, built without Python strings."""
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    width = len(head) + digits
    buf = np.empty((n, width), dtype=np.uint8)
    buf[:, : len(head)] = head
    x = np.arange(start + 1, start + n + 1, dtype=np.int64)
    for pos in range(width - 1, len(head) - 1, -1):
        buf[:, pos] = 48 + x % 10
        x //= 10
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(buf.reshape(-1)))


def _category(codes: Ints, dictionary: Sequence[str], mask: Bools | None) -> pa.DictionaryArray:
    indices = pa.array(codes.astype(np.int32), mask=mask)
    return pa.DictionaryArray.from_arrays(indices, pa.array(dictionary, pa.string()))


def _or(*masks: Bools | None) -> Bools | None:
    present = [x for x in masks if x is not None]
    if not present:
        return None
    out = present[0]
    for x in present[1:]:
        out = out | x
    return out


def _date(days: Ints, mask: Bools | None) -> pa.Array:
    return pa.array(days.astype(np.int32), pa.int32(), mask=mask).cast(pa.date32())


def to_batch(
    frame: Frame,
    scenario: Scenario,
    schema_: pa.Schema,
    blank: Callable[[], Bools | None],
) -> pa.RecordBatch:
    """The ``cases`` rows of ``frame`` in ``schema_``; ``blank()`` gives each nullable column's
    extra null mask in column order (or None)."""
    n = frame.size
    geo = scenario.geography
    if scenario.cohort is None:  # as the CIN census adapter derives it
        cohort_codes = np.where(frame.abuse >= 0, 2, np.where(frame.status == 0, 0, 1))
    else:
        cohort_codes = np.full(n, COHORTS.index(scenario.cohort), dtype=np.int64)
    no_factors = ~frame.assessed
    t = tables(scenario.year)
    columns: dict[str, pa.Array] = {
        "case_id": ids(scenario.prefix, frame.start, n),
        "child_id": ids(scenario.prefix + "K", frame.start, n),
        "reference_date": _date(frame.reference, None),
        "birth_month": _date(frame.birth_month, frame.unborn),
        "age": pa.array(frame.age.astype(np.int16)),
        "sex": _category(frame.sex, SEXES, None),
        "ethnicity": _category(frame.ethnicity, tuple(m.ETHNICITIES), None),
        "disability": pa.array(frame.disabilities.any(axis=1)),
        "area": _category(frame.area, geo.areas, None),
        "la": _category(geo.la_of[frame.area], geo.las, None),
        "cohort": _category(cohort_codes, COHORTS, None),
        "agency": _category(np.zeros(n, dtype=np.int64), ("social_care",), None),
        "source_system": _category(np.zeros(n, dtype=np.int64), ("cin-census",), None),
    }
    cin = language("cin")
    year = scenario.year
    valid_factors = [c for c in FACTORS if valid_in(cin.indicator(c), year)]
    any_factor = frame.factors[:, [_FACTOR[c] for c in valid_factors]].any(axis=1)
    for ind in cin.indicators:
        if not valid_in(ind, year):
            continue
        name = f"cin.{ind.code}"
        code = ind.code
        if code in _FACTOR:
            columns[name] = pa.array(frame.factors[:, _FACTOR[code]], mask=no_factors)
        elif code in ("18A", "19A"):
            b, c = _FACTOR[code[:2] + "B"], _FACTOR[code[:2] + "C"]
            columns[name] = pa.array(frame.factors[:, b] | frame.factors[:, c], mask=no_factors)
        elif code == "21":
            columns[name] = pa.array(~any_factor, mask=no_factors)
        elif code.startswith("disability_") and code[len("disability_") :] in m.DISABILITIES:
            j = list(m.DISABILITIES).index(code[len("disability_") :])
            columns[name] = pa.array(frame.disabilities[:, j])
        elif code == "primary_need":
            columns[name] = _category(frame.primary_need, m.PRIMARY_NEEDS, None)
        elif code == "referral_source":
            columns[name] = _category(frame.source, t.sources, None)
        elif code == "reason_for_closure":
            columns[name] = _category(np.maximum(frame.closure, 0), CLOSURES, frame.closure < 0)
        elif code == "category_of_abuse":
            columns[name] = _category(
                np.maximum(frame.abuse, 0), m.CATEGORIES_OF_ABUSE, frame.abuse < 0
            )
        elif ind.kind is Kind.CATEGORY:  # an indicator the model does not draw: unknown
            columns[name] = pa.nulls(n, schema.CATEGORY)
        else:
            columns[name] = pa.nulls(n, schema.indicator_type(ind))
    arrays = []
    for field in schema_:
        column = columns[field.name]
        if field.nullable:
            mask = blank()
            if mask is not None:
                column = _blanked(column, mask)
        arrays.append(column)
    return pa.RecordBatch.from_arrays(arrays, schema=schema_)


def _blanked(column: pa.Array, mask: Bools) -> pa.Array:
    """``column`` with the rows in ``mask`` set to null."""
    import pyarrow.compute as pc

    if pa.types.is_dictionary(column.type):
        indices = pc.if_else(pa.array(mask), pa.scalar(None, column.indices.type), column.indices)
        return pa.DictionaryArray.from_arrays(indices, column.dictionary)
    return pc.if_else(pa.array(mask), pa.scalar(None, column.type), column)
