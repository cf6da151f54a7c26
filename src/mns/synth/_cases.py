"""Drawing synthetic cases, one block of rows at a time, as numpy arrays and then Arrow.

Each block of ``BLOCK`` cases has its own random stream, seeded from ``(seed, stream, block
number)``: the values of a case never depend on how many cases are drawn or on how the output
is batched, so the first *m* cases of ``cases(n, seed=s)`` are ``cases(m, seed=s)``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from mns.lang import Kind, language, valid_in
from mns.records import schema
from mns.records.model import SEXES
from mns.synth import _model as m
from mns.synth._geography import Geography

__all__ = ["BLOCK", "Frame", "Scenario", "frames", "to_batch"]

BLOCK = 1 << 16
CASE_STREAM = 1
MISSING_STREAM = 2
MAX_CASES = 99_999_999  # case ids have eight digits
#: Columns the model leaves empty: they take no blanking mask, so adding one to the schema
#: leaves every other column's values as they were for a seed.
_NOT_DRAWN = frozenset({"team"})
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
    profiles: Alias = attrs.field(init=False)
    areas: Alias = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "profiles", alias(self.weights[None, :]))
        object.__setattr__(self, "areas", alias(self.geography.case_weights[None, :]))


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
    factors: Bools  #: (len(FACTORS), n): one contiguous row per factor; False if not assessed
    disabilities: Bools  #: (n, len(DISABILITIES))
    primary_need: Ints
    source: Ints
    closure: Ints  #: index into CLOSURES, -1 open
    abuse: Ints  #: index into CATEGORIES_OF_ABUSE, -1 no child protection plan

    @property
    def size(self) -> int:
        return len(self.profile)

    def head(self, n: int) -> Frame:
        """The first ``n`` cases."""
        if n >= self.size:
            return self
        changes = {
            f.name: getattr(self, f.name)[:n]
            for f in attrs.fields(Frame)
            if f.name not in ("start", "factors")
        }
        return attrs.evolve(self, factors=self.factors[:, :n], **changes)


def _pmf(table: Mapping[str, float], codes: Sequence[str]) -> Floats:
    """The probabilities of ``table`` in the order of ``codes`` (0 for codes it lacks)."""
    p = np.array([table.get(c, 0.0) for c in codes], dtype=np.float64)
    return np.asarray(p / p.sum(), dtype=np.float64)


@attrs.frozen(kw_only=True, eq=False)
class Tables:
    """The model's parameters as arrays, for one collection year."""

    factor_p: npt.NDArray[np.uint16]  #: (F, K): P(factor | profile) in units of 1/65536
    min_age: Ints  #: (F,), -1 for factors not about the child
    age: Alias  #: (K, 18)
    female: Floats
    unborn: Floats
    disabled: Floats
    need: Alias  #: (K, 10)
    source: Alias  #: (K, S)
    status: Alias  #: (K, 4)
    abuse: Alias  #: (K, 5)
    closure: Alias  #: (4, 1 + 9): open, RC1..RC9
    ethnicity: Alias
    asylum: Alias  #: over ETHNICITY codes
    disability_p: Floats
    sources: tuple[str, ...]  #: referral-source codes valid in the year


@functools.cache
def tables(year: int) -> Tables:
    """The parameter arrays for ``year`` (referral source and closure codes valid in it)."""
    cin = language("cin")
    sources = tuple(v.code for v in cin.indicator("referral_source").values if valid_in(v, year))
    closures = tuple(
        v.code for v in cin.indicator("reason_for_closure").values if valid_in(v, year)
    )
    profiles = m.PROFILES
    factor_p = np.zeros((len(profiles), len(FACTORS)), dtype=np.float64)
    for k, prof in enumerate(profiles):
        for code, p in prof.factors.items():
            factor_p[k, _FACTOR[code]] = p
    background = np.array([m.BACKGROUND.get(c, 0.0) for c in FACTORS])
    factor_p = 1 - (1 - factor_p) * (1 - background)
    base = np.array([m.REFERRAL_SOURCES[c] if c in sources else 0.0 for c in sources])
    source_p = np.array([base * [prof.sources.get(c, 1.0) for c in sources] for prof in profiles])
    closure_p = np.zeros((len(m.CASE_STATUSES), 1 + len(CLOSURES)))
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
        factor_p=np.ascontiguousarray(np.rint(factor_p.T * 65536).clip(0, 65535), dtype=np.uint16),
        min_age=np.array([m.CHILD_MIN_AGE.get(c, -1) for c in FACTORS], dtype=np.int64),
        age=alias(np.array([m.AGE_SHAPES[p.age] for p in profiles])),
        female=np.array([p.female for p in profiles]),
        unborn=np.array([p.unborn for p in profiles]),
        disabled=np.array([p.disabled for p in profiles]),
        need=alias(np.array([_pmf(p.primary_need, m.PRIMARY_NEEDS) for p in profiles])),
        source=alias(source_p),
        status=alias(np.array([p.status for p in profiles])),
        abuse=alias(np.array([_pmf(p.abuse, m.CATEGORIES_OF_ABUSE) for p in profiles])),
        closure=alias(closure_p),
        ethnicity=alias(_pmf(m.ETHNICITIES, ethnicities)[None, :]),
        asylum=alias(_pmf(m.ASYLUM_ETHNICITIES, ethnicities)[None, :]),
        disability_p=np.array(list(m.DISABILITIES.values())),
        sources=sources,
    )


