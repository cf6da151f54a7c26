"""Cases in, numbers out: which columns are the indicators, and how each is encoded.

An indicator column is named ``<language>.<code>``. Flags (bool) are modelled as binary items,
ratings (integers 0-3) and categories (dictionary or plain strings) as categorical items.
A missing value stays missing (NaN): the model's likelihood then uses what was observed
(full-information maximum likelihood), and nothing is imputed.

Each item also yields *events*, the yes/no statements that describe classes and make draft
rules: ``cin.4B``; ``mns.emotional_wellbeing_concern >= 2``; ``cin.primary_need == 'N1'``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import TypeAlias

import attrs
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from mns.errors import SchemaError

__all__ = [
    "MAX_LEVELS",
    "Event",
    "Item",
    "events",
    "select",
]

Floats: TypeAlias = npt.NDArray[np.float64]
Bools: TypeAlias = npt.NDArray[np.bool_]

#: An indicator column's name: ``<language>.<code>``.
COLUMN = re.compile(r"^[a-z][a-z0-9_]*\.[A-Za-z0-9][A-Za-z0-9_]*$")
#: The most values a category indicator may have to be modelled.
MAX_LEVELS = 30
RATING_LEVELS = 4

FLAG, RATING, CATEGORY = "flag", "rating", "category"


@attrs.frozen(kw_only=True, eq=False)
class Item:
    """One modelled indicator: its column, kind, values (categories) and encoded data.

    ``data`` holds 0/1 for flags, 0-3 for ratings and the index into ``levels`` for
    categories; NaN where the case has no value.
    """

    column: str
    kind: str
    levels: tuple[str, ...]
    data: Floats

    @property
    def n_levels(self) -> int:
        """How many values the item can take."""
        if self.kind == FLAG:
            return 2
        if self.kind == RATING:
            return RATING_LEVELS
        return len(self.levels)


@attrs.frozen(kw_only=True, eq=False)
class Event:
    """A yes/no statement about one item as rule text, where it holds and where it is known."""

    column: str
    text: str  #: the statement in the rule language
    negation: str  #: its opposite in the rule language
    value: Bools
    known: Bools


def _kind(table: pa.Table, column: str) -> str | None:
    typ = table.schema.field(column).type
    if pa.types.is_boolean(typ):
        return FLAG
    if pa.types.is_integer(typ):
        return RATING
    if pa.types.is_dictionary(typ) and pa.types.is_string(typ.value_type):
        return CATEGORY
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        return CATEGORY
    return None


def _unknown_column(column: str, table: pa.Table, what: str) -> SchemaError:
    close = difflib.get_close_matches(column, table.column_names, n=3, cutoff=0.6)
    hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
    return SchemaError(
        f"{what}: indicators names column {column!r}, which the cases table does not have{hint}",
        field=column,
    )


def _columns(table: pa.Table, indicators: str | Sequence[str] | None, what: str) -> list[str]:
    if indicators is None or isinstance(indicators, str):
        prefix = None if indicators is None else indicators
        if prefix is not None and "." in prefix:
            raise SchemaError(
                f"{what}: indicators={prefix!r} is one column; pass a list of columns "
                f"([{prefix!r}, ...]) or a language name such as 'cin' for all its columns",
                field="indicators",
            )
        found = [
            c
            for c in table.column_names
            if COLUMN.match(c)
            and _kind(table, c) in (FLAG, RATING)
            and (prefix is None or c.split(".", 1)[0] == prefix)
        ]
        if not found:
            where = "" if prefix is None else f" of language {prefix!r}"
            raise SchemaError(
                f"{what}: the cases table has no flag or rating indicator columns{where} "
                "(columns named '<language>.<code>' of type bool or int8)",
                field="indicators",
            )
        return sorted(found)
    columns = list(indicators)
    seen: set[str] = set()
    for c in columns:
        if not isinstance(c, str):
            raise SchemaError(
                f"{what}: indicators must be column names, not {c!r}", field="indicators"
            )
        if c in seen:
            raise SchemaError(f"{what}: indicators names {c!r} twice", field=c)
        seen.add(c)
        if c not in table.column_names:
            raise _unknown_column(c, table, what)
        if not COLUMN.match(c):
            raise SchemaError(
                f"{what}: column {c!r} is not an indicator column: indicator columns are named "
                "'<language>.<code>' (e.g. 'cin.4B'), so that draft rules can name them",
                field=c,
            )
        if _kind(table, c) is None:
            raise SchemaError(
                f"{what}: column {c!r} is {table.schema.field(c).type}; an indicator must be a "
                "flag (bool), a rating (integer 0-3) or a category (string)",
                field=c,
            )
    if not columns:
        raise SchemaError(
            f"{what}: indicators is empty; name at least three columns", field="indicators"
        )
    return sorted(columns)


def _first_bad(table: pa.Table, mask: Bools) -> str:
    row = int(np.flatnonzero(mask)[0])
    if "case_id" in table.column_names:
        return f"case {table.column('case_id')[row].as_py()!r} (row {row + 1})"
    return f"row {row + 1}"


def _item(table: pa.Table, column: str, kind: str, what: str) -> Item:
    col = table.column(column)
    if kind == FLAG:
        data = pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False)
        return Item(column=column, kind=kind, levels=(), data=np.asarray(data, dtype=np.float64))
    if kind == RATING:
        data = np.asarray(
            pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
        )
        bad = ~np.isnan(data) & ~np.isin(data, (0.0, 1.0, 2.0, 3.0))
        if bad.any():
            value = data[bad][0]
            raise SchemaError(
                f"{what}: column {column!r}, {_first_bad(table, bad)}: rating {value:g} is not "
                "0, 1, 2 or 3; correct the value, or leave it empty if it is not known",
                field=column,
            )
        return Item(column=column, kind=kind, levels=(), data=data)
    text = col.cast(col.type.value_type) if pa.types.is_dictionary(col.type) else col
    text = pc.cast(text, pa.string())
    levels = tuple(sorted(v for v in pc.unique(text).to_pylist() if v is not None))
    if len(levels) > MAX_LEVELS:
        raise SchemaError(
            f"{what}: column {column!r} has {len(levels)} different values; a category indicator "
            f"may have at most {MAX_LEVELS}: group its values, or leave it out of indicators",
            field=column,
        )
    index = pc.index_in(text, value_set=pa.array(levels, pa.string()))
    data = np.asarray(pc.cast(index, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    return Item(column=column, kind=kind, levels=levels, data=data)


def select(
    table: pa.Table, indicators: str | Sequence[str] | None, what: str
) -> tuple[list[Item], list[tuple[str, str]]]:
    """The items to model, and the columns left out with the reason.

    ``indicators`` is ``None`` (every flag and rating column), a language name (its flag and
    rating columns) or a list of columns (flags, ratings or categories). Columns with no
    value at all, or only one value, carry no information and are left out.
    """
    items: list[Item] = []
    dropped: list[tuple[str, str]] = []
    for column in _columns(table, indicators, what):
        kind = _kind(table, column)
        assert kind is not None
        item = _item(table, column, kind, what)
        observed = item.data[~np.isnan(item.data)]
        if observed.size == 0:
            dropped.append((column, "no case has a value"))
        elif np.all(observed == observed[0]):
            dropped.append((column, "every case with a value has the same value"))
        else:
            items.append(item)
    return items, dropped


def _quote(value: str) -> str:
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    raise SchemaError(
        f"category value {value!r} has both kinds of quote and cannot be written in a rule"
    )


def events(item: Item) -> list[Event]:
    """The yes/no statements about ``item`` that hold for some cases but not all."""
    known = ~np.isnan(item.data)
    data = np.where(known, item.data, -1.0)
    out: list[Event] = []
    if item.kind == FLAG:
        out.append(
            Event(
                column=item.column,
                text=item.column,
                negation=f"not {item.column}",
                value=data == 1.0,
                known=known,
            )
        )
    elif item.kind == RATING:
        out.extend(
            Event(
                column=item.column,
                text=f"{item.column} >= {t}",
                negation=f"{item.column} < {t}",
                value=data >= t,
                known=known,
            )
            for t in (1, 2, 3)
        )
    else:
        for i, level in enumerate(item.levels):
            q = _quote(level)
            out.append(
                Event(
                    column=item.column,
                    text=f"{item.column} == {q}",
                    negation=f"{item.column} != {q}",
                    value=data == i,
                    known=known,
                )
            )
    return [e for e in out if 0 < int(e.value[e.known].sum()) < int(e.known.sum())]
