"""The command line as an analyst meets it: messages name flags (never mns.read's keywords),
adapter options are listed, typed and checked in one line, a records folder reads whatever
options the other sources need, every outcome is JSON under --json, ``python -m mns`` runs,
and the problems met while reading are summarised and kept in issues.csv and issues.xlsx."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import mns_cin_census
import openpyxl
import pytest

import mns
from mns.cli._common import EXIT_INPUT, EXIT_ISSUES, EXIT_OK, EXIT_USAGE
from mns.plugins.manager import Manager, use_manager
from mns.records.issue_files import ISSUES_CSV, ISSUES_XLSX
from tests.cli._helpers import run

#: mns.read's keyword spellings, which the command line must never show.
PYTHON_TERMS = ("adapter='", "pseudonymise=", "mapping='", "overwrite=True", "year=...", "to mns.")

CASES_CSV = (
    "case_id,age,sex,area,cin.4B\n"
    "C1,5,F,EX1,true\n"
    "C2,x,M,EX2,false\n"
    "C3,7,X,EX1,=HYPERLINK(1)\n"
    "C4,12,M,EX2,false\n"
)


def _fake_read(sources: Sequence[mns.Source], options: Mapping[str, Any]) -> mns.Records:
    """Reads nothing; records the options it was given, with their types."""
    seen = {k: [type(v).__name__, str(v)] for k, v in options.items() if k not in ("strict",)}
    return mns.Records(provenance=mns.Provenance(warnings=(json.dumps(seen, sort_keys=True),)))


class FakePlugin:
    @mns.hookimpl
    def mns_adapters(self) -> Iterator[mns.Adapter]:
        yield mns.Adapter(
            name="fake",
            description="a fake record system",
            read=_fake_read,
            suffixes=(".fake",),
            options=(
                mns.Option(name="year", description="collection year", type=int),
                mns.Option(name="start", description="first day", type=dt.date),
                mns.Option(name="deep", description="look deeper", default=False),
                mns.Option(name="label", description="a name"),
            ),
        )


def _refuse(sources: Sequence[mns.Source], options: Mapping[str, Any]) -> mns.Records:
    raise mns.MnsError("this is not a real return")


def _half_read(sources: Sequence[mns.Source], options: Mapping[str, Any]) -> mns.Records:
    """Reads no record, and says the rest of the file could not be read."""
    log = mns.IssueLog(adapter="half")
    log.error("the file ends after line 3: the rest was not read", action="rejected",
              table="file", source=sources[0].name, line=3)  # fmt: skip
    return mns.Records(issues=log.table())


def _one_line_read(sources: Sequence[mns.Source], options: Mapping[str, Any]) -> mns.Records:
    """Two problems on the one line of a file (an XML return written as a single line): the
    child's record is what tells them apart."""
    log = mns.IssueLog(adapter="oneline")
    for child in ("CHILD-7", "CHILD-8"):
        log.error("<Ethnicity> 'WBRX' is not a code of this element", action="blanked",
                  table="cases", source=sources[0].name, line=1, field="Ethnicity",
                  record=child)  # fmt: skip
    return mns.Records(issues=log.table())


class BrokenPlugin:
    @mns.hookimpl
    def mns_adapters(self) -> Iterator[mns.Adapter]:
        yield mns.Adapter(name="refuser", description="refuses", read=_refuse, suffixes=(".nope",))
        yield mns.Adapter(name="half", description="half", read=_half_read, suffixes=(".half",))
        yield mns.Adapter(
            name="oneline", description="one line", read=_one_line_read, suffixes=(".one",)
        )


@pytest.fixture(autouse=True)
def manager() -> Iterator[Manager]:
    fresh = Manager(autoload=False)
    fresh.register(FakePlugin(), name="fake")
    fresh.register(BrokenPlugin(), name="broken")
    with use_manager(fresh):
        yield fresh


def _no_python_terms(text: str) -> None:
    for term in PYTHON_TERMS:
        assert term not in text, term


@pytest.fixture
def cases_csv(tmp_path: Path) -> Path:
    path = tmp_path / "cases.csv"
    path.write_text(CASES_CSV, "utf-8")
    return path


