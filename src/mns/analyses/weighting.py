"""``Weighting``: how each audited case stands for the cases of the year, one value that
every analysis takes.

An audit reads a sample; the planning tables speak of a year. A weighting says how far each
sampled case counts: once (:meth:`Weighting.unweighted`), for ``1 / f`` cases
(:meth:`Weighting.sampled`), for ``1 / f`` of its stratum (:meth:`Weighting.of` an audit
with strata), for its weights column's value (:meth:`Weighting.by_column`), or for itself
because every case of the year was audited (:meth:`Weighting.census`); and over how many
years the sample frame runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final, Literal

import attrs
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from mns.analyses._common import as_text
from mns.errors import MnsError, SchemaError
from mns.records.model import Audit

WEIGHT: Final = "__weight"  #: the weight column added to batches
WEIGHT2: Final = "__weight2"  #: weight squared times (1 - sampling fraction), for the variance

Mode = Literal["none", "fraction", "strata", "column"]
Floats = npt.NDArray[np.float64]


def _years(value: float | None) -> float | None:
    if value is not None and not value > 0:
        raise ValueError(f"years = {value} must be positive")
    return None if value is None else float(value)


@attrs.frozen(kw_only=True)
class Weighting:
    """How each sampled case stands for cases in the population, and over how many years.

    Build one with a constructor: :meth:`unweighted`, :meth:`census`, :meth:`sampled`,
    :meth:`by_column` or :meth:`of` (an :class:`~mns.Audit`). ``mode`` is ``"none"`` (every
    case counts once), ``"fraction"`` (one sampling fraction), ``"strata"`` (a fraction per
    value of ``stratum``) or ``"column"`` (a weights column); ``years`` is the period the
    sample frame covers (None: one year).
    """

    mode: Mode
    fraction: float | None = None
    strata: Mapping[str, float] = attrs.field(factory=dict)
    stratum: str | None = None
    column: str | None = None
    years: float | None = attrs.field(default=None, converter=_years)

    @classmethod
    def unweighted(cls) -> Weighting:
        """Every case counts once (the default of the analyses that describe the cases)."""
        return cls(mode="none")

    @classmethod
    def census(cls, *, years: float | None = None) -> Weighting:
        """The cases are every case of the period: each stands for itself."""
        return cls(mode="fraction", fraction=1.0, years=years)

    @classmethod
    def sampled(cls, fraction: float, *, years: float | None = None) -> Weighting:
        """Each case stands for ``1 / fraction`` cases (``fraction`` in (0, 1])."""
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)):
            raise TypeError(f"sampling fraction must be a number, not {fraction!r}")
        if not 0 < fraction <= 1:
            raise ValueError(f"sampling fraction = {fraction} must be in (0, 1]")
        return cls(mode="fraction", fraction=float(fraction), years=years)

    @classmethod
    def by_column(cls, column: str, *, years: float | None = None) -> Weighting:
        """Each case stands for its ``column``'s value (positive numbers)."""
        if not isinstance(column, str) or not column:
            raise TypeError(f"weights column must be a column name, not {column!r}")
        return cls(mode="column", column=column, years=years)

    @classmethod
    def of(cls, audit: Audit, *, stratum: str = "cohort", years: float | None = None) -> Weighting:
        """The weighting an audit records: its fractions per value of ``stratum`` when it
        has strata, else its sampling fraction (given, or sample size over population
        size). ``years`` defaults to the audit's period (whole months / 12 when it runs from
        a 1st to a month's end, else days / 365.25)."""
        if not isinstance(audit, Audit):
            raise TypeError(f"Weighting.of needs an mns.Audit, not {type(audit).__name__}")
        span = years if years is not None else _period_years(audit)
        if audit.strata:
            return cls(
                mode="strata",
                strata=dict(audit.strata),
                fraction=audit.sampling_fraction,
                stratum=stratum,
                years=span,
            )
        if audit.sampling_fraction is not None:
            return cls(mode="fraction", fraction=audit.sampling_fraction, years=span)
        if audit.sample_size and audit.population_size:
            fraction = audit.sample_size / audit.population_size
            return cls(mode="fraction", fraction=fraction, years=span)
        raise MnsError(
            f"audit {audit.name!r} gives no sampling fraction (sampling_fraction, strata, or "
            "sample_size with population_size)",
            item=audit.name,
        )

    @property
    def weighted(self) -> bool:
        """Whether the cases stand for a year's (any mode but ``"none"``)."""
        return self.mode != "none"

    @property
    def span(self) -> float:
        """The years the sample frame covers (1 when not given)."""
        return 1.0 if self.years is None else self.years

    @property
    def columns(self) -> tuple[str, ...]:
        """Input columns the weights are read from."""
        if self.mode == "strata" and self.stratum:
            return (self.stratum,)
        if self.mode == "column" and self.column:
            return (self.column,)
        return ()

    def describe(self) -> str:
        """How the cases were scaled, for a table's ``mns.scaling`` metadata."""
        if self.mode == "fraction" and self.fraction == 1.0:
            return "census"
        if self.mode == "fraction":
            return f"sampling fraction {self.fraction:.3f}"
        if self.mode == "strata":
            return "strata"
        if self.mode == "column":
            return f"weights column {self.column!r}"
        return "unweighted"

    def add(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """``batch`` with the weight columns :data:`WEIGHT` and :data:`WEIGHT2`."""
        w, w2 = self.weights(batch)
        return batch.append_column(WEIGHT, pa.array(w, pa.float64())).append_column(
            WEIGHT2, pa.array(w2, pa.float64())
        )

    def weights(self, batch: pa.RecordBatch) -> tuple[Floats, Floats]:
        """Each case's weight, and its weight squared times (1 - its sampling fraction)."""
        n = batch.num_rows
        same = self.constant()
        if same is not None:
            return np.full(n, same[0]), np.full(n, same[1])
        if self.mode == "strata":
            assert self.stratum is not None
            f = self._stratum_fractions(batch.column(self.stratum))
            w = 1.0 / f
        else:
            w = self._column_weights(batch)
            f = np.zeros(n)
        return w, w * w * (1.0 - f)

    def constant(self) -> tuple[float, float] | None:
        """The weight and weight2 of every case, when they are the same for all (no
        weighting, or one sampling fraction); else None."""
        if self.mode == "none":  # as a sample of an infinite population: f = 0
            return 1.0, 1.0
        if self.mode == "fraction":
            assert self.fraction is not None
            w = 1.0 / self.fraction
            return w, w * w * (1.0 - self.fraction)
        return None

    def _column_weights(self, batch: pa.RecordBatch) -> Any:
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
        return w

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


def _period_years(audit: Audit) -> float | None:
    if audit.period_start is None or audit.period_end is None:
        return None
    start, end = audit.period_start, audit.period_end
    if end < start:
        raise MnsError(
            f"audit {audit.name!r}: period_end {end} is before period_start {start}",
            item=audit.name,
        )
    after = end + dt.timedelta(days=1)
    if start.day == 1 and after.day == 1:
        months = (after.year - start.year) * 12 + (after.month - start.month)
        return months / 12.0
    return ((end - start).days + 1) / 365.25


def or_unweighted(weighting: Weighting | None) -> Weighting:
    """``weighting``, or every case once when None (the analyses that describe the cases)."""
    if weighting is None:
        return Weighting.unweighted()
    if not isinstance(weighting, Weighting):
        raise TypeError(
            f"weighting must be an mns.Weighting (e.g. Weighting.of(audit)), not "
            f"{type(weighting).__name__}"
        )
    return weighting


def for_a_year(weighting: Weighting | None, what: str) -> Weighting:
    """The weighting of an analysis that speaks of a year: one must be given."""
    chosen = or_unweighted(weighting)
    if not chosen.weighted:
        raise ValueError(
            f"{what} needs to know how the cases stand for the year's: give weighting="
            "mns.Weighting.of(audit) (or the year's referrals to run_audit), "
            "Weighting.sampled(fraction) or Weighting.by_column(name), or Weighting.census() "
            "when the cases are every case of the year (mns audit --census)"
        )
    return chosen
