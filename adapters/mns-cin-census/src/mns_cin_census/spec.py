"""The CIN census XML as data: its element tree, the relational tables it splits into, the
field types, and how the shape changed from one collection year to the next.

Years are collection years (the year the collection ends: 2024 = 2023-24). Sources: the CIN
census XSDs labelled 2017-2024 in SocialFinanceDigitalLabs/liia-tools (MIT) and, for 2024-25
and 2025-26, the data-to-insight CIN validator (see the mns domain notes, section 2a).

The code sets that belong to the common language of need (assessment factors, primary need,
referral source, reason for closure, category of abuse, disability) are not repeated here:
they are read from ``mns.language("cin")`` with their years of validity. Only the code sets
that are structure rather than need (gender, sex, ethnicity, UPN unknown reasons, yes/no,
pre-proceedings outcome) are listed below.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

import attrs

__all__ = [
    "BLOCKS",
    "CHILD",
    "ETHNICITY",
    "FIRST_YEAR",
    "LAST_YEAR",
    "TABLES",
    "Block",
    "FieldType",
    "Shape",
    "Table",
    "shape",
]

FIRST_YEAR = 2017  #: the first collection year whose shape this adapter knows
LAST_YEAR = 2026  #: the last one

#: Ethnicity codes (shared with the SSDA903 return).
ETHNICITY = (
    "WBRI", "WIRI", "WIRT", "WOTH", "WROM", "MWBC", "MWBA", "MWAS", "MOTH", "AIND", "APKN",
    "ABAN", "AOTH", "BCRB", "BAFR", "BOTH", "CHNE", "OOTH", "REFU", "NOBT",
)  # fmt: skip
GENDER_CURRENT = {"1": "M", "2": "F", "0": "U", "9": "U"}  #: GenderCurrent -> canonical sex
SEX = {"M": "M", "F": "F", "U": "U"}  #: Sex (2024-25 on) -> canonical sex
UPN_UNKNOWN = ("UN1", "UN2", "UN3", "UN4", "UN5", "UN6", "UN7")
YES_NO = {"true": True, "false": False, "TRUE": True, "FALSE": False, "1": True, "0": False}
PP_OUTCOME = ("A", "B", "C")


class FieldType(enum.Enum):
    """How a leaf element's text is read."""

    TEXT = "text"  #: kept as a string
    CODE = "code"  #: a code, checked against a code set, dictionary-encoded
    DATE = "date"  #: xs:date, YYYY-MM-DD
    YES_NO = "yes_no"  #: true/false/TRUE/FALSE/1/0 -> bool
    COUNT = "count"  #: a whole number >= 0
    YEAR = "year"  #: xs:gYear


@attrs.frozen(kw_only=True)
class Table:
    """One table of the relational split (the DfE CIN validator's), with its keys.

    ``keys`` are generated: ``LAchildID`` comes from the child, the ``...ID`` keys number
    the blocks 1, 2, ... within their parent in file order, as the validator does.
    ``fields`` are the leaf elements read into the table, with their types.
    """

    name: str
    keys: tuple[str, ...]
    fields: Mapping[str, FieldType]
    mandatory: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.keys, *self.fields)


_D, _C, _T, _Y, _N = (
    FieldType.DATE,
    FieldType.CODE,
    FieldType.TEXT,
    FieldType.YES_NO,
    FieldType.COUNT,
)

