"""The printable single-case form (HTML), for an initial assessment by a duty social worker,
and its plain-language variant for a family's self-assessment.

The page is self-contained: its styles are inline, it loads nothing from the network, and
every text that comes from a language, plan or case is HTML-escaped. Print styles put it on
A4 in two columns, on one page where the language allows (the ``mns`` language fits on two).
The plain variant uses the language's ``plain_label`` wording (falling back to ``label``
where a language has none) and leaves out definitions and need groups.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mns.lang import Kind, Language, language as load_language_by_name
from mns.lang.model import Indicator, valid_in
from mns.plan import Plan, load_plan
from mns.records.model import Case

__all__ = ["PLAIN_RATING_LABELS", "render_printable", "write_printable"]

#: Words for the 0-3 ratings in the plain variant, used when a language gives none of its own.
PLAIN_RATING_LABELS = ("Not at all", "A little", "Quite a lot", "A great deal")

_EMPTY, _TICKED = "\u2610", "\u2612"  # ballot box, ballot box with X

_CSS = """
:root { --ink: #1a1a1a; --rule: #9a9a9a; --soft: #5a5a5a; }
* { box-sizing: border-box; }
body { font-family: "Segoe UI", Arial, Helvetica, sans-serif; color: var(--ink);
       font-size: 10pt; line-height: 1.3; margin: 0 auto; max-width: 60rem; padding: 1rem; }
h1 { font-size: 15pt; margin: 0 0 .2rem; }
h2 { font-size: 10.5pt; margin: .5rem 0 .2rem; padding: .1rem .3rem; background: #e8e8e8;
     break-after: avoid; }
p.intro { margin: .2rem 0 .5rem; }
table.facts { border-collapse: collapse; width: 100%; margin-bottom: .4rem; }
table.facts th { text-align: left; font-weight: 600; width: 9rem; padding: .15rem .3rem; }
table.facts td { border-bottom: 1px solid var(--rule); padding: .15rem .3rem; }
.sections { column-count: 2; column-gap: 1.5rem; }
.section { break-inside: avoid-column; }
.item { break-inside: avoid; padding: .15rem 0; border-bottom: 1px dotted var(--rule); }
.label { font-weight: 600; }
.definition { color: var(--soft); font-size: 8.5pt; }
.answers { display: flex; flex-wrap: wrap; gap: .1rem .8rem; }
.answer { white-space: nowrap; }
.answers.list { display: block; }
.answers.list .answer { display: block; white-space: normal; }
.box { font-size: 11pt; }
.scale { font-size: 8.5pt; color: var(--soft); margin: .2rem 0 .4rem; }
.write { border: 1px solid var(--rule); min-height: 3.2rem; margin: .2rem 0 .4rem; padding: .2rem; }
.closing { break-inside: avoid; }
footer { margin-top: .5rem; font-size: 8pt; color: var(--soft); }
@page { size: A4; margin: 10mm 11mm; }
@media print {
  body { font-size: 7.5pt; line-height: 1.2; max-width: none; padding: 0; }
  h1 { font-size: 12pt; }
  h2 { font-size: 8pt; margin: .3rem 0 .1rem; -webkit-print-color-adjust: exact;
       print-color-adjust: exact; }
  .sections { column-count: 3; column-gap: 1rem; }
  .item { padding: .05rem 0; }
  .definition, .scale { font-size: 6.5pt; }
  .answers.list { display: flex; }
  .answers.list .answer { display: inline; }
  .box { font-size: 8pt; }
  table.facts { width: 60%; }
  table.facts th, table.facts td { padding: .05rem .3rem; }
  .write { min-height: 2.2rem; }
}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _box(ticked: bool, text: str) -> str:
    mark = _TICKED if ticked else _EMPTY
    return f'<span class="answer"><span class="box">{mark}</span> {_e(text)}</span>'


def _case_values(case: Case | Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(facts, indicator values by qualified code) of the case to pre-fill."""
    if case is None:
        return {}, {}
    if isinstance(case, Case):
        facts = {
            "case_id": case.case_id,
            "reference_date": case.reference_date,
            "age": case.age,
            "sex": case.sex,
            "area": case.area,
            "agency": case.agency,
            "cohort": case.cohort.value if case.cohort else None,
        }
        return facts, dict(case.indicators)
    facts = {k: v for k, v in case.items() if "." not in k}
    return facts, {k: v for k, v in case.items() if "." in k}


def _answers(indicator: Indicator, value: Any, *, plain: bool, rating_words: Sequence[str]) -> str:
    if indicator.kind is Kind.FLAG:
        return (
            '<div class="answers">'
            + _box(value is True, "Yes")
            + _box(value is False, "No")
            + ("" if not plain else _box(False, "Not sure"))
            + "</div>"
        )
    if indicator.kind is Kind.RATING:
        boxes = "".join(
            _box(value == r, f"{r} {rating_words[r]}" if plain else str(r)) for r in range(4)
        )
        return f'<div class="answers">{boxes}</div>'
    words = [(v.code, (v.plain_label or v.label) if plain else v.label) for v in indicator.values]
    boxes = "".join(_box(value == code, text) for code, text in words)
    return f'<div class="answers list">{boxes}</div>'


def _show(value: object) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _facts_table(facts: Mapping[str, Any], *, plain: bool) -> str:
    if plain:
        rows = [
            ("Your name (optional)", ""),
            ("Your child's first name", ""),
            ("Your child's age", facts.get("age") or ""),
            ("Today's date", ""),
        ]
    else:
        rows = [
            ("Case ID", facts.get("case_id") or ""),
            ("Assessment date", facts.get("reference_date") or ""),
            ("Age", "" if facts.get("age") is None else facts["age"]),
            ("Sex", facts.get("sex") or ""),
            ("Area", facts.get("area") or ""),
            ("Referring agency", facts.get("agency") or ""),
            ("Completed by", ""),
        ]
    cells = "".join(
        f"<tr><th>{_e(label)}</th><td>{_e(_show(value))}</td></tr>" for label, value in rows
    )
    return f'<table class="facts">{cells}</table>'


def render_printable(
    *,
    language: str | Path | Language = "mns",
    plain: bool = False,
    case: Case | Mapping[str, Any] | None = None,
    plan: Plan | str | Path | None = None,
    title: str | None = None,
    indicators: Sequence[str] | None = None,
    year: int | None = None,
) -> str:
    """The HTML text of a printable single-case form.

    ``plain=False`` gives the initial-assessment form for a practitioner (labels, definitions,
    the plan's need groups when ``plan`` is given); ``plain=True`` the self-assessment form for
    a family (plain-language labels and rating words, no definitions). ``case`` (a
    :class:`~mns.records.model.Case` or a mapping with ``case_id`` and ``<language>.<code>``
    keys) pre-fills known facts and ticks known answers. ``indicators`` picks a subset of the
    language's indicators (default: all, or those valid in ``year``).
    """
    lang = load_language_by_name(language)
    the_plan = load_plan(plan) if isinstance(plan, str | Path) else plan
    facts, known = _case_values(case)
    if indicators is None:
        chosen = [i for i in lang.indicators if valid_in(i, year)]
    else:
        chosen = [lang.indicator(code.removeprefix(f"{lang.name}.")) for code in indicators]
    own_words = getattr(lang, "plain_rating_labels", None)
    rating_words: Sequence[str] = own_words if own_words else PLAIN_RATING_LABELS
    heading = title or ("About your family" if plain else "Initial assessment")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="mns audit form ({_e(lang.name)} {_e(lang.version)})">',
        f"<title>{_e(heading)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_e(heading)}</h1>",
    ]
    if plain:
        parts.append(
            '<p class="intro">These questions help us understand what your family needs, so '
            "that we can offer the right help. Tick the answer that fits best. You can leave "
            "out anything you would rather not answer, and ask us about anything that is not "
            "clear.</p>"
        )
    else:
        scale = "; ".join(f"{i} {label}" for i, label in enumerate(lang.rating_labels))
        parts.append(
            f'<p class="intro">{_e(lang.title or lang.name)}. Tick one answer for each item. '
            f'Ratings: <span class="scale">{_e(scale)}</span></p>'
        )
    parts.append(_facts_table(facts, plain=plain))
    parts.append('<div class="sections">')
    by_dimension: dict[str, list[Indicator]] = {}
    for ind in chosen:
        by_dimension.setdefault(ind.dimension, []).append(ind)
    for dimension in lang.dimensions:
        items = by_dimension.get(dimension.code)
        if not items:
            continue
        parts.append(f'<section class="section"><h2>{_e(dimension.label)}</h2>')
        for ind in items:
            value = known.get(f"{lang.name}.{ind.code}")
            text = (ind.plain_label or ind.label) if plain else ind.label
            parts.append(f'<div class="item"><div class="label">{_e(text)}</div>')
            if not plain and ind.definition:
                parts.append(f'<div class="definition">{_e(ind.definition)}</div>')
            parts.append(_answers(ind, value, plain=plain, rating_words=rating_words))
            parts.append("</div>")
        parts.append("</section>")
    parts.append("</div>")
    parts.append('<div class="closing">')
    if plain:
        parts.append('<h2>Anything else you would like us to know</h2><div class="write"></div>')
        parts.append('<h2>What help would you like?</h2><div class="write"></div>')
    else:
        if the_plan is not None and the_plan.need_groups:
            boxes = "".join(_box(False, f"{g.code}: {g.name}") for g in the_plan.need_groups)
            parts.append(f'<h2>Need group</h2><div class="answers list">{boxes}</div>')
        else:
            parts.append('<h2>Need group</h2><div class="write"></div>')
        parts.append('<h2>Services received or recommended</h2><div class="write"></div>')
        parts.append('<h2>Notes</h2><div class="write"></div>')
    parts.append("</div>")
    parts.append(f"<footer>{_e(lang.name)} {_e(lang.version)}</footer></body></html>")
    return "\n".join(parts)


def write_printable(
    path: str | Path,
    *,
    language: str | Path | Language = "mns",
    plain: bool = False,
    case: Case | Mapping[str, Any] | None = None,
    plan: Plan | str | Path | None = None,
    title: str | None = None,
    indicators: Sequence[str] | None = None,
    year: int | None = None,
) -> Path:
    """Write :func:`render_printable`'s page to ``path`` (UTF-8 HTML) and return the path."""
    target = Path(path)
    target.write_text(
        render_printable(
            language=language,
            plain=plain,
            case=case,
            plan=plan,
            title=title,
            indicators=indicators,
            year=year,
        ),
        encoding="utf-8",
    )
    return target
