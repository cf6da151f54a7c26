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
from mns.rules.bits import Truth

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
        # every case by group (no service, no result), then a cell per group, service and
        # threshold result: group code * 3 + result code
        width = size * len(_RESULTS)
        unset = len(self.thresholds)  # the service of the totals: none
        blocks = [(np.arange(size), np.full(size, len(_RESULTS)), unset, totals)]
        cell_group = np.repeat(np.arange(size), len(_RESULTS))
        cell_result = np.tile(np.arange(len(_RESULTS)), size)
        columns = [batch.column(name) for _, name in self.thresholds]
        if same is not None:  # every service's cells by bit counts, at once
            counts = _by_result(codes, size, columns, n)
            for i, cells in enumerate(counts):
                sums = (cells, cells * same[0], np.zeros(width))
                blocks.append((cell_group, cell_result, i, sums))
        else:
            for i, meets in enumerate(columns):
                cell = codes * len(_RESULTS) + _result_codes(meets)
                found = np.bincount(cell, minlength=width)
                sums = (found, np.bincount(cell, w, width), np.zeros(width))
                blocks.append((cell_group, cell_result, i, sums))
        return self._cells(names, blocks)

    def _cells(self, names: pa.Array, blocks: list[Any]) -> pa.RecordBatch:
        """The non-empty cells of ``blocks`` (each: the group and result code of its cells,
        the service's position, and the cells' cases, weight and weight2) as :data:`SPEC`'s
        columns."""
        columns = zip(*((g, r, np.full(len(g), i), *sums) for g, r, i, sums in blocks), strict=True)
        group, result, service, n, w, w2 = (np.concatenate(c) for c in columns)
        kept = np.flatnonzero(n)
        services = pa.array([code for code, _ in self.thresholds] + [None], pa.string())
        return pa.RecordBatch.from_pydict(
            {
                "need_group": names.take(group[kept]),
                "service": services.take(service[kept]),
                "meets": pa.array([*_RESULTS, None], pa.bool_()).take(result[kept]),
                "n": pa.array(n[kept], pa.int64()),
                "w": pa.array(w[kept], pa.float64()),
                "w2": pa.array(w2[kept], pa.float64()),
            }
        )


def _result_codes(meets: pa.Array) -> Ints:
    """Each case's threshold result as the position of its value in :data:`_RESULTS`."""
    codes = np.asarray(meets.fill_null(False).to_numpy(zero_copy_only=False), np.int64)
    if meets.null_count:
        codes[np.asarray(meets.is_null().to_numpy(zero_copy_only=False))] = 2
    return codes


_WORDS = 1 << 16  # 64-bit words a bit count takes at once (512 KB: they stay in cache)


def _by_result(codes: Ints, size: int, columns: list[pa.Array], cases: Ints) -> Ints:
    """For each threshold column, the cases of each group and result in the order of the
    cells (one row a column): each group's cases and each result's are packed bitmaps, so
    a cell is the bit count of two bitmaps ANDed, for every group and column at once."""
    rows = len(codes)
    if not rows:
        return np.zeros((len(columns), size * len(_RESULTS)), np.int64)
    nbytes, words = -(-rows // 8), -(-rows // 64)
    groups = np.zeros((size, words * 8), np.uint8)
    groups[:, :nbytes] = np.packbits(codes == np.arange(size)[:, None], axis=1, bitorder="little")
    true = np.zeros((len(columns), words * 8), np.uint8)
    false = np.zeros_like(true)
    for i, column in enumerate(columns):
        meets = Truth.of(column, rows)
        true[i, :nbytes] = meets.true[:nbytes]
        false[i, :nbytes] = meets.false[:nbytes]
    members = groups.view(np.uint64)[None, :, :]
    out = np.empty((len(columns), size, len(_RESULTS)), np.int64)
    step = max(1, _WORDS // max(1, size * words))  # columns a bit count takes at once
    for start in range(0, len(columns), step):
        part = slice(start, start + step)
        for result, bits in ((1, true), (0, false)):
            held = members & bits[part].view(np.uint64)[:, None, :]
            out[part, :, result] = np.bitwise_count(held).sum(axis=2, dtype=np.int64)
    out[:, :, 2] = cases[None, :] - out[:, :, 0] - out[:, :, 1]  # neither: unknown
    return out.reshape(len(columns), size * len(_RESULTS))


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