TABLES: Mapping[str, Table] = {
    t.name: t
    for t in (
        Table(
            name="Header",
            keys=(),
            fields={
                "Collection": _T,
                "Year": FieldType.YEAR,
                "ReferenceDate": _D,
                "SourceLevel": _T,
                "LEA": _T,
                "SoftwareCode": _T,
                "Release": _T,
                "SerialNo": _T,
                "DateTime": _T,
            },
        ),
        Table(
            name="ChildIdentifiers",
            keys=("LAchildID",),
            fields={
                "UPN": _T,
                "FormerUPN": _T,
                "UPNunknown": _C,
                "PersonBirthDate": _D,
                "ExpectedPersonBirthDate": _D,
                "GenderCurrent": _C,
                "Sex": _C,
                "PersonDeathDate": _D,
            },
        ),
        Table(
            name="ChildCharacteristics",
            keys=("LAchildID",),
            fields={"Ethnicity": _C},
            mandatory=("Ethnicity",),
        ),
        Table(
            name="Disabilities",
            keys=("LAchildID",),
            fields={"Disability": _C},
            mandatory=("Disability",),
        ),
        Table(
            name="CINdetails",
            keys=("LAchildID", "CINdetailsID"),
            fields={
                "CINreferralDate": _D,
                "ReferralSource": _C,
                "PrimaryNeedCode": _C,
                "CINclosureDate": _D,
                "ReasonForClosure": _C,
                "DateOfInitialCPC": _D,
                "ReferralNFA": _Y,
            },
            mandatory=("CINreferralDate", "ReferralSource", "ReferralNFA"),
        ),
        Table(
            name="Assessments",
            keys=("LAchildID", "CINdetailsID", "AssessmentID"),
            fields={
                "AssessmentActualStartDate": _D,
                "AssessmentInternalReviewDate": _D,
                "AssessmentAuthorisationDate": _D,
            },
            mandatory=("AssessmentActualStartDate",),
        ),
        Table(
            name="AssessmentFactors",
            keys=("LAchildID", "CINdetailsID", "AssessmentID"),
            fields={"AssessmentFactors": _C},
            mandatory=("AssessmentFactors",),
        ),
        Table(
            name="CINplanDates",
            keys=("LAchildID", "CINdetailsID", "CINPlanID"),
            fields={"CINPlanStartDate": _D, "CINPlanEndDate": _D},
            mandatory=("CINPlanStartDate",),
        ),
        Table(
            name="Section47",
            keys=("LAchildID", "CINdetailsID", "Section47ID"),
            fields={
                "S47ActualStartDate": _D,
                "InitialCPCtarget": _D,
                "DateOfInitialCPC": _D,
                "ICPCnotRequired": _Y,
            },
            mandatory=("S47ActualStartDate", "ICPCnotRequired"),
        ),
        Table(
            name="ChildProtectionPlans",
            keys=("LAchildID", "CINdetailsID", "CPPID"),
            fields={
                "CPPstartDate": _D,
                "CPPendDate": _D,
                "InitialCategoryOfAbuse": _C,
                "LatestCategoryOfAbuse": _C,
                "NumberOfPreviousCPP": _N,
            },
            mandatory=(
                "CPPstartDate",
                "InitialCategoryOfAbuse",
                "LatestCategoryOfAbuse",
                "NumberOfPreviousCPP",
            ),
        ),
        Table(
            name="Reviews",
            keys=("LAchildID", "CINdetailsID", "CPPID"),
            fields={"CPPreviewDate": _D},
            mandatory=("CPPreviewDate",),
        ),
        Table(
            name="PreProceedings",
            keys=("LAchildID", "CINdetailsID", "PreProceedingsID"),
            fields={
                "PPStartDate": _D,
                "LBPSentDate": _D,
                "FGDMMeetingOffer": _Y,
                "FGDMMeetingFac": _Y,
                "InitialPPMeetingDate": _D,
                "ReviewMeetingsCount": _N,
                "StepDecisionDate": _D,
                "PPOutcome": _C,
                "CourtAppDate": _D,
                "LetterInitCPDate": _D,
            },
            mandatory=("PPStartDate",),
        ),
    )
}


