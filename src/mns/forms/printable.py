"""The printable single-case form (HTML), for an initial assessment by a duty social worker,
and its plain-language variant for a family's self-assessment.

The page is self-contained: its styles are inline, it loads nothing from the network, and
it is written by an autoescaping Jinja2 template (``mns/forms/templates/printable.html``), so
every text that comes from a language, plan or case is HTML-escaped. Print styles put it on
A4 in two columns, on one page where the language allows (the ``mns`` language fits on two).
The plain variant uses the language's ``plain_label`` wording (falling back to ``label``
where a language has none) and leaves out definitions and need groups. A section whose items
are all strengths (``polarity = "strength"``) says so under its heading: tick Yes when present.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mns.lang import Kind, LanguageSource, language as load_language_by_name
from mns.lang.model import Indicator, Polarity, valid_in
from mns.plan import Plan, load_plan
from mns.records.model import Case
from mns.report.html import CSP
from mns.report.templating import render

__all__ = ["PLAIN_RATING_LABELS", "render_printable", "write_printable"]

#: Words for the 0-3 ratings in the plain variant, used when a language gives none of its own.
PLAIN_RATING_LABELS = ("Not at all", "A little", "Quite a lot", "A great deal")


def _box(ticked: bool, text: str) -> tuple[bool, str]:
    return (ticked, text)


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


def _answers(
    indicator: Indicator, value: Any, *, plain: bool, rating_words: Sequence[str]
) -> tuple[bool, list[tuple[bool, str]]]:
    """(shown as a list, the answer boxes: ticked and text) of one indicator."""
    if indicator.kind is Kind.FLAG:
        boxes = [_box(value is True, "Yes"), _box(value is False, "No")]
        return False, boxes + ([_box(False, "Not sure")] if plain else [])
    if indicator.kind is Kind.RATING:
        return False, [
            _box(value == r, f"{r} {rating_words[r]}" if plain else str(r)) for r in range(4)
        ]
    words = [(v.code, (v.plain_label or v.label) if plain else v.label) for v in indicator.values]
    return True, [_box(value == code, text) for code, text in words]


def _show(value: object) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _facts(facts: Mapping[str, Any], *, plain: bool) -> list[tuple[str, str]]:
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
    return [(label, _show(value)) for label, value in rows]


def render_printable(
    *,
    language: LanguageSource = "mns",
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
    by_dimension: dict[str, list[Indicator]] = {}
    for ind in chosen:
        by_dimension.setdefault(ind.dimension, []).append(ind)
    dimensions = []
    for dimension in lang.dimensions:
        items = []
        for ind in by_dimension.get(dimension.code, ()):
            listed, answers = _answers(
                ind, known.get(f"{lang.name}.{ind.code}"), plain=plain, rating_words=rating_words
            )
            items.append(
                {
                    "label": (ind.plain_label or ind.label) if plain else ind.label,
                    "definition": "" if plain else ind.definition,
                    "list": listed,
                    "answers": answers,
                }
            )
        if items:
            strengths = all(
                ind.polarity is Polarity.STRENGTH for ind in by_dimension[dimension.code]
            )
            dimensions.append({"label": dimension.label, "items": items, "strengths": strengths})
    groups = the_plan.need_groups if the_plan is not None and not plain else ()
    return str(
        render(
            "mns.forms",
            "printable.html",
            csp=CSP,  # the report's: the form loads nothing and runs nothing either
            plain=plain,
            heading=heading,
            language=lang.name,
            version=lang.version,
            title=lang.title or lang.name,
            scale="; ".join(f"{i} {label}" for i, label in enumerate(lang.rating_labels)),
            facts=_facts(facts, plain=plain),
            dimensions=dimensions,
            need_groups=[_box(False, f"{g.code}: {g.name}") for g in groups],
        )
    )


def write_printable(
    path: str | Path,
    *,
    language: LanguageSource = "mns",
    plain: bool = False,
    case: Case | Mapping[str, Any] | None = None,
    plan: Plan | str | Path | None = None,
    title: str | None = None,
    indicators: Sequence[str] | None = None,
    year: int | None = None,
) -> Path:
    """Write :func:`render_printable`'s page to ``path`` (UTF-8 HTML) and return the path."""
    from mns.records.folder import replacing

    target = Path(path)
    page = render_printable(
        language=language,
        plain=plain,
        case=case,
        plan=plan,
        title=title,
        indicators=indicators,
        year=year,
    )
    with replacing(target) as temporary:
        temporary.write_text(page, encoding="utf-8")
    return target
