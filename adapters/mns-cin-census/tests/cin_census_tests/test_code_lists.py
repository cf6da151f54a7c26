"""The code lists the adapter ships, year by year, equal the published ones.

The published lists are copied below as data, each with where it was read:

- XSD_2020: SocialFinanceDigitalLabs/liia-tools, liiatools/spec/cin_census/CIN_schema_2020.xsd
  @97a4ac1a3306 (CIN_schema_2018.xsd @f4d4bbbc3b3e is the same; collections 2017-2020);
- XSD_2021 / XSD_2024: the same repository's CIN_schema_2021.xsd and CIN_schema_2024.xsd
  @0dd821c2968f (copies in the shared reference folder; 2024 serves 2022-2024);
- VALIDATOR_8897Q: data-to-insight/csc-validator-be-cin (the DfE CIN validator),
  cin_validator/rules/cin2022_23/rule_8897Q.py @4aef9291c64f, the factors it accepts; the
  2023-24, 2024-25 and 2025-26 rule sets inherit it, and cin2024_25/rule_8945Q.py
  @908c276e8ff8 and rule_8950Q.py @7d8bc861c1c4 query 18A and 19A from 2024-25.

18A and 19A are not in the 2021 and 2024 XSDs but the validator accepts them; mns follows
the validator (a physical or sexual abuse factor must not be lost), so for 2021 and 2022,
before the first validator rule set, the list is the XSD's with 18A and 19A.
"""

from __future__ import annotations

import pytest
from mns_cin_census import spec
from mns_cin_census.codes import LEGACY_FACTORS, code_sets, queried

# fmt: off
_COMMON = (
    "1A", "1B", "1C", "2A", "2B", "2C", "3A", "3B", "3C", "4A", "4B", "4C", "5A", "5B", "5C",
    "6A", "6B", "6C", "7A", "8B", "8C", "8D", "8E", "8F", "9A", "10A", "11A", "12A", "13A",
    "14A", "15A", "16A", "17A",
)
XSD_2020 = (*_COMMON, "18A", "19A", "20", "21", "22A", "23A")
XSD_2021 = (*_COMMON, "18B", "18C", "19B", "19C", "20", "21", "22A", "23A")
XSD_2024 = (*XSD_2021, "24A")
VALIDATOR_8897Q = (
    *_COMMON, "18A", "18B", "18C", "19A", "19B", "19C", "20", "21", "22A", "23A", "24A",
)
REFERRAL_SOURCE_2021 = (  # XSD_2020 and XSD_2021
    "1A", "1B", "1C", "1D", "2A", "2B", "3A", "3B", "3C", "3D", "3E", "3F", "4", "5A", "5B",
    "5C", "6", "7", "8", "9", "10",
)
REFERRAL_SOURCE_2024 = (*REFERRAL_SOURCE_2021[:16], "5D", *REFERRAL_SOURCE_2021[16:])
REASON_FOR_CLOSURE_2021 = ("RC1", "RC2", "RC3", "RC4", "RC5", "RC6", "RC7", "RC8")
REASON_FOR_CLOSURE_2024 = (*REASON_FOR_CLOSURE_2021, "RC9")
DISABILITY = (  # every XSD
    "NONE", "MOB", "HAND", "PC", "INC", "COMM", "LD", "HEAR", "VIS", "BEH", "CON", "AUT", "DDA",
)
PRIMARY_NEED = ("N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8", "N9", "N0")
CATEGORY_OF_ABUSE = ("NEG", "PHY", "SAB", "EMO", "MUL")
# fmt: on


def published_factors(year: int) -> set[str]:
    if year <= 2020:
        return set(XSD_2020)
    if year == 2021:
        return {*XSD_2021, "18A", "19A"}
    if year == 2022:
        return {*XSD_2024, "18A", "19A"}
    return set(VALIDATOR_8897Q)


YEARS = range(spec.FIRST_YEAR, spec.LAST_YEAR + 1)


@pytest.mark.parametrize("year", YEARS)
def test_factor_codes_equal_the_published_list(year: int) -> None:
    assert set(code_sets(year)["AssessmentFactors"].valid) == published_factors(year)


@pytest.mark.parametrize("year", YEARS)
def test_other_code_lists_equal_the_published_lists(year: int) -> None:
    sets = code_sets(year)
    assert set(sets["ReferralSource"].valid) == set(
        REFERRAL_SOURCE_2024 if year >= 2023 else REFERRAL_SOURCE_2021
    )
    assert set(sets["ReasonForClosure"].valid) == set(
        REASON_FOR_CLOSURE_2024 if year >= 2023 else REASON_FOR_CLOSURE_2021
    )
    assert set(sets["Disability"].valid) == set(DISABILITY)
    assert set(sets["PrimaryNeedCode"].valid) == set(PRIMARY_NEED)
    assert set(sets["InitialCategoryOfAbuse"].valid) == set(CATEGORY_OF_ABUSE)


@pytest.mark.parametrize("year", YEARS)
def test_18a_and_19a_are_queried_from_2024_25_only(year: int) -> None:
    rules = {code: getattr(queried(code, year), "rule", None) for code in LEGACY_FACTORS}
    assert rules == ({"18A": "8945Q", "19A": "8950Q"} if year >= 2025 else dict.fromkeys(rules))


def test_every_factor_cites_its_source() -> None:
    from mns import language

    factors = [i for i in language("cin").indicators if i.dimension == "assessment_factors"]
    assert all(i.source for i in factors)
    assert "8945Q" in language("cin").indicator("18A").source
    assert "8950Q" in language("cin").indicator("19A").source
