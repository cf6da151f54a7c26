"""mns.read and mns.write: sources, adapter choice, options, provenance, round trips."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import mns
from mns.plugins.manager import Manager
from mns.records import schema
from mns.testing import assert_records_equal, builtin_samples, sample_records


def _plugin(*adapters: mns.Adapter) -> Any:
    class Plugin:
        @mns.hookimpl
        def mns_adapters(self) -> Iterator[mns.Adapter]:
            yield from adapters

    return Plugin()


def _echo(name: str, **kw: Any) -> mns.Adapter:
    """An adapter whose cases are the names of the files it was given, and the options."""

    def read(sources: Sequence[mns.Source], options: Any) -> mns.Records:
        cases = pa.table(
            {
                "case_id": [s.name for s in sources],
                "agency": [repr(sorted(options.items()))] * len(sources),
            }
        )
        return mns.Records(cases=schema.conform(cases, "cases"))

    return mns.Adapter(name=name, description=name, read=read, **kw)


def test_choice_by_name_then_suffix_then_sniff(plugin_manager: Manager, tmp_path: Path) -> None:
    plugin_manager.add(
        _plugin(
            _echo("alpha", suffixes=(".dat",), sniff=lambda h: h.startswith(b"A")),
            _echo("beta", suffixes=(".dat",), sniff=lambda h: h.startswith(b"B")),
            _echo("gamma", sniff=lambda h: h.startswith(b"G")),
        )
    )
    (tmp_path / "a.dat").write_bytes(b"A...")
    (tmp_path / "g.txt").write_bytes(b"G...")
    (tmp_path / "z.dat").write_bytes(b"Z...")
    (tmp_path / "unknown.txt").write_bytes(b"?")
    assert mns.read(tmp_path / "a.dat").provenance.adapter == "alpha"  # suffix, then sniff
    assert mns.read(tmp_path / "a.dat", adapter="beta").provenance.adapter == "beta"  # name wins
    assert mns.read(tmp_path / "g.txt").provenance.adapter == "gamma"  # sniff alone
    with pytest.raises(mns.AdapterError, match=r"several adapters.*'alpha'.*'beta'"):
        mns.read(tmp_path / "z.dat")
    with pytest.raises(
        mns.AdapterError, match=r"no adapter recognises .*unknown.txt.*installed adapters"
    ):
        mns.read(tmp_path / "unknown.txt")
    with pytest.raises(mns.AdapterError, match="unknown adapter 'delta'"):
        mns.read(tmp_path / "a.dat", adapter="delta")


def test_sources_paths_folders_and_file_objects(plugin_manager: Manager, tmp_path: Path) -> None:
    plugin_manager.add(_plugin(_echo("alpha", suffixes=(".dat",))))
    for name in ("b.dat", "a.dat", ".hidden.dat"):
        (tmp_path / name).write_bytes(b"x")
    from_folder = mns.read(tmp_path)
    assert from_folder.cases.column("case_id").to_pylist() == [
        str(tmp_path / "a.dat"),
        str(tmp_path / "b.dat"),
    ]
    listed = mns.read([tmp_path / "b.dat", str(tmp_path / "a.dat")])
    assert listed.cases.num_rows == 2
    stream = io.BytesIO(b"x")
    stream.name = "upload.dat"
    read = mns.read(stream)
    assert read.cases.column("case_id").to_pylist() == ["upload.dat"]
    assert read.provenance.files[0].sha256 == hashlib.sha256(b"x").hexdigest()
    assert not stream.closed
    with pytest.raises(mns.AdapterError, match="does not exist"):
        mns.read(tmp_path / "missing.dat")
    with pytest.raises(mns.AdapterError, match="given twice"):
        mns.read([tmp_path / "a.dat", tmp_path / "a.dat"])


def test_options_are_checked_and_defaulted(plugin_manager: Manager, tmp_path: Path) -> None:
    adapter = _echo(
        "alpha",
        suffixes=(".dat",),
        options=(mns.Option(name="year", description="y", default=2024),),
    )
    plugin_manager.add(_plugin(adapter))
    (tmp_path / "a.dat").write_bytes(b"x")
    seen = mns.read(tmp_path / "a.dat").cases.column("agency").to_pylist()[0]
    assert seen == repr([("batch_size", None), ("strict", False), ("year", 2024)])
    with pytest.raises(mns.AdapterError, match=r"does not take option.*yeer.*it takes: year"):
        mns.read(tmp_path / "a.dat", yeer=2023)


def test_a_folder_mns_wrote_is_read_as_it_is_whatever_the_options(
    plugin_manager: Manager, tmp_path: Path
) -> None:
    """The options an agency export needs (year=, mapping=) are not applied to mns's own tables
    (a folder `mns read --out` or mns.write wrote): it is read as it is, and a note says which
    were not applied; naming another adapter for it is a one-line error saying what to do."""
    records = sample_records()
    cli_note = "identifiers are not pseudonymised: give --key-file FILE to replace them"
    provenance = attrs.evolve(records.provenance, warnings=(cli_note,))  # as `mns read --out`
    folder = mns.write(attrs.evolve(records, provenance=provenance), tmp_path / "records")
    assert cli_note in (folder / "provenance.mns.json").read_text("utf-8")
    plain = mns.read(folder)
    given = mns.read(folder, year=2026, mapping="export.toml")
    assert given.cases.equals(plain.cases)
    assert given.services.equals(plain.services)
    note = given.provenance.warnings[-1]
    assert note == (
        f"{folder} holds mns's own tables: read as they are "
        "(mapping=, year= not applied to reading them)"
    )
    assert note not in plain.provenance.warnings
    notes = [w for w in given.provenance.warnings if w.startswith("identifiers are not")]
    assert notes == [
        "identifiers are not pseudonymised: pass pseudonymise=<secret key> to "
        "mns.read to replace them with keyed pseudonyms"
    ]  # once, in Python terms
    with pytest.raises(
        mns.AdapterError, match=r"holds mns's own tables .*without naming the adapter 'mapping'"
    ):
        mns.read(folder, adapter="mapping", mapping="export.toml")
    with pytest.raises(mns.AdapterError, match=r"adapter 'canonical' does not take option.*year"):
        mns.read(folder, adapter="canonical", year=2026)  # named, it is held to its options


def test_adapter_failures_are_wrapped_with_adapter_plugin_and_file(
    plugin_manager: Manager, tmp_path: Path
) -> None:
    def read(sources: Any, options: Any) -> mns.Records:
        raise ZeroDivisionError("boom")

    plugin_manager.add(
        _plugin(mns.Adapter(name="bad", description="b", read=read, suffixes=(".bad",))),
        name="badplug",
    )
    (tmp_path / "x.bad").write_bytes(b"x")
    with pytest.raises(
        mns.AdapterError,
        match=r"adapter 'bad' \(plugin badplug\) failed reading .*x.bad: ZeroDivisionError: boom",
    ) as caught:
        mns.read(tmp_path / "x.bad")
    assert (caught.value.adapter, caught.value.plugin) == ("bad", "badplug")


def test_provenance_has_adapter_version_and_checksums(tmp_path: Path) -> None:
    samples = builtin_samples(tmp_path)
    path = next(p for p in samples if p.suffix == ".csv")
    provenance = mns.read(path).provenance
    assert (provenance.adapter, provenance.adapter_version) == ("canonical", "1")
    (file,) = provenance.files
    assert file.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert file.size == path.stat().st_size
    assert any("not pseudonymised" in w for w in provenance.warnings)


def test_write_then_read_gives_the_records_back(tmp_path: Path) -> None:
    original = sample_records()
    extra = pa.table({"child": ["K1"], "note": ["synthetic"]})
    records = mns.Records(
        provenance=original.provenance,
        cases=original.cases,
        services=original.services,
        outcomes=original.outcomes,
        assignments=original.assignments,
        extra={"children": extra},
    )
    folder = mns.write(records, tmp_path / "out")
    assert sorted(p.name for p in folder.iterdir()) == [
        "assignments.parquet",
        "cases.parquet",
        "children.parquet",
        "issues.parquet",
        "manifest.mns.json",
        "outcomes.parquet",
        "provenance.mns.json",
        "services.parquet",
    ]
    back = mns.read(folder)
    assert back.provenance.adapter == "sample"  # the stored provenance, not the reader's
    for name in schema.TABLES:
        assert getattr(back, name).equals(getattr(records, name)), name
    assert back.extra["children"].equals(extra)
    again = mns.read(mns.write(back, tmp_path / "again"))
    assert_records_equal(back, again)
    with pytest.raises(mns.MnsError, match="not empty"):
        mns.write(records, folder)
    mns.write(records, folder, overwrite=True)


_districts = st.sampled_from(["NW1", "SW1A", "B33", "Northwick East", None])
_dates = st.one_of(st.none(), st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31)))
_ids = st.text(min_size=1, max_size=12)


@st.composite
def _records(draw: st.DrawFn) -> mns.Records:
    n = draw(st.integers(0, 12))
    ids = draw(st.lists(_ids, min_size=n, max_size=n, unique=True))
    cases = pa.table(
        {
            "case_id": pa.array(ids, pa.string()),
            "reference_date": pa.array([draw(_dates) for _ in range(n)], pa.date32()),
            "birth_month": pa.array(
                [d and d.replace(day=1) for d in (draw(_dates) for _ in range(n))], pa.date32()
            ),
            "age": pa.array(
                [draw(st.one_of(st.none(), st.integers(0, 25))) for _ in range(n)], pa.int16()
            ),
            "sex": pa.array([draw(st.sampled_from(["M", "F", "U", None])) for _ in range(n)]),
            "area": pa.array([draw(_districts) for _ in range(n)], pa.string()),
            "cin.4B": pa.array(
                [draw(st.one_of(st.none(), st.booleans())) for _ in range(n)], pa.bool_()
            ),
        }
    )
    services = pa.table(
        {
            "case_id": pa.array(
                [draw(st.sampled_from(ids)) for _ in range(n and draw(st.integers(0, 5)))],
                pa.string(),
            ),
        }
    )
    services = services.append_column(
        "service", pa.array(["support"] * services.num_rows, pa.string())
    )
    return mns.Records(
        provenance=mns.Provenance(
            adapter="hypothesis",
            collection_year=draw(st.one_of(st.none(), st.integers(2000, 2030))),
        ),
        cases=schema.conform(cases, "cases"),
        services=schema.conform(services, "services"),
    )


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=_records())
def test_write_read_round_trip_property(
    records: mns.Records, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("rt")
    back = mns.read(mns.write(records, folder))
    for name in schema.TABLES:
        assert getattr(back, name).equals(getattr(records, name)), name
    assert back.provenance.collection_year == records.provenance.collection_year
