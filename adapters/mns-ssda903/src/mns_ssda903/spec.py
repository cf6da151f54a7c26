"""The SSDA903 return as data: its tables and columns, the XML form, and the code sets.

Columns follow the DfE 903 validator's configuration (data-to-insight/csc-validator-be-903,
``lac_validator/config.py``) as summarised in the mns domain notes (section 2b). The code
sets that are needs or care (category of need, legal status, reason for new episode,
placement type and provider, reason episode ceased) are read from ``mns.language("ssda903")``
with their years of validity; the others are listed here.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

import attrs

__all__ = [
    "CODES",
    "IN_HEADER",
    "NO_PROVIDER",
    "ONE_PER_CHILD",
    "TABLES",
    "VALUE_RULES",
    "XML_BLOCKS",
    "XML_CHILD",
    "Kind",
    "Table",
    "cite",
    "language_codes",
]


class Kind(enum.Enum):
    """How a column's text is read."""

    ID = "id"  #: an identifier ("123.0" from a spreadsheet is read as "123")
    TEXT = "text"
    CODE = "code"  #: checked against a code set, dictionary-encoded
    DATE = "date"  #: dd/mm/YYYY
    COUNT = "count"  #: a whole number >= 0
    FLAG = "flag"  #: 0 / 1
    POSTCODE = "postcode"  #: coarsened to the sector as read


@attrs.frozen(kw_only=True)
class Table:
    """One 903 table: its columns (in file order), their kinds, and the mandatory ones."""

    name: str
    columns: Mapping[str, Kind]
    mandatory: tuple[str, ...] = ("CHILD",)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.columns)


_I, _T, _C, _D, _N, _F, _P = (
    Kind.ID,
    Kind.TEXT,
    Kind.CODE,
    Kind.DATE,
    Kind.COUNT,
    Kind.FLAG,
    Kind.POSTCODE,
)

TABLES: Mapping[str, Table] = {
    t.name: t
    for t in (
        Table(
            name="Header",
            columns={
                "CHILD": _I,
                "SEX": _C,
                "DOB": _D,
                "ETHNIC": _C,
                "UPN": _T,
                "MOTHER": _F,
                "MC_DOB": _D,
            },
            mandatory=("CHILD", "SEX", "DOB", "ETHNIC"),
        ),
        Table(
            name="Episodes",
            columns={
                "CHILD": _I,
                "DECOM": _D,
                "RNE": _C,
                "LS": _C,
                "CIN": _C,
                "PLACE": _C,
                "PLACE_PROVIDER": _C,
                "DEC": _D,
                "REC": _C,
                "REASON_PLACE_CHANGE": _C,
                "HOME_POST": _P,
                "PL_POST": _P,
                "URN": _I,
            },
            mandatory=("CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE"),
        ),
        Table(
            name="Reviews",
            columns={"CHILD": _I, "DOB": _D, "REVIEW": _D, "REVIEW_CODE": _C},
            mandatory=("CHILD", "REVIEW"),
        ),
        Table(name="UASC", columns={"CHILD": _I, "SEX": _C, "DOB": _D, "DUC": _D}),
        Table(
            name="OC2",
            columns={
                "CHILD": _I,
                "DOB": _D,
                "SDQ_SCORE": _N,
                "SDQ_REASON": _C,
                "CONVICTED": _F,
                "HEALTH_CHECK": _F,
                "IMMUNISATIONS": _F,
                "TEETH_CHECK": _F,
                "HEALTH_ASSESSMENT": _F,
                "SUBSTANCE_MISUSE": _F,
                "INTERVENTION_RECEIVED": _F,
                "INTERVENTION_OFFERED": _F,
            },
        ),
        Table(
            name="OC3",
            columns={"CHILD": _I, "DOB": _D, "IN_TOUCH": _C, "ACTIV": _C, "ACCOM": _C},
        ),
        Table(
            name="AD1",
            columns={
                "CHILD": _I,
                "DOB": _D,
                "DATE_INT": _D,
                "DATE_MATCH": _D,
                "FOSTER_CARE": _F,
                "NB_ADOPTR": _T,
                "SEX_ADOPTR": _T,
                "LS_ADOPTR": _T,
            },
        ),
        Table(
            name="PlacedAdoption",
            columns={
                "CHILD": _I,
                "DOB": _D,
                "DATE_PLACED": _D,
                "DATE_PLACED_CEASED": _D,
                "REASON_PLACED_CEASED": _C,
            },
        ),
        Table(
            name="PrevPerm",
            columns={"CHILD": _I, "DOB": _D, "PREV_PERM": _C, "LA_PERM": _T, "DATE_PERM": _T},
        ),
        Table(
            name="Missing",
            columns={"CHILD": _I, "DOB": _D, "MISSING": _C, "MIS_START": _D, "MIS_END": _D},
            mandatory=("CHILD", "MIS_START"),
        ),
        Table(
            name="SWEpisodes",
            columns={
                "CHILD": _I,
                "DOB": _D,
                "SW_ID": _I,
                "SW_DECOM": _D,
                "SW_DEC": _D,
                "SW_REASON": _C,
            },
        ),
        Table(name="DoLo", columns={"CHILD": _I, "DOB": _D, "DOLO_START": _D, "DOLO_END": _D}),
    )
}

