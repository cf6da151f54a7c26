"""Collecting the problems met while reading: one row of the ``issues`` table per problem.

Every adapter reports problems through an :class:`IssueLog`, so that each one is located in
the user's own file (file, sheet, row, column letter or line; in XML also the element's
``path``, from :func:`element_path`, which still finds it when the whole file is one line),
says what was done about it (``rejected`` the record, ``blanked`` the value, ``kept`` it as
read) and, with ``strict=True``, stops the read at the first error with the same
information::

    from mns.records.issues import IssueLog

    log = IssueLog(source="referrals.csv", table="cases", adapter="acme", strict=strict)
    log.error("date of birth is not a date", row=12, column="D", field="birth_month",
              value="31/02/2019", action="blanked")
    log.error("no case id", row=13, column="A", field="case_id", value="")   # rejected
    log.warning("column 'Worker' is not mapped", row=1, column="F")
    issues = log.table()          # a pyarrow Table with the canonical issues schema

Privacy: messages quote identifiers, dates of birth, postcodes and names only through
:meth:`IssueLog.quote` (``f"episode {log.quote(child, 'identifier')} appears twice"``), and
declare the roles of their fields (``IssueLog(roles={"LAchildID": "identifier"})``). Inside
``mns.read(..., pseudonymise=key)`` a quoted identifier is its pseudonym, a date of birth or a
name is masked and a postcode is coarsened, in the message and in a strict error; as a
safeguard, the issue's own ``record`` and (for a field with a role) ``value`` are replaced
wherever a message quotes them. ``read`` then protects the ``value`` and ``record`` columns.

Counting rule (the "nothing lost" invariant): a record is *rejected* when at least one issue
with ``action="rejected"`` names its location. :func:`rejected` counts distinct rejected
locations per table, so records in the source = rows in the table + ``rejected(issues, table)``
however many problems a rejected record had. Log a rejection once per record you drop, with
the row (or line, and in XML the element path) of that record.
"""

from __future__ import annotations

import array
import contextlib
import contextvars
import functools
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mns import privacy
from mns.errors import RecordError
from mns.records import schema
from mns.records.bundle import base_name

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "ACTIONS",
    "COUNT",
    "PATH",
    "SEVERITIES",
    "Action",
    "IssueLimits",
    "IssueLog",
    "Severity",
    "Where",
    "column_letter",
    "describe",
    "element_path",
    "limits",
    "one_read",
    "publishable",
    "rejected",
]

Severity = Literal["error", "warning", "note"]
Action = Literal["rejected", "blanked", "kept"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "note")
ACTIONS: tuple[Action, ...] = ("rejected", "blanked", "kept")


class Where(TypedDict, total=False):
    """Where a problem is, and what: the keyword arguments of :meth:`IssueLog.error`,
    :meth:`IssueLog.warning` and :meth:`IssueLog.add` (each defaults to the log's own)."""

    row: int | None
    column: str | None
    line: int | None
    path: str | None
    field: str | None
    value: Any
    record: str | None
    source: str | None
    sheet: str | None
    table: str | None


#: The element path of an issue in an XML document (see :func:`element_path`): an optional
#: column of ``issues`` (``schema.OPTIONAL``), there when an issue has one.
PATH = "path"
_COLUMNS = (*schema.ISSUES.names, PATH)
_LOCATION = ("source", "sheet", "row", "line")
_BINDABLE = ("source", "sheet", "table", "row", "line", "column", "path", "record")


def column_letter(index: int) -> str:
    """The spreadsheet letter of the 0-based column ``index``: 0 -> ``A``, 27 -> ``AB``."""
    if index < 0:
        raise ValueError(f"column index {index} is negative")
    letters = ""
    n = index + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return str(value)


@attrs.frozen(kw_only=True)
class IssueLimits:
    """How many issues one read lists: at most ``per_kind`` of one kind (same file, sheet,
    table, field, severity and action) per log, and ``memory`` bytes of issues in all; the
    rest are counted in one summary issue per kind ("and N more like this")."""

    per_kind: int = attrs.field(default=1000, validator=attrs.validators.ge(1))
    memory: int = attrs.field(default=64 << 20, validator=attrs.validators.ge(1))


_LIMITS: contextvars.ContextVar[IssueLimits | None] = contextvars.ContextVar(
    "mns_issue_limits", default=None
)


def _current() -> IssueLimits:
    return _LIMITS.get() or IssueLimits()


