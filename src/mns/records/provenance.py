"""The provenance file (``provenance.mns.json``): where records came from, as JSON, through
the JSON converter of :mod:`mns.converters`, with errors that name the file and the key."""

from __future__ import annotations

import json

import cattrs

from mns.converters import describe_errors, make_json_converter
from mns.errors import RecordError
from mns.records.bundle import Provenance

__all__ = ["PROVENANCE_FILE", "provenance_from_json", "provenance_to_json"]

#: The provenance file :func:`mns.write` puts beside the tables.
PROVENANCE_FILE = "provenance.mns.json"
#: The converter of mns's JSON files.
_JSON = make_json_converter()


def provenance_to_json(provenance: Provenance) -> str:
    """``provenance`` as JSON text (dates as ISO strings), through the JSON converter."""
    data = _JSON.unstructure(provenance, Provenance)
    return json.dumps({"mns_provenance": 1, **data}, indent=2, sort_keys=True) + "\n"


def provenance_from_json(text: str, file: str = "<json>") -> Provenance:
    """Read what :func:`provenance_to_json` wrote; a problem is a :class:`mns.RecordError`
    naming the file and the key."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise RecordError(f"{file}: cannot read provenance: {exc}", file=file) from exc
    if not isinstance(data, dict) or data.pop("mns_provenance", None) != 1:
        raise RecordError(
            f"{file}: cannot read provenance: not an mns provenance file (no 'mns_provenance': 1)",
            file=file,
        )
    try:
        return _JSON.structure(data, Provenance)
    except (cattrs.BaseValidationError, ValueError, TypeError) as exc:  # in the file's terms
        problems = describe_errors(exc, data, {"files": "files"}, "provenance")
        shown = "; ".join(f"{place}: {message}" for place, message in problems)
        raise RecordError(f"{file}: cannot read provenance: {shown}", file=file) from exc
