"""Helpers shared by the analyses: group levels, weights, services received, output tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mns import _tables, aggregate
from mns._tables import TableLike
from mns.classification import UNASSIGNED, UNKNOWN
from mns.disclosure import Structure, describe
from mns.errors import MnsError, SchemaError
from mns.plan.model import Plan
from mns.records.model import Audit

WEIGHT: Final = "__weight"  #: the weight column added to batches
WEIGHT2: Final = "__weight2"  #: weight squared times (1 - sampling fraction), for the variance


def levels(plan: Plan | None, by: str | None, schema: pa.Schema | None = None) -> list[str]:
    """The groups every result lists, even when empty: the plan's need groups, then
    ``unassigned`` and ``unknown`` for the rules' grouping, or ``(not placed)`` and
    ``(not audited)`` for an audit group's (:func:`mns.assign`, read from ``schema``);
    only when grouping by ``need_group``."""
    from mns.grouping import PANEL_LEVELS, RULES, grouping_of

    if plan is None or by != "need_group":
        return []
    extra = [UNASSIGNED, UNKNOWN] if grouping_of(schema) == RULES else list(PANEL_LEVELS)
    return [g.code for g in plan.need_groups] + extra


def dense(observed: Iterable[Any], declared: Sequence[Any] = ()) -> list[Any]:
    """``declared`` in order, then the other observed values sorted (null last)."""
    seen = set(declared)
    rest = {v for v in observed if v not in seen}
    tail = sorted((v for v in rest if v is not None), key=str)
    return [*declared, *tail, *([None] if None in rest else [])]


def as_text(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Key values as strings: booleans as ``true``/``false``, the rest cast; nulls kept."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if pa.types.is_boolean(values.type):
        return pc.if_else(values, "true", "false")
    if pa.types.is_string(values.type):
        return values
    return pc.cast(values, pa.string())


def sort(table: pa.Table, keys: Sequence[str]) -> pa.Table:
    """``table`` sorted by ``keys`` (ascending, nulls last)."""
    if not keys or table.num_rows < 2:
        return table
    return table.take(aggregate.sort_indices(table, keys))


def finish(
    table: pa.Table,
    keys: Sequence[str],
    structure: Structure | None,
    *,
    not_applicable: Iterable[str] = (),
    analysis: str,
) -> pa.Table:
    """Sort by ``keys``, record the disclosure structure and which nulls mean "not applicable",
    and name the analysis in the schema metadata."""
    out = sort(table, keys)
    out = out.replace_schema_metadata(
        {**(out.schema.metadata or {}), b"mns.analysis": analysis.encode()}
    )
    if structure is None:
        return out
    return describe(out, structure, not_applicable=not_applicable)


# --------------------------------------------------------------------------------------
# Weights


@attrs.frozen(kw_only=True)
class Weighting:
    """How each sampled case stands for cases in the population.

    ``mode``: ``"none"`` (every case counts once), ``"fraction"`` (one sampling fraction),
    ``"strata"`` (a fraction per value of ``stratum``) or ``"column"`` (a weights column).
    """

    mode: str
    fraction: float | None = None
    strata: Mapping[str, float] = attrs.field(factory=dict)
    stratum: str | None = None
    column: str | None = None

    @property
    def weighted(self) -> bool:
        return self.mode != "none"

    @property
    def columns(self) -> tuple[str, ...]:
        """Input columns the weights are read from."""
        if self.mode == "strata" and self.stratum:
            return (self.stratum,)
        if self.mode == "column" and self.column:
            return (self.column,)
        return ()

    def add(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """``batch`` with the weight columns :data:`WEIGHT` and :data:`WEIGHT2`."""
        n = batch.num_rows
        if self.mode == "none":
            w = np.ones(n)
            f = np.zeros(n)
        elif self.mode == "fraction":
            assert self.fraction is not None
            w = np.full(n, 1.0 / self.fraction)
            f = np.full(n, self.fraction)
        elif self.mode == "strata":
            assert self.stratum is not None
            f = self._stratum_fractions(batch.column(self.stratum))
            w = 1.0 / f
        else:
            assert self.column is not None
            column = batch.column(self.column)
            if not (pa.types.is_floating(column.type) or pa.types.is_integer(column.type)):
                raise SchemaError(
                    f"weights column {self.column!r} is {column.type}, not a number",
                    field=self.column,
                )
            if column.null_count:
                raise MnsError(
                    f"weights column {self.column!r} has missing values; every case needs a weight",
                    field=self.column,
                )
            w = np.asarray(pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False))
            if (w <= 0).any() or not np.isfinite(w).all():
                bad = float(w[(w <= 0) | ~np.isfinite(w)][0])
                raise MnsError(
                    f"weights column {self.column!r} has weight {bad}; weights must be positive",
                    field=self.column,
                )
            f = np.zeros(n)
        return batch.append_column(WEIGHT, pa.array(w, pa.float64())).append_column(
            WEIGHT2, pa.array(w * w * (1.0 - f), pa.float64())
        )

    def _stratum_fractions(self, column: pa.Array) -> Any:
        """Each row's sampling fraction, looked up once per distinct stratum."""
        values = as_text(column)
        distinct = pc.unique(values)
        fractions = []
        for value in distinct.to_pylist():
            fraction = self.strata.get(value) if value is not None else None
            if fraction is None:
                fraction = self.fraction
            if fraction is None:
                known = ", ".join(sorted(self.strata))
                raise MnsError(
                    f"case in stratum {self.stratum} = {value!r} has no sampling fraction: the "
                    f"audit gives fractions for {known} and no overall sampling_fraction; add "
                    "it to Audit.strata",
                    field=self.stratum,
                )
            fractions.append(fraction)
        position = pc.index_in(values, value_set=distinct, skip_nulls=False)
        return np.asarray(fractions, dtype=np.float64)[position.to_numpy(zero_copy_only=False)]