@pytest.fixture
def fake_file(tmp_path: Path) -> Path:
    path = tmp_path / "return.fake"
    path.write_text("nothing", "utf-8")
    return path


# --- options: listed, typed, checked ---------------------------------------------------------


def test_adapters_lists_every_option_with_its_flag_type_and_default() -> None:
    text = run("adapters")
    assert text.exit_code == EXIT_OK
    assert "fake:" in text.output
    for flag in ("--year YEAR", "-o start=...", "-o deep=...", "-o label=..."):
        assert flag in text.output
    assert "--mapping FILE" in text.output  # the mapping adapter's own flag
    as_json = json.loads(run("adapters", "--json").output)
    fake = next(a for a in as_json["adapters"] if a["name"] == "fake")
    options = {o["name"]: o for o in fake["options"]}
    assert options["year"]["type"] == "whole number"
    assert options["start"]["type"] == "date YYYY-MM-DD"
    assert options["deep"]["type"] == "true/false"
    assert options["deep"]["default"] is False
    assert options["label"]["type"] == "text"
    assert options["year"]["flag"] == "--year YEAR"


def test_options_reach_the_adapter_with_their_types(fake_file: Path) -> None:
    result = run(
        "read", str(fake_file), "--year", "2024", "-o", "start=2024-03-31", "-o", "deep=yes",
        "-o", "label=north", "--json",
    )  # fmt: skip
    assert result.exit_code == EXIT_OK, result.output
    notes = json.loads(result.output)["notes"]
    seen = json.loads(notes[0])
    assert seen["year"] == ["int", "2024"]
    assert seen["start"] == ["date", "2024-03-31"]
    assert seen["deep"] == ["bool", "True"]
    assert seen["label"] == ["str", "north"]


@pytest.mark.parametrize(
    ("option", "flag", "wanted"),
    [
        ("year=abc", "-o year", "is not a whole number"),
        ("start=31/03/2024", "-o start", "is not a date as YYYY-MM-DD"),
        ("deep=perhaps", "-o deep", "is not true or false"),
        ("colour=red", "-o colour", "not take the option 'colour'; it takes --year YEAR, -o start"),
        ("year", "-o", "is not NAME=VALUE"),
    ],
)
def test_a_bad_option_is_one_line_naming_its_flag(
    fake_file: Path, option: str, flag: str, wanted: str
) -> None:
    result = run("read", str(fake_file), "-o", option)
    assert result.exit_code == EXIT_USAGE
    error = result.stderr.strip().splitlines()[-1]
    assert flag in error
    assert wanted in error
    assert "Traceback" not in result.output
    assert "ValueError" not in result.output


def test_year_for_an_adapter_without_one_says_so(cases_csv: Path) -> None:
    result = run("read", str(cases_csv), "-a", "canonical", "--year", "2024")
    assert result.exit_code == EXIT_USAGE
    assert "adapter 'canonical' does not take a collection year" in result.stderr
    assert "'--year'" in result.stderr


def test_a_records_folder_reads_whatever_options_the_others_need(
    cases_csv: Path, tmp_path: Path
) -> None:
    out = tmp_path / "recs"
    assert run("read", str(cases_csv), "--out", str(out)).exit_code == EXIT_OK
    result = run("read", str(out), "--year", "2024", "-o", "label=x", "--json")
    assert result.exit_code == EXIT_OK, result.output
    assert json.loads(result.output)["tables"]["cases"] == 4
    noted = run("read", str(out), "--year", "2024")
    assert "(--year not applied to reading them)" in noted.stderr
    # the mapping flag, which names the adapter, does not break it either
    mapping = tmp_path / "m.toml"
    mapping.write_text('[fields]\ncase_id = "ID"\n', "utf-8")
    assert run("read", str(out), "--mapping", str(mapping)).exit_code == EXIT_OK


