"""What every ``mns`` command shares: exit codes, errors as one clear message, ``--json``,
``--debug``, warnings on one line, and progress bars that stay out of scripts' way."""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, TypeVar

import attrs
import click

from mns.errors import MnsError

__all__ = [
    "EXIT_INPUT",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_ISSUES",
    "EXIT_OK",
    "EXIT_USAGE",
    "CommandError",
    "MnsGroup",
    "State",
    "debug_option",
    "emit",
    "fail_on_errors_option",
    "json_option",
    "jsonable",
    "progress",
    "say",
    "shows_progress",
    "state",
    "table_text",
]

EXIT_OK = 0  #: done
EXIT_INPUT = 1  #: an input mns could not use: a file, plan, rule, record or adapter
EXIT_USAGE = 2  #: the command line itself is wrong (unknown option, missing argument)
EXIT_ISSUES = 3  #: done, but the records had errors and ``--fail-on-errors`` was given
EXIT_INTERNAL = 4  #: an unexpected error: a bug in mns or a plugin (rerun with --debug)
EXIT_INTERRUPTED = 130  #: stopped with Ctrl-C

DEBUG_ENV = "MNS_DEBUG"

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


@attrs.define
class State:
    """Per-invocation settings shared by the group and its commands (``ctx.obj``)."""

    debug: bool = attrs.field(factory=lambda: os.environ.get(DEBUG_ENV, "") not in ("", "0"))
    json: bool = False
    quiet: bool = False


def state(ctx: click.Context | None = None) -> State:
    """The invocation's :class:`State`, created on first use."""
    ctx = ctx or click.get_current_context()
    root = ctx.find_root()
    if not isinstance(root.obj, State):
        root.obj = State()
    return root.obj


class CommandError(click.ClickException):
    """An error shown as one line (``mns: error: ...``), with a JSON copy on stdout under
    ``--json`` so that scripts reading stdout see it too."""

    def __init__(
        self,
        message: str,
        *,
        exit_code: int = EXIT_INPUT,
        kind: str = "MnsError",
        details: Mapping[str, Any] | None = None,
        as_json: bool = False,
    ) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]
        self.kind = kind
        self.details = dict(details or {})
        self.as_json = as_json

    def show(self, file: IO[Any] | None = None) -> None:
        if self.as_json:
            payload = {"error": {"type": self.kind, "message": self.message, **self.details}}
            click.echo(json.dumps(jsonable(payload), indent=2, sort_keys=True))
        click.echo(f"mns: error: {self.message}", err=True)


def _details(exc: BaseException) -> dict[str, Any]:
    names = ("file", "item", "field", "row", "value", "adapter", "plugin", "code")
    return {n: getattr(exc, n) for n in names if getattr(exc, n, None) is not None}


def _translate(exc: BaseException, as_json: bool) -> click.ClickException:
    if isinstance(exc, MnsError):
        return CommandError(
            str(exc), kind=type(exc).__name__, details=_details(exc), as_json=as_json
        )
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        reason = exc.strerror or str(exc)
        return CommandError(
            f"{where}{reason}", kind=type(exc).__name__, details=_details(exc), as_json=as_json
        )
    message = (
        f"unexpected {type(exc).__name__}: {exc}. This is a bug in mns or a plugin: rerun "
        f"with --debug for the traceback and report it."
    )
    return CommandError(message, exit_code=EXIT_INTERNAL, kind=type(exc).__name__, as_json=as_json)


def _show_warning(  # noqa: PLR0917 - the signature of warnings.showwarning
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: IO[str] | None = None,
    line: str | None = None,
) -> None:
    text = str(message).strip()
    click.echo(f"mns: warning: {text}", err=True)


class _JsonUsageError(click.UsageError):
    """A usage error shown as usual on stderr, and as JSON on stdout (``--json`` was given)."""

    def __init__(self, error: click.UsageError) -> None:
        super().__init__(error.format_message(), error.ctx)

    def show(self, file: IO[Any] | None = None) -> None:
        payload = {"error": {"type": "UsageError", "message": self.format_message()}}
        click.echo(json.dumps(payload, indent=2, sort_keys=True))
        super().show(file)


