"""The shipped language and crosswalk files, checked against the code tables of DOMAIN.md.

The expected tables below are transcribed from the mns domain notes (DOMAIN.md sections 2a,
2b and 2d; dashes kept as there). The files are read with ``tomllib`` directly and built into
the attrs model by hand, so that these tests do not depend on the loader; one test at the end
goes through :mod:`mns.lang` as well.
"""

from __future__ import annotations

import functools
import re
import sys
from pathlib import Path
from typing import Any

import pytest

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

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DATA = Path(__file__).resolve().parents[1] / "src" / "mns" / "lang" / "data"
LANGUAGES = ("cin", "ssda903", "af2000", "mns")
CROSSWALKS = (("cin", "mns"), ("ssda903", "mns"))

# --- DOMAIN.md 2a: CIN census ------------------------------------------------------------

_CH, _PC, _HM = "child", "parent_carer", "household_member"
_ABOUT = {
    "A": ("concerns about the child", _CH),
    "B": ("concerns about the parent(s)/carer(s)", _PC),
    "C": ("concerns about another person in the household", _HM),
}

#: factor code -> (label, concerns, valid_from, valid_to)
CIN_FACTORS: dict[str, tuple[str, str | None, int | None, int | None]] = {
    "1A": ("Alcohol misuse: concerns about the child", _CH, 2014, None),
    "1B": ("Alcohol misuse: concerns about the parent(s)/carer(s)", _PC, 2014, None),
    "1C": ("Alcohol misuse: concerns about another person in the household", _HM, 2014, None),
    "2A": ("Drug misuse: concerns about the child", _CH, 2014, None),
    "2B": ("Drug misuse: concerns about the parent(s)/carer(s)", _PC, 2014, None),
    "2C": ("Drug misuse: concerns about another person in the household", _HM, 2014, None),
    "3A": (
        "Domestic violence: concerns about the child being the subject of domestic violence",
        _CH,
        2014,
        None,
    ),
    "3B": (
        "Domestic violence: concerns about the parent(s)/carer(s) being the subject of "
        "domestic violence",
        _PC,
        2014,
        None,
    ),
    "3C": (
        "Domestic violence: concerns about another person in the household being the subject "
        "of domestic violence",
        _HM,
        2014,
        None,
    ),
    "4A": ("Mental health: concerns about the child", _CH, 2014, None),
    "4B": ("Mental health: concerns about the parent(s)/carer(s)", _PC, 2014, None),
    "4C": ("Mental health: concerns about another person in the family/household", _HM, 2014, None),
    "5A": ("Learning disability: concerns about the child", _CH, 2014, None),
    "5B": ("Learning disability: concerns about the parent(s)/carer(s)", _PC, 2014, None),
    "5C": ("Learning disability: concerns about another person in the household", _HM, 2014, None),
    "6A": ("Physical disability or illness: concerns about the child", _CH, 2014, None),
    "6B": (
        "Physical disability or illness: concerns about the parent(s)/carer(s)",
        _PC,
        2014,
        None,
    ),
    "6C": (
        "Physical disability or illness: concerns about another person in the household",
        _HM,
        2014,
        None,
    ),
    "7A": ("Young carer", _CH, 2014, None),
    "8B": ("Privately fostered: overseas children who intend to return", _CH, 2014, None),
    "8C": ("Privately fostered: overseas children who intend to stay", _CH, 2014, None),
    "8D": ("Privately fostered: UK children in educational placements", _CH, 2014, None),
    "8E": (
        "Privately fostered: UK children making alternative family arrangements",
        _CH,
        2014,
        None,
    ),
    "8F": ("Privately fostered: other", _CH, 2014, None),
    "9A": ("Unaccompanied asylum-seeking child (UASC)", _CH, 2014, None),
    "10A": ("Going/being missing", _CH, 2014, None),
    "11A": ("Child sexual exploitation", _CH, 2014, None),
    "12A": ("Trafficking", _CH, 2014, None),
    "13A": ("Gangs", _CH, 2014, None),
    "14A": ("Socially unacceptable behaviour", _CH, 2014, None),
    "15A": ("Self-harm", _CH, 2014, None),
    "16A": ("Abuse or neglect – NEGLECT", _CH, 2014, None),
    "17A": ("Abuse or neglect – EMOTIONAL ABUSE", _CH, 2014, None),
    "18A": ("Abuse or neglect – PHYSICAL ABUSE", _CH, 2014, 2020),
    "18B": ("Abuse or neglect – PHYSICAL ABUSE, child on child", _CH, 2021, None),
    "18C": ("Abuse or neglect – PHYSICAL ABUSE, adult on child", _CH, 2021, None),
    "19A": ("Abuse or neglect – SEXUAL ABUSE", _CH, 2014, 2020),
    "19B": ("Abuse or neglect – SEXUAL ABUSE, child on child", _CH, 2021, None),
    "19C": ("Abuse or neglect – SEXUAL ABUSE, adult on child", _CH, 2021, None),
    "20": ("Other", None, 2014, None),
    "21": ("No factors identified", None, 2014, None),
    "22A": ("Female genital mutilation", _CH, 2014, None),
    "23A": ("Abuse linked to faith or belief", _CH, 2014, None),
    "24A": ("Child criminal exploitation", _CH, 2022, None),
}