def test_mapping_flag_reads_an_export_through_the_mapping_adapter(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text("Child ID,Gender\nA1,Male\nA2,Female\n", "utf-8")
    mapping = tmp_path / "export.toml"
    mapping.write_text(
        '[fields]\ncase_id = "Child ID"\n\n[fields.sex]\ncolumn = "Gender"\n'
        'codes = { M = ["Male"], F = ["Female"] }\n',
        "utf-8",
    )
    result = run("read", str(export), "--mapping", str(mapping), "--json")
    assert result.exit_code == EXIT_OK, result.output
    data = json.loads(result.output)
    assert data["adapter"] == "mapping"
    assert data["tables"]["cases"] == 2


# --- messages in the command line's terms -------------------------------------------------------


def test_messages_name_flags_not_keyword_arguments(
    cases_csv: Path, tmp_path: Path, fake_file: Path
) -> None:
    read = run("read", str(cases_csv))
    assert "give --key-file FILE" in read.output  # the note on identifiers
    _no_python_terms(read.output + read.stderr)

    unknown = tmp_path / "x.weird"
    unknown.write_text("a|b\n", "utf-8")
    none = run("read", str(unknown))
    assert none.exit_code == EXIT_INPUT
    assert "--adapter NAME" in none.stderr
    _no_python_terms(none.stderr)

    no_mapping = run("read", str(cases_csv), "-a", "mapping")
    assert no_mapping.exit_code == EXIT_INPUT
    assert "give --mapping FILE" in no_mapping.stderr
    _no_python_terms(no_mapping.stderr)

    out = tmp_path / "recs"
    run("read", str(cases_csv), "--out", str(out))
    again = run("read", str(cases_csv), "--out", str(out))
    assert again.exit_code == EXIT_INPUT
    assert "--overwrite" in again.stderr
    _no_python_terms(again.stderr)


def test_every_option_a_message_names_has_a_command_line_spelling() -> None:
    """Each option a message of mns or of a shipped adapter tells the user to give (through
    mns.errors.give) is a flag of the command line, or an adapter option given with -o: the
    command line never says "pass year=... to say" or "choose one with adapter='name'"."""
    from mns.cli._reading import _FLAGS, cli_spelling

    root = Path(__file__).resolve().parents[2]
    files = [*(root / "src").rglob("*.py"), *(root / "adapters").glob("*/src/**/*.py")]
    named = {
        m.group(1)
        for f in files
        for m in re.finditer(r"\bgive\(\s*['\"](\w+)['\"]", f.read_text("utf-8"))
    }
    assert {"adapter", "pseudonymise", "overwrite", "mapping", "year"} <= named
    installed = Manager(autoload=False)
    installed.load_entry_points()
    with use_manager(installed):
        options = {o.name for a in mns.adapters() for o in a.options}
    for option in sorted(named):
        spelt = cli_spelling(option, "...", "mns.read")
        _no_python_terms(spelt)
        assert spelt.startswith("give -")
        assert option in _FLAGS or option in options, f"{option}: no flag, no adapter option"
    assert cli_spelling("year", "...", None) == "give --year YEAR"  # "... to say" which year
    assert cli_spelling("reference_date", "'2024-03-31'", None) == (
        "give -o reference_date=2024-03-31"
    )


def test_the_child_of_each_problem_is_named_and_pseudonymised_with_a_key(tmp_path: Path) -> None:
    """Two problems on the one line of a file are told apart by their child's record, shown as
    read, or as its pseudonym under --key-file."""
    one = tmp_path / "return.one"
    one.write_text("<Message>...</Message>", "utf-8")
    plain = run("read", str(one))
    assert plain.exit_code == EXIT_OK, plain.output
    assert "line 1: <Ethnicity> 'WBRX'" in plain.output
    assert "[record CHILD-7]" in plain.output
    assert "[record CHILD-8]" in plain.output
    key = tmp_path / "key.txt"
    key.write_text("k" * 32, "utf-8")
    keyed = run("read", str(one), "--key-file", str(key))
    assert keyed.exit_code == EXIT_OK, keyed.output
    records = re.findall(r"\[record ([^\]]+)\]", keyed.output)
    assert len(records) == 2
    assert len(set(records)) == 2
    assert not {"CHILD-7", "CHILD-8"} & set(records)
    assert "CHILD-" not in keyed.output


def test_a_census_on_one_line_locates_each_problem_at_line_1_and_its_child(
    tmp_path: Path,
) -> None:
    """A CIN census written as one line (as some systems export it): each problem is at line
    1, not "line 2", with its element path and its child, which tell them apart."""
    recs = mns.synth.records(20, seed=1, year=2024)
    path = tmp_path / "census.xml"
    mns_cin_census.write(recs.cases, recs.services, path, year=2024, lea="201")
    text = path.read_text("utf-8")
    assert text.count("<Ethnicity>WBRI</Ethnicity>") >= 2
    text = text.replace("<Ethnicity>WBRI</Ethnicity>", "<Ethnicity>WBRX</Ethnicity>", 2)
    one = tmp_path / "one.xml"
    one.write_text(re.sub(r">\s+<", "><", text), "utf-8")
    assert len(one.read_text("utf-8").splitlines()) == 1
    installed = Manager(autoload=False)
    installed.load_entry_points()
    with use_manager(installed):
        result = run("read", str(one))
    assert result.exit_code == EXIT_OK, result.output
    located = [line for line in result.output.splitlines() if "'WBRX'" in line and "line" in line]
    assert len(located) == 2
    where = re.compile(
        re.escape(f"{one}, line 1, element ")
        + r"(/Message/Children/Child\[\d+\]/ChildCharacteristics/Ethnicity): <Ethnicity>"
    )
    paths = {where.search(line).group(1) for line in located}  # type: ignore[union-attr]
    assert len(paths) == 2  # each problem at its own element
    children = {re.search(r"\[record ([^\]]+)\]", line).group(1) for line in located}  # type: ignore[union-attr]
    assert len(children) == 2


@pytest.mark.parametrize(
    ("given", "area"),
    [([], "SW1A"), (["--postcode", "sector"], "SW1A 2"), (["--postcode", "keep"], "SW1A 2BB")],
)
def test_postcode_flag_coarsens_or_keeps_the_area(
    tmp_path: Path, given: list[str], area: str
) -> None:
    path = tmp_path / "cases.csv"
    path.write_text("case_id,area\nB-7,SW1A 2BB\n", "utf-8")
    out = tmp_path / "recs"
    result = run("read", str(path), *given, "--out", str(out))
    assert result.exit_code == EXIT_OK, result.output
    assert mns.read(out, postcode=None).cases.column("area").to_pylist() == [area]
    wrong = run("read", str(path), "--postcode", "town")
    assert wrong.exit_code == EXIT_USAGE
    assert "'--postcode'" in wrong.stderr


def test_python_keeps_its_own_terms(cases_csv: Path) -> None:
    records = mns.read(cases_csv)
    assert any(
        "pass pseudonymise=<secret key> to mns.read" in n for n in records.provenance.warnings
    )


# --- JSON for every outcome ------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["read", "--json", "--bogus", "x"],
        ["read", "--json", "no-such-file.csv"],
        ["bogus-command", "--json"],
        ["read", "--json", "x.fake", "-o", "year=abc"],
    ],
)
def test_usage_errors_are_json_under_json(args: list[str], fake_file: Path) -> None:
    args = [str(fake_file) if a == "x.fake" else a for a in args]
    result = run(*args)
    assert result.exit_code == EXIT_USAGE
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "UsageError"
    assert error["message"]
    assert "Error:" in result.stderr  # people still see click's usage message


