"""The printable single-case form and its plain-language variant render every indicator."""

from __future__ import annotations

import html
from html.parser import HTMLParser
from pathlib import Path

import attrs
import pytest
from hypothesis import given

from mns.forms import render_printable, write_printable
from mns.forms.printable import PLAIN_RATING_LABELS
from mns.lang import Kind, Language, language as shipped
from mns.plan.model import NeedGroup, Plan
from mns.records.model import Case
from tests.strategies import languages


class _Page(HTMLParser):
    """The page's text as a reader sees it, and the tags it uses."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend(attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    return parser


def _self_contained(page: _Page) -> None:
    assert "script" not in page.tags
    assert "link" not in page.tags
    assert "img" not in page.tags
    for name, value in page.attributes:
        assert name not in ("src", "href"), (name, value)


@pytest.mark.parametrize("plain", [False, True])
def test_every_indicator_of_the_mns_language(plain: bool) -> None:
    language = shipped("mns")
    page = render_printable(plain=plain)
    parsed = _parse(page)
    texts = set(parsed.text)
    _self_contained(parsed)
    assert "@media print" in page
    assert "@page" in page
    for indicator in language.indicators:
        words = indicator.plain_label if plain else indicator.label
        assert words  # the shipped language has plain wording for every indicator
        assert html.escape(words, quote=True) in page
        assert words in texts
        if not plain:
            assert indicator.definition in texts
        for value in indicator.values:
            assert value.plain_label
            shown = value.plain_label if plain else value.label
            assert f" {shown}" in texts
    for dimension in language.dimensions:
        assert dimension.label in texts
    if plain:
        for word in PLAIN_RATING_LABELS:
            assert any(word in t for t in texts)
        assert not any(i.definition in texts for i in language.indicators if i.definition)
    else:
        for label in language.rating_labels:
            assert label in page


@given(languages())
def test_any_language_renders_escaped(language: Language) -> None:
    for plain in (False, True):
        page = render_printable(language=language, plain=plain)
        parsed = _parse(page)
        _self_contained(parsed)
        text = "".join(parsed.text)
        for indicator in language.indicators:
            words = (indicator.plain_label or indicator.label) if plain else indicator.label
            assert html.escape(words, quote=True) in page
            assert words in text


def test_markup_in_labels_is_text() -> None:
    mns_language = shipped("mns")
    odd = attrs.evolve(
        mns_language.indicator("homeless"), label='<script>alert(1)</script> & "homeless"'
    )
    language = attrs.evolve(
        mns_language,
        indicators=tuple(odd if i.code == "homeless" else i for i in mns_language.indicators),
    )
    page = render_printable(language=language)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;homeless&quot;" in page


def test_known_answers_are_ticked(tmp_path: Path) -> None:
    case = Case(
        case_id="R042",
        age=9,
        sex="F",
        indicators={
            "mns.homeless": True,
            "mns.low_income": False,
            "mns.family_conflict_level": 2,
            "mns.living_with": "foster_care",
        },
    )
    plan = Plan(name="p", language="mns", need_groups=(NeedGroup(code="NG1", name="Young carers"),))
    path = write_printable(tmp_path / "r042.html", case=case, plan=plan)
    page = path.read_text("utf-8")
    assert "R042" in page
    assert "NG1: Young carers" in page
    language = shipped("mns")

    def block(code: str) -> str:
        label = html.escape(language.indicator(code).label, quote=True)
        start = page.index(f'<div class="label">{label}</div>')
        return page[start : page.index('<div class="item">', start + 1)]

    assert "\u2612</span> Yes" in block("homeless")
    assert "\u2610</span> No" in block("homeless")
    assert "\u2612</span> No" in block("low_income")
    assert "\u2612</span> 2" in block("family_conflict_level")
    assert "\u2612</span> Foster care" in block("living_with")
    assert block("housing_problems").count("\u2612") == 0
    ticked = page.count("\u2612")
    assert ticked == 4


def test_subset_and_title() -> None:
    language = shipped("mns")
    flags = [i.code for i in language.indicators if i.kind is Kind.FLAG][:3]
    page = render_printable(plain=True, indicators=flags, title="Our family")
    assert "<title>Our family</title>" in page
    shown = [i for i in language.indicators if i.plain_label and html.escape(i.plain_label) in page]
    assert [i.code for i in shown] == flags
