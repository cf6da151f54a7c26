"""Reporting problems met in a CIN census file, one at a time or a whole batch's at once.

A thin layer over :class:`mns.records.issues.IssueLog`: every issue is located by its XML
line and element path (``/Message/Children/Child[3]/CINdetails[2]/CINreferralDate``, which
finds it when the file is one line), names the element (``field``) and value, and says
which canonical table the record was meant for, so that ``rejected(issues, "cases")``
counts the episodes of need that were not read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from mns.records import schema
from mns.records.issues import Action, IssueLog, Severity

__all__ = ["Issues", "canonical"]

_CANONICAL = {  # the canonical table a relational table's records feed
    "Child": "cases",
    "Children": "cases",
    "Header": "cases",
    "ChildIdentifiers": "cases",
    "ChildCharacteristics": "cases",
    "Disabilities": "cases",
    "CINdetails": "cases",
    "AssessmentFactors": "cases",
}


#: the issues table with its element paths
_SCHEMA = pa.schema([*schema.ISSUES, *schema.OPTIONAL["issues"]])


def canonical(table: str) -> str:
    """The canonical mns table that records of relational table ``table`` feed."""
    return _CANONICAL.get(table, "services")


class Issues:
    """The issues of one CIN census file."""

    def __init__(self, log: IssueLog, source: str) -> None:
        self.log = log
        self.source = source
        #: routine findings of the whole file: (table, field, what) -> [count, line, record,
        #: path]
        self._routine: dict[tuple[str, str, str], list[Any]] = {}

    def routine(  # noqa: PLR0917 - one finding's whole place
        self,
        table: str,
        field: str,
        what: str,
        lines: Sequence[int],
        records: Sequence[Any],
        path: Callable[[], str | None],
    ) -> None:
        """Findings too common to list one by one (an empty optional element read as
        missing): counted, and reported once per kind by :meth:`summarise` (``path`` gives
        the first one's element path, asked only for the first of its kind)."""
        if not len(lines):
            return
        seen = self._routine.setdefault((table, field, what), [0, None, None, None])
        seen[0] += len(lines)
        if seen[1] is None:
            seen[1], seen[2], seen[3] = int(lines[0]), records[0], path()

    def summarise(self) -> None:
        """One ``note`` per kind of routine finding, with its count and first place."""
        for (table, field, what), (count, line, record, path) in sorted(self._routine.items()):
            self.log.note(
                f"{what}: {count} time(s) in this file (the first at line {line})",
                line=line,
                path=path,
                field=field,
                record=record,
                table=canonical(table),
            )
        self._routine.clear()

    def file_error(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        path: str | None = None,
        field: str | None = None,
        value: str | None = None,
    ) -> None:
        """The file, or the rest of it, could not be read (``column``: the character in the
        line, where the XML parser says; ``path``: the element at fault, when there is one).
        The episodes lost are reported one by one with :meth:`reject`; this issue names no
        canonical table, so that it is not counted as a record."""
        self.log.error(
            message,
            action="rejected",
            line=line,
            column=str(column) if column else None,
            path=path,
            field=field,
            value=value,
            table="file",
        )

    def structure(
        self,
        table: str,
        message: str,
        *,
        line: int | None,
        path: str | None,
        field: str | None = None,
        value: str | None = None,
        severity: Severity = "warning",
        action: Action = "blanked",
        record: str | None = None,
    ) -> None:
        """An element out of place: unexpected, repeated, or from another year's shape, at
        ``line`` and ``path``; ``record``: the child it is in."""
        value = value.strip() if isinstance(value, str) else value
        self.log.add(
            severity,
            action,
            message,
            line=line,
            path=path,
            field=field,
            value=value or None,
            record=record,
            table=canonical(table),
        )

    def missing_block(
        self,
        table: str,
        tag: str,
        parent: str,
        line: int | None,
        record: str | None = None,
        *,
        path: str | None = None,
    ) -> None:
        """A block the schema requires is absent (in the child ``record``; ``line`` and
        ``path`` are the parent's)."""
        self.log.error(
            f"<{parent}> at line {line} has no <{tag}>, which the schema requires",
            action="kept",
            line=line,
            path=path,
            field=tag,
            record=record,
            table=canonical(table),
        )

    def reject(
        self,
        table: str,
        message: str,
        *,
        line: int | None,
        path: str | None,
        record: str | None = None,
    ) -> None:
        """A record (an episode of need, a service block) was not read."""
        self.log.error(
            message,
            action="rejected",
            line=line,
            path=path,
            record=record,
            table=canonical(table),
        )

    def header(
        self,
        field: str,
        value: str | None,
        at: tuple[int | None, str | None],
        problem: str,
        *,
        severity: Severity = "error",
    ) -> None:
        """A header value that cannot be used, at (line, element path)."""
        action: Action = "blanked" if severity == "error" else "kept"
        self.log.add(
            severity,
            action,
            f"<{field}> {value!r} {problem}",
            line=at[0],
            path=at[1],
            field=field,
            value=value,
            table="cases",
        )

    def rows(
        self,
        table: str,
        *,
        severity: Severity,
        action: Action,
        field: str,
        messages: Sequence[str] | str,
        lines: np.ndarray[Any, Any] | Sequence[int | None],
        paths: Sequence[str | None],
        values: Sequence[Any] | None = None,
        records: Sequence[Any] | None = None,
    ) -> None:
        """Many issues of one kind at once (one per row of a batch that failed a check), at
        their ``lines`` and element ``paths``."""
        n = len(lines)
        if n == 0:
            return
        msgs = [messages] * n if isinstance(messages, str) else list(messages)
        vals = [None if v is None else str(v) for v in values] if values is not None else [None] * n
        recs = (
            [None if r is None else str(r) for r in records] if records is not None else [None] * n
        )
        line_list = [None if x is None or x < 0 else int(x) for x in lines]
        if severity == "error" and self.log.strict:  # raise at the first, located
            self.log.error(
                msgs[0],
                action=action,
                line=line_list[0],
                path=paths[0],
                field=field,
                value=vals[0],
                record=recs[0],
            )
        data = {
            "source": [self.source] * n,
            "sheet": [None] * n,
            "row": [None] * n,
            "column": [None] * n,
            "line": line_list,
            "path": list(paths),
            "table": [canonical(table)] * n,
            "record": recs,
            "field": [field] * n,
            "value": vals,
            "severity": [severity] * n,
            "action": [action] * n,
            "message": msgs,
        }
        self.log.extend(pa.table(data, schema=_SCHEMA))
