"""Checking and typing a batch of children, column by column.

Every check runs on a whole column of a batch (Arrow compute and numpy); only the rows that
fail are touched one by one, to write their issues. A bad value is blanked (``null``) with
an error naming its element, value, line and the fix; a bad child (no ``LAchildID``) is
rejected with one issue per episode of need and per service block it held; nothing else
stops the rest of the file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mns_cin_census import spec
from mns_cin_census.codes import LEGACY_FACTORS, code_sets, queried
from mns_cin_census.issues import Issues
from mns_cin_census.parse import RawBatch, RawTable

__all__ = ["Batch", "Context", "Paths", "report_tally", "validate"]

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


def _tree() -> tuple[dict[str, str], dict[str, tuple[str, bool]]]:
    """Each table's parent table, and its element's step in a path below the parent's
    element (and whether it is always numbered: the elements that may repeat)."""
    up: dict[str, str] = {}
    steps: dict[str, tuple[str, bool]] = {}

    def walk(block: spec.Block, table: str) -> None:
        for sub in block.blocks:
            assert sub.table is not None
            up[sub.table], steps[sub.table] = table, (sub.tag, sub.tag not in block.once)
            walk(sub, sub.table)
        for container, (leaf, leaf_table) in block.lists.items():
            up[leaf_table], steps[leaf_table] = table, (f"{container}/{leaf}", True)

    walk(spec.CHILD, "Child")
    return up, steps


_UP, _STEPS = _tree()
#: the tables whose rows are leaf elements (a list's items): their field is the element
_LEAVES = {t: leaf for b in spec.BLOCKS for leaf, t in b.lists.values()}


@attrs.frozen(kw_only=True)
class Paths:
    """The element paths of a batch's rows, made from their parent and ordinal links only
    when an issue needs them (``/Message/Children/Child[3]/CINdetails[2]``).

    ``parent[t]``, ``ordinal[t]``: as in :class:`Batch`, but a ``Child``'s parent is the
    index of its container's path in ``containers``; ``present[t][field]``: whether each
    row holds the element ``field`` (its line, or -1); without it, paths stop at the row's
    own element."""

    parent: Mapping[str, np.ndarray[Any, Any]]
    ordinal: Mapping[str, np.ndarray[Any, Any]]
    containers: Sequence[str]
    present: Mapping[str, Mapping[str, np.ndarray[Any, Any]]]

    def of(self, table: str, rows: Any, field: str | None = None) -> list[str]:
        """The paths of ``rows`` of ``table``; with ``field``, of that element in each row
        (the row's own element when it has no such element, or is the element)."""
        at = np.asarray(rows, dtype=np.int64)
        parts: list[list[str]] = []
        name = table
        while name != "Child":
            tag, numbered = _STEPS[name]
            parts.append(
                [
                    f"/{tag}[{k}]" if numbered or k > 1 else f"/{tag}"
                    for k in self.ordinal[name][at].tolist()
                ]
            )
            at = self.parent[name][at]
            name = _UP[name]
        parts.append(
            [
                f"{self.containers[c]}/Child[{k}]"
                for c, k in zip(
                    self.parent["Child"][at].tolist(),
                    self.ordinal["Child"][at].tolist(),
                    strict=True,
                )
            ]
        )
        paths = ["".join(steps) for steps in zip(*reversed(parts), strict=True)]
        if field is None or _LEAVES.get(table) == field:
            return paths
        lines = self.present.get(table, {}).get(field)
        if lines is None:
            return paths
        held = (lines[np.asarray(rows, dtype=np.int64)] >= 0).tolist()
        return [f"{p}/{field}" if h else p for p, h in zip(paths, held, strict=True)]


#: (table, earlier element, later element, DfE rule): the later may not be before the
#: earlier. Rule numbers are the DfE CIN validator's (data-to-insight/csc-validator-be-cin,
#: cin_validator/rules/cin2022_23/rule_<n>.py); None where it has no rule for the pair.
ORDER: tuple[tuple[str, str, str, str | None], ...] = (
    ("ChildIdentifiers", "PersonBirthDate", "PersonDeathDate", None),
    ("CINdetails", "CINreferralDate", "CINclosureDate", "8630"),
    ("Assessments", "AssessmentActualStartDate", "AssessmentAuthorisationDate", None),
    ("CINplanDates", "CINPlanStartDate", "CINPlanEndDate", None),
    ("Section47", "S47ActualStartDate", "DateOfInitialCPC", None),
    ("ChildProtectionPlans", "CPPstartDate", "CPPendDate", None),
    ("PreProceedings", "PPStartDate", "LBPSentDate", None),
    ("PreProceedings", "PPStartDate", "StepDecisionDate", None),
)
#: (table, element, DfE rule): a service that cannot start before its episode's referral.
#: The date is blanked (the service is kept: it counts as received, but not in anything
#: that needs its date).
NOT_BEFORE_REFERRAL: tuple[tuple[str, str, str], ...] = (
    ("Assessments", "AssessmentActualStartDate", "1103"),
    ("Section47", "DateOfInitialCPC", "1104"),
    ("ChildProtectionPlans", "CPPstartDate", "1105"),
    ("Section47", "S47ActualStartDate", "2889"),
    ("CINplanDates", "CINPlanStartDate", "4015"),
)
#: elements that may not fall after the episode's closure (DfE rule 8565, "activity shown
#: after a case has been closed"): kept, as either date may be the wrong one
NOT_AFTER_CLOSURE: tuple[tuple[str, str], ...] = (
    ("Assessments", "AssessmentActualStartDate"),
    ("Assessments", "AssessmentAuthorisationDate"),
    ("Section47", "S47ActualStartDate"),
    ("Section47", "DateOfInitialCPC"),
    ("ChildProtectionPlans", "CPPendDate"),
    ("CINplanDates", "CINPlanStartDate"),
    ("CINplanDates", "CINPlanEndDate"),
)
#: (table, element, DfE rule): elements that may not fall after the census reference date
NOT_AFTER_REFERENCE: tuple[tuple[str, str, str | None], ...] = (
    ("CINdetails", "CINreferralDate", "8600"),
    ("CINdetails", "CINclosureDate", "8620"),
    ("Assessments", "AssessmentActualStartDate", None),
    ("ChildProtectionPlans", "CPPstartDate", None),
)
#: UPN check letters: the weighted sum of characters 2-13 modulo 23 (DfE rule 1510)
_CHECK_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"


def rule_text(rule: str | None) -> str:
    """`` (DfE rule 8620)`` for messages, or nothing."""
    return f" (DfE rule {rule})" if rule else ""


def upn_check_letter(upn: str) -> str | None:
    """The check letter a 13-character UPN should start with (``None`` when characters 2-13
    are not all digits: temporary UPNs end in a letter)."""
    digits = upn[1:13]
    if len(upn) != 13 or not digits.isascii() or not digits.isdigit():
        return None
    total = sum(int(d) * w for d, w in zip(digits, range(2, 14), strict=True))
    return _CHECK_LETTERS[total % 23]


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
    ``line``. ``paths`` gives the element paths of rows (of blocks, not of their fields).
    """

    tables: Mapping[str, pa.Table]
    parent: Mapping[str, np.ndarray[Any, Any]]
    child: Mapping[str, np.ndarray[Any, Any]]
    children: pa.Table
    paths: Paths

    @property
    def size(self) -> int:
        return int(self.children.num_rows)


_CHILD_ID = r"^[A-Za-z0-9_-]{1,20}$"


def _bad_upns(values: pa.Array) -> np.ndarray[Any, Any]:
    """Which (well-shaped) UPNs fail DfE rule 1550 (character 13 I, O or S) or 1510 (check
    letter), column-wise."""
    present = np.asarray(pc.is_valid(values).to_numpy(zero_copy_only=False), dtype=bool)
    wrong = np.zeros(len(values), dtype=bool)
    if not present.any():
        return wrong
    rows = np.flatnonzero(present)
    text = pc.utf8_upper(values.take(pa.array(rows))).to_pylist()
    chars = np.frombuffer("".join(text).encode("ascii"), dtype=np.uint8).reshape(-1, 13)
    last = chars[:, 12]
    wrong_last = np.isin(last, np.frombuffer(b"IOS", dtype=np.uint8))
    digits = chars[:, 1:13].astype(np.int64) - ord("0")
    numeric: np.ndarray[Any, Any] = np.asarray(((digits >= 0) & (digits <= 9)).all(axis=1))
    weighted = (np.where(numeric[:, None], digits, 0) * np.arange(2, 14)).sum(axis=1) % 23
    expected = np.frombuffer(_CHECK_LETTERS.encode(), dtype=np.uint8)[weighted]
    wrong_check = numeric & (chars[:, 0] != expected)
    wrong[rows] = wrong_last | wrong_check
    return wrong


def _upn_problem(upn: str) -> str:
    if upn[12:13].upper() in ("I", "O", "S"):
        return f"{upn!r}: character 13 is I, O or S{rule_text('1550')}"
    return (
        f"{upn!r} has the wrong check letter at character 1 (expected "
        f"{upn_check_letter(upn.upper())}){rule_text('1510')}"
    )


def census_start(reference: dt.date) -> dt.date:
    """The first day of the census year ending on ``reference`` (1 April for 31 March)."""
    day = 28 if (reference.month, reference.day) == (2, 29) else reference.day
    return dt.date(reference.year - 1, reference.month, day) + dt.timedelta(days=1)


#: the Arrow type of each field type once checked (codes stay strings until the tables)
_TYPED = {
    spec.FieldType.TEXT: pa.string(),
    spec.FieldType.CODE: pa.string(),
    spec.FieldType.DATE: pa.date32(),
    spec.FieldType.YES_NO: pa.bool_(),
    spec.FieldType.COUNT: pa.int32(),
    spec.FieldType.YEAR: pa.int16(),
}


def _ints(values: list[Any]) -> np.ndarray[Any, Any]:
    """Lines (or parents, ordinals) as int64; a line lxml could not give (None) as 0."""
    try:
        return np.fromiter(values, dtype=np.int64, count=len(values))
    except TypeError:
        return np.fromiter((v or 0 for v in values), dtype=np.int64, count=len(values))


class _Columns:
    """A raw table's columns, cut from its cells when first used: each field's raw text
    (Arrow) and line (numpy, -1: absent), and each row's parent, ordinal and line."""

    def __init__(self, table: RawTable) -> None:
        self.fields = {f: i for i, f in enumerate(table.fields)}
        self._cells = table.cells
        self._width = width = table.width
        self._n = n = len(self.fields)
        #: parent, ordinal and line of every row
        self.numbers: np.ndarray[Any, Any] = np.stack(
            [_ints(table.cells[j::width]) for j in range(2 * n, width)]
        )
        self._keep: np.ndarray[Any, Any] | None = None  # the rows kept (all: None)
        self._text: dict[str, pa.Array] = {}
        self._line: dict[str, np.ndarray[Any, Any]] = {}

    def __len__(self) -> int:
        return int(self.numbers.shape[1])

    def column(self, name: str) -> np.ndarray[Any, Any]:
        """``parent``, ``ordinal`` or ``line`` of every row."""
        found: np.ndarray[Any, Any] = self.numbers[("parent", "ordinal", "line").index(name)]
        return found

    def held(self, field: str) -> bool:
        """Whether any row holds the element ``field``."""
        if self._keep is None and field not in self._line:
            return any(self._cells[self._n + self.fields[field] :: self._width])
        return bool((self.line(field) >= 0).any())

    def complete(self, field: str) -> bool:
        """Whether every row holds the element ``field``."""
        if self._keep is None and field not in self._line:
            return all(self._cells[self._n + self.fields[field] :: self._width])
        return bool((self.line(field) >= 0).all())

    def line(self, field: str) -> np.ndarray[Any, Any]:
        """The line of each row's element ``field`` (-1 where it is absent)."""
        found = self._line.get(field)
        if found is None:
            found = _ints(self._cells[self._n + self.fields[field] :: self._width])
            found[found == 0] = -1
            if self._keep is not None:
                found = found[self._keep]
            self._line[field] = found
        return found

    def text(self, field: str) -> pa.Array:
        """Each row's raw text of ``field`` (null where absent or empty)."""
        found = self._text.get(field)
        if found is None:
            found = pa.array(self._cells[self.fields[field] :: self._width], pa.string())
            if self._keep is not None:
                found = found.take(pa.array(self._keep, pa.int64()))
            self._text[field] = found
        return found

    def keep(self, rows: np.ndarray[Any, Any]) -> None:
        """Keep only ``rows``."""
        self.numbers = self.numbers[:, rows]
        take = pa.array(rows, pa.int64())
        self._text = {f: a.take(take) for f, a in self._text.items()}
        self._line = {f: a[rows] for f, a in self._line.items()}
        self._keep = rows if self._keep is None else self._keep[rows]


class _Lines(Mapping[str, "np.ndarray[Any, Any]"]):
    """The lines of a table's fields, by field name, made when asked for (for
    :attr:`Paths.present`)."""

    def __init__(self, columns: _Columns) -> None:
        self._columns = columns

    def __getitem__(self, field: str) -> np.ndarray[Any, Any]:
        if field not in self._columns.fields:
            raise KeyError(field)
        return self._columns.line(field)

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns.fields)

    def __len__(self) -> int:
        return len(self._columns.fields)


