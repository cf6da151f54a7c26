"""No marker identifier survives ``read`` (with a key) -> ``run_audit`` -> report.

Distinctive child ids, UPNs, dates of birth, names and full postcodes are planted in
generated CIN census XML, SSDA903 CSVs and a mapping-adapter CSV (some malformed or repeated,
so that messages quote them); the test then looks for them in every byte written or printed:
files (recursively; Parquet read back; HTML unescaped), issues, terminal text and ``--json``
of the CLI, exception text and warnings. Published outputs must not name input folders.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import re
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import mns_cin_census
import mns_ssda903
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings, strategies as st

import mns
from mns import synth
from mns.audit import run_audit
from mns.cli import cli
from mns.plugins.manager import Manager, use_manager
from tests.privacy._scan import Marker, assert_no_marker, assert_no_marker_in_files, leaks

KEY = "a synthetic marker-test key, not a secret"
PLAN = Path(mns.__file__).parent / "demo" / "exampleshire.toml"
YEAR = 2024
CASES = 40

#: How a planted postcode is written: spacing, case, punctuation, inside an address, broken.
POSTCODE_FORMS = (
    "ZE9 {d}QJ",
    "ze9-{d}qj",
    "ZE9{d}QJ.",
    "  ze9   {d}QJ ",
    "Flat {i}, Quayside Mews, Zedtown ZE9 {d}QJ",
    "Quayside Mews {i}, Zedtown",  # an address without a postcode: blanked
    "ZE9 {d}Q",  # a broken postcode: blanked
)
#: Patterns that must never appear in any output (besides each planted exact string).
PATTERNS = (
    re.compile(r"ZE9[\s.\-]*[0-9]QJ", re.IGNORECASE),
    re.compile(r"ZE9[\s.\-]*[0-9]Q(?![A-Z0-9])", re.IGNORECASE),
    re.compile(r"quayside|zedtown", re.IGNORECASE),
)


def kid(i: int) -> str:
    return f"ZQK{i:03d}X"  # pseudonyms are base32 (a-z, 2-7): never 0, 1, 8 or 9


def upn(i: int) -> str:
    return f"Z{80000000000 + i:011d}Q"


def dob(i: int) -> dt.date:
    return dt.date(2008 + i % 8, 1 + i % 12, 13 + i % 15)  # never the 1st: not a birth month


def name(i: int) -> str:
    return f"Zebulon Quintavalle-{chr(ord('A') + i % 26)}{chr(ord('A') + i // 26)}"


def dates(day: dt.date) -> tuple[str, ...]:
    return (day.isoformat(), day.strftime("%d/%m/%Y"), day.strftime("%Y%m%d"))


def postcode(form: int, i: int) -> str:
    return POSTCODE_FORMS[form].format(d=i % 10, i=i)


@st.composite
def plantings(draw: st.DrawFn) -> dict[str, int | bool]:
    """What to plant: the postcode form, which records repeat or are malformed, the seed."""
    return {
        "seed": draw(st.integers(0, 3)),
        "form": draw(st.integers(0, len(POSTCODE_FORMS) - 1)),
        "repeat": draw(st.booleans()),
        "bad_birth": draw(st.booleans()),
        "bad_upn": draw(st.booleans()),
    }


def _marked_cases(seed: int, cohort: str | None) -> mns.Records:
    recs = synth.records(CASES, seed=seed, year=YEAR, cohort=cohort)
    cases = recs.cases
    field = cases.schema.field("child_id")
    ids = pa.array([kid(i) for i in range(cases.num_rows)], field.type)
    cases = cases.set_column(cases.schema.get_field_index("child_id"), field, ids)
    return mns.Records(cases=cases, services=recs.services)


def cin_inputs(folder: Path, plant: dict[str, int | bool]) -> tuple[list[Path], list[Marker]]:
    recs = _marked_cases(int(plant["seed"]), None)
    path = folder / "census.xml"
    mns_cin_census.write(recs.cases, recs.services, path, year=YEAR, lea="201")
    planted: list[str] = ["ZQBADUPN"]

    def identifiers(m: re.Match[str]) -> str:
        i = int(m.group(1)[3:6])
        birth = "2011-02-30" if plant["bad_birth"] and i == 0 else dob(i).isoformat()
        number = f"ZQBADUPN{i}" if plant["bad_upn"] and i == 1 else upn(i)
        planted.extend([number, *dates(dob(i))])
        return (
            f"<LAchildID>{m.group(1)}</LAchildID><UPN>{number}</UPN>"
            f"<PersonBirthDate>{birth}</PersonBirthDate>"
        )

    text = re.sub(
        r"<LAchildID>(ZQK\d{3}X)</LAchildID><PersonBirthDate>[^<]*</PersonBirthDate>",
        identifiers,
        path.read_text("utf-8"),
    )
    if plant["repeat"]:  # the same episode twice: "episode ... appears more than once"
        episode = re.search(r"<CINdetails>.*?</CINdetails>", text, re.DOTALL)
        assert episode is not None
        text = text.replace(episode.group(0), episode.group(0) * 2, 1)
    path.write_text(text, "utf-8")
    return [path], [*planted, *(kid(i) for i in range(CASES)), "2011-02-30"]


def _rewrite_csv(path: Path, change: Callable[[int, dict[str, str]], None]) -> None:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    fields = list(rows[0]) if rows else []
    for i, row in enumerate(rows):
        change(i, row)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def ssda903_inputs(folder: Path, plant: dict[str, int | bool]) -> tuple[list[Path], list[Marker]]:
    recs = _marked_cases(int(plant["seed"]), "looked_after")
    written = mns_ssda903.write(recs.cases, recs.services, folder / "903", year=YEAR)
    planted: list[str] = ["ZQBADUPN", "30/02/2011"]
    form = int(plant["form"])

    def header(_: int, row: dict[str, str]) -> None:
        i = int(row["CHILD"][3:6])
        row["UPN"] = f"ZQBADUPN{i}" if plant["bad_upn"] and i % 2 else upn(i)
        row["DOB"] = "30/02/2011" if plant["bad_birth"] and i % 3 == 0 else f"{dob(i):%d/%m/%Y}"
        planted.extend([row["UPN"], *dates(dob(i))])

    def episode(_: int, row: dict[str, str]) -> None:
        i = int(row["CHILD"][3:6])
        row["HOME_POST"] = postcode(form, i)
        row["PL_POST"] = postcode((form + 1) % len(POSTCODE_FORMS), i + 3)

    files = {p.name: p for p in written.files}
    _rewrite_csv(files["Header.csv"], header)
    _rewrite_csv(files["Episodes.csv"], episode)
    if plant["repeat"]:  # a child's header twice
        lines = files["Header.csv"].read_text("utf-8").splitlines(keepends=True)
        files["Header.csv"].write_text("".join([*lines, lines[1]]), "utf-8")
    return list(written.files), [*planted, *(kid(i) for i in range(CASES))]


#: The demo plan speaks the mns language, which the 903's codes do not reach.
PLAN_903 = """
[plan]
name = "Marker test plan"
language = "ssda903"
description = "Two need groups by the 903 category of need."

