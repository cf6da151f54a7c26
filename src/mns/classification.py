"""Classification: put cases in need groups and test service thresholds with the plan's rules.

``classify`` runs on whole tables or streams of record batches (Arrow compute);
``explain`` runs on one case (the per-case evaluator) and says why. Both read the same checked
rules and the same binding of columns, and a Hypothesis property checks that they agree.

Three-valued logic: a rule is true, false or unknown (it depends on missing values). With
``mode="first"`` a case's need group is the first group, in plan order, whose rule holds;
``"unknown"`` when a group before it (or, with no group holding, any group) is unknown; and
``"unassigned"`` when every rule is false.
"""

from __future__ import annotations

import collections
import functools
import itertools
import json
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

import attrs

from mns import _tables
from mns._tables import TableLike
from mns.errors import MnsError, PlanError, RuleError
from mns.lang.model import Crosswalk, Language
from mns.plan.model import Plan
from mns.rules import ir
from mns.rules.bind import Absent, Applied, Binding, Derived, Offer, Present, bind
from mns.rules.case import Condition, Row, evaluate, parts_of, trace
from mns.rules.check import Scope, check
from mns.rules.syntax import parse

if TYPE_CHECKING:
    import pyarrow as pa

    from mns.engines import Dataset
    from mns.records.model import Case
    from mns.rules.bits import Bitmap, Truth

__all__ = [
    "MODES",
    "UNASSIGNED",
    "UNKNOWN",
    "ClassifyMode",
    "ClassifyStep",
    "Explanation",
    "PlanRule",
    "Prepared",
    "Verdict",
    "classify",
    "classify_case",
    "explain",
    "explain_rows",
    "prepare",
    "render",
]

MODES = ("first", "all")
UNASSIGNED = "unassigned"  #: no need group's rule holds
UNKNOWN = "unknown"  #: membership depends on missing values
#: Most rows per batch when a whole table is classified (a table is split into at least as
#: many batches as there are threads): large enough that the per-batch work of the rules'
#: Python code is small beside their work on the rows.
BATCH_ROWS = 1 << 20

ClassifyMode = Literal["first", "all"]
CrosswalkArg = Iterable[Crosswalk | str | Path] | None
T = TypeVar("T")
R = TypeVar("R")


# ---------------------------------------------------------------------------------------------
# preparing a plan for some cases


@attrs.frozen(kw_only=True)
class PlanRule:
    """A need group's rule or a service's threshold, checked."""

    kind: str  #: "need_group" or "threshold"
    code: str
    name: str
    text: str
    expr: ir.Expr
    where: str  #: the plan item, as plan errors name it
    leaves: tuple[str, ...] = ()  #: the case columns the rule depends on (after binding)


@attrs.frozen(kw_only=True)
class Prepared:
    """A plan bound to the columns some cases have: what ``classify`` and ``explain`` run."""

    plan: Plan
    language: Language
    group_codes: tuple[str, ...]  #: every need group, in plan order
    groups: tuple[PlanRule, ...]  #: the need groups that have a rule, in plan order
    thresholds: tuple[PlanRule, ...]
    binding: Binding


def _plan(plan: Plan | str | Path) -> Plan:
    if isinstance(plan, Plan):
        return plan
    from mns.plan import load_plan

    return load_plan(plan)


def _plan_language(plan: Plan) -> Language:
    from mns.lang import language

    try:
        return language(plan.language)
    except MnsError as exc:
        raise PlanError(
            f"plan {plan.name!r}: language {plan.language!r}: {exc}",
            item="[plan]",
            field="language",
        ) from None