def weighting(
    *,
    weights: str | None = None,
    audit: Audit | None = None,
    sampling_fraction: float | None = None,
    stratum: str = "cohort",
) -> Weighting:
    """The weighting the caller asked for (at most one of ``weights``, ``audit`` and
    ``sampling_fraction``)."""
    given = [
        name
        for name, v in (
            ("weights", weights),
            ("audit", audit),
            ("sampling_fraction", sampling_fraction),
        )
        if v is not None
    ]
    if len(given) > 1:
        raise ValueError(
            f"give one of weights=, audit= and sampling_fraction=, not {' and '.join(given)}"
        )
    if weights is not None:
        return Weighting(mode="column", column=weights)
    if sampling_fraction is not None:
        if not 0 < sampling_fraction <= 1:
            raise ValueError(f"sampling_fraction = {sampling_fraction} must be in (0, 1]")
        return Weighting(mode="fraction", fraction=sampling_fraction)
    if audit is not None:
        if audit.strata:
            return Weighting(
                mode="strata",
                strata=dict(audit.strata),
                fraction=audit.sampling_fraction,
                stratum=stratum,
            )
        if audit.sampling_fraction is not None:
            return Weighting(mode="fraction", fraction=audit.sampling_fraction)
        if audit.sample_size and audit.population_size:
            return Weighting(mode="fraction", fraction=audit.sample_size / audit.population_size)
        raise MnsError(
            f"audit {audit.name!r} gives no sampling fraction (sampling_fraction, strata, or "
            "sample_size with population_size)"
        )
    return Weighting(mode="none")


def years_of(audit: Audit | None, years: float | None) -> float:
    """How many years the sample frame covers: ``years`` if given, else the audit's period
    (whole months / 12 when it runs from a 1st to a month's end, else days / 365.25), else 1."""
    if years is not None:
        if not years > 0:
            raise ValueError(f"years = {years} must be positive")
        return float(years)
    if audit is None or audit.period_start is None or audit.period_end is None:
        return 1.0
    start, end = audit.period_start, audit.period_end
    if end < start:
        raise MnsError(f"audit {audit.name!r}: period_end {end} is before period_start {start}")
    after = end + dt.timedelta(days=1)
    if start.day == 1 and after.day == 1:
        months = (after.year - start.year) * 12 + (after.month - start.month)
        return months / 12.0
    return ((end - start).days + 1) / 365.25