PRIMARY_NEED = {
    "N1": "Abuse or neglect",
    "N2": "Child's disability",
    "N3": "Parental disability or illness",
    "N4": "Family in acute stress",
    "N5": "Family dysfunction",
    "N6": "Socially unacceptable behaviour",
    "N7": "Low income",
    "N8": "Absent parenting",
    "N9": "Cases other than children in need",
    "N0": "Not stated",
}

REFERRAL_SOURCE = {
    "1A": "Individual – family member/relative/carer",
    "1B": "Individual – acquaintance (incl. neighbours, child minders)",
    "1C": "Individual – self",
    "1D": "Individual – other (incl. strangers)",
    "2A": "Schools",
    "2B": "Education services",
    "3A": "Health – GP",
    "3B": "Health – health visitor",
    "3C": "Health – school nurse",
    "3D": "Health – other primary health",
    "3E": "Health – A&E",
    "3F": "Health – other (e.g. hospice)",
    "4": "Housing (LA housing or housing association)",
    "5A": "LA services – social care (e.g. adult social care)",
    "5B": "LA services – other internal (e.g. youth offending, excl. housing)",
    "5C": "LA services – external (e.g. another LA's adult social care)",
    "5D": "LA services – early help",
    "6": "Police",
    "7": "Other legal agency (courts, probation, immigration, CAFCASS, prison)",
    "8": "Other (children's centres, independent providers, voluntary organisations)",
    "9": "Anonymous",
    "10": "Unknown",
}

REASON_FOR_CLOSURE = {
    "RC1": "Adopted",
    "RC2": "Died",
    "RC3": "Child arrangements order",
    "RC4": "Special guardianship order",
    "RC5": "Transferred to another LA",
    "RC6": "Transferred to adult social care",
    "RC7": "Services ceased for any other reason, incl. child no longer in need",
    "RC8": "Case closed after assessment, no further action",
    "RC9": "Case closed after assessment, referred to early help",
}

CATEGORY_OF_ABUSE = {
    "NEG": "Neglect",
    "PHY": "Physical",
    "SAB": "Sexual",
    "EMO": "Emotional",
    "MUL": "Multiple/not recommended",
}

#: every CIN disability code but NONE (HEAR has no meaning in DOMAIN.md: "Hearing" is DfE's)
CIN_DISABILITY = {
    "MOB": "Mobility",
    "HAND": "Hand function",
    "PC": "Personal care",
    "INC": "Incontinence",
    "COMM": "Communication",
    "LD": "Learning",
    "HEAR": "Hearing",
    "VIS": "Vision",
    "BEH": "Behaviour",
    "CON": "Consciousness",
    "AUT": "Autism",
    "DDA": "Other",
}

# --- DOMAIN.md 2b: SSDA903 ----------------------------------------------------------------

