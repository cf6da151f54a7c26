"""Collecting the problems met while reading: one row of the ``issues`` table per problem.

Every adapter reports problems through an :class:`IssueLog`, so that each one is located in
the user's own file (file, sheet, row, column letter or line), says what was done about it
(``rejected`` the record, ``blanked`` the value, ``kept`` it as read) and, with
``strict=True``, stops the read at the first error with the same information::

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
the row (or line) of that record.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypedDict

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
    "SEVERITIES",
    "Action",
    "IssueLog",
    "Severity",
    "Where",
    "column_letter",
    "describe",
    "publishable",
    "rejected",
]

Severity = Literal["error", "warning"]
Action = Literal["rejected", "blanked", "kept"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning")
ACTIONS: tuple[Action, ...] = ("rejected", "blanked", "kept")


class Where(TypedDict, total=False):
    """Where a problem is, and what: the keyword arguments of :meth:`IssueLog.error`,
    :meth:`IssueLog.warning` and :meth:`IssueLog.add` (each defaults to the log's own)."""

    row: int | None
    column: str | None
    line: int | None
    field: str | None
    value: Any
    record: str | None
    source: str | None
    sheet: str | None
    table: str | None


_COLUMNS = tuple(schema.ISSUES.names)
_LOCATION = ("source", "sheet", "row", "line")
_BINDABLE = ("source", "sheet", "table", "row", "line", "column", "record")


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


class _Store:
    """The rows of one read, shared by an :class:`IssueLog` and the logs bound from it."""

    def __init__(self) -> None:
        self.columns: dict[str, list[Any]] = {name: [] for name in _COLUMNS}

    def __len__(self) -> int:
        return len(self.columns["message"])


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
        if role not in privacy.ROLES:
            raise ValueError(
                f"IssueLog.quote: role {role!r} is not one of {', '.join(privacy.ROLES)}"
            )
        return repr(privacy.shown(value, role))

    def error(self, message: str, *, action: Action = "rejected", **where: Unpack[Where]) -> None:
        """Log an error: by default the record is ``rejected``; pass ``action="blanked"`` when
        only the value is dropped. Raises :class:`mns.RecordError` in strict mode."""
        self.add("error", action, message, **where)

    def warning(self, message: str, *, action: Action = "kept", **where: Unpack[Where]) -> None:
        """Log a warning: by default the value is ``kept`` as read (or as normalised)."""
        self.add("warning", action, message, **where)

    def add(
        self,
        severity: Severity,
        action: Action,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
        line: int | None = None,
        field: str | None = None,
        value: Any = None,
        record: str | None = None,
        source: str | None = None,
        sheet: str | None = None,
        table: str | None = None,
    ) -> None:
        """Log one issue (the general form of :meth:`error` and :meth:`warning`)."""
        if severity not in SEVERITIES:
            raise ValueError(
                f"IssueLog: severity {severity!r} is not one of {', '.join(SEVERITIES)}"
            )
        if action not in ACTIONS:
            raise ValueError(f"IssueLog: action {action!r} is not one of {', '.join(ACTIONS)}")
        given = {
            "source": source,
            "sheet": sheet,
            "table": table,
            "row": row,
            "line": line,
            "column": column,
            "record": record,
        }
        where: dict[str, Any] = {
            k: self._defaults.get(k) if v is None else v for k, v in given.items()
        }
        row, line = where["row"], where["line"]
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
        if severity == "error" and self.strict:
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
        """Append the rows of an ``issues`` table (e.g. from a nested read)."""
        schema.check(issues, "issues")
        columns = self._store.columns
        rows = {name: issues.column(name).to_pylist() for name in _COLUMNS}
        settings = privacy.active()
        if settings is not None:  # batch-checking adapters log here: protect them the same way
            rows["message"] = [
                self._scrubbed({name: rows[name][i] for name in _COLUMNS}, settings)
                for i in range(issues.num_rows)
            ]
        for name in _COLUMNS:
            columns[name].extend(rows[name])

    def __len__(self) -> int:
        return len(self._store)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        columns = self._store.columns
        for i in range(len(self._store)):
            yield {name: columns[name][i] for name in _COLUMNS}

    @property
    def errors(self) -> int:
        """How many errors have been logged."""
        return sum(1 for s in self._store.columns["severity"] if s == "error")

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
        data = pa.table(self._store.columns, schema=schema.ISSUES)
        if data.num_rows == 0:
            return data
        keys = [(name, "ascending") for name in _LOCATION]
        order = pc.sort_indices(data, sort_keys=keys)
        return data.take(order)


def _roles(roles: Mapping[str, str | Mapping[bytes, bytes]] | None) -> dict[str, str]:
    """Roles by field name, given as names or as field metadata (``privacy.IDENTIFIER``)."""
    out = {
        field: role if isinstance(role, str) else role.get(privacy.ROLE_KEY, b"").decode()
        for field, role in (roles or {}).items()
    }
    wrong = sorted(f"{k}={v!r}" for k, v in out.items() if v not in privacy.ROLES)
    if wrong:
        raise ValueError(
            f"IssueLog: roles {', '.join(wrong)} are not among {', '.join(privacy.ROLES)}"
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

    Records are told apart by (table, source, sheet, row, line); a rejected issue with no row
    and no line counts once on its own.
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
    keys = picked.filter(located).select(["table", *_LOCATION])
    unlocated: int = picked.num_rows - keys.num_rows
    distinct: int = keys.group_by(keys.column_names).aggregate([]).num_rows if keys.num_rows else 0
    return distinct + unlocated
