"""From 903 episodes to mns's ``cases`` (periods of care), ``services`` (placements) and
``outcomes`` (OC2, OC3).

A period of care starts with an episode whose reason for new episode (RNE) is ``S``
(started to be looked after) and runs through the episodes that follow until one ends with
a reason (REC) other than ``X1`` (a new episode begins the same day), or is still open. A
child's first episode in a return may belong to a period that started in an earlier year:
its period starts there, with a warning that the start is not in the data.

A case is identified ``CHILD/start date`` (the same period has the same id in every year's
return). Its reference date is the start, its age the age at entry; its ``ssda903.*``
indicators are the category of need, legal status, reason for new episode, placement type
and provider at the start, the reason the period ended (when it has), and whether the child
is (or was) an unaccompanied asylum-seeking child. ``area`` is the home postcode at the
start, cut to the sector (``mns.read`` then cuts it to the district, unless told otherwise).

A placement runs from an episode through the episodes that only change the legal status
(RNE ``L``); it is a ``placement`` service with the placement type as detail and the
provider code as provider.

OC2 (children looked after for a year) and OC3 (care leavers) become outcomes of the
child's latest period in the return; a child with outcomes but no period there gets a case
of its own (``CHILD/care_leaver`` or ``CHILD/looked_after``) on the reference date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from mns.lang import language
from mns.records import schema
from mns.records.issues import IssueLog

__all__ = ["SOURCE_SYSTEM", "build", "cases_schema"]

SOURCE_SYSTEM = "ssda903"
AGENCY = "social_care"
_OC2_FLAGS = (
    "CONVICTED",
    "HEALTH_CHECK",
    "IMMUNISATIONS",
    "TEETH_CHECK",
    "HEALTH_ASSESSMENT",
    "SUBSTANCE_MISUSE",
    "INTERVENTION_RECEIVED",
    "INTERVENTION_OFFERED",
)
_AT_START = {
    "ssda903.category_of_need": "CIN",
    "ssda903.legal_status": "LS",
    "ssda903.reason_new_episode": "RNE",
    "ssda903.placement_type": "PLACE",
    "ssda903.placement_provider": "PLACE_PROVIDER",
}


def cases_schema(year: int | None) -> pa.Schema:
    """The ``cases`` schema: the fixed columns and the ``ssda903`` indicators."""
    return schema.cases_schema([language("ssda903")], year)


def _plain(table: pa.Table, column: str) -> list[Any]:
    values = table.column(column)
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    rows: list[Any] = values.to_pylist()
    return rows


def _age(born: dt.date | None, on: dt.date | None) -> int | None:
    if born is None or on is None:
        return None
    years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return max(years, 0)


class _Builder:
    def __init__(
        self, tables: Mapping[str, pa.Table], year: int | None, log: IssueLog, uasc_given: bool
    ) -> None:
        self.t = tables
        self.year = year
        self.reference = dt.date(year, 3, 31) if year is not None else None
        self.log = log
        self.cases: list[dict[str, Any]] = []
        self.services: list[dict[str, Any]] = []
        self.outcomes: list[dict[str, Any]] = []
        self.latest: dict[str, str] = {}  # child -> case id of its latest period
        self.warned: set[str] = set()  # children already reported without a Header row
        header = tables["Header"]
        self.header = {
            child: {"DOB": dob, "SEX": sex, "ETHNIC": eth}
            for child, dob, sex, eth in zip(
                _plain(header, "CHILD"),
                _plain(header, "DOB"),
                _plain(header, "SEX"),
                _plain(header, "ETHNIC"),
                strict=True,
            )
        }
        uasc = tables["UASC"]
        self.uasc_known = uasc.num_rows > 0 or uasc_given
        self.uasc = set(_plain(uasc, "CHILD"))

    def where(self, ep: Mapping[str, Any]) -> dict[str, Any]:
        return {"source": ep["source"], "row": ep["row"], "line": ep["line"]}

    def periods(self) -> None:
        episodes = self.t["Episodes"]
        names = list(episodes.column_names)
        rows = [
            dict(zip(names, values, strict=True))
            for values in zip(*(_plain(episodes, n) for n in names), strict=True)
        ]
        order = sorted(
            range(len(rows)), key=lambda i: (rows[i]["CHILD"], rows[i]["DECOM"] or dt.date.max, i)
        )
        current: list[dict[str, Any]] = []
        for i in order:
            ep = rows[i]
            if current and current[0]["CHILD"] == ep["CHILD"] and self._continues(current[-1], ep):
                current.append(ep)
                continue
            first_of_child = not current or current[0]["CHILD"] != ep["CHILD"]
            if current:
                self._period(current)
            current = [ep]
            if first_of_child and ep["RNE"] != "S" and ep["RNE"] is not None:
                self._first_without_start(ep)
        if current:
            self._period(current)

    def _continues(self, prev: Mapping[str, Any], ep: Mapping[str, Any]) -> bool:
        """Whether ``ep`` continues the period ``prev`` is in (and report what is odd)."""
        if prev["REC"] == "X1":
            if ep["RNE"] == "S":
                self.log.error(
                    "the episode starts a new period of care (RNE S) although the one before "
                    "ended X1 "
                    "(a new episode the same day); a new period was started",
                    field="RNE",
                    value="S",
                    record=ep["CHILD"],
                    table="Episodes",
                    action="kept",
                    **self.where(ep),
                )
                return False
            if prev["DEC"] is not None and ep["DECOM"] is not None and ep["DECOM"] != prev["DEC"]:
                self.log.error(
                    f"the episode starts on {ep['DECOM']:%d/%m/%Y} but the one before ended X1 on "
                    f"{prev['DEC']:%d/%m/%Y}: X1 means the next episode starts the same day",
                    field="DECOM",
                    value=f"{ep['DECOM']:%d/%m/%Y}",
                    record=ep["CHILD"],
                    table="Episodes",
                    action="kept",
                    **self.where(ep),
                )
            return True
        if prev["DEC"] is None or prev["REC"] is None:
            self.log.error(
                "the episode follows one that has not ended (no DEC or REC); both were kept, in "
                "two periods",
                field="DECOM",
                record=ep["CHILD"],
                table="Episodes",
                action="kept",
                **self.where(ep),
            )
        elif ep["RNE"] != "S":
            self.log.error(
                f"the episode follows the end of a period of care (REC {prev['REC']}) but its RNE "
                "is "
                f"{ep['RNE']}, not S; it was read as the start of a new period",
                field="RNE",
                value=ep["RNE"],
                record=ep["CHILD"],
                table="Episodes",
                action="kept",
                **self.where(ep),
            )
        return False

    def _first_without_start(self, ep: Mapping[str, Any]) -> None:
        self.log.warning(
            f"the child's period of care starts before this episode (RNE {ep['RNE']}, not S): its "
            "start "
            "is not in the data, so the case starts on this episode's DECOM",
            field="RNE",
            value=ep["RNE"],
            record=ep["CHILD"],
            table="Episodes",
            action="kept",
            **self.where(ep),
        )

    def _period(self, eps: list[dict[str, Any]]) -> None:
        first, last = eps[0], eps[-1]
        child = first["CHILD"]
        start: dt.date | None = first["DECOM"]
        case_id = (
            f"{child}/{start.isoformat()}"
            if start
            else f"{child}/#line{first['line'] or first['row']}"
        )
        head = self.header.get(child)
        if head is None and child not in self.warned:
            self.warned.add(child)
            self.log.warning(
                "the child has episodes but no Header row (no date of birth, sex or ethnicity)",
                field="CHILD",
                record=child,
                table="Header",
                action="kept",
                **self.where(first),
            )
        head = head or {}
        dob = head.get("DOB")
        ended = last["REC"] is not None and last["REC"] != "X1"
        case: dict[str, Any] = {
            "case_id": case_id,
            "child_id": child,
            "reference_date": start,
            "birth_month": dob.replace(day=1) if dob else None,
            "age": _age(dob, start),
            "sex": {"1": "M", "2": "F"}.get(head.get("SEX") or ""),
            "ethnicity": head.get("ETHNIC"),
            "area": first["HOME_POST"],
            "cohort": "looked_after",
            "agency": AGENCY,
            "source_system": SOURCE_SYSTEM,
            "ssda903.uasc": (child in self.uasc) if self.uasc_known else None,
            "ssda903.reason_episode_ceased": last["REC"] if ended else None,
        }
        case.update({name: first[column] for name, column in _AT_START.items()})
        self.cases.append(case)
        known = self.latest.get(child)
        if known is None or known < case_id:
            self.latest[child] = case_id
        placement: dict[str, Any] | None = None
        for ep in eps:
            if placement is not None and ep["RNE"] == "L":
                placement["end_date"] = ep["DEC"]
                continue
            placement = {
                "case_id": case_id,
                "child_id": child,
                "service": "placement",
                "detail": ep["PLACE"],
                "start_date": ep["DECOM"],
                "end_date": ep["DEC"],
                "agency": AGENCY,
                "provider": ep["PLACE_PROVIDER"],
            }
            self.services.append(placement)

    def _case_for(self, child: str, cohort: str, where: Mapping[str, Any]) -> str:
        case_id = self.latest.get(child)
        if case_id is not None:
            return case_id
        case_id = f"{child}/{cohort}"
        head = self.header.get(child, {})
        dob = head.get("DOB")
        self.cases.append(
            {
                "case_id": case_id,
                "child_id": child,
                "reference_date": self.reference,
                "birth_month": dob.replace(day=1) if dob else None,
                "age": _age(dob, self.reference),
                "sex": {"1": "M", "2": "F"}.get(head.get("SEX") or ""),
                "ethnicity": head.get("ETHNIC"),
                "cohort": cohort,
                "agency": AGENCY,
                "source_system": SOURCE_SYSTEM,
                "ssda903.uasc": (child in self.uasc) if self.uasc_known else None,
            }
        )
        self.latest[child] = case_id
        if cohort == "looked_after":
            self.log.warning(
                "OC2 outcomes for a child with no episode in the return; a case was made for them",
                field="CHILD",
                record=child,
                table="OC2",
                action="kept",
                **where,
            )
        return case_id

    def outcome_rows(self) -> None:
        oc2 = self.t["OC2"]
        names = oc2.column_names
        for values in zip(*(_plain(oc2, n) for n in names), strict=True):
            row = dict(zip(names, values, strict=True))
            case = self._case_for(row["CHILD"], "looked_after", self.where(row))
            if row["SDQ_SCORE"] is not None:
                self._outcome(case, "sdq_score", value=float(row["SDQ_SCORE"]))
            if row["SDQ_REASON"] is not None:
                self._outcome(case, "sdq_reason", detail=row["SDQ_REASON"])
            for flag in _OC2_FLAGS:
                if row[flag] is not None:
                    self._outcome(case, flag.lower(), achieved=row[flag])
        oc3 = self.t["OC3"]
        names = oc3.column_names
        for values in zip(*(_plain(oc3, n) for n in names), strict=True):
            row = dict(zip(names, values, strict=True))
            case = self._case_for(row["CHILD"], "care_leaver", self.where(row))
            for column, outcome in (
                ("IN_TOUCH", "in_touch"),
                ("ACTIV", "activity"),
                ("ACCOM", "accommodation"),
            ):
                if row[column] is not None:
                    self._outcome(case, outcome, detail=row[column])

    def _outcome(self, case: str, outcome: str, **values: Any) -> None:
        self.outcomes.append(
            {"case_id": case, "outcome": outcome, "recorded_on": self.reference, **values}
        )


def _table(rows: list[dict[str, Any]], target: pa.Schema) -> pa.Table:
    arrays = []
    for field in target:
        column = [r.get(field.name) for r in rows]
        if pa.types.is_dictionary(field.type):
            arrays.append(pa.array(column, pa.string()).cast(field.type))
        else:
            arrays.append(pa.array(column, field.type))
    return pa.Table.from_arrays(arrays, schema=target)


def build(
    tables: Mapping[str, pa.Table], year: int | None, log: IssueLog, *, uasc_given: bool = False
) -> tuple[pa.Table, pa.Table, pa.Table]:
    """``cases``, ``services`` and ``outcomes`` from the checked 903 tables, sorted by key.

    ``uasc_given``: the return has a UASC table (even an empty one), so a child not in it
    is known not to be UASC; otherwise ``ssda903.uasc`` is unknown unless the child is there.
    """
    builder = _Builder(tables, year, log, uasc_given)
    builder.periods()
    builder.outcome_rows()
    cases = _table(builder.cases, cases_schema(year))
    services = _table(builder.services, schema.SERVICES)
    outcomes = _table(builder.outcomes, schema.OUTCOMES)
    cases = cases.take(pc.sort_indices(cases, sort_keys=[("case_id", "ascending")]))
    keys = pa.table({"c": services.column("case_id"), "s": services.column("start_date")})
    services = services.take(
        pc.sort_indices(keys, sort_keys=[("c", "ascending"), ("s", "ascending")])
    )
    keys = pa.table(
        {"c": outcomes.column("case_id"), "o": outcomes.column("outcome").cast(pa.string())}
    )
    outcomes = outcomes.take(
        pc.sort_indices(keys, sort_keys=[("c", "ascending"), ("o", "ascending")])
    )
    return cases, services, outcomes
