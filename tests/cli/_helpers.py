"""What the CLI tests share."""

from __future__ import annotations

from click.testing import CliRunner, Result

from mns.cli import cli


def run(*args: str) -> Result:
    """``mns ARGS`` in this process; an exception is not caught (a bug shows as itself)."""
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)
