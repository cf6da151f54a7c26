"""Mixed folders and several returns: each file to the adapter that knows it, the rest listed
as issues (never fatal, never decoded as text), one Records with every case's system set."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import mns_cin_census
import mns_ssda903
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import mns
from mns.dispatch import WHOLE_FILE, refused
from mns.plugins.manager import Manager
from tests.linking.returns import CIN_CHILDREN, LA_CHILDREN, write_903, write_cin, write_export

#: Workbooks and a PDF that no adapter reads: zip and PDF heads, binary bodies.
_UNRELATED = {
    "budget.xlsx": b"PK\x03\x04" + bytes(range(256)) * 8,
    "minutes.pdf": b"%PDF-1.7\n" + bytes(range(256)) * 4,
}


@pytest.fixture
def manager(plugin_manager: Manager) -> Manager:
    plugin_manager.add(mns_cin_census, name="cin-census")
    plugin_manager.add(mns_ssda903, name="ssda903")
    return plugin_manager


def _left_out(records: mns.Records) -> list[str]:
    issues = records.issues
    picked = issues.filter(pc.fill_null(pc.equal(issues.column("field"), WHOLE_FILE), False))
    return sorted(Path(s).name for s in picked.column("source").to_pylist())


@pytest.mark.parametrize("adapter", [None, "ssda903"])
def test_a_903_folder_with_unrelated_workbooks_reads_the_csvs_and_lists_the_rest(
    manager: Manager, tmp_path: Path, adapter: str | None
) -> None:
    folder = write_903(tmp_path / "903")
    for name, body in _UNRELATED.items():
        (folder / name).write_bytes(body)
    records = mns.read(folder, adapter=adapter)
    assert sorted(records.cases.column("child_id").unique().to_pylist()) == sorted(LA_CHILDREN)
    assert _left_out(records) == sorted(_UNRELATED)
    assert refused(records.issues) == ()  # not refused: not theirs to read
    for issue in records.issues.to_pylist():  # nothing was decoded as text
        text = " ".join(str(v) for v in issue.values() if v is not None)
        assert "\\x" not in text
        assert "\x00" not in text
    only = mns.read(sorted(p for p in folder.iterdir() if p.suffix == ".csv"))
    assert records.cases.equals(only.cases)


def test_csv_files_and_zips_of_them_that_no_adapter_recognises_are_listed_not_refused(
    manager: Manager, tmp_path: Path
) -> None:
    folder = write_903(tmp_path / "903")
    (folder / "notes.csv").write_text("meeting,date\nboard,01/02/2024\n", "utf-8")
    with zipfile.ZipFile(folder / "bundle.zip", "w") as bundle:  # the mapping adapter's kind
        bundle.writestr("budget.csv", "line,amount\nstaff,100\n")
    records = mns.read(folder, year=2024)
    assert sorted(records.cases.column("child_id").unique().to_pylist()) == sorted(LA_CHILDREN)
    assert _left_out(records) == ["bundle.zip", "notes.csv"]
    assert refused(records.issues) == ()
    mapped = mns.read(folder / "bundle.zip", mapping=_BUDGET_MAPPING)  # named, it is read
    assert mapped.cases.num_rows == 1


_BUDGET_MAPPING = {
    "table": "cases",
    "collection_year": 2024,
    "reference_date": dt.date(2024, 3, 31),
    "fields": {"case_id": "line"},
}


def test_a_folder_of_nothing_readable_is_still_an_error(manager: Manager, tmp_path: Path) -> None:
    folder = tmp_path / "junk"
    folder.mkdir()
    for name, body in _UNRELATED.items():
        (folder / name).write_bytes(body)
    with pytest.raises(mns.AdapterError, match="no adapter recognises"):
        mns.read(folder)


def test_several_returns_read_together_give_one_records(manager: Manager, tmp_path: Path) -> None:
    cin = write_cin(tmp_path / "census.xml")
    la = write_903(tmp_path / "903")
    export = write_export(tmp_path / "health" / "cases.csv")
    records = mns.read([cin, la, export])
    systems = records.cases.column("source_system").cast(pa.string())
    assert systems.null_count == 0
    by_system = pc.value_counts(systems).to_pylist()
    counts = {d["values"]: d["counts"] for d in by_system}
    assert set(counts) == {"cin-census", "ssda903", "canonical"}
    assert records.cases.column("agency").null_count == 0
    apart = [mns.read(cin), mns.read(la), mns.read(export)]
    assert records.cases.num_rows == sum(r.cases.num_rows for r in apart)
    assert records.services.num_rows == sum(r.services.num_rows for r in apart)
    assert sorted(f.name for f in records.provenance.files) == sorted(
        f.name for r in apart for f in r.provenance.files
    )
    assert records.provenance.adapter == "cin-census+ssda903+canonical"
    assert records.provenance.collection_year == 2024
    assert set(CIN_CHILDREN) <= set(records.cases.column("child_id").to_pylist())


def test_options_go_to_the_adapters_that_take_them(manager: Manager, tmp_path: Path) -> None:
    cin = write_cin(tmp_path / "census.xml")
    la = write_903(tmp_path / "903")
    records = mns.read([cin, la], year=2024)  # both take year
    assert records.provenance.collection_year == 2024
    with pytest.raises(mns.AdapterError, match="does not take option"):
        mns.read([cin, la], yaer=2024)
