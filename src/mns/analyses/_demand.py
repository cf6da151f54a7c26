"""Which cases need each plan service: the cells :func:`mns.capacity` and :func:`mns.budget`
count.

A case needs a service when its need group is one the plan offers the service to and it meets
the service's threshold. Both analyses read the same cells: the cases and their weight by need
group, and by need group and each service's threshold result (true, false or unknown). A batch
is grouped once for every service, in a few integer counts, and each analysis adds up the
cells it wants afterwards; counting a column per service per case cost most of a full audit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from mns import _tables, aggregate
from mns._tables import TableLike
from mns.aggregate import Measure, Spec
from mns.analyses import _common as common
from mns.analyses.weighting import Weighting
from mns.plan.model import Plan, Service
from mns.rules.bits import Bitmap, Truth

#: How a batch's cells are merged: one row per need group with every case (``service``
#: null), and one per need group, service with a threshold and threshold result.
SPEC = Spec(
    keys=("need_group", "service", "meets"),
    measures=(Measure("n", "sum", "n"), Measure("w", "sum", "w"), Measure("w2", "sum", "w2")),
)

_RESULTS = [False, True, None]  # a threshold's result as a code: its position here
Ints = npt.NDArray[np.int64]
Numbers = npt.NDArray[Any]


def inputs(
    cases: TableLike, plan: Plan
) -> tuple[pa.Schema, TableLike, dict[str, str], list[Service]]:
    """The cases' schema (and a source that still yields every batch), each service's
    threshold column, the services by code."""
    schema, cases = common.peek(cases, "cases")
    _tables.require(
        schema.names, ["need_group"], "cases", "classify the cases first: mns.classify(cases, plan)"
    )
    thresholds = {s.code: f"threshold.{s.code}" for s in plan.services if s.threshold is not None}
    _tables.require(
        schema.names, list(thresholds.values()), "cases", "classify the cases with this plan first"
    )
    return schema, cases, thresholds, sorted(plan.services, key=lambda s: s.code)


@attrs.frozen
class Counter:
    """The ``prepare`` that turns a batch of classified cases into its cells, to be counted
    with :data:`SPEC`: each service's threshold column by its code. Equal counters make equal
    cells, so capacity and budget in one pass (:func:`mns.engines.together`) share them; it
    pickles, so it may run on a worker."""

    weighting: Weighting
    thresholds: tuple[tuple[str, str], ...]

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        column = batch.column("need_group")
        if not (pa.types.is_dictionary(column.type) and pa.types.is_string(column.type.value_type)):
            column = common.as_text(column)
        groups = aggregate.key_codes(column, "need_group")
        codes, size = groups.codes, len(groups.values)
        names = groups.values.cast(pa.string())
        n = np.bincount(codes, minlength=size)
        same = self.weighting.constant()  # then a cell's weight is its cases times it
        if same is not None:
            w: Any = None
            totals: tuple[Numbers, Numbers, Numbers] = (n, n * same[0], n * same[1])
        else:
            w, w2 = self.weighting.weights(batch)
            totals = (n, np.bincount(codes, w, size), np.bincount(codes, w2, size))
        out = [_cells(names, None, None, totals)]
        if not batch.num_rows:
            return out[0]
        # a cell per need group and threshold result: group code * 3 + result code
        of_cell = names.take(np.repeat(np.arange(size), len(_RESULTS)))
        results = pa.array(_RESULTS * size, pa.bool_())
        members = _Members(codes, size) if same is not None else None
        for service, name in self.thresholds:
            meets = batch.column(name)
            if members is not None and same is not None:
                counts = members.by_result(Truth.of(meets, len(meets)), n)
                sums: tuple[Numbers, Numbers, Numbers | None] = (counts, counts * same[0], None)
            else:
                cell = codes * len(_RESULTS) + _result_codes(meets)
                width = size * len(_RESULTS)
                sums = (np.bincount(cell, minlength=width), np.bincount(cell, w, width), None)
            out.append(_cells(of_cell, service, results, sums))
        return pa.RecordBatch.from_pydict(
            {name: pa.concat_arrays([b.column(name) for b in out]) for name in out[0].schema.names}
        )


def _result_codes(meets: pa.Array) -> Ints:
    """Each case's threshold result as the position of its value in :data:`_RESULTS`."""
    codes = np.asarray(meets.fill_null(False).to_numpy(zero_copy_only=False), np.int64)
    if meets.null_count:
        codes[np.asarray(meets.is_null().to_numpy(zero_copy_only=False))] = 2
    return codes


