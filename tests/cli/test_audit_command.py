"""`mns audit`, `mns report` and `mns demo`: what they write, their errors and exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import mns
from mns.cli import cli
from mns.cli._common import EXIT_INPUT, EXIT_USAGE
from mns.plan.load import dump_plan
from mns.plugins.manager import Manager, use_manager
from tests.report import handmade


@pytest.fixture(autouse=True)
def manager() -> Iterator[None]:
    with use_manager(Manager(autoload=False)):
        yield


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


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