#: column -> the ``ssda903`` language indicator whose values it takes
LANGUAGE_CODES = {
    "CIN": "category_of_need",
    "LS": "legal_status",
    "RNE": "reason_new_episode",
    "PLACE": "placement_type",
    "PLACE_PROVIDER": "placement_provider",
    "REC": "reason_episode_ceased",
}

#: the other code sets (DfE 903 guidance, mns domain notes section 2b)
CODES: Mapping[str, tuple[str, ...]] = {
    "SEX": ("1", "2"),
    "ETHNIC": (
        "WBRI", "WIRI", "WIRT", "WOTH", "WROM", "MWBC", "MWBA", "MWAS", "MOTH", "AIND", "APKN",
        "ABAN", "AOTH", "BCRB", "BAFR", "BOTH", "CHNE", "OOTH", "REFU", "NOBT",
    ),
    "REVIEW_CODE": ("PN0", "PN1", "PN2", "PN3", "PN4", "PN5", "PN6", "PN7"),
    "REASON_PLACE_CHANGE": (
        "CARPL", "ALLEG", "STAND", "APPRR", "CUSTOD", "OTHER", "CLOSE", "CREQB", "CREQO",
        "CHILD", "LAREQ", "PLACE",
    ),
    "SDQ_REASON": ("SDQ1", "SDQ2", "SDQ3", "SDQ4", "SDQ5"),
    "IN_TOUCH": ("YES", "NO", "DIED", "REFU", "NREQ", "RHOM"),
    "ACTIV": (
        "F1", "F2", "F3", "F4", "F5", "P1", "P2", "P3", "P4", "P5", "G4", "G5", "G6", "0",
    ),
    "ACCOM": (*(f"{letter}{digit}" for letter in "BCDEGHKRSTUVWXYZ" for digit in "12"), "0"),
    "MISSING": ("M", "A"),
    "PREV_PERM": ("P1", "P2", "P3", "P4", "Z1"),
    "SW_REASON": (
        "MANAGE", "FCONTA", "LEFTRL", "ORGRST", "TSPROC", "ABSENC", "CHCHAN", "PCCHAN", "SWDIED",
        "OTHERS",
    ),
    # DfE 903 validator rule 120 (lac2022_23/rule_120.py), unchanged to 2025-26
    "REASON_PLACED_CEASED": ("RD1", "RD2", "RD3", "RD4"),
}  # fmt: skip

#: placement types that take no PLACE_PROVIDER (DfE rules 178 and 213; each code's own years
#: say when it may appear at all)
NO_PROVIDER = frozenset({"T0", "T1", "T2", "T3", "T4", "Z1", "Z11", "Z12", "Z13", "Z14"})