class _Members:
    """Each need group's cases as a packed bitmap, so that a service's threshold results are
    counted per group with a few bit counts instead of a pass over the cases."""

    def __init__(self, codes: Ints, size: int) -> None:
        words = -(-len(codes) // 64)
        bits = np.zeros((size, words * 8), np.uint8)
        member = codes == np.arange(size)[:, None]
        bits[:, : -(-len(codes) // 8)] = np.packbits(member, axis=1, bitorder="little")
        self.bits = bits.view(np.uint64)

    def count(self, rows: Bitmap) -> Ints:
        """The cases of each group among ``rows`` (bits past the cases are cleared by the
        groups' bitmaps)."""
        padded = np.zeros(self.bits.shape[1] * 8, np.uint8)
        padded[: len(rows)] = rows
        ones: Ints = np.bitwise_count(self.bits & padded.view(np.uint64)).sum(
            axis=1, dtype=np.int64
        )
        return ones

    def by_result(self, meets: Truth, cases: Ints) -> Ints:
        """The cases of each group and result, in the order of the cells."""
        true, false = self.count(meets.true), self.count(meets.false)
        return np.stack([false, true, cases - true - false], axis=1).ravel()


def _cells(
    groups: pa.Array,
    service: str | None,
    meets: pa.Array | None,
    sums: tuple[Numbers, Numbers, Numbers | None],
) -> pa.RecordBatch:
    """The non-empty cells (the ``groups`` and ``meets`` of each cell; ``sums``: its cases,
    their weight and weight2) as :data:`SPEC`'s columns."""
    n, w, w2 = sums
    kept = np.flatnonzero(n)
    return pa.RecordBatch.from_pydict(
        {
            "need_group": groups.take(kept),
            "service": pa.array([service] * len(kept), pa.string()),
            "meets": pa.nulls(len(kept), pa.bool_()) if meets is None else meets.take(kept),
            "n": pa.array(n[kept], pa.int64()),
            "w": pa.array(w[kept], pa.float64()),
            "w2": pa.array(np.zeros(len(kept)) if w2 is None else w2[kept], pa.float64()),
        }
    )


@attrs.frozen
class Demand:
    """A run's cells, merged (:data:`SPEC`'s final state), read by service."""

    totals: dict[str | None, tuple[int, float, float]]  # need group -> cases, weight, weight2
    cells: dict[tuple[str, str | None, bool | None], tuple[int, float]]

    @classmethod
    def of(cls, state: pa.Table) -> Demand:
        totals: dict[str | None, tuple[int, float, float]] = {}
        cells: dict[tuple[str, str | None, bool | None], tuple[int, float]] = {}
        for row in state.to_pylist():
            n, w = int(row["n"] or 0), float(row["w"] or 0.0)
            if row["service"] is None:
                totals[row["need_group"]] = (n, w, float(row["w2"] or 0.0))
            else:
                cells[(row["service"], row["need_group"], row["meets"])] = (n, w)
        return cls(totals, cells)

    def weight(self) -> tuple[float, float]:
        """The weight of every case, and its weight squared times (1 - sampling fraction)."""
        return (
            sum(w for _, w, _ in self.totals.values()),
            sum(w2 for _, _, w2 in self.totals.values()),
        )

    def of_service(self, service: Service) -> Iterator[tuple[str | None, bool | None, int, float]]:
        """Every cell of ``service``: need group, threshold result (true for every case of a
        service without a threshold), cases and weight."""
        if service.threshold is None:
            for group, (n, w, _) in self.totals.items():
                yield group, True, n, w
            return
        for (code, group, meets), (n, w) in self.cells.items():
            if code == service.code:
                yield group, meets, n, w