class _Budget:
    """The issue memory of one read, shared by every log made while it runs."""

    def __init__(self, limits: IssueLimits) -> None:
        self.limits = limits
        self.used = 0


_BUDGET: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar(
    "mns_issue_budget", default=None
)


@contextlib.contextmanager
def limits(*, per_kind: int | None = None, memory: int | None = None) -> Iterator[IssueLimits]:
    """Within the block, reads list at most ``per_kind`` issues of one kind and ``memory``
    bytes of issues (defaults: :class:`IssueLimits`); e.g. ``with limits(per_kind=100):
    mns.read(...)``."""
    current = _current()
    chosen = IssueLimits(
        per_kind=current.per_kind if per_kind is None else per_kind,
        memory=current.memory if memory is None else memory,
    )
    token = _LIMITS.set(chosen)
    try:
        yield chosen
    finally:
        _LIMITS.reset(token)


@contextlib.contextmanager
def one_read() -> Iterator[None]:
    """Every log made within the block shares one issue memory (``mns.read`` uses this)."""
    token = _BUDGET.set(_BUDGET.get() or _Budget(_current()))
    try:
        yield
    finally:
        _BUDGET.reset(token)


Kind = tuple[Any, ...]  # (source, sheet, table, field, severity, action)
#: The column a summary issue adds to ``issues``: how many issues it stands for (records,
#: when they were rejected). Ordinary issues leave it null; it is there only when a limit
#: was reached.
COUNT = "count"
_PLACE = ("table", "source", "sheet", "row", "line", PATH)
_ROW_BYTES = 400  # a row's share of lists and string headers, beside its text


@attrs.define
class _Dropped:
    """Issues of one kind that were counted and not listed."""

    issues: int = 0
    unlocated: int = 0  # rejected with no row, line or path: each one record
    example: str = ""
    memory: bool = False  # dropped because the read's issue memory was full


class _Store:
    """The rows of one read, shared by an :class:`IssueLog` and the logs bound from it."""

    def __init__(self) -> None:
        self.columns: dict[str, list[Any]] = {name: [] for name in _COLUMNS}
        self.counts: list[int | None] = []  # COUNT of rows taken from a summarised table
        self.budget = _BUDGET.get() or _Budget(_current())
        self.listed: dict[Kind, int] = {}
        self.dropped: dict[Kind, _Dropped] = {}
        # rejected issues not listed, by location: (group << 43) | (row or line) << 1 | is_line,
        # or, for an element path, a negative hash of the whole place
        self.groups: dict[tuple[Any, ...], int] = {}
        self.keys = array.array("q")
        self.kinds = array.array("q")
        self.kind_index: dict[Kind, int] = {}

    def __len__(self) -> int:
        return len(self.columns["message"]) + len(self.dropped)

    def admit(self, kind: Kind, size: int) -> bool:
        """Whether an issue of ``kind`` taking ``size`` bytes is listed (and counted as such)."""
        limits = self.budget.limits
        listed = self.listed.get(kind, 0)
        if listed >= limits.per_kind or self.budget.used + size > limits.memory:
            return False
        self.listed[kind] = listed + 1
        self.budget.used += size
        return True

    def drop(self, kind: Kind, where: Mapping[str, Any], example: Callable[[], str]) -> None:
        dropped = self.dropped.get(kind)
        if dropped is None:
            dropped = self.dropped[kind] = _Dropped(example=example())
        dropped.issues += 1
        if self.listed.get(kind, 0) < self.budget.limits.per_kind:
            dropped.memory = True
        if kind[5] != "rejected":
            return
        key = _location(self.groups, where)
        if key is None:
            dropped.unlocated += 1
            return
        self.keys.append(key)
        self.kinds.append(self.kind_index.setdefault(kind, len(self.kind_index)))

    def summaries(self) -> list[tuple[Kind, _Dropped, int]]:
        """Each dropped kind with the records its rejections add to those listed."""
        added = dict.fromkeys(self.kind_index.values(), 0)
        if self.keys:
            keys = np.frombuffer(self.keys, dtype=np.int64)
            kinds = np.frombuffer(self.kinds, dtype=np.int64)
            unique, first = np.unique(keys, return_index=True)
            listed = self._listed_keys()
            new = ~np.isin(unique, listed) if len(listed) else np.ones(len(unique), dtype=bool)
            for index, count in enumerate(np.bincount(kinds[first[new]], minlength=len(added))):
                added[index] = int(count)
        return [
            (kind, dropped, dropped.unlocated + added.get(self.kind_index.get(kind, -1), 0))
            for kind, dropped in self.dropped.items()
        ]

    def _listed_keys(self) -> np.ndarray:
        columns = self.columns
        found = [
            _location(self.groups, {c: columns[c][i] for c in _PLACE}, add=False)
            for i, action in enumerate(columns["action"])
            if action == "rejected"
        ]
        return np.array([k for k in found if k is not None], dtype=np.int64)


