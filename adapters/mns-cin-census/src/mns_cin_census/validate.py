"""Checking and typing a batch of children, column by column.

Every check runs on a whole column of a batch (Arrow compute and numpy); only the rows that
fail are touched one by one, to write their issues. A bad value is blanked (``null``) with
an error naming its element, value, line and the fix; a bad child (no ``LAchildID``) is
rejected with one issue per episode of need and per service block it held; nothing else
stops the rest of the file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mns_cin_census import spec
from mns_cin_census.codes import code_sets
from mns_cin_census.issues import Issues
from mns_cin_census.parse import RawBatch

__all__ = ["Batch", "Context", "report_tally", "validate"]

CATEGORY = pa.dictionary(pa.int32(), pa.string())
_UPN = r"^[A-Za-z][0-9]{11}[A-Za-z0-9]$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"

#: tables whose parent is the CINdetails row, and their own key (None: a leaf list)
_UNDER_CIN = {
    "Assessments": "AssessmentID",
    "CINplanDates": "CINPlanID",
    "Section47": "Section47ID",
    "ChildProtectionPlans": "CPPID",
    "PreProceedings": "PreProceedingsID",
}
_BLOCK_TAG = {
    "ChildIdentifiers": "ChildIdentifiers",
    "ChildCharacteristics": "ChildCharacteristics",
    "Disabilities": "Disabilities",
    "CINdetails": "CINdetails",
    "Assessments": "Assessments",
    "AssessmentFactors": "FactorsIdentifiedAtAssessment",
    "CINplanDates": "CINPlanDates",
    "Section47": "Section47",
    "ChildProtectionPlans": "ChildProtectionPlans",
    "Reviews": "Reviews",
    "PreProceedings": "PreProceedingsandFGDM",
}
#: (table, earlier element, later element): the later may not be before the earlier
ORDER = (
    ("ChildIdentifiers", "PersonBirthDate", "PersonDeathDate"),
    ("CINdetails", "CINreferralDate", "CINclosureDate"),
    ("Assessments", "AssessmentActualStartDate", "AssessmentAuthorisationDate"),
    ("CINplanDates", "CINPlanStartDate", "CINPlanEndDate"),
    ("Section47", "S47ActualStartDate", "DateOfInitialCPC"),
    ("ChildProtectionPlans", "CPPstartDate", "CPPendDate"),
    ("PreProceedings", "PPStartDate", "LBPSentDate"),
    ("PreProceedings", "PPStartDate", "StepDecisionDate"),
)
#: elements that may not fall after the census reference date
NOT_AFTER_REFERENCE = (
    ("CINdetails", "CINreferralDate"),
    ("CINdetails", "CINclosureDate"),
    ("Assessments", "AssessmentActualStartDate"),
    ("ChildProtectionPlans", "CPPstartDate"),
)


@attrs.frozen(kw_only=True)
class Context:
    """What the whole file shares: its name, collection year and census reference date."""

    source: str
    year: int | None
    reference_date: dt.date | None
    lea: str | None = None

    @property
    def shape(self) -> spec.Shape:
        return spec.shape(self.year)


@attrs.frozen(kw_only=True)
class Batch:
    """A checked batch: the relational tables, typed and keyed, and how their rows link.

    ``parent[t][i]`` is the row of table ``t``'s row ``i``'s enclosing block in its own
    table; ``child[t][i]`` is the child (index into ``children``) it belongs to.
    ``children`` holds one row per child kept: ``LAchildID``, the canonical ``sex``, and
    ``line``.
    """

    tables: Mapping[str, pa.Table]
    parent: Mapping[str, np.ndarray[Any, Any]]
    child: Mapping[str, np.ndarray[Any, Any]]
    children: pa.Table

    @property
    def size(self) -> int:
        return int(self.children.num_rows)


class _Lazy:
    """A column of lines turned into numbers only when an issue needs them."""

    def __init__(self, values: Sequence[Any]) -> None:
        self.values = values
        self.array: np.ndarray[Any, Any] | None = None

    def get(self) -> np.ndarray[Any, Any]:
        if self.array is None:
            self.array = _ints(self.values)
        return self.array


def _ints(values: Sequence[Any]) -> np.ndarray[Any, Any]:
    arr = pa.array(values, pa.int64())
    return np.asarray(pc.fill_null(arr, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _nullable(index: np.ndarray[Any, Any]) -> pa.Array:
    """``index`` as an Arrow int64 array with -1 as null (for ``take``)."""
    return pa.array(index, pa.int64(), mask=index < 0)


def parse_dates(values: pa.Array) -> pa.Array:
    """Strict ``YYYY-MM-DD`` dates: anything else (e.g. ``2022-02-30``) is null.

    ``strptime`` rolls an impossible day into the next month, so the month it gives must
    be the month written.
    """
    shaped = pc.fill_null(pc.match_substring_regex(values, _DATE), False)
    candidate = pc.if_else(shaped, values, pa.scalar(None, pa.string()))
    parsed = pc.strptime(candidate, format="%Y-%m-%d", unit="s", error_is_null=True).cast(
        pa.date32()
    )
    written = pc.cast(pc.utf8_slice_codeunits(candidate, 5, 7), pa.int64())
    same = pc.fill_null(pc.equal(pc.month(parsed), written), False)
    return pc.if_else(same, parsed, pa.scalar(None, pa.date32()))


class _Checker:
    def __init__(
        self, raw: RawBatch, ctx: Context, issues: Issues, tally: dict[str, list[int]]
    ) -> None:
        self.ctx = ctx
        self.tally = tally
        self.issues = issues
        self.cols = {name: t.columns() for name, t in raw.tables.items()}
        self.codes = code_sets(ctx.year)
        self.parent: dict[str, np.ndarray[Any, Any]] = {}
        self.child: dict[str, np.ndarray[Any, Any]] = {}
        self.ordinal: dict[str, np.ndarray[Any, Any]] = {}
        self.line: dict[str, np.ndarray[Any, Any]] = {}
        self.ids: pa.Array = pa.array([], pa.string())
        self._episodes: list[str | None] | None = None  # referral dates, for record ids

    # ------------------------------------------------------------------ links
    def link(self) -> None:
        cols = self.cols
        for name, c in cols.items():
            # every block has a parent (but the child) and a line: no nulls to convert
            parents = c["parent"]
            self.parent[name] = (
                np.full(len(parents), -1, dtype=np.int64)
                if name == "Child"
                else np.fromiter(parents, dtype=np.int64, count=len(parents))
            )
            self.ordinal[name] = np.fromiter(c["ordinal"], dtype=np.int32, count=len(c["ordinal"]))
            self.line[name] = np.fromiter(c["line"], dtype=np.int64, count=len(c["line"]))
        self.child["Child"] = np.arange(len(cols["Child"]["line"]), dtype=np.int64)
        for name in ("ChildIdentifiers", "ChildCharacteristics", "CINdetails"):
            self.child[name] = self.parent[name]
        self.child["Disabilities"] = self.child["ChildCharacteristics"][self.parent["Disabilities"]]
        for name in _UNDER_CIN:
            self.child[name] = self.child["CINdetails"][self.parent[name]]
        self.child["AssessmentFactors"] = self.child["Assessments"][
            self.parent["AssessmentFactors"]
        ]
        self.child["Reviews"] = self.child["ChildProtectionPlans"][self.parent["Reviews"]]

    def child_ids(self) -> pa.Array:
        """``LAchildID`` per child (null when the child has none)."""
        n = len(self.cols["Child"]["line"])
        raw = pc.utf8_trim_whitespace(
            pa.array(self.cols["ChildIdentifiers"]["LAchildID"], pa.string())
        )
        where = np.full(n, -1, dtype=np.int64)
        where[self.child["ChildIdentifiers"]] = np.arange(len(raw), dtype=np.int64)
        ids = raw.take(_nullable(where))
        return pc.if_else(pc.equal(ids, ""), pa.scalar(None, pa.string()), ids)

    def reject_children(self, ids: pa.Array) -> np.ndarray[Any, Any]:
        """Children without an ``LAchildID`` are rejected; returns the kept mask per child."""
        keep = np.asarray(pc.is_valid(ids).to_numpy(zero_copy_only=False), dtype=bool)
        if keep.all():
            return keep
        bad = ~keep
        child_lines = self.line["Child"]
        for table in ("CINdetails", *_UNDER_CIN):
            rows = np.flatnonzero(bad[self.child[table]])
            if len(rows) == 0:
                continue
            what = "episode of need" if table == "CINdetails" else f"<{_BLOCK_TAG[table]}> block"
            self.issues.rows(
                table,
                severity="error",
                action="rejected",
                field="LAchildID",
                messages=[
                    f"the <Child> at line {child_lines[self.child[table][r]]} has no LAchildID, "
                    f"so its {what} "
                    f"at line {self.line[table][r]} was not read (give every child its LAchildID)"
                    for r in rows
                ],
                lines=self.line[table][rows],
            )
        has_cin = np.zeros(len(keep), dtype=bool)
        has_cin[self.child["CINdetails"]] = True
        lonely = np.flatnonzero(bad & ~has_cin)
        for r in lonely:
            self.issues.log.error(
                f"the <Child> at line {child_lines[r]} has no LAchildID and no episode of need; "
                "it was not read",
                action="rejected",
                line=int(child_lines[r]),
                field="LAchildID",
                table="ChildIdentifiers",
            )
        return keep

    def filter(self, keep_child: np.ndarray[Any, Any]) -> None:
        """Drop the rows of rejected children and renumber the parent links."""
        if keep_child.all():
            return
        new_child = np.cumsum(keep_child) - 1
        keeps = {name: keep_child[self.child[name]] for name in self.cols}
        new_index = {name: np.cumsum(k) - 1 for name, k in keeps.items()}
        parent_table = {
            "Disabilities": "ChildCharacteristics",
            "AssessmentFactors": "Assessments",
            "Reviews": "ChildProtectionPlans",
            **dict.fromkeys(_UNDER_CIN, "CINdetails"),
        }
        for name, k in keeps.items():
            idx = np.flatnonzero(k)
            picked = idx.tolist()
            self.cols[name] = {
                key: [vals[i] for i in picked] for key, vals in self.cols[name].items()
            }
            self.child[name] = new_child[self.child[name][idx]]
            self.ordinal[name] = self.ordinal[name][idx]
            self.line[name] = self.line[name][idx]
            parent = self.parent[name][idx]
            if name in parent_table:
                parent = new_index[parent_table[name]][parent]
            elif name != "Child":
                parent = new_child[parent]
            self.parent[name] = parent

    # ------------------------------------------------------------------ records
    def records(self, table: str, rows: np.ndarray[Any, Any]) -> list[str | None]:
        """The id of each row's record: below ``CINdetails`` the case id (as in ``cases``:
        ``LAchildID/referral date``, or ``LAchildID/#n``), else the child id."""
        child = self.child[table][rows]
        ids: list[str | None] = self.ids.take(pa.array(child, pa.int64())).to_pylist()
        if table in ("Child", "ChildIdentifiers", "ChildCharacteristics", "Disabilities"):
            return ids
        if table == "CINdetails":
            cin = rows
        elif table in ("AssessmentFactors", "Reviews"):
            up = "Assessments" if table == "AssessmentFactors" else "ChildProtectionPlans"
            cin = self.parent[up][self.parent[table][rows]]
        else:
            cin = self.parent[table][rows]
        if self._episodes is None:
            raw = pc.utf8_trim_whitespace(
                pa.array(self.cols["CINdetails"]["CINreferralDate"], pa.string())
            )
            self._episodes = parse_dates(raw).cast(pa.string()).to_pylist()
        dates = [self._episodes[i] for i in cin.tolist()]
        ordinals = self.ordinal["CINdetails"][cin].tolist()
        return [
            None if i is None else f"{i}/{d}" if d is not None else f"{i}/#{k}"
            for i, d, k in zip(ids, dates, ordinals, strict=True)
        ]

    # ------------------------------------------------------------------ fields
    def field(self, table: str, name: str, ftype: spec.FieldType, mandatory: bool) -> pa.Array:
        raw = pc.utf8_trim_whitespace(pa.array(self.cols[table][name], pa.string()))
        line_list = self.cols[table][f"line:{name}"]
        present = pc.is_valid(pa.array(line_list, pa.int64()))
        block = _BLOCK_TAG[table]
        empty_mask = pc.and_(present, pc.fill_null(pc.equal(raw, ""), True))
        absent = np.asarray(pc.invert(present).to_numpy(zero_copy_only=False), dtype=bool)
        empty = np.asarray(empty_mask.to_numpy(zero_copy_only=False), dtype=bool)
        lines = _Lazy(line_list)
        if mandatory:
            rows = np.flatnonzero(absent | empty)
            if len(rows):
                block_lines = self.line[table]
                self.issues.rows(
                    table,
                    severity="error",
                    action="kept",
                    field=name,
                    messages=[
                        f"<{block}> at line {block_lines[r]} has no <{name}>, which is mandatory"
                        if absent[r]
                        else f"<{name}> is empty; it is mandatory"
                        for r in rows
                    ],
                    lines=np.where(absent[rows], block_lines[rows], lines.get()[rows]),
                    records=self.records(table, rows),
                )
        else:
            rows = np.flatnonzero(empty)
            if len(rows):
                self.issues.rows(
                    table,
                    severity="warning",
                    action="blanked",
                    field=name,
                    messages=f"<{name}> is empty; it was read as missing (leave it out instead)",
                    lines=lines.get()[rows],
                    records=self.records(table, rows),
                )
        values = pc.if_else(empty_mask, pa.scalar(None, pa.string()), raw) if empty.any() else raw
        typed, problem = self._typed(name, ftype, values)
        if problem is not None:
            bad = np.asarray(
                pc.and_(pc.is_valid(values), pc.is_null(typed)).to_numpy(zero_copy_only=False),
                dtype=bool,
            )
            rows = np.flatnonzero(bad)
            if len(rows):
                texts = values.take(pa.array(rows)).to_pylist()
                self.issues.rows(
                    table,
                    severity="error",
                    action="blanked",
                    field=name,
                    messages=[problem(t) for t in texts],
                    lines=lines.get()[rows],
                    values=texts,
                    records=self.records(table, rows),
                )
        return typed

    def _typed(self, name: str, ftype: spec.FieldType, values: pa.Array) -> tuple[pa.Array, Any]:
        year = self.ctx.year
        if ftype is spec.FieldType.DATE:
            return parse_dates(values), lambda v: f"<{name}> {v!r} is not a date (YYYY-MM-DD)"
        if ftype is spec.FieldType.CODE:
            codes = self.codes[name]
            ok = pc.is_in(values, value_set=codes.array)
            typed = pc.if_else(ok, values, pa.scalar(None, pa.string()))
            return typed, lambda v: codes.explain(v, year)
        if ftype is spec.FieldType.YES_NO:
            keys = pa.array(list(spec.YES_NO), pa.string())
            flags = pa.array(list(spec.YES_NO.values()), pa.bool_())
            typed = flags.take(pc.index_in(values, value_set=keys))
            return (
                typed,
                lambda v: f"<{name}> {v!r} is not true/false (true, false, TRUE, FALSE, 1 or 0)",
            )
        if ftype is spec.FieldType.COUNT:
            digits = pc.fill_null(pc.match_substring_regex(values, r"^[0-9]{1,6}$"), False)
            typed = pc.if_else(digits, values, pa.scalar(None, pa.string())).cast(pa.int32())
            return typed, lambda v: f"<{name}> {v!r} is not a whole number of 0 or more"
        if name in ("UPN", "FormerUPN"):
            ok = pc.fill_null(pc.match_substring_regex(values, _UPN), False)
            typed = pc.if_else(ok, values, pa.scalar(None, pa.string()))
            return (
                typed,
                lambda v: (
                    f"<{name}> {v!r} is not a UPN (a letter, 11 digits, then a digit or a letter)"
                ),
            )
        return values, None

    # ------------------------------------------------------------------ cross-field checks
    def order(self, typed: Mapping[str, Mapping[str, pa.Array]]) -> None:
        for table, earlier, later in ORDER:
            self._compare(table, typed[table][earlier], typed[table][later], earlier, later)
        reviews = typed["Reviews"]["CPPreviewDate"]
        starts = typed["ChildProtectionPlans"]["CPPstartDate"].take(
            pa.array(self.parent["Reviews"], pa.int64())
        )
        self._compare("Reviews", starts, reviews, "CPPstartDate", "CPPreviewDate")
        ref = self.ctx.reference_date
        if ref is None:
            return
        for table, name in NOT_AFTER_REFERENCE:
            values = typed[table][name]
            after = np.asarray(
                pc.fill_null(pc.greater(values, pa.scalar(ref)), False).to_numpy(
                    zero_copy_only=False
                )
            )
            rows = np.flatnonzero(after)
            if len(rows):
                texts = [str(v) for v in values.take(pa.array(rows)).to_pylist()]
                self.issues.rows(
                    table,
                    severity="error",
                    action="kept",
                    field=name,
                    messages=[
                        f"<{name}> {t} is after the census reference date {ref}" for t in texts
                    ],
                    lines=_ints(self.cols[table][f"line:{name}"])[rows],
                    values=texts,
                    records=self.records(table, rows),
                )

    def _compare(self, table: str, first: pa.Array, second: pa.Array, a: str, b: str) -> None:
        wrong = np.asarray(
            pc.fill_null(pc.less(second, first), False).to_numpy(zero_copy_only=False), dtype=bool
        )
        rows = np.flatnonzero(wrong)
        if not len(rows):
            return
        take = pa.array(rows)
        seconds = [str(v) for v in second.take(take).to_pylist()]
        firsts = [str(v) for v in first.take(take).to_pylist()]
        self.issues.rows(
            table,
            severity="error",
            action="kept",
            field=b,
            messages=[
                f"<{b}> {s} is before <{a}> {f}" for s, f in zip(seconds, firsts, strict=True)
            ],
            lines=_ints(self.cols[table][f"line:{b}"])[rows],
            values=seconds,
            records=self.records(table, rows),
        )

    def sex(self, typed: Mapping[str, pa.Array], n_children: int) -> pa.Array:
        """The canonical sex (M/F/U) per child, from ``GenderCurrent`` or ``Sex``, with a
        warning when the file uses the element of another year's shape."""
        expected = self.ctx.shape.sex_element
        gender, sex = typed["GenderCurrent"], typed["Sex"]
        raw = self.cols["ChildIdentifiers"]
        for element in ("GenderCurrent", "Sex"):
            if expected is None or element == expected:
                continue
            lines = pa.array(raw[f"line:{element}"], pa.int64())
            present = int(pc.count(lines).as_py() or 0)
            if present:
                first = int(pc.min(lines).as_py())
                seen = self.tally.setdefault(element, [0, first])
                seen[0] += present
                seen[1] = min(seen[1], first)
        mapped_gender = pc.if_else(
            pc.is_valid(gender),
            pa.array(list(spec.GENDER_CURRENT.values()), pa.string()).take(
                pc.index_in(gender, value_set=pa.array(list(spec.GENDER_CURRENT), pa.string()))
            ),
            pa.scalar(None, pa.string()),
        )
        per_row = pc.coalesce(sex, mapped_gender)
        # a child with neither element: mandatory
        neither = np.flatnonzero(
            pc.and_(
                pc.is_null(pa.array(raw["GenderCurrent"], pa.string())),
                pc.is_null(pa.array(raw["Sex"], pa.string())),
            ).to_numpy(zero_copy_only=False)
        )
        if len(neither):
            want = expected or "GenderCurrent or Sex"
            self.issues.rows(
                "ChildIdentifiers",
                severity="error",
                action="kept",
                field=expected or "Sex",
                messages=[
                    f"<ChildIdentifiers> at line {self.line['ChildIdentifiers'][r]} has no "
                    f"<{want}>, which is mandatory"
                    for r in neither
                ],
                lines=self.line["ChildIdentifiers"][neither],
                records=self.records("ChildIdentifiers", neither),
            )
        where = np.full(n_children, -1, dtype=np.int64)
        where[self.child["ChildIdentifiers"]] = np.arange(len(per_row), dtype=np.int64)
        return per_row.take(_nullable(where))