def _wants_json(args: Sequence[str]) -> bool:
    given = list(args)
    return "--json" in (given[: given.index("--")] if "--" in given else given)


class MnsGroup(click.Group):
    """The ``mns`` group: turns every error a command raises into one clear message and a
    meaningful exit code; ``--debug`` (or ``MNS_DEBUG=1``) adds the traceback. Under
    ``--json`` every outcome is JSON on stdout, usage errors included; messages name the
    command line's flags, not ``mns.read``'s keywords (:func:`mns.errors.give`)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        wants_json = _wants_json(args)
        if wants_json:
            state(ctx).json = True
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            raise (_JsonUsageError(error) if wants_json else error) from None

    def invoke(self, ctx: click.Context) -> Any:
        from mns.cli._reading import cli_spelling
        from mns.errors import options_spelt

        st = state(ctx)
        with warnings.catch_warnings(), options_spelt(cli_spelling):
            warnings.simplefilter("default")
            warnings.showwarning = _show_warning
            try:
                return super().invoke(ctx)
            except click.UsageError as error:
                if st.json and not isinstance(error, _JsonUsageError):
                    raise _JsonUsageError(error) from None
                raise
            except (click.ClickException, click.exceptions.Exit, click.Abort, BrokenPipeError):
                raise
            except KeyboardInterrupt:
                click.echo("mns: interrupted", err=True)
                ctx.exit(EXIT_INTERRUPTED)
            except Exception as exc:
                if st.debug:
                    traceback.print_exc(file=sys.stderr)
                raise _translate(exc, st.json) from exc


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        state(ctx).debug = True


def _set_json(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        state(ctx).json = True
    return value


def debug_option(f: F) -> F:
    """``--debug``: show the traceback of an error (also ``MNS_DEBUG=1``)."""
    return click.option(
        "--debug",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_set_debug,
        help="Show the full traceback of an error (also MNS_DEBUG=1).",
    )(f)


def fail_on_errors_option(f: F) -> F:
    """``--fail-on-errors``: exit with :data:`EXIT_ISSUES` when a record had an error."""
    return click.option(
        "--fail-on-errors",
        is_flag=True,
        help=f"Exit with code {EXIT_ISSUES} when any record had an error (for scripts and CI).",
    )(f)


def json_option(f: F) -> F:
    """``--json``: print one JSON document on stdout instead of text."""
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        callback=_set_json,
        help="Print one JSON document on stdout (for scripts) instead of text.",
    )(f)


def jsonable(value: Any) -> Any:
    """``value`` made of JSON types: dates as ISO text, paths as text, NaN as null."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if attrs.has(type(value)):
        return jsonable(attrs.asdict(value, recurse=False))
    if isinstance(value, Iterable) and not isinstance(value, (bytes, bytearray)):
        return [jsonable(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return jsonable(value.item())
    return str(value)


def emit(data: Any, text: Callable[[], None]) -> None:
    """Print ``data`` as JSON under ``--json``, else call ``text()`` to print it for people."""
    if state().json:
        click.echo(json.dumps(jsonable(data), indent=2, sort_keys=True))
    else:
        text()


def say(message: str) -> None:
    """A progress note for people, on stderr (silent under ``--json`` or ``--quiet``)."""
    st = state()
    if not (st.json or st.quiet):
        click.echo(message, err=True)


def shows_progress() -> bool:
    """Whether progress bars are shown: stderr is a terminal and the output is for people."""
    st = state()
    return not (st.json or st.quiet) and sys.stderr.isatty()


def progress(items: Iterable[T], *, label: str, length: int | None = None) -> Iterator[T]:
    """Iterate ``items`` with a progress bar on stderr when :func:`shows_progress`; plain
    iteration otherwise (scripts, ``--json``, pipes)."""
    if not shows_progress():
        yield from items
        return
    stream = sys.stderr
    with click.progressbar(items, label=label, length=length, file=stream) as bar:
        yield from bar


def table_text(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """Rows as a plain aligned text table (for people; scripts use ``--json``)."""
    if not rows:
        return "(none)"
    cols = columns or list(rows[0])
    cells = [[_cell(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend(
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells
    )
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1 else f"{value:,.1f}"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value)