# --------------------------------------------------------------------------------------
# Services received


def service_codes(plan: Plan | None) -> dict[str, list[str]]:
    """Record service code -> the plan services it counts as (empty without a plan)."""
    if plan is None:
        return {}
    out: dict[str, list[str]] = {}
    for service in plan.services:
        for code in service.received_as or (service.code,):
            out.setdefault(code, []).append(service.code)
    return out


def received(services: TableLike, plan: Plan | None) -> tuple[dict[str, pa.Array], list[str]]:
    """For each service, the distinct ``case_id``s that received it, and which of those
    services the plan does not have.

    With a plan, record codes count as the plan services that list them in ``received_as``
    (or have them as their code); record codes no plan service takes keep their own code
    (``record:<code>`` if that is a plan service's code) and are returned as not in the plan.
    Every plan service is present, if only with no cases. Without a plan, the record codes.
    """
    mapping = service_codes(plan)
    plan_codes = {s.code for s in plan.services} if plan is not None else set()
    pairs: dict[str, list[pa.Array]] = {}
    extra: set[str] = set()
    for batch in _tables.batches(services, ["case_id", "service"], what="services"):
        codes = as_text(batch.column("service"))
        ids = batch.column("case_id")
        if pa.types.is_dictionary(ids.type):
            ids = ids.dictionary_decode()
        table = pa.table({"case_id": ids, "service": codes})
        for code in pc.unique(codes).to_pylist():
            if code is None:
                continue
            targets = mapping.get(code)
            if targets is None:
                target = code if plan is None or code not in plan_codes else f"record:{code}"
                targets = [target]
                if plan is not None:
                    extra.add(target)
            chosen = table.filter(pc.equal(table.column("service"), code)).column("case_id")
            for target in targets:
                pairs.setdefault(target, []).append(chosen.combine_chunks())
    out: dict[str, pa.Array] = {}
    for code, arrays in pairs.items():
        out[code] = pc.unique(pa.concat_arrays(arrays).cast(pa.string()))
    for code in plan_codes:
        out.setdefault(code, pa.array([], pa.string()))
    return dict(sorted(out.items())), sorted(extra)


def received_flags(
    batch: pa.RecordBatch, sets: Mapping[str, pa.Array], prefix: str
) -> pa.RecordBatch:
    """``batch`` with a bool column ``<prefix><service>`` per service: the case received it."""
    ids = batch.column("case_id")
    if pa.types.is_dictionary(ids.type):
        ids = ids.dictionary_decode()
    if not pa.types.is_string(ids.type):
        ids = pc.cast(ids, pa.string())
    for code, members in sets.items():
        batch = batch.append_column(f"{prefix}{code}", pc.is_in(ids, value_set=members))
    return batch


def peek(source: TableLike, what: str) -> tuple[pa.Schema, TableLike]:
    """The schema of ``source`` and a source that still yields every batch (see
    :func:`mns._tables.peek`); a dataset is passed on whole, to run on its files."""
    from mns.engines import Dataset

    if isinstance(source, Dataset):
        return source.schema, source
    return _tables.peek(source, what)


def indicator_columns(schema: pa.Schema, exclude: Iterable[str] = ()) -> list[str]:
    """The indicator columns of a cases schema: ``<language>.<code>`` names, without the
    columns classification adds (``threshold.*``, ``need_group.*``)."""
    skip = set(exclude)
    out = []
    for field in schema:
        name = field.name
        if "." not in name or name in skip or name.startswith(("threshold.", "need_group.")):
            continue
        if pa.types.is_nested(field.type):
            continue
        out.append(name)
    return out