def validate(
    raw: RawBatch, ctx: Context, issues: Issues, tally: dict[str, list[int]] | None = None
) -> Batch:
    """Check and type one raw batch; problems go to ``issues``.

    ``tally`` collects, over a whole file, the children that use the sex element of
    another year's shape (``{element: [count, first line]}``): see :func:`report_tally`.
    """
    ck = _Checker(raw, ctx, issues, tally if tally is not None else {})
    ck.link()
    ids = ck.child_ids()
    keep = ck.reject_children(ids)
    ck.filter(keep)
    ck.ids = ids.filter(pa.array(keep)) if not keep.all() else ids
    n_children = len(ck.ids)

    typed: dict[str, dict[str, pa.Array]] = {}
    for name, table in spec.TABLES.items():
        if name == "Header":
            continue
        typed[name] = {
            field: ck.field(name, field, ftype, field in table.mandatory)
            for field, ftype in table.fields.items()
        }
    ck.order(typed)
    sex = ck.sex(typed["ChildIdentifiers"], n_children)

    tables: dict[str, pa.Table] = {}
    for name, table in spec.TABLES.items():
        if name == "Header":
            continue
        child = ck.child[name]
        columns: dict[str, pa.Array] = {"LAchildID": ck.ids.take(pa.array(child, pa.int64()))}
        cin_row = None
        if name == "CINdetails":
            cin_row = np.arange(len(child))
        elif name in _UNDER_CIN:
            cin_row = ck.parent[name]
        elif name in ("AssessmentFactors", "Reviews"):
            up = "Assessments" if name == "AssessmentFactors" else "ChildProtectionPlans"
            cin_row = ck.parent[up][ck.parent[name]]
            columns["CINdetailsID"] = pa.array(ck.ordinal["CINdetails"][cin_row], pa.int32())
            key = "AssessmentID" if name == "AssessmentFactors" else "CPPID"
            columns[key] = pa.array(ck.ordinal[up][ck.parent[name]], pa.int32())
            cin_row = None
        if cin_row is not None:
            columns["CINdetailsID"] = pa.array(ck.ordinal["CINdetails"][cin_row], pa.int32())
        if name in _UNDER_CIN:
            columns[_UNDER_CIN[name]] = pa.array(ck.ordinal[name], pa.int32())
        for field, ftype in table.fields.items():
            arr = typed[name][field]
            columns[field] = arr.cast(CATEGORY) if ftype is spec.FieldType.CODE else arr
        columns["line"] = pa.array(ck.line[name], pa.int64())
        tables[name] = pa.table(columns)
    children = pa.table(
        {"LAchildID": ck.ids, "sex": sex, "line": pa.array(ck.line["Child"], pa.int64())}
    )
    return Batch(tables=tables, parent=ck.parent, child=ck.child, children=children)


def report_tally(tally: Mapping[str, list[int]], ctx: Context, issues: Issues) -> None:
    """One warning per sex element used against the year's shape, for the whole file."""
    expected = ctx.shape.sex_element
    for element, (count, first) in sorted(tally.items()):
        issues.log.warning(
            f"<{element}> is the element of another year's shape: the {ctx.year} collection uses "
            f"<{expected}>; {count} child(ren) use <{element}> (first at line {first}), read as "
            "they are",
            line=first,
            field=element,
            table="cases",
        )
