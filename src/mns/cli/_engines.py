"""Where a command's analyses compute: ``--engine``, ``--workers`` and ``--engine-timeout``,
turned into an :class:`mns.engines.Engine` (not started) with mistakes named by their flags."""

from __future__ import annotations

import functools
from typing import Any

import click

__all__ = ["engine_options", "make_engine"]

#: What ``--engine`` takes, for its help and its errors.
ENGINE_HELP = (
    "Where the analyses compute: local (this process, a few threads), processes (a process "
    "pool on this machine), dask (a Dask cluster on this machine), dask:ADDRESS (the Dask "
    "scheduler at ADDRESS, e.g. dask:tcp://10.0.0.5:8786), or the name of an engine an "
    "installed plugin provides."
)


def make_engine(name: str, workers: int | None, timeout: float | None) -> Any:
    """The engine ``--engine NAME --workers N --engine-timeout SECONDS`` ask for (closed);
    a name that is not an engine, or options that do not fit it, are usage errors."""
    from mns.engines import get

    if workers is not None and name.startswith("dask:"):
        raise click.BadParameter(
            "--workers sets the size of a cluster mns starts (--engine dask); a scheduler's "
            "address already has its workers: leave --workers out, or start more workers there",
            param_hint="'--workers'",
        )
    try:
        return get(name, workers=workers, timeout=timeout)
    except (TypeError, ValueError) as exc:
        raise click.BadParameter(str(exc), param_hint="'--engine'") from None


def engine_options(f: Any) -> Any:
    """``--engine``, ``--workers`` and ``--engine-timeout``, given to the command as
    ``engine`` (an :class:`mns.engines.Engine`, not started; the command starts it)."""

    @functools.wraps(f)
    def command(
        *args: Any, engine_name: str, workers: int | None, engine_timeout: float, **kwargs: Any
    ) -> Any:
        timeout = engine_timeout if engine_timeout > 0 else None
        return f(*args, engine=make_engine(engine_name, workers, timeout), **kwargs)

    wrapped: Any = command
    for decorator in reversed(
        [
            click.option(
                "--engine",
                "engine_name",
                metavar="NAME",
                default="local",
                show_default=True,
                help=ENGINE_HELP,
            ),
            click.option(
                "--workers",
                type=click.IntRange(min=1),
                metavar="N",
                help="How many workers --engine starts: threads (local), processes "
                "(processes) or worker processes (dask). Default: the engine's.",
            ),
            click.option(
                "--engine-timeout",
                type=click.FloatRange(min=0),
                default=600.0,
                show_default=True,
                metavar="SECONDS",
                help="How long to wait for a worker, or for the next result from the workers, "
                "before stopping with an error (0: wait for ever).",
            ),
        ]
    ):
        wrapped = decorator(wrapped)
    return wrapped
