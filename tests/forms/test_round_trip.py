"""Generate a form, fill it as an auditor would, read it back: the same values, and every
invalid entry located exactly (sheet, cell, field, value)."""

from __future__ import annotations

import datetime as dt
import string
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa
import pytest
from hypothesis import assume, given, settings, strategies as st

import mns
from mns.errors import AdapterError, RecordError
from mns.forms import build_workbook, form_adapter, read_workbooks, write_workbook
from mns.forms._layout import Field, FieldKind
from mns.forms.workbook import form_fields
from mns.lang import Language, language as shipped
from mns.plan.model import Plan
from mns.plugins.adapter import Source
from mns.records import schema
from tests.forms._fill import fill
from tests.strategies import codes, languages, plans

ROLES = ("professional", "shadow", "mixed")
#: Each example writes, fills and reads a real workbook (about 0.15 s): a quarter of the
#: profile's examples keeps the suite fast and still grows with the "thorough" profile.
FORM_EXAMPLES = settings(max_examples=max(10, settings().max_examples // 4))
safe_text = st.text(
    string.ascii_letters + string.digits + " .,'-&<>\"", min_size=1, max_size=20
).filter(lambda s: s.strip() == s and s)


def _answer(field: Field) -> st.SearchStrategy[tuple[object, object]]:
    """(what an auditor puts in the cell, the value it means) for a valid answer."""
    if field.kind == FieldKind.FLAG:
        return st.sampled_from(
            [
                ("yes", True),
                ("no", False),
                ("Yes", True),
                ("N", False),
                (True, True),
                (False, False),
            ]
        )
    if field.kind == FieldKind.RATING:
        return st.integers(0, 3).flatmap(
            lambda r: st.sampled_from([(r, r), (str(r), r), (float(r), r)])
        )
    if field.kind == FieldKind.CATEGORY:
        return st.sampled_from(field.values).flatmap(
            lambda v: st.sampled_from([(v[1], v[0]), (v[0], v[0])])
        )
    if field.kind == FieldKind.SERVICES:
        pool = [code for code, _ in field.values] or ["S1", "S2", "home-visits"]
        return st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True).map(
            lambda cs: ("; ".join(cs), cs)
        )
    if field.key == "notes":
        return safe_text.map(lambda t: (t, t))
    return codes.map(lambda t: (t, t))  # need group codes without a plan


def _setup(draw: st.DrawFn) -> tuple[Language, Plan | None, pa.Table]:
    language = draw(languages())
    plan = draw(st.none() | plans())
    n = draw(st.integers(1, 5))
    ids = draw(st.lists(codes, min_size=n, max_size=n, unique=True))
    table = pa.table(
        {
            "case_id": ids,
            "age": pa.array(
                draw(st.lists(st.none() | st.integers(0, 20), min_size=n, max_size=n)), pa.int16()
            ),
            "sex": draw(
                st.lists(st.none() | st.sampled_from(["M", "F", "U"]), min_size=n, max_size=n)
            ),
            "reference_date": draw(st.lists(st.none() | st.dates(), min_size=n, max_size=n)),
            "agency": draw(st.lists(st.none() | safe_text, min_size=n, max_size=n)),
        }
    )
    return language, plan, table


@st.composite
def filled(draw: st.DrawFn) -> dict[str, Any]:
    """A form for random cases of a random language, and a valid answer for every cell."""
    language, plan, table = _setup(draw)
    fields = form_fields(table, language, plan)
    entries: dict[tuple[str, str], object] = {}
    expected: dict[tuple[str, str], object] = {}
    for case_id in table.column("case_id").to_pylist():
        for field in fields:
            if field.prefilled:
                continue
            optional = not field.required
            if optional and draw(st.booleans()):
                continue
            raw, value = draw(_answer(field))
            entries[(case_id, field.key)] = raw
            expected[(case_id, field.key)] = value
    cover = {
        "role": draw(st.sampled_from(ROLES)),
        "audit": draw(codes),
        "auditor": draw(st.none() | safe_text),
        "reference_date": draw(st.none() | st.dates(dt.date(2000, 1, 1), dt.date(2040, 1, 1))),
    }
    return {
        "language": language,
        "plan": plan,
        "table": table,
        "fields": fields,
        "entries": entries,
        "expected": expected,
        "cover": cover,
    }


def _write(case: Mapping[str, Any], folder: Path, name: str = "form.xlsx") -> Path:
    path = folder / name
    write_workbook(path, case["table"], language=case["language"], plan=case["plan"])
    return path


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


@FORM_EXAMPLES
@given(filled())
def test_filled_form_reads_back_identically(case: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(case, Path(tmp))
        fill(path, case["entries"], cover=case["cover"])
        records = read_workbooks([path])

    assert _rows(records.issues) == []
    fields: list[Field] = case["fields"]
    table: pa.Table = case["table"]
    cases = {row["case_id"]: row for row in _rows(records.cases)}
    assert list(cases) == sorted(table.column("case_id").to_pylist())
    schema.check(records.cases, "cases")
    for known in table.to_pylist():
        got = cases[known["case_id"]]
        for key in ("age", "sex", "reference_date", "agency"):
            assert got[key] == known[key]
        for field in fields:
            if field.table == "cases" and not field.prefilled:
                assert got[field.key] == case["expected"].get((known["case_id"], field.key))
                assert (
                    records.cases.schema.field(field.key).type
                    == {
                        FieldKind.FLAG: pa.bool_(),
                        FieldKind.RATING: pa.int8(),
                        FieldKind.CATEGORY: schema.CATEGORY,
                    }[field.kind]
                )

    cover = case["cover"]
    expected_assignments = [
        {
            "case_id": case_id,
            "audit": cover["audit"],
            "role": cover["role"],
            "need_group": case["expected"].get((case_id, "need_group")),
            "auditor": cover["auditor"],
            "consensus": case["expected"].get((case_id, "consensus")),
            "notes": case["expected"].get((case_id, "notes")),
        }
        for case_id in sorted(table.column("case_id").to_pylist())
    ]
    assert _rows(records.assignments) == expected_assignments
    expected_services = sorted(
        (case_id, code)
        for (case_id, key), codes_ in case["expected"].items()
        if key == "services"
        for code in codes_
    )
    assert [(r["case_id"], r["service"]) for r in _rows(records.services)] == expected_services
    assert records.provenance.reference_date == cover["reference_date"]
    assert records.provenance.adapter == "audit-form"


def _bad(field: Field) -> st.SearchStrategy[object]:
    if field.kind == FieldKind.RATING:
        return st.sampled_from([5, -1, 3.5, "high", "4"])
    if field.kind == FieldKind.FLAG:
        return st.sampled_from(["maybe", 2, "yess"])
    return st.just("not-a-listed-value")


@st.composite
def one_bad_cell(draw: st.DrawFn) -> dict[str, Any]:
    """A validly filled form with one entry made invalid, or one required cell left blank."""
    case = draw(filled())
    candidates = [
        (case_id, f)
        for case_id in case["table"].column("case_id").to_pylist()
        for f in case["fields"]
        if f.kind in (FieldKind.FLAG, FieldKind.RATING, FieldKind.CATEGORY) and not f.prefilled
    ]
    assume(candidates)
    case_id, field = draw(st.sampled_from(candidates))
    blank = field.required and draw(st.booleans())
    bad = None if blank else draw(_bad(field))
    entries = dict(case["entries"])
    entries[(case_id, field.key)] = bad
    return {**case, "entries": entries, "bad": (case_id, field, bad)}


@FORM_EXAMPLES
@given(one_bad_cell())
def test_an_invalid_entry_is_located_exactly(case: dict[str, Any]) -> None:
    case_id, field, bad = case["bad"]
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(case, Path(tmp))
        refs = fill(path, case["entries"], cover=case["cover"])
        records = read_workbooks([path])
        with pytest.raises(RecordError) as raised:
            read_workbooks([path], strict=True)
    ref = refs[(case_id, field.key)]
    (issue,) = _rows(records.issues)
    sheet, cell = ref.split("!")
    assert issue["source"] == str(path)
    assert (issue["sheet"], f"{issue['column']}{issue['row']}") == (sheet, cell)
    assert issue["field"] == field.key
    assert issue["record"] == case_id
    assert issue["severity"] == "error"
    assert issue["message"].startswith(f"{ref}: ")
    if bad is None:
        assert issue["value"] is None
        assert "required but blank" in issue["message"]
        assert issue["action"] == "kept"
    else:
        assert issue["value"] == (
            str(int(bad)) if isinstance(bad, float) and bad.is_integer() else str(bad)
        )
        assert issue["action"] == "blanked"
    assert raised.value.row == issue["row"]
    assert raised.value.field == field.key
    # the bad cell reads as missing, and nothing else changes
    target = records.cases if field.table == "cases" else records.assignments
    row = next(r for r in _rows(target) if r["case_id"] == case_id)
    assert row[field.key] is None


def _filled_workbook(
    folder: Path,
    name: str,
    table: pa.Table,
    role: str,
    answers: Mapping[tuple[str, str], object],
    **kw: Any,
) -> Path:
    path = folder / name
    write_workbook(path, table, role=role, indicators=["homeless", "family_conflict_level"], **kw)
    fill(path, answers)
    return path


def test_professional_and_shadow_read_together(tmp_path: Path) -> None:
    table = pa.table({"case_id": ["C1", "C2", "C3"]})
    professional = _filled_workbook(
        tmp_path,
        "pro.xlsx",
        table,
        "professional",
        {
            ("C1", "mns.homeless"): "yes",
            ("C1", "mns.family_conflict_level"): 2,
            ("C1", "need_group"): "NG1",
            ("C2", "mns.homeless"): "no",
            ("C2", "mns.family_conflict_level"): 0,
            ("C2", "need_group"): "NG2",
            ("C3", "mns.homeless"): "no",
            ("C3", "mns.family_conflict_level"): 1,
            ("C3", "need_group"): "NG2",
        },
        audit="baseline",
        auditor="Panel A",
    )
    shadow = _filled_workbook(
        tmp_path,
        "shadow.xlsx",
        table,
        "shadow",
        {
            ("C1", "mns.homeless"): "yes",
            ("C1", "need_group"): "NG1",
            ("C2", "mns.family_conflict_level"): 3,
            ("C2", "need_group"): "NG1",
            ("C3", "need_group"): "NG2",
        },
        audit="baseline",
        required=["need_group"],
    )
    # shadow first: the professional values still win in cases, whatever the order given
    records = read_workbooks([shadow, professional])
    rows = _rows(records.assignments)
    assert [(r["case_id"], r["role"], r["need_group"]) for r in rows] == [
        ("C1", "professional", "NG1"),
        ("C1", "shadow", "NG1"),
        ("C2", "professional", "NG2"),
        ("C2", "shadow", "NG1"),
        ("C3", "professional", "NG2"),
        ("C3", "shadow", "NG2"),
    ]
    assert [r["auditor"] for r in rows] == ["Panel A", None] * 3
    cases = _rows(records.cases)
    assert [(c["case_id"], c["mns.homeless"], c["mns.family_conflict_level"]) for c in cases] == [
        ("C1", True, 2),
        ("C2", False, 0),
        ("C3", False, 1),
    ]
    issues = _rows(records.issues)
    assert len(issues) == 3
    assert all("audited more than once" in i["message"] for i in issues)
    assert sorted(i["record"] for i in issues) == ["C1", "C2", "C3"]
    assert all(i["source"] == str(shadow) and i["severity"] == "warning" for i in issues)
    (conflict,) = [i for i in issues if i["record"] == "C2"]
    assert conflict["field"] == "mns.family_conflict_level"
    assert conflict["value"] == "3"
    assert conflict["message"].startswith(
        f"Sample!A4: case 'C2' is audited more than once (also {professional} Sample!A4)"
    )
    assert "1 answer(s) here differ from it (mns.family_conflict_level)" in conflict["message"]
    # every answer of both groups is kept, with its audit group
    every = _rows(records.extra["form_rows"])
    assert [
        (r["case_id"], r["role"], r["mns.family_conflict_level"], r["source"], r["row"])
        for r in every
    ] == [
        ("C1", "professional", 2, str(professional), 3),
        ("C1", "shadow", None, str(shadow), 3),
        ("C2", "professional", 0, str(professional), 4),
        ("C2", "shadow", 3, str(shadow), 4),
        ("C3", "professional", 1, str(professional), 5),
        ("C3", "shadow", None, str(shadow), 5),
    ]
    # nothing lost: rows in the source = cases kept + cases rejected
    from mns.records.issues import rejected

    assert records.cases.num_rows + rejected(records.issues, "cases") == 6
    assert records.assignments.num_rows + rejected(records.issues, "assignments") == 6


def test_same_case_twice_in_one_workbook(tmp_path: Path) -> None:
    path = tmp_path / "form.xlsx"
    write_workbook(path, pa.table({"case_id": ["C1", "C2"]}), indicators=["homeless"], required=[])
    fill(path, {("C2", "need_group"): "NG3"})
    from openpyxl import load_workbook

    wb = load_workbook(path)
    wb["Sample"]["A5"] = "C1"
    wb["Sample"]["C5"] = "NG4"
    wb.save(path)
    records = read_workbooks([path])
    assert [(r["case_id"], r["need_group"]) for r in _rows(records.assignments)] == [
        ("C1", None),
        ("C1", "NG4"),
        ("C2", "NG3"),
    ]
    assert records.cases.column("case_id").to_pylist() == ["C1", "C2"]
    (issue,) = _rows(records.issues)
    assert issue["message"].startswith("Sample!A5: case 'C1' is audited more than once (also")


def test_cover_and_layout_problems_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "form.xlsx"
    write_workbook(path, pa.table({"case_id": ["C1", "C2"]}), indicators=["homeless"], required=[])
    fill(
        path,
        {("C1", "need_group"): "NG1"},
        cover={"role": "parents", "audit": None, "reference_date": "soon"},
    )
    from openpyxl import load_workbook

    wb = load_workbook(path)
    ws = wb["Sample"]
    ws["G2"] = "my_column"
    ws["G3"] = "keep me"
    ws["B7"] = "yes"  # a row without a case id
    wb.save(path)
    records = read_workbooks([path])
    issues = {(i["sheet"], i["column"], i["row"], i["table"]): i for i in _rows(records.issues)}
    assert issues[("Cover", "B", 3, None)]["message"].startswith(
        "Cover!B3: the audit name is blank"
    )
    role = issues[("Cover", "B", 4, "assignments")]
    assert role["value"] == "parents"
    assert "not one of professional, shadow, mixed" in role["message"]
    assert issues[("Cover", "B", 5, None)]["value"] == "soon"
    stray = issues[("Sample", "G", 3, None)]
    assert (stray["value"], stray["field"], stray["action"]) == ("keep me", "my_column", "blanked")
    lost = issues[("Sample", "B", 7, "cases")]
    assert (lost["value"], lost["field"], lost["action"]) == ("yes", "mns.homeless", "rejected")
    assert issues[("Sample", "A", 7, "assignments")]["action"] == "rejected"
    # no valid audit group: both assignments are reported instead of read, the need group kept
    assert records.assignments.num_rows == 0
    rejected = [
        i for i in _rows(records.issues) if i["table"] == "assignments" and i["sheet"] == "Sample"
    ]
    assert sorted((i["record"], i["value"]) for i in rejected if i["record"]) == [
        ("C1", "NG1"),
        ("C2", None),
    ]
    assert records.cases.column("case_id").to_pylist() == ["C1", "C2"]


def test_not_a_form_is_refused(tmp_path: Path) -> None:
    from openpyxl import Workbook

    path = tmp_path / "annex_a.xlsx"
    Workbook().save(path)
    with pytest.raises(AdapterError, match="not an mns audit form"):
        read_workbooks([path])
    text = tmp_path / "notes.xlsx"
    text.write_text("hello")
    with pytest.raises(AdapterError, match="not an XLSX workbook"):
        read_workbooks([text])


def test_adapter_record_and_conformance(tmp_path: Path) -> None:
    adapter = form_adapter()
    assert adapter.name == "audit-form"
    assert adapter.suffixes == (".xlsx",)
    clean = tmp_path / "clean.xlsx"
    write_workbook(clean, pa.table({"case_id": ["A", "B", "C"]}), indicators=["homeless"])
    fill(
        clean, {(c, k): v for c in "ABC" for k, v in (("mns.homeless", "no"), ("need_group", "G1"))}
    )
    messy = tmp_path / "messy.xlsx"
    write_workbook(messy, pa.table({"case_id": ["A", "B"]}), indicators=["family_conflict_level"])
    fill(messy, {("A", "mns.family_conflict_level"): 5, ("B", "need_group"): "G2"})
    records = adapter.read([Source.from_path(clean)], {})
    assert records.cases.num_rows == 3
    import mns.testing

    samples: dict[str | Path | tuple[str | Path, ...], Mapping[str, int]] = {
        clean: {"cases": 3, "assignments": 3},
        messy: {"cases": 2, "assignments": 2},
        (clean, messy): {"cases": 5, "assignments": 5},
    }
    report = mns.testing.conformance(adapter, samples)
    assert report.adapter == "audit-form"


def test_a_sample_becomes_a_form_and_back(tmp_path: Path) -> None:
    """The workflow end to end on the shipped language: draw, write, fill, read."""
    cases = pa.table(
        {
            "case_id": [f"K{i:03d}" for i in range(40)],
            "area": pa.array(["East", "West"] * 20).dictionary_encode(),
            "age": pa.array([i % 18 for i in range(40)], pa.int16()),
        }
    )
    drawn = mns.sample(cases, 10, seed=11, strata="area", audit="re-audit-2027")
    path = write_workbook(tmp_path / "f.xlsx", drawn, required=["need_group"])
    language = shipped("mns")
    answers: dict[tuple[str, str], object] = {}
    for i, case_id in enumerate(drawn.cases.column("case_id").to_pylist()):
        answers[(case_id, "need_group")] = f"NG{i % 3}"
        for indicator in language.indicators[::5]:
            key = f"mns.{indicator.code}"
            answers[(case_id, key)] = {"flag": "yes", "rating": i % 4}.get(
                indicator.kind.value, indicator.values[0].label if indicator.values else None
            )
    fill(path, answers)
    records = mns.forms.read_workbooks([path])
    assert _rows(records.issues) == []
    back = records.cases.select(["case_id", "area", "age", "stratum", "sample_weight"])
    assert back.to_pylist() == drawn.cases.select(back.column_names).to_pylist()
    assert all(r["audit"] == "re-audit-2027" for r in _rows(records.assignments))
    living = records.cases.column("mns.living_with").to_pylist()
    assert set(living) == {language.indicator("living_with").values[0].code}


def test_fields_are_frozen_records() -> None:
    wb = build_workbook(pa.table({"case_id": ["a"]}), indicators=["homeless"])
    assert wb.sheetnames[0] == "Cover"
    field = form_fields(pa.table({"case_id": ["a"]}), shipped("mns"), indicators=["homeless"])[1]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        field.key = "x"  # type: ignore[misc]