CATEGORY_OF_NEED_903 = {
    **{c: label for c, label in PRIMARY_NEED.items() if c not in {"N0", "N9"}},
    "N3": "Parental illness or disability",
}

LEGAL_STATUS = {
    "C1": "Interim care order",
    "C2": "Full care order",
    "D1": "Freeing order granted",
    "E1": "Placement order granted",
    "V2": "Single period of accommodation under s.20 CA 1989",
    "V3": "Agreed series of short-term breaks, individual episodes recorded",
    "V4": "Agreed series of short-term breaks, agreements recorded",
    "L1": "Police protection and in LA accommodation",
    "L2": "Emergency protection order",
    "L3": "Child assessment order and in LA accommodation",
    "J1": "Remanded to LA or youth detention accommodation",
    "J2": "Placed in LA accommodation under PACE 1984",
    "J3": "Youth Rehabilitation Order with residence or intensive fostering requirement",
}

REASON_NEW_EPISODE = {
    "S": "Started to be looked after",
    "L": "Change of legal status only",
    "P": "Change of placement and carer(s) only",
    "T": "Change of placement (same carers) only",
    "B": "Change of legal status and placement and carers",
    "U": "Change of legal status and placement (same carers)",
}

PLACEMENT_TYPE = {
    "U1": "Foster with relative/friend – long term",
    "U2": "Foster with relative/friend – fostering for adoption/concurrent planning",
    "U3": "Foster with relative/friend – not long-term or FfA",
    "U4": "Other foster carer – long term",
    "U5": "Other foster carer – FfA/concurrent planning",
    "U6": "Other foster carer – not long-term or FfA",
    "A3": "Placed for adoption, consent, with current foster carers",
    "A4": "Placed for adoption, consent, not with current foster carers",
    "A5": "Placed for adoption, placement order, with current foster carers",
    "A6": "Placed for adoption, placement order, not with current foster carers",
    "K1": "Secure children's home",
    "K2": "Children's home (Children's Homes Regulations)",
    "K3": "Registered supported accommodation",
    "H5": "Semi-independent living, not subject to Children's Homes Regulations",
    "P1": "With parent(s)/person with parental responsibility",
    "P2": "Independent living",
    "P3": "Residential employment",
    "R1": "Residential care home",
    "R2": "NHS/health trust or other establishment providing medical or nursing care",
    "R3": "Family centre or mother-and-baby unit",
    "R5": "Young offender institution",
    "S1": "Residential school",
    "T0": "All types of temporary move",
    "T1": "Temporary: hospital",
    "T2": "Temporary: holiday",
    "T3": "Temporary: while foster carer is on holiday",
    "T4": "Temporary accommodation ≤7 days, not covered by T1–T3",
    "Z1": "Other (must be listed to DfE)",
    # 2025-26 codes (labels UNVERIFIED in the file: the DfE guidance wording was not found)
    "Z11": "Other placement (2025-26 code Z11)",
    "Z12": "Other placement, deprivation of liberty (2025-26 code Z12)",
    "Z13": "Other placement, deprivation of liberty (2025-26 code Z13)",
    "Z14": "Other placement (2025-26 code Z14)",
}

PLACEMENT_PROVIDER = {
    "PR0": "Parent(s)/person with PR",
    "PR1": "Own LA",
    "PR2": "Other LA",
    "PR3": "Other public",
    "PR4": "Private",
    "PR5": "Voluntary/third sector",
}

