"""The errors mns raises: one small hierarchy, with structured attributes as well as a message."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator

__all__ = [
    "AdapterError",
    "EngineError",
    "LanguageError",
    "MappingError",
    "MissingExtraError",
    "MnsError",
    "PlanError",
    "RecordError",
    "RuleError",
    "SchemaError",
    "UnknownCodeError",
    "WorkbookError",
    "give",
    "options_spelt",
]


def _python_spelling(option: str, value: str, to: str | None) -> str:
    return f"pass {option}={value}" + (f" to {to}" if to else "")


_SPELLING: contextvars.ContextVar[Callable[[str, str, str | None], str]] = contextvars.ContextVar(
    "mns_option_spelling", default=_python_spelling
)


def give(option: str, value: str, *, to: str | None = None) -> str:
    """How the caller gives ``option`` (a keyword of ``mns.read``, an adapter option...) with
    ``value``, to the function ``to``: ``"pass year=2024 to mns.read"`` from Python. Messages
    say it through here so that a front end (the command line) can spell it its own way
    (``"give --year 2024"``)."""
    return _SPELLING.get()(option, value, to)


@contextlib.contextmanager
def options_spelt(spelling: Callable[[str, str, str | None], str]) -> Iterator[None]:
    """Within the block, :func:`give` spells options with ``spelling(option, value, to)``."""
    token = _SPELLING.set(spelling)
    try:
        yield
    finally:
        _SPELLING.reset(token)


class MnsError(Exception):
    """Base class of every error mns raises on purpose.

    ``file``, ``item`` and ``field`` say where the problem is, when known, so that
    callers can show it without parsing the message.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        item: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.item = item
        self.field = field


class LanguageError(MnsError):
    """A language or crosswalk file is invalid, or a language is unknown."""


class UnknownCodeError(LanguageError, KeyError):
    """A code looked up in a language does not exist; ``suggestions`` holds close codes."""

    def __init__(self, message: str, *, code: str, suggestions: tuple[str, ...] = ()) -> None:
        super().__init__(message, field=code)
        self.code = code
        self.suggestions = suggestions

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.message


class PlanError(MnsError):
    """A plan file is invalid: syntax, shape, or a cross-reference that does not resolve."""


class MappingError(MnsError):
    """A mapping file (the column-mapping adapter's) is invalid: its file, key and the fix are
    in the message."""


class RuleError(MnsError):
    """A rule does not parse, names something unknown, or mixes types.

    ``rule`` is the rule's text and ``position`` the offset the message points at, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        rule: str | None = None,
        position: int | None = None,
        file: str | None = None,
        item: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message, file=file, item=item, field=field)
        self.rule = rule
        self.position = position


class SchemaError(MnsError):
    """A table does not meet its canonical schema."""


class RecordError(MnsError):
    """A record could not be read (raised only with ``strict=True``; else it goes to issues)."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        field: str | None = None,
        value: str | None = None,
        adapter: str | None = None,
    ) -> None:
        super().__init__(message, file=file, field=field)
        self.row = row
        self.value = value
        self.adapter = adapter


class AdapterError(MnsError):
    """No adapter, several adapters, or a failing adapter for a source."""

    def __init__(
        self,
        message: str,
        *,
        adapter: str | None = None,
        plugin: str | None = None,
        file: str | None = None,
    ) -> None:
        super().__init__(message, file=file)
        self.adapter = adapter
        self.plugin = plugin


class EngineError(MnsError):
    """A run could not complete on its engine: a worker died (and retrying did not help), the
    cluster has no workers, the connection to it was lost, no result came within the engine's
    ``timeout``, an engine plugin failed, or what a run ships to workers cannot be pickled. No
    result is returned. ``piece`` names the file or rows being computed (or waited for), when
    known; ``engine`` the engine's name; ``reason`` what went wrong, one of :data:`REASONS`
    (None: not said), so a caller can tell a cluster to fix from a run to try again."""

    #: ``worker-died``: a worker died computing a piece, past the retries; ``no-workers``:
    #: the cluster has (or had, for the timeout) no worker; ``connection``: the scheduler
    #: cannot be reached, or the connection to it was lost; ``timeout``: no result within
    #: the engine's timeout; ``incomplete``: a piece's result is missing, repeated or
    #: cancelled; ``setup``: the engine cannot run this (not open, not installed, what a run
    #: ships cannot be pickled, a plugin's factory failed).
    REASONS = ("worker-died", "no-workers", "connection", "timeout", "incomplete", "setup")

    def __init__(
        self,
        message: str,
        *,
        piece: str | None = None,
        engine: str | None = None,
        reason: str | None = None,
    ) -> None:
        if reason is not None and reason not in self.REASONS:
            raise ValueError(f"EngineError: reason {reason!r} is not one of {self.REASONS}")
        super().__init__(message, file=piece)
        self.piece = piece
        self.engine = engine
        self.reason = reason


class WorkbookError(MnsError):
    """A workbook was refused whole: damaged, not a workbook, or over a
    :class:`mns.plugins.Limits`.

    ``file`` is the workbook, ``item`` the sheet or part, ``field`` the limit exceeded (a
    :class:`mns.plugins.Limits` attribute name) when one was, and ``cell`` the cell that makes
    a used range too large, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        item: str | None = None,
        field: str | None = None,
        cell: str | None = None,
    ) -> None:
        super().__init__(message, file=file, item=item, field=field)
        self.cell = cell


class MissingExtraError(MnsError, ImportError):
    """A feature needs libraries of an optional extra that is not installed (``extra`` names
    it: ``pip install 'mns[<extra>]'``)."""

    def __init__(self, message: str, *, extra: str) -> None:
        super().__init__(message)
        self.extra = extra
