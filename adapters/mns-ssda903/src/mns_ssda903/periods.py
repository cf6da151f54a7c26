"""From 903 episodes to mns's ``cases`` (periods of care), ``services`` (placements) and
``outcomes`` (OC2, OC3), computed on whole columns.

A period of care starts with an episode whose reason for new episode (RNE) is ``S``
(started to be looked after) and runs through the episodes that follow until one ends with
a reason (REC) other than ``X1`` (a new episode begins the same day), or is still open. A
child's first episode in a return may belong to a period that started in an earlier year:
its period starts there. That is routine (every child looked after on 1 April), so it is
one ``note`` with the count, not one issue per child.

A case is identified ``CHILD/start date`` (the same period has the same id in every year's
return). Its reference date is the start, its age the age at entry; its ``ssda903.*``
indicators are the category of need, legal status, reason for new episode, placement type
and provider at the start, the reason the period ended (when it has), and whether the child
is (or was) an unaccompanied asylum-seeking child. ``area`` is the home postcode at the
start, cut to the sector (``mns.read`` then cuts it to the district, unless told otherwise).
The child's date of birth, sex and ethnicity come from their first Header row.

A placement runs from an episode through the episodes that only change the legal status
(RNE ``L``); it is a ``placement`` service with the placement type as detail and the
provider code as provider.

OC2 (children looked after for a year) and OC3 (care leavers) become outcomes of the
child's latest period in the return. A care leaver with no period there gets a case of
their own (``CHILD/care_leaver``) on the reference date: the return covers care leavers who
left care in earlier years. An OC2 row of a child with no episode is an error (DfE rule
190): a child looked after for a year has episodes in the return, so no looked-after case is
invented; the row stays in the ``OC2`` table, attached to no case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mns.lang import language
from mns.records import schema
from mns.records.issues import IssueLog
from mns_ssda903 import spec
from mns_ssda903.arrays import mask, plain
from mns_ssda903.checks import CHILD_NUMBER, numbers
from mns_ssda903.raw import field_path

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
_OC3 = (("IN_TOUCH", "in_touch"), ("ACTIV", "activity"), ("ACCOM", "accommodation"))
_AT_START = {
    "ssda903.category_of_need": "CIN",
    "ssda903.legal_status": "LS",
    "ssda903.reason_new_episode": "RNE",
    "ssda903.placement_type": "PLACE",
    "ssda903.placement_provider": "PLACE_PROVIDER",
}
_SEX = pa.array(["M", "F"])


def cases_schema(year: int | None) -> pa.Schema:
    """The ``cases`` schema: the fixed columns and the ``ssda903`` indicators."""
    return schema.cases_schema([language("ssda903")], year)


def _is(codes: pa.Array, code: str) -> np.ndarray:
    """Which rows of a code column (dictionary or plain) hold ``code`` (null: no)."""
    if pa.types.is_dictionary(codes.type):
        hit = mask(pc.equal(codes.dictionary, code))
        index = np.asarray(pc.fill_null(codes.indices, 0).to_numpy(), dtype=np.int64)
        return hit[index] & mask(pc.is_valid(codes)) if len(hit) else np.zeros(len(codes), bool)
    return mask(pc.equal(codes, code))


def _shifted(array: pa.Array) -> pa.Array:
    """``array`` moved down one place (the previous row's value), null first."""
    if len(array) == 0:
        return array
    return pa.concat_arrays([pa.nulls(1, array.type), array.slice(0, len(array) - 1)])


def _same_as_previous(values: pa.Array) -> np.ndarray:
    """Which rows hold the same value as the row before (the first: no; two nulls: yes)."""
    same = np.zeros(len(values), dtype=bool)
    if len(values) > 1:
        before, after = values.slice(0, len(values) - 1), values.slice(1)
        both_null = pc.and_(pc.is_null(before), pc.is_null(after))
        same[1:] = mask(pc.or_(pc.equal(before, after), both_null))
    return same


def _ends(starts: np.ndarray, n: int) -> np.ndarray:
    """The last row of each run of rows that starts at ``starts`` (of ``n`` rows)."""
    return np.append(starts[1:] - 1, n - 1).astype(np.int64) if len(starts) else starts


def _age(born: pa.Array, on: pa.Array) -> pa.Array:
    """Whole years from ``born`` to ``on`` (never below 0; null when either is)."""
    years = pc.subtract(pc.year(on), pc.year(born))
    before = pc.or_(
        pc.less(pc.month(on), pc.month(born)),
        pc.and_(pc.equal(pc.month(on), pc.month(born)), pc.less(pc.day(on), pc.day(born))),
    )
    years = pc.subtract(years, pc.cast(before, pa.int64()))
    return pc.max_element_wise(years, pa.scalar(0, pa.int64()), skip_nulls=False).cast(pa.int16())


def _month(dates: pa.Array) -> pa.Array:
    """Each date's first day of the month."""
    days = pc.cast(pc.subtract(pc.day(dates), 1), pa.int64())
    stamp = pc.cast(dates.cast(pa.int32()), pa.int64())
    return pc.subtract(stamp, days).cast(pa.int32()).cast(pa.date32())


def _table(columns: Mapping[str, Any], target: pa.Schema, rows: int) -> pa.Table:
    arrays = []
    for field in target:
        given = columns.get(field.name)
        if given is None:
            arrays.append(pa.nulls(rows, field.type))
        elif isinstance(given, str):  # one value in every row
            value = pa.DictionaryArray.from_arrays(
                pa.array(np.zeros(rows, np.int32)), pa.array([given], pa.string())
            )
            arrays.append(value if pa.types.is_dictionary(field.type) else value.cast(field.type))
        else:
            arrays.append(pc.cast(given, field.type))
    return pa.Table.from_arrays(arrays, schema=target)


class _People:
    """Each child's first Header row (date of birth, sex, ethnicity) and UASC status, by
    child number (:data:`~mns_ssda903.checks.CHILD_NUMBER`)."""

    def __init__(self, tables: Mapping[str, pa.Table], uasc_given: bool) -> None:
        header = tables["Header"]
        number = numbers(header)
        first = np.full(number.max(initial=-1) + 2, -1)  # the last place: a child not there
        first[number[::-1]] = np.arange(len(number))[::-1]  # the last write: the first row
        self._first = first
        self.dob = header.column("DOB").combine_chunks()
        self.sex = plain(header, "SEX")
        self.ethnic = plain(header, "ETHNIC")
        uasc = tables["UASC"]
        self.uasc_known = uasc.num_rows > 0 or uasc_given
        self._uasc = numbers(uasc)

    def of(self, children: np.ndarray, on: pa.Array) -> dict[str, Any]:
        """The person columns of ``cases`` for the ``children`` (numbers), with their age
        ``on`` a date."""
        row = self._first[np.minimum(children, len(self._first) - 1)]
        where = pa.array(row, pa.int64(), mask=row < 0)
        dob = self.dob.take(where)
        return {
            "birth_month": _month(dob),
            "age": _age(dob, on),
            "sex": _SEX.take(pc.index_in(self.sex.take(where), pa.array(["1", "2"]))),
            "ethnicity": self.ethnic.take(where),
            "ssda903.uasc": pa.array(np.isin(children, self._uasc)) if self.uasc_known else None,
        }


class _Episodes:
    """The episodes sorted by child, start (unknown last) and, for episodes of a child that
    start the same day, by their content (then file order), so that the result does not
    depend on the order of the rows; with each row's relation to the one before."""

    #: what orders a child's episodes that start on the same day
    _TIES = ("DEC", "RNE", "REC", "LS", "CIN", "PLACE", "PLACE_PROVIDER")

    def __init__(self, episodes: pa.Table) -> None:
        keys = {
            "child": plain(episodes, "CHILD"),
            "decom": episodes.column("DECOM"),
            "i": pa.array(np.arange(episodes.num_rows), pa.int64()),
        }
        if _in_order([keys["child"], keys["decom"].combine_chunks()]):  # as exported, usually
            order = keys["i"]
            ordered = episodes
        else:
            order = pc.sort_indices(pa.table(keys), sort_keys=[(k, "ascending") for k in keys])
            ordered = episodes.take(order)
        if self._has_ties(ordered):
            keys = {
                **{k: v for k, v in keys.items() if k != "i"},
                **{c: plain(episodes, c) for c in self._TIES},
                "i": keys["i"],
            }
            order = pc.sort_indices(pa.table(keys), sort_keys=[(k, "ascending") for k in keys])
        self.t = episodes if order is keys["i"] else episodes.take(order)
        self.n = self.t.num_rows
        self.child = plain(self.t, "CHILD")
        self.rne = self.t.column("RNE").combine_chunks()
        self.rec = self.t.column("REC").combine_chunks()
        self.decom = self.t.column("DECOM").combine_chunks()
        self.dec = self.t.column("DEC").combine_chunks()
        self.same_child = _same_as_previous(self.child)

    @staticmethod
    def _has_ties(ordered: pa.Table) -> bool:
        """Whether a child has two episodes starting the same day (or two of unknown start)."""
        if ordered.num_rows < 2:  # a tie needs two rows
            return False
        same_child = _same_as_previous(plain(ordered, "CHILD"))
        decom = ordered.column("DECOM").combine_chunks()
        same_day = mask(pc.equal(decom, _shifted(decom))) | (
            mask(pc.is_null(decom)) & mask(pc.is_null(_shifted(decom)))
        )
        same_day[0] = False
        return bool((same_child & same_day).any())

    def previous(self, column: pa.Array) -> pa.Array:
        return _shifted(column)


class _Builder:
    def __init__(
        self, tables: Mapping[str, pa.Table], year: int | None, log: IssueLog, uasc_given: bool
    ) -> None:
        self.t = tables
        self.year = year
        self.reference = dt.date(year, 3, 31) if year is not None else None
        self.log = log
        self.people = _People(tables, uasc_given)
        self.e = _Episodes(tables["Episodes"])

    def _issues(
        self,
        rows: np.ndarray,
        message: Callable[[dict[str, Any], dict[str, Any]], str],
        *,
        field: str,
        value: Callable[[dict[str, Any]], Any],
    ) -> None:
        """One error per episode in ``rows`` (sorted positions), with the episode before."""
        if not len(rows):
            return
        here = self.e.t.take(pa.array(rows, pa.int64())).to_pylist()
        before = self.e.t.take(pa.array(rows - 1, pa.int64())).to_pylist()
        for ep, prev in zip(here, before, strict=True):
            self.log.error(
                message(ep, prev),
                field=field,
                value=value(ep),
                record=ep["CHILD"],
                table="Episodes",
                action="kept",
                source=ep["source"],
                row=ep["row"],
                line=ep["line"],
                path=field_path(ep["path"], field),
            )

    def period_starts(self) -> np.ndarray:
        """Which sorted episodes start a period, reporting episodes that do not chain."""
        e = self.e
        is_s = _is(e.rne, "S")
        x1 = _is(e.rec, "X1")
        prev_x1 = np.concatenate([[False], x1[:-1]])
        ended = mask(pc.and_(pc.is_valid(e.dec), pc.is_valid(e.rec)))
        prev_ended = np.concatenate([[False], ended[:-1]])
        gap = mask(pc.not_equal(e.decom, e.previous(e.dec)))
        follows = e.same_child
        self._issues(
            np.flatnonzero(follows & prev_x1 & is_s),
            lambda ep, prev: (
                "the episode starts a new period of care (RNE S) although the one before "
                "ended X1 (a new episode the same day); a new period was started"
            ),
            field="RNE",
            value=lambda ep: "S",
        )
        self._issues(
            np.flatnonzero(follows & prev_x1 & ~is_s & gap),
            lambda ep, prev: (
                f"the episode starts on {ep['DECOM']:%d/%m/%Y} but the one before ended X1 on "
                f"{prev['DEC']:%d/%m/%Y}: X1 means the next episode starts the same day"
            ),
            field="DECOM",
            value=lambda ep: f"{ep['DECOM']:%d/%m/%Y}",
        )
        self._issues(
            np.flatnonzero(follows & ~prev_x1 & ~prev_ended),
            lambda ep, prev: (
                "the episode follows one that has not ended (no DEC or REC); both were kept, "
                "in two periods"
            ),
            field="DECOM",
            value=lambda ep: None,
        )
        self._issues(
            np.flatnonzero(follows & ~prev_x1 & prev_ended & ~is_s),
            lambda ep, prev: (
                f"the episode follows the end of a period of care (REC {prev['REC']}) but its "
                f"RNE is {ep['RNE']}, not S; it was read as the start of a new period"
            ),
            field="RNE",
            value=lambda ep: ep["RNE"],
        )
        first = ~follows
        self._summarise_earlier_starts(first & ~is_s & mask(pc.is_valid(e.rne)))
        starts: np.ndarray = first | ~(prev_x1 & ~is_s)
        return starts

    def _summarise_earlier_starts(self, rows: np.ndarray) -> None:
        count = int(rows.sum())
        if not count:
            return
        [ep] = self.e.t.take(pa.array(np.flatnonzero(rows)[:1], pa.int64())).to_pylist()
        children = "child's" if count == 1 else f"{count:,} children's"
        self.log.note(
            f"{children} first episode in the return is not the start of their period of care "
            "(RNE is not S): the period started before this return, so the case starts on "
            f"that episode's DECOM. The first is child {self.log.quote(ep['CHILD'], 'identifier')}"
            f" (RNE {ep['RNE']}); {count:,} in all",
            field="RNE",
            value=str(count),
            record=ep["CHILD"],
            table="Episodes",
            source=ep["source"],
            row=ep["row"],
            line=ep["line"],
            path=field_path(ep["path"], "RNE"),
        )

    def periods(self) -> tuple[pa.Table, pa.Table, pa.Table]:
        """``cases`` columns of the periods, the ``services`` (placements), and each
        child's latest case id."""
        e = self.e
        new = self.period_starts()
        starts = np.flatnonzero(new)
        ends = _ends(starts, e.n)
        at_start = [
            "CHILD",
            CHILD_NUMBER,
            "DECOM",
            "HOME_POST",
            *_AT_START.values(),
            "source",
            "row",
            "line",
            "path",
        ]
        first = e.t.select(at_start).take(pa.array(starts, pa.int64()))
        last_rec = e.rec.take(pa.array(ends, pa.int64()))
        child = plain(first, "CHILD")
        start = first.column("DECOM").combine_chunks()
        started = start.cast(pa.string())
        if start.null_count:  # a period whose start is not known is named by its place
            where = pc.cast(pc.coalesce(first.column("line"), first.column("row")), pa.string())
            started = pc.coalesce(started, pc.binary_join_element_wise("#line", where, ""))
        case_id = self._unique(pc.binary_join_element_wise(child, started, "/"), first)
        ended = pa.array(mask(pc.is_valid(last_rec)) & ~_is(last_rec, "X1"))
        columns: dict[str, Any] = {
            "case_id": case_id,
            "child_id": child,
            "reference_date": start,
            **self.people.of(numbers(first), start),
            "area": first.column("HOME_POST"),
            "cohort": "looked_after",
            "agency": AGENCY,
            "source_system": SOURCE_SYSTEM,
            "ssda903.reason_episode_ceased": pc.if_else(
                ended, last_rec, pa.scalar(None, last_rec.type)
            ),
            **{name: first.column(column) for name, column in _AT_START.items()},
        }
        cases = _table(columns, cases_schema(self.year), len(starts))
        services = self._placements(new, case_id)
        return cases, services, self._latest(cases)

    def _unique(self, case_id: pa.Array, first: pa.Table) -> pa.Array:
        """``case_id`` with a second (third...) period of a child starting the same day
        numbered (``C1/2023-06-01#2``), each reported: a case id names one period."""
        again = _same_as_previous(case_id)
        if not again.any():
            return case_id
        ids = case_id.to_pylist()
        run = 1
        for i in range(1, len(ids)):
            run = run + 1 if again[i] else 1
            if again[i]:
                ids[i] = f"{ids[i]}#{run}"
        for row in first.take(pa.array(np.flatnonzero(again), pa.int64())).to_pylist():
            self.log.error(
                "a second period of care of the child starting on the same day as another; "
                "its case id is numbered",
                field="DECOM",
                value=f"{row['DECOM']:%d/%m/%Y}" if row["DECOM"] else None,
                record=row["CHILD"],
                table="Episodes",
                action="kept",
                source=row["source"],
                row=row["row"],
                line=row["line"],
                path=field_path(row["path"], "DECOM"),
            )
        return pa.array(ids, pa.string())

    def _placements(self, new_period: np.ndarray, case_id: pa.Array) -> pa.Table:
        e = self.e
        new = new_period | ~_is(e.rne, "L")
        starts = np.flatnonzero(new)
        ends = _ends(starts, e.n)
        period = (np.cumsum(new_period) - 1)[starts]
        first = e.t.select(["CHILD", "PLACE", "DECOM", "PLACE_PROVIDER"]).take(
            pa.array(starts, pa.int64())
        )
        columns = {
            "case_id": case_id.take(pa.array(period, pa.int64())),
            "child_id": plain(first, "CHILD"),
            "service": "placement",
            "detail": first.column("PLACE"),
            "start_date": first.column("DECOM"),
            "end_date": e.dec.take(pa.array(ends, pa.int64())),
            "agency": AGENCY,
            "provider": first.column("PLACE_PROVIDER"),
        }
        return _table(columns, schema.SERVICES, len(starts))

    @staticmethod
    def _latest(cases: pa.Table) -> pa.Table:
        """Each child's greatest case id (their latest period)."""
        case_id = cases.column("case_id").combine_chunks()
        if not _in_order([case_id]):
            return cases.group_by("child_id", use_threads=False).aggregate([("case_id", "max")])
        # in order, a child's cases are together (they share the prefix "child/"): the
        # last of each run is the greatest
        child = cases.column("child_id").combine_chunks()
        last = pa.array(_ends(np.flatnonzero(~_same_as_previous(child)), len(child)))
        return pa.table({"child_id": child.take(last), "case_id_max": case_id.take(last)})

    def outcomes(self, cases: pa.Table, latest: pa.Table) -> tuple[pa.Table, pa.Table]:
        """OC2 and OC3 as outcomes of each child's latest case, and the care leavers' own
        cases (children with OC3 rows and no period)."""
        oc2, oc3 = self.t["OC2"], self.t["OC3"]
        if oc2.num_rows == 0 and oc3.num_rows == 0:
            return _table({}, schema.OUTCOMES, 0), cases.schema.empty_table()
        known = plain(latest, "child_id")
        oc2_case = self._case_of(oc2, latest)
        self._oc2_without_episodes(oc2, pc.is_null(oc2_case))
        leavers = plain(oc3, "CHILD").filter(pc.invert(pc.is_in(plain(oc3, "CHILD"), known)))
        unique = pc.unique(leavers)
        order = np.asarray(pc.sort_indices(pa.table({"c": unique}), sort_keys=[("c", "ascending")]))
        leavers = unique.take(pa.array(order, pa.int64()))
        on = pa.repeat(pa.scalar(self.reference, pa.date32()), len(leavers))
        leaver_numbers = numbers(oc3)[np.asarray(pc.index_in(leavers, plain(oc3, "CHILD")))]
        own = _table(
            {
                "case_id": pc.binary_join_element_wise(leavers, "care_leaver", "/"),
                "child_id": leavers,
                "reference_date": on,
                **self.people.of(leaver_numbers, on),
                "cohort": "care_leaver",
                "agency": AGENCY,
                "source_system": SOURCE_SYSTEM,
            },
            cases.schema,
            len(leavers),
        )
        everyone = pa.table(
            {
                "child_id": pa.concat_arrays([known, leavers]),
                "case_id_max": pa.concat_arrays(
                    [
                        latest.column("case_id_max").combine_chunks(),
                        own.column("case_id").combine_chunks(),
                    ]
                ),
            }
        )
        oc3_case = self._case_of(oc3, everyone)
        parts = [
            self._outcome(oc2_case, "sdq_score", value=plain(oc2, "SDQ_SCORE")),
            self._outcome(oc2_case, "sdq_reason", detail=plain(oc2, "SDQ_REASON")),
            *(
                self._outcome(oc2_case, flag.lower(), achieved=oc2.column(flag))
                for flag in _OC2_FLAGS
            ),
            *(
                self._outcome(oc3_case, outcome, detail=plain(oc3, column))
                for column, outcome in _OC3
            ),
        ]
        return pa.concat_tables(parts), own

    @staticmethod
    def _case_of(table: pa.Table, latest: pa.Table) -> pa.Array:
        where = pc.index_in(plain(table, "CHILD"), plain(latest, "child_id"))
        return latest.column("case_id_max").combine_chunks().take(where)

    def _oc2_without_episodes(self, oc2: pa.Table, alone: pa.Array) -> None:
        rows = np.flatnonzero(mask(alone))
        for row in oc2.take(pa.array(rows, pa.int64())).to_pylist():
            self.log.error(
                "OC2 outcomes (children looked after for a year at 31 March) for a child with "
                "no episode of care in the return; no looked-after case was made for them and "
                "the row is attached to no case" + spec.cite("190"),
                field="CHILD",
                record=row["CHILD"],
                table="OC2",
                action="kept",
                source=row["source"],
                row=row["row"],
                line=row["line"],
                path=field_path(row["path"], "CHILD"),
            )

    def _outcome(self, case: pa.Array, outcome: str, **values: Any) -> pa.Table:
        [(kind, column)] = values.items()
        keep = pc.and_(pc.is_valid(case), pc.is_valid(column))
        rows = int(pc.sum(pc.cast(keep, pa.int64())).as_py() or 0)
        return _table(
            {
                "case_id": case.filter(keep),
                "outcome": outcome,
                "recorded_on": pa.repeat(pa.scalar(self.reference, pa.date32()), rows),
                kind: pc.filter(column, keep),
            },
            schema.OUTCOMES,
            rows,
        )


def _in_order(keys: list[pa.Array]) -> bool:
    """Whether the rows are already sorted by ``keys``, ascending (a null: not known so)."""
    if len(keys[0]) < 2:
        return True
    before = [k.slice(0, len(k) - 1) for k in keys]
    after = [k.slice(1) for k in keys]
    ordered = pc.less_equal(before[-1], after[-1])
    for b, a in zip(reversed(before[:-1]), reversed(after[:-1]), strict=True):
        ordered = pc.or_(pc.less(b, a), pc.and_(pc.equal(b, a), ordered))
    return bool(pc.all(pc.fill_null(ordered, False)).as_py())


def _sorted(table: pa.Table, keys: list[str]) -> pa.Table:
    plain = pa.table(
        {
            k: table.column(k).cast(pa.string())
            if pa.types.is_dictionary(table.schema.field(k).type)
            else table.column(k)
            for k in keys
        }
    )
    if _in_order([plain.column(k).combine_chunks() for k in keys]):  # as built, usually
        return table
    return table.take(pc.sort_indices(plain, sort_keys=[(k, "ascending") for k in keys]))


def build(
    tables: Mapping[str, pa.Table], year: int | None, log: IssueLog, *, uasc_given: bool = False
) -> tuple[pa.Table, pa.Table, pa.Table]:
    """``cases``, ``services`` and ``outcomes`` from the checked 903 tables, sorted by key.

    ``uasc_given``: the return has a UASC table (even an empty one), so a child not in it
    is known not to be UASC; otherwise ``ssda903.uasc`` is unknown unless the child is there.
    """
    builder = _Builder(tables, year, log, uasc_given)
    periods, services, latest = builder.periods()
    outcomes, leavers = builder.outcomes(periods, latest)
    cases = pa.concat_tables([periods, leavers])
    return (
        _sorted(cases, ["case_id"]),
        _sorted(services, ["case_id", "start_date"]),
        _sorted(outcomes, ["case_id", "outcome"]),
    )
