"""Mergeable partial aggregates: the one engine every streaming analysis runs on.

An analysis says *what* to count in a :class:`Spec` (group-by keys and measures); the engine
computes, for any piece of the data, a small **partial state** (a table: one row per key
combination seen, one column per measure), **merges** states from any number of pieces, and
**finalises** the merged state into a sorted result with its ratios (means, shares). The
kinds of measure and how each merges are declared once, in :data:`KINDS`::

    kind    per piece                    merge   finalise
    count   rows                         sum     -
    valid   non-null values of a column  sum     denominators of shares and means
    true    true values (booleans)       sum     numerators of shares
    sum     sum of non-null values       sum     numerators of means
    min     smallest non-null value      min     -
    max     largest non-null value       max     -

Because every kind merges by sum, min or max, the result does not depend on how the rows were
split: one table, a stream of record batches, a file larger than memory, a process pool or a
Dask cluster (``partial`` per partition, ``merge`` of the states, ``finalise`` once) give the
same numbers (exactly, for counts and integer sums; to rounding, for sums of floats)::

    spec = Spec(keys=("need_group",), measures=(Measure("cases", "count"),))
    states = [partial(spec, batch) for batch in table.to_batches()]
    result = finalise(spec, merge(spec, states))    # == mns.engines.run({"x": spec}, table)["x"]

States are ordinary Arrow tables, so they pickle and travel between processes.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final, TypeAlias

import attrs
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from mns._tables import require
from mns.errors import SchemaError

__all__ = [
    "KINDS",
    "KeyCodes",
    "Measure",
    "MeasureKind",
    "Prepare",
    "Ratio",
    "Spec",
    "compact",
    "finalise",
    "key_codes",
    "merge",
    "partial",
    "partials",
    "sort_indices",
]

Ints = npt.NDArray[np.int64]
#: A batch ready to be counted; a shared pass (:func:`mns.engines.together`) has one batch
#: for each of its runs, by the prefix of that run's spec names.
Prepared: TypeAlias = "pa.RecordBatch | Mapping[str, pa.RecordBatch]"
#: What adds derived columns to each batch before it is counted (``prepare=``).
Prepare = Callable[[pa.RecordBatch], Prepared]

#: Above this many key combinations per row group, slots are numbered by sorting instead.
_DIRECT_SLOTS: Final = 1 << 22
#: Group-by slots up to which boolean measures are counted on packed bitmaps.
_BITMAP_SLOTS: Final = 64


@attrs.frozen(kw_only=True)
class MeasureKind:
    """One kind of measure: what it needs and how partial states of it merge."""

    name: str
    merge: str  #: the Arrow hash aggregation that combines partial states
    needs_column: bool
    description: str


#: The declarative table of measure kinds (see the module docstring).
KINDS: Final[Mapping[str, MeasureKind]] = types.MappingProxyType(
    {
        k.name: k
        for k in (
            MeasureKind(
                name="count", merge="sum", needs_column=False, description="rows in the group"
            ),
            MeasureKind(
                name="valid", merge="sum", needs_column=True, description="non-null values"
            ),
            MeasureKind(name="true", merge="sum", needs_column=True, description="true values"),
            MeasureKind(
                name="sum", merge="sum", needs_column=True, description="sum of non-null values"
            ),
            MeasureKind(name="min", merge="min", needs_column=True, description="smallest value"),
            MeasureKind(name="max", merge="max", needs_column=True, description="largest value"),
        )
    }
)


def _kind(instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if value not in KINDS:
        raise ValueError(
            f"Measure {instance.name!r}: kind {value!r} is not one of {', '.join(KINDS)}"
        )


@attrs.frozen
class Measure:
    """One output column of a partial state: ``kind`` of ``column`` (none for ``count``)."""

    name: str
    kind: str = attrs.field(validator=_kind)
    column: str | None = None

    def __attrs_post_init__(self) -> None:
        needs = KINDS[self.kind].needs_column
        if needs and self.column is None:
            raise ValueError(f"Measure {self.name!r}: kind {self.kind!r} needs a column")
        if not needs and self.column is not None:
            raise ValueError(f"Measure {self.name!r}: kind {self.kind!r} takes no column")


@attrs.frozen
class Ratio:
    """A derived column computed when finalising: ``numerator / denominator`` (null when the
    denominator is 0). Means are ``sum / valid``; shares ``true / valid`` or ``count / count``."""

    name: str
    numerator: str
    denominator: str


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _measures(value: Iterable[Measure]) -> tuple[Measure, ...]:
    return tuple(value)


def _ratios(value: Iterable[Ratio]) -> tuple[Ratio, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class Spec:
    """What to aggregate: group-by ``keys``, ``measures`` and derived ``ratios``."""

    keys: tuple[str, ...] = attrs.field(converter=_strings)
    measures: tuple[Measure, ...] = attrs.field(converter=_measures)
    ratios: tuple[Ratio, ...] = attrs.field(default=(), converter=_ratios)

    def __attrs_post_init__(self) -> None:
        names = [*self.keys, *(m.name for m in self.measures), *(r.name for r in self.ratios)]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"Spec: column names used twice: {', '.join(dupes)}")
        measures = {m.name for m in self.measures}
        for r in self.ratios:
            for part in (r.numerator, r.denominator):
                if part not in measures:
                    raise ValueError(f"Spec: ratio {r.name!r} names unknown measure {part!r}")

    @property
    def columns(self) -> tuple[str, ...]:
        """The input columns this spec reads, in order, without repeats."""
        seen = dict.fromkeys([*self.keys, *(m.column for m in self.measures if m.column)])
        return tuple(seen)


def compact(data: pa.RecordBatch | pa.Table) -> pa.RecordBatch | pa.Table:
    """``data`` with each dictionary column's indices narrowed to the smallest integer type
    that holds its dictionary (int8 up to 126 values, int16 up to 32,766): the same values in
    a quarter or half of the memory, for tables kept in memory across several analyses."""
    fields, columns = [], []
    for field, column in zip(data.schema, data.columns, strict=True):
        typ = field.type
        if pa.types.is_dictionary(typ):
            size = max((len(c.dictionary) for c in _chunks(column)), default=0)
            index = pa.int8() if size < 127 else pa.int16() if size < 32767 else typ.index_type
            if index.bit_width < typ.index_type.bit_width:
                typ = pa.dictionary(index, typ.value_type)
        fields.append(field.with_type(typ))
        columns.append(column if typ == field.type else column.cast(typ))
    schema = pa.schema(fields, metadata=data.schema.metadata)
    if isinstance(data, pa.RecordBatch):
        return pa.RecordBatch.from_arrays(columns, schema=schema)
    return pa.Table.from_arrays(columns, schema=schema)


def _chunks(column: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    return list(column.chunks) if isinstance(column, pa.ChunkedArray) else [column]


# --------------------------------------------------------------------------------------
# Grouping one batch


@attrs.define
class KeyCodes:
    """One key column of a batch as integer codes: ``codes[i]`` indexes ``values``."""

    codes: npt.NDArray[np.int64]
    values: pa.Array  # the key value of each code (the last may be null)


def key_codes(column: pa.Array, name: str) -> KeyCodes:
    """``column`` (a group-by key named ``name``) as integer codes, nulls the last code."""
    if pa.types.is_dictionary(column.type):
        dictionary = column.dictionary
        card = len(dictionary)
        indices = column.indices
        if indices.null_count:
            indices = pc.fill_null(indices, card)
        codes = np.asarray(indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        values = pa.concat_arrays([dictionary, pa.nulls(1, dictionary.type)])
        return KeyCodes(codes=codes, values=values)
    if pa.types.is_boolean(column.type):
        as_int = pc.cast(column, pa.int8())
        if as_int.null_count:
            as_int = pc.fill_null(as_int, 2)
        codes = np.asarray(as_int.to_numpy(zero_copy_only=False), dtype=np.int64)
        return KeyCodes(codes=codes, values=pa.array([False, True, None], pa.bool_()))
    if pa.types.is_nested(column.type):
        raise SchemaError(
            f"column {name!r} is {column.type}; it cannot be a group-by key", field=name
        )
    return key_codes(pc.dictionary_encode(column), name)


@attrs.define
class _Groups:
    """The rows of one batch numbered by key combination (slot)."""

    codes: npt.NDArray[np.int64]
    slots: int
    keys: dict[str, pa.Array]  # key values per slot
    counts: Ints
    masks: npt.NDArray[np.uint64] | None = None  # packed membership bitmaps of the used slots
    used: npt.NDArray[np.intp] | None = None  # the slots with rows
    memo: dict[bytes, Ints] = attrs.field(factory=dict)  # popcounts by bitmap content

    def bitmaps(self) -> npt.NDArray[np.uint64]:
        """One packed bitmap (64 rows a word) per slot with rows: bit i = row i is in it."""
        if self.masks is None:
            n = len(self.codes)
            words = (n + 63) // 64
            self.used = np.flatnonzero(self.counts)
            masks = np.zeros((len(self.used), words), dtype=np.uint64)
            as_bytes = masks.view(np.uint8)
            for k, slot in enumerate(self.used.tolist()):
                packed = np.packbits(self.codes == slot, bitorder="little")
                as_bytes[k, : len(packed)] = packed
            self.masks = masks
        return self.masks

    def popcount(self, bits: npt.NDArray[np.uint64]) -> Ints:
        """How many of the set bits of ``bits`` fall in each slot. Bitmaps seen before (the
        validity of columns missing on the same rows, as the CIN factors are for cases with
        no assessment) are counted once."""
        masks = self.bitmaps()
        assert self.used is not None
        key = bits.tobytes()
        found = self.memo.get(key)
        if found is None:
            found = np.zeros(self.slots, dtype=np.int64)
            found[self.used] = _bit_counts(np.bitwise_and(masks, bits))
            self.memo[key] = found
        return found


_BYTE_BITS = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def _bit_counts(words: npt.NDArray[np.uint64]) -> Ints:
    """Set bits per row of a 2-D array of 64-bit words."""
    if hasattr(np, "bitwise_count"):  # NumPy 2
        counts: Ints = np.bitwise_count(words).sum(axis=1, dtype=np.int64)
        return counts
    as_bytes = words.view(np.uint8).reshape(words.shape[0], -1)  # pragma: no cover - NumPy 1
    return _BYTE_BITS[as_bytes].sum(axis=1, dtype=np.int64)  # type: ignore[no-any-return]  # pragma: no cover


class _Cache:
    """Work shared by the specs computed on one batch."""

    def __init__(self, batch: pa.RecordBatch) -> None:
        self.batch = batch
        self.codes: dict[str, KeyCodes] = {}
        self.groups: dict[tuple[str, ...], _Groups] = {}
        self.valid: dict[str, npt.NDArray[np.bool_]] = {}
        self.bits: dict[str, tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64] | None]] = {}

    def column(self, name: str) -> pa.Array:
        try:
            return self.batch.column(name)
        except KeyError:
            require(self.batch.schema.names, [name], "table")
            raise

    def keep_only(self, specs: Iterable[Spec]) -> None:
        """Forget the work no spec of ``specs`` (those still to come) can use: a batch's
        codes and groupings are as long as the batch, and a profile has a spec per column."""
        later = list(specs)
        groups = {tuple(s.keys) for s in later}
        columns = {c for s in later for c in s.columns}
        self.groups = {k: v for k, v in self.groups.items() if k in groups}
        self.codes = {k: v for k, v in self.codes.items() if k in columns}
        self.valid = {k: v for k, v in self.valid.items() if k in columns}
        self.bits = {k: v for k, v in self.bits.items() if k in columns}

    def column_codes(self, name: str) -> KeyCodes:
        found = self.codes.get(name)
        if found is None:
            found = self.codes[name] = key_codes(self.column(name), name)
        return found

    def group(self, keys: tuple[str, ...]) -> _Groups:
        found = self.groups.get(keys)
        if found is None:
            found = self.groups[keys] = self._group(keys)
        return found

    def _group(self, keys: tuple[str, ...]) -> _Groups:
        n = self.batch.num_rows
        if not keys:
            codes = np.zeros(n, dtype=np.int64)
            return _Groups(codes=codes, slots=1, keys={}, counts=np.array([n], dtype=np.int64))
        parts = [self.column_codes(k) for k in keys]
        sizes = [len(p.values) for p in parts]
        total = 1
        for s in sizes:
            total *= s
        codes = parts[0].codes
        for part, size in zip(parts[1:], sizes[1:], strict=True):
            codes = codes * size + part.codes
        if total <= max(_DIRECT_SLOTS, 2 * n):
            counts = np.bincount(codes, minlength=total).astype(np.int64)
            used = np.flatnonzero(counts)
            if len(used) * 4 < total and total > 1024:  # sparse: renumber the slots in use
                renumber = np.full(total, -1, dtype=np.int64)
                renumber[used] = np.arange(len(used), dtype=np.int64)
                codes = renumber[codes]
                counts = counts[used]
                slot_codes = used
            else:
                slot_codes = np.arange(total, dtype=np.int64)
        else:
            slot_codes, codes = np.unique(codes, return_inverse=True)
            codes = codes.astype(np.int64)
            counts = np.bincount(codes, minlength=len(slot_codes)).astype(np.int64)
        values: dict[str, pa.Array] = {}
        rest = slot_codes
        for key, part, size in reversed(list(zip(keys, parts, sizes, strict=True))):
            values[key] = part.values.take(pa.array(rest % size))
            rest = rest // size
        return _Groups(
            codes=codes, slots=len(slot_codes), keys={k: values[k] for k in keys}, counts=counts
        )

    def valid_mask(self, name: str) -> npt.NDArray[np.bool_]:
        found = self.valid.get(name)
        if found is None:
            found = np.asarray(
                self.column(name).is_valid().to_numpy(zero_copy_only=False), dtype=bool
            )
            self.valid[name] = found
        return found

    def packed(self, name: str) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64] | None]:
        """A boolean column's values and validity as 64-bit words (bit i = row i)."""
        found = self.bits.get(name)
        if found is None:
            column = self.column(name)
            n = len(column)
            words = (n + 63) // 64
            if n == 0:
                self.bits[name] = (np.zeros(0, dtype=np.uint64), None)
                return self.bits[name]
            if column.offset % 8:
                column = pa.concat_arrays([column])  # realign the bitmaps
            start = column.offset // 8
            nbytes = (n + 7) // 8

            def words_of(buffer: pa.Buffer | None) -> npt.NDArray[np.uint64] | None:
                if buffer is None:
                    return None
                out = np.zeros(words, dtype=np.uint64)
                raw = np.frombuffer(buffer, dtype=np.uint8, count=nbytes, offset=start)
                out.view(np.uint8)[:nbytes] = raw
                return out

            validity, data = column.buffers()[:2]
            values = words_of(data)
            assert values is not None
            found = self.bits[name] = (values, words_of(validity) if column.null_count else None)
        return found