def _nullable(index: np.ndarray[Any, Any]) -> pa.Array:
    """``index`` as an Arrow int64 array with -1 as null (for ``take``)."""
    return pa.array(index, pa.int64(), mask=index < 0)


#: columns at least this long are checked a distinct value at a time (dictionary-encoded)
_DISTINCT_FROM = 256


def parse_dates(values: pa.Array) -> pa.Array:
    """Strict ``YYYY-MM-DD`` dates: anything else (e.g. ``2022-02-30``) is null.

    ``strptime`` rolls an impossible day into the next month, so the month it gives must
    be the month written. A long column is parsed a distinct text at a time (a batch's
    dates repeat: a few hundred days), then spread back to its rows.
    """
    if len(values) >= _DISTINCT_FROM:
        encoded = values.dictionary_encode()
        return _parse_dates(encoded.dictionary).take(encoded.indices)
    return _parse_dates(values)


def _parse_dates(values: pa.Array) -> pa.Array:
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
        self, raw: RawBatch, ctx: Context, issues: Issues, tally: dict[str, list[Any]]
    ) -> None:
        self.ctx = ctx
        self.tally = tally
        self.issues = issues
        self.cols = {name: _Columns(t) for name, t in raw.tables.items()}
        self.codes = code_sets(ctx.year)
        self.parent: dict[str, np.ndarray[Any, Any]] = {}
        self.child: dict[str, np.ndarray[Any, Any]] = {}
        self.ordinal: dict[str, np.ndarray[Any, Any]] = {}
        self.line: dict[str, np.ndarray[Any, Any]] = {}
        self.containers = raw.containers
        self.container = np.zeros(0, dtype=np.int64)  # each child's container (its path's index)
        self.ids: pa.Array = pa.array([], pa.string())
        self._episodes: list[str | None] | None = None  # referral dates, for record ids

    # ------------------------------------------------------------------ links
    def link(self) -> None:
        cols = self.cols
        for name, c in cols.items():
            self.parent[name] = (
                np.full(len(c), -1, dtype=np.int64)
                if name == "Child"
                else np.ascontiguousarray(c.column("parent"))
            )
            self.ordinal[name] = c.column("ordinal").astype(np.int32)
            self.line[name] = np.ascontiguousarray(c.column("line"))
        self.container = np.ascontiguousarray(cols["Child"].column("parent"))
        self.child["Child"] = np.arange(len(cols["Child"]), dtype=np.int64)
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
        n = len(self.cols["Child"])
        raw = pc.utf8_trim_whitespace(self.cols["ChildIdentifiers"].text("LAchildID"))
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
                paths=self.at(table, rows),
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
                path=self.at("Child", [r])[0],
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
            self.cols[name].keep(idx)
            self.child[name] = new_child[self.child[name][idx]]
            self.ordinal[name] = self.ordinal[name][idx]
            self.line[name] = self.line[name][idx]
            if name == "Child":
                self.container = self.container[idx]
            parent = self.parent[name][idx]
            if name in parent_table:
                parent = new_index[parent_table[name]][parent]
            elif name != "Child":
                parent = new_child[parent]
            self.parent[name] = parent

    def paths(self) -> Paths:
        """The element paths of the batch's rows (as filtered so far)."""
        return Paths(
            parent={**self.parent, "Child": self.container},
            ordinal=self.ordinal,
            containers=self.containers,
            present={name: _Lines(c) for name, c in self.cols.items()},
        )

    def at(self, table: str, rows: Any, field: str | None = None) -> list[str]:
        """The element paths of ``rows`` of ``table`` (of their ``field``, where present)."""
        return self.paths().of(table, rows, field)

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
            raw = pc.utf8_trim_whitespace(self.cols["CINdetails"].text("CINreferralDate"))
            self._episodes = parse_dates(raw).cast(pa.string()).to_pylist()
        dates = [self._episodes[i] for i in cin.tolist()]
        ordinals = self.ordinal["CINdetails"][cin].tolist()
        return [
            None if i is None else f"{i}/{d}" if d is not None else f"{i}/#{k}"
            for i, d, k in zip(ids, dates, ordinals, strict=True)
        ]

    # ------------------------------------------------------------------ fields
    def field(self, table: str, name: str, ftype: spec.FieldType, mandatory: bool) -> pa.Array:
        cols = self.cols[table]
        if not mandatory and not cols.held(name):
            return pa.nulls(len(cols), _TYPED[ftype])  # absent throughout the batch
        raw = pc.utf8_trim_whitespace(cols.text(name))
        block = _BLOCK_TAG[table]
        # no text, or only spaces: the element is absent, or empty (the lines tell which)
        blank = np.asarray(
            pc.fill_null(pc.equal(raw, ""), True).to_numpy(zero_copy_only=False), dtype=bool
        )
        if blank.any() or not cols.complete(name):
            absent = cols.line(name) < 0
        else:  # every row holds the element, with text: no lines to convert
            absent = np.zeros(len(blank), dtype=bool)
        empty = blank & ~absent
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
                    lines=np.where(absent[rows], block_lines[rows], cols.line(name)[rows]),
                    paths=self.at(table, rows, name),
                    records=self.records(table, rows),
                )
        else:
            rows = np.flatnonzero(empty)
            if len(rows):
                self.issues.routine(
                    table,
                    name,
                    f"<{name}> is empty and was read as missing (leave it out instead)",
                    cols.line(name)[rows].tolist(),
                    self.records(table, rows[:1]),
                    lambda: self.at(table, rows[:1], name)[0],
                )
        values = (
            pc.if_else(pa.array(empty), pa.scalar(None, pa.string()), raw) if empty.any() else raw
        )
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
                    lines=cols.line(name)[rows],
                    paths=self.at(table, rows, name),
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
    def order(self, typed: dict[str, dict[str, pa.Array]]) -> None:
        """Dates in order within a block, services after their referral (the wrong date is
        blanked), activity not after the closure, nothing after the reference date and no
        closure before the census year."""
        for table, earlier, later, rule in ORDER:
            self._compare(
                table, typed[table][earlier], typed[table][later], earlier, later, rule=rule
            )
        reviews = typed["Reviews"]["CPPreviewDate"]
        starts = typed["ChildProtectionPlans"]["CPPstartDate"].take(
            pa.array(self.parent["Reviews"], pa.int64())
        )
        self._compare("Reviews", starts, reviews, "CPPstartDate", "CPPreviewDate", rule=None)
        episode = typed["CINdetails"]
        for table, name, rule in NOT_BEFORE_REFERRAL:
            referral = episode["CINreferralDate"].take(pa.array(self.parent[table], pa.int64()))
            wrong = self._compare(
                table, referral, typed[table][name], "CINreferralDate", name, rule=rule, blank=True
            )
            if wrong.any():
                typed[table][name] = pc.if_else(
                    pa.array(wrong), pa.scalar(None, pa.date32()), typed[table][name]
                )
        for table, name in NOT_AFTER_CLOSURE:
            closure = episode["CINclosureDate"].take(pa.array(self.parent[table], pa.int64()))
            self._compare(table, typed[table][name], closure, name, "CINclosureDate", rule="8565")
        ref = self.ctx.reference_date
        if ref is None:
            return
        for table, name, rule in NOT_AFTER_REFERENCE:
            values = typed[table][name]
            self._outside(
                table,
                name,
                pc.greater(values, pa.scalar(ref)),
                values,
                f"is after the census reference date {ref}{rule_text(rule)}",
            )
        start = census_start(ref)
        closure = episode["CINclosureDate"]
        self._outside(
            "CINdetails",
            "CINclosureDate",
            pc.less(closure, pa.scalar(start)),
            closure,
            f"is before the census year ({start} to {ref}): the episode closed before the "
            f"period this return covers{rule_text('8620')}",
        )

    def _outside(
        self, table: str, name: str, mask: pa.Array, values: pa.Array, problem: str
    ) -> None:
        rows = np.flatnonzero(
            np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)
        )
        if not len(rows):
            return
        texts = [str(v) for v in values.take(pa.array(rows)).to_pylist()]
        self.issues.rows(
            table,
            severity="error",
            action="kept",
            field=name,
            messages=[f"<{name}> {t} {problem}" for t in texts],
            lines=self.cols[table].line(name)[rows],
            paths=self.at(table, rows, name),
            values=texts,
            records=self.records(table, rows),
        )

    def _compare(
        self,
        table: str,
        first: pa.Array,
        second: pa.Array,
        a: str,
        b: str,
        *,
        rule: str | None,
        blank: bool = False,
    ) -> np.ndarray[Any, Any]:
        """Report the rows of ``table`` where ``second`` (element ``b``) is before ``first``
        (``a``); the issue is at the element of ``table`` among the two. Returns the mask."""
        wrong = np.asarray(
            pc.fill_null(pc.less(second, first), False).to_numpy(zero_copy_only=False), dtype=bool
        )
        rows = np.flatnonzero(wrong)
        if not len(rows):
            return wrong
        take = pa.array(rows)
        seconds = [str(v) for v in second.take(take).to_pylist()]
        firsts = [str(v) for v in first.take(take).to_pylist()]
        at = b if b in self.cols[table].fields else a
        done = "; it was blanked (the service is kept)" if blank else ""
        self.issues.rows(
            table,
            severity="error",
            action="blanked" if blank else "kept",
            field=at,
            messages=[
                f"<{b}> {s} is before <{a}> {f}{rule_text(rule)}{done}"
                for s, f in zip(seconds, firsts, strict=True)
            ],
            lines=self.cols[table].line(at)[rows],
            paths=self.at(table, rows, at),
            values=seconds if at == b else firsts,
            records=self.records(table, rows),
        )
        return wrong

    def overlaps(self, typed: Mapping[str, Mapping[str, pa.Array]]) -> None:
        """A CIN plan open alongside a child protection plan of the same episode (DfE rule
        4001); a plan with no end date runs to the reference date."""
        plans = {
            name: pa.table(
                {
                    "episode": pa.array(self.parent[name], pa.int64()),
                    "row": pa.array(np.arange(len(self.parent[name])), pa.int64()),
                    "start": typed[name][start],
                    "end": typed[name][end],
                }
            )
            for name, start, end in (
                ("CINplanDates", "CINPlanStartDate", "CINPlanEndDate"),
                ("ChildProtectionPlans", "CPPstartDate", "CPPendDate"),
            )
        }
        cin, cpp = plans["CINplanDates"], plans["ChildProtectionPlans"]
        if not cin.num_rows or not cpp.num_rows:
            return
        pairs = cin.join(cpp, "episode", right_suffix="_cpp", join_type="inner")
        far = pa.scalar(self.ctx.reference_date or dt.date.max, pa.date32())
        cin_end = pc.fill_null(pairs["end"], far)
        cpp_end = pc.fill_null(pairs["end_cpp"], far)
        both_open = pc.and_(pc.is_null(pairs["end"]), pc.is_null(pairs["end_cpp"]))
        overlap = pc.or_kleene(
            pc.and_(pc.less(pairs["start"], cpp_end), pc.less(pairs["start_cpp"], cin_end)),
            both_open,
        )
        pairs = pairs.filter(pc.fill_null(overlap, False))
        if not pairs.num_rows:
            return
        pairs = pairs.sort_by([("row", "ascending"), ("start_cpp", "ascending")])
        first = np.unique(pairs["row"].to_numpy(), return_index=True)[1]
        pairs = pairs.take(pa.array(first))
        rows = pairs["row"].to_numpy()
        cpp_lines = self.line["ChildProtectionPlans"][pairs["row_cpp"].to_numpy()]

        def span(start: Any, end: Any) -> str:
            begun = start if start is not None else "an unusable start"
            return f"{begun} to {end if end is not None else 'open'}"

        self.issues.rows(
            "CINplanDates",
            severity="error",
            action="kept",
            field="CINPlanStartDate",
            messages=[
                f"the CIN plan {span(s, e)} runs alongside the child protection plan "
                f"{span(cs, ce)} (line {cl}) of the same episode{rule_text('4001')}"
                for s, e, cs, ce, cl in zip(
                    pairs["start"].to_pylist(),
                    pairs["end"].to_pylist(),
                    pairs["start_cpp"].to_pylist(),
                    pairs["end_cpp"].to_pylist(),
                    cpp_lines.tolist(),
                    strict=True,
                )
            ],
            lines=self.line["CINplanDates"][rows],
            paths=self.at("CINplanDates", rows, "CINPlanStartDate"),
            values=[str(s) for s in pairs["start"].to_pylist()],
            records=self.records("CINplanDates", rows),
        )

    def identifiers(self, typed: dict[str, dict[str, pa.Array]], seen: dict[str, Any]) -> None:
        """UPN check letter and thirteenth character (DfE rules 1510, 1550: the UPN is
        blanked); ``LAchildID`` characters; a child's ``LAchildID`` given to another
        ``<Child>`` earlier in the file (DfE rule 8510), and whether the two conflict."""
        idents = typed["ChildIdentifiers"]
        for name in ("UPN", "FormerUPN"):
            values = idents[name]
            wrong = _bad_upns(values)
            rows = np.flatnonzero(wrong)
            if not len(rows):
                continue
            texts = values.take(pa.array(rows)).to_pylist()
            self.issues.rows(
                "ChildIdentifiers",
                severity="error",
                action="blanked",
                field=name,
                messages=[f"<{name}> {why}; it was blanked" for why in map(_upn_problem, texts)],
                lines=self.cols["ChildIdentifiers"].line(name)[rows],
                paths=self.at("ChildIdentifiers", rows, name),
                values=texts,
                records=self.records("ChildIdentifiers", rows),
            )
            idents[name] = pc.if_else(pa.array(wrong), pa.scalar(None, pa.string()), values)
        raw_ids = pc.utf8_trim_whitespace(self.cols["ChildIdentifiers"].text("LAchildID"))
        odd = pc.invert(pc.fill_null(pc.match_substring_regex(raw_ids, _CHILD_ID), True))
        rows = np.flatnonzero(np.asarray(odd.to_numpy(zero_copy_only=False), dtype=bool))
        if len(rows):
            self.issues.rows(
                "ChildIdentifiers",
                severity="warning",
                action="kept",
                field="LAchildID",
                messages=(
                    "<LAchildID> holds characters other than letters, digits, '-' and '_', or "
                    "more than 20 of them (spaces or '/' make ids hard to match across "
                    "returns); it was kept as written"
                ),
                lines=self.cols["ChildIdentifiers"].line("LAchildID")[rows],
                paths=self.at("ChildIdentifiers", rows, "LAchildID"),
                records=self.records("ChildIdentifiers", rows),
            )
        self._duplicates(idents, seen)

    def _duplicates(self, idents: Mapping[str, pa.Array], seen: dict[str, Any]) -> None:
        """The children whose id came earlier, in this batch or an earlier one (``seen``: the
        ids met, and the children of each batch); only those are looked at one by one."""
        rows_child = self.child["ChildIdentifiers"]
        batch = pa.table(
            {
                "id": self.ids.take(pa.array(rows_child, pa.int64())),
                "line": pa.array(self.line["Child"][rows_child], pa.int64()),
                "birth": idents["PersonBirthDate"],
                "sex": pc.coalesce(idents["Sex"], idents["GenderCurrent"]),
            }
        )
        ids = batch["id"].combine_chunks()
        # ids met so far, as sorted 64-bit hashes (8 bytes a child): a hit is then confirmed
        # in the batches' own ids, so a hash collision never reports a false duplicate
        hashes = np.fromiter(map(hash, ids.to_pylist()), dtype=np.int64, count=len(ids))
        met: np.ndarray[Any, Any] = seen.get("hashes", np.zeros(0, dtype=np.int64))
        at = np.minimum(np.searchsorted(met, hashes), max(len(met) - 1, 0))
        known = met[at] == hashes if len(met) else np.zeros(len(ids), dtype=bool)
        group = np.asarray(pc.index_in(ids, value_set=pc.unique(ids)).to_numpy(), dtype=np.int64)
        repeat = np.ones(len(ids), dtype=bool)
        repeat[np.unique(group, return_index=True)[1]] = False  # the first of each id
        merged = np.concatenate([met, np.sort(hashes)])
        merged.sort(kind="stable")  # two sorted runs: a linear merge
        seen["hashes"] = merged
        batches: list[pa.Table] = seen.setdefault("children", [])
        rows = np.flatnonzero(known | repeat)
        batches.append(batch)
        if not len(rows):
            return
        wanted = ids.take(pa.array(rows))
        first: list[dict[str, Any] | None] = [None] * len(rows)
        for earlier in batches:  # the first child with each id, found batch by batch
            where = pc.index_in(wanted, value_set=earlier["id"])
            found = earlier.take(where).to_pylist()
            first = [
                f if f is not None else (w if i is not None else None)
                for f, w, i in zip(first, found, where.to_pylist(), strict=True)
            ]
        this = batch.take(pa.array(rows)).to_pylist()
        # a hash hit whose first child is this very one was a collision, not a repeat
        real = [a is not None and a["line"] != b["line"] for a, b in zip(first, this, strict=True)]
        if not all(real):
            rows = rows[np.asarray(real, dtype=bool)]
            first = [a for a, r in zip(first, real, strict=True) if r]
            this = [b for b, r in zip(this, real, strict=True) if r]
            if not len(rows):
                return
        messages = []
        for a, b in zip(first, this, strict=True):
            assert a is not None  # every id is met in some batch, this one at the latest
            differ = [
                name
                for name, key in (("PersonBirthDate", "birth"), ("sex", "sex"))
                if a[key] is not None and b[key] is not None and a[key] != b[key]
            ]
            clash = f"; the two conflict in {' and '.join(differ)}" if differ else "; they agree"
            messages.append(
                f"this <Child> has the LAchildID of the <Child> at line {a['line']}"
                f"{rule_text('8510')}{clash}; both were read (as episodes of one child)"
            )
        self.issues.rows(
            "ChildIdentifiers",
            severity="error",
            action="kept",
            field="LAchildID",
            messages=messages,
            lines=self.line["ChildIdentifiers"][rows],
            paths=self.at("ChildIdentifiers", rows, "LAchildID"),
            records=self.records("ChildIdentifiers", rows),
        )

    def disabilities(self, typed: Mapping[str, Mapping[str, pa.Array]]) -> None:
        """``NONE`` recorded beside a disability for the same child (DfE rule 8790): the
        disability is kept and NONE ignored."""
        codes = typed["Disabilities"]["Disability"]
        parent = self.parent["Disabilities"]
        is_none = np.asarray(
            pc.fill_null(pc.equal(codes, "NONE"), False).to_numpy(zero_copy_only=False),
            dtype=bool,
        )
        if not is_none.any():
            return
        has_none = np.zeros(len(self.parent["ChildCharacteristics"]) + 1, dtype=bool)
        has_none[parent[is_none]] = True
        other = np.asarray(pc.is_valid(codes).to_numpy(zero_copy_only=False), dtype=bool)
        rows = np.flatnonzero(has_none[parent] & other & ~is_none)
        if not len(rows):
            return
        texts = codes.take(pa.array(rows)).to_pylist()
        self.issues.rows(
            "Disabilities",
            severity="error",
            action="kept",
            field="Disability",
            messages=[
                f"<Disability> {c} is recorded beside NONE for the same child"
                f"{rule_text('8790')}; {c} was kept and NONE ignored"
                for c in texts
            ],
            lines=self.cols["Disabilities"].line("Disability")[rows],
            paths=self.at("Disabilities", rows),
            values=texts,
            records=self.records("Disabilities", rows),
        )

    def queries(self, typed: Mapping[str, Mapping[str, pa.Array]]) -> None:
        """Legacy factors the DfE validator queries in the year (18A: 8945Q, 19A: 8950Q)."""
        codes = typed["AssessmentFactors"]["AssessmentFactors"]
        for code in LEGACY_FACTORS:
            legacy = queried(code, self.ctx.year)
            if legacy is None:
                continue
            hit = pc.fill_null(pc.equal(codes, code), False)
            rows = np.flatnonzero(np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool))
            if not len(rows):
                continue
            instead = " or ".join(legacy.replaced_by)
            self.issues.rows(
                "AssessmentFactors",
                severity="warning",
                action="kept",
                field="AssessmentFactors",
                messages=(
                    f"factor {code} should not be used from the {legacy.query_from} collection "
                    f"({instead} instead; DfE query {legacy.rule}); it was kept as cin.{code}"
                ),
                lines=self.cols["AssessmentFactors"].line("AssessmentFactors")[rows],
                paths=self.at("AssessmentFactors", rows),
                values=[code] * len(rows),
                records=self.records("AssessmentFactors", rows),
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
            lines = raw.line(element)
            held = lines >= 0
            present = int(held.sum())
            if present:
                first = int(lines[held].min())
                seen = self.tally.setdefault(element, [0, first, None])
                seen[0] += present
                if seen[2] is None or first < seen[1]:
                    row = int(np.flatnonzero(lines == first)[0])
                    seen[1:] = [first, self.at("ChildIdentifiers", [row], element)[0]]
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
                pc.is_null(raw.text("GenderCurrent")),
                pc.is_null(raw.text("Sex")),
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
                paths=self.at("ChildIdentifiers", neither),
                records=self.records("ChildIdentifiers", neither),
            )
        where = np.full(n_children, -1, dtype=np.int64)
        where[self.child["ChildIdentifiers"]] = np.arange(len(per_row), dtype=np.int64)
        return per_row.take(_nullable(where))


