"""Mixed folders and several returns on the command line: ``mns read`` of a folder of 903 CSVs
beside unrelated workbooks reads the CSVs and lists the workbooks (exit 0); CIN and 903 files
read together, and with ``--link`` one child's records become one case; a file an adapter
refuses whole fails the command, and an audit does not run on the other files alone."""

from __future__ import annotations

import json
from pathlib import Path

import mns_cin_census
import mns_ssda903
import openpyxl
import pytest

from mns.cli._common import EXIT_INPUT, EXIT_OK
from mns.demo import plan_path
from mns.plugins.manager import Manager
from tests.cli._helpers import run
from tests.linking.returns import CIN_CHILDREN, LA_CHILDREN, write_903, write_cin


@pytest.fixture(autouse=True)
def manager(plugin_manager: Manager) -> Manager:
    plugin_manager.add(mns_cin_census, name="cin-census")
    plugin_manager.add(mns_ssda903, name="ssda903")
    return plugin_manager


def _mixed_folder(tmp_path: Path) -> tuple[Path, list[str]]:
    """The 903 CSVs beside a real workbook and a PDF that no adapter reads."""
    folder = write_903(tmp_path / "903")
    book = openpyxl.Workbook()
    book.active["A1"] = "budget 2024-25"  # type: ignore[index]
    book.save(folder / "budget.xlsx")
    (folder / "minutes.pdf").write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 4)
    return folder, [str(folder / "budget.xlsx"), str(folder / "minutes.pdf")]


@pytest.mark.parametrize("named", [(), ("--adapter", "ssda903"), ("--year", "2024")])
def test_read_of_a_903_folder_with_workbooks_reads_the_csvs_and_lists_the_rest(
    tmp_path: Path, named: tuple[str, ...]
) -> None:
    folder, others = _mixed_folder(tmp_path)
    result = run("read", str(folder), *named, "--json")
    assert result.exit_code == EXIT_OK, result.output
    data = json.loads(result.stdout)
    assert data["tables"]["cases"] == len(LA_CHILDREN)
    assert data["adapter"] == "ssda903"
    assert sorted(data["left_out_files"]) == sorted(others)
    assert data["unread_files"] == []
    text = run("read", str(folder), *named)
    assert text.exit_code == EXIT_OK
    assert "2 file(s) not read, no adapter recognises them" in text.stderr
    for name in others:
        assert name in text.stderr
    assert "\\x" not in text.output  # the workbook was never decoded as text


def test_cin_and_903_read_together_and_link(tmp_path: Path) -> None:
    cin = write_cin(tmp_path / "census.xml")
    folder, _ = _mixed_folder(tmp_path)
    apart = json.loads(run("read", str(cin), str(folder), "--json").stdout)
    assert apart["adapter"] == "cin-census+ssda903"
    read_cases = apart["tables"]["cases"]
    assert read_cases == len(CIN_CHILDREN) + len(LA_CHILDREN)
    key = tmp_path / "key.txt"
    key.write_text("a secret key of more than sixteen characters", "utf-8")
    out = tmp_path / "linked"
    result = run(
        "read", str(cin), str(folder), "--link", "--key-file", str(key), "--out", str(out),
        "--json",
    )  # fmt: skip
    assert result.exit_code == EXIT_OK, result.output
    data = json.loads(result.stdout)
    both = len(set(CIN_CHILDREN) & set(LA_CHILDREN))
    assert data["tables"]["cases"] == read_cases - both  # one case per child
    [note] = [n for n in data["notes"] if n.startswith("mns.link")]
    assert f"{both} children linked" in note
    assert "cin-census+ssda903" in note
    assert (out / "cases.parquet").is_file()


def test_an_audit_does_not_run_on_the_files_left_when_one_is_refused(tmp_path: Path) -> None:
    folder = write_903(tmp_path / "903")
    bad = write_cin(tmp_path / "census.xml")
    text = bad.read_text("utf-8").replace("<Message", "<!DOCTYPE Message>\n<Message", 1)
    bad.write_text(text, "utf-8")  # refused unread: a CIN census file never has a DOCTYPE
    read = run("read", str(folder), str(bad))
    assert read.exit_code == EXIT_INPUT
    assert str(bad) in read.stderr
    plan = plan_path()
    out = str(tmp_path / "audit")
    audit = run("audit", str(folder), str(bad), "--plan", str(plan), "--census", "--out", out)
    assert audit.exit_code == EXIT_INPUT
    assert "could not be read" in audit.stderr
    assert str(bad) in audit.stderr
