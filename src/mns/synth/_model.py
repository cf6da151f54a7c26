"""The parameters of the synthetic-case model: latent need profiles and what each one makes
likely (assessment factors, primary need, age, sex, referral source, how far the case goes,
the services it receives and the outcomes measured).

Everything here is invented to look like English children's-services data, calibrated so that
the marginal prevalences of the CIN assessment factors are near the national figures quoted in
the mns domain notes (DOMAIN.md section 3: children in need at 31 March 2016). The profiles
mirror the need groups of the demo plan (``mns/demo/exampleshire.toml``): the profile code is
the need-group code. ``tests/test_demo_data.py`` checks that the two stay in step.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

__all__ = [
    "AGE_SHAPES",
    "ASYLUM_ETHNICITIES",
    "CASE_STATUSES",
    "CHILD_MIN_AGE",
    "DISABILITIES",
    "ETHNICITIES",
    "LOW_NEED",
    "PROFILES",
    "RECORD_SERVICES",
    "REFERRAL_SOURCES",
    "Profile",
    "RecordService",
]

#: The residual profile: low need, usually no further action. Never a need group.
LOW_NEED = "low_need"

#: How far a case went: closed after referral or assessment, a child in need plan, a child
#: protection plan, looked after. Index order is used in arrays.
CASE_STATUSES = ("nfa", "cin", "cp", "lac")


def _normalised(weights: tuple[float, ...]) -> tuple[float, ...]:
    total = sum(weights)
    return tuple(w / total for w in weights)


#: Age distributions (ages 0-17) that profiles draw from.
AGE_SHAPES: Mapping[str, tuple[float, ...]] = {
    # all children in need: a fifth under five, a bulge at 10-15 (DfE CIN by age, rounded)
    "all": _normalised((6, 4.5, 4.5, 4.5, 4.5, 5, 5, 5, 5, 5, 6.5, 6.5, 6.5, 6.5, 6.5, 6.5, 6, 6)),
    # babies and toddlers first: pre-birth and under-five referrals
    "young": _normalised((22, 12, 10, 9, 8, 5, 4.5, 4, 3.5, 3, 3, 2.5, 2.5, 2, 2, 1.5, 1, 0.5)),
    # school age
    "school": _normalised((1, 2, 2, 2, 3, 7, 8, 8, 8, 8, 8, 8, 7.5, 7, 6.5, 6, 4, 3)),
    # adolescents
    "teen": _normalised(
        (0.2, 0.2, 0.2, 0.3, 0.3, 0.5, 0.5, 0.8, 1, 1.5, 3, 5, 8, 12, 16, 18, 17, 12)
    ),
}

#: Youngest age at which a factor about the child can be recorded (unborn children: none).
CHILD_MIN_AGE: Mapping[str, int] = {
    "1A": 10,
    "2A": 10,
    "3A": 0,
    "4A": 4,
    "5A": 0,
    "6A": 0,
    "7A": 5,
    "8B": 5,
    "8C": 5,
    "8D": 8,
    "8E": 1,
    "8F": 1,
    "9A": 12,
    "10A": 8,
    "11A": 10,
    "12A": 8,
    "13A": 10,
    "14A": 6,
    "15A": 9,
    "18B": 2,
    "19B": 3,
    "22A": 0,
    "23A": 0,
    "24A": 10,
}

#: Factors with a small chance in every profile (the rest come only from profiles).
BACKGROUND: Mapping[str, float] = {
    "8B": 0.0004,
    "8C": 0.0004,
    "8D": 0.0006,
    "8E": 0.0010,
    "8F": 0.0006,
    "9A": 0.0080,
    "12A": 0.0020,
    "22A": 0.0010,
    "23A": 0.0012,
    "1C": 0.010,
    "2C": 0.012,
    "4C": 0.020,
    "5B": 0.015,
    "6B": 0.020,
    "6A": 0.015,
    "5A": 0.015,
    "3C": 0.010,
}

# Ethnicity codes of the CIN census and SSDA903, with invented shares near the national
# pattern of children in need (about three quarters White British).
ETHNICITIES: Mapping[str, float] = {
    "WBRI": 0.740,
    "WIRI": 0.003,
    "WIRT": 0.002,
    "WOTH": 0.040,
    "WROM": 0.004,
    "MWBC": 0.030,
    "MWBA": 0.010,
    "MWAS": 0.010,
    "MOTH": 0.020,
    "AIND": 0.012,
    "APKN": 0.020,
    "ABAN": 0.006,
    "AOTH": 0.010,
    "BCRB": 0.008,
    "BAFR": 0.020,
    "BOTH": 0.005,
    "CHNE": 0.002,
    "OOTH": 0.020,
    "REFU": 0.004,
    "NOBT": 0.034,
}

#: Ethnicity of unaccompanied asylum-seeking children (factor 9A).
ASYLUM_ETHNICITIES: Mapping[str, float] = {
    "BAFR": 0.30,
    "AOTH": 0.30,
    "OOTH": 0.25,
    "WOTH": 0.10,
    "NOBT": 0.05,
}

#: Referral sources with invented national shares (police and schools first).
REFERRAL_SOURCES: Mapping[str, float] = {
    "1A": 0.040,
    "1B": 0.010,
    "1C": 0.015,
    "1D": 0.010,
    "2A": 0.200,
    "2B": 0.010,
    "3A": 0.020,
    "3B": 0.020,
    "3C": 0.005,
    "3D": 0.020,
    "3E": 0.030,
    "3F": 0.050,
    "4": 0.015,
    "5A": 0.040,
    "5B": 0.035,
    "5C": 0.025,
    "5D": 0.040,  # early help, from 2023
    "6": 0.290,
    "7": 0.030,
    "8": 0.050,
    "9": 0.010,
    "10": 0.035,
}

#: Disability codes of the CIN census and their shares among disabled children (several may apply).
DISABILITIES: Mapping[str, float] = {
    "MOB": 0.15,
    "HAND": 0.05,
    "PC": 0.15,
    "INC": 0.08,
    "COMM": 0.25,
    "LD": 0.35,
    "HEAR": 0.05,
    "VIS": 0.05,
    "BEH": 0.20,
    "CON": 0.05,
    "AUT": 0.35,
    "DDA": 0.10,
}

CATEGORIES_OF_ABUSE = ("NEG", "PHY", "SAB", "EMO", "MUL")
PRIMARY_NEEDS = ("N0", "N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8", "N9")


@attrs.frozen(kw_only=True)
class RecordService:
    """A service code as agency records carry it (the plan's ``received_as``)."""

    code: str
    agency: str
    provider: str
    weeks: int  #: typical duration
    min_age: int = 0
    max_age: int = 17
    drivers: tuple[str, ...] = ()  #: CIN factors that prompt the service whatever the profile
    driver_p: float = 0.0  #: chance of the service when a driver factor is present
    in_plan: bool = True  #: False: a service the demo plan does not list (agency need)


#: Service codes the generator emits, with who provides them.
RECORD_SERVICES: tuple[RecordService, ...] = (
    RecordService(code="assessment", agency="social_care", provider="council", weeks=5),
    RecordService(code="s47", agency="social_care", provider="council", weeks=2),
    RecordService(code="cin_plan", agency="social_care", provider="council", weeks=30),
    RecordService(code="cp_plan", agency="social_care", provider="council", weeks=40),
    RecordService(code="looked_after", agency="social_care", provider="council", weeks=80),
    RecordService(code="family_support", agency="social_care", provider="council", weeks=12),
    RecordService(
        code="edge_of_care", agency="social_care", provider="council", weeks=16, min_age=10
    ),
    RecordService(code="short_breaks", agency="social_care", provider="voluntary", weeks=52),
    RecordService(
        code="camhs",
        agency="health",
        provider="nhs_trust",
        weeks=20,
        min_age=4,
        drivers=("4A", "15A"),
        driver_p=0.20,
    ),
    RecordService(
        code="adult_mental_health",
        agency="health",
        provider="nhs_trust",
        weeks=24,
        drivers=("4B",),
        driver_p=0.15,
    ),
    RecordService(
        code="substance_treatment",
        agency="health",
        provider="voluntary",
        weeks=26,
        drivers=("1B", "2B"),
        driver_p=0.15,
    ),
    RecordService(
        code="health_visiting", agency="health", provider="nhs_trust", weeks=26, max_age=4
    ),
    RecordService(
        code="idva",
        agency="voluntary",
        provider="voluntary",
        weeks=12,
        drivers=("3B",),
        driver_p=0.10,
    ),
    RecordService(
        code="da_recovery",
        agency="voluntary",
        provider="voluntary",
        weeks=10,
        min_age=4,
        max_age=16,
    ),
    RecordService(code="parenting_programme", agency="education", provider="school", weeks=12),
    RecordService(
        code="school_mentoring", agency="education", provider="school", weeks=30, min_age=5
    ),
    RecordService(
        code="education_welfare",
        agency="education",
        provider="council",
        weeks=20,
        min_age=5,
        max_age=16,
    ),
    RecordService(
        code="young_carers",
        agency="voluntary",
        provider="voluntary",
        weeks=40,
        min_age=5,
        drivers=("7A",),
        driver_p=0.30,
    ),
    RecordService(
        code="housing_support", agency="housing", provider="housing_association", weeks=16
    ),
    RecordService(code="refuge", agency="housing", provider="voluntary", weeks=10),
    RecordService(
        code="exploitation_support",
        agency="police",
        provider="police",
        weeks=20,
        min_age=10,
        drivers=("11A", "24A", "13A"),
        driver_p=0.25,
    ),
    RecordService(
        code="return_interview",
        agency="voluntary",
        provider="voluntary",
        weeks=1,
        min_age=8,
        drivers=("10A",),
        driver_p=0.50,
    ),
    RecordService(
        code="youth_offending",
        agency="youth_justice",
        provider="council",
        weeks=26,
        min_age=10,
        in_plan=False,
    ),
    RecordService(
        code="school_nursing",
        agency="health",
        provider="nhs_trust",
        weeks=8,
        min_age=5,
        in_plan=False,
    ),
)


@attrs.frozen(kw_only=True)
class Profile:
    """A latent "true need profile": the need group a case really belongs to."""

    code: str
    name: str
    weight: float  #: share among children in need (the default mix)
    referral_weight: float  #: share among referrals (more low-need cases, fewer long cases)
    age: str  #: a key of AGE_SHAPES
    female: float  #: P(female) among born children
    unborn: float = 0.0  #: P(unborn) among age-0 children
    disabled: float = 0.05
    factors: Mapping[str, float]
    primary_need: Mapping[str, float]
    sources: Mapping[str, float] = attrs.field(factory=dict)  #: referral-source multipliers
    status: tuple[float, float, float, float]  #: P(nfa, cin, cp, lac)
    abuse: Mapping[str, float] = attrs.field(
        factory=lambda: {"NEG": 1.0}
    )  #: category if on a CP plan
    services: Mapping[str, float] = attrs.field(factory=dict)  #: P(service) among non-NFA cases
    outcomes: tuple[str, ...] = ()  #: the demo plan's outcome codes for this group
    confused_with: tuple[str, ...] = ()  #: groups an audit panel mistakes it for


_OTHER = 0.22  # factor 20 "Other": the third most common factor nationally

PROFILES: tuple[Profile, ...] = (
    Profile(
        code="A1",
        name="Children living with domestic abuse",
        weight=0.23,
        referral_weight=0.21,
        age="all",
        female=0.49,
        unborn=0.15,
        factors={
            "3A": 0.34,
            "3B": 0.90,
            "3C": 0.10,
            "4B": 0.30,
            "4A": 0.07,
            "1B": 0.20,
            "2B": 0.15,
            "17A": 0.34,
            "18C": 0.09,
            "16A": 0.06,
            "20": _OTHER,
        },
        primary_need={"N1": 0.55, "N4": 0.15, "N5": 0.24, "N3": 0.02, "N9": 0.02, "N0": 0.02},
        sources={"6": 2.2, "3E": 1.3},
        status=(0.30, 0.50, 0.15, 0.05),
        abuse={"EMO": 0.80, "NEG": 0.12, "MUL": 0.08},
        services={
            "family_support": 0.25,
            "idva": 0.40,
            "da_recovery": 0.22,
            "housing_support": 0.12,
            "refuge": 0.07,
            "camhs": 0.04,
            "adult_mental_health": 0.06,
            "parenting_programme": 0.06,
            "school_mentoring": 0.04,
        },
        outcomes=("A1.1", "A1.2"),
        confused_with=("C1", "B3", "A2"),
    ),
    Profile(
        code="A2",
        name="Adolescents in conflict with their families",
        weight=0.07,
        referral_weight=0.08,
        age="teen",
        female=0.50,
        factors={
            "4A": 0.18,
            "14A": 0.30,
            "17A": 0.14,
            "3A": 0.20,
            "3B": 0.28,
            "4B": 0.15,
            "10A": 0.06,
            "18B": 0.05,
            "18C": 0.08,
            "19C": 0.03,
            "11A": 0.05,
            "1A": 0.06,
            "2A": 0.10,
            "15A": 0.08,
            "20": 0.34,
        },
        primary_need={"N5": 0.40, "N4": 0.28, "N6": 0.14, "N8": 0.08, "N1": 0.08, "N0": 0.02},
        sources={"1A": 3.0, "1C": 2.5, "2A": 1.5, "6": 1.0},
        status=(0.32, 0.45, 0.05, 0.18),
        abuse={"EMO": 0.6, "PHY": 0.3, "NEG": 0.1},
        services={
            "family_support": 0.30,
            "edge_of_care": 0.28,
            "parenting_programme": 0.12,
            "school_mentoring": 0.18,
            "education_welfare": 0.12,
            "camhs": 0.08,
            "youth_offending": 0.08,
        },
        outcomes=("A2.1", "A2.2"),
        confused_with=("C2", "C3", "A1"),
    ),
    Profile(
        code="A3",
        name="Young carers and children of ill or disabled parents",
        weight=0.04,
        referral_weight=0.04,
        age="school",
        female=0.54,
        factors={
            "7A": 0.55,
            "6B": 0.50,
            "4B": 0.35,
            "5B": 0.06,
            "1B": 0.10,
            "3B": 0.14,
            "20": 0.25,
        },
        primary_need={"N3": 0.62, "N4": 0.18, "N5": 0.06, "N7": 0.06, "N1": 0.04, "N0": 0.04},
        sources={"2A": 1.6, "3A": 2.0, "5A": 2.5, "1C": 1.5},
        status=(0.40, 0.55, 0.03, 0.02),
        services={
            "young_carers": 0.45,
            "family_support": 0.20,
            "adult_mental_health": 0.12,
            "school_mentoring": 0.15,
            "education_welfare": 0.08,
        },
        outcomes=("A3.1",),
        confused_with=("C1", "B4"),
    ),
    Profile(
        code="B1",
        name="Young children of parents who misuse drugs or alcohol",
        weight=0.11,
        referral_weight=0.09,
        age="young",
        female=0.49,
        unborn=0.35,
        factors={
            "2B": 0.70,
            "1B": 0.50,
            "16A": 0.45,
            "3B": 0.48,
            "3A": 0.10,
            "4B": 0.32,
            "2C": 0.08,
            "1C": 0.05,
            "17A": 0.10,
            "18C": 0.08,
            "20": 0.15,
        },
        primary_need={"N1": 0.72, "N4": 0.10, "N5": 0.14, "N3": 0.02, "N0": 0.02},
        sources={"3B": 3.0, "3D": 2.0, "6": 1.4, "7": 1.5, "3E": 1.5},
        status=(0.12, 0.38, 0.35, 0.15),
        abuse={"NEG": 0.80, "EMO": 0.10, "MUL": 0.10},
        services={
            "substance_treatment": 0.42,
            "family_support": 0.28,
            "health_visiting": 0.60,
            "parenting_programme": 0.12,
            "housing_support": 0.06,
            "idva": 0.08,
        },
        outcomes=("B1.1", "B1.2"),
        confused_with=("B2", "A1"),
    ),
    Profile(
        code="B2",
        name="Children experiencing neglect",
        weight=0.10,
        referral_weight=0.09,
        age="all",
        female=0.48,
        unborn=0.10,
        factors={
            "16A": 0.80,
            "5B": 0.12,
            "4B": 0.25,
            "1B": 0.20,
            "2B": 0.20,
            "3B": 0.35,
            "3A": 0.06,
            "17A": 0.14,
            "18C": 0.10,
            "5A": 0.06,
            "20": _OTHER,
        },
        primary_need={"N1": 0.82, "N7": 0.06, "N4": 0.05, "N5": 0.05, "N0": 0.02},
        sources={"2A": 1.8, "3B": 2.0, "4": 2.5, "1B": 2.0},
        status=(0.12, 0.45, 0.33, 0.10),
        abuse={"NEG": 0.88, "EMO": 0.06, "MUL": 0.06},
        services={
            "family_support": 0.38,
            "parenting_programme": 0.30,
            "health_visiting": 0.50,
            "housing_support": 0.14,
            "education_welfare": 0.15,
            "school_mentoring": 0.05,
        },
        outcomes=("B2.1", "B2.2"),
        confused_with=("B1", "C1"),
    ),
    Profile(
        code="B3",
        name="Children harmed by physical, sexual or emotional abuse",
        weight=0.10,
        referral_weight=0.09,
        age="all",
        female=0.52,
        factors={
            "18C": 0.78,
            "18B": 0.08,
            "17A": 0.55,
            "19C": 0.36,
            "19B": 0.14,
            "3B": 0.35,
            "3A": 0.18,
            "4B": 0.14,
            "4A": 0.08,
            "16A": 0.10,
            "1B": 0.08,
            "2B": 0.08,
            "15A": 0.04,
            "11A": 0.04,
            "22A": 0.01,
            "23A": 0.01,
            "20": 0.15,
        },
        primary_need={"N1": 0.95, "N4": 0.02, "N5": 0.02, "N0": 0.01},
        sources={"6": 1.8, "2A": 1.5, "3E": 2.0},
        status=(0.18, 0.34, 0.35, 0.13),
        abuse={"PHY": 0.45, "SAB": 0.20, "EMO": 0.25, "MUL": 0.10},
        services={
            "camhs": 0.18,
            "family_support": 0.15,
            "parenting_programme": 0.10,
            "school_mentoring": 0.06,
        },
        outcomes=("B3.1", "B3.2"),
        confused_with=("A1", "B2"),
    ),
    Profile(
        code="B4",
        name="Disabled children and their families",
        weight=0.07,
        referral_weight=0.05,
        age="school",
        female=0.34,
        disabled=0.93,
        factors={
            "5A": 0.40,
            "6A": 0.42,
            "4A": 0.10,
            "4B": 0.12,
            "5B": 0.03,
            "3B": 0.08,
            "20": 0.15,
        },
        primary_need={"N2": 0.88, "N3": 0.03, "N4": 0.05, "N1": 0.02, "N0": 0.02},
        sources={"3F": 3.0, "3A": 1.8, "2B": 4.0, "5A": 1.5, "1A": 1.5},
        status=(0.10, 0.82, 0.02, 0.06),
        services={
            "short_breaks": 0.55,
            "family_support": 0.10,
            "parenting_programme": 0.08,
            "school_nursing": 0.10,
            "camhs": 0.06,
        },
        outcomes=("B4.1",),
        confused_with=("A3", "C2"),
    ),
    Profile(
        code="C1",
        name="Children of parents with mental health difficulties",
        weight=0.09,
        referral_weight=0.09,
        age="all",
        female=0.50,
        unborn=0.15,
        factors={
            "4B": 0.92,
            "4C": 0.05,
            "3B": 0.45,
            "3A": 0.06,
            "1B": 0.20,
            "2B": 0.14,
            "17A": 0.12,
            "16A": 0.10,
            "6B": 0.08,
            "7A": 0.04,
            "20": _OTHER,
        },
        primary_need={"N3": 0.36, "N1": 0.28, "N4": 0.20, "N5": 0.13, "N0": 0.03},
        sources={"3A": 2.0, "3D": 1.5, "5A": 2.0, "5C": 1.5},
        status=(0.30, 0.55, 0.10, 0.05),
        abuse={"EMO": 0.5, "NEG": 0.4, "MUL": 0.1},
        services={
            "adult_mental_health": 0.40,
            "family_support": 0.28,
            "health_visiting": 0.30,
            "parenting_programme": 0.12,
            "young_carers": 0.05,
        },
        outcomes=("C1.1", "C1.2"),
        confused_with=("A1", "A3", "B2"),
    ),
    Profile(
        code="C2",
        name="Children and young people with mental health difficulties or self-harm",
        weight=0.06,
        referral_weight=0.07,
        age="teen",
        female=0.62,
        disabled=0.10,
        factors={
            "4A": 0.85,
            "15A": 0.45,
            "17A": 0.12,
            "3B": 0.14,
            "3A": 0.06,
            "4B": 0.16,
            "14A": 0.08,
            "2A": 0.05,
            "1A": 0.05,
            "10A": 0.05,
            "11A": 0.06,
            "19C": 0.06,
            "20": 0.26,
        },
        primary_need={
            "N4": 0.26,
            "N5": 0.20,
            "N1": 0.14,
            "N6": 0.10,
            "N2": 0.06,
            "N9": 0.18,
            "N0": 0.06,
        },
        sources={"2A": 1.8, "3E": 4.0, "3F": 2.5, "3C": 3.0, "1C": 1.5},
        status=(0.36, 0.50, 0.05, 0.09),
        abuse={"EMO": 0.7, "NEG": 0.3},
        services={
            "camhs": 0.45,
            "school_mentoring": 0.22,
            "education_welfare": 0.10,
            "family_support": 0.12,
            "school_nursing": 0.10,
        },
        outcomes=("C2.1", "C2.2"),
        confused_with=("A2", "C3"),
    ),
    Profile(
        code="C3",
        name="Young people at risk of exploitation and going missing",
        weight=0.05,
        referral_weight=0.05,
        age="teen",
        female=0.40,
        factors={
            "11A": 0.58,
            "24A": 0.42,
            "10A": 0.45,
            "13A": 0.22,
            "2A": 0.40,
            "1A": 0.15,
            "14A": 0.30,
            "4A": 0.25,
            "15A": 0.15,
            "12A": 0.05,
            "19C": 0.15,
            "18B": 0.10,
            "3A": 0.08,
            "3B": 0.14,
            "20": 0.20,
        },
        primary_need={"N1": 0.42, "N6": 0.34, "N5": 0.14, "N4": 0.06, "N0": 0.04},
        sources={"6": 2.0, "2A": 1.4, "5B": 3.0, "7": 1.5},
        status=(0.16, 0.48, 0.16, 0.20),
        abuse={"SAB": 0.35, "PHY": 0.25, "NEG": 0.2, "EMO": 0.2},
        services={
            "exploitation_support": 0.45,
            "return_interview": 0.30,
            "edge_of_care": 0.15,
            "camhs": 0.12,
            "education_welfare": 0.20,
            "school_mentoring": 0.15,
            "youth_offending": 0.25,
        },
        outcomes=("C3.1", "C3.2"),
        confused_with=("A2", "C2"),
    ),
    Profile(
        code=LOW_NEED,
        name="Low need: no further action or universal services",
        weight=0.08,
        referral_weight=0.12,
        age="all",
        female=0.49,
        factors={"20": 0.30, "3B": 0.10, "4B": 0.06, "4A": 0.04, "14A": 0.03, "1B": 0.02},
        primary_need={
            "N9": 0.35,
            "N4": 0.18,
            "N5": 0.12,
            "N0": 0.16,
            "N7": 0.08,
            "N8": 0.05,
            "N1": 0.06,
        },
        sources={"6": 1.3, "1D": 2.0, "9": 3.0, "10": 1.8},
        status=(0.85, 0.15, 0.0, 0.0),
        services={"family_support": 0.10, "parenting_programme": 0.04, "school_nursing": 0.04},
        confused_with=("A1", "C1", "A2"),
    ),
)
