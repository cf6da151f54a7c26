"""`mns explain`, `mns sample` and `mns form` on small hand-made records."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq
import pytest

import mns
from mns.cli._common import EXIT_INPUT, EXIT_USAGE
from mns.plan import load_plan
from tests.cli._helpers import run

PLAN = """
[plan]
name = "Test plan"
language = "cin"

[[cluster]]
code = "A"
name = "Parents"

[[need_group]]
code = "NG1"
name = "Parental mental health"
cluster = "A"
rule = "cin.4B"

[[need_group]]
code = "NG2"
name = "Domestic violence"
cluster = "A"
rule = "cin.3A"

[[service]]
code = "S1"
name = "Adult mental health liaison"
need_groups = ["NG1"]
threshold = "cin.4B and age < 10"
capacity = 10
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "plan.toml").write_text(PLAN, "utf-8")
    lines = ["case_id,age,sex,area,cin.4B,cin.3A"]
    lines.extend(
        f"C{i:03d},{i % 18},{'MF'[i % 2]},EX{i % 3 + 1},{i % 4 == 0},{i % 3 == 0}"
        for i in range(60)
    )
    lines.append("C999,,F,EX1,false,")  # need group unknown: cin.3A missing
    (tmp_path / "cases.csv").write_text("\n".join(lines) + "\n", "utf-8")
    return tmp_path


def test_explain_says_why(folder: Path) -> None:
    result = run("explain", "C000", str(folder / "cases.csv"), "--plan", str(folder / "plan.toml"))
    assert result.exit_code == 0, result.output
    assert "Need group: NG1 Parental mental health" in result.stdout
    assert "S1 Adult mental health liaison: MET" in result.stdout


def test_explain_json_agrees_with_classify(folder: Path) -> None:
    cases = mns.read(folder / "cases.csv").cases
    classified = mns.classify(cases, load_plan(folder / "plan.toml"))
    expected = dict(
        zip(
            classified.column("case_id").to_pylist(),
            classified.column("need_group").to_pylist(),
            strict=True,
        )
    )
    for case_id in ("C000", "C003", "C001", "C999"):
        result = run(
            "explain",
            case_id,
            str(folder / "cases.csv"),
            "--plan",
            str(folder / "plan.toml"),
            "--json",
        )
        data = json.loads(result.stdout)
        assert data["need_group"] == expected[case_id]
    assert expected["C999"] == "unknown"
    assert data["missing_fields"] == ["cin.3A"]


def test_explain_unknown_case_suggests(folder: Path) -> None:
    result = run("explain", "C0001", str(folder / "cases.csv"), "--plan", str(folder / "plan.toml"))
    assert result.exit_code == EXIT_INPUT
    assert "no case 'C0001'" in result.stderr
    assert "did you mean" in result.stderr


def test_explain_bad_plan_is_one_message(folder: Path) -> None:
    bad = folder / "bad.toml"
    bad.write_text(PLAN.replace('rule = "cin.4B"', 'rule = "cin.4Z"'), "utf-8")
    result = run("explain", "C000", str(folder / "cases.csv"), "--plan", str(bad))
    assert result.exit_code == EXIT_INPUT
    assert "4Z" in result.stderr
    assert "Traceback" not in result.stderr


def test_sample_size_only() -> None:
    result = run("sample", "--margin", "0.05", "--json")
    assert json.loads(result.stdout)["sample_size"] == mns.sample_size(0.05)
    result = run("sample", "--margin", "0.07", "--population", "1400")
    assert f"{mns.sample_size(0.07, population=1400)} cases" in result.stdout