def _location(
    groups: dict[tuple[Any, ...], int], where: Mapping[str, Any], *, add: bool = True
) -> int | None:
    """A rejected record's place as one number (None when it has no row, line or path)."""
    row, line, path = where["row"], where["line"], where.get(PATH)
    if row is None and line is None and path is None:
        return None
    place = (where["table"], where["source"], where["sheet"])
    group = groups.get(place)
    if group is None:
        if not add:
            return None
        group = groups[place] = len(groups)
    if path is not None:  # records sharing a line (a one-line XML file) differ by their path
        return -1 - (hash((group, row, line, path)) & ((1 << 62) - 1))
    number = (int(row) << 1) if row is not None else (int(line) << 1) | 1
    return (group << 43) | (number & ((1 << 43) - 1))


class IssueLog:
    """Collects issue rows for one read and builds the ``issues`` table.

    The keyword arguments give defaults for every row logged through this log (usually the
    ``source`` file as the user named it, the ``table`` records are meant for, and ``sheet``
    for spreadsheets); each call may override them. :meth:`bind` gives a log with other
    defaults that writes to the same rows, e.g. one per file or sheet of a multi-file source.

    With ``strict=True`` the first :meth:`error` raises :class:`mns.RecordError` carrying the
    file, row, field, value and adapter; warnings never raise.
    """

    def __init__(
        self,
        *,
        source: str = "",
        sheet: str | None = None,
        table: str | None = None,
        adapter: str | None = None,
        strict: bool = False,
        roles: Mapping[str, str | Mapping[bytes, bytes]] | None = None,
    ) -> None:
        self.strict = strict
        self.adapter = adapter
        self.roles = _roles(roles)
        settings = privacy.active()
        if settings is not None:  # so that read protects these fields' values in ``issues``
            settings.roles.update(self.roles)
        self._defaults: dict[str, Any] = {"source": source, "sheet": sheet, "table": table}
        self._store = _Store()

    def bind(self, **defaults: Any) -> IssueLog:
        """A log writing to the same rows with other defaults: ``source``, ``sheet``,
        ``table``, and for the problems of one record ``row``, ``line``, ``column``, ``record``
        (e.g. ``log.bind(line=12, record="EH-0001")``)."""
        unknown = sorted(set(defaults) - set(_BINDABLE))
        if unknown:
            raise TypeError(
                f"IssueLog.bind: unknown default(s) {unknown}; use {', '.join(_BINDABLE)}"
            )
        child = IssueLog(strict=self.strict, adapter=self.adapter, roles=self.roles)
        child._defaults = {**self._defaults, **defaults}
        child._store = self._store
        return child

    def quote(self, value: Any, role: str) -> str:
        """``value`` quoted for a message (``'K9'``), protected by its privacy ``role``
        (``identifier``, ``birth_date``, ``postcode``, ``name``) inside a private read."""
        if role not in privacy.COLUMN_ROLES:
            raise ValueError(
                f"IssueLog.quote: role {role!r} is not one of {', '.join(privacy.COLUMN_ROLES)}"
            )
        return repr(privacy.shown(value, role))

    def error(self, message: str, *, action: Action = "rejected", **where: Unpack[Where]) -> None:
        """Log an error: by default the record is ``rejected``; pass ``action="blanked"`` when
        only the value is dropped. Raises :class:`mns.RecordError` in strict mode."""
        self.add("error", action, message, **where)

    def warning(self, message: str, *, action: Action = "kept", **where: Unpack[Where]) -> None:
        """Log a warning: by default the value is ``kept`` as read (or as normalised)."""
        self.add("warning", action, message, **where)

    def note(self, message: str, *, action: Action = "kept", **where: Unpack[Where]) -> None:
        """Log a note: something routine the user should know of but need not fix (e.g. one
        summary of many identical, expected findings, with their count)."""
        self.add("note", action, message, **where)

    def add(
        self,
        severity: Severity,
        action: Action,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
        line: int | None = None,
        path: str | None = None,
        field: str | None = None,
        value: Any = None,
        record: str | None = None,
        source: str | None = None,
        sheet: str | None = None,
        table: str | None = None,
    ) -> None:
        """Log one issue (the general form of :meth:`error` and :meth:`warning`); in an XML
        document, ``path`` is the element's (:func:`element_path`) beside its ``line``."""
        if severity not in SEVERITIES:
            raise ValueError(
                f"IssueLog: severity {severity!r} is not one of {', '.join(SEVERITIES)}"
            )
        if action not in ACTIONS:
            raise ValueError(f"IssueLog: action {action!r} is not one of {', '.join(ACTIONS)}")
        defaults = self._defaults
        strict = severity == "error" and self.strict
        kind = (
            defaults["source"] if source is None else source,
            defaults["sheet"] if sheet is None else sheet,
            defaults["table"] if table is None else table,
            field,
            severity,
            action,
        )
        store = self._store
        if not strict and action != "rejected" and kind in store.dropped:
            store.dropped[kind].issues += 1  # once over a limit, always: just count it
            return
        given = {
            "source": source,
            "sheet": sheet,
            "table": table,
            "row": row,
            "line": line,
            "column": column,
            PATH: path,
            "record": record,
        }
        where: dict[str, Any] = {k: defaults.get(k) if v is None else v for k, v in given.items()}
        row, line = where["row"], where["line"]
        if not strict and (
            kind in store.dropped or not store.admit(kind, _size(message, value, where))
        ):
            # counted, not listed: only the first one's message is kept (protected)
            values = {**where, "record": _text(where["record"]), "field": field}
            values.update(value=_text(value), severity=severity, action=action, message=message)
            store.drop(kind, where, functools.partial(self._message, values))
            return
        values = {
            **where,
            "record": _text(where["record"]),
            "field": field,
            "value": _text(value),
            "severity": severity,
            "action": action,
            "message": message,
        }
        settings = privacy.active()
        if settings is not None:
            values["message"] = self._scrubbed(values, settings)
        if strict:
            shown = dict(values)
            if settings is not None:  # the error leaves the read: protect it as read would
                shown["record"] = privacy.shown(values["record"], "identifier", settings)
                shown["value"] = privacy.shown(
                    values["value"], self._role(field, values["table"]), settings
                )
            raise RecordError(
                _describe(shown),
                file=values["source"],
                row=row if row is not None else line,
                field=field,
                value=shown["value"],
                adapter=self.adapter,
            )
        columns = self._store.columns
        for name in _COLUMNS:
            columns[name].append(values[name])
        self._store.counts.append(None)

    def _message(self, values: dict[str, Any]) -> str:
        """An issue's message as it would be listed (protected inside a private read)."""
        settings = privacy.active()
        return str(values["message"]) if settings is None else self._scrubbed(values, settings)

    def _role(self, field: str | None, table: str | None) -> str | None:
        if field is None:
            return None
        return self.roles.get(field) or privacy.role(pa.field(field, pa.string()), table or "")

    def _scrubbed(self, values: dict[str, Any], settings: privacy.Settings) -> str:
        """The message with the issue's own record and sensitive value protected."""
        message = str(values["message"])
        record, value = values["record"], values["value"]
        if record is not None:
            message = privacy.scrub(
                message, record, privacy.shown(record, "identifier", settings) or ""
            )
        role = self._role(values["field"], values["table"])
        if value is not None and role is not None:
            message = privacy.scrub(message, value, privacy.shown(value, role, settings) or "")
        return message

    def extend(self, issues: pa.Table) -> None:
        """Append the rows of an ``issues`` table (e.g. from a nested read), within the
        limits as if each row were logged here."""
        schema.check(issues, "issues")
        store = self._store
        columns = store.columns
        rows: dict[str, list[Any]] = {
            name: issues.column(name).to_pylist()
            if name in issues.column_names
            else [None] * issues.num_rows
            for name in _COLUMNS
        }
        counts = (
            issues.column(COUNT).to_pylist()
            if COUNT in issues.column_names
            else [None] * issues.num_rows
        )
        settings = privacy.active()
        for i in range(issues.num_rows):
            row = {name: rows[name][i] for name in _COLUMNS}
            kind = tuple(
                row[k] for k in ("source", "sheet", "table", "field", "severity", "action")
            )
            if counts[i] is None and not store.admit(
                kind, _size(row["message"], row["value"], row)
            ):
                store.drop(kind, row, functools.partial(self._protected, row, settings))
                continue
            # batch-checking adapters log here: protect them as add does
            row["message"] = self._protected(row, settings)
            for name in _COLUMNS:
                columns[name].append(row[name])
            store.counts.append(counts[i])

    def _protected(self, row: dict[str, Any], settings: privacy.Settings | None) -> str:
        return str(row["message"]) if settings is None else self._scrubbed(row, settings)

    def __len__(self) -> int:
        """How many rows :meth:`table` gives: the issues listed and one per summary."""
        return len(self._store)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """The issues listed, in the order logged, then the summaries of those not listed."""
        columns = self._store.columns
        for i in range(len(columns["message"])):
            yield {name: columns[name][i] for name in _COLUMNS}
        yield from (row for row, _ in self._summaries())

    @property
    def errors(self) -> int:
        """How many errors have been logged (listed or not)."""
        listed = sum(1 for s in self._store.columns["severity"] if s == "error")
        return listed + sum(d.issues for k, d in self._store.dropped.items() if k[4] == "error")

    def _summaries(self) -> list[tuple[dict[str, Any], int]]:
        """One row per kind of issue not listed, and what it stands for (for rejections,
        the records it rejects beyond those listed; otherwise the issues)."""
        limits = self._store.budget.limits
        out = []
        for kind, dropped, records in self._store.summaries():
            source, sheet, table, field, severity, action = kind
            why = (
                f"the read's issues reached mns's limit of {limits.memory >> 20} MB"
                if dropped.memory
                else f"mns lists at most {limits.per_kind} issues of one kind per file"
            )
            more = f"; they reject {records} more records" if action == "rejected" else ""
            row = dict.fromkeys(_COLUMNS)
            row.update(
                source=source,
                sheet=sheet,
                table=table,
                field=field,
                severity=severity,
                action=action,
                message=f"and {dropped.issues} more like this, not listed ({why}){more}; the "
                f"first not listed: {dropped.example}",
            )
            out.append((row, records if action == "rejected" else dropped.issues))
        return out

    def raise_first(self) -> None:
        """Raise :class:`mns.RecordError` for the first error in file order, if any.

        For adapters that check whole columns at once (so log errors out of file order):
        log into a non-strict log, then call this when the caller asked for ``strict``.
        """
        for issue in self.table().to_pylist():
            if issue["severity"] == "error":
                raise RecordError(
                    _describe(issue),
                    file=issue["source"],
                    row=issue["row"] if issue["row"] is not None else issue["line"],
                    field=issue["field"],
                    value=issue["value"],
                    adapter=self.adapter,
                )

    def rejected(self, table: str | None = None) -> int:
        """How many distinct records have been rejected (in ``table``, or in all tables)."""
        return rejected(self.table(), table)

    def table(self) -> pa.Table:
        """The ``issues`` table: canonical schema, sorted by source, sheet, row and line
        (stably, so issues of one place keep the order they were logged in; issues of a
        whole file or sheet, with no row or line, come after its rows)."""
        store = self._store
        summaries = self._summaries()
        columns = {
            name: [*store.columns[name], *(row[name] for row, _ in summaries)] for name in _COLUMNS
        }
        paths = columns.pop(PATH)
        data = pa.table(columns, schema=schema.ISSUES)
        if any(p is not None for p in paths):  # an XML read: say where in the document
            data = data.append_column(schema.OPTIONAL["issues"][0], pa.array(paths, pa.string()))
        counts = [*store.counts, *(count for _, count in summaries)]
        if any(c is not None for c in counts):  # a limit was reached: say what summaries hold
            data = data.append_column(pa.field(COUNT, pa.int64()), pa.array(counts, pa.int64()))
        if data.num_rows == 0:
            return data
        keys = [(name, "ascending") for name in _LOCATION]
        order = pc.sort_indices(data, sort_keys=keys)
        return data.take(order)


