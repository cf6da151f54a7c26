"""The vocabulary of disclosure control: how an analysis declares the way its table's counts
add up (:class:`Structure` of :class:`Block` and :class:`Margin`), stored in the table's schema
metadata by :func:`describe`, and the official statistics' symbols for missing values."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs
import pyarrow as pa

from mns.converters import describe_errors, make_json_converter
from mns.errors import MnsError, SchemaError

SUPPRESSED: Final = "c"  #: a value withheld to protect confidentiality
NOT_APPLICABLE: Final = "z"  #: no value can exist here (e.g. a share of no cases)
NOT_AVAILABLE: Final = ":"  #: a value that exists but is not known (not recorded)

#: Shared identities (:class:`Margin` labels with a dot are the same number in every table):
#: ``sample.<by>`` the audited cases per group (e.g. ``sample.need_group``), ``sample.total``
#: all audited cases; ``baseline.<by>``/``baseline.total`` the baseline audit's;
#: ``year.<by>``/``year.total`` the year's cases (referrals). Other labels are local to their
#: table. Declaring two tables' numbers with one identity says they describe the same cases.
SAMPLE: Final = "sample"
SAMPLE_TOTAL: Final = "sample.total"
BASELINE: Final = "baseline"
YEAR: Final = "year"

#: Schema metadata key holding a table's :class:`Structure` (JSON).
STRUCTURE_KEY: Final = b"mns.disclosure"
#: Field metadata key naming the symbol for that column's nulls (``z`` or ``:``).
NULL_KEY: Final = b"mns.null"


# --------------------------------------------------------------------------------------
# Declaring how a table's counts add up


def _names(value: Iterable[str] | str) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


@attrs.frozen(kw_only=True)
class Margin:
    """A total: its identity (``label`` and the key columns that distinguish it) and, if the
    table shows it, the ``column`` it is shown in.

    Two cells with the same identity are the same published number wherever they appear
    (e.g. a need group's size in every part of a profile), so they are suppressed together.
    """

    label: str
    key: tuple[str, ...] = attrs.field(default=(), converter=_names)
    column: str | None = None


def _where(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return dict(value or {})


@attrs.frozen(kw_only=True)
class Block:
    """One family of counts in a table: the ``count`` column in the rows matching ``where``.

    - ``table``: columns whose values split the rows into separate tables (e.g. a profile's
      ``variable``); each has its own totals.
    - ``rows`` and ``cols``: the columns giving each count's row and column in its table.
      Every case is counted in exactly one row and one column of a table, so the cells of a
      row add up to the row total, and so on (with no ``cols``, the rows add up to a total).
    - ``base``: the count is "``count`` of ``base``" (cases with a flag, of the group's
      cases): the row's other cell, ``base - count``, is implied, and ``base`` is the row total.
    - ``where`` / ``unless``: only the rows whose columns equal all of ``where``'s values and
      not all of ``unless``'s.
    - ``label`` and ``key``: the cells' identity (default: the count column's name and
      ``table + rows + cols``); ``row_total``, ``col_total``, ``total``: the margins'.
    """

    count: str
    table: tuple[str, ...] = attrs.field(default=(), converter=_names)
    rows: tuple[str, ...] = attrs.field(default=(), converter=_names)
    cols: tuple[str, ...] = attrs.field(default=(), converter=_names)
    base: str | None = None
    where: Mapping[str, Any] = attrs.field(factory=dict, converter=_where, hash=False)
    unless: Mapping[str, Any] = attrs.field(factory=dict, converter=_where, hash=False)
    label: str | None = None
    key: tuple[str, ...] | None = attrs.field(
        default=None, converter=attrs.converters.optional(_names)
    )
    row_total: Margin | None = None
    col_total: Margin | None = None
    total: Margin | None = None

    def __attrs_post_init__(self) -> None:
        if self.base is not None and self.cols:
            raise ValueError(
                f"Block {self.count!r}: a block with a base has no cols (its columns are in/out)"
            )


def _blocks(value: Iterable[Block]) -> tuple[Block, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class Structure:
    """How a table's counts add up (``blocks``) and which columns are computed from which
    (``derived``: column -> the columns of the same row it is computed from; ``across``:
    column -> key columns, for a column computed from the counts of every row with the same
    values of those keys, e.g. a team's concentration over its need groups: withheld
    wherever one of those counts is)."""

    blocks: tuple[Block, ...] = attrs.field(converter=_blocks)
    derived: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict, hash=False)
    across: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict, hash=False)

    def to_json(self) -> str:
        """The structure as JSON (what :func:`describe` stores in the schema metadata)."""
        data: dict[str, Any] = {"version": 1, **_JSON.unstructure(self)}
        if not self.across:  # written only when used: older structures read the same
            del data["across"]
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> Structure:
        """The structure :meth:`to_json` wrote."""
        raw = json.loads(text)
        version = raw.pop("version", None) if isinstance(raw, dict) else None
        if version != 1:
            raise MnsError(f"disclosure structure version {version!r} is not supported (1 is)")
        try:
            return _JSON.structure(raw, cls)
        except Exception as exc:  # cattrs' grouped errors, in the metadata's own terms
            problems = "; ".join(
                f"{place}: {message}"
                for place, message in describe_errors(exc, raw, {"blocks": "blocks"}, "structure")
            )
            raise MnsError(
                f"the disclosure structure in the table's metadata is not valid: {problems}"
            ) from None


_JSON: Final = make_json_converter()


def describe(
    table: pa.Table,
    structure: Structure,
    *,
    not_applicable: Iterable[str] = (),
) -> pa.Table:
    """``table`` with ``structure`` in its schema metadata, and the columns whose nulls mean
    "not applicable" (``z``) marked as such (other nulls mean "not available", ``:``)."""
    columns = set(table.column_names)
    for block in structure.blocks:
        wanted = [block.count, *block.table, *block.rows, *block.cols, *block.where, *block.unless]
        if block.base:
            wanted.append(block.base)
        for margin in (block.row_total, block.col_total, block.total):
            if margin is not None:
                wanted += [*margin.key, *([margin.column] if margin.column else [])]
        missing = sorted(set(wanted) - columns)
        if missing:
            raise SchemaError(f"disclosure structure names missing columns: {', '.join(missing)}")
    z = set(not_applicable)
    fields = [
        f.with_metadata({**(f.metadata or {}), NULL_KEY: NOT_APPLICABLE.encode()})
        if f.name in z
        else f
        for f in table.schema
    ]
    metadata = {**(table.schema.metadata or {}), STRUCTURE_KEY: structure.to_json().encode()}
    return table.cast(pa.schema(fields, metadata=metadata))


def structure_of(table: pa.Table | pa.Schema) -> Structure | None:
    """The disclosure structure recorded in a table's schema metadata, if any."""
    schema = table if isinstance(table, pa.Schema) else table.schema
    raw = (schema.metadata or {}).get(STRUCTURE_KEY)
    return None if raw is None else Structure.from_json(raw)
