"""Drawing the audit sample, and how many cases an audit needs.

:func:`sample` draws a reproducible simple random or stratified sample of a period's cases
and records the sampling fraction of every stratum in an :class:`~mns.records.model.Audit`,
so that later estimates (``extrapolate``, ``profile``) can weight each case by the number of
cases it stands for. :func:`sample_size` says how many cases give a need-group share within a
chosen margin, with the finite population correction; :func:`margin` answers the reverse.

The draw does not depend on the order of the rows, the batch size or the platform: every case
gets a pseudo-random rank from a keyed hash (BLAKE2b) of its ``case_id`` and the seed, and each
stratum takes its lowest-ranked cases. A larger ``n`` with the same seed therefore draws a
superset of a smaller one, which lets an audit top up its sample without redrawing it.
"""

from __future__ import annotations

import hashlib
import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Literal

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from mns._tables import TableLike, materialise
from mns.errors import SchemaError
from mns.records.model import Audit

__all__ = ["MISSING", "Sample", "margin", "sample", "sample_size"]

#: The stratum value of a case whose stratifying field is empty.
MISSING = "(missing)"
#: The stratum of every case in an unstratified sample.
ALL = "all"

Allocation = Literal["proportional", "equal"]


@attrs.frozen(kw_only=True)
class Sample:
    """A drawn sample: the sampled cases, the audit that records how, and one row per stratum.

    ``cases`` holds the sampled rows with every column of the input, sorted by ``case_id``,
    plus ``stratum`` (the case's stratum label, ``"all"`` when unstratified) and
    ``sample_weight`` (how many cases of the period each sampled case stands for: the
    stratum's population divided by its sample size).
    ``strata`` has the columns ``stratum``, ``population``, ``sampled``, ``fraction`` and
    ``weight``, sorted by ``stratum``.
    """

    cases: pa.Table
    audit: Audit
    strata: pa.Table


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        column = column.cast(pa.string())
    return pc.fill_null(column.cast(pa.string()), MISSING)


def _stratum_labels(table: pa.Table, fields: Sequence[str]) -> pa.ChunkedArray:
    """``field=value`` labels joined by ``"; "``, one per row (``"all"`` without strata)."""
    if not fields:
        return pa.chunked_array([pa.array([ALL] * table.num_rows, pa.string())])
    parts = [pc.binary_join_element_wise(f"{f}=", _as_text(table.column(f)), "") for f in fields]
    if len(parts) == 1:
        return parts[0]
    return pc.binary_join_element_wise(*parts, "; ")


def _ranks(case_ids: Sequence[str], seed: int) -> list[int]:
    base = hashlib.blake2b(digest_size=8, key=str(seed).encode(), person=b"mns.sample")
    out = []
    for case_id in case_ids:
        h = base.copy()
        h.update(case_id.encode("utf-8"))
        out.append(int.from_bytes(h.digest(), "big"))
    return out


def _largest_remainder(
    quotas: Mapping[str, float], total: int, caps: Mapping[str, int], floor_: int
) -> dict[str, int]:
    """Integer sizes summing to ``total``, each in ``[floor_, cap]``, close to ``quotas``.

    Sizes start at the quota rounded down (raised to ``floor_``, lowered to the cap); units
    left over go to the largest remainders, units over are taken from the most
    over-allocated strata. Ties break by stratum label, so the result is deterministic.
    """
    first = {s: -i for i, s in enumerate(sorted(quotas))}  # max() then prefers the first label
    sizes = {s: min(caps[s], max(floor_, math.floor(q))) for s, q in quotas.items()}
    while sum(sizes.values()) < total:
        room = [s for s in sizes if sizes[s] < caps[s]]
        pick = max(room, key=lambda s: (quotas[s] - sizes[s], first[s]))
        sizes[pick] += 1
    while sum(sizes.values()) > total:
        spare = [s for s in sizes if sizes[s] > floor_]
        pick = max(spare, key=lambda s: (sizes[s] - quotas[s], first[s]))
        sizes[pick] -= 1
    return sizes


