"""Binding: where each column a rule names comes from, for one table schema or one case.

A column is *present* (the cases have it), *absent* (the cases are in that language but lack
the column: every value is missing, except a year-specific flag outside the years it was
collected, which is false: a code not collected that year is simply not set), or *derived*
through a crosswalk from another language the cases are in.

Both evaluators read the same :class:`Binding`, so they resolve every column the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

import attrs

from mns.errors import MnsError, RuleError
from mns.lang.model import Crosswalk, Language
from mns.rules import ir
from mns.rules.check import compile_rule

__all__ = [
    "Absent",
    "Applied",
    "Binding",
    "Derived",
    "FieldSource",
    "Offer",
    "Present",
    "bind",
    "collection_year",
]


def collection_year(day: dt.date) -> int:
    """The collection year a date falls in: the year of the 31 March that ends it
    (2024-03-31 -> 2024, 2023-04-01 -> 2024)."""
    return day.year + (1 if day.month >= 4 else 0)


@attrs.frozen
class Present:
    """The cases have the column."""

    column: ir.Column

    @property
    def name(self) -> str:
        """The column's name."""
        return self.column.name


@attrs.frozen
class Absent:
    """The cases lack the column: missing, or false outside a flag's collection years."""

    column: ir.Column

    @property
    def year_specific(self) -> bool:
        """Whether the value depends on the case's collection year (a flag with valid years)."""
        c = self.column
        return c.type is ir.Type.BOOL and (c.valid_from is not None or c.valid_to is not None)

    def value(self, reference_date: dt.date | None) -> bool | None:
        """The value for a case with ``reference_date``: ``False`` when the flag was not
        collected in that year, else ``None`` (missing)."""
        if not self.year_specific or reference_date is None:
            return None
        year = collection_year(reference_date)
        c = self.column
        collected = (c.valid_from is None or year >= c.valid_from) and (
            c.valid_to is None or year <= c.valid_to
        )
        return None if collected else False


@attrs.frozen
class Derived:
    """The column is derived through a crosswalk mapping (a rule in the source language)."""

    column: ir.Column
    expr: ir.Expr
    rule: str
    crosswalk: Crosswalk


FieldSource = Present | Absent | Derived


@attrs.frozen(kw_only=True)
class Offer:
    """A crosswalk that may be applied, and where it came from (for messages and metadata)."""

    crosswalk: Crosswalk
    origin: str  #: "shipped", or the file it was read from, or "given"
    given: bool  #: given by the user (argument or plan): preferred over shipped ones


@attrs.frozen(kw_only=True)
class Applied:
    """A crosswalk that was applied, and the indicators it derived."""

    crosswalk: Crosswalk
    origin: str
    derived: tuple[str, ...]

    def describe(self) -> str:
        """One line for people: which crosswalk, its provenance, and what it derived."""
        cw = self.crosswalk
        who = (
            "an official mapping"
            if cw.provenance.value == "official"
            else "mns's own construct, not an official mapping"
        )
        origin = "shipped with mns" if self.origin == "shipped" else self.origin
        derived = ", ".join(self.derived)
        return (
            f"indicators of {cw.target!r} derived from {cw.source!r} codes through the crosswalk "
            f"{cw.source}->{cw.target} version {cw.version} ({who}; {origin}): {derived}"
        )


@attrs.frozen(kw_only=True)
class Binding:
    """Where each column named by the rules comes from."""

    sources: Mapping[str, FieldSource]
    applied: tuple[Applied, ...] = ()

    def leaves(self, expr: ir.Expr) -> tuple[str, ...]:
        """The columns of the cases (present or absent) that ``expr`` depends on, sorted."""
        found: set[str] = set()
        self._leaves(expr, found)
        return tuple(sorted(found))

    def _leaves(self, expr: ir.Expr, found: set[str]) -> None:
        for col in ir.columns(expr):
            src = self.sources[col.name]
            if isinstance(src, Derived):
                self._leaves(src.expr, found)
            else:
                found.add(col.name)
                if isinstance(src, Absent) and src.year_specific:
                    found.add("reference_date")

    @property
    def needs_reference_date(self) -> bool:
        """Whether an absent year-specific column needs the cases' reference dates."""
        return any(isinstance(s, Absent) and s.year_specific for s in self.sources.values())


def _language_of(name: str) -> str | None:
    return name.split(".", 1)[0] if "." in name else None


