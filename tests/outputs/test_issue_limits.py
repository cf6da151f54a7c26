"""Issues are bounded: at most ``per_kind`` of one kind listed, the rest in one summary row
with its count; a whole read holds at most ``memory`` bytes of issues; records in = accepted
+ rejected whatever was left unlisted."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings, strategies as st

import mns
from mns.plugins.manager import Manager
from mns.records import issues as issue_log, schema
from mns.records.issues import COUNT, IssueLog, rejected

_ELEMENT = re.compile(rb"<([A-Za-z][A-Za-z0-9]*)>")


def _elements(sources: Sequence[mns.Source], options: Any) -> mns.Records:
    """A reader of 'child' lines: ``id <Unknown1><Unknown2>...``; every element is unknown
    (a warning, kept) and a line without an id is rejected."""
    log = IssueLog(adapter="elements", table="cases")
    ids: list[str] = []
    for source in sources:
        file = log.bind(source=source.name)
        with source.open() as stream:
            for number, raw in enumerate(stream, 1):
                head, _, rest = raw.partition(b" ")
                if not head.strip() or head.startswith(b"<"):
                    file.error("the child has no id", line=number, field="id")
                    file.error("and no date either", line=number, field="date")
                    continue
                ids.append(head.decode())
                for match in _ELEMENT.finditer(rest):
                    name = match.group(1).decode()
                    file.warning(f"unknown element <{name}> left out", line=number, field=name)
    cases = schema.conform(pa.table({"case_id": pa.array(ids, pa.string())}), "cases")
    return mns.Records(cases=cases, issues=log.table())


class _Plugin:
    @mns.hookimpl
    def mns_adapters(self) -> Iterator[mns.Adapter]:
        yield mns.Adapter(
            name="elements", description="test", read=_elements, suffixes=(".elements",)
        )


@pytest.fixture
def manager(plugin_manager: Manager) -> Manager:
    plugin_manager.add(_Plugin(), name="elements")
    return plugin_manager


def _issues_stood_for(issues: pa.Table, severity: str) -> int:
    rows = issues.filter(pc.equal(issues.column("severity"), severity))
    if COUNT not in rows.column_names:
        return int(rows.num_rows)
    return int(pc.sum(pc.fill_null(rows.column(COUNT), 1)).as_py() or 0)


_BIG_READ = """
import json, resource, sys
from pathlib import Path
import mns
from mns.plugins.manager import Manager, use_manager
from mns.records import issues as issue_log
from tests.outputs.test_issue_limits import _Plugin, _summary
folder = Path(sys.argv[1])
manager = Manager(autoload=False)
manager.add(_Plugin(), name="elements")
with use_manager(manager), issue_log.limits(per_kind=100, memory=2 << 20):
    mns.read(folder / "small.elements")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    records = mns.read(folder / "big.elements")
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"grown_kb": grown, **_summary(records)}))
"""


def _summary(records: mns.Records) -> dict[str, int]:
    issues = records.issues
    return {
        "rows": issues.num_rows,
        "bytes": issues.nbytes,
        "warnings": _issues_stood_for(issues, "warning"),
        "summaries": int(pc.sum(pc.is_valid(issues.column(COUNT))).as_py() or 0),
        "accepted": records.cases.num_rows,
        "rejected": rejected(issues, "cases"),
    }


def test_20_mb_of_unknown_elements_give_bounded_issues_and_memory(tmp_path: Path) -> None:
    element = b"<UnknownElement%d>" + b"x" * 120
    lines = unknown = written = 0
    with (tmp_path / "big.elements").open("wb") as out:
        while written < 20 << 20:
            body = b"".join(element % (i % 40) for i in range(lines % 7, lines % 7 + 12))
            keyed = lines % 1000 != 0  # one line in a thousand has no id: rejected
            line = b"K%d %s\n" % (lines, body) if keyed else b" " + body + b"\n"
            unknown += 12 if keyed else 0
            out.write(line)
            written += len(line)
            lines += 1
    (tmp_path / "small.elements").write_bytes(b"K1 <A>\n")
    done = subprocess.run(
        [sys.executable, "-c", _BIG_READ, str(tmp_path)],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "MNS_AUTOLOAD": "0"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.splitlines()[-1])
    kinds = 40 + 2  # the unknown elements' names, and the two errors of a line with no id
    assert got["rows"] <= kinds * 100 + kinds
    assert got["bytes"] < 4 << 20
    # listing every issue (~150,000) would grow the process by well over 100 MB
    assert got["grown_kb"] < 64 << 10
    assert got["summaries"] > 0
    assert got["warnings"] == unknown  # every one counted, though few are listed
    # records in = accepted + rejected, though the rejections are not all listed
    assert got["accepted"] + got["rejected"] == lines
    assert got["rejected"] == (lines + 999) // 1000


@st.composite
def _problems(draw: st.DrawFn) -> list[list[tuple[str, str]]]:
    """Per record, its problems as (field, action)."""
    fields = st.sampled_from(["a", "b", "c"])
    actions = st.sampled_from(["rejected", "blanked", "kept"])
    return draw(st.lists(st.lists(st.tuples(fields, actions), max_size=4), max_size=60))


@settings(max_examples=60, deadline=None)
@given(problems=_problems(), per_kind=st.integers(1, 5), memory=st.sampled_from([1, 3000, 1 << 20]))
def test_records_in_equal_accepted_plus_rejected_under_any_limits(
    problems: list[list[tuple[str, str]]], per_kind: int, memory: int
) -> None:
    with issue_log.limits(per_kind=per_kind, memory=memory), issue_log.one_read():
        log = IssueLog(source="f.csv", table="cases")
        accepted = 0
        logged: dict[tuple[str, str], int] = {}
        for row, record in enumerate(problems, 2):
            for field, action in record:
                severity = "warning" if action == "kept" else "error"
                log.add(severity, action, f"bad {field}", row=row, field=field)  # type: ignore[arg-type]
                logged[field, action] = logged.get((field, action), 0) + 1
            accepted += not any(action == "rejected" for _, action in record)
        table = log.table()
    assert accepted + rejected(table, "cases") == len(problems)
    assert accepted + log.rejected("cases") == len(problems)
    for (field, action), count in logged.items():
        rows = table.filter(
            pc.and_(
                pc.equal(table.column("field"), field), pc.equal(table.column("action"), action)
            )
        )
        listed = (
            rows.num_rows
            if COUNT not in rows.column_names
            else int(pc.sum(pc.is_null(rows[COUNT])).as_py())
        )
        assert listed <= per_kind
        if action != "rejected":  # a summary counts the issues it stands for
            assert _issues_stood_for(rows, rows.column("severity")[0].as_py()) == count
    assert log.errors == sum(c for (_, a), c in logged.items() if a != "kept")
    assert len(log) == table.num_rows


def test_strict_still_stops_at_the_first_error_past_a_limit() -> None:
    with issue_log.limits(per_kind=1):
        log = IssueLog(source="f.csv", table="cases")
        log.warning("odd", row=2, field="a")
        log.warning("odd", row=3, field="a")
        strict = IssueLog(source="f.csv", table="cases", strict=True)
        with pytest.raises(mns.RecordError, match="row 4"):
            strict.error("bad", row=4, field="a")
    assert [r["message"] for r in log][-1].startswith("and 1 more like this")


def test_extend_keeps_to_the_limits_and_summaries_survive_a_round_trip(tmp_path: Path) -> None:
    with issue_log.limits(per_kind=2):
        inner = IssueLog(source="f.csv", table="cases")
        for row in range(2, 12):
            inner.error("no id", row=row, field="case_id")
        outer = IssueLog(source="g.csv", table="cases")
        outer.extend(inner.table())
        for row in range(2, 12):
            outer.error("no id", row=row, field="case_id", source="h.csv")
    table = outer.table()
    assert rejected(table, "cases") == 20
    assert table.num_rows == 2 + 1 + 2 + 1
    records = mns.Records(issues=table)
    back = mns.read(mns.write(records, tmp_path / "out"))
    assert rejected(back.issues, "cases") == 20
    assert back.errors == records.errors == 20


def test_the_audits_issue_summary_counts_what_summaries_stand_for() -> None:
    from mns.audit import summarise_issues

    with issue_log.limits(per_kind=2):
        log = IssueLog(source="f.csv", table="cases")
        for row in range(2, 12):
            log.warning("odd", row=row, field="a")
    (summary,) = summarise_issues(log.table()).to_pylist()
    assert summary["issues"] == 10