REASON_EPISODE_CEASED = {
    "X1": "Episode ceases and a new one begins the same day",
    "E11": "Adopted – unopposed",
    "E12": "Adopted – consent dispensed with",
    "E2": "Died",
    "E3": "Care taken over by another UK LA",
    "E4A": "Returned home as part of care planning",
    "E4B": "Returned home, not part of care planning",
    "E13": "Left care to live with parent/relative/other person without parental responsibility",
    "E41": "Residence order / child arrangements order",
    "E45": "SGO to former foster carers who are relatives/friends",
    "E46": "SGO to former foster carers who are not relatives/friends",
    "E47": "SGO to other carers who are relatives/friends",
    "E48": "SGO to other carers who are not relatives/friends",
    "E5": "Independent living with formal support",
    "E6": "Independent living without formal support",
    "E7": "Transferred to adult social care residential care",
    "E9": "Sentenced to custody",
    "E14": "Accommodation on remand ended",
    "E15": "Age assessment found 18+",
    "E16": "Child moved abroad",
    "E17": "Aged 18+ and remained with current carers (incl. staying put)",
    "E8": "Ceased for any other reason",
    # legacy SGO codes: labels and last year are mns's reading (UNVERIFIED in the file)
    "E43": "SGO to former foster carers (legacy code)",
    "E44": "SGO to carers other than former foster carers (legacy code)",
}

#: (language, category indicator) -> expected {value code: label}
CATEGORY_TABLES: dict[tuple[str, str], dict[str, str]] = {
    ("cin", "primary_need"): PRIMARY_NEED,
    ("cin", "referral_source"): REFERRAL_SOURCE,
    ("cin", "reason_for_closure"): REASON_FOR_CLOSURE,
    ("cin", "category_of_abuse"): CATEGORY_OF_ABUSE,
    ("ssda903", "category_of_need"): CATEGORY_OF_NEED_903,
    ("ssda903", "legal_status"): LEGAL_STATUS,
    ("ssda903", "reason_new_episode"): REASON_NEW_EPISODE,
    ("ssda903", "placement_type"): PLACEMENT_TYPE,
    ("ssda903", "placement_provider"): PLACEMENT_PROVIDER,
    ("ssda903", "reason_episode_ceased"): REASON_EPISODE_CEASED,
}

# --- DOMAIN.md 2d: the Assessment Framework (2000) ---------------------------------------

AF2000_DOMAINS = {
    "child_development": "Child's developmental needs",
    "parenting_capacity": "Parenting capacity",
    "family_environment": "Family and environmental factors",
}

#: domain -> {indicator code: label}
AF2000_DIMENSIONS: dict[str, dict[str, str]] = {
    "child_development": {
        "health": "Health",
        "education": "Education",
        "emotional_behavioural_development": "Emotional and behavioural development",
        "identity": "Identity",
        "family_social_relationships": "Family and social relationships",
        "social_presentation": "Social presentation",
        "selfcare_skills": "Selfcare skills",
    },
    "parenting_capacity": {
        "basic_care": "Basic care",
        "ensuring_safety": "Ensuring safety",
        "emotional_warmth": "Emotional warmth",
        "stimulation": "Stimulation",
        "guidance_boundaries": "Guidance and boundaries",
        "stability": "Stability",
    },
    "family_environment": {
        "family_history_functioning": "Family history and functioning",
        "wider_family": "Wider family",
        "housing": "Housing",
        "employment": "Employment",
        "income": "Income",
        "social_integration": "Family's social integration",
        "community_resources": "Community resources",
    },
}
AF2000_CONCERNS = {
    "child_development": "child",
    "parenting_capacity": "parent_carer",
    "family_environment": "family_environment",
}
#: DOMAIN.md: "Identity" and the seven environmental dimensions are UNVERIFIED
AF2000_UNVERIFIED = {"identity", *AF2000_DIMENSIONS["family_environment"]}

# --- the mns template: codes other modules rely on ------------------------------------------

