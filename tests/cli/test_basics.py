"""The command line's contract: commands, exit codes, --json, one-line errors, --debug."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import mns
from mns.cli._common import EXIT_INPUT, EXIT_INTERNAL, EXIT_ISSUES, EXIT_USAGE
from mns.lang import crosswalks, language, languages
from mns.plugins import Adapter, hookimpl
from mns.plugins.manager import Manager
from tests.cli._helpers import run

CASES_CSV = (
    "case_id,age,sex,area,cin.4B,cin.3A\n"
    "C1,5,F,EX1,true,false\n"
    "C2,x,M,EX2,false,true\n"
    ",7,F,EX1,true,true\n"
    "C4,12,M,EX2,false,false\n"
)


@pytest.fixture
def cases_csv(tmp_path: Path) -> Path:
    path = tmp_path / "cases.csv"
    path.write_text(CASES_CSV, "utf-8")
    return path


def test_help_lists_every_command() -> None:
    result = run("--help")
    assert result.exit_code == 0
    for command in ("adapters", "languages", "read"):
        assert command in result.output


def test_unknown_command_is_a_usage_error() -> None:
    result = run("frobnicate")
    assert result.exit_code == EXIT_USAGE
    assert "No such command" in result.stderr


def test_languages_lists_the_shipped_ones() -> None:
    result = run("languages")
    assert result.exit_code == 0
    for name in languages():
        assert name in result.output
    data = json.loads(run("languages", "--json").stdout)
    assert [row["name"] for row in data["languages"]] == list(languages())
    assert {(w["source"], w["target"]) for w in data["crosswalks"]} == set(crosswalks())


def test_one_language_with_year_filter() -> None:
    data = json.loads(run("languages", "cin", "--json").stdout)
    codes = {i["code"] for i in data["indicators"]}
    assert codes == set(language("cin").codes())
    early = json.loads(run("languages", "cin", "--year", "2020", "--json").stdout)
    assert {i["code"] for i in early["indicators"]} == set(language("cin").codes(2020))
    assert len(early["indicators"]) < len(data["indicators"])


def test_unknown_language_is_one_clear_message() -> None:
    result = run("languages", "cim")
    assert result.exit_code == EXIT_INPUT
    assert result.stderr.startswith("mns: error: ")
    assert "cim" in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_json_errors_are_json_on_stdout() -> None:
    result = run("languages", "cim", "--json")
    assert result.exit_code == EXIT_INPUT
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "UnknownCodeError"
    assert "cim" in error["message"]


def test_debug_shows_the_traceback() -> None:
    result = run("languages", "cim", "--debug")
    assert result.exit_code == EXIT_INPUT
    assert "Traceback" in result.stderr
    result = run("--debug", "languages", "cim")
    assert "Traceback" in result.stderr


def test_adapters_lists_builtin_and_failures(manager: Manager) -> None:
    data = json.loads(run("adapters", "--json").stdout)
    names = [a["name"] for a in data["adapters"]]
    assert "canonical" in names
    assert all(a["plugin"] == "builtin" for a in data["adapters"])
    assert data["failures"] == []

    class Broken:
        __name__ = "broken_plugin"

        @hookimpl
        def mns_adapters(self) -> Iterator[Adapter]:
            raise ImportError("needs lxml>=99")
            yield  # pragma: no cover

    manager.add(Broken(), name="broken")
    result = run("adapters")
    assert result.exit_code == 0
    assert "mns: warning: " in result.stderr  # shown once, on one line
    assert "canonical" in result.stdout
    assert "broken" in result.stdout
    assert "needs lxml>=99" in result.stdout
    data = json.loads(run("adapters", "--json").stdout)
    assert [f["plugin"] for f in data["failures"]] == ["broken"]


def test_read_writes_parquet_and_summarises_issues(cases_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "records"
    result = run("read", str(cases_csv), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "canonical" in result.stdout
    assert "2 errors" in result.stdout  # age 'x' blanked, empty case_id rejected
    assert "1 records rejected" in result.stdout
    assert pq.read_table(out / "cases.parquet").num_rows == 3
    back = mns.read(out)
    assert back.cases.column("case_id").to_pylist() == ["C1", "C2", "C4"]


def test_read_json_summary(cases_csv: Path) -> None:
    result = run("read", str(cases_csv), "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["out"] is None
    assert data["adapter"] == "canonical"
    assert data["tables"]["cases"] == 3
    assert data["issues"]["errors"] == 2
    assert data["issues"]["rejected_records"] == 1
    fields = {row["field"] for row in data["issues"]["by_kind"]}
    assert fields == {"age", "case_id"}
    assert len(data["files"][0]["sha256"]) == 64


def test_read_fail_on_errors_exit_code(cases_csv: Path, tmp_path: Path) -> None:
    assert run("read", str(cases_csv), "--fail-on-errors").exit_code == EXIT_ISSUES
    clean = tmp_path / "clean.csv"
    clean.write_text("case_id,age\nC1,5\n", "utf-8")
    assert run("read", str(clean), "--fail-on-errors").exit_code == 0


def test_read_strict_stops_with_the_place(cases_csv: Path) -> None:
    result = run("read", str(cases_csv), "--strict")
    assert result.exit_code == EXIT_INPUT
    assert "row 3" in result.stderr
    assert "Traceback" not in result.stderr


def test_read_refuses_a_non_empty_folder(cases_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "records"
    assert run("read", str(cases_csv), "--out", str(out)).exit_code == 0
    again = run("read", str(cases_csv), "--out", str(out))
    assert again.exit_code == EXIT_INPUT
    assert "not empty" in again.stderr
    assert run("read", str(cases_csv), "--out", str(out), "--overwrite").exit_code == 0


def test_read_unknown_adapter_suggests(cases_csv: Path) -> None:
    result = run("read", str(cases_csv), "--adapter", "canonicl")
    assert result.exit_code == EXIT_INPUT
    assert "canonical" in result.stderr


def test_read_bad_option_is_a_usage_error(cases_csv: Path) -> None:
    result = run("read", str(cases_csv), "--option", "novalue")
    assert result.exit_code == EXIT_USAGE


def test_read_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = run("read", str(tmp_path / "nope.csv"))
    assert result.exit_code == EXIT_USAGE
    assert "nope.csv" in result.stderr


def test_pseudonymise_with_a_key_file(cases_csv: Path, tmp_path: Path) -> None:
    key = tmp_path / "key.txt"
    key.write_text("a-secret-key-of-some-length\n", "utf-8")
    out = tmp_path / "records"
    result = run("read", str(cases_csv), "--key-file", str(key), "--out", str(out), "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["pseudonymised"] is True
    ids = pq.read_table(out / "cases.parquet").column("case_id").to_pylist()
    assert "C1" not in ids
    short = tmp_path / "short.txt"
    short.write_text("abc", "utf-8")
    bad = run("read", str(cases_csv), "--key-file", str(short))
    assert bad.exit_code == EXIT_INPUT
    assert "16 characters" in bad.stderr


def test_unexpected_errors_are_internal(monkeypatch: pytest.MonkeyPatch, cases_csv: Path) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("oops")

    monkeypatch.setattr("mns.audit.summarise_issues", boom)
    result = run("read", str(cases_csv))
    assert result.exit_code == EXIT_INTERNAL
    assert "bug" in result.stderr
    assert "--debug" in result.stderr
    assert "Traceback" not in result.stderr
    debug = run("read", str(cases_csv), "--debug")
    assert debug.exit_code == EXIT_INTERNAL
    assert "ZeroDivisionError" in debug.stderr
    assert "Traceback" in debug.stderr
