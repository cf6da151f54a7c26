"""Partitioned Parquet datasets: hive partitions become columns, filters prune files and rows,
only the columns a run needs are read, memory stays bounded, and bad input is named."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import mns
from mns.engines import dataset
from mns.engines._dataset import BATCH_ROWS
from mns.errors import MnsError, SchemaError
from mns.plan import Plan
from tests.engines._fs import ROOT_ENV, opened, rooted
from tests.engines.conftest import write


def _sorted(table: pa.Table) -> pa.Table:
    return table.sort_by("case_id")


def _values(table: pa.Table, names: list[str]) -> dict[str, list[object]]:
    return {n: table.column(n).to_pylist() for n in names}


@pytest.fixture(scope="module")
def by_la(cases: pa.Table, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(cases, tmp_path_factory.mktemp("by_la"), by=["la"], rows_per_file=400)


def test_partition_columns_are_categories_and_every_row_is_read(
    cases: pa.Table, by_la: Path
) -> None:
    data = dataset(by_la)
    assert data.partitions == ("la",)
    assert data.schema.field("la").type == pa.dictionary(pa.int32(), pa.string())
    assert len(data.files) > 5  # one folder per authority (and the missing one), split files
    table = data.to_table()
    assert table.num_rows == cases.num_rows == data.count_rows()
    assert set(table.column_names) == set(cases.column_names)
    names = cases.column_names
    assert _values(_sorted(table), names) == _values(_sorted(cases), names)  # nulls in la too


def test_a_filter_prunes_files_and_rows(cases: pa.Table, by_la: Path) -> None:
    everything = dataset(by_la)
    chosen = dataset(by_la, filter={"la": ["Q001", "Q003"]})
    assert 0 < len(chosen.files) < len(everything.files)
    assert all("la=Q001" in f or "la=Q003" in f for f in chosen.files)
    want = pc.sum(pc.is_in(cases.column("la").cast(pa.string()), pa.array(["Q001", "Q003"])))
    assert chosen.count_rows() == want.as_py() == chosen.to_table().num_rows
    # a filter on a column of the files (not a partition) filters rows as they are read
    referrals = chosen.where(pc.field("cohort") == "referral")
    got = referrals.to_table(["case_id", "cohort", "la"])
    assert set(got.column("cohort").to_pylist()) == {"referral"}
    assert set(got.column("la").to_pylist()) <= {"Q001", "Q003"}
    expected = cases.filter(
        pc.and_(
            pc.is_in(cases.column("la").cast(pa.string()), pa.array(["Q001", "Q003"])),
            pc.equal(cases.column("cohort").cast(pa.string()), "referral"),
        )
    )
    assert sorted(got.column("case_id").to_pylist()) == sorted(
        expected.column("case_id").to_pylist()
    )
    missing = dataset(by_la, filter={"la": None})
    assert missing.count_rows() == cases.column("la").null_count


def test_only_the_columns_a_run_needs_are_read(by_la: Path, plan: Plan) -> None:
    data = dataset(by_la)
    assert data.reader(["sex", "la"]).read == ("sex", "la")
    classified = mns.classify(data, plan)
    reader = classified.reader(["need_group", "la"])
    assert "need_group" not in reader.read  # made as the files are read
    assert "la" in reader.read
    assert "case_id" not in reader.read
    assert "ethnicity" not in reader.read
    assert len(reader.read) < len(data.columns) / 1.5
    narrow = dataset(by_la, columns=["case_id", "sex"])
    assert narrow.columns == ("case_id", "sex")
    assert narrow.to_table().column_names == ["case_id", "sex"]


def test_classifying_a_dataset_classifies_each_case_as_the_table_does(
    cases: pa.Table, by_la: Path, plan: Plan
) -> None:
    data = mns.classify(dataset(by_la, task_rows=1), plan, missing_fields=True)
    assert isinstance(data, mns.engines.Dataset)
    out = mns.classify(cases, plan, missing_fields=True)
    assert isinstance(out, pa.Table)
    made = [n for n in out.column_names if n not in cases.column_names]
    assert "need_group" in made
    assert "missing_fields" in made
    got = _sorted(data.to_table(["case_id", *made]))
    assert _values(got, made) == _values(_sorted(out), made)
    assert data.schema.metadata[b"mns.plan"] == out.schema.metadata[b"mns.plan"]


def test_streaming_holds_a_few_batches_not_the_dataset(tmp_path: Path) -> None:
    folder = tmp_path / "big"
    folder.mkdir()
    batches = mns.synth.batches(160_000, seed=3, batch_size=20_000)
    total = 0
    for i, batch in enumerate(batches):
        pq.write_table(pa.Table.from_batches([batch]), folder / f"part-{i:02d}.parquet")
        total += batch.nbytes
    data = dataset(folder)
    pool = pa.default_memory_pool()
    start = pool.bytes_allocated()
    peak = rows = 0
    for batch in data.batches():
        rows += batch.num_rows
        peak = max(peak, pool.bytes_allocated() - start)
        del batch
    assert rows == 160_000
    assert peak < total / 3, (peak, total)


def test_a_file_is_read_a_batch_at_a_time_whatever_its_row_groups(tmp_path: Path) -> None:
    rows = 2 * BATCH_ROWS + 5
    table = pa.Table.from_batches(list(mns.synth.batches(rows, seed=4)))
    pq.write_table(table, tmp_path / "one.parquet", row_group_size=rows)
    sizes = [batch.num_rows for batch in dataset(tmp_path / "one.parquet").batches()]
    assert sum(sizes) == rows
    assert max(sizes) <= BATCH_ROWS


def test_every_piece_and_the_run_give_back_the_memory_they_freed(
    by_la: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = pa.default_memory_pool()
    released: list[int] = []

    class Counting:
        def release_unused(self) -> None:
            released.append(1)
            pool.release_unused()

    data = dataset(by_la, task_rows=1)
    monkeypatch.setattr(pa, "default_memory_pool", Counting)
    mns.crosstab(data, "la", "sex", engine="local")
    assert len(released) == len(data.tasks()) + 1 > 2  # each piece, then the run once done


def test_small_files_are_put_together_into_tasks(by_la: Path) -> None:
    one_each = dataset(by_la, task_rows=1)
    assert [len(t) for t in one_each.tasks()] == [1] * len(one_each.files)
    together = dataset(by_la)
    assert len(together.tasks()) == 1
    some = dataset(by_la, task_rows=700)
    groups = some.tasks()
    assert 1 < len(groups) < len(some.files)
    assert [f.path for g in groups for f in g] == some.files  # in order, none split
    # the rows of a file are estimated from its size on the listing (no footer read)
    largest = max(some.files, key=lambda f: (Path(f).stat().st_size, f))
    first = pq.ParquetFile(largest).metadata.num_rows / Path(largest).stat().st_size
    for group in groups:
        assert all(f.size == Path(f.path).stat().st_size for f in group)
        estimate = sum(max(1, round(Path(f.path).stat().st_size * first)) for f in group)
        assert estimate <= 700 or len(group) == 1


def _summarised(folder: Path) -> None:
    """A ``_metadata`` file beside the files of ``folder``, as Spark and Dask write."""
    found = []
    for path in sorted(folder.rglob("*.parquet")):
        metadata = pq.read_metadata(path)
        metadata.set_file_path(path.relative_to(folder).as_posix())
        found.append(metadata)
    pq.write_metadata(
        pq.read_schema(sorted(folder.rglob("*.parquet"))[0]),
        folder / "_metadata",
        metadata_collector=found,
    )


def test_planning_reads_one_footer_or_the_metadata_file_not_every_file(
    cases: pa.Table, tmp_path: Path
) -> None:
    folder = write(cases, tmp_path / "data", by=["la"], rows_per_file=100)
    log = tmp_path / "opened.log"
    n_files = len(list(folder.rglob("*.parquet")))
    assert n_files > 10
    with pytest.MonkeyPatch.context() as env:
        env.setenv(ROOT_ENV, str(folder))
        data = dataset("", filesystem=rooted(log), schema="first", task_rows=250)
        before = len(opened(log))
        tasks = data.tasks()
        assert len(opened(log)) - before == 1  # one footer: the rows per byte
        assert sum(len(t) for t in tasks) == n_files
        assert all(f.partition and f.partition[0][0] == "la" for t in tasks for f in t)
        # with a _metadata file, opening and planning read that one file
        _summarised(folder)
        log.unlink()
        summarised = dataset("", filesystem=rooted(log), task_rows=250)
        groups = summarised.tasks()
        assert [path for _, path, _ in opened(log)] == ["/_metadata"]
        assert all(f.rows is not None for g in groups for f in g)
        for group in groups:  # exact rows now
            assert sum(f.rows or 0 for f in group) <= 250 or len(group) == 1
        got = summarised.to_table().sort_by("case_id")
    assert got.column("case_id").to_pylist() == sorted(cases.column("case_id").to_pylist())


def test_a_stale_metadata_file_is_ignored(cases: pa.Table, tmp_path: Path) -> None:
    folder = write(cases, tmp_path, by=["la"], rows_per_file=500)
    _summarised(folder)
    extra = folder / "la=Q001" / "late.parquet"
    pq.write_table(cases.slice(0, 3).drop_columns(["la"]), extra)
    data = dataset(folder)
    assert data.rows is None  # the _metadata file does not list late.parquet
    assert data.count_rows() == cases.num_rows + 3
    assert sum(len(t) for t in data.tasks()) == len(data.files)


def test_files_of_different_years_are_unified(tmp_path: Path) -> None:
    old = pa.table({"case_id": ["A", "B"], "cin.1A": [True, False]})
    new = pa.table({"case_id": ["C"], "cin.1A": [None], "cin.24A": [True]})
    (tmp_path / "year=2019").mkdir()
    (tmp_path / "year=2024").mkdir()
    pq.write_table(old, tmp_path / "year=2019" / "part.parquet")
    pq.write_table(new, tmp_path / "year=2024" / "part.parquet")
    data = dataset(tmp_path)
    assert data.columns == ("case_id", "cin.1A", "cin.24A", "year")
    table = data.to_table().sort_by("case_id")
    assert table.column("cin.24A").to_pylist() == [None, None, True]
    assert table.column("year").to_pylist() == [2019, 2019, 2024]
    assert dataset(tmp_path, schema="first").columns == ("case_id", "cin.1A", "year")


# --------------------------------------------------------------------------------------
# Bad input, named


def test_a_missing_path_is_named(tmp_path: Path) -> None:
    with pytest.raises(MnsError, match=r"nowhere.*does not exist"):
        dataset(tmp_path / "nowhere")


def test_a_file_that_is_not_parquet_is_named(tmp_path: Path) -> None:
    pq.write_table(pa.table({"case_id": ["A"]}), tmp_path / "part.parquet")
    (tmp_path / "notes.csv").write_text("case_id\nA\n", "utf-8")
    (tmp_path / "_SUCCESS").write_text("", "utf-8")  # bookkeeping files are skipped
    with pytest.raises(MnsError, match=r"notes\.csv.*not a Parquet file") as caught:
        dataset(tmp_path)
    assert caught.value.file is not None
    assert caught.value.file.endswith("notes.csv")


def test_an_empty_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MnsError, match="no Parquet files"):
        dataset(tmp_path)


def test_files_that_disagree_on_a_type_are_named(tmp_path: Path) -> None:
    pq.write_table(pa.table({"case_id": ["A"], "age": [3]}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"case_id": ["B"], "age": ["three"]}), tmp_path / "b.parquet")
    with pytest.raises(MnsError, match="cannot be read as one table"):
        dataset(tmp_path)


def test_a_filter_on_an_unknown_column_is_named(by_la: Path, plan: Plan) -> None:
    with pytest.raises(SchemaError, match=r"'nope'") as caught:
        dataset(by_la, filter={"nope": 1})
    assert caught.value.field == "nope"
    with pytest.raises(SchemaError, match=r"names column 'nope'"):
        dataset(by_la, filter=pc.field("nope") == 1)
    with pytest.raises(SchemaError, match="classification adds"):
        mns.classify(dataset(by_la), plan).where({"need_group": "A1"})
    with pytest.raises(SchemaError, match="does not apply"):
        dataset(by_la, filter=pc.field("sex") == 1)
    with pytest.raises(SchemaError, match=r"no column 'nope'"):
        dataset(by_la, columns=["case_id", "nope"])


def test_a_canonical_table_missing_a_column_is_named(tmp_path: Path, cases: pa.Table) -> None:
    broken = cases.drop_columns(["case_id"]).slice(0, 10)
    pq.write_table(broken, tmp_path / "cases.parquet")  # the metadata says "cases"
    with pytest.raises(SchemaError, match=r"column 'case_id' is missing"):
        dataset(tmp_path)
    plain = pa.table({"x": [1]})
    pq.write_table(plain, tmp_path / "other.parquet")
    assert dataset(tmp_path / "other.parquet").columns == ("x",)  # not a canonical table
    with pytest.raises(SchemaError, match="case_id"):
        dataset(tmp_path / "other.parquet", table="cases")


def test_bad_arguments_are_refused(by_la: Path) -> None:
    with pytest.raises(ValueError, match="task_rows"):
        dataset(by_la, task_rows=0)
    with pytest.raises(ValueError, match="partitioning"):
        dataset(by_la, partitioning="directory")
    with pytest.raises(ValueError, match="schema"):
        dataset(by_la, schema="some")
    with pytest.raises(TypeError, match="filter"):
        dataset(by_la, filter="la = 'Q001'")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(task_rows=st.integers(1, 5_000), summarised=st.booleans())
def test_tasks_take_every_file_once_in_order_whatever_their_size(
    task_rows: int, summarised: bool, by_la: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = by_la
    if summarised:  # a copy with a _metadata file: exact rows
        folder = tmp_path_factory.mktemp("summarised")
        for path in by_la.rglob("*.parquet"):
            target = folder / path.relative_to(by_la)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
        _summarised(folder)
    data = dataset(folder, task_rows=task_rows)
    tasks = data.tasks()
    assert [f.path for t in tasks for f in t] == data.files
    assert all(t for t in tasks)
    for task in tasks:
        if summarised:
            assert all(f.rows == pq.ParquetFile(f.path).metadata.num_rows for f in task)
            assert sum(f.rows or 0 for f in task) <= task_rows or len(task) == 1
        assert all(dict(f.partition)["la"] == _la(f.path) for f in task)


def _la(path: str) -> str | None:
    folder = Path(path).parent.name
    value = folder.partition("=")[2]
    return None if value == "__HIVE_DEFAULT_PARTITION__" else value
