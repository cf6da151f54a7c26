"""Folders mns writes are whole or refused: written beside, renamed into place, manifest last;
overwrite replaces only what mns wrote; never among or below the inputs."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pv
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import mns
from mns.audit import AUDIT_FILE, load_result
from mns.records import folder as outputs
from mns.records.folder import MANIFEST_FILE
from mns.testing import assert_records_equal, sample_records


def _accepted(path: Path) -> bool:
    """Whether a later read takes ``path`` as records."""
    try:
        mns.read(path)
    except mns.MnsError:
        return False
    return True


def _siblings(path: Path) -> list[Path]:
    return sorted(p for p in path.parent.iterdir() if p.name.startswith(f".{path.name}"))


def test_the_manifest_lists_every_file_with_size_checksum_and_version(tmp_path: Path) -> None:
    folder = mns.write(sample_records(), tmp_path / "out")
    data = json.loads((folder / MANIFEST_FILE).read_text("utf-8"))
    assert data["complete"] is True
    assert data["mns_version"] == mns.__version__
    listed = {f["name"]: f for f in data["files"]}
    on_disk = {p.name for p in folder.iterdir()} - {MANIFEST_FILE}
    assert set(listed) == on_disk
    for name, entry in listed.items():
        body = (folder / name).read_bytes()
        assert entry["size"] == len(body)
        assert entry["sha256"] == hashlib.sha256(body).hexdigest()
    assert _siblings(folder) == []  # the staging folder is gone


def test_an_exception_mid_write_leaves_nothing_a_read_accepts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = pq.write_table

    def failing(table: pa.Table, where: object, **kw: object) -> None:
        calls.append(where)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real(table, where, **kw)

    monkeypatch.setattr(pq, "write_table", failing)
    target = tmp_path / "out"
    with pytest.raises(OSError, match="No space"):
        mns.write(sample_records(), target)
    assert not target.exists()
    assert _siblings(target) == []


def test_an_exception_while_replacing_keeps_the_earlier_folder_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = sample_records()
    folder = mns.write(first, tmp_path / "out")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    real = pq.write_table

    def failing(table: pa.Table, where: object, **kw: object) -> None:
        if str(where).endswith("issues.parquet"):
            raise OSError(28, "No space left on device")
        real(table, where, **kw)

    monkeypatch.setattr(pq, "write_table", failing)
    with pytest.raises(OSError, match="No space"):
        mns.write(first, folder, overwrite=True)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    monkeypatch.undo()
    back = mns.read(folder)  # still accepted: the earlier write, whole
    assert back.cases.equals(first.cases)
    assert back.services.equals(first.services)


_KILLED = textwrap.dedent(
    """
    import os, signal, sys
    import pyarrow.parquet as pq
    import mns
    from mns.testing import sample_records
    real = pq.write_table
    calls = []
    def dying(table, where, **kw):
        calls.append(where)
        if len(calls) == int(sys.argv[2]):
            os.kill(os.getpid(), signal.SIGKILL)
        real(table, where, **kw)
    pq.write_table = dying
    if sys.argv[3] == "swap":  # die while an earlier folder's files are being replaced
        real_replace = os.replace
        def dying_replace(a, b):
            if str(a).endswith("cases.parquet"):
                os.kill(os.getpid(), signal.SIGKILL)
            real_replace(a, b)
        os.replace = dying_replace
    mns.write(sample_records(), sys.argv[1], overwrite=True)
    """
)


def _killed_write(target: Path, at: int, mode: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _KILLED, str(target), str(at), mode],
        env={**os.environ, "MNS_AUTOLOAD": "0"},
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == -9, done.stderr.decode()[-2000:]


def test_a_killed_write_leaves_no_folder_a_read_accepts(tmp_path: Path) -> None:
    target = tmp_path / "out"
    _killed_write(target, 3, "staging")
    assert not target.exists()
    (staging,) = _siblings(target)  # SIGKILL leaves it, marked incomplete
    assert not _accepted(staging)
    with pytest.raises(mns.MnsError, match="not written whole"):
        mns.read(staging)
    with pytest.raises(mns.MnsError, match="not written whole"):
        mns.read(staging / "cases.parquet")


def test_a_write_killed_while_replacing_is_refused_then_replaced_cleanly(tmp_path: Path) -> None:
    target = mns.write(sample_records(), tmp_path / "out")
    (target / "my_budget.csv").write_text("line,amount\nA,1\n", "utf-8")
    _killed_write(target, 0, "swap")
    assert not _accepted(target)
    with pytest.raises(mns.MnsError, match="interrupted"):
        mns.read(target)
    mns.write(sample_records(), target, overwrite=True)  # knows what it had begun to write
    assert_records_equal(mns.read(target), mns.read(mns.write(sample_records(), tmp_path / "b")))
    assert (target / "my_budget.csv").read_text("utf-8") == "line,amount\nA,1\n"


def test_a_folder_with_a_missing_or_changed_file_is_refused_by_name(tmp_path: Path) -> None:
    folder = mns.write(sample_records(), tmp_path / "out")
    (folder / "services.parquet").unlink()
    with pytest.raises(mns.MnsError, match=r"missing: services\.parquet"):
        mns.read(folder)
    other = mns.write(sample_records(), tmp_path / "other")
    with (other / "cases.parquet").open("ab") as f:
        f.write(b"\0")
    with pytest.raises(mns.MnsError, match=r"changed since mns wrote them: cases\.parquet"):
        mns.read(other)


def test_a_records_folder_without_a_manifest_is_refused(tmp_path: Path) -> None:
    folder = mns.write(sample_records(), tmp_path / "out")
    (folder / MANIFEST_FILE).unlink()
    with pytest.raises(mns.MnsError, match=MANIFEST_FILE):
        mns.read(folder)


def test_an_audit_folder_without_a_complete_manifest_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "audit"
    with outputs.writing(folder, kind="audit") as staging:
        (staging / AUDIT_FILE).write_text(json.dumps({"mns_audit": 1, "tables": []}), "utf-8")
        (staging / "plan.toml").write_text("", "utf-8")
    (folder / MANIFEST_FILE).unlink()
    with pytest.raises(mns.MnsError, match=MANIFEST_FILE):
        load_result(folder)
    records = mns.write(sample_records(), tmp_path / "records")
    (records / AUDIT_FILE).write_text("{}", "utf-8")
    with pytest.raises(mns.MnsError):
        load_result(records)


# --- overwrite --------------------------------------------------------------------------------


def test_overwrite_removes_only_what_mns_wrote(tmp_path: Path) -> None:
    with_extra = mns.Records(
        cases=sample_records().cases, extra={"children": pa.table({"child": ["K1"]})}
    )
    folder = mns.write(with_extra, tmp_path / "out")
    (folder / "my_budget.csv").write_text("line,amount\nA,1\n", "utf-8")
    (folder / "notes").mkdir()
    mns.write(sample_records(), folder, overwrite=True)
    names = {p.name for p in folder.iterdir()}
    assert "children.parquet" not in names  # mns wrote it the first time: replaced
    assert {"my_budget.csv", "notes"} <= names
    assert (folder / "my_budget.csv").read_text("utf-8") == "line,amount\nA,1\n"
    assert mns.read(folder).cases.equals(sample_records().cases)


def test_overwrite_never_replaces_a_file_mns_did_not_write(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "cases.parquet").write_bytes(b"the user's own")
    with pytest.raises(mns.MnsError, match=r"cases\.parquet.*mns did not write"):
        mns.write(sample_records(), folder, overwrite=True)
    assert (folder / "cases.parquet").read_bytes() == b"the user's own"
    assert sorted(p.name for p in folder.iterdir()) == ["cases.parquet"]
    assert _siblings(folder) == []


def test_writing_into_or_below_an_input_folder_is_refused(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    cases = inputs / "cases.csv"
    pv.write_csv(pa.table({"case_id": ["C1", "C2"]}), cases)
    records = mns.read(inputs)
    for out in (inputs, inputs / "clean"):
        with pytest.raises(mns.MnsError, match="input"):
            mns.write(records, out, overwrite=True, inputs=[inputs])
    with pytest.raises(mns.MnsError, match="input"):  # the provenance says where it came from
        mns.write(records, inputs, overwrite=True)
    assert sorted(p.name for p in inputs.iterdir()) == ["cases.csv"]
    assert mns.write(records, tmp_path / "out", inputs=[inputs]).is_dir()


_names = st.sets(st.from_regex(r"[a-z]{1,6}", fullmatch=True), max_size=3)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(first=_names, second=_names, users=_names)
def test_overwrite_keeps_users_files_and_leaves_exactly_the_new_write(
    first: set[str], second: set[str], users: set[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("ow") / "out"

    def records(names: set[str]) -> mns.Records:
        extra = {f"x_{n}": pa.table({"v": [n]}) for n in names}
        return mns.Records(cases=sample_records().cases, extra=extra)

    mns.write(records(first), folder)
    own = {f"u_{n}.txt": n.encode() for n in users}
    for name, body in own.items():
        (folder / name).write_bytes(body)
    mns.write(records(second), folder, overwrite=True)
    expected = {f"x_{n}.parquet" for n in second} | set(own)
    expected |= {f"{t}.parquet" for t in mns.schema.TABLES}
    expected |= {"provenance.mns.json", MANIFEST_FILE}
    assert {p.name for p in folder.iterdir()} == expected
    assert all((folder / n).read_bytes() == b for n, b in own.items())
    back = mns.read(folder)
    assert set(back.extra) == {f"x_{n}" for n in second}


def test_a_wrong_value_in_a_manifest_names_the_file_and_the_key(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    with outputs.writing(folder, kind="records") as staging:
        (staging / "a.txt").write_text("a", "utf-8")
    written = outputs.manifest(folder)
    assert written is not None
    assert written.complete
    assert [e.name for e in written.files] == ["a.txt"]
    assert written.writer is None  # set while staging only
    file = folder / MANIFEST_FILE
    data = json.loads(file.read_text("utf-8"))
    file.write_text(json.dumps({**data, "complete": "yes"}), "utf-8")
    with pytest.raises(
        mns.MnsError, match=r"manifest.mns.json: .*complete: expected true or false"
    ):
        outputs.manifest(folder)
