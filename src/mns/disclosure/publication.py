"""The publication contract: what each analysis publishes, declared in its own module.

Every module that makes a published table declares it with a :class:`Publication` in a
module-level ``PUBLICATIONS`` tuple; :func:`publications` collects them. The audit pipeline
reads them to disclose the tables jointly (:func:`mns.disclose_all`) and to decide who may see
each one; the report reads them to know which tables it must show (or why not).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Final

import attrs
import pyarrow as pa

from mns.disclosure.structure import Structure, structure_of
from mns.errors import MnsError

#: Who may see a table: ``public`` (after disclosure control) or only the planning group's
#: ``internal`` working copy (record-level tables, e.g. case ids).
AUDIENCES: Final = ("public", "internal")
#: What every file and page of the internal audience says.
INTERNAL_NOTE: Final = "internal: contains small numbers, not for publication"

#: The modules that declare publications, in report order (each has ``PUBLICATIONS``).
_MODULES: Final = (
    "mns.analyses.profile",
    "mns.analyses.extrapolate",
    "mns.analyses.budget",
    "mns.analyses.placements",
    "mns.analyses.teams",
    "mns.analyses.match",
    "mns.analyses.agreement",
    "mns.analyses.rules_panel",
    "mns.analyses.compare",
    "mns.analyses.plan_progress",
    "mns.analyses.areas",
    "mns.analyses.outcomes",
    "mns.analyses.what_works",
    "mns.audit",
    "mns.lca._publish",
)


def _structure(
    value: Structure | Callable[[pa.Table], Structure] | None,
) -> Structure | Callable[[pa.Table], Structure] | None:
    if value is None or isinstance(value, Structure) or callable(value):
        return value
    raise TypeError(
        f"Publication.structure: {value!r} is neither a Structure, a function of the table "
        "giving one, nor None (the table's own metadata)"
    )


@attrs.frozen(kw_only=True)
class Publication:
    """One published table.

    - ``name``: the table's name (its files are ``<name>.csv`` and ``<name>.parquet``).
    - ``title``: what it is, in a few words.
    - ``structure``: how its counts add up: a :class:`~mns.disclosure.Structure`, a function
      of the table giving one, or ``None`` when the table records its own (every analysis
      does, in its schema metadata).
    - ``unshown``: why no report section shows it (``None``: a section does).
    - ``audience``: ``"public"`` (published after disclosure control) or ``"internal"``
      (record-level: only in the planning group's internal copy, never published).
    """

    name: str = attrs.field(validator=attrs.validators.matches_re(r"[a-z][a-z0-9_]*"))
    title: str
    structure: Structure | Callable[[pa.Table], Structure] | None = attrs.field(
        default=None, converter=_structure
    )
    unshown: str | None = None
    audience: str = attrs.field(default="public", validator=attrs.validators.in_(AUDIENCES))

    def structure_for(self, table: pa.Table) -> Structure:
        """The structure of ``table`` as published here."""
        if isinstance(self.structure, Structure):
            return self.structure
        if self.structure is not None:
            return self.structure(table)
        found = structure_of(table)
        if found is None:
            raise MnsError(
                f"the table {self.name!r} records no disclosure structure: its Publication "
                "must give structure=",
                item=self.name,
            )
        return found


def publications() -> Mapping[str, Publication]:
    """Every declared publication, by table name (in report order)."""
    found: dict[str, Publication] = {}
    for module_name in _MODULES:
        module = importlib.import_module(module_name)
        for item in getattr(module, "PUBLICATIONS", ()):
            if not isinstance(item, Publication):
                raise TypeError(f"{module_name}.PUBLICATIONS holds {item!r}, not a Publication")
            if item.name in found:
                raise MnsError(
                    f"the table {item.name!r} is declared twice ({module_name} and another "
                    "module): give each published table one Publication",
                    item=item.name,
                )
            found[item.name] = item
    return found


def publication(name: str) -> Publication:
    """The publication of the table ``name``."""
    found = publications()
    if name not in found:
        raise MnsError(
            f"no module declares the published table {name!r}: add a Publication to "
            "PUBLICATIONS in the module that makes it (see mns.disclosure.publication)",
            item=name,
        )
    return found[name]