def _measure(cache: _Cache, groups: _Groups, measure: Measure) -> pa.Array:
    kind = measure.kind
    if kind == "count":
        return pa.array(groups.counts, pa.int64())
    name = measure.column
    assert name is not None
    column = cache.column(name)
    if (
        kind in ("true", "valid")
        and pa.types.is_boolean(column.type)
        and groups.slots <= _BITMAP_SLOTS
    ):
        values, validity = cache.packed(name)
        if kind == "valid":
            if validity is None:
                return pa.array(groups.counts, pa.int64())
            return pa.array(groups.popcount(validity), pa.int64())
        bits = values if validity is None else np.bitwise_and(values, validity)
        return pa.array(groups.popcount(bits), pa.int64())
    if kind == "valid":
        if column.null_count == 0:
            return pa.array(groups.counts, pa.int64())
        mask = cache.valid_mask(name)
        return pa.array(np.bincount(groups.codes[mask], minlength=groups.slots), pa.int64())
    if kind == "true":
        if not pa.types.is_boolean(column.type):
            raise SchemaError(
                f"column {name!r} is {column.type}; counting true values needs booleans", field=name
            )
        mask = np.asarray(pc.fill_null(column, False).to_numpy(zero_copy_only=False), dtype=bool)
        return pa.array(np.bincount(groups.codes[mask], minlength=groups.slots), pa.int64())
    if kind == "sum":
        return _sum(column, name, groups)
    return _extreme(column, name, groups, kind)


