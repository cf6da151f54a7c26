"""One Hypothesis strategy per model class, registered so ``st.from_type`` uses them.

``from_type`` alone ignores attrs validators; these strategies build valid objects only.
"""

from __future__ import annotations

import datetime as dt
import string

from hypothesis import strategies as st

from mns.lang.model import (
    CategoryValue,
    Concerns,
    Crosswalk,
    CrosswalkProvenance,
    Derivation,
    Dimension,
    Indicator,
    Kind,
    Language,
    Polarity,
)
from mns.plan.model import (
    Aim,
    CapacityUnit,
    Cluster,
    CostUnit,
    Direction,
    Evidence,
    Funding,
    Mode,
    NeedGroup,
    Outcome,
    Plan,
    Service,
    Target,
)
from mns.records.model import (
    SEXES,
    Assignment,
    Audit,
    Case,
    Cohort,
    OutcomeRecord,
    Role,
    ServiceEpisode,
)

text = st.text(st.characters(codec="utf-8"), max_size=30)
words = st.text(string.ascii_letters + " -'", min_size=1, max_size=30).filter(str.strip)
codes = st.text(string.ascii_letters + string.digits + "_", min_size=1, max_size=8).filter(
    lambda c: not c.startswith("_")
)
years = st.none() | st.integers(1990, 2100)
dates = st.dates(dt.date(1990, 1, 1), dt.date(2040, 12, 31))


@st.composite
def year_range(draw: st.DrawFn) -> tuple[int | None, int | None]:
    start, end = draw(years), draw(years)
    if start is not None and end is not None and end < start:
        start, end = end, start
    return start, end


@st.composite
def values(draw: st.DrawFn) -> CategoryValue:
    start, end = draw(year_range())
    return CategoryValue(
        code=draw(codes),
        label=draw(words),
        plain_label=draw(st.none() | words),
        valid_from=start,
        valid_to=end,
    )


@st.composite
def dimensions(draw: st.DrawFn) -> Dimension:
    return Dimension(code=draw(codes), label=draw(words), description=draw(text))


@st.composite
def indicators(draw: st.DrawFn, dimension: str | None = None) -> Indicator:
    kind = draw(st.sampled_from(Kind))
    vals: tuple[CategoryValue, ...] = ()
    if kind is Kind.CATEGORY:
        vals = tuple(draw(st.lists(values(), min_size=1, max_size=4, unique_by=lambda v: v.code)))
    start, end = draw(year_range())
    return Indicator(
        code=draw(codes),
        label=draw(words),
        dimension=dimension if dimension is not None else draw(codes),
        kind=kind,
        concerns=draw(st.none() | st.sampled_from(Concerns)),
        values=vals,
        polarity=draw(st.sampled_from(Polarity)) if kind is Kind.FLAG else Polarity.NEED,
        valid_from=start,
        valid_to=end,
        plain_label=draw(st.none() | words),
        definition=draw(text),
    )


@st.composite
def languages(draw: st.DrawFn) -> Language:
    dims = draw(st.lists(dimensions(), min_size=1, max_size=3, unique_by=lambda d: d.code))
    dim_codes = [d.code for d in dims]
    inds = draw(
        st.lists(
            st.sampled_from(dim_codes).flatmap(lambda d: indicators(dimension=d)),
            max_size=6,
            unique_by=lambda i: i.code,
        )
    )
    return Language(
        name=draw(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)),
        version=draw(words),
        title=draw(text),
        dimensions=tuple(dims),
        indicators=tuple(inds),
    )


@st.composite
def mappings(draw: st.DrawFn) -> Derivation:
    return Derivation(target=draw(codes), rule=draw(words), note=draw(text))


@st.composite
def crosswalks(draw: st.DrawFn) -> Crosswalk:
    return Crosswalk(
        source=draw(codes),
        target=draw(codes),
        version=draw(words),
        provenance=draw(st.sampled_from(CrosswalkProvenance)),
        reference=draw(text),
        mappings=tuple(draw(st.lists(mappings(), max_size=4, unique_by=lambda m: m.target))),
    )


plan_codes = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,6}", fullmatch=True)
#: Rules valid in any plan: they use case fields only.
RULES = ("age < 5", "5 <= age < 11", "sex == 'F'", "not disability", "age >= 11 and sex == 'M'")


