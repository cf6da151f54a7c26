"""Describing classes for a planning group: sizes, what distinguishes each, who is in it,
and a draft rule in the rule language that approximates membership.

Descriptions use each case's most likely class (modal assignment): "of the 40 cases in
class 3, 85% had factor 4B". Lift is the prevalence in the class divided by the prevalence
over all fitted cases, each among the cases where the indicator is known.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from mns.lca._data import Bools, Event

__all__ = [
    "DISTINCT_PREVALENCE",
    "Draft",
    "demographics",
    "draft_rule",
    "lifts",
    "summary",
]

#: An event counts among a class's distinguishing indicators only if at least this share of
#: the class has it (a rare indicator can have a high lift and still describe few members).
DISTINCT_PREVALENCE = 0.2
#: A draft rule grows by one condition only if its F1 improves by at least this much.
MIN_GAIN = 0.01
MAX_TERMS = 3
POOL = 12
#: ``count(...) >= t`` candidates use the class's 3 to 6 most telling indicators.
COUNT_MIN, COUNT_MAX, COUNTS_KEPT = 3, 6, 3

Ints = npt.NDArray[np.int64]

MISSING = "(missing)"
AGE_GROUPS = ((0, 4, "0-4"), (5, 9, "5-9"), (10, 15, "10-15"), (16, 17, "16-17"))


def _share(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


def lifts(events: Sequence[Event], modal: Ints, k: int, labels: dict[str, str]) -> pa.Table:
    """One row per class and event: prevalence in the class, overall, lift and rank.

    Rank 1 is the most distinguishing: events that at least ``DISTINCT_PREVALENCE`` of the
    class have and that are more common in it than overall come first, by lift; then the
    others, by lift.
    """
    rows: dict[str, list[Any]] = {
        name: []
        for name in (
            "class",
            "rank",
            "event",
            "indicator",
            "label",
            "cases",
            "prevalence",
            "overall",
            "lift",
        )
    }
    overall = [_share(float(e.value.sum()), float(e.known.sum())) for e in events]
    for c in range(k):
        members = modal == c
        stats = []
        for e, o in zip(events, overall, strict=True):
            have = int((e.value & members).sum())
            p = _share(have, float((e.known & members).sum()))
            lift = p / o if p is not None and o else None
            stats.append((e, have, p, o, lift))

        def key(
            s: tuple[Event, int, float | None, float | None, float | None],
        ) -> tuple[int, float, str]:
            e, _, p, _, lift = s
            strong = p is not None and p >= DISTINCT_PREVALENCE and lift is not None and lift > 1
            return (0 if strong else 1, -(lift if lift is not None else -1.0), e.text)

        for rank, (e, have, p, o, lift) in enumerate(sorted(stats, key=key), start=1):
            rows["class"].append(c + 1)
            rows["rank"].append(rank)
            rows["event"].append(e.text)
            rows["indicator"].append(e.column)
            rows["label"].append(labels.get(e.column, ""))
            rows["cases"].append(have)
            rows["prevalence"].append(p)
            rows["overall"].append(o)
            rows["lift"].append(lift)
    return pa.table(
        {
            "class": pa.array(rows["class"], pa.int32()),
            "rank": pa.array(rows["rank"], pa.int32()),
            "event": pa.array(rows["event"], pa.string()),
            "indicator": pa.array(rows["indicator"], pa.string()),
            "label": pa.array(rows["label"], pa.string()),
            "cases": pa.array(rows["cases"], pa.int64()),
            "prevalence": pa.array(rows["prevalence"], pa.float64()),
            "overall": pa.array(rows["overall"], pa.float64()),
            "lift": pa.array(rows["lift"], pa.float64()),
        }
    )


def summary(indicators: pa.Table, c: int, top: int = 4) -> str:
    """A line for people: the class's most distinguishing indicators with prevalence and lift."""
    mine = indicators.filter(pc.equal(indicators["class"], c)).sort_by("rank").to_pylist()
    strong = [
        r
        for r in mine
        if r["prevalence"] is not None
        and r["prevalence"] >= DISTINCT_PREVALENCE
        and r["lift"] is not None
        and r["lift"] >= 1.25
    ]
    if strong:
        return "; ".join(
            f"{r['event']} {r['prevalence']:.0%} (x{r['lift']:.1f})" for r in strong[:top]
        )
    common = sorted(
        (r for r in mine if r["prevalence"] is not None),
        key=lambda r: (-r["prevalence"], r["event"]),
    )
    listed = "; ".join(
        f"{r['event']} {r['prevalence']:.0%} (x{r['lift']:.1f})" for r in common[:top]
    )
    return "no indicator is much more common than overall" + (
        f"; most common: {listed}" if listed else ""
    )


def _band(age: int | None) -> str:
    if age is None:
        return MISSING
    for low, high, label in AGE_GROUPS:
        if low <= age <= high:
            return label
    return "18+" if age >= 18 else MISSING