MNS_REQUIRED: dict[str, str] = {
    **dict.fromkeys(
        [
            "parent_mental_health",
            "parent_alcohol_misuse",
            "parent_drug_misuse",
            "domestic_abuse",
            "parent_learning_disability",
            "parent_physical_illness",
            "parent_illness_or_disability",
            "child_disability",
            "child_mental_health",
            "child_learning_disability",
            "child_substance_misuse",
            "self_harm",
            "neglect",
            "physical_abuse",
            "sexual_abuse",
            "emotional_abuse",
            "abuse_or_neglect",
            "sexual_exploitation",
            "criminal_exploitation",
            "missing_episodes",
            "gang_involvement",
            "offending",
            "antisocial_behaviour",
            "school_exclusion",
            "poor_attendance",
            "not_in_education",
            "young_carer",
            "family_conflict",
            "family_dysfunction",
            "family_acute_stress",
            "relationship_breakdown",
            "absent_parent",
            "low_income",
            "housing_problems",
            "homeless",
            "unaccompanied_asylum_seeker",
            "privately_fostered",
            "previous_cp_plan",
            "previous_looked_after",
            "police_involvement",
            "health_involvement",
            "education_welfare_involvement",
            "youth_justice_involvement",
        ],
        "flag",
    ),
    "living_with": "category",
    "school_status": "category",
    "emotional_wellbeing_concern": "rating",
    "school_attendance_concern": "rating",
    "family_conflict_level": "rating",
}
MNS_DIMENSIONS = {
    "living_situation",
    "family_relationships",
    "behaviour",
    "physical_health",
    "psychological_health",
    "education_employment",
    "parents_needs",
    "child_disability",
    "agency_involvement",
    # strengths and protective factors (polarity = "strength")
    "child_strengths",
    "family_strengths",
    "community_strengths",
}
LIVING_WITH = {
    "both_parents",
    "one_parent",
    "parent_and_partner",
    "relatives_friends",
    "foster_care",
    "residential",
    "independent",
    "other",
}

# --- helpers ----------------------------------------------------------------------------------


@functools.cache
def _raw(stem: str) -> dict[str, Any]:
    with (DATA / f"{stem}.toml").open("rb") as f:
        return tomllib.load(f)


def _indicators(name: str) -> dict[str, dict[str, Any]]:
    return {i["code"]: i for i in _raw(name).get("indicator", [])}


def _indicator(name: str, code: str) -> dict[str, Any]:
    found = _indicators(name).get(code)
    assert found is not None, f"{name}.toml has no indicator {code!r}"
    return found


def _values(name: str, code: str) -> dict[str, dict[str, Any]]:
    return {v["code"]: v for v in _indicator(name, code).get("values", [])}


def _build_language(raw: dict[str, Any]) -> Language:
    """The attrs model built by hand from the TOML mapping, so that every validator runs."""
    dims = tuple(Dimension(**d) for d in raw.get("dimension", []))
    inds = []
    for i in raw.get("indicator", []):
        fields = dict(i)
        fields["kind"] = Kind(fields.get("kind", "flag"))
        if "concerns" in fields:
            fields["concerns"] = Concerns(fields["concerns"])
        if "polarity" in fields:
            fields["polarity"] = Polarity(fields["polarity"])
        fields["values"] = tuple(CategoryValue(**v) for v in fields.get("values", []))
        inds.append(Indicator(**fields))
    head = dict(raw["language"])
    if "rating_labels" in head:
        head["rating_labels"] = tuple(head["rating_labels"])
    return Language(**head, dimensions=dims, indicators=tuple(inds))


def _build_crosswalk(raw: dict[str, Any]) -> Crosswalk:
    head = dict(raw["crosswalk"])
    head["provenance"] = CrosswalkProvenance(head["provenance"])
    mappings = tuple(Derivation(**m) for m in raw.get("mapping", []))
    return Crosswalk(**head, mappings=mappings)


# --- structure of every language ----------------------------------------------------------------


def test_every_shipped_file_is_tested() -> None:
    stems = {p.stem for p in DATA.glob("*.toml")}
    assert stems == {*LANGUAGES, *(f"{a}__{b}" for a, b in CROSSWALKS)}


@pytest.mark.parametrize("name", LANGUAGES)
def test_language_builds_the_model(name: str) -> None:
    lang = _build_language(_raw(name))
    assert lang.name == name
    assert lang.version
    assert lang.title
    assert lang.description
    assert len(lang.rating_labels) == 4


