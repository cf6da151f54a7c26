"""Writing canonical tables as a 903 CSV set (Header, Episodes, UASC, OC2, OC3).

A case is a period of care when it has ``placement`` services (or ``looked_after`` ones,
whose detail is the placement type); each becomes an episode, in start order. What the
return needs but the canonical tables do not carry is derived, always the same way, and
reported:

- episodes follow one another: each ends the day the next begins, with REC ``X1``, and
  every one after the first has RNE ``P`` (a change of placement and carers);
- the first episode's RNE is ``ssda903.reason_new_episode``, else ``S``; LS, CIN, PLACE and
  PLACE_PROVIDER come from the ``ssda903.*`` indicators and the services; the category of
  need falls back on ``cin.primary_need`` (N1-N8 mean the same in both); a legal status
  nobody recorded is left blank (the reader will report it);
- the last episode ends on the service's end date when that is on or before the reference
  date, with REC ``ssda903.reason_episode_ceased`` (``E8``, "ceased for any other reason",
  when not recorded); otherwise it is still open;
- the date of birth is a day in ``birth_month`` giving back the case's ``age`` at its
  reference date; SEX is 1 (M) or 2 (F), blank otherwise;
- services starting after the reference date belong to a later return and are left out.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeAlias

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from mns.cells import CsvWriter
from mns.errors import MnsError
from mns.plugins import replacing
from mns.records import schema
from mns.records.issues import IssueLog
from mns_ssda903 import spec
from mns_ssda903.validate import code_set

__all__ = ["Written", "write"]

Tables: TypeAlias = pa.Table | pa.RecordBatchReader | Iterable[pa.RecordBatch]
_PLACEMENTS = ("placement", "looked_after")
_SEX = {"M": "1", "F": "2"}
_FILES = ("Header", "Episodes", "UASC", "OC2", "OC3")


@attrs.frozen(kw_only=True)
class Written:
    """What :func:`write` wrote: the files, the periods of care and episodes, and issues."""

    files: tuple[Path, ...]
    periods: int
    episodes: int
    issues: pa.Table


def _table(data: Tables | None, name: str) -> pa.Table:
    if data is None:
        return schema.SCHEMAS[name].empty_table()
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatchReader):
        return data.read_all()
    return pa.Table.from_batches(list(data))


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    arrays = [
        c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c for c in table.columns
    ]
    rows: list[dict[str, Any]] = pa.Table.from_arrays(arrays, names=table.column_names).to_pylist()
    return rows


def _d(value: dt.date | None) -> str:
    return "" if value is None else f"{value:%d/%m/%Y}"


def _birth_date(month: dt.date, age: int | None, on: dt.date | None) -> dt.date:
    """A day of ``month`` whose age on ``on`` is ``age`` (the 1st when that works)."""
    if age is None or on is None:
        return month
    last = calendar.monthrange(month.year, month.month)[1]
    for day in (1, min(on.day + 1, last), last):
        born = month.replace(day=day)
        if on.year - born.year - ((on.month, on.day) < (born.month, born.day)) == age:
            return born
    return month


class _Writer:
    def __init__(self, year: int, reference: dt.date, log: IssueLog) -> None:
        self.year = year
        self.reference = reference
        self.log = log
        self.rows: dict[str, list[dict[str, str]]] = {name: [] for name in _FILES}
        self.counts: dict[str, int] = {}

    def note(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1

    def code(self, column: str, value: Any) -> str:
        if value is None:
            return ""
        if value in code_set(column, self.year):
            return str(value)
        self.log.warning(
            f"{column} {value!r} is not a code of the {self.year} return; left blank",
            field=column,
            value=str(value),
        )
        return ""

    def period(self, case: dict[str, Any], placements: list[dict[str, Any]]) -> None:
        child = str(case["child_id"] or case["case_id"])
        legal = case.get("ssda903.legal_status")
        need = case.get("ssda903.category_of_need")
        if need is None and case.get("cin.primary_need") in code_set("CIN", self.year):
            need = case.get("cin.primary_need")
        if legal is None:
            self.note("period(s) of care have no legal status recorded: LS was left blank")
        if need is None:
            self.note("period(s) of care have no category of need recorded: CIN was left blank")
        for k, service in enumerate(placements):
            last = k == len(placements) - 1
            if last:
                end = (
                    service["end_date"]
                    if service["end_date"] and service["end_date"] <= self.reference
                    else None
                )
                reason = case.get("ssda903.reason_episode_ceased") if end else None
                if end and reason is None:
                    self.note(
                        "period(s) of care ended without a recorded reason: REC E8 was written"
                    )
                    reason = "E8"
            else:
                end, reason = placements[k + 1]["start_date"], "X1"
            first_rne = case.get("ssda903.reason_new_episode") or "S"
            self.rows["Episodes"].append(
                {
                    "CHILD": child,
                    "DECOM": _d(service["start_date"]),
                    "RNE": first_rne if k == 0 else "P",
                    "LS": self.code("LS", legal),
                    "CIN": self.code("CIN", need),
                    "PLACE": self.code("PLACE", service["detail"]),
                    "PLACE_PROVIDER": self.code("PLACE_PROVIDER", service["provider"])
                    if service["provider"] in code_set("PLACE_PROVIDER", self.year)
                    else "",
                    "DEC": _d(end),
                    "REC": self.code("REC", reason),
                    "REASON_PLACE_CHANGE": "",
                    "HOME_POST": case.get("area") or "",
                    "PL_POST": "",
                    "URN": "",
                }
            )

    def child(self, case: dict[str, Any]) -> None:
        child = str(case["child_id"] or case["case_id"])
        dob = (
            _birth_date(case["birth_month"], case["age"], case["reference_date"])
            if case["birth_month"]
            else None
        )
        sex = _SEX.get(case["sex"] or "", "")
        if not sex:
            self.note("child(ren) are neither M nor F: SEX was left blank")
        self.rows["Header"].append(
            {
                "CHILD": child,
                "SEX": sex,
                "DOB": _d(dob),
                "ETHNIC": self.code("ETHNIC", case["ethnicity"]),
                "UPN": "",
                "MOTHER": "",
                "MC_DOB": "",
            }
        )
        if case.get("ssda903.uasc"):
            self.rows["UASC"].append({"CHILD": child, "SEX": sex, "DOB": _d(dob), "DUC": ""})

    def outcomes(self, child: str, dob: str, rows: list[dict[str, Any]]) -> None:
        names = {r["outcome"]: r for r in rows}
        oc2 = {
            "SDQ_SCORE": str(int(names["sdq_score"]["value"])) if "sdq_score" in names else "",
            "SDQ_REASON": (names.get("sdq_reason") or {}).get("detail") or "",
        }
        flags = [
            c
            for c in spec.TABLES["OC2"].names
            if c not in ("CHILD", "DOB", "SDQ_SCORE", "SDQ_REASON")
        ]
        for flag in flags:
            row = names.get(flag.lower())
            oc2[flag] = (
                "" if row is None or row["achieved"] is None else ("1" if row["achieved"] else "0")
            )
        if any(oc2.values()):
            self.rows["OC2"].append({"CHILD": child, "DOB": dob, **oc2})
        oc3 = {
            column: (names.get(outcome) or {}).get("detail") or ""
            for column, outcome in (
                ("IN_TOUCH", "in_touch"),
                ("ACTIV", "activity"),
                ("ACCOM", "accommodation"),
            )
        }
        if any(oc3.values()):
            self.rows["OC3"].append({"CHILD": child, "DOB": dob, **oc3})


def write(
    cases: Tables,
    services: Tables | None,
    folder: str | Path,
    *,
    year: int,
    outcomes: Tables | None = None,
) -> Written:
    """Write ``cases`` (periods of care: the cases with placements) as the 903 CSV set of
    collection ``year`` in ``folder``: ``Header.csv``, ``Episodes.csv``, ``UASC.csv``,
    ``OC2.csv`` and ``OC3.csv``. Returns what was written, with issues for what was
    derived or left out (see the module notes)."""
    if not 1990 <= year <= 2100:
        raise MnsError(f"year {year} is not a collection year", field="year")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    reference = dt.date(year, 3, 31)
    log = IssueLog(source=str(out), table="cases", adapter="ssda903")
    case_rows = _rows(_table(cases, "cases"))
    svc = _table(services, "services")
    kinds = svc.column("service").cast(pa.string())
    svc = svc.filter(pc.fill_null(pc.is_in(kinds, pa.array(_PLACEMENTS)), False))
    late = pc.fill_null(
        pc.greater(svc.column("start_date"), pa.scalar(reference, pa.date32())), False
    )
    n_late = int(pc.sum(late.cast(pa.int64())).as_py() or 0)
    if n_late:
        log.warning(
            f"{n_late} placement(s) start after 31 March {year} and belong to a later return; "
            "left out"
        )
        svc = svc.filter(pc.invert(late))
    by_case: dict[str, list[dict[str, Any]]] = {}
    for row in sorted(_rows(svc), key=lambda r: (r["case_id"], r["start_date"] or dt.date.min)):
        by_case.setdefault(row["case_id"], []).append(row)
    outcome_rows: dict[str, list[dict[str, Any]]] = {}
    for row in _rows(_table(outcomes, "outcomes")):
        outcome_rows.setdefault(row["case_id"], []).append(row)
    writer = _Writer(year, reference, log)
    case_rows.sort(
        key=lambda r: (str(r["child_id"] or r["case_id"]), r["reference_date"] or dt.date.min)
    )
    seen: set[str] = set()
    periods = 0
    for case in case_rows:
        child = str(case["child_id"] or case["case_id"])
        placements = by_case.get(case["case_id"], [])
        has_outcomes = case["case_id"] in outcome_rows
        if not placements and not has_outcomes:
            continue
        if child not in seen:
            writer.child(case)
            seen.add(child)
        if placements:
            writer.period(case, placements)
            periods += 1
        if has_outcomes:
            header = (
                writer.rows["Header"][-1]
                if writer.rows["Header"][-1]["CHILD"] == child
                else {"DOB": ""}
            )
            writer.outcomes(child, header["DOB"], outcome_rows[case["case_id"]])
    for what, count in sorted(writer.counts.items()):
        log.warning(f"{count} {what}")
    files = []
    for name in _FILES:
        path = out / f"{name}.csv"
        # each file whole or not at all: a killed write never leaves half a table
        with replacing(path) as temporary, temporary.open("w", encoding="utf-8", newline="") as f:
            names = list(spec.TABLES[name].names)
            w = CsvWriter(f)  # no formulas from data, CR/LF quoted
            w.writerow(names)
            w.writerows([row.get(n, "") for n in names] for row in writer.rows[name])
        files.append(path)
    return Written(
        files=tuple(files),
        periods=periods,
        episodes=len(writer.rows["Episodes"]),
        issues=log.table(),
    )