def _sum(column: pa.Array, name: str, groups: _Groups) -> pa.Array:
    typ = column.type
    if pa.types.is_boolean(typ) or pa.types.is_integer(typ):
        values = pc.fill_null(pc.cast(column, pa.int64()), 0).to_numpy(zero_copy_only=False)
        if values.size and int(np.abs(values).max()) * values.size >= 2**53:
            out = np.zeros(groups.slots, dtype=np.int64)
            np.add.at(out, groups.codes, values)
            return pa.array(out, pa.int64())
        sums = np.bincount(groups.codes, weights=values.astype(np.float64), minlength=groups.slots)
        return pa.array(np.rint(sums).astype(np.int64), pa.int64())
    if pa.types.is_floating(typ) or pa.types.is_decimal(typ):
        values = pc.fill_null(pc.cast(column, pa.float64()), 0.0).to_numpy(zero_copy_only=False)
        sums = np.bincount(groups.codes, weights=values, minlength=groups.slots)
        return pa.array(sums, pa.float64())
    raise SchemaError(
        f"column {name!r} is {typ}; only numbers and booleans can be summed", field=name
    )


def _extreme(column: pa.Array, name: str, groups: _Groups, kind: str) -> pa.Array:
    typ = column.type
    if pa.types.is_integer(typ) or pa.types.is_floating(typ):
        work_type = pa.float64() if pa.types.is_floating(typ) else pa.int64()
    elif pa.types.is_temporal(typ):
        work_type = pa.int64()
    else:
        raise SchemaError(f"column {name!r} is {typ}; {kind} needs numbers or dates", field=name)
    physical = (
        column.view(pa.int32() if pa.types.is_date32(typ) else pa.int64())
        if pa.types.is_temporal(typ)
        else column
    )
    values = np.asarray(pc.cast(physical, work_type).fill_null(0).to_numpy(zero_copy_only=False))
    valid = np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    codes, values = groups.codes[valid], values[valid]
    if work_type == pa.float64():
        init = np.full(groups.slots, np.inf if kind == "min" else -np.inf)
    else:
        info = np.iinfo(np.int64)
        init = np.full(groups.slots, info.max if kind == "min" else info.min, dtype=np.int64)
    (np.minimum if kind == "min" else np.maximum).at(init, codes, values)
    seen = np.bincount(codes, minlength=groups.slots) > 0
    out = pa.array(init, work_type, mask=~seen)
    if pa.types.is_temporal(typ):
        return out.cast(pa.int32() if pa.types.is_date32(typ) else pa.int64()).view(typ)
    return out.cast(typ)


