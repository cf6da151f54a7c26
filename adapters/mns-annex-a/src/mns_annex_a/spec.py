"""Ofsted's Annex A (ILACS child-level lists) as data: the eleven lists and their columns.

Headers follow Ofsted's template as found in the liia-tools sample workbook
(``liiatools/spec/annex_a/samples/Annex_A.xlsx``, MIT; see the mns domain notes, section
2c). A column is found by its header, compared without case, spaces or punctuation, so
``Date of Adoption Order `` and ``date of adoption order`` are one column.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping

import attrs

__all__ = ["LISTS", "Column", "Kind", "ListSpec", "normal_header"]


class Kind(enum.Enum):
    """How a column's cells are read."""

    ID = "id"  #: an identifier (12345.0 from a spreadsheet is 12345)
    TEXT = "text"
    DATE = "date"
    NUMBER = "number"
    COUNT = "count"
    YES_NO = "yes_no"  #: "a) Yes", "Yes", "Y" -> true
    GENDER = "gender"  #: "a) Male" -> M, "b) Female" -> F, others -> U
    CODE = "code"  #: the code that starts the value: "q) 6: Police" -> 6, "N1 - Abuse" -> N1
    CATEGORY = "category"  #: a label: "a) Suitable" -> "Suitable"
    ABUSE = "abuse"  #: "Physical abuse" -> PHY


@attrs.frozen
class Column:
    key: str  #: the column's name in mns's tables
    header: str  #: Ofsted's header
    kind: Kind


@attrs.frozen(kw_only=True)
class ListSpec:
    number: int
    name: str  #: the table name in Records.extra
    title: str
    columns: tuple[Column, ...]

    @property
    def sheet(self) -> str:
        return f"List {self.number}"


def normal_header(text: object) -> str:
    """A header compared without case, spaces or punctuation."""
    return re.sub(r"[^a-z0-9]", "", str(text or "").lower())


_I, _T, _D, _N, _C, _Y = Kind.ID, Kind.TEXT, Kind.DATE, Kind.NUMBER, Kind.CODE, Kind.YES_NO
_CHILD = (
    Column("child_id", "Child Unique ID", _I),
    Column("gender", "Gender", Kind.GENDER),
    Column("ethnicity", "Ethnicity", _C),
    Column("birth_date", "Date of Birth", _D),
)
_AGE = Column("age", "Age", _N)
_DISABLED = Column("disability", "Does the Child have a Disability", _Y)
_WORKER = (Column("team", "Allocated Team", _T), Column("worker", "Allocated Worker", _T))


def _list(number: int, name: str, title: str, *columns: Column) -> ListSpec:
    return ListSpec(number=number, name=name, title=title, columns=columns)


