"""Adapters that stream: ``mns.convert`` a batch at a time gives the folder ``mns.write`` of a
whole ``mns.read`` gives, whatever the batch size; issues located alike; nothing lost."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import mns
from mns.plugins import Adapter, Batches, Source, collect
from mns.records import schema
from mns.records.issues import IssueLog, rejected
from tests.io.test_mapping import HEADER, MAPPING, ROWS, _cell

KEY = "a-secret-key-of-some-length"
TABLES = ("cases", "services", "outcomes", "assignments", "issues")


def _csv(path: Path, rows: Sequence[Sequence[str]], header: Sequence[str] = HEADER) -> Path:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(text.getvalue(), "utf-8")
    return path


def _plain(table: pa.Table) -> tuple[pa.Schema, list[dict[str, Any]]]:
    """A table as its schema and rows: equal tables, however chunked or dictionary-encoded."""
    return table.schema, table.to_pylist()


def _folder(path: Path) -> dict[str, Any]:
    """What a records folder holds, as read back."""
    records = mns.read(path)
    out: dict[str, Any] = {name: _plain(getattr(records, name)) for name in TABLES}
    out["provenance"] = records.provenance
    out["files"] = sorted(p.name for p in path.iterdir())
    return out


def _both(
    sources: Sequence[Path], folder: Path, batch_rows: int, **options: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(convert a batch at a time, write of a whole read), each read back."""
    whole = mns.read(list(sources), **options)
    one = mns.write(whole, folder / "whole", issue_files=True, overwrite=True)
    streamed = mns.convert(
        list(sources),
        folder / "streamed",
        batch_rows=batch_rows,
        issue_files=True,
        overwrite=True,
        **options,
    )
    return _folder(streamed), _folder(one)


@pytest.fixture
def mapping(tmp_path: Path) -> Path:
    path = tmp_path / "m.toml"
    path.write_text(MAPPING, "utf-8")
    return path