@pytest.mark.parametrize("name", LANGUAGES)
def test_codes_unique_and_dimensions_exist(name: str) -> None:
    raw = _raw(name)
    dims = [d["code"] for d in raw["dimension"]]
    assert len(dims) == len(set(dims))
    codes = [i["code"] for i in raw["indicator"]]
    assert len(codes) == len(set(codes))
    for d in raw["dimension"]:
        assert d["label"], d["code"]
        assert d.get("parent") is None or d["parent"] in dims
    for ind in raw["indicator"]:
        assert ind["dimension"] in dims, ind["code"]
        assert ind["label"], ind["code"]
        kind = ind.get("kind", "flag")
        assert kind in {k.value for k in Kind}
        values = [v["code"] for v in ind.get("values", [])]
        assert len(values) == len(set(values)), ind["code"]
        assert bool(values) == (kind == "category"), ind["code"]
        for v in ind.get("values", []):
            assert v["label"], (ind["code"], v["code"])


@pytest.mark.parametrize("name", LANGUAGES)
def test_every_dimension_is_used(name: str) -> None:
    used = {i["dimension"] for i in _raw(name)["indicator"]}
    assert {d["code"] for d in _raw(name)["dimension"]} == used


# --- CIN ----------------------------------------------------------------------------------------


def test_cin_factors_match_domain() -> None:
    found = {
        code: (i["label"], i.get("concerns"), i.get("valid_from"), i.get("valid_to"))
        for code, i in _indicators("cin").items()
        if i["dimension"] == "assessment_factors"
    }
    assert found == CIN_FACTORS
    for code in CIN_FACTORS:
        assert _indicator("cin", code).get("kind", "flag") == "flag", code


def test_cin_factor_labels_follow_the_abc_letters() -> None:
    for code, (label, concerns, _, _) in CIN_FACTORS.items():
        letter = code[-1]
        if code[:-1] in {"1", "2", "4", "5", "6"} and letter in _ABOUT:
            about, who = _ABOUT[letter]
            assert concerns == who, code
            if code != "4C":
                assert label.endswith(about), code


@pytest.mark.parametrize(
    ("code", "valid_from", "valid_to"),
    [
        ("18A", 2014, 2020),
        ("19A", 2014, 2020),
        ("18B", 2021, None),
        ("18C", 2021, None),
        ("19B", 2021, None),
        ("19C", 2021, None),
        ("24A", 2022, None),
        ("1A", 2014, None),
        ("21", 2014, None),
    ],
)
def test_cin_factor_years(code: str, valid_from: int, valid_to: int | None) -> None:
    ind = _indicator("cin", code)
    assert ind.get("valid_from") == valid_from
    assert ind.get("valid_to") == valid_to


def test_cin_value_years() -> None:
    assert _values("cin", "referral_source")["5D"]["valid_from"] == 2023
    assert _values("cin", "reason_for_closure")["RC9"]["valid_from"] == 2023
    for code, value in _values("cin", "referral_source").items():
        if code != "5D":
            assert "valid_from" not in value, code
    for code, value in _values("cin", "reason_for_closure").items():
        if code != "RC9":
            assert "valid_from" not in value, code


def test_cin_years_in_the_model() -> None:
    lang = _build_language(_raw("cin"))
    assert "18A" in lang.codes(2020)
    assert "18A" not in lang.codes(2021)
    assert "18B" not in lang.codes(2020)
    assert {"18B", "18C", "19B", "19C"} <= set(lang.codes(2021))
    assert "24A" not in lang.codes(2021)
    assert "24A" in lang.codes(2022)
    assert lang.indicator("referral_source").value("5D").valid_from == 2023


@pytest.mark.parametrize(("name", "code"), list(CATEGORY_TABLES))
def test_category_values_match_domain(name: str, code: str) -> None:
    ind = _indicator(name, code)
    assert ind["kind"] == "category"
    found = {c: v["label"] for c, v in _values(name, code).items()}
    assert found == CATEGORY_TABLES[name, code]


def test_cin_disability_flags() -> None:
    found = {
        code: i["label"] for code, i in _indicators("cin").items() if i["dimension"] == "disability"
    }
    assert found == {
        f"disability_{c}": f"Disability: {label}" for c, label in CIN_DISABILITY.items()
    }
    assert "disability_NONE" not in found
    for code in found:
        ind = _indicator("cin", code)
        assert ind["kind"] == "flag"
        assert ind["concerns"] == "child"