[[cluster]]
code = "A"
name = "Looked after"
description = "Children looked after."

[[need_group]]
code = "A1"
name = "Abuse or neglect"
cluster = "A"
description = "Category of need N1."
rule = "category_of_need == 'N1'"

[[need_group]]
code = "A2"
name = "Other needs"
cluster = "A"
description = "Any other category of need."
rule = "category_of_need != 'N1'"
"""

MAPPING = """
table = "cases"
date_formats = ["%d/%m/%Y"]
ignore = ["Worker"]
collection_year = 2024
reference_date = 2024-03-31

[fields.case_id]
column = "Child ID"

[fields.child_id]
column = "UPN"

[fields.birth_month]
column = "DOB"

[fields.area]
column = "Postcode"

[fields."cin.primary_need"]
column = "Primary need"

[multi.factors]
column = "Factors"
separator = ";"
language = "cin"
"""


def mapping_inputs(folder: Path, plant: dict[str, int | bool]) -> tuple[list[Path], list[Marker]]:
    recs = _marked_cases(int(plant["seed"]), None)
    cases = recs.cases
    flags = [
        n for n in cases.column_names if n.startswith("cin.") and pa.types.is_boolean(cases[n].type)
    ]
    needs = cases.column("cin.primary_need").cast(pa.string()).to_pylist()
    values = {n: cases.column(n).to_pylist() for n in flags}
    form = int(plant["form"])
    rows = []
    planted = ["ZQBADUPN", "30/02/2011"]
    for i in range(cases.num_rows):
        birth = "30/02/2011" if plant["bad_birth"] and i == 2 else f"{dob(i):%d/%m/%Y}"
        number = f"ZQBADUPN{i}" if plant["bad_upn"] and i == 1 else upn(i)
        factors = ";".join(n.removeprefix("cin.") for n in flags if values[n][i])
        rows.append([kid(i), number, birth, postcode(form, i), needs[i] or "", factors])
        rows[-1] += [name(i), "Worker Zedediah Quell"]
        planted += [kid(i), number, name(i), *dates(dob(i))]
    if plant["repeat"]:
        rows.append(rows[0])
    path = folder / "export.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "Child ID",
                "UPN",
                "DOB",
                "Postcode",
                "Primary need",
                "Factors",
                "Child name",
                "Worker",
            ]
        )
        writer.writerows(rows)
    (folder / "mapping.toml").write_text(MAPPING, "utf-8")
    return [path], [*planted, "Zedediah Quell"]


# --- looking for markers -----------------------------------------------------------------


@contextlib.contextmanager
def captured() -> Iterator[list[str]]:
    """stdout, stderr and warnings of the block, as texts (filled when it ends)."""
    out, err = io.StringIO(), io.StringIO()
    texts: list[str] = []
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        warnings.catch_warnings(record=True) as seen,
    ):
        warnings.simplefilter("always")
        yield texts
    texts += [out.getvalue(), err.getvalue(), *(str(w.message) for w in seen)]


# --- the pipeline ------------------------------------------------------------------------

Builder = Callable[[Path, dict[str, int | bool]], tuple[list[Path], list[Marker]]]
ADAPTERS: dict[str, tuple[Builder, dict[str, str], str | None]] = {
    "cin-census": (cin_inputs, {}, None),
    "ssda903": (ssda903_inputs, {}, PLAN_903),
    "mapping": (mapping_inputs, {"mapping": "mapping.toml"}, None),
}


@contextlib.contextmanager
def adapters() -> Iterator[None]:
    manager = Manager(autoload=False)
    manager.add(mns_cin_census, name="cin-census")
    manager.add(mns_ssda903, name="ssda903")
    with use_manager(manager):
        yield


def run_everything(adapter: str, plant: dict[str, int | bool]) -> None:
    build, options, plan_text = ADAPTERS[adapter]
    with tempfile.TemporaryDirectory() as tmp, adapters():
        root = Path(tmp)
        inputs_dir, out = root / "inputs", root / "out"
        inputs_dir.mkdir()
        out.mkdir()
        inputs, planted = build(inputs_dir, plant)
        markers = [*planted, *PATTERNS]
        plan = PLAN
        if plan_text is not None:
            plan = root / "plan.toml"
            plan.write_text(plan_text, "utf-8")
        given_options: dict[str, Any] = {k: str(inputs_dir / v) for k, v in options.items()}
        texts: list[str] = []

        # the Python API
        with captured() as printed:
            records = mns.read(inputs, adapter=adapter, pseudonymise=KEY, **given_options)
            mns.write(records, out / "records")
            result = run_audit(records, plan, census=True, out=out / "audit")
            texts.append(result.report())
            texts.append(json.dumps(records.issues.to_pylist(), default=str))
            texts.append(repr(records.provenance))
            try:
                mns.read(inputs, adapter=adapter, pseudonymise=KEY, strict=True, **given_options)
            except mns.MnsError as exc:  # strict stops at the first error: its text leaves too
                texts += [str(exc), repr(vars(exc))]
        texts += printed
        assert records.provenance.pseudonymised
        planted_faults = plant["repeat"] or plant["bad_birth"] or plant["bad_upn"]
        assert records.issues.num_rows > 0 or not planted_faults

        # the command line, text and --json
        key_file = root / "key.txt"
        key_file.write_text(KEY, "utf-8")
        reading = ["--adapter", adapter, "--key-file", str(key_file)]
        reading += [a for k, v in given_options.items() for a in ("--option", f"{k}={v}")]
        files = [str(p) for p in inputs]
        runner = CliRunner()
        audit = ["audit", *files, *reading, "--plan", str(plan), "--census"]
        commands = [
            ["read", *files, *reading],
            ["read", *files, *reading, "--json", "--out", str(out / "cli-records")],
            ["read", *files, *reading, "--strict"],
            ["read", *files, *reading, "--strict", "--json"],
            [*audit, "--out", str(out / "a1")],
            [*audit, "--json", "--out", str(out / "a2")],
            ["report", str(out / "a1"), "--out", str(out / "report.html")],
        ]
        for args in commands:
            done = runner.invoke(cli, args)
            assert done.exception is None or isinstance(done.exception, SystemExit), (
                args,
                done.output,
            )
            texts += [done.stdout, done.stderr]

        for i, text in enumerate(texts):
            assert_no_marker(f"printed or returned text #{i}", text, markers)
        assert assert_no_marker_in_files(out, markers) > 0
        for published in (out / "audit", out / "a1", out / "a2"):  # no input folder named
            for path in published.rglob("*"):
                assert tmp not in path.read_bytes().decode("utf-8", "replace"), path


@pytest.mark.parametrize("adapter", sorted(ADAPTERS))
@settings(
    max_examples=2,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # a whole audit per example: no shrinking
)
@given(plant=plantings())
def test_no_marker_reaches_any_output(adapter: str, plant: dict[str, int | bool]) -> None:
    run_everything(adapter, plant)


def test_the_markers_are_found_when_present(tmp_path: Path) -> None:
    """The search itself works: raw inputs hold the markers, in bytes and in Parquet."""
    inputs, markers = mapping_inputs(
        tmp_path, {"seed": 0, "form": 4, "repeat": True, "bad_birth": True, "bad_upn": True}
    )
    assert leaks(inputs[0].read_text("utf-8"), [*markers, *PATTERNS])
    raw = mns.read(inputs, adapter="mapping", mapping=str(tmp_path / "mapping.toml"), postcode=None)
    mns.write(raw, tmp_path / "raw")
    with pytest.raises(AssertionError, match="marker"):
        assert_no_marker_in_files(tmp_path / "raw", markers)
    assert pc.any(pc.is_valid(raw.cases.column("area"))).as_py()