_rows = st.lists(st.lists(_cell, max_size=len(HEADER) + 2), max_size=12)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=40)
@given(
    first=_rows,
    second=st.one_of(st.none(), _rows),
    batch_rows=st.integers(1, 5),
    key=st.sampled_from([None, KEY]),
)
def test_converted_a_batch_at_a_time_equals_written_whole(
    first: list[list[str]],
    second: list[list[str]] | None,
    batch_rows: int,
    key: str | None,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    folder = tmp_path_factory.mktemp("stream")
    (folder / "m.toml").write_text(MAPPING, "utf-8")
    sources = [_csv(folder / "a.csv", first)]
    if second is not None:  # two files: their flag columns differ
        sources.append(_csv(folder / "b.csv", second))
    streamed, whole = _both(
        sources, folder, batch_rows, adapter="mapping", mapping=folder / "m.toml", pseudonymise=key
    )
    assert streamed == whole
    # nothing lost: every record read is in the table or rejected
    records = mns.read(folder / "streamed")
    expected = sum(1 for rows in (first, second or []) for r in rows if any(c.strip() for c in r))
    assert records.cases.num_rows + rejected(records.issues, "cases") == expected


def test_the_issues_are_located_alike_and_privacy_applies_to_every_batch(
    tmp_path: Path, mapping: Path
) -> None:
    path = _csv(tmp_path / "export.csv", ROWS)
    streamed, whole = _both([path], tmp_path, 1, mapping=mapping, pseudonymise=KEY)
    assert streamed == whole
    _, issues = streamed["issues"]
    located = [(i["row"], i["column"], i["field"], i["action"]) for i in issues]
    assert (7, "Child ID", "case_id", "rejected") in located  # "123" again, two batches later
    _, cases = streamed["cases"]
    assert [c["area"] for c in cases] == ["SW1A", "NW1", None]  # coarsened batch by batch
    assert "123" not in {c["case_id"] for c in cases}  # pseudonymised batch by batch
    assert streamed["provenance"].pseudonymised
    assert "issues.csv" in streamed["files"]


def test_a_zip_of_csv_exports_streams_entry_by_entry(tmp_path: Path, mapping: Path) -> None:
    plain = _csv(tmp_path / "referrals.csv", ROWS)
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(plain, "referrals.csv")
        z.writestr("readme.txt", "not read")
    out = mns.convert(archive, tmp_path / "out", mapping=mapping, batch_rows=2)  # sniffed
    records = mns.read(out)
    whole = mns.read(plain, mapping=mapping)
    assert _plain(records.cases) == _plain(whole.cases)
    sources = set(records.issues.column("source").to_pylist())
    assert sources == {f"{archive}/referrals.csv"}
    assert records.provenance.files[0].name == str(archive)


# --- the streaming contract, for adapter authors ---------------------------------------------


def _numbers(sources: Sequence[Source], options: Mapping[str, Any]) -> Batches:
    """A toy streaming adapter: each line of each file is a case id; 'x' is rejected."""
    from mns.plugins import RowBatcher

    log = IssueLog(adapter="numbers", table="cases", strict=bool(options.get("strict")))
    batcher = RowBatcher(schema.CASES, options.get("batch_size"))
    for source in sources:
        with source.open() as stream:
            for number, line in enumerate(stream.read().decode().splitlines(), 1):
                if line == "x":
                    log.error("not a case", source=source.name, row=number, field="case_id")
                    continue
                batch = batcher.add({"case_id": line, "area": "SW1A 1AA"})
                if batch is not None:
                    yield "cases", batch
    yield "cases", batcher.flush()
    return mns.Records(issues=log.table())


NUMBERS = Adapter(
    name="numbers",
    description="one case id a line",
    read=lambda s, o: collect(_numbers(s, o)),
    stream=_numbers,
    suffixes=(".num",),
)


def test_a_third_party_stream_reads_and_converts_alike(tmp_path: Path) -> None:
    path = tmp_path / "ids.num"
    path.write_text("a\nb\nx\nc\n", "utf-8")
    records = mns.read(path, adapter=NUMBERS, batch_size=2, pseudonymise=KEY)
    assert records.cases.num_rows == 3
    assert records.cases.column("area").to_pylist() == ["SW1A"] * 3  # protected per batch
    assert rejected(records.issues, "cases") == 1
    whole = NUMBERS.read([Source.from_path(path)], {"batch_size": None})
    assert whole.cases.column("case_id").to_pylist() == ["a", "b", "c"]
    out = mns.convert(path, tmp_path / "out", adapter=NUMBERS, batch_rows=1, pseudonymise=KEY)
    back = mns.read(out)
    assert _plain(back.cases) == _plain(records.cases)
    assert _plain(back.issues) == _plain(records.issues)
    assert back.provenance.adapter == "numbers"


def test_a_stream_that_breaks_the_contract_is_an_adapter_error(tmp_path: Path) -> None:
    path = tmp_path / "ids.num"
    path.write_text("a\n", "utf-8")

    def wide(sources: Sequence[Source], options: Mapping[str, Any]) -> Batches:
        yield "cases", pa.table({"case_id": ["a"]})
        yield "cases", pa.table({"case_id": ["b"], "surprise": [1]})
        return None

    def issues(sources: Sequence[Source], options: Mapping[str, Any]) -> Batches:
        yield "issues", schema.empty("issues")
        return None

    def untyped(sources: Sequence[Source], options: Mapping[str, Any]) -> Batches:
        yield "cases", pa.table({"case_id": ["a"], "age": ["old"]})
        return None

    for stream, words in (
        (wide, "surprise"),
        (issues, "returns its issues at the end"),
        (untyped, "cannot make canonical"),
    ):
        adapter = Adapter(name="broken", description="", read=NUMBERS.read, stream=stream)
        with pytest.raises(mns.AdapterError, match=words):
            mns.read(path, adapter=adapter)
        with pytest.raises(mns.AdapterError, match=words):
            mns.convert(path, tmp_path / "out", adapter=adapter)
        assert not (tmp_path / "out").exists()  # nothing half-written


def test_a_strict_conversion_stops_at_the_first_error(tmp_path: Path, mapping: Path) -> None:
    path = _csv(tmp_path / "export.csv", ROWS)
    with pytest.raises(mns.RecordError) as raised:
        mns.convert(path, tmp_path / "out", mapping=mapping, strict=True, batch_rows=1)
    assert raised.value.row == 5
    assert not (tmp_path / "out").exists()


def test_an_adapter_without_a_stream_is_read_then_written(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text("case_id,sex\nC1,M\nC2,F\n", "utf-8")
    out = mns.convert(path, tmp_path / "out", batch_rows=1)  # the canonical adapter
    assert mns.read(out).cases.column("case_id").to_pylist() == ["C1", "C2"]
    with pytest.raises(ValueError, match="batch_rows=0"):
        mns.convert(path, tmp_path / "again", batch_rows=0)


# --- bounded memory ----------------------------------------------------------------------------


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="VmHWM is Linux's")
def test_converting_a_six_times_larger_export_takes_no_more_memory(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-m", "tests.plugins.convert_memory", str(tmp_path)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["rows"] == 60_000
    grown = result["large_mib"] - result["medium_mib"]  # 45 MB more file
    rise = result["large_peak_mib"] - result["medium_peak_mib"]
    assert rise < grown / 4, f"peak memory rose {rise:.0f} MiB for {grown:.0f} MB more file"


def test_a_record_too_long_to_read_is_rejected_whole(tmp_path: Path, mapping: Path) -> None:
    # a cell over the csv module's 131,072 characters, then a quoted cell holding a line
    # break: the rest of the record is not read as records of its own
    path = _csv(tmp_path / "long.csv", [["x" * 131_604, "\r0"] + [""] * 8, ["124"] + [""] * 9])
    records = mns.read(path, mapping=mapping)
    assert records.cases.column("case_id").to_pylist() == ["124"]
    assert rejected(records.issues, "cases") == 1


@given(keys=st.lists(st.integers(0, 300), max_size=600))
def test_the_first_row_of_each_case_is_remembered_in_little_memory(keys: list[int]) -> None:
    from mns.builtin.mapping import _FirstSeen

    seen = _FirstSeen()
    seen.RECENT, seen.RUN = 16, 64  # spilled to sorted runs, merged, filtered: all of it
    first: dict[str, int] = {}
    for row, key in enumerate(keys):
        text = f"C{key}"
        assert seen.get(text) == first.get(text)
        if text not in first:
            seen.add(text, row)
            first[text] = row