def test_cin_dimensions() -> None:
    dims = {d["code"] for d in _raw("cin")["dimension"]}
    assert dims == {
        "assessment_factors",
        "need",
        "referral",
        "closure",
        "child_protection",
        "disability",
    }
    assert _indicator("cin", "primary_need")["dimension"] == "need"
    assert _indicator("cin", "referral_source")["dimension"] == "referral"
    assert _indicator("cin", "reason_for_closure")["dimension"] == "closure"
    assert _indicator("cin", "category_of_abuse")["dimension"] == "child_protection"


# --- SSDA903 ------------------------------------------------------------------------------------


def test_903_years_and_legacy_codes() -> None:
    place = _values("ssda903", "placement_type")
    # K3 first appears in the DfE 903 validator's 2024-25 ruleset (rule 146); H5, P2 and Z1
    # leave, and Z11-Z14 arrive, in 2025-26 (the adapter's tests check every year's list)
    assert place["K3"]["valid_from"] == 2025
    assert all(place[c]["valid_to"] == 2025 for c in ("H5", "P2", "Z1"))
    assert all(place[c]["valid_from"] == 2026 for c in ("Z11", "Z12", "Z13", "Z14"))
    assert "K3" in _indicator("ssda903", "placement_type")["definition"]
    rec = _values("ssda903", "reason_episode_ceased")
    assert rec["E43"]["valid_to"] == 2016
    assert rec["E44"]["valid_to"] == 2016
    assert "E99" not in rec
    definition = _indicator("ssda903", "reason_episode_ceased")["definition"]
    assert "UNVERIFIED" in definition
    assert "E43" in definition
    for code, value in rec.items():
        if code not in {"E43", "E44"}:
            assert "valid_to" not in value, code


def test_903_category_of_need_has_no_n0_or_n9() -> None:
    values = _values("ssda903", "category_of_need")
    assert "N0" not in values
    assert "N9" not in values


def test_903_uasc_flag() -> None:
    uasc = _indicator("ssda903", "uasc")
    assert uasc["kind"] == "flag"
    assert uasc["concerns"] == "child"


# --- af2000 -------------------------------------------------------------------------------------


def test_af2000_domains_and_dimensions() -> None:
    raw = _raw("af2000")
    assert {d["code"]: d["label"] for d in raw["dimension"]} == AF2000_DOMAINS
    for domain, expected in AF2000_DIMENSIONS.items():
        found = {i["code"]: i["label"] for i in raw["indicator"] if i["dimension"] == domain}
        assert found == expected, domain
    assert len(raw["indicator"]) == 7 + 6 + 7
    for ind in raw["indicator"]:
        assert ind["kind"] == "rating", ind["code"]
        assert ind["concerns"] == AF2000_CONCERNS[ind["dimension"]], ind["code"]
        assert ind["plain_label"], ind["code"]


def test_af2000_unverified_dimensions_are_marked() -> None:
    mark = "from general knowledge; not verified against the published Framework"
    for code, ind in _indicators("af2000").items():
        assert (mark in ind["definition"]) == (code in AF2000_UNVERIFIED), code


# --- mns ----------------------------------------------------------------------------------------


def test_mns_required_codes() -> None:
    inds = _indicators("mns")
    for code, kind in MNS_REQUIRED.items():
        assert code in inds, code
        assert inds[code]["kind"] == kind, code
    assert set(_values("mns", "living_with")) == LIVING_WITH
    assert {d["code"] for d in _raw("mns")["dimension"]} == MNS_DIMENSIONS


def test_mns_description_says_unverified() -> None:
    assert "UNVERIFIED" in _raw("mns")["language"]["description"]


def test_mns_every_item_is_worded_for_families_and_auditors() -> None:
    for code, ind in _indicators("mns").items():
        assert ind.get("plain_label", "").strip(), code
        assert ind.get("definition", "").strip(), code
        assert ind.get("concerns") in {c.value for c in Concerns}, code
        for value in ind.get("values", []):
            assert value.get("plain_label", "").strip(), (code, value["code"])