#: (table, column) -> the DfE 903 validator's rule for a value that is not valid there (a
#: code not in its list, a date that is not a date, a flag that is not 0 or 1)
VALUE_RULES: Mapping[tuple[str, str], str] = {
    ("Header", "SEX"): "101",
    ("Header", "DOB"): "102",
    ("Header", "ETHNIC"): "103",
    ("Header", "MOTHER"): "165",
    ("Header", "MC_DOB"): "171",
    ("UASC", "DUC"): "104",
    ("AD1", "DATE_INT"): "112",
    ("AD1", "DATE_MATCH"): "113",
    ("AD1", "FOSTER_CARE"): "114",
    ("PlacedAdoption", "DATE_PLACED"): "115",
    ("PlacedAdoption", "DATE_PLACED_CEASED"): "116",
    ("PlacedAdoption", "REASON_PLACED_CEASED"): "120",
    ("OC3", "IN_TOUCH"): "131",
    ("OC3", "ACTIV"): "132",
    ("OC3", "ACCOM"): "133",
    ("Episodes", "DECOM"): "141",
    ("Episodes", "RNE"): "143",
    ("Episodes", "LS"): "144",
    ("Episodes", "CIN"): "145",
    ("Episodes", "PLACE"): "146",
    ("Episodes", "DEC"): "147",
    ("Episodes", "REC"): "149",
    ("Episodes", "PLACE_PROVIDER"): "178",
    ("Episodes", "REASON_PLACE_CHANGE"): "1009",
    ("Reviews", "REVIEW"): "166",
    ("Reviews", "REVIEW_CODE"): "167",
    ("OC2", "SDQ_SCORE"): "180",
    ("OC2", "SDQ_REASON"): "196",
    **{("OC2", flag): "181" for flag in (
        "CONVICTED", "HEALTH_CHECK", "IMMUNISATIONS", "TEETH_CHECK", "HEALTH_ASSESSMENT",
        "SUBSTANCE_MISUSE", "INTERVENTION_RECEIVED", "INTERVENTION_OFFERED",
    )},
    ("PrevPerm", "PREV_PERM"): "631",
    ("Missing", "MIS_START"): "1004",
    ("Missing", "MIS_END"): "1005",
    ("Missing", "MISSING"): "1006",
    ("SWEpisodes", "SW_DECOM"): "SW04STG1",
    ("SWEpisodes", "SW_DEC"): "SW05STG1",
    ("SWEpisodes", "SW_REASON"): "SW13STG1",
}  # fmt: skip

#: tables that hold one row per child, with the DfE rule that says so (INT31-INT36)
ONE_PER_CHILD: Mapping[str, str] = {
    "AD1": "INT31",
    "Header": "INT32",
    "OC2": "INT33",
    "OC3": "INT34",
    "PrevPerm": "INT35",
    "UASC": "INT36",
}

#: tables whose child must be in Header (DfE internal checks INT01-INT09)
IN_HEADER: Mapping[str, str] = {
    "AD1": "INT01",
    "PlacedAdoption": "INT02",
    "Episodes": "INT03",
    "Missing": "INT04",
    "OC2": "INT05",
    "OC3": "INT06",
    "PrevPerm": "INT07",
    "Reviews": "INT08",
    "UASC": "INT09",
}

#: The XML form: ``EXPSSDA903/CHILD``, the child's own fields in ``CHILD/HEADER`` (with
#: ``CHILDID`` for ``CHILD``), its repeated blocks in ``HEADER`` and its episodes in
#: ``CHILD/EPISODE``. The placement field is ``PL`` there, ``PLACE`` in the CSV.
XML_CHILD = {"CHILDID": "CHILD"}
XML_EPISODE = {"PL": "PLACE"}
#: XML block -> the table its rows go to
XML_BLOCKS = {
    "EPISODE": "Episodes",
    "AREVIEW": "Reviews",
    "AMISSING": "Missing",
    "OC2": "OC2",
    "PERMANENCE": "PrevPerm",
    "AD_PLACED": "PlacedAdoption",
    "SWEPISODE": "SWEpisodes",
    "DOLO": "DoLo",
}


def language_codes() -> Mapping[str, str]:
    """Column -> ``ssda903`` indicator code, for the coded columns the language holds."""
    return LANGUAGE_CODES


def cite(rule: str | None) -> str:
    """The end of an issue's message naming the DfE 903 validator's rule, when there is one."""
    return f" (DfE 903 rule {rule})" if rule else ""
