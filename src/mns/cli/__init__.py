"""The ``mns`` command line: read records, classify them, run the whole audit and write the
report, from a terminal or a script (``mns ...`` or ``python -m mns ...``).

Every command takes ``--json`` (one JSON document on stdout, errors and usage errors
included) and ``--debug`` (the traceback of an error). Exit codes: 0 done; 1 an input mns
could not use (the message names the file, item, field and value), or, for ``mns read``, a
file it could not read whole; 2 a wrong command line;
3 records with errors under ``--fail-on-errors``; 4 an unexpected error (a bug: rerun with
``--debug`` and report it); 130 interrupted.

The command line needs the ``mns[cli]`` extra (click); without it ``mns`` says so in one line.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["cli", "main"]


def main() -> None:
    """Entry point of the ``mns`` script."""
    from mns.errors import MissingExtraError

    try:
        from mns._extras import require

        require("cli", "the mns command line")
    except MissingExtraError as exc:
        sys.stderr.write(f"mns: error: {exc}\n")
        raise SystemExit(1) from None
    from mns.cli._app import cli as group

    group(prog_name="mns")


def __getattr__(name: str) -> Any:
    if name == "cli":  # the click group, loaded only when asked for (it needs click)
        from mns.cli._app import cli as group

        return group
    raise AttributeError(f"module 'mns.cli' has no attribute {name!r}")