def _texts(table: pa.Table, column: str) -> list[str]:
    col = table.column(column)
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    if pa.types.is_boolean(col.type):
        return [MISSING if v is None else ("yes" if v else "no") for v in col.to_pylist()]
    if pa.types.is_integer(col.type) and column == "age":
        return [_band(v) for v in col.to_pylist()]
    return [MISSING if v is None else str(v) for v in col.cast(pa.string()).to_pylist()]


def _ordered(characteristic: str, levels: set[str]) -> list[str]:
    if characteristic == "age":
        bands = [b[2] for b in AGE_GROUPS] + ["18+"]
        return [b for b in bands if b in levels] + sorted(levels - set(bands))
    return sorted(levels - {MISSING}) + ([MISSING] if MISSING in levels else [])


def demographics(table: pa.Table, rows: Ints, modal: Ints, k: int) -> pa.Table:
    """Age band, sex, disability and ethnicity by class (counts, share in class, share overall),
    sorted by class, characteristic and ``order`` (age bands in age order, then by value)."""
    names = ("class", "characteristic", "order", "value", "cases", "share", "overall")
    out: dict[str, list[Any]] = {n: [] for n in names}
    sizes = np.bincount(modal, minlength=k)
    for characteristic in ("age", "disability", "ethnicity", "sex"):
        if characteristic not in table.column_names:
            continue
        values = np.array(_texts(table, characteristic), dtype=object)[rows]
        levels = _ordered(characteristic, set(values.tolist()))
        totals = {v: int((values == v).sum()) for v in levels}
        for c in range(k):
            members = values[modal == c]
            for i, v in enumerate(levels):
                count = int((members == v).sum())
                out["class"].append(c + 1)
                out["characteristic"].append(characteristic)
                out["order"].append(i + 1)
                out["value"].append(v)
                out["cases"].append(count)
                out["share"].append(_share(count, float(sizes[c])))
                out["overall"].append(_share(totals[v], float(len(values))))
    types = (
        pa.int32(),
        pa.string(),
        pa.int32(),
        pa.string(),
        pa.int64(),
        pa.float64(),
        pa.float64(),
    )
    return pa.table({n: pa.array(out[n], t) for n, t in zip(names, types, strict=True)})


# --- draft rules --------------------------------------------------------------------------


@attrs.frozen(kw_only=True, eq=False)
class _Expr:
    """A draft rule under construction: its text, top operator and three-valued truth."""

    text: str
    op: str  #: "lit", "and" or "or"
    terms: int
    columns: frozenset[str]
    true: Bools  #: the rule is true (the case is selected)
    false: Bools  #: the rule is false; neither: unknown (a value it needs is missing)


def _literal(event: Event, negated: bool) -> _Expr:
    yes = event.value & event.known
    no = ~event.value & event.known
    cols = frozenset({event.column})
    if negated:
        return _Expr(text=event.negation, op="lit", terms=1, columns=cols, true=no, false=yes)
    return _Expr(text=event.text, op="lit", terms=1, columns=cols, true=yes, false=no)


def _wrap(e: _Expr, op: str) -> str:
    return e.text if e.op in ("lit", op) else f"({e.text})"


def _combine(a: _Expr, op: str, b: _Expr) -> _Expr:
    text = f"{_wrap(a, op)} {op} {_wrap(b, op)}"
    terms, cols = a.terms + b.terms, a.columns | b.columns
    if op == "and":
        return _Expr(
            text=text,
            op=op,
            terms=terms,
            columns=cols,
            true=a.true & b.true,
            false=a.false | b.false,
        )
    return _Expr(
        text=text, op=op, terms=terms, columns=cols, true=a.true | b.true, false=a.false & b.false
    )


@attrs.frozen(kw_only=True)
class Draft:
    """A draft rule and how well it picks out its class."""

    rule: str
    terms: int
    selected: int  #: cases the rule selects
    members: int  #: cases in the class
    true_positives: int  #: selected cases that are in the class

    @property
    def precision(self) -> float | None:
        """Share of the selected cases that are in the class."""
        return self.true_positives / self.selected if self.selected else None

    @property
    def recall(self) -> float | None:
        """Share of the class that the rule selects."""
        return self.true_positives / self.members if self.members else None

    @property
    def f1(self) -> float | None:
        """Harmonic mean of precision and recall."""
        total = self.selected + self.members
        return 2 * self.true_positives / total if total else None


def _f1(true: Bools, members: Bools, size: int) -> float:
    tp = int((true & members).sum())
    total = int(true.sum()) + size
    return 2 * tp / total if total else 0.0


