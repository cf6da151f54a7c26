"""The common language of need: what needs are called, and how one system's codes map to another."""

from mns.lang.load import (
    crosswalk,
    crosswalk_from_dict,
    crosswalks,
    dump_crosswalk,
    dump_language,
    language,
    language_from_dict,
    languages,
    load_crosswalk,
    load_language,
)
from mns.lang.model import (
    Concerns,
    Crosswalk,
    Dimension,
    Indicator,
    Kind,
    Language,
    Mapping_,
    Provenance,
    Value,
    valid_in,
)

__all__ = [
    "Concerns",
    "Crosswalk",
    "Dimension",
    "Indicator",
    "Kind",
    "Language",
    "Mapping_",
    "Provenance",
    "Value",
    "crosswalk",
    "crosswalk_from_dict",
    "crosswalks",
    "dump_crosswalk",
    "dump_language",
    "language",
    "language_from_dict",
    "languages",
    "load_crosswalk",
    "load_language",
    "valid_in",
]