def _partial(spec: Spec, cache: _Cache) -> pa.Table:
    groups = cache.group(spec.keys)
    columns: dict[str, pa.Array] = {}
    for key in spec.keys:
        values = groups.keys[key]
        if pa.types.is_dictionary(values.type):  # a dictionary of dictionaries: decode
            values = values.dictionary_decode()
        columns[key] = values
    for measure in spec.measures:
        columns[measure.name] = _measure(cache, groups, measure)
    table = pa.table(columns)
    if groups.slots and (groups.counts == 0).any():
        table = table.filter(pa.array(groups.counts > 0))
    return table


def partial(spec: Spec, batch: pa.RecordBatch) -> pa.Table:
    """The partial state of ``spec`` over one batch: one row per key combination present."""
    return _partial(spec, _Cache(batch))


def prepared_batches(batch: Prepared) -> list[pa.RecordBatch]:
    """The batches of a prepared batch (one, or one per run of a shared pass)."""
    return list(batch.values()) if isinstance(batch, Mapping) else [batch]


def partials(specs: Mapping[str, Spec], batch: Prepared) -> dict[str, pa.Table]:
    """The partial states of several specs over one batch, sharing the grouping work (a
    shared pass's batches: each with the specs named with its prefix)."""
    if isinstance(batch, Mapping):
        out: dict[str, pa.Table] = {}
        for prefix, part in batch.items():
            mine = {name: spec for name, spec in specs.items() if name.startswith(prefix)}
            out.update(partials(mine, part))
        return out
    cache = _Cache(batch)
    todo = list(specs.items())
    done: dict[str, pa.Table] = {}
    for i, (name, spec) in enumerate(todo):
        done[name] = _partial(spec, cache)
        cache.keep_only(s for _, s in todo[i + 1 :])
    return done