def test_python_dash_m_mns_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mns", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "mns" in done.stdout


# --- issues: a summary, and every issue in issues.csv and issues.xlsx ------------------------


def test_read_summarises_issues_by_kind_and_keeps_every_one(
    cases_csv: Path, tmp_path: Path
) -> None:
    key = tmp_path / "key.txt"
    key.write_text("k" * 32, "utf-8")
    out = tmp_path / "recs"
    result = run("read", str(cases_csv), "--out", str(out), "--key-file", str(key))
    assert result.exit_code == EXIT_OK, result.output
    assert "problems met while reading" in result.output
    assert "severity  action" in result.output  # the table by kind and severity
    assert f"{out / ISSUES_CSV} and {out / ISSUES_XLSX}" in result.output
    issues = mns.read(out).issues
    assert issues.num_rows >= 3

    with (out / ISSUES_CSV).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == issues.num_rows  # one row per issue
    assert {"severity", "file", "row", "record (child)", "field", "message"} <= set(rows[0])
    assert all(not r["message"].startswith("=") for r in rows)

    book = openpyxl.load_workbook(out / ISSUES_XLSX)
    sheet = book["issues"]
    # a column per issue column shown, the element path (for XML issues) always among them
    assert sheet.auto_filter.ref == f"A1:M{issues.num_rows + 1}"
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row if c.value is not None]
    assert len(list(sheet.iter_rows(min_row=2))) == issues.num_rows
    assert all(c.data_type != "f" for c in cells)  # no formula from the records
    risky = [c for c in cells if isinstance(c.value, str) and c.value.startswith("=")]
    assert risky
    assert all(c.quotePrefix for c in risky)
    # with a key, no raw identifier of a child reaches either file
    text = (out / ISSUES_CSV).read_text("utf-8")
    for raw in ("C1", "C2", "C3", "C4"):
        assert f",{raw}," not in text
        assert all(c.value != raw for c in cells)


