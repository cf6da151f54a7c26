"""`mns audit`, `mns report` and `mns demo`: what they write, their errors and exit codes."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest

import mns
from mns.cli._common import EXIT_INPUT, EXIT_USAGE
from mns.plan.load import dump_plan
from tests.cli._helpers import run
from tests.report import handmade


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("inputs")
    mns.write(handmade._records(80, "C", 0), folder / "audit")
    mns.write(handmade._records(70, "B", 1), folder / "baseline")
    mns.write(handmade._records(300, "R", 2), folder / "referrals")
    (folder / "population.csv").write_text("area,children\nEX1,5200\nEX2,4100\nEX3,800\n", "utf-8")
    (folder / "plan.toml").write_text(dump_plan(handmade.plan()), "utf-8")
    return folder


def audit_args(inputs: Path, out: Path, *more: str) -> list[str]:
    return [
        "audit",
        str(inputs / "audit"),
        "--plan",
        str(inputs / "plan.toml"),
        "--baseline",
        str(inputs / "baseline"),
        "--referrals",
        str(inputs / "referrals"),
        "--population",
        str(inputs / "population.csv"),
        "--out",
        str(out),
        *more,
    ]


def test_audit_writes_tables_and_report(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "audit"
    result = run(*audit_args(inputs, out, "--json"))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["cases"] == 80
    assert data["min_count"] == 5
    assert Path(data["report"]) == out / "report.html"
    names = {
        "profile",
        "extrapolate",
        "match",
        "capacity",
        "agreement",
        "compare",
        "areas",
        "issues",
    }
    assert names <= set(data["tables"])
    for name in names:
        assert (out / f"{name}.csv").is_file()
        assert (out / f"{name}.parquet").is_file()
    assert (out / "plan.toml").is_file()
    meta = json.loads((out / "audit.json").read_text("utf-8"))
    assert set(meta["sources"]) == {"sample", "baseline", "referrals"}
    assert all(len(f["sha256"]) == 64 for f in meta["sources"]["sample"]["files"])
    assert not (out / "cases.parquet").exists()


def test_audit_text_summary(inputs: Path, tmp_path: Path) -> None:
    result = run(*audit_args(inputs, tmp_path / "audit"))
    assert result.exit_code == 0
    assert "80 cases audited" in result.stdout
    assert "counts below 5 withheld" in result.stdout


def test_audit_refuses_to_overwrite(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "audit"
    assert run(*audit_args(inputs, out)).exit_code == 0
    again = run(*audit_args(inputs, out))
    assert again.exit_code == EXIT_INPUT
    assert "--overwrite" in again.stderr
    assert run(*audit_args(inputs, out, "--overwrite")).exit_code == 0


def test_no_disclose_is_loud(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "audit"
    result = run(*audit_args(inputs, out, "--no-disclose"))
    assert result.exit_code == 0
    assert "Disclosure control is OFF" in result.stdout
    assert "Disclosure control was switched off" in (out / "report.html").read_text("utf-8")
    assert json.loads((out / "audit.json").read_text("utf-8"))["min_count"] is None


def test_min_count_changes_what_is_withheld(inputs: Path, tmp_path: Path) -> None:
    low = json.loads(run(*audit_args(inputs, tmp_path / "a", "--min-count", "2", "--json")).stdout)
    high = json.loads(
        run(*audit_args(inputs, tmp_path / "b", "--min-count", "10", "--json")).stdout
    )
    assert sum(t["withheld"] for t in low["tables"].values()) < sum(
        t["withheld"] for t in high["tables"].values()
    )


def test_bad_population_names_the_column(inputs: Path, tmp_path: Path) -> None:
    bad = tmp_path / "population.csv"
    bad.write_text("district,kids\nEX1,5200\n", "utf-8")
    args = audit_args(inputs, tmp_path / "audit")
    args[args.index("--population") + 1] = str(bad)
    result = run(*args)
    assert result.exit_code == EXIT_INPUT
    assert "'area'" in result.stderr
    assert "population.csv" in result.stderr


def test_bad_plan_fails_before_reading(inputs: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(
        (inputs / "plan.toml").read_text("utf-8").replace('cluster = "A"', 'cluster = "Z"', 1)
    )
    args = audit_args(inputs, tmp_path / "audit")
    args[args.index("--plan") + 1] = str(plan)
    result = run(*args)
    assert result.exit_code == EXIT_INPUT
    assert "'Z'" in result.stderr
    assert not (tmp_path / "audit").exists()


def test_missing_plan_option_is_usage(inputs: Path, tmp_path: Path) -> None:
    result = run("audit", str(inputs / "audit"), "--out", str(tmp_path / "x"))
    assert result.exit_code == EXIT_USAGE


def test_report_rebuilds_and_rejects_other_folders(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "audit"
    run(*audit_args(inputs, out))
    copy = tmp_path / "copy.html"
    result = run("report", str(out), "--out", str(copy), "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["report"] == str(copy)
    assert copy.read_bytes() == (out / "report.html").read_bytes()
    bad = run("report", str(inputs))
    assert bad.exit_code == EXIT_INPUT
    assert "audit.json" in bad.stderr


def test_demo_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine", "utf-8")
    result = run("demo", "--out", str(tmp_path))
    assert result.exit_code == EXIT_INPUT
    assert "--overwrite" in result.stderr
    assert (tmp_path / "keep.txt").read_text("utf-8") == "mine"


# ------------------------------------------------------------ the grouping and the year


def test_audit_records_the_grouping_and_keeps_disagreements_internal(
    inputs: Path, tmp_path: Path
) -> None:
    out = tmp_path / "audit"
    assert run(*audit_args(inputs, out, "--json")).exit_code == 0
    meta = json.loads((out / "audit.json").read_text("utf-8"))
    assert meta["groups"] == "professional"  # the records hold the professional panel's
    assert (out / "rules_panel.csv").is_file()
    assert not list(out.glob("disagreements*"))  # record-level: never written
    rules = tmp_path / "rules"
    assert run(*audit_args(inputs, rules, "--groups", "rules")).exit_code == 0
    assert json.loads((rules / "audit.json").read_text("utf-8"))["groups"] == "rules"
    bad = run(*audit_args(inputs, tmp_path / "bad", "--groups", "panel"))
    assert bad.exit_code == EXIT_INPUT
    assert "groups='panel'" in bad.stderr


def test_annual_numbers_need_referrals_or_census(inputs: Path, tmp_path: Path) -> None:
    args = [
        "audit",
        str(inputs / "audit"),
        "--plan",
        str(inputs / "plan.toml"),
        "--out",
    ]
    refused = run(*args, str(tmp_path / "refused"))
    assert refused.exit_code == EXIT_INPUT
    assert "--census" in refused.stderr
    assert "--referrals FOLDER" in refused.stderr
    assert "referrals=" not in refused.stderr  # the command line's terms, not run_audit's
    assert "census=True" not in refused.stderr
    census = run(*args, str(tmp_path / "census"), "--census", "--json")
    assert census.exit_code == 0, census.output
    assert json.loads(census.stdout)["census"] is True
    meta = json.loads((tmp_path / "census" / "audit.json").read_text("utf-8"))
    assert meta["census"] is True
    assert any("census" in note for note in meta["notes"])


def test_on_the_demo_the_grouping_gives_the_panel_or_the_rules(tmp_path: Path) -> None:
    """Done when: --groups professional gives the professional panel's group sizes and
    --groups rules those of mns.classify."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from mns.cli.audit import _write_demo
    from mns.demo import exampleshire

    demo = exampleshire(2026)
    paths = _write_demo(demo, tmp_path / "records")
    plan = mns.load_plan(paths["plan"])
    records = mns.read(paths["audit"])
    classified = mns.classify(records.cases, plan)
    assert isinstance(classified, pa.Table)
    professional = records.assignments.filter(
        pc.equal(records.assignments.column("role").cast(pa.string()), "professional")
    )
    panel = Counter(
        "(not placed)" if g is None else g
        for g in professional.column("need_group").cast(pa.string()).to_pylist()
    )
    rules = Counter(classified.column("need_group").cast(pa.string()).to_pylist())
    for groups, expected in (("professional", panel), ("rules", rules)):
        out = tmp_path / groups
        args = [
            "audit",
            str(paths["audit"]),
            "--plan",
            str(paths["plan"]),
            "--referrals",
            str(paths["referrals"]),
            "--groups",
            groups,
            "--no-disclose",
            "--out",
            str(out),
        ]
        assert run(*args).exit_code == 0
        profile = pq.read_table(out / "profile.parquet")
        sizes = profile.filter(pc.equal(profile.column("variable"), "cases"))
        got = {
            g: n
            for g, n in zip(
                sizes.column("need_group").to_pylist(),
                sizes.column("count").to_pylist(),
                strict=True,
            )
            if n
        }
        assert got == dict(expected), groups
        extrapolated = pq.read_table(out / "extrapolate.parquet").to_pylist()
        assert {r["need_group"]: r["sample"] for r in extrapolated if r["sample"]} == dict(expected)