# --------------------------------------------------------------------------------------
# Merging and finalising


def _empty(spec: Spec, key_types: Mapping[str, pa.DataType] | None = None) -> pa.Table:
    fields = []
    for key in spec.keys:
        typ = (key_types or {}).get(key, pa.string())
        if pa.types.is_dictionary(typ):
            typ = typ.value_type
        fields.append(pa.field(key, typ))
    counted = ("count", "valid", "true")
    fields += [
        pa.field(m.name, pa.int64() if m.kind in counted else pa.float64()) for m in spec.measures
    ]
    return pa.schema(fields).empty_table()


def sort_indices(table: pa.Table, keys: Sequence[str]) -> pa.Array:
    """The order of ``table``'s rows by ``keys``, ascending, nulls last (pyarrow 25 takes the
    null placement per key; older versions for the whole sort)."""
    try:
        return pc.sort_indices(table, sort_keys=[(k, "ascending", "at_end") for k in keys])
    except (TypeError, ValueError, pa.ArrowInvalid):  # pragma: no cover - pyarrow < 25
        return pc.sort_indices(
            table, sort_keys=[(k, "ascending") for k in keys], null_placement="at_end"
        )


def _sort(table: pa.Table, keys: Sequence[str]) -> pa.Table:
    if not keys or table.num_rows < 2:
        return table
    return table.take(sort_indices(table, keys))