@attrs.frozen(eq=False)
class Alias:
    """Walker's alias tables for drawing from each row of a probability table in O(1)."""

    prob: Floats  #: (rows, width): keep column j with this probability...
    alias: Ints  #: ...else take this column


def alias(p: Floats) -> Alias:
    """Alias tables (Vose's method) for each row of the non-negative table ``p``."""
    p = np.atleast_2d(np.asarray(p, dtype=np.float64))
    rows, width = p.shape
    prob = np.ones((rows, width))
    other = np.tile(np.arange(width, dtype=np.int64), (rows, 1))
    for r in range(rows):
        scaled = (p[r] / p[r].sum() * width).tolist()
        small = [j for j, x in enumerate(scaled) if x < 1.0]
        large = [j for j, x in enumerate(scaled) if x >= 1.0]
        while small and large:
            s_, l_ = small.pop(), large[-1]
            prob[r, s_] = scaled[s_]
            other[r, s_] = l_
            scaled[l_] -= 1.0 - scaled[s_]
            if scaled[l_] < 1.0:
                small.append(large.pop())
        # what remains is 1 up to rounding
    return Alias(prob=prob, alias=other)


def _pick(table: Alias, rows: Ints | None, u: Floats) -> Ints:
    """Draws from row ``rows[i]`` of ``table`` (or its only row) with one uniform ``u[i]`` each:
    its integer part (scaled by the width) picks a column, its fraction keeps it or its alias."""
    width = table.prob.shape[1]
    scaled = u * width
    column = np.minimum(scaled.astype(np.int64), width - 1)
    fraction = scaled - column
    row = np.zeros(len(u), dtype=np.int64) if rows is None else rows
    keep = fraction < table.prob[row, column]
    return np.asarray(np.where(keep, column, table.alias[row, column]), dtype=np.int64)


def _days(year: int, month: int, day: int) -> int:
    return (dt.date(year, month, day) - dt.date(1970, 1, 1)).days


def draw(scenario: Scenario, start: int, n: int, rng: np.random.Generator) -> Frame:
    """Draw ``n`` cases numbered from ``start`` with ``rng``."""
    t = tables(scenario.year)
    profile = _pick(scenario.profiles, None, rng.random(n))
    age = _pick(t.age, profile, rng.random(n))
    unborn = (age == 0) & (rng.random(n) < t.unborn[profile])
    u = rng.random(n)
    sex = np.where(u < t.female[profile], 1, 0).astype(np.int64)
    sex[unborn | (rng.random(n) < P_SEX_UNKNOWN)] = 2
    status = _pick(t.status, profile, rng.random(n))
    assessed = rng.random(n) < np.asarray(P_ASSESSED)[status]

    # assessment factors, conditionally independent given the profile
    u16 = rng.integers(0, 1 << 16, size=(len(FACTORS), n), dtype=np.uint16)
    factors = np.empty((len(FACTORS), n), dtype=np.bool_)
    for j in range(len(FACTORS)):
        np.less(u16[j], t.factor_p[j][profile], out=factors[j])
    child_age = np.where(unborn, -1, age)
    factors &= child_age[None, :] >= t.min_age[:, None]
    factors &= assessed[None, :]

    ethnicity = _pick(t.ethnicity, None, rng.random(n))
    uasc = factors[_FACTOR["9A"]]
    if uasc.any():
        ethnicity[uasc] = _pick(t.asylum, None, rng.random(int(uasc.sum())))
        sex[uasc & (rng.random(n) < 0.9)] = 0
    nobt = unborn & (rng.random(n) < 0.7)
    ethnicity[nobt] = list(m.ETHNICITIES).index("NOBT")

    disabled = ~unborn & (rng.random(n) < t.disabled[profile])
    disabilities = (rng.random((n, len(m.DISABILITIES))) < t.disability_p[None, :]) & disabled[
        :, None
    ]
    none_drawn = disabled & ~disabilities.any(axis=1)
    disabilities[none_drawn, list(m.DISABILITIES).index("DDA")] = True

    primary_need = _pick(t.need, profile, rng.random(n))
    source = _pick(t.source, profile, rng.random(n))
    closure = _pick(t.closure, status, rng.random(n)) - 1
    on_plan = (status == 2) | ((status == 3) & (rng.random(n) < P_CP_IF_LOOKED_AFTER))
    abuse = np.where(on_plan, _pick(t.abuse, profile, rng.random(n)), -1)

    area = _pick(scenario.areas, None, rng.random(n))

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
    """The ``n`` cases of ``scenario`` for ``seed``, in blocks of ``BLOCK``.

    A block is always drawn whole and then cut, so the first *m* cases never depend on ``n``.
    """
    for block, start in enumerate(range(0, n, BLOCK)):
        rng = np.random.default_rng([seed, CASE_STREAM, block])
        yield draw(scenario, start, BLOCK, rng).head(n - start)


