"""Strengths on the audit forms: their own sections in the workbook and on the printable form,
and a workbook filled with strengths reads back the same values."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest
from openpyxl import load_workbook

from mns.forms import read_workbooks, render_printable, write_workbook
from mns.forms._layout import GUIDANCE, META, SAMPLE, Field, meta_rows, parse_meta
from mns.lang import Polarity, language
from tests.forms._fill import columns, fill

MNS = language("mns")
STRENGTHS = MNS.codes(polarity=Polarity.STRENGTH)
STRENGTH_SECTIONS = ("Strengths: the child", "Strengths: the family", "Strengths: the community")


def _cases() -> pa.Table:
    return pa.table(
        {
            "case_id": ["R1", "R2", "R3"],
            "reference_date": [dt.date(2026, 3, 31)] * 3,
            "age": pa.array([7, 12, 15], pa.int16()),
        }
    )


@pytest.fixture(scope="module")
def form(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("form") / "strengths.xlsx"
    return write_workbook(path, _cases(), audit="baseline")


def test_strengths_have_their_own_sections_after_the_needs(form: Path) -> None:
    wb = load_workbook(form)
    meta = parse_meta(wb[META].iter_rows(values_only=True))
    indicators = [f for f in meta.fields if f.key.startswith("mns.")]
    strengths = [f for f in indicators if f.strength]
    assert [f.key for f in strengths] == [f"mns.{c}" for c in STRENGTHS]
    assert tuple(dict.fromkeys(f.section for f in strengths)) == STRENGTH_SECTIONS
    # every strength column comes after every need column, and no need is in their sections
    assert indicators[-len(strengths) :] == strengths
    assert not any(f.section in STRENGTH_SECTIONS for f in indicators if not f.strength)
    ws = wb[SAMPLE]
    letters = columns(ws)
    fills = {f.key: ws[f"{letters[f.key]}1"].fill.fgColor.rgb for f in indicators}
    strength_fills = {fills[f.key] for f in strengths}
    assert len(strength_fills) == 1
    assert strength_fills.isdisjoint(fills[f.key] for f in indicators if not f.strength)


def test_the_guidance_says_yes_means_present(form: Path) -> None:
    ws = load_workbook(form)[GUIDANCE]
    rows = {
        str(row[1].value): [str(c.value or "") for c in row]
        for row in ws.iter_rows()
        if row[1].value
    }
    for code in STRENGTHS:
        row = rows[f"mns.{code}"]
        assert row[2] in STRENGTH_SECTIONS
        assert "yes: the strength is present" in row[5]
        assert row[6] == MNS.indicator(code).definition
    assert "strength" not in rows["mns.homeless"][5]


def test_a_form_filled_with_strengths_reads_back_the_same(tmp_path: Path) -> None:
    form = write_workbook(
        tmp_path / "form.xlsx", _cases(), audit="baseline", required=["need_group"]
    )
    answers = {
        ("R1", "trusted_adult"): ("yes", True),
        ("R1", "supportive_parent_carer"): ("No", False),
        ("R2", "positive_peer_group"): ("y", True),
        ("R2", "community_activities"): (False, False),
        ("R3", "family_community_links"): ("YES", True),
        ("R3", "self_esteem"): ("n", False),
    }
    entries: dict[tuple[str, str], object] = {
        (case, f"mns.{code}"): raw for (case, code), (raw, _) in answers.items()
    }
    entries.update({(case, "need_group"): "G1" for case in ("R1", "R2", "R3")})
    entries[("R1", "mns.domestic_abuse")] = "yes"
    fill(form, entries, cover={"role": "professional"})
    records = read_workbooks([form])
    assert records.issues.num_rows == 0
    got = {row["case_id"]: row for row in records.cases.to_pylist()}
    assert sorted(got) == ["R1", "R2", "R3"]
    for case in ("R1", "R2", "R3"):
        for code in STRENGTHS:
            expected = answers.get((case, code), (None, None))[1]
            assert got[case][f"mns.{code}"] is expected, (case, code)
    assert got["R1"]["mns.domestic_abuse"] is True
    assert records.cases.schema.field("mns.trusted_adult").type == pa.bool_()


def test_a_form_made_before_strengths_reads_as_needs_only() -> None:
    """Hidden sheets written before the strength column still read (their fields: needs)."""
    field = Field(key="mns.homeless", label="Homeless", kind="flag", table="cases", section="Home")
    rows = [row[:8] if row[0] == "field" else row for row in meta_rows([field], [], [])]
    assert parse_meta(rows).fields == (field,)
    strength = Field(
        key="mns.trusted_adult", label="A trusted adult", kind="flag", table="cases", strength=True
    )
    assert parse_meta(meta_rows([strength], [], [])).fields == (strength,)


@pytest.mark.parametrize("plain", [False, True])
def test_the_printable_form_marks_the_strengths_sections(plain: bool) -> None:
    page = render_printable(plain=plain)
    note = (
        "What is going well: tick Yes for each one that is true."
        if plain
        else "Strengths and protective factors: tick Yes when present."
    )
    assert page.count('<section class="section strengths">') == len(STRENGTH_SECTIONS)
    assert page.count(note) == len(STRENGTH_SECTIONS)
    for heading in STRENGTH_SECTIONS:
        start = page.index(f"<h2>{heading}</h2>")
        assert page.rfind('<section class="section strengths">', 0, start) > page.rfind(
            '<section class="section">', 0, start
        )
    needs_only = render_printable(indicators=["homeless", "domestic_abuse"])
    assert 'class="section strengths"' not in needs_only
    assert "Strengths and protective factors" not in needs_only