def merge(
    spec: Spec, states: Iterable[pa.Table], *, key_types: Mapping[str, pa.DataType] | None = None
) -> pa.Table:
    """One state from many: measures combined by their kind's merge, one row per key
    combination, sorted by key."""
    given = list(states)
    parts = [s for s in given if s.num_rows]
    names = [*spec.keys, *(m.name for m in spec.measures)]
    if not spec.keys:
        return _merge_scalar(spec, parts)
    if not parts:  # keep the key types of an empty state, if any
        return given[0].select(names) if given else _empty(spec, key_types)
    table = pa.concat_tables([p.select(names) for p in parts], promote_options="permissive")
    aggregations = [(m.name, KINDS[m.kind].merge) for m in spec.measures]
    grouped = table.group_by(list(spec.keys), use_threads=False).aggregate(aggregations)
    renamed = {f"{m.name}_{KINDS[m.kind].merge}": m.name for m in spec.measures}
    grouped = grouped.rename_columns([renamed.get(n, n) for n in grouped.column_names])
    return _sort(grouped.select(names), spec.keys)


_SCALAR: Final[Mapping[str, Callable[..., pa.Scalar]]] = {
    "sum": pc.sum,
    "min": pc.min,
    "max": pc.max,
}


def _merge_scalar(spec: Spec, parts: list[pa.Table]) -> pa.Table:
    """Merge the states of a spec without keys: always exactly one row."""
    empty = _empty(spec)
    row: dict[str, pa.Array] = {}
    for m in spec.measures:
        how = KINDS[m.kind].merge
        if parts:
            column = pa.chunked_array([p.column(m.name) for p in parts])
            value = _SCALAR[how](column).as_py()
            typ = column.type
        else:
            value, typ = None, empty.schema.field(m.name).type
        if value is None and m.kind in ("count", "valid", "true", "sum"):
            value = 0
        row[m.name] = pa.array([value], typ)
    return pa.table(row)


def finalise(spec: Spec, state: pa.Table) -> pa.Table:
    """The result: ``state`` (merged) sorted by key, with the spec's ratios added."""
    table = _sort(state, spec.keys)
    for ratio in spec.ratios:
        num = table.column(ratio.numerator).to_numpy(zero_copy_only=False).astype(np.float64)
        den = table.column(ratio.denominator).to_numpy(zero_copy_only=False).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            values = num / np.where(den == 0, 1.0, den)
        table = table.append_column(ratio.name, pa.array(values, pa.float64(), mask=~(den != 0)))
    return table