@attrs.frozen(kw_only=True)
class Block:
    """An element of the tree below ``Child``.

    ``fields``: leaf elements read into ``table``. ``blocks``: repeating child blocks.
    ``lists``: a container element (``Disabilities``) whose repeated leaf (``Disability``)
    fills a table of its own, one row per leaf. ``once``: elements that may appear at most
    once. ``required``: child blocks that must appear at least once.
    """

    tag: str
    table: str | None
    fields: tuple[str, ...] = ()
    blocks: tuple[Block, ...] = ()
    lists: Mapping[str, tuple[str, str]] = attrs.field(factory=dict)  # container -> (leaf, table)
    once: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    first_year: int | None = None  #: first collection year the block belongs to


def _fields(table: str) -> tuple[str, ...]:
    return tuple(TABLES[table].fields)


CHILD = Block(
    tag="Child",
    table=None,
    blocks=(
        Block(
            tag="ChildIdentifiers",
            table="ChildIdentifiers",
            fields=("LAchildID", *_fields("ChildIdentifiers")),
        ),
        Block(
            tag="ChildCharacteristics",
            table="ChildCharacteristics",
            fields=("Ethnicity",),
            lists={"Disabilities": ("Disability", "Disabilities")},
        ),
        Block(
            tag="CINdetails",
            table="CINdetails",
            fields=_fields("CINdetails"),
            blocks=(
                Block(
                    tag="Assessments",
                    table="Assessments",
                    fields=_fields("Assessments"),
                    lists={
                        "FactorsIdentifiedAtAssessment": ("AssessmentFactors", "AssessmentFactors")
                    },
                ),
                Block(
                    tag="CINPlanDates",
                    table="CINplanDates",
                    fields=_fields("CINplanDates"),
                    first_year=2022,
                ),
                Block(tag="Section47", table="Section47", fields=_fields("Section47")),
                Block(
                    tag="ChildProtectionPlans",
                    table="ChildProtectionPlans",
                    fields=_fields("ChildProtectionPlans"),
                    lists={"Reviews": ("CPPreviewDate", "Reviews")},
                ),
                Block(
                    tag="PreProceedingsandFGDM",
                    table="PreProceedings",
                    fields=_fields("PreProceedings"),
                    first_year=2026,
                ),
            ),
        ),
    ),
    once=("ChildIdentifiers", "ChildCharacteristics"),
    required=("ChildIdentifiers", "ChildCharacteristics", "CINdetails"),
)

#: Every block below (and including) ``Child``, by table name, in tree order.
BLOCKS: tuple[Block, ...] = (
    CHILD,
    *CHILD.blocks,
    *next(b for b in CHILD.blocks if b.tag == "CINdetails").blocks,
)


@attrs.frozen(kw_only=True)
class Shape:
    """What changed in the file's shape in a collection year (``None``: year unknown, accept
    every shape)."""

    year: int | None
    sex_element: str | None  #: "GenderCurrent" (to 2023-24), "Sex" (from 2024-25), None: either
    xsd: str | None  #: the reference XSD that validates files of this year, if any

    def allows(self, block: Block) -> bool:
        return self.year is None or block.first_year is None or self.year >= block.first_year


def shape(year: int | None) -> Shape:
    """The shape of a collection year's file.

    - 2017-2020: factors 18A and 19A; no ``CINPlanDates``.
    - 2021: 18A/19A split into 18B/18C and 19B/19C (``CIN_schema_2021.xsd``).
    - 2022: ``CINPlanDates`` and factor 24A.
    - 2023: referral source 5D and reason for closure RC9 (2022-2024:
      ``CIN_schema_2024.xsd``).
    - 2025: ``Sex`` (M/F/U) replaces ``GenderCurrent`` (1/2/0/9).
    - 2026: the ``PreProceedingsandFGDM`` block in ``CINdetails``.
    """
    if year is None:
        return Shape(year=None, sex_element=None, xsd=None)
    xsd = (
        "CIN_schema_2021.xsd"
        if year == 2021
        else "CIN_schema_2024.xsd"
        if 2022 <= year <= 2024
        else None
    )
    return Shape(year=year, sex_element="GenderCurrent" if year <= 2024 else "Sex", xsd=xsd)