def _size(message: str, value: Any, where: Mapping[str, Any]) -> int:
    """About how many bytes an issue holds while listed."""
    text = len(message) + len(str(value)) if value is not None else len(message)
    return _ROW_BYTES + text + len(str(where.get("record") or ""))


def _roles(roles: Mapping[str, str | Mapping[bytes, bytes]] | None) -> dict[str, str]:
    """Roles by field name, given as names or as field metadata (``privacy.IDENTIFIER``)."""
    out = {
        field: role if isinstance(role, str) else role.get(privacy.ROLE_KEY, b"").decode()
        for field, role in (roles or {}).items()
    }
    wrong = sorted(f"{k}={v!r}" for k, v in out.items() if v not in privacy.COLUMN_ROLES)
    if wrong:
        raise ValueError(
            f"IssueLog: roles {', '.join(wrong)} are not among {', '.join(privacy.COLUMN_ROLES)}"
        )
    return out


def _describe(values: dict[str, Any]) -> str:
    where = [str(values["source"] or "<input>")]
    if values["sheet"]:
        where.append(f"sheet {values['sheet']!r}")
    if values["row"] is not None:
        where.append(f"row {values['row']}")
    if values["line"] is not None:
        where.append(f"line {values['line']}")
    if values["column"]:
        where.append(f"column {values['column']}")
    if values.get(PATH):
        where.append(f"element {values[PATH]}")
    what = []
    if values["field"]:
        what.append(f"field {values['field']!r}")
    if values["value"] is not None:
        what.append(f"value {values['value']!r}")
    detail = f" ({', '.join(what)})" if what else ""
    return f"{', '.join(where)}: {values['message']}{detail}"