def validate(
    raw: RawBatch,
    ctx: Context,
    issues: Issues,
    tally: dict[str, list[Any]] | None = None,
    seen: dict[str, Any] | None = None,
) -> Batch:
    """Check and type one raw batch; problems go to ``issues``.

    ``tally`` collects, over a whole file, the children that use the sex element of
    another year's shape (``{element: [count, first line, its path]}``): see :func:`report_tally`.
    ``seen`` holds, over a whole file, the children met (``LAchildID``, line, birth date,
    sex), so that a second ``<Child>`` with the same id is reported (DfE rule 8510).
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
    ck.overlaps(typed)
    ck.identifiers(typed, seen if seen is not None else {})
    ck.disabilities(typed)
    ck.queries(typed)
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
    paths = attrs.evolve(ck.paths(), present={})  # not the raw values: a batch outlives them
    return Batch(tables=tables, parent=ck.parent, child=ck.child, children=children, paths=paths)


def report_tally(tally: Mapping[str, list[Any]], ctx: Context, issues: Issues) -> None:
    """One warning per sex element used against the year's shape, for the whole file."""
    expected = ctx.shape.sex_element
    for element, (count, first, path) in sorted(tally.items()):
        issues.log.warning(
            f"<{element}> is the element of another year's shape: the {ctx.year} collection uses "
            f"<{expected}>; {count} child(ren) use <{element}> (first at line {first}), read as "
            "they are",
            line=first,
            path=path,
            field=element,
            table="cases",
        )
