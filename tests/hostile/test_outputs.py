"""Outputs under interruption: ``mns read --out`` stopped by Ctrl-C leaves nothing a read
accepts; ``--overwrite`` and ``--out`` keep the user's files and the inputs; a write killed
before it finished leaves litter the next write of the same target removes (only litter mns
made, whose process has ended); every file mns writes alone is replaced in one step."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import mns
from mns.cli._common import EXIT_INPUT, EXIT_INTERRUPTED
from mns.records import folder as outputs
from mns.records.folder import MANIFEST_FILE, STALE_ELSEWHERE_SECONDS
from mns.testing import sample_records
from tests.cli._helpers import run

ROOT = Path(__file__).resolve().parents[2]
CASES_CSV = "case_id,sex,age\nC1,M,4\nC2,F,9\nC3,M,12\n"


def _litter(target: Path) -> list[str]:
    """Hidden entries beside ``target`` named after it (staging folders, temporary files)."""
    return sorted(p.name for p in target.parent.iterdir() if p.name.startswith(f".{target.name}"))


def _accepted(path: Path) -> bool:
    try:
        mns.read(path)
    except mns.MnsError:
        return False
    return True


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    folder = tmp_path / "inputs"
    folder.mkdir()
    (folder / "cases.csv").write_text(CASES_CSV, "utf-8")
    return folder


@pytest.fixture
def parquet_inputs(tmp_path: Path) -> Path:
    """A folder of records in Parquet, as an earlier ``mns read --out`` wrote them."""
    return mns.write(sample_records(), tmp_path / "parquet")


@pytest.fixture(scope="module")
def audit_result() -> Any:
    from tests.report import handmade

    return handmade.result()


@pytest.fixture(scope="module")
def audit_folder(audit_result: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("audit") / "audit"
    audit_result.write(folder)
    return folder


# --- mns read --out: Ctrl-C, --overwrite, --out among the inputs ----------------------------


def _interrupt_at(monkeypatch: pytest.MonkeyPatch, call: int) -> None:
    """Ctrl-C while the ``call``-th Parquet file is being written (raised as Python's own
    SIGINT handler raises it: another library in the test process may have replaced the
    handler)."""
    real = pq.write_table
    calls: list[object] = []

    def interrupted(table: pa.Table, where: object, **kw: Any) -> None:
        calls.append(where)
        if len(calls) == call:
            raise KeyboardInterrupt
        real(table, where, **kw)

    monkeypatch.setattr(pq, "write_table", interrupted)


def test_ctrl_c_during_read_out_leaves_nothing_a_read_accepts(
    inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    _interrupt_at(monkeypatch, 3)
    result = run("read", str(inputs / "cases.csv"), "--out", str(out))
    assert result.exit_code == EXIT_INTERRUPTED
    assert not out.exists()
    assert _litter(out) == []


def test_ctrl_c_during_read_out_overwrite_keeps_the_earlier_folder(
    inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    assert run("read", str(inputs / "cases.csv"), "--out", str(out)).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    _interrupt_at(monkeypatch, 2)
    result = run("read", str(inputs / "cases.csv"), "--out", str(out), "--overwrite")
    assert result.exit_code == EXIT_INTERRUPTED
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert _accepted(out)
    assert _litter(out) == []


def test_read_out_overwrite_keeps_the_users_files(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run("read", str(inputs / "cases.csv"), "--out", str(out)).exit_code == 0
    (out / "my_budget.csv").write_text("line,amount\nA,1\n", "utf-8")
    pq.write_table(pa.table({"line": ["A"]}), out / "my_budget.parquet")
    again = run("read", str(inputs / "cases.csv"), "--out", str(out), "--overwrite")
    assert again.exit_code == 0, again.output
    assert (out / "my_budget.csv").read_text("utf-8") == "line,amount\nA,1\n"
    assert pq.read_table(out / "my_budget.parquet").column("line").to_pylist() == ["A"]
    assert mns.read(out / "cases.parquet").cases.num_rows == 3


def test_audit_overwrite_keeps_the_users_files(audit_result: Any, tmp_path: Path) -> None:
    folder = audit_result.write(tmp_path / "audit")
    folder = folder.parent
    (folder / "my_budget.csv").write_text("line,amount\nA,1\n", "utf-8")
    audit_result.write(folder, overwrite=True)
    assert (folder / "my_budget.csv").read_text("utf-8") == "line,amount\nA,1\n"


@pytest.mark.parametrize("where", ["parquet", "parquet/clean"])
def test_read_out_into_the_input_folder_is_refused(
    parquet_inputs: Path, tmp_path: Path, where: str
) -> None:
    before = {p.name: p.read_bytes() for p in parquet_inputs.iterdir()}
    result = run("read", str(parquet_inputs), "--out", str(tmp_path / where), "--overwrite")
    assert result.exit_code == EXIT_INPUT
    assert "input" in result.stderr
    assert {p.name: p.read_bytes() for p in parquet_inputs.iterdir()} == before


# --- litter of a write killed before it finished ----------------------------------------------

_KILLED = textwrap.dedent(
    """
    import os, signal, sys
    import pyarrow.parquet as pq
    from mns.testing import sample_records
    import mns
    real = pq.write_table
    calls = []
    def dying(table, where, **kw):
        calls.append(where)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        real(table, where, **kw)
    pq.write_table = dying
    mns.write(sample_records(), sys.argv[1], overwrite=True)
    """
)


def _killed(code: str, *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env={**os.environ, "MNS_AUTOLOAD": "0"},
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]


def test_the_next_write_removes_the_staging_folder_a_killed_write_left(tmp_path: Path) -> None:
    target = tmp_path / "out"
    _killed(_KILLED, str(target))
    [staging] = _litter(target)
    assert (tmp_path / staging / MANIFEST_FILE).is_file()  # marked incomplete, refused
    mns.write(sample_records(), target)
    assert _litter(target) == []
    assert _accepted(target)


def _ended_pid() -> int:
    """The id of a process that has ended (and was waited for)."""
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


def _staging(target: Path, pid: int, *, manifest: dict[str, Any] | None, tail: str) -> Path:
    """A folder named as mns names staging folders, holding one file (and a manifest)."""
    path = target.parent / f".{target.name}.mns-writing-{pid}-{tail}"
    path.mkdir()
    (path / "cases.parquet").write_bytes(b"cut short")
    if manifest is not None:
        body = {"mns_manifest": 1, "kind": "records", "mns_version": "0", "files": []}
        (path / MANIFEST_FILE).write_text(json.dumps({**body, **manifest}), "utf-8")
    return path


@pytest.mark.skipif(os.name != "posix", reason="whether a process has ended: POSIX only")
def test_only_litter_mns_made_and_whose_writer_ended_is_removed(tmp_path: Path) -> None:
    target = tmp_path / "out"
    ended, alive = _ended_pid(), os.getppid()
    host = socket.gethostname()
    here = {"host": host, "pid": ended}
    incomplete = {"complete": False, "writer": here}
    removed = [
        _staging(target, ended, manifest=incomplete, tail="0000000a"),
        _staging(target, ended, manifest=None, tail="0000000b"),  # killed before its manifest
    ]
    temporary = tmp_path / f".{target.name}.mns-writing-{ended}-0000000c"
    temporary.write_bytes(b"half a file")
    removed.append(temporary)
    elsewhere = {"complete": False, "writer": {"host": f"not-{host}", "pid": ended}}
    old = _staging(target, ended, manifest=elsewhere, tail="0000000d")
    past = time.time() - STALE_ELSEWHERE_SECONDS - 60
    os.utime(old, (past, past))
    removed.append(old)
    kept = [
        _staging(
            target,
            alive,
            manifest={**incomplete, "writer": {**here, "pid": alive}},
            tail="00000001",
        ),  # its writer is still running
        _staging(target, ended, manifest={"complete": True}, tail="00000002"),  # written whole
        _staging(target, ended, manifest=elsewhere, tail="00000003"),  # elsewhere, recent
        _staging(target, ended, manifest=incomplete, tail="not-ours"),
        _staging(tmp_path / "other", ended, manifest=incomplete, tail="00000004"),
    ]
    with_folder = _staging(target, ended, manifest=incomplete, tail="00000005")
    (with_folder / "notes").mkdir()  # mns writes files only: not its staging folder
    kept.append(with_folder)
    user = tmp_path / f".{target.name}.backup"
    user.mkdir()
    kept.append(user)
    assert set(outputs.stale(target)) == set(removed)
    mns.write(sample_records(), target)
    assert all(not p.exists() for p in removed)
    assert all(p.exists() for p in kept)


# --- files written alone: replaced in one step --------------------------------------------------


def _issues() -> pa.Table:
    return sample_records().issues


def _writers() -> dict[str, Callable[[Path], object]]:
    """Every public writer of a single file, writing to the path it is given."""
    from mns.disclosure import to_csv
    from mns.forms import write_printable, write_workbook
    from mns.plan import save_plan
    from mns.records.issue_files import write_issues_csv, write_issues_xlsx
    from mns.report.workbook import write_tables_workbook
    from tests.report import handmade

    table = pa.table({"area": ["EX1", "EX2"], "children": [5200, 4100]})
    cases = pa.table({"case_id": ["C1", "C2"]})
    return {
        "issues.csv": lambda p: write_issues_csv(_issues(), p),
        "issues.xlsx": lambda p: write_issues_xlsx(_issues(), p),
        "table.csv": lambda p: to_csv(table, p),
        "plan.toml": lambda p: save_plan(handmade.plan(), p),
        "form.xlsx": lambda p: write_workbook(p, cases, indicators=["homeless"]),
        "form.html": write_printable,
        "tables.xlsx": lambda p: write_tables_workbook(
            p.parent, title="t", published={"t": table}, suppressed={}
        ),
    }


WRITERS = sorted(_writers())


@pytest.mark.parametrize("name", WRITERS)
def test_a_file_written_alone_is_whole_or_the_earlier_one(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / name
    target.write_bytes(b"the earlier file")
    write = _writers()[name]

    def full(descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)  # the disk fills before the file is safe
    with pytest.raises(OSError, match="No space"):
        write(target)
    assert target.read_bytes() == b"the earlier file"
    assert _litter(target) == []
    monkeypatch.undo()
    write(target)
    assert target.read_bytes() != b"the earlier file"
    assert _litter(target) == []


_KILLED_CSV = textwrap.dedent(
    """
    import os, signal, sys
    import pyarrow as pa
    from mns import cells
    from mns.records.issue_files import write_issues_csv
    from mns.testing import sample_records
    real = cells.CsvWriter.writerows
    def dying(self, rows):
        rows = list(rows)
        real(self, rows[:1])
        self._handle.flush()  # half a file on disk
        os.kill(os.getpid(), signal.SIGKILL)
    cells.CsvWriter.writerows = dying
    write_issues_csv(sample_records().issues, sys.argv[1])
    """
)


def test_a_killed_file_write_keeps_the_earlier_file_and_its_litter_goes_next_time(
    tmp_path: Path,
) -> None:
    from mns.records.issue_files import write_issues_csv

    target = tmp_path / "issues.csv"
    target.write_text("the earlier file\n", "utf-8")
    _killed(_KILLED_CSV, str(target))
    assert target.read_text("utf-8") == "the earlier file\n"
    assert len(_litter(target)) == 1
    write_issues_csv(_issues(), target)
    assert _litter(target) == []
    assert target.read_text("utf-8").startswith("severity,")


# --- a file an mns folder lists, written again -------------------------------------------------


def test_mns_report_writing_report_html_again_keeps_the_folder_readable(
    audit_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mns.report
    from mns.audit import load_result

    # a newer mns draws the report differently
    monkeypatch.setattr(mns.report, "render_report", lambda report, extra=(): "<p>newer</p>")
    assert run("report", str(audit_folder)).exit_code == 0
    assert (audit_folder / "report.html").read_text("utf-8") == "<p>newer</p>"
    load_result(audit_folder)  # the manifest lists the new report: not "changed since"
    assert run("report", str(audit_folder)).exit_code == 0
    listed = outputs.check(audit_folder, kind="audit")
    [entry] = [e for e in listed.files if e.name == "report.html"]
    assert entry.size == len("<p>newer</p>")
    assert _litter(audit_folder / "report.html") == []


# --- no writer bypasses the helpers --------------------------------------------------------------

_WRITES = re.compile(
    r"\.write_text\(|\.write_bytes\(|\bopen\([^)]*[\"']w|\.open\([\"']w|\.save\(|"
    r"\bwrite_table\(|\bwrite_csv\(|copyfile\("
)
#: Modules allowed to write in place: test helpers making input files. A line writing to a
#: ``temporary`` or ``staging`` path, or an ``in_memory`` buffer, is not a write in place.
_IN_PLACE = {"testing.py"}


def test_every_file_mns_writes_goes_through_a_staging_folder_or_replacing() -> None:
    source = Path(mns.__file__).parent
    found = [
        f"{path.relative_to(source)}:{number}: {line.strip()}"
        for path in sorted(source.rglob("*.py"))
        if str(path.relative_to(source)) not in _IN_PLACE
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if _WRITES.search(line) and not re.search(r"\b(temporary|staging|in_memory)\b", line)
    ]
    assert found == [], "write through mns.records.folder.writing or replacing:\n" + "\n".join(
        found
    )