def _allocate(
    populations: Mapping[str, int], n: int | Mapping[str, int], allocation: Allocation
) -> dict[str, int]:
    total = sum(populations.values())
    if isinstance(n, Mapping):
        unknown = sorted(set(n) - set(populations))
        missing = sorted(set(populations) - set(n))
        if unknown or missing:
            parts = []
            if unknown:
                parts.append(f"no cases fall in strata {unknown}")
            if missing:
                parts.append(f"no sample size is given for strata {missing}")
            raise ValueError(
                "sample: n per stratum does not match the strata: "
                + "; ".join(parts)
                + f". The strata present are {sorted(populations)}",
            )
        for stratum, size in n.items():
            if not 1 <= size <= populations[stratum]:
                raise ValueError(
                    f"sample: stratum {stratum!r} has {populations[stratum]} cases, so its sample "
                    f"size must be 1 to {populations[stratum]}, not {size}",
                )
        return dict(n)
    if not 1 <= n <= total:
        raise ValueError(
            f"sample: n must be 1 to {total} (the number of cases), not {n}; "
            "to audit every case, use n equal to the number of cases",
        )
    if n < len(populations):
        raise ValueError(
            f"sample: n = {n} is smaller than the {len(populations)} strata; every stratum needs "
            "at least one case. Draw more cases or stratify by fewer or coarser fields",
        )
    if allocation == "proportional":
        quotas = {s: n * size / total for s, size in populations.items()}
    elif allocation == "equal":
        quotas = {s: n / len(populations) for s in populations}
    else:
        raise ValueError(
            f"sample: allocation {allocation!r} is not known; use 'proportional' or 'equal'",
        )
    return _largest_remainder(quotas, n, populations, 1)


def sample(
    cases: TableLike,
    n: int | Mapping[str, int],
    *,
    seed: int,
    strata: str | Sequence[str] | None = None,
    allocation: Allocation = "proportional",
    audit: str | Audit = "audit",
) -> Sample:
    """Draw a reproducible random sample of ``cases``, stratified by ``strata`` if given.

    ``n`` is the total sample size, shared between strata by ``allocation``
    (``"proportional"``: in proportion to each stratum's cases; ``"equal"``: the same number
    from each, as far as each stratum has cases), with at least one case per stratum; or a
    mapping from stratum label (``"area=North"``; ``"area=North; agency=police"`` for two
    fields; ``"area=(missing)"`` for empty values) to that stratum's sample size.
    ``strata`` names one or more columns of ``cases`` (area, agency, cohort or any other).
    ``audit`` is the audit's name, or an :class:`~mns.records.model.Audit` whose sampling
    fields (``sample_size``, ``population_size``, ``sampling_fraction``, ``strata``) are
    filled in. The same cases, ``n`` and ``seed`` always give the same sample, whatever the
    order of the rows.
    """
    table = materialise(cases, "sample")
    if "case_id" not in table.column_names:
        raise SchemaError("sample: cases have no 'case_id' column", field="case_id")
    for reserved in ("stratum", "sample_weight"):
        if reserved in table.column_names:
            raise SchemaError(
                f"sample: cases already have a {reserved!r} column, so they look like a sample "
                "already; draw the sample from the whole period's cases",
                field=reserved,
            )
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"sample: seed must be a whole number 0 or more, not {seed!r}")
    fields = [strata] if isinstance(strata, str) else list(strata or ())
    absent = [f for f in fields if f not in table.column_names]
    if absent:
        raise SchemaError(
            f"sample: cannot stratify by {absent}: no such column; the columns are "
            f"{table.column_names}",
            field=absent[0],
        )
    ids = table.column("case_id")
    if pa.types.is_dictionary(ids.type):
        ids = ids.cast(ids.type.value_type)
    id_list: list[str | None] = ids.cast(pa.string()).to_pylist()
    if None in id_list:
        row = id_list.index(None) + 1
        raise SchemaError(f"sample: case {row} (counting from 1) has no case_id", field="case_id")
    counts = pc.value_counts(ids)
    repeated = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
    if len(repeated):
        shown = sorted(repeated.to_pylist())[:5]
        raise SchemaError(
            f"sample: {len(repeated)} case_id(s) occur more than once, e.g. {shown}; "
            "a case must be one row",
            field="case_id",
            item=str(shown[0]),
        )
    labels: list[str] = _stratum_labels(table, fields).to_pylist()
    populations: dict[str, int] = {}
    for label in labels:
        populations[label] = populations.get(label, 0) + 1
    sizes = _allocate(populations, n, allocation)

    ranks = _ranks([str(i) for i in id_list], seed)
    members: dict[str, list[tuple[int, str, int]]] = {s: [] for s in populations}
    for row, (label, rank, case_id) in enumerate(zip(labels, ranks, id_list, strict=True)):
        members[label].append((rank, str(case_id), row))
    chosen: list[tuple[str, int]] = []
    for label, rows in members.items():
        rows.sort()
        chosen.extend((case_id, row) for _, case_id, row in rows[: sizes[label]])
    chosen.sort()
    indices = pa.array([row for _, row in chosen], pa.int64())

    picked = table.take(indices)
    picked_labels = pa.array([labels[row] for _, row in chosen], pa.string())
    weights = pa.array(
        [populations[labels[row]] / sizes[labels[row]] for _, row in chosen], pa.float64()
    )
    picked = picked.append_column(
        pa.field("stratum", pa.dictionary(pa.int32(), pa.string())),
        picked_labels.dictionary_encode(),
    )
    picked = picked.append_column(pa.field("sample_weight", pa.float64()), weights)

    order = sorted(populations)
    strata_table = pa.table(
        {
            "stratum": pa.array(order, pa.string()),
            "population": pa.array([populations[s] for s in order], pa.int64()),
            "sampled": pa.array([sizes[s] for s in order], pa.int64()),
            "fraction": pa.array([sizes[s] / populations[s] for s in order], pa.float64()),
            "weight": pa.array([populations[s] / sizes[s] for s in order], pa.float64()),
        }
    )
    total, drawn = table.num_rows, sum(sizes.values())
    fractions = {s: sizes[s] / populations[s] for s in order} if fields else {}
    template = Audit(name=audit) if isinstance(audit, str) else audit
    recorded = attrs.evolve(
        template,
        sample_size=drawn,
        population_size=total,
        sampling_fraction=drawn / total,
        strata=fractions,
    )
    return Sample(cases=picked, audit=recorded, strata=strata_table)


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95), not {confidence}")
    return statistics.NormalDist().inv_cdf((1 + confidence) / 2)