@functools.lru_cache(maxsize=64)
def _rules(plan: Plan, lang: Language) -> tuple[tuple[PlanRule, ...], tuple[PlanRule, ...]]:
    """The plan's need-group rules and service thresholds, checked (once for each plan: plans
    and languages are immutable)."""
    scope = Scope(language=lang)
    groups: list[PlanRule] = []
    thresholds: list[PlanRule] = []
    items: list[tuple[str, str, str, str | None, str]] = []
    for i, g in enumerate(plan.need_groups):
        items.append(
            ("need_group", g.code, g.name, g.rule, f"need_group[{i}] (code {g.code!r}) field rule")
        )
    for i, s in enumerate(plan.services):
        items.append(
            (
                "threshold",
                s.code,
                s.name,
                s.threshold,
                f"service[{i}] (code {s.code!r}) field threshold",
            )
        )
    for kind, code, name, text, where in items:
        if text is None:
            continue
        try:
            expr = check(parse(text), text, scope)
        except RuleError as exc:
            raise RuleError(
                f"plan {plan.name!r}: {where}: {exc.message}", item=where, field="rule"
            ) from None
        rule = PlanRule(kind=kind, code=code, name=name, text=text, expr=expr, where=where)
        (groups if kind == "need_group" else thresholds).append(rule)
    return tuple(groups), tuple(thresholds)


def _offers(plan: Plan, crosswalks: CrosswalkArg) -> list[Offer]:
    from mns.lang import crosswalk as shipped, crosswalks as shipped_pairs, load_crosswalk

    offers = []
    for item in [*(crosswalks or ()), *plan.crosswalks]:
        if isinstance(item, Crosswalk):
            offers.append(Offer(crosswalk=item, origin="given", given=True))
        else:
            offers.append(Offer(crosswalk=load_crosswalk(item), origin=str(item), given=True))
    for source, target in shipped_pairs():
        offers.append(Offer(crosswalk=shipped(source, target), origin="shipped", given=False))
    return offers


def prepare(
    plan: Plan | str | Path,
    available: Collection[str],
    *,
    crosswalks: CrosswalkArg = None,
) -> Prepared:
    """Check ``plan``'s rules and bind them to the ``available`` columns (of a table, or the
    values of a case), deriving indicators through crosswalks where needed. Raises
    :class:`~mns.errors.RuleError` naming the plan item for a bad rule, or for an indicator
    neither the cases nor any crosswalk can supply."""
    plan = _plan(plan)
    lang = _plan_language(plan)
    groups, thresholds = _rules(plan, lang)
    for g in groups:
        if g.code in (UNASSIGNED, UNKNOWN):
            raise PlanError(
                f"plan {plan.name!r}: {g.where}: a need group may not be called {g.code!r}, "
                "which classify uses for cases in no group",
                item=g.where,
            )
    needed = [
        (f"plan {plan.name!r}: {r.where}", col)
        for r in (*groups, *thresholds)
        for col in ir.columns(r.expr)
    ]
    binding = bind(needed, set(available), _offers(plan, crosswalks))
    return Prepared(
        plan=plan,
        language=lang,
        group_codes=tuple(g.code for g in plan.need_groups),
        groups=tuple(attrs.evolve(g, leaves=binding.leaves(g.expr)) for g in groups),
        thresholds=tuple(attrs.evolve(t, leaves=binding.leaves(t.expr)) for t in thresholds),
        binding=binding,
    )


def _crosswalk_metadata(applied: Sequence[Applied]) -> str:
    return json.dumps(
        [
            {
                "source": a.crosswalk.source,
                "target": a.crosswalk.target,
                "version": a.crosswalk.version,
                "provenance": a.crosswalk.provenance.value,
                "origin": a.origin,
                "derived": list(a.derived),
            }
            for a in applied
        ]
    )


# ---------------------------------------------------------------------------------------------
# one case


