"""The conformance suite on the reference sample and on generated files of every year."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import mns_cin_census
import pytest
from mns_cin_census import spec

import mns.testing
from mns import synth
from mns.plugins.manager import Manager

YEARS = range(spec.FIRST_YEAR, spec.LAST_YEAR + 1)
_EPISODE = re.compile(rb"<(?:\w+:)?CINdetails[\s/>]")


def episodes_in(path: Path) -> int:
    """Episodes of need in a file, counted from its bytes (independently of the adapter)."""
    return len(_EPISODE.findall(path.read_bytes()))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """A small synthetic census file for every collection year."""
    folder = tmp_path_factory.mktemp("years")
    out = {}
    for year in YEARS:
        recs = synth.records(40, seed=year, year=year)
        path = folder / f"cin_{year}.xml"
        mns_cin_census.write(recs.cases, recs.services, path, year=year, lea="201")
        out[year] = path
    return out


def test_conformance_reference_sample(manager: Manager, reference: Path, tmp_path: Path) -> None:
    sample = reference / "cin_census" / "cin-2022_sample.xml"
    other = tmp_path / "looked_after.xml"
    other.write_text("<EXPSSDA903><CHILD><HEADER><CHILD>1</CHILD></HEADER></CHILD></EXPSSDA903>")
    report = mns.testing.conformance(
        "cin-census", {sample: {"cases": episodes_in(sample)}}, other_samples=[other]
    )
    assert report.adapter == "cin-census"


def test_conformance_every_year(manager: Manager, generated: dict[int, Path]) -> None:
    samples = {path: {"cases": episodes_in(path)} for path in generated.values()}
    mns.testing.conformance("cin-census", samples, batch_sizes=(7,))


def test_conformance_bad_files(manager: Manager, tmp_path: Path, build: Any) -> None:
    bad = {
        "truncated.xml": build.document(build.child("A") + build.child("B"))[:-60],
        "mixed.xml": build.document(
            build.child("A", ethnicity="XXXX")
            + build.child("", episodes=build.episode() + build.episode(referral="2023-08-01"))
            + build.child("C", episodes=build.episode(referral="2023-02-30"))
        ),
        "doctype.xml": build.document(
            build.child("A"), prolog='<!DOCTYPE Message [<!ENTITY a "b">]>\n'
        ),
    }
    samples: dict[Any, dict[str, int]] = {}
    for name, data in bad.items():
        path = tmp_path / name
        path.write_bytes(data)
        samples[path] = {"cases": episodes_in(path)}
    mns.testing.conformance("cin-census", samples)


def test_reference_sample_values(reference: Path) -> None:
    recs = mns_cin_census.read(reference / "cin_census" / "cin-2022_sample.xml")
    [case] = recs.cases.to_pylist()
    assert case["case_id"] == "DfEX0000001/1970-10-06"
    assert case["age"] == 4
    assert case["sex"] == "M"
    assert case["la"] == "201"
    assert case["disability"] is True
    assert case["cin.disability_HAND"]
    assert case["cin.disability_HEAR"]
    assert [
        k for k, v in case.items() if k.startswith("cin.") and v is True and k[4].isdigit()
    ] == [
        "cin.2A",
        "cin.2B",
    ]
    assert case["cin.primary_need"] == "N4"
    assert case["cin.reason_for_closure"] == "RC1"
    assert case["cin.category_of_abuse"] == "PHY"
    assert sorted(recs.services.column("service").to_pylist()) == [
        "assessment",
        "cin_plan",
        "cp_plan",
        "s47",
    ]
    assert recs.provenance.collection_year == 2022
    assert set(recs.extra) == set(mns_cin_census.RELATIONAL)
    cpp = recs.extra["ChildProtectionPlans"].to_pylist()[0]
    assert cpp["NumberOfPreviousCPP"] == 10
    assert cpp["CINdetailsID"] == 1
    assert cpp["CPPID"] == 1
    # privacy: dates of birth reach the caller as a month only
    assert str(recs.extra["ChildIdentifiers"].column("PersonBirthDate")[0]) == "1966-03-01"


def test_reference_sample_validates_against_its_xsd(reference: Path) -> None:
    folder = reference / "cin_census"
    errors = mns_cin_census.xsd_errors(
        folder / "cin-2022_sample.xml", folder / "CIN_schema_2024.xsd"
    )
    assert errors == []


def test_entry_point_is_installed() -> None:
    manager = Manager(autoload=False)
    assert manager.load_entry_points(frozenset({"cin-census"})) == 1
    assert [a.name for a in manager.adapters() if a.name == "cin-census"] == ["cin-census"]