def _count(chosen: Sequence[Event], t: int, at_most: bool = False) -> _Expr:
    """``count(...) >= t`` over ``chosen`` (``any`` when t is 1, ``all`` when t is all of them),
    true when t are known to hold, false when even the unknown ones could not make t;
    with ``at_most``, ``count(...) <= t`` (``not any`` when t is 0)."""
    holds = np.zeros(chosen[0].value.shape, dtype=np.int64)
    unknown = np.zeros_like(holds)
    for e in chosen:
        holds += e.value & e.known
        unknown += ~e.known
    args = ", ".join(e.text for e in chosen)
    cols = frozenset(e.column for e in chosen)
    if at_most:
        text = f"not any({args})" if t == 0 else f"count({args}) <= {t}"
        return _Expr(
            text=text, op="lit", terms=1, columns=cols, true=holds + unknown <= t, false=holds > t
        )
    if t == 1:
        text = f"any({args})"
    elif t == len(chosen):
        text = f"all({args})"
    else:
        text = f"count({args}) >= {t}"
    return _Expr(
        text=text,
        op="lit",
        terms=1,
        columns=cols,
        true=holds >= t,
        false=holds + unknown < t,
    )


def draft_rule(events: Sequence[Event], members: Bools) -> Draft:
    """A short rule that approximates membership of a class, found greedily by F1.

    Candidates are single conditions (an indicator, its absence, a rating threshold, a
    category value) that are more common in the class than outside it, ``count(...) >= t``
    over the indicators most common in the class compared with outside it, and
    ``count(...) <= t`` over those most often absent. The best candidate is extended by
    ``and`` / ``or`` with another, while F1 improves by at least ``MIN_GAIN``, up to ``MAX_TERMS``
    conditions, each indicator used once.
    """
    size = int(members.sum())
    scored: list[tuple[float, float, str, _Expr]] = []
    # per column: the event most over-represented in the class, and the most under-represented
    telling: dict[str, tuple[float, Event]] = {}
    absent: dict[str, tuple[float, Event]] = {}
    for e in events:
        known = e.known
        inside = float((known & members).sum())
        outside = float((known & ~members).sum())
        p_in = float((e.value & members).sum()) / inside if inside else 0.0
        p_out = float((e.value & ~members).sum()) / outside if outside else 0.0
        if p_in > p_out and (e.column not in telling or p_in - p_out > telling[e.column][0]):
            telling[e.column] = (p_in - p_out, e)
        if p_in < p_out and (e.column not in absent or p_out - p_in > absent[e.column][0]):
            absent[e.column] = (p_out - p_in, e)
        for negated in (False, True):
            lit = _literal(e, negated)
            share_in = 1.0 - p_in if negated else p_in
            share_out = 1.0 - p_out if negated else p_out
            if share_in <= share_out:  # a condition more common outside the class cannot help
                continue
            scored.append((_f1(lit.true, members, size), share_in - share_out, lit.text, lit))
    if not scored:
        return Draft(rule="", terms=0, selected=0, members=size, true_positives=0)
    by_f1 = sorted(scored, key=lambda s: (-s[0], s[2]))[:POOL]
    by_gap = sorted(scored, key=lambda s: (-s[1], s[2]))[:POOL]
    top = [e for _, e in sorted(telling.values(), key=lambda g: (-g[0], g[1].text))][:COUNT_MAX]
    low = [e for _, e in sorted(absent.values(), key=lambda g: (-g[0], g[1].text))][:COUNT_MAX]
    counts = [
        (_f1(c.true, members, size), c.text, c)
        for m in range(COUNT_MIN, len(top) + 1)
        for t in range(1, m + 1)
        for c in [_count(top[:m], t)]
    ] + [
        (_f1(c.true, members, size), c.text, c)
        for m in range(COUNT_MIN, len(low) + 1)
        for t in range(m)
        for c in [_count(low[:m], t, at_most=True)]
    ]
    pool: dict[str, _Expr] = {s[2]: s[3] for s in [*by_f1, *by_gap]}
    pool.update({c[1]: c[2] for c in sorted(counts, key=lambda c: (-c[0], c[1]))[:COUNTS_KEPT]})
    names = sorted(pool)
    best_f1, best = max(
        ((_f1(pool[n].true, members, size), pool[n]) for n in names),
        key=lambda s: (s[0], -len(s[1].columns)),
    )
    while best.terms < MAX_TERMS:
        step: tuple[float, _Expr] | None = None
        for name in names:
            if pool[name].columns & best.columns:
                continue  # each indicator at most once
            for op in ("and", "or"):
                cand = _combine(best, op, pool[name])
                score = _f1(cand.true, members, size)
                if step is None or score > step[0]:
                    step = (score, cand)
        if step is None or step[0] < best_f1 + MIN_GAIN:
            break
        best_f1, best = step
    return Draft(
        rule=best.text,
        terms=best.terms,
        selected=int(best.true.sum()),
        members=size,
        true_positives=int((best.true & members).sum()),
    )
