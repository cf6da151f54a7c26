"""The audit-form workbook: sheets, pre-filled facts and working drop-downs, read back with
openpyxl as a spreadsheet program would see them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

import mns
from mns.errors import MnsError
from mns.forms import build_workbook, sniff, write_workbook
from mns.forms._layout import COVER, GUIDANCE, LISTS, META, SAMPLE
from mns.lang import Kind, language as shipped
from mns.plan.model import NeedGroup, Plan, Service

PLAN = Plan(
    name="Northtown plan",
    language="mns",
    need_groups=(
        NeedGroup(code="NG1", name="Parents' mental health & substance use"),
        NeedGroup(code="NG2", name="Children beyond parental control"),
        NeedGroup(code="NG3", name="Disabled children, families coping"),
    ),
    services=(
        Service(code="FFT", name="Functional family therapy", need_groups=("NG2",)),
        Service(code="SB", name="Short breaks", need_groups=("NG3",)),
    ),
)


def _cases(n: int = 12) -> pa.Table:
    return pa.table(
        {
            "case_id": [f"R{i:03d}" for i in range(n)],
            "reference_date": [dt.date(2026, 3, 31)] * n,
            "age": pa.array([i % 17 for i in range(n)], pa.int16()),
            "sex": pa.array(["F", "M", "U"] * (n // 3) + ["F"] * (n % 3)).dictionary_encode(),
            "area": pa.array(["N1", "N2"] * (n // 2) + ["N1"] * (n % 2)).dictionary_encode(),
            "mns.homeless": pa.array([True, None, False] * (n // 3) + [None] * (n % 3)),
        }
    )


def _list_values(wb: Workbook, formula: str) -> list[object]:
    sheet, cells = formula.split("!")
    assert sheet.strip("'") == LISTS
    ws = wb[LISTS]
    return [c.value for row in ws[cells.replace("$", "")] for c in row]


@pytest.fixture(scope="module")
def form(tmp_path_factory: pytest.TempPathFactory) -> Path:
    drawn = mns.sample(_cases(), 9, seed=2, strata="area", audit="baseline-2026")
    path = tmp_path_factory.mktemp("form") / "professional.xlsx"
    written = write_workbook(
        path, drawn, plan=PLAN, auditor="Team A", reference_date=dt.date(2026, 3, 31)
    )
    assert written == path
    return path


def test_sheets_and_cover(form: Path) -> None:
    wb = load_workbook(form)
    assert wb.sheetnames == [COVER, SAMPLE, GUIDANCE, LISTS, META]
    assert wb[LISTS].sheet_state == "hidden"
    assert wb[META].sheet_state == "hidden"
    assert wb.sheetnames[wb.index(wb.active)] == COVER  # type: ignore[arg-type]
    cover = wb[COVER]
    assert cover["B3"].value == "baseline-2026"
    assert cover["B4"].value == "professional"
    assert cover["B5"].value.date() == dt.date(2026, 3, 31)
    assert cover["B6"].value == "Team A"
    (role,) = cover.data_validations.dataValidation
    assert role.type == "list"
    assert role.formula1 == '"professional,shadow,mixed"'
    assert str(role.sqref) == "B4"
    texts = [c.value for row in cover.iter_rows() for c in row if isinstance(c.value, str)]
    assert "9 of 12 cases (75.0%), in 2 strata" in texts
    assert wb.properties.keywords == "mns-audit-form"


def test_known_facts_prefilled(form: Path) -> None:
    ws = load_workbook(form)[SAMPLE]
    keys = [c.value for c in ws[2]]
    assert keys[:7] == [
        "case_id",
        "reference_date",
        "age",
        "sex",
        "area",
        "stratum",
        "sample_weight",
    ]
    assert keys[-4:] == ["need_group", "consensus", "services", "notes"]
    drawn = mns.sample(_cases(), 9, seed=2, strata="area")
    expected = drawn.cases.to_pylist()
    for offset, case in enumerate(expected):
        row: list[Any] = [c.value for c in ws[3 + offset]]
        assert row[0] == case["case_id"]
        assert row[1].date() == case["reference_date"]
        assert row[2:7] == [
            case["age"],
            case["sex"],
            case["area"],
            case["stratum"],
            case["sample_weight"],
        ]
        homeless = row[keys.index("mns.homeless")]
        assert homeless == {True: "yes", False: "no", None: None}[case["mns.homeless"]]
    assert ws.max_row == 2 + len(expected)
    assert ws.freeze_panes == "B3"


def test_every_indicator_has_a_working_drop_down(form: Path) -> None:
    """The validations as a spreadsheet program sees them: a list, from the right values,
    on exactly the case rows of the right column."""
    wb = load_workbook(form)
    ws: Worksheet = wb[SAMPLE]
    keys = {c.value: get_column_letter(c.column or 0) for c in ws[2]}
    last = ws.max_row
    validations = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    language = shipped("mns")
    for indicator in language.indicators:
        column = keys[f"mns.{indicator.code}"]
        dv = validations.pop(f"{column}3:{column}{last}")
        assert dv.type == "list"
        assert dv.showErrorMessage
        assert dv.errorStyle == "stop"
        assert dv.allow_blank
        assert not dv.showDropDown  # in OOXML, true would *hide* the arrow
        values = _list_values(wb, dv.formula1)
        if indicator.kind is Kind.FLAG:
            assert values == ["yes", "no"]
        elif indicator.kind is Kind.RATING:
            assert values == [0, 1, 2, 3]
            for label in language.rating_labels:
                assert label in dv.prompt
        else:
            assert values == [v.label for v in indicator.values]
        assert dv.prompt.startswith(indicator.definition[:100])
    group = validations.pop(f"{keys['need_group']}3:{keys['need_group']}{last}")
    assert _list_values(wb, group.formula1) == [f"{g.code}: {g.name}" for g in PLAN.need_groups]
    consensus = validations.pop(f"{keys['consensus']}3:{keys['consensus']}{last}")
    assert _list_values(wb, consensus.formula1) == ["yes", "no"]
    sex = validations.pop(f"{keys['sex']}3:{keys['sex']}{last}")
    assert _list_values(wb, sex.formula1) == ["M", "F", "U"]
    assert validations == {}  # nothing else is constrained


def test_guidance_defines_every_column(form: Path) -> None:
    ws = load_workbook(form)[GUIDANCE]
    text = {str(c.value) for row in ws.iter_rows() for c in row if c.value is not None}
    language = shipped("mns")
    for indicator in language.indicators:
        assert indicator.label in text
        assert indicator.definition in text
        assert f"mns.{indicator.code}" in text
    for label in language.rating_labels:
        assert label in text
    for group in PLAN.need_groups:
        assert group.name in text
    assert (
        "service codes separated by ';': FFT = Functional family therapy; SB = Short breaks" in text
    )


def test_sniff_claims_forms_only(form: Path, tmp_path: Path) -> None:
    assert sniff(form.read_bytes()[:4096])
    other = Workbook()
    first = other.active
    assert isinstance(first, Worksheet)
    first.title = "List 1"
    other.create_sheet("List 2")
    first["A1"] = "Child ID"
    plain = tmp_path / "annex_a.xlsx"
    other.save(plain)
    assert not sniff(plain.read_bytes()[:4096])
    assert not sniff(b"")
    assert not sniff(b"PK\x03\x04" + b"\x00" * 40)
    assert not sniff(b"case_id,age\nC1,4\n")
    # saved again by a spreadsheet library, it is still recognised
    again = tmp_path / "again.xlsx"
    load_workbook(form).save(again)
    assert sniff(again.read_bytes()[:4096])


def test_user_language_subset_and_required(tmp_path: Path) -> None:
    wb = build_workbook(
        _cases(3),
        indicators=["homeless", "mns.family_conflict_level"],
        required=["homeless"],
        role="shadow",
    )
    ws = wb[SAMPLE]
    keys = [c.value for c in ws[2]]
    labels = [str(c.value) for c in ws[1]]
    assert keys == [
        "case_id", "reference_date", "age", "sex", "area",
        "mns.homeless", "mns.family_conflict_level", "need_group", "consensus", "services", "notes",
    ]  # fmt: skip
    assert labels[5].endswith(" *")
    assert not labels[6].endswith(" *")
    assert not labels[7].endswith(" *")  # need_group is required only by default
    assert wb[COVER]["B4"].value == "shadow"
    # without a plan the need group is free text: no drop-down
    constrained = {str(dv.sqref)[0] for dv in ws.data_validations.dataValidation}
    assert "H" not in constrained


@pytest.mark.parametrize(
    ("table", "kwargs", "words"),
    [
        (pa.table({"id": ["a"]}), {}, "no 'case_id' column"),
        (pa.table({"case_id": pa.array([], pa.string())}), {}, "no cases"),
        (pa.table({"case_id": ["a", "a"]}), {}, "occurs twice"),
        (pa.table({"case_id": ["a", None]}), {}, "has no case_id"),
        (pa.table({"case_id": ["a"], "mns.family_conflict_level": [7]}), {}, "not a 0-3 rating"),
        (pa.table({"case_id": ["a"], "mns.living_with": ["castle"]}), {}, "not one of the allowed"),
        (pa.table({"case_id": ["a"], "area": ["N\x01"]}), {}, "control characters"),
        (pa.table({"case_id": ["a"]}), {"role": "rules"}, "audit group 'rules'"),
        (pa.table({"case_id": ["a"]}), {"required": ["homles"]}, "required field 'homles'"),
    ],
)
def test_bad_input_is_refused_clearly(
    table: pa.Table, kwargs: dict[str, object], words: str
) -> None:
    with pytest.raises(MnsError, match=words):
        build_workbook(table, **kwargs)  # type: ignore[arg-type]