def test_read_without_out_says_where_issues_would_go(cases_csv: Path) -> None:
    result = run("read", str(cases_csv))
    assert "issues.csv and issues.xlsx" in result.stderr
    assert "The first" in result.output


def test_audit_summarises_the_read_errors(cases_csv: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(
        '[plan]\nname = "P"\nlanguage = "cin"\n\n[[cluster]]\ncode = "A"\nname = "A"\n\n'
        '[[need_group]]\ncode = "NG1"\nname = "One"\ncluster = "A"\nrule = "cin.4B"\n',
        "utf-8",
    )
    result = run(
        "audit", str(cases_csv), "--plan", str(plan), "--out", str(tmp_path / "audit"),
        "--census",
    )  # fmt: skip
    assert result.exit_code == EXIT_OK, result.output
    assert f"problems met while reading {cases_csv}" in result.output
    assert "severity  action" in result.output
    assert "'x'" not in result.output  # a public audit's console quotes no value read
    assert (tmp_path / "audit" / "tables.xlsx").is_file()
    data = json.loads(
        run(
            "audit", str(cases_csv), "--plan", str(plan), "--out", str(tmp_path / "audit"),
            "--census", "--overwrite", "--json",
        ).output
    )  # fmt: skip
    summary = data["read_issues"]["audit"]
    assert summary["errors"] >= 3
    assert all("message" not in kind for kind in summary["kinds"])


# --- exit codes: a file not read fails the command -------------------------------------------


def test_a_file_refused_whole_fails_read_and_the_others_are_kept(
    fake_file: Path, tmp_path: Path
) -> None:
    refused = tmp_path / "other.nope"
    refused.write_text("?", "utf-8")
    out = tmp_path / "recs"
    result = run("read", str(fake_file), str(refused), "--out", str(out))
    assert result.exit_code == EXIT_INPUT
    assert f"could not be read (whole or in part): {refused}" in result.stderr
    assert (out / "issues.csv").is_file()  # what was read is kept
    as_json = run("read", str(fake_file), str(refused), "--json")
    assert as_json.exit_code == EXIT_INPUT
    assert json.loads(as_json.stdout)["unread_files"] == [str(refused)]


def test_a_file_read_only_in_part_fails_read(tmp_path: Path) -> None:
    half = tmp_path / "cut.half"
    half.write_text("?", "utf-8")
    result = run("read", str(half))
    assert result.exit_code == EXIT_INPUT
    assert str(half) in result.stderr


def test_fail_on_errors_exits_3_only_when_records_had_errors(
    cases_csv: Path, fake_file: Path
) -> None:
    assert run("read", str(cases_csv), "--fail-on-errors").exit_code == EXIT_ISSUES
    assert run("read", str(cases_csv)).exit_code == EXIT_OK
    assert run("read", str(fake_file), "--fail-on-errors").exit_code == EXIT_OK