LISTS: Mapping[int, ListSpec] = {
    spec.number: spec
    for spec in (
        _list(
            1,
            "contacts",
            "Contacts",
            *_CHILD,
            _AGE,
            Column("contact_date", "Date of Contact", _D),
            Column("contact_source", "Contact Source", _C),
        ),
        _list(
            2,
            "early_help",
            "Early help assessments",
            *_CHILD,
            _AGE,
            Column("start_date", "Assessment start date", _D),
            Column("completion_date", "Assessment completion date", _D),
            Column("organisation", "Organisation completing assessment", _T),
        ),
        _list(
            3,
            "referrals",
            "Referrals",
            *_CHILD,
            _AGE,
            Column("referral_date", "Date of Referral", _D),
            Column("referral_source", "Referral Source", _C),
            Column("referral_nfa", "Referral NFA?", _Y),
            Column("referrals_12_months", "Number of Referrals in Last 12 Months", Kind.COUNT),
            *_WORKER,
        ),
        _list(
            4,
            "assessments",
            "Assessments",
            *_CHILD,
            _AGE,
            _DISABLED,
            Column("start_date", "Continuous Assessment Start Date", _D),
            Column("child_seen", "Child Seen During Continuous Assessment", _Y),
            Column("authorisation_date", "Continuous Assessment Date of Authorisation", _D),
            Column(
                "support_required",
                "Was the child assessed as requiring LA children's social care support?",
                Kind.CATEGORY,
            ),
            *_WORKER,
        ),
        _list(
            5,
            "section47",
            "Section 47 enquiries and ICPCs",
            *_CHILD,
            _AGE,
            _DISABLED,
            Column(
                "strategy_date", "Strategy discussion initiating Section 47 Enquiry Start Date", _D
            ),
            Column(
                "icpc_unnecessary",
                "Was an Initial Child Protection Conference deemed unnecessary?",
                _Y,
            ),
            Column("icpc_date", "Date of Initial Child Protection Conference", _D),
            Column(
                "icpc_plan",
                "Did the Initial Child Protection Conference Result in a Child Protection Plan",
                _Y,
            ),
            Column(
                "s47_12_months", "Number of Section 47 Enquiries in the last 12 months", Kind.COUNT
            ),
            Column("icpc_12_months", "Number of ICPCs in the last 12 months", Kind.COUNT),
            *_WORKER,
        ),
        _list(
            6,
            "children_in_need",
            "Children in need",
            *_CHILD,
            _AGE,
            _DISABLED,
            Column("cin_start", "CIN Start Date", _D),
            Column("primary_need", "Primary Need Code", _C),
            Column("last_seen", "Date Child Was Last Seen", _D),
            Column("closure_date", "CIN Closure Date", _D),
            Column("closure_reason", "Reason for Closure", _C),
            Column("case_status", "Case Status", Kind.CATEGORY),
            *_WORKER,
        ),
        _list(
            7,
            "child_protection",
            "Child protection plans",
            *_CHILD,
            _AGE,
            _DISABLED,
            Column("cpp_start", "Child Protection Plan Start Date", _D),
            Column("initial_category", "Initial Category of Abuse", Kind.ABUSE),
            Column("latest_category", "Latest Category of Abuse", Kind.ABUSE),
            Column("last_visit", "Date of the Last Statutory Visit", _D),
            Column("seen_alone", "Was the Child Seen Alone?", _Y),
            Column("latest_review", "Date of latest review conference", _D),
            Column("cpp_end", "Child Protection Plan End Date", _D),
            Column(
                "emergency_protection",
                "Subject to Emergency Protection Order or Protected Under Police Powers in Last "
                "Six Months (Y/N)",
                _Y,
            ),
            Column("previous_plans", "Number of Previous Child Protection Plans", Kind.COUNT),
            *_WORKER,
        ),
        _list(
            8,
            "looked_after",
            "Children looked after",
            *_CHILD,
            _AGE,
            Column(
                "uasc",
                "Unaccompanied Asylum Seeking Child (UASC) within the Last 12 Months (Y/N))",
                _Y,
            ),
            _DISABLED,
            Column("start_date", "Date Started to be Looked After", _D),
            Column("category_of_need", "Child's Category of Need", _C),
            Column(
                "second_period",
                "Is this a second or subsequent period of being a Looked After Child within the "
                "last 12 months (Y/N)",
                _Y,
            ),
            Column("legal_status_start", "Start date of current legal status", _D),
            Column("legal_status", "Child's Legal Status", _C),
            Column("latest_review", "Date of Latest Statutory Review", _D),
            Column("last_visit", "Date of Last Social Work Visit", _D),
            Column("permanence_plan", "What is the permanence plan for this child?", Kind.CATEGORY),
            Column("last_iro_contact", "Date of Last IRO Visit / Contact to the Child", _D),
            Column("last_health_assessment", "Date of Last Health Assessment", _D),
            Column("last_dental_check", "Date of Last Dental Check", _D),
            Column(
                "placements_12_months", "Number of Placements in the Last 12 months", Kind.COUNT
            ),
            Column("ceased_date", "Date Ceased to be Looked After", _D),
            Column("ceased_reason", "Reason Ceased to be Looked After", _C),
            Column("placement_start", "Start Date of Most Recent Placement", _D),
            Column("placement_type", "Placement Type", _C),
            Column("placement_provider", "Placement Provider", _C),
            Column("placement_postcode", "Placement postcode", _T),
            Column("placement_urn", "URN of Placement", _I),
            Column("placement_location", "Placement Location", _T),
            Column("placement_la", "LA of Placement", _T),
            Column(
                "missing_12_months",
                "Number of Episodes the Child has been ‘Missing’ from their Placement in the last "
                "12 months",
                Kind.COUNT,
            ),
            Column(
                "absent_12_months",
                "Number of Episodes the Child has been ‘Absent’ from their Placement in the last "
                "12 months",
                Kind.COUNT,
            ),
            Column(
                "return_offered",
                "Was the child offered a Return Interview after their last missing episode (Y/N)?",
                _Y,
            ),
            Column(
                "return_accepted",
                "Did the child accept a Return Interview after their last missing episode (Y/N)?",
                _Y,
            ),
            *_WORKER,
        ),
        _list(
            9,
            "care_leavers",
            "Care leavers",
            *_CHILD,
            _AGE,
            _DISABLED,
            *_WORKER,
            Column("eligibility", "Eligibility Category", Kind.CATEGORY),
            Column("in_touch", "LA in Touch", _Y),
            Column("accommodation", "Type of Accommodation", _C),
            Column("accommodation_suitable", "Suitability of Accommodation", Kind.CATEGORY),
            Column("activity", "Activity Status", _C),
        ),
        _list(
            10,
            "adoption",
            "Adoption",
            _CHILD[0],
            Column("family_id", "Family identifier", _I),
            *_CHILD[1:],
            Column("age", "Age of Child (Years)", _N),
            _DISABLED,
            Column("entered_care", "Date the Child Entered Care", _D),
            Column("adm_decision", "Date of Decision that Child Should be Placed for Adoption", _D),
            Column("placement_order", "Date of Placement Order", _D),
            Column("matched", "Date of Matching Child and Prospective Adopters", _D),
            Column("placed", "Date Placed for Adoption", _D),
            Column("adoption_order", "Date of Adoption Order", _D),
            Column(
                "no_longer_decision",
                "Date of Decision that Child Should No Longer be Placed for Adoption",
                _D,
            ),
            Column("no_longer_reason", "Reason Why Child No Longer Placed for Adoption", _C),
            Column(
                "ffa_placed",
                "Date the child was placed for fostering in FFA or concurrent planning placement",
                _D,
            ),
        ),
        _list(
            11,
            "adopters",
            "Adopters",
            Column("adopter_id", "Individual adopter identifier", _I),
            Column("family_id", "Family identifier", _I),
            Column("gender", "Gender", Kind.GENDER),
            Column("ethnicity", "Ethnicity", _C),
            Column("disability", "Disability", _Y),
            Column(
                "fostering_for_adoption", "Is the (prospective) adopter fostering for adoption?", _Y
            ),
            Column("enquiry", "Date enquiry received", _D),
            Column("stage1_start", "Date Stage 1 started", _D),
            Column("stage1_end", "Date Stage 1 ended", _D),
            Column("stage2_start", "Date Stage 2 started", _D),
            Column("stage2_end", "Date Stage 2 ended", _D),
            Column("application_submitted", "Date application submitted", _D),
            Column("application_approved", "Date application approved", _D),
            Column("matched", "Date adopter matched with child(ren)", _D),
            Column("placed", "Date child/children placed with adopter(s)", _D),
            Column("children_placed", "No. of children placed", Kind.COUNT),
            Column("adoption_order", "Date of Adoption Order", _D),
            Column("left", "Date of leaving adoption process", _D),
            Column("left_reason", "Reason for leaving adoption process", _T),
        ),
    )
}