def test_mns_codes_are_snake_case() -> None:
    for code in _indicators("mns"):
        assert re.fullmatch(r"[a-z][a-z0-9_]*", code), code


# --- crosswalks ---------------------------------------------------------------------------------

_REF = re.compile(r"\b(cin|ssda903)\.([A-Za-z0-9_]+)")


@pytest.mark.parametrize(("source", "target"), CROSSWALKS)
def test_crosswalk_builds_the_model(source: str, target: str) -> None:
    cw = _build_crosswalk(_raw(f"{source}__{target}"))
    assert (cw.source, cw.target) == (source, target)
    assert cw.provenance is CrosswalkProvenance.MNS
    assert "own construct" in cw.reference
    assert "not an official mapping" in cw.reference
    assert cw.mappings


@pytest.mark.parametrize(("source", "target"), CROSSWALKS)
def test_crosswalk_targets_are_mns_flags(source: str, target: str) -> None:
    targets = _indicators(target)
    mapped = [m["target"] for m in _raw(f"{source}__{target}")["mapping"]]
    assert len(mapped) == len(set(mapped))
    for code in mapped:
        assert code in targets, code
        assert targets[code].get("kind", "flag") == "flag", code


@pytest.mark.parametrize(("source", "target"), CROSSWALKS)
def test_crosswalk_rules_name_real_codes(source: str, target: str) -> None:
    # The rules engine checks names, category values and types against the source language.
    from mns.rules import compile_rule

    for mapping in _raw(f"{source}__{target}")["mapping"]:
        assert mapping.get("note"), mapping["target"]
        assert {lang for lang, _ in _REF.findall(mapping["rule"])} == {source}, mapping["rule"]
        compile_rule(mapping["rule"], source)


def test_cin_crosswalk_key_mappings() -> None:
    rules = {m["target"]: m["rule"] for m in _raw("cin__mns")["mapping"]}
    assert rules["parent_alcohol_misuse"] == "cin.1B"
    assert rules["domestic_abuse"] == "any(cin.3A, cin.3B, cin.3C)"
    for code in ("18A", "18B", "18C"):
        assert f"cin.{code}" in rules["physical_abuse"]
    for code in ("19A", "19B", "19C"):
        assert f"cin.{code}" in rules["sexual_abuse"]
    assert "cin.16A" in rules["neglect"]
    assert "cin.24A" in rules["criminal_exploitation"]
    for target, need in {
        "abuse_or_neglect": "N1",
        "child_disability": "N2",
        "parent_illness_or_disability": "N3",
        "family_acute_stress": "N4",
        "family_dysfunction": "N5",
        "antisocial_behaviour": "N6",
        "low_income": "N7",
        "absent_parent": "N8",
    }.items():
        assert f"cin.primary_need == '{need}'" in rules[target], target


def test_903_crosswalk_key_mappings() -> None:
    rules = {m["target"]: m["rule"] for m in _raw("ssda903__mns")["mapping"]}
    assert rules["unaccompanied_asylum_seeker"] == "ssda903.uasc"
    for target, need in {
        "abuse_or_neglect": "N1",
        "child_disability": "N2",
        "parent_illness_or_disability": "N3",
        "family_acute_stress": "N4",
        "family_dysfunction": "N5",
        "antisocial_behaviour": "N6",
        "low_income": "N7",
        "absent_parent": "N8",
    }.items():
        assert rules[target] == f"ssda903.category_of_need == '{need}'", target
    assert "neglect" not in rules  # N1 is abuse *or* neglect: it says nothing about neglect alone


# --- through the loader -------------------------------------------------------------------------


def test_shipped_files_load_through_mns_language() -> None:
    from mns.lang import crosswalk, crosswalks, language, languages

    assert set(languages()) == set(LANGUAGES)
    assert set(crosswalks()) == set(CROSSWALKS)
    for name in LANGUAGES:
        loaded = language(name)
        assert loaded == _build_language(_raw(name))
    for source, target in CROSSWALKS:
        assert crosswalk(source, target) == _build_crosswalk(_raw(f"{source}__{target}"))