# --- Arrow ------------------------------------------------------------------------------


def ids(prefix: str, start: int, n: int, digits: int = 8) -> pa.StringArray:
    """``prefix`` + zero-padded case numbers ``start+1 .. start+n``, without Python strings."""
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


def _validity(mask: Bools | None) -> tuple[pa.Buffer | None, int]:
    """The validity bitmap of an array whose rows in ``mask`` are null, and the null count."""
    if mask is None:
        return None, 0
    nulls = int(np.count_nonzero(mask))
    if nulls == 0:
        return None, 0
    return pa.py_buffer(np.packbits(~mask, bitorder="little")), nulls


def _fixed(values: npt.NDArray[Any], typ: pa.DataType, mask: Bools | None) -> pa.Array:
    """A fixed-width Arrow array over ``values`` (already of the type's width), built from
    buffers: much faster than ``pa.array(values, mask=...)``."""
    validity, nulls = _validity(mask)
    data = np.ascontiguousarray(values)
    return pa.Array.from_buffers(typ, len(data), [validity, pa.py_buffer(data)], null_count=nulls)


def flags(values: Bools, mask: Bools | None = None) -> pa.Array:
    """A bool array (bit-packed with numpy), null where ``mask``."""
    validity, nulls = _validity(mask)
    data = pa.py_buffer(np.packbits(values, bitorder="little"))
    return pa.Array.from_buffers(pa.bool_(), len(values), [validity, data], null_count=nulls)


def _category(codes: Ints, dictionary: Sequence[str], mask: Bools | None) -> pa.DictionaryArray:
    indices = _fixed(codes.astype(np.int32), pa.int32(), mask)
    return pa.DictionaryArray.from_arrays(indices, _dictionary(tuple(dictionary)))


@functools.lru_cache(maxsize=64)
def _dictionary(values: tuple[str, ...]) -> pa.Array:
    return pa.array(values, pa.string())


def _date(days: Ints, mask: Bools | None) -> pa.Array:
    return _fixed(days.astype(np.int32), pa.date32(), mask)


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
        "age": _fixed(frame.age.astype(np.int16), pa.int16(), None),
        "sex": _category(frame.sex, SEXES, None),
        "ethnicity": _category(frame.ethnicity, tuple(m.ETHNICITIES), None),
        "disability": flags(np.asarray(frame.disabilities.any(axis=1))),
        "area": _category(frame.area, geo.areas, None),
        "la": _category(geo.la_of[frame.area], geo.las, None),
        "cohort": _category(cohort_codes, COHORTS, None),
        "agency": _category(np.zeros(n, dtype=np.int64), ("social_care",), None),
        "source_system": _category(np.zeros(n, dtype=np.int64), ("cin-census",), None),
        "team": pa.nulls(n, schema.CATEGORY),  # the model draws no teams (the demo adds them)
    }
    cin = language("cin")
    year = scenario.year
    valid_factors = [c for c in FACTORS if valid_in(cin.indicator(c), year)]
    any_factor = frame.factors[[_FACTOR[c] for c in valid_factors]].any(axis=0)
    for ind in cin.indicators:
        if not valid_in(ind, year):
            continue
        name = f"cin.{ind.code}"
        code = ind.code
        if code in _FACTOR:
            columns[name] = flags(frame.factors[_FACTOR[code]], no_factors)
        elif code in ("18A", "19A"):
            b, c = _FACTOR[code[:2] + "B"], _FACTOR[code[:2] + "C"]
            columns[name] = flags(frame.factors[b] | frame.factors[c], no_factors)
        elif code == "21":
            columns[name] = flags(np.asarray(~any_factor), no_factors)
        elif code.startswith("disability_") and code[len("disability_") :] in m.DISABILITIES:
            j = list(m.DISABILITIES).index(code[len("disability_") :])
            columns[name] = flags(np.ascontiguousarray(frame.disabilities[:, j]))
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
        if field.nullable and field.name not in _NOT_DRAWN:
            mask = blank()
            if mask is not None:
                column = _blanked(column, mask)
        arrays.append(column)
    return pa.RecordBatch.from_arrays(arrays, schema=schema_)


def _blanked(column: pa.Array, mask: Bools) -> pa.Array:
    """``column`` with the rows in ``mask`` set to null."""
    import pyarrow.compute as pc

    if pa.types.is_dictionary(column.type):
        indices = pc.if_else(flags(mask), pa.scalar(None, column.indices.type), column.indices)
        return pa.DictionaryArray.from_arrays(indices, column.dictionary)
    return pc.if_else(flags(mask), pa.scalar(None, column.type), column)