def describe(issue: dict[str, Any]) -> str:
    """One issue row (a dict from ``issues.to_pylist()``) as a sentence: where, what, message."""
    return _describe(issue)


def element_path(
    element: Any, *, repeated: Collection[str] = (), within: Any = None, prefix: str = ""
) -> str:
    """Where an XML element (lxml's) is in its document, for the ``path`` of an issue:
    ``/Message/Children/Child[12]/CINdetails[2]/CINreferralDate``.

    Each step is an element's local name (its namespace left out); ``[n]`` numbers it among
    the elements of the same name in the same parent, from 1, as XPath does, and is given
    when the name is in ``repeated`` (elements that may repeat there) or another element of
    that name is beside it. Only names and positions: never an attribute or a text, so a
    path quotes nothing from the records. A reader that deletes the elements it has read can
    give ``within``, an ancestor whose path it knows (``prefix``): the walk stops there.
    """
    steps: list[str] = []
    el = element
    while el is not None and el is not within:
        name = str(el.tag).rpartition("}")[2]
        if el.getparent() is None:
            steps.append(name)
            break
        n = 1 + sum(1 for _ in el.itersiblings(el.tag, preceding=True))
        if n > 1 or name in repeated or next(el.itersiblings(el.tag), None) is not None:
            name = f"{name}[{n}]"
        steps.append(name)
        el = el.getparent()
    return prefix + "".join(f"/{step}" for step in reversed(steps))