def _check_share(share: float) -> None:
    if not 0 < share < 1:
        raise ValueError(f"share must be between 0 and 1 (0.5 is the safe guess), not {share}")


def _check_population(population: int | None) -> None:
    if population is not None and population < 1:
        raise ValueError(f"population must be 1 or more, not {population}")


def sample_size(
    margin: float = 0.05,
    confidence: float = 0.95,
    share: float = 0.5,
    population: int | None = None,
) -> int:
    """How many cases estimate a need-group share within ``± margin`` at ``confidence``.

    ``share`` is the expected share of the need group (0.5, the default, is the worst case);
    ``population`` is the number of cases in the period, for the finite population correction
    (``None``: a very large population). Uses the normal approximation
    ``n0 = z² p (1 - p) / margin²`` and ``n = n0 / (1 + (n0 - 1) / N)``, rounded up.
    ``sample_size()`` is 385; ``sample_size(population=200)`` is 132.
    """
    if not 0 < margin < 1:
        raise ValueError(f"margin must be between 0 and 1 (e.g. 0.05), not {margin}")
    _check_share(share)
    _check_population(population)
    z = _z(confidence)
    n0 = z * z * share * (1 - share) / (margin * margin)
    n = n0 if population is None else n0 / (1 + (n0 - 1) / population)
    # guard against 384.0000000001 rounding up to 385 when the exact value is 384
    result = math.ceil(round(n, 9))
    return result if population is None else min(result, population)


def margin(
    n: int,
    *,
    confidence: float = 0.95,
    share: float = 0.5,
    population: int | None = None,
) -> float:
    """The margin of error (as a proportion) of a share estimated from ``n`` sampled cases.

    The reverse of :func:`sample_size`: ``z * sqrt(p (1 - p) / n * (N - n) / (N - 1))``.
    ``margin(200)`` is about 0.069 (± 7 points).
    """
    if n < 1:
        raise ValueError(f"n must be 1 or more, not {n}")
    _check_share(share)
    _check_population(population)
    if population is not None and n > population:
        raise ValueError(f"n = {n} is more than the population of {population}")
    z = _z(confidence)
    if population is None:
        fpc = 1.0
    elif n == population:
        fpc = 0.0  # a census: no sampling error
    else:
        fpc = (population - n) / (population - 1)
    return z * math.sqrt(share * (1 - share) / n * fpc)