def bind(
    needed: Sequence[tuple[str, ir.Column]],
    available: Collection[str],
    offers: Iterable[Offer] = (),
    languages: Callable[[str], Language] | None = None,
) -> Binding:
    """Bind every column in ``needed`` (``(where, column)`` pairs, ``where`` naming the plan
    item for errors) to the ``available`` columns of the cases, deriving through the ``offers``
    where the cases are in another language. Raises :class:`RuleError` naming the plan item and
    the indicator when a column can be neither found nor derived."""
    offers = list(offers)
    present_langs = {lang for name in available if (lang := _language_of(name)) is not None}
    sources: dict[str, FieldSource] = {}
    derived: dict[int, list[str]] = {}

    def bind_plain(col: ir.Column) -> None:
        if col.name in sources:
            return
        src: FieldSource = Present(col) if col.name in available else Absent(col)
        sources[col.name] = src
        if isinstance(src, Absent) and src.year_specific and "reference_date" not in sources:
            ref = ir.Column(span=(0, 0), name="reference_date", type=ir.Type.DATE, kind="date")
            sources["reference_date"] = (
                Present(ref) if "reference_date" in available else Absent(ref)
            )

    for where, col in needed:
        if col.name in sources:
            continue
        lang = _language_of(col.name)
        if col.name in available or lang is None:
            bind_plain(col)
            continue
        if lang in present_langs:
            # some of the language is recorded (say, strengths on a form) but not this
            # indicator: derived when a crosswalk from the other recorded languages maps it
            suppliers = _suppliers(col, lang, present_langs, offers)
            if len(suppliers) != 1:
                bind_plain(col)
                continue
            offer = suppliers[0]
        else:
            offer = _choose(where, col, lang, present_langs, offers)
        code = col.name.split(".", 1)[1]
        mapping = next(m for m in offer.crosswalk.mappings if m.target == code)
        cw = offer.crosswalk
        where_cw = f"crosswalk {cw.source}->{cw.target} ({offer.origin}) mapping {code!r}"
        if col.type is not ir.Type.BOOL:
            raise RuleError(
                f"{where} needs {col.name!r}, a {col.kind}, but the {where_cw} derives a flag: "
                f"record {col.name!r} in the cases instead",
                item=where,
                field=col.name,
            )
        try:
            expr = compile_rule(
                mapping.rule,
                offer.crosswalk.source,
                **({"languages": languages} if languages else {}),
            )
        except RuleError as exc:
            raise RuleError(f"{where_cw}: {exc.message}", item=where, field=col.name) from None
        except MnsError as exc:
            raise RuleError(f"{where_cw}: {exc}", item=where, field=col.name) from None
        sources[col.name] = Derived(
            column=col, expr=expr, rule=mapping.rule, crosswalk=offer.crosswalk
        )
        derived.setdefault(id(offer), []).append(code)
        for inner in ir.columns(expr):
            bind_plain(inner)

    applied = tuple(
        Applied(crosswalk=o.crosswalk, origin=o.origin, derived=tuple(sorted(derived[id(o)])))
        for o in offers
        if id(o) in derived
    )
    return Binding(sources=sources, applied=applied)


def _suppliers(col: ir.Column, lang: str, present: set[str], offers: list[Offer]) -> list[Offer]:
    """The offers that derive ``col`` from a language the cases have: the ones given by the
    caller when any are among them."""
    code = col.name.split(".", 1)[1]
    found = [
        o
        for o in offers
        if o.crosswalk.target == lang
        and o.crosswalk.source in present
        and any(m.target == code for m in o.crosswalk.mappings)
    ]
    return [o for o in found if o.given] or found


def _choose(where: str, col: ir.Column, lang: str, present: set[str], offers: list[Offer]) -> Offer:
    code = col.name.split(".", 1)[1]
    usable = [o for o in offers if o.crosswalk.target == lang and o.crosswalk.source in present]
    have = ", ".join(sorted(present)) or "none"
    if not usable:
        raise RuleError(
            f"{where} needs {col.name!r}: the cases have no {lang}.* columns and no crosswalk "
            f"derives {lang!r} from the languages they have ({have}); record {lang} indicators "
            "or give a crosswalk (crosswalks=[...] or the plan's crosswalks)",
            item=where,
            field=col.name,
        )
    suppliers = [o for o in usable if any(m.target == code for m in o.crosswalk.mappings)]
    given = [o for o in suppliers if o.given]
    if given:
        return given[0]
    if len(suppliers) == 1:
        return suppliers[0]
    names = ", ".join(f"{o.crosswalk.source}->{o.crosswalk.target}" for o in (suppliers or usable))
    if suppliers:
        raise RuleError(
            f"{where} needs {col.name!r}, which several crosswalks derive ({names}): "
            "choose one with crosswalks=[...]",
            item=where,
            field=col.name,
        )
    raise RuleError(
        f"{where} needs {col.name!r}: the cases have no {lang}.* columns and no crosswalk can "
        f"supply it ({names} does not map {code!r}); record it in the cases or give a crosswalk "
        "that maps it",
        item=where,
        field=col.name,
    )