def publishable(issues: pa.Table) -> pa.Table:
    """``issues`` with each ``source`` cut to its file name (folders can name people,
    services or machines): for what an audit publishes."""
    if issues.num_rows == 0:
        return issues
    index = issues.schema.get_field_index("source")
    names = [base_name(s) for s in issues.column(index).to_pylist()]
    return issues.set_column(index, issues.schema.field(index), pa.array(names, pa.string()))


def rejected(issues: pa.Table, table: str | None = None) -> int:
    """How many distinct records ``issues`` says were rejected (in ``table``, or in all).

    Records are told apart by (table, source, sheet, row, line, path); a rejected issue with
    no row, line or path counts once on its own.
    """
    if issues.num_rows == 0:
        return 0
    mask = pc.equal(issues.column("action"), "rejected")
    if table is not None:
        mask = pc.and_(mask, pc.equal(issues.column("table"), table))
    picked = issues.filter(pc.fill_null(mask, False))
    if picked.num_rows == 0:
        return 0
    located = pc.or_(pc.is_valid(picked.column("row")), pc.is_valid(picked.column("line")))
    place = ["table", *_LOCATION]
    if PATH in picked.column_names:
        located = pc.or_(located, pc.is_valid(picked.column(PATH)))
        place.append(PATH)
    keys = picked.filter(located).select(place)
    unlocated: int = picked.num_rows - keys.num_rows
    if COUNT in picked.column_names:  # a summary stands for its count of records
        count = picked.filter(pc.invert(located)).column(COUNT).cast(pa.int64())
        unlocated = int(pc.sum(pc.fill_null(count, 1)).as_py() or 0)
    distinct: int = keys.group_by(keys.column_names).aggregate([]).num_rows if keys.num_rows else 0
    return distinct + unlocated