_JOINT = (Funding(agency="health", share=0.25), Funding(agency="social_care", share=0.75))


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    clusters = draw(
        st.lists(
            st.builds(Cluster, code=plan_codes, name=words, description=text),
            max_size=3,
            unique_by=lambda c: c.code,
        )
    )
    cluster_codes = [c.code for c in clusters]
    groups = draw(
        st.lists(
            st.builds(
                NeedGroup,
                code=plan_codes,
                name=words,
                cluster=st.sampled_from(cluster_codes) if cluster_codes else st.none(),
                description=text,
                rule=st.none() | st.sampled_from(RULES),
            ),
            min_size=1,
            max_size=4,
            unique_by=lambda g: g.code,
        )
    )
    group_codes = [g.code for g in groups]
    outcomes = draw(
        st.lists(
            st.builds(
                Outcome,
                code=plan_codes,
                need_group=st.sampled_from(group_codes),
                objective=words,
                measure=words,
                target=st.none()
                | st.builds(Target, share=st.floats(0, 1), direction=st.sampled_from(Direction))
                | st.builds(
                    Target,
                    mean=st.floats(-1e6, 1e6, allow_nan=False),
                    direction=st.sampled_from(Direction),
                ),
                note=text,
            ),
            max_size=3,
            unique_by=lambda o: o.code,
        )
    )
    services = draw(
        st.lists(
            st.builds(
                Service,
                code=plan_codes,
                name=words,
                need_groups=st.lists(
                    st.sampled_from(group_codes), min_size=1, max_size=3, unique=True
                ).map(tuple),
                agencies=st.lists(words, max_size=2).map(tuple),
                base=text,
                duration_weeks=st.none() | st.integers(0, 520),
                mode=st.sampled_from(Mode),
                aim=st.sampled_from(Aim),
                evidence=st.sampled_from(Evidence),
                threshold=st.none() | st.sampled_from(RULES),
                capacity=st.none() | st.integers(0, 10_000),
                capacity_unit=st.sampled_from(CapacityUnit),
                unit_cost=st.none() | st.floats(0, 1e6, allow_nan=False),
                cost_per=st.sampled_from(CostUnit),
                funding=st.sampled_from([(), (Funding(agency="health", share=1.0),), _JOINT]),
                received_as=st.lists(codes, max_size=2).map(tuple),
                description=text,
            ),
            max_size=4,
            unique_by=lambda s: s.code,
        )
    )
    return Plan(
        name=draw(words),
        language="mns",
        description=draw(text),
        clusters=tuple(clusters),
        need_groups=tuple(groups),
        outcomes=tuple(outcomes),
        services=tuple(services),
    )


indicator_values = st.dictionaries(
    st.builds(lambda lang, code: f"{lang}.{code}", st.sampled_from(["cin", "mns"]), codes),
    st.none() | st.booleans() | st.integers(0, 3) | codes,
    max_size=5,
)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    return Case(
        case_id=draw(codes),
        child_id=draw(st.none() | codes),
        reference_date=draw(st.none() | dates),
        birth_month=draw(st.none() | dates.map(lambda d: d.replace(day=1))),
        age=draw(st.none() | st.integers(0, 25)),
        sex=draw(st.none() | st.sampled_from(SEXES)),
        ethnicity=draw(st.none() | st.sampled_from(["WBRI", "BAFR", "MWBC", "NOBT"])),
        disability=draw(st.none() | st.booleans()),
        area=draw(st.none() | codes),
        la=draw(st.none() | codes),
        cohort=draw(st.none() | st.sampled_from(Cohort)),
        agency=draw(st.none() | words),
        source_system=draw(st.none() | codes),
        indicators=draw(indicator_values),
    )


@st.composite
def service_episodes(draw: st.DrawFn) -> ServiceEpisode:
    start = draw(st.none() | dates)
    end = draw(st.none() | (dates.filter(lambda d: start is None or d >= start)))
    return ServiceEpisode(
        case_id=draw(codes),
        service=draw(codes),
        child_id=draw(st.none() | codes),
        detail=draw(st.none() | codes),
        start_date=start,
        end_date=end,
        agency=draw(st.none() | words),
        provider=draw(st.none() | words),
    )


@st.composite
def audits(draw: st.DrawFn) -> Audit:
    fractions = st.floats(0.001, 1.0, allow_nan=False)
    return Audit(
        name=draw(words),
        locality=draw(text),
        sample_frame=draw(text),
        period_start=draw(st.none() | dates),
        period_end=draw(st.none() | dates),
        sample_size=draw(st.none() | st.integers(1, 10_000)),
        population_size=draw(st.none() | st.integers(1, 100_000)),
        sampling_fraction=draw(st.none() | fractions),
        role=draw(st.sampled_from(Role)),
        strata=draw(st.dictionaries(codes, fractions, max_size=3)),
    )


outcome_records = st.builds(
    OutcomeRecord,
    case_id=codes,
    outcome=codes,
    recorded_on=st.none() | dates,
    achieved=st.none() | st.booleans(),
    value=st.none() | st.floats(-1e6, 1e6, allow_nan=False),
    detail=st.none() | text,
)
assignments = st.builds(
    Assignment,
    case_id=codes,
    audit=words,
    role=st.sampled_from(Role),
    need_group=st.none() | plan_codes,
    auditor=st.none() | words,
    consensus=st.none() | st.booleans(),
    notes=st.none() | text,
)

STRATEGIES: dict[type, st.SearchStrategy[object]] = {
    CategoryValue: values(),
    Dimension: dimensions(),
    Indicator: indicators(),
    Language: languages(),
    Derivation: mappings(),
    Crosswalk: crosswalks(),
    Plan: plans(),
    Case: cases(),
    ServiceEpisode: service_episodes(),
    OutcomeRecord: outcome_records,
    Assignment: assignments,
    Audit: audits(),
}
for _cls, _strategy in STRATEGIES.items():
    st.register_type_strategy(_cls, _strategy)