def _case_values(case: Case | Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    from mns.records.model import Case

    if isinstance(case, Case):
        values = {
            a.name: getattr(case, a.name) for a in attrs.fields(Case) if a.name != "indicators"
        }
        values.update(case.indicators)
        return values, f"case {case.case_id!r}"
    if not isinstance(case, Mapping):
        raise TypeError(
            f"a case is an mns.Case or a mapping of column -> value, not {type(case).__name__}"
        )
    label = f"case {case['case_id']!r}" if case.get("case_id") is not None else "the case"
    return dict(case), label


def _leaf(row: Row, name: str) -> ir.Scalar:
    """The value of the case column ``name`` (present or absent, never derived)."""
    src = row.binding.sources[name]
    assert isinstance(src, Present | Absent)
    return row(src.column)


def _row_missing(row: Row, rules: Sequence[PlanRule], relevant: Iterable[int]) -> list[str] | None:
    fields = sorted({f for k in relevant for f in rules[k].leaves if _leaf(row, f) is None})
    return fields or None


def _classify_row(row: Row, prep: Prepared, mode: ClassifyMode) -> dict[str, Any]:
    results = [evaluate(g.expr, row) for g in prep.groups]
    out: dict[str, Any] = {}
    relevant: list[int] = []
    if mode == "first":
        code = UNASSIGNED
        for k, value in enumerate(results):
            if value is None:
                relevant.append(k)
                code = UNKNOWN if code == UNASSIGNED else code
            elif value is True:
                code = prep.groups[k].code if code == UNASSIGNED else code
                break
        out["need_group"] = code
    else:
        for g, value in zip(prep.groups, results, strict=True):
            out[f"need_group.{g.code}"] = value
        relevant = [k for k, v in enumerate(results) if v is None]
    for t in prep.thresholds:
        out[f"threshold.{t.code}"] = evaluate(t.expr, row)
    out["missing_fields"] = _row_missing(row, prep.groups, relevant)
    return out


def classify_case(
    case: Case | Mapping[str, Any],
    plan: Plan | str | Path,
    mode: ClassifyMode = "first",
    *,
    crosswalks: CrosswalkArg = None,
) -> dict[str, Any]:
    """The columns :func:`classify` adds, for one case (an :class:`mns.Case` or a mapping of
    column -> value, as a table row), computed by the per-case evaluator."""
    _check_mode(mode)
    values, label = _case_values(case)
    prep = prepare(plan, values.keys(), crosswalks=crosswalks)
    return _classify_row(Row(values, prep.binding, label), prep, mode)


# ---------------------------------------------------------------------------------------------
# whole tables


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode {mode!r} is not one of {', '.join(map(repr, MODES))}")


def _source(cases: Any) -> tuple[pa.Schema, pa.Table | Iterator[pa.RecordBatch]]:
    import pyarrow as pa

    schema, rest = _tables.peek(cases, "cases")
    if isinstance(rest, pa.Table):
        return schema, rest
    return schema, _tables.stream(rest, "cases")


_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _pool(workers: int) -> ThreadPoolExecutor:
    """A thread pool kept for the process: the same threads, and so the same allocator
    caches, serve every call (a new pool per call left each call's freed memory behind)."""
    with _POOLS_LOCK:
        pool = _POOLS.get(workers)
        if pool is None:
            pool = _POOLS[workers] = ThreadPoolExecutor(workers, thread_name_prefix="mns-classify")
        return pool


def _ordered_map(fn: Callable[[T], R], items: Iterator[T], workers: int) -> Iterator[R]:
    """``map(fn, items)`` in order, ``workers`` at a time (Arrow kernels release the GIL).
    Tasks never wait for one another, so calls may share the pool."""
    if workers <= 1:
        yield from map(fn, items)
        return
    pool = _pool(workers)
    pending: collections.deque[Any] = collections.deque()
    try:
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()


@overload
def classify(
    cases: Dataset,
    plan: Plan | str | Path,
    mode: ClassifyMode = "first",
    *,
    crosswalks: CrosswalkArg = None,
    threads: int | None = None,
    missing_fields: bool = False,
) -> Dataset: ...


@overload
def classify(
    cases: TableLike,
    plan: Plan | str | Path,
    mode: ClassifyMode = "first",
    *,
    crosswalks: CrosswalkArg = None,
    threads: int | None = None,
    missing_fields: bool = False,
) -> pa.Table | pa.RecordBatchReader: ...


def classify(
    cases: Dataset | TableLike,
    plan: Plan | str | Path,
    mode: ClassifyMode = "first",
    *,
    crosswalks: CrosswalkArg = None,
    threads: int | None = None,
    missing_fields: bool = False,
) -> pa.Table | pa.RecordBatchReader | Dataset:
    """Classify ``cases`` with ``plan``'s rules.

    Returns the cases' columns followed by:

    - ``mode="first"``: ``need_group`` (dictionary string): the code of the first need group,
      in plan order, whose rule holds; ``"unknown"`` when that depends on missing values;
      ``"unassigned"`` when no rule holds. ``mode="all"``: ``need_group.<code>`` (bool, null
      where unknown) for every need group with a rule, so cases in several groups show.
    - ``threshold.<service code>`` (bool, null where unknown) for every service with a threshold.
    - ``missing_fields`` (list of column names): for cases whose need group is unknown (with
      ``"all"``: some group is unknown), the missing columns the unknown rules depend on;
      null for the others. Only with ``missing_fields=True``: the column costs more than the
      need groups themselves (:func:`explain` gives the same for one case).

    A Table gives a Table; a RecordBatchReader or an iterable of batches gives a
    RecordBatchReader that classifies batch by batch as it is read; a dataset
    (:func:`mns.engines.dataset`) gives a dataset, classified as its files are read.
    Where the cases lack the plan's language but have one a crosswalk derives it from
    (``crosswalks``, the plan's ``crosswalks`` files, then the shipped ones), the crosswalk
    is applied and named in the schema metadata ``mns.crosswalks``. Input columns with the
    names of the output columns are replaced. ``threads`` batches are classified at once
    (default: the CPU count, at most 4); the result is the same whatever it is.
    """
    import pyarrow as pa

    from mns.rules.arrow import check_schema

    _check_mode(mode)
    plan = _plan(plan)
    from mns.engines import Dataset

    if isinstance(cases, Dataset):  # classified as each file is read, on any engine
        step = ClassifyStep(
            plan=plan, mode=mode, crosswalks=tuple(crosswalks or ()), missing_fields=missing_fields
        )
        return cases.map(step)
    schema, source = _source(cases)
    prep = prepare(plan, schema.names, crosswalks=crosswalks)
    check_schema(schema, prep.binding)
    out_schema, keep = _output_schema(schema, prep, mode, missing_fields)
    workers = threads if threads is not None else min(pa.cpu_count(), 4)
    if isinstance(source, pa.Table):
        return _classify_table(
            source,
            prep,
            mode,
            keep=keep,
            out_schema=out_schema,
            workers=workers,
            with_missing=missing_fields,
        )

    def run(batch: pa.RecordBatch) -> pa.RecordBatch:
        if batch.schema.names != schema.names:
            raise MnsError(
                "a record batch has other columns than the first one: "
                f"{batch.schema.names} != {schema.names}",
                item="cases",
            )
        new = _new_columns(batch, batch.num_rows, prep, mode, missing_fields)
        columns = [batch.column(i) for i in keep] + new
        return pa.RecordBatch.from_arrays(columns, schema=out_schema)

    return pa.RecordBatchReader.from_batches(out_schema, _ordered_map(run, source, workers))


def _classify_table(
    table: pa.Table,
    prep: Prepared,
    mode: ClassifyMode,
    *,
    keep: list[int],
    out_schema: pa.Schema,
    workers: int,
    with_missing: bool,
) -> pa.Table:
    """A whole table: the rules run on slices of at most ``BATCH_ROWS`` rows, one a thread at
    least, of just the columns they read (combined into one chunk each, whatever the table's
    chunking); the input columns go to the result as they are (zero-copy)."""
    import pyarrow as pa

    read = [name for name, src in prep.binding.sources.items() if isinstance(src, Present)]
    step = max(1, min(BATCH_ROWS, -(-table.num_rows // workers)))
    starts = range(0, table.num_rows, step)

    def run(start: int) -> list[pa.Array]:
        part = table.slice(start, step).select(read).combine_chunks()
        batch = pa.RecordBatch.from_arrays(
            [
                part.column(i).chunk(0)
                if part.column(i).num_chunks
                else pa.array([], part.schema.field(i).type)
                for i in range(part.num_columns)
            ],
            schema=part.schema,
        )
        return _new_columns(batch, min(step, table.num_rows - start), prep, mode, with_missing)

    parts = list(_ordered_map(run, iter(starts), workers))
    new_fields = list(out_schema)[len(keep) :]
    columns = [table.column(i) for i in keep] + [
        pa.chunked_array([p[j] for p in parts], type=field.type)
        for j, field in enumerate(new_fields)
    ]
    return pa.Table.from_arrays(columns, schema=out_schema)


def _output_schema(
    schema: pa.Schema, prep: Prepared, mode: ClassifyMode, with_missing: bool
) -> tuple[pa.Schema, list[int]]:
    import pyarrow as pa

    new: list[pa.Field] = []
    if mode == "first":
        new.append(pa.field("need_group", pa.dictionary(pa.int32(), pa.string()), nullable=False))
    else:
        new.extend(pa.field(f"need_group.{g.code}", pa.bool_()) for g in prep.groups)
    new.extend(pa.field(f"threshold.{t.code}", pa.bool_()) for t in prep.thresholds)
    names = {f.name for f in new} | {"missing_fields"}  # an input's old one never stays
    if with_missing:
        new.append(pa.field("missing_fields", _missing_type()))
    keep = [i for i, name in enumerate(schema.names) if name not in names]
    metadata = dict(schema.metadata or {})
    metadata[b"mns.plan"] = prep.plan.name.encode()
    metadata[b"mns.classify_mode"] = mode.encode()
    metadata[b"mns.crosswalks"] = _crosswalk_metadata(prep.binding.applied).encode()
    fields = [schema.field(i) for i in keep] + new
    return pa.schema(fields, metadata=metadata), keep


def _missing_type() -> pa.DataType:
    """The type of ``missing_fields``: lists of column names, dictionary-encoded like every
    category column (4 bytes a name rather than the name's text)."""
    import pyarrow as pa

    return pa.list_(pa.dictionary(pa.int32(), pa.string()))


def _first(truths: Sequence[Truth], prep: Prepared, n: int) -> pa.Array:
    """The ``need_group`` column: the code of the first rule that is not false (``unknown`` if
    that rule is unknown), built from the rules' bitmaps a bit of the integer code at a time,
    never from strings."""
    import numpy as np
    import pyarrow as pa

    from mns.rules.bits import unpacked

    dictionary = pa.array([*prep.group_codes, UNASSIGNED, UNKNOWN], pa.string())
    unassigned, unknown = len(prep.group_codes), len(prep.group_codes) + 1
    position = {code: i for i, code in enumerate(prep.group_codes)}
    size = (n + 7) // 8
    planes = [np.zeros(size, np.uint8) for _ in range(unknown.bit_length())]  # code bit j

    def add(rows: Bitmap, code: int) -> None:
        for j in range(len(planes)):
            if code >> j & 1:
                planes[j] |= rows

    remaining = np.full(size, 0xFF, np.uint8)  # rows where every rule so far is false
    unknown_rows = np.zeros(size, np.uint8)
    for rule, result in zip(prep.groups, truths, strict=True):
        first_here = remaining & ~result.false
        remaining &= result.false
        unknown_rows |= first_here & ~result.true
        add(first_here & result.true, position[rule.code])
    add(remaining, unassigned)
    add(unknown_rows, unknown)
    if len(planes) <= 8:  # the code's bits gathered in bytes, widened once
        small = unpacked(planes[0], n).view(np.uint8)
        for j, plane in enumerate(planes[1:], 1):
            small |= unpacked(plane, n).view(np.uint8) << j
        indices = small.astype(np.int32)
    else:
        indices = np.zeros(n, np.int32)
        for j, plane in enumerate(planes):
            indices |= unpacked(plane, n).astype(np.int32) << j
    return pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()), dictionary)


def _missing_fields(
    view: Any, truths: Sequence[Truth], prep: Prepared, mode: ClassifyMode, n: int
) -> pa.Array:
    """``missing_fields``: for each row whose classification is unknown, the missing columns
    the unknown rules that matter depend on (sorted); null elsewhere. Bitmaps are read only at
    the unknown rows."""
    import numpy as np
    import pyarrow as pa

    from mns.rules.bits import unpacked, valid_bits

    relevant: dict[int, Bitmap] = {}  # rule -> rows where that rule is unknown and matters
    no_true_before: Bitmap | None = None
    for k, result in enumerate(truths):
        unknown = result.unknown()
        relevant[k] = unknown if no_true_before is None else unknown & no_true_before
        if mode == "first":  # only the unknown rules before the first rule that holds
            held = result.true
            no_true_before = ~held if no_true_before is None else no_true_before & ~held
    listed = functools.reduce(np.bitwise_or, relevant.values(), np.zeros((n + 7) // 8, np.uint8))
    rows = np.flatnonzero(unpacked(listed, n))
    if not len(rows):
        return pa.nulls(n, _missing_type())
    byte, shift = rows >> 3, (rows & 7).astype(np.uint8)

    def at_rows(bits: Bitmap) -> Any:
        return (bits[byte] >> shift & 1).view(np.bool_)

    matters = {k: at_rows(rel) for k, rel in relevant.items()}
    matters = {k: m for k, m in matters.items() if m.any()}
    fields = sorted({f for k in matters for f in prep.groups[k].leaves})
    masks = []  # per field: is it missing and does it matter, on the unknown rows
    for name in fields:
        src = prep.binding.sources[name]
        assert isinstance(src, Present | Absent)
        related = np.logical_or.reduce(
            [m for k, m in matters.items() if name in prep.groups[k].leaves]
        )
        valid = valid_bits(view.column(src.column))
        masks.append(np.zeros_like(related) if valid is None else related & ~at_rows(valid))
    # Each unknown row's set of missing fields as a bit pattern; rows share a few patterns,
    # so each pattern's list is built once and the rows take theirs.
    patterns = np.zeros(len(rows), dtype=object if len(fields) > 63 else np.uint64)
    for f, mask in enumerate(masks):
        patterns |= mask.astype(patterns.dtype) << (f if patterns.dtype == object else np.uint64(f))
    unique, which = np.unique(patterns, return_inverse=True)
    # each pattern's list of names once; every listed row takes its pattern's (Arrow's take)
    members = [[f for f in range(len(fields)) if int(u) >> f & 1] for u in unique]
    starts = np.cumsum([0] + [len(m) for m in members], dtype=np.int32)
    names = pa.DictionaryArray.from_arrays(
        pa.array([f for m in members for f in m], pa.int32()), pa.array(fields, pa.string())
    )
    lists = pa.ListArray.from_arrays(pa.array(starts), names)
    index = np.zeros(n, np.int32)
    index[rows] = which
    take = pa.Array.from_buffers(pa.int32(), n, [pa.py_buffer(listed), pa.py_buffer(index)])
    return lists.take(take)


def _new_columns(
    batch: pa.RecordBatch, n: int, prep: Prepared, mode: ClassifyMode, with_missing: bool = True
) -> list[pa.Array]:
    """The columns classify adds, for one batch of ``n`` rows (the batch may have no columns)."""
    from mns.rules.arrow import Batch, truth

    view = Batch(batch, prep.binding, n)
    groups = [truth(g.expr, view) for g in prep.groups]
    columns = [_first(groups, prep, n)] if mode == "first" else [g.arrow(n) for g in groups]
    columns.extend(truth(t.expr, view).arrow(n) for t in prep.thresholds)
    if with_missing:
        columns.append(_missing_fields(view, groups, prep, mode, n))
    return columns


# ---------------------------------------------------------------------------------------------
# explaining one case


@attrs.frozen(kw_only=True)
class Verdict:
    """One need group's rule or one service's threshold, evaluated for a case."""

    kind: str  #: "need_group" or "threshold"
    code: str
    name: str
    rule: str | None  #: None: the plan gives no rule
    outcome: bool | None  #: None: unknown (or no rule)
    condition: Condition | None = None  #: the rule's conditions with the values seen
    missing: tuple[str, ...] = ()  #: when unknown: the missing columns the rule depends on


@attrs.frozen(kw_only=True)
class Explanation:
    """Why a case is in its need group and which service thresholds it meets."""

    case: str  #: e.g. "case 'C001'"
    plan: str
    language: str
    need_group: str  #: as classify(mode="first") gives it: a code, "unassigned" or "unknown"
    missing_fields: tuple[str, ...]  #: when the need group is unknown
    need_groups: tuple[Verdict, ...]
    thresholds: tuple[Verdict, ...]
    crosswalks: tuple[str, ...] = ()  #: the crosswalks applied, one line each

    def render(self) -> str:
        """Plain text a practitioner can read."""
        return render(self)


def explain(
    case: Case | Mapping[str, Any],
    plan: Plan | str | Path,
    *,
    crosswalks: CrosswalkArg = None,
) -> Explanation:
    """For each need group in plan order and each service threshold: whether it holds for
    ``case``, which conditions held and which failed, and the values seen. ``case`` is an
    :class:`mns.Case` or a mapping of column -> value (a table row). ``.render()`` gives the
    plain text."""
    values, label = _case_values(case)
    prep = prepare(plan, values.keys(), crosswalks=crosswalks)
    return _explain(values, label, prep)


def explain_rows(
    rows: Iterable[Mapping[str, Any]],
    plan: Plan | str | Path,
    *,
    crosswalks: CrosswalkArg = None,
    need_groups: Iterable[Collection[str]] | None = None,
) -> Iterator[Explanation]:
    """:func:`explain` for many rows with the same columns (a table's ``to_pylist()``),
    binding the plan to their columns once. ``need_groups`` (one collection of codes per
    row) traces only those need groups of each row, and no thresholds."""
    prep: Prepared | None = None
    only = iter(need_groups) if need_groups is not None else None
    for case in rows:
        values, label = _case_values(case)
        if prep is None:
            prep = prepare(plan, values.keys(), crosswalks=crosswalks)
        yield _explain(values, label, prep, None if only is None else next(only))


def _explain(
    values: Mapping[str, Any],
    label: str,
    prep: Prepared,
    only: Collection[str] | None = None,
) -> Explanation:
    row = Row(values, prep.binding, label)
    classified = _classify_row(row, prep, "first")

    def outcome(rule: PlanRule) -> Verdict:
        cond = _traced(rule, row)
        missing: tuple[str, ...] = ()
        if cond.outcome is None:
            missing = tuple(f for f in rule.leaves if _leaf(row, f) is None)
        return Verdict(
            kind=rule.kind,
            code=rule.code,
            name=rule.name,
            rule=rule.text,
            outcome=cond.outcome,
            condition=cond,
            missing=missing,
        )

    by_code = {g.code: g for g in prep.groups}
    group_outcomes = []
    for g in prep.plan.need_groups:
        if g.code in by_code and (only is None or g.code in only):
            group_outcomes.append(outcome(by_code[g.code]))
        else:
            group_outcomes.append(
                Verdict(kind="need_group", code=g.code, name=g.name, rule=None, outcome=None)
            )
    return Explanation(
        case=label,
        plan=prep.plan.name,
        language=prep.language.name,
        need_group=classified["need_group"],
        missing_fields=tuple(classified["missing_fields"] or ()),
        need_groups=tuple(group_outcomes),
        thresholds=() if only is not None else tuple(outcome(t) for t in prep.thresholds),
        crosswalks=tuple(a.describe() for a in prep.binding.applied),
    )


def _traced(rule: PlanRule, row: Row) -> Condition:
    return _derive_notes(trace(rule.expr, rule.text, row), rule.expr, row)


def _derive_notes(cond: Condition, expr: ir.Expr, row: Row) -> Condition:
    """Add under each derived indicator the crosswalk rule and the values it was derived from."""
    sub_exprs = parts_of(expr)
    if sub_exprs:
        parts = tuple(_derive_notes(c, e, row) for c, e in zip(cond.parts, sub_exprs, strict=True))
        return attrs.evolve(cond, parts=parts)
    notes = []
    for c in ir.columns(expr):
        src = row.binding.sources[c.name]
        if isinstance(src, Derived):
            sub = trace(src.expr, src.rule, row)
            cw = src.crosswalk
            notes.append(
                attrs.evolve(sub, text=f"{c.name} from {cw.source}->{cw.target}: {sub.text}")
            )
    return attrs.evolve(cond, parts=tuple(notes)) if notes else cond


# ---------------------------------------------------------------------------------------------
# plain text


def _value(value: ir.Scalar) -> str:
    if value is None:
        return "missing"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, str):
        return repr(value)
    return str(value)


_MARK = {True: "[yes]", False: "[no] ", None: "[?]  "}


def _render_condition(cond: Condition, depth: int, lines: list[str]) -> None:
    pad = "    " * depth + "  "
    seen = ""
    if not cond.parts and cond.values:
        seen = "   (" + ", ".join(f"{name} = {_value(v)}" for name, v in cond.values) + ")"
    lines.append(f"{pad}{_MARK[cond.outcome]} {cond.text}{seen}")
    for part in cond.parts:
        _render_condition(part, depth + 1, lines)


def _verdict(o: Verdict) -> str:
    if o.rule is None:
        return "no rule in the plan"
    if o.outcome is None:
        return "UNKNOWN: depends on missing " + ", ".join(o.missing)
    if o.kind == "need_group":
        return "HOLDS" if o.outcome else "does not hold"
    return "MET" if o.outcome else "not met"


def render(explanation: Explanation) -> str:
    """The plain-text rendering of an :class:`Explanation`."""
    e = explanation
    lines = [f"{e.case[0].upper()}{e.case[1:]}, plan {e.plan!r} (language {e.language!r})"]
    lines.extend(f"Crosswalk: {c}" for c in e.crosswalks)
    lines.append("")
    if e.need_group == UNKNOWN:
        lines.append(
            "Need group: unknown - it depends on missing values: " + ", ".join(e.missing_fields)
        )
    elif e.need_group == UNASSIGNED:
        lines.append("Need group: none (no need group's rule holds)")
    else:
        name = next(o.name for o in e.need_groups if o.code == e.need_group)
        lines.append(
            f"Need group: {e.need_group} {name} (the first, in plan order, whose rule holds)"
        )
    for title, outcomes in (
        ("Need groups, in plan order", e.need_groups),
        ("Service thresholds", e.thresholds),
    ):
        if not outcomes:
            continue
        lines.extend(["", f"{title}:"])
        for o in outcomes:
            lines.append(f"  {o.code} {o.name}: {_verdict(o)}")
            if o.condition is not None:
                _render_condition(o.condition, 1, lines)
    lines.append("")
    lines.append("[yes] holds, [no] does not hold, [?] unknown because a value is missing.")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# datasets: classification as a step run where each batch is read


_MADE_PREFIXES = ("need_group.", "threshold.")
_MADE_NAMES = ("need_group", "missing_fields")


@attrs.frozen(kw_only=True, eq=False)
class ClassifyStep:
    """:func:`classify` applied to each batch of a dataset (a
    :class:`mns.engines._dataset.Step`), so the result is the same as classifying a table.
    It is given the columns its rules read, plus one column of each language the dataset has
    and ``reference_date`` when present, so the rules bind to exactly the columns they would
    bind to on the whole table."""

    plan: Plan
    mode: ClassifyMode
    crosswalks: tuple[Any, ...] = ()
    missing_fields: bool = False
    _memo: dict[Any, Any] = attrs.field(factory=dict, init=False)  # by input schema

    def __getstate__(self) -> dict[str, Any]:  # the memo stays behind
        return {
            "plan": self.plan,
            "mode": self.mode,
            "crosswalks": self.crosswalks,
            "missing_fields": self.missing_fields,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_memo", {})

    def _classify(self, cases: Any) -> Any:
        return classify(
            cases,
            self.plan,
            self.mode,
            crosswalks=self.crosswalks or None,
            threads=1,
            missing_fields=self.missing_fields,
        )

    def schema(self, schema: pa.Schema) -> pa.Schema:
        key = ("schema", schema)
        if key not in self._memo:
            self._memo[key] = self._classify(schema.empty_table()).schema
        out: pa.Schema = self._memo[key]
        return out

    def produces(self, schema: pa.Schema) -> Sequence[str]:
        out = self.schema(schema)
        return [n for n in out.names if n in _MADE_NAMES or n.startswith(_MADE_PREFIXES)]

    def columns(self, schema: pa.Schema) -> Sequence[str]:
        key = ("columns", schema)
        if key not in self._memo:
            self._memo[key] = self._columns(schema)
        found: list[str] = self._memo[key]
        return found

    def _columns(self, schema: pa.Schema) -> list[str]:
        prepared = prepare(self.plan, schema.names, crosswalks=self.crosswalks or None)
        read = {src.name for src in prepared.binding.sources.values() if isinstance(src, Present)}
        languages: dict[str, str] = {}
        for name in schema.names:
            if "." in name:
                languages.setdefault(name.split(".", 1)[0], name)
        read.update(languages.values())
        if "reference_date" in schema.names:
            read.add("reference_date")
        return [n for n in schema.names if n in read]

    def apply(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        first = next(batches, None)
        if first is None:
            return
        yield from self._classify(itertools.chain([first], batches))
