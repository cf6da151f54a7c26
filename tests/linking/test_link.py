"""``mns.link``: one child's records from several returns and agencies become one case."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

import mns_cin_census
import mns_ssda903
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings, strategies as st

import mns
from mns.linking import LINKS, linkage
from mns.plugins.manager import Manager
from mns.records import schema
from tests.linking.returns import CIN_CHILDREN, write_903, write_cin, write_export

KEY = "a secret key of more than sixteen characters"


@pytest.fixture
def manager(plugin_manager: Manager) -> Manager:
    plugin_manager.add(mns_cin_census, name="cin-census")
    plugin_manager.add(mns_ssda903, name="ssda903")
    return plugin_manager


def test_link_is_exported() -> None:
    assert mns.link is mns.linking.link


def test_a_child_in_need_who_became_looked_after_is_one_child(
    manager: Manager, tmp_path: Path
) -> None:
    read = mns.read(
        [
            write_cin(tmp_path / "census.xml"),
            write_903(tmp_path / "903"),
            write_export(tmp_path / "health" / "cases.csv"),
        ]
    )
    linked = mns.link(read)
    cases = linked.cases
    children = cases.column("child_id").to_pylist()
    assert sorted(children) == sorted(set(read.cases.column("child_id").to_pylist()))
    by_child = {c["child_id"]: c for c in cases.to_pylist()}
    assert by_child["ZQK004X"]["source_system"] == "cin-census+ssda903"
    assert by_child["ZQK005X"]["source_system"] == "canonical+cin-census+ssda903"
    assert by_child["ZQK005X"]["agency"] == "health+social_care"
    assert by_child["ZQK005X"]["cohort"] == "looked_after"  # the most recent known
    assert by_child["ZQK001X"]["source_system"] == "cin-census"
    summary = linkage(linked)
    assert summary.linked == 3  # ZQK000X (CIN, health), ZQK004X, ZQK005X
    assert summary.by_systems == {
        "canonical+cin-census": 1,
        "cin-census+ssda903": 1,
        "canonical+cin-census+ssda903": 1,
    }
    assert (summary.cases_in, summary.cases_out) == (read.cases.num_rows, cases.num_rows)
    assert "3 children linked" in linked.provenance.warnings[-1]
    # services follow their child's linked case; none is lost
    assert linked.services.num_rows == read.services.num_rows
    ids = set(cases.column("case_id").to_pylist())
    assert set(linked.services.column("case_id").to_pylist()) <= ids
    links = linked.extra[LINKS]
    assert sorted(links.column("case_id").to_pylist()) == sorted(
        read.cases.column("case_id").to_pylist()
    )


def test_returns_pseudonymised_with_the_same_key_link(manager: Manager, tmp_path: Path) -> None:
    cin = write_cin(tmp_path / "census.xml")
    la = write_903(tmp_path / "903")
    same = mns.link([mns.read(cin, pseudonymise=KEY), mns.read(la, pseudonymise=KEY)])
    assert linkage(same).linked == 2
    assert not set(same.cases.column("child_id").to_pylist()) & set(CIN_CHILDREN)
    other = mns.link([mns.read(cin, pseudonymise=KEY), mns.read(la, pseudonymise=KEY[::-1])])
    assert linkage(other).linked == 0


def _records(rows: Sequence[Mapping[str, object]], services: Sequence[str] = ()) -> mns.Records:
    cases = schema.conform(pa.Table.from_pylist(list(rows)), "cases")
    table = pa.table({"case_id": list(services), "service": ["s"] * len(services)})
    return mns.Records(cases=cases, services=schema.conform(table, "services"))


def test_disagreeing_records_are_reported_and_the_latest_kept() -> None:
    day = dt.date(2024, 1, 1)
    records = _records(
        [
            {"case_id": "A", "child_id": "K1", "sex": "F", "reference_date": day},
            {"case_id": "B", "child_id": "K1", "sex": "M", "reference_date": day.replace(month=3)},
            {"case_id": "C", "child_id": None, "sex": "F"},
        ],
        services=["A", "B", "C"],
    )
    linked = mns.link(records)
    assert linked.cases.column("case_id").to_pylist() == ["A", "C"]
    assert linked.cases.column("sex").cast(pa.string()).to_pylist() == ["M", "F"]
    assert linked.services.column("case_id").to_pylist() == ["A", "A", "C"]
    (issue,) = linked.issues.to_pylist()
    assert (issue["record"], issue["field"], issue["severity"]) == ("K1", "sex", "warning")
    assert linkage(linked).unkeyed == 1


_pool = st.sampled_from(["K1", "K2", "K3", "K4", None])


@st.composite
def _cases(draw: st.DrawFn) -> mns.Records:
    n = draw(st.integers(0, 12))
    rows = [
        {
            "case_id": f"C{i}",
            "child_id": draw(_pool),
            "reference_date": dt.date(2024, 1, 1) + dt.timedelta(days=draw(st.integers(0, 30))),
            "source_system": draw(st.sampled_from(["cin-census", "ssda903", "health"])),
            "cin.2A": draw(st.one_of(st.none(), st.booleans())),
        }
        for i in range(n)
    ]
    services = (
        [f"C{draw(st.integers(0, n - 1))}" for _ in range(draw(st.integers(0, 8)))] if n else []
    )
    if not rows:
        return mns.Records()
    return _records(rows, services)


def _children(cases: pa.Table) -> set[tuple[object, ...]]:
    keyed = cases.filter(pc.is_valid(cases.column("child_id")))
    flags = (
        keyed.column("cin.2A").to_pylist()
        if "cin.2A" in keyed.column_names
        else [None] * keyed.num_rows
    )
    systems = keyed.column("source_system").cast(pa.string()).to_pylist()
    return set(zip(keyed.column("child_id").to_pylist(), systems, flags, strict=True))


@settings(max_examples=40, deadline=None)
@given(records=_cases(), seed=st.randoms(use_true_random=False))
def test_link_gives_one_case_per_child_and_loses_nothing(
    records: mns.Records, seed: object
) -> None:
    linked = mns.link(records)
    cases = records.cases
    ids = cases.column("child_id").to_pylist()
    assert linked.cases.num_rows == len({i for i in ids if i is not None}) + ids.count(None)
    out_ids = linked.cases.column("case_id").to_pylist()
    assert len(out_ids) == len(set(out_ids))
    assert set(linked.services.column("case_id").to_pylist()) <= set(out_ids)
    assert linked.services.num_rows == records.services.num_rows
    assert set(linked.extra[LINKS].column("linked_case_id").to_pylist()) == set(out_ids)
    for child in {i for i in ids if i is not None}:  # a flag found in any record stays found
        mine = cases.filter(pc.equal(cases.column("child_id"), child))
        merged = linked.cases.filter(pc.equal(linked.cases.column("child_id"), child))
        flags = [f for f in mine.column("cin.2A").to_pylist() if f is not None]
        assert merged.column("cin.2A").to_pylist() == [any(flags) if flags else None]
        systems = sorted(set(mine.column("source_system").cast(pa.string()).to_pylist()))
        assert merged.column("source_system").cast(pa.string()).to_pylist() == ["+".join(systems)]
    again = mns.link(linked)  # linking linked records changes nothing
    assert again.cases.to_pylist() == linked.cases.to_pylist()
    order = list(range(cases.num_rows))
    seed.shuffle(order)  # type: ignore[attr-defined]
    shuffled = mns.Records(cases=cases.take(pa.array(order, pa.int64())), services=records.services)
    assert _children(mns.link(shuffled).cases) == _children(linked.cases)
