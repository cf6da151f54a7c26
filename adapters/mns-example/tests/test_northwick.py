"""The Northwick example adapter: conformance, the installed entry point, and what it reads."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import mns_example
import pyarrow.compute as pc
import pytest

import mns
import mns.testing
from mns.plugins.manager import Manager

SAMPLES = Path(__file__).parent / "samples"
CLEAN = SAMPLES / "northwick-2024.nweh"
MESSY = SAMPLES / "northwick-messy.nweh"

# records in each sample per table, counted by hand: data lines, and data lines with a SERVICE
COUNTS = {CLEAN: {"cases": 5, "services": 4}, MESSY: {"cases": 5, "services": 4}}


def test_conformance(plugin_manager: Manager) -> None:
    assert plugin_manager.add(mns_example)
    report = mns.testing.conformance(
        "northwick", COUNTS, other_samples=[SAMPLES / "not-northwick.csv"]
    )
    assert "sniff is pure and fast" in report.checks


def test_the_installed_entry_point_is_found() -> None:
    manager = Manager(autoload=frozenset({"northwick"}))
    found = {a.name: a.plugin for a in manager.adapters()}
    assert found["northwick"] == "northwick"
    assert manager.failures() == ()


def test_reads_cases_and_services(plugin_manager: Manager) -> None:
    plugin_manager.add(mns_example)
    records = mns.read(CLEAN)  # chosen by suffix
    assert records.provenance.adapter == "northwick"
    assert records.provenance.reference_date == dt.date(2024, 3, 31)
    assert records.provenance.collection_year == 2024
    assert records.cases.column("case_id").to_pylist() == [f"EH-000{i}" for i in range(1, 6)]
    assert records.cases.column("mns.young_carer").to_pylist() == [False, False, True, False, False]
    assert records.services.num_rows == 4
    assert records.issues.num_rows == 0


def test_messy_lines_are_located(plugin_manager: Manager) -> None:
    plugin_manager.add(mns_example)
    issues = mns.read(MESSY).issues
    rejected = issues.filter(pc.equal(issues.column("action"), "rejected"))
    assert sorted(set(rejected.column("line").to_pylist())) == [5, 6]
    blanked = issues.filter(pc.equal(issues.column("field"), "OPENED"))
    assert blanked.column("line").to_pylist() == [7]
    with pytest.raises(mns.RecordError, match="line 3") as caught:
        mns.read(MESSY, strict=True)
    assert caught.value.adapter == "northwick"