def test_sample_draws_and_writes(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "sample"
    args = ["sample", str(folder / "cases.csv"), "--n", "12", "--seed", "7", "--strata", "area"]
    result = run(*args, "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["cases"] == 12
    assert sum(row["sampled"] for row in data["strata"]) == 12
    drawn = pq.read_table(out / "cases.parquet")
    expected = mns.sample(mns.read(folder / "cases.csv").cases, 12, seed=7, strata="area")
    assert drawn.column("case_id").to_pylist() == expected.cases.column("case_id").to_pylist()
    assert "sample_weight" in drawn.column_names
    # the same seed draws the same sample again
    again = json.loads(run(*args, "--json").stdout)
    assert again["strata"] == data["strata"]


def test_sample_needs_a_seed_and_a_size(folder: Path) -> None:
    assert run("sample", str(folder / "cases.csv"), "--n", "5").exit_code == EXIT_USAGE
    assert run("sample", str(folder / "cases.csv"), "--seed", "1").exit_code == EXIT_USAGE
    zero = run("sample", "--margin", "0")
    assert zero.exit_code == EXIT_USAGE
    assert "--margin" in zero.output
    too_many = run("sample", str(folder / "cases.csv"), "--seed", "1", "--n", "100000")
    assert too_many.exit_code == EXIT_USAGE
    assert "n must be 1 to" in too_many.output
    both = run("sample", str(folder / "cases.csv"), "--seed", "1", "--n", "5", "--margin", "0.1")
    assert both.exit_code == EXIT_USAGE
    assert run("sample").exit_code == EXIT_USAGE


def test_sample_by_margin(folder: Path) -> None:
    result = run("sample", str(folder / "cases.csv"), "--margin", "0.2", "--seed", "1", "--json")
    assert json.loads(result.stdout)["cases"] == mns.sample_size(0.2, population=61)


def test_sample_from_a_file_without_cases(folder: Path) -> None:
    other = folder / "referrals.csv"
    other.write_text((folder / "cases.csv").read_text("utf-8"), "utf-8")
    result = run("sample", str(other), "--n", "5", "--seed", "1")
    assert result.exit_code == EXIT_INPUT
    assert "no cases were read" in result.stderr
    assert "-o table=cases" in result.stderr  # the flag, not mns.read's keyword
    assert "table='cases'" not in result.stderr
    ok = run("sample", str(other), "--option", "table=cases", "--n", "5", "--seed", "1")
    assert ok.exit_code == 0


def test_form_workbook_for_a_sample(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "sample"
    run(
        "sample",
        str(folder / "cases.csv"),
        "--n",
        "10",
        "--seed",
        "3",
        "--audit",
        "pilot",
        "--out",
        str(out),
    )
    book = tmp_path / "form.xlsx"
    result = run(
        "form",
        "workbook",
        str(out),
        "--language",
        "cin",
        "--plan",
        str(folder / "plan.toml"),
        "--out",
        str(book),
    )
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(book)
    assert len(wb.sheetnames) >= 2
    cells = [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value]
    assert any("pilot" in c for c in cells)
    sampled = pq.read_table(out / "cases.parquet").column("case_id").to_pylist()
    assert len(sampled) == 10
    assert set(sampled) <= set(cells)


def test_form_printable(tmp_path: Path) -> None:
    out = tmp_path / "form.html"
    result = run("form", "printable", "--plain", "--out", str(out), "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["plain"] is True
    assert out.read_text("utf-8").lstrip().lower().startswith("<!doctype html")


def test_classify_counts_with_disclosure(folder: Path, tmp_path: Path) -> None:
    args = ["classify", str(folder / "cases.csv"), "--plan", str(folder / "plan.toml")]
    data = json.loads(run(*args, "--json").stdout)
    plan = load_plan(folder / "plan.toml")
    classified = mns.classify(mns.read(folder / "cases.csv").cases, plan)
    values = classified.column("need_group").to_pylist()
    counts = {row["need_group"]: row["cases"] for row in data["need_groups"]}
    for group, shown_count in counts.items():
        assert shown_count in (None, values.count(group)), group
    assert values.count("unknown") == 1
    assert counts["unknown"] is None  # 1 case: withheld, and another cell with it
    assert sum(v is None for v in counts.values()) >= 2
    shown = json.loads(run(*args, "--no-disclose", "--json").stdout)
    assert {r["need_group"]: r["cases"] for r in shown["need_groups"]}["unknown"] == 1
    text = run(*args).stdout
    assert "unknown     c" in text


def test_classify_writes_the_records(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "classified"
    args = ["classify", str(folder / "cases.csv"), "--plan", str(folder / "plan.toml")]
    assert run(*args, "--out", str(out)).exit_code == 0
    back = mns.read(out)
    assert "need_group" in back.cases.column_names
    assert "threshold.S1" in back.cases.column_names
    every = json.loads(run(*args, "--mode", "all", "--no-disclose", "--json").stdout)
    assert [r["need_group"] for r in every["need_groups"]] == ["NG1", "NG2"]
