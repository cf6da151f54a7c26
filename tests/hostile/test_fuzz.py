"""Fuzzing every adapter's input format with structured mutators: truncate, flip bytes,
insert quotes, NULs and delimiters, duplicate and delete pieces (XML elements among them),
change the encoding; inside workbooks, the same to one part.

Each example must end in records or an :class:`mns.MnsError` (never another exception), in
bounded time (a hang guard, not a timing) and within a memory budget (Python allocations,
by ``tracemalloc``).
"""

from __future__ import annotations

import contextlib
import io
import re
import signal
import tracemalloc
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from mns.errors import MnsError
from tests.hostile import seeds
from tests.hostile.xlsx import replace_part

HANG_SECONDS = 30  #: far beyond any example's real time: only a hang reaches it
#: An exception a native library swallowed (raised in a callback it runs on its own threads,
#: e.g. pyarrow's CSV ``invalid_row_handler``) fails the example: such exceptions have hung
#: or aborted processes at exit (apache/arrow#43892).
pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
_TOKENS = [
    b'"',
    b"\x00",
    b"\n",
    b"\r",
    b",",
    b"|",
    b"<",
    b">",
    b"&",
    b"'",
    b"\xff",
    b"\xef\xbb\xbf",
]
_LEAF = re.compile(rb"<([A-Za-z_][\w.-]*)>[^<>]{0,80}</\1>")


class Hang(BaseException):
    """An example ran for :data:`HANG_SECONDS`."""


@contextmanager
def bounded(budget: int) -> Iterator[None]:
    """Fail an example that hangs, or whose Python allocations peak over ``budget`` bytes."""

    def stop(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"the read ran for {HANG_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(HANG_SECONDS)
    tracemalloc.start()
    try:
        yield
        peak = tracemalloc.get_traced_memory()[1]
        assert peak <= budget, f"the read's Python allocations peaked at {peak:,} bytes"
    finally:
        tracemalloc.stop()
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _at(draw: st.DrawFn, data: bytes) -> int:
    return draw(st.integers(0, len(data)))


@st.composite
def mutation(draw: st.DrawFn, data: bytes) -> bytes:
    """One structured change to ``data``."""
    kind = draw(
        st.sampled_from(["truncate", "flip", "insert", "duplicate", "delete", "leaf", "encoding"])
    )
    if kind == "truncate":
        return data[: _at(draw, data)]
    if kind == "flip" and data:
        at = draw(st.integers(0, len(data) - 1))
        return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    if kind == "insert":
        at = _at(draw, data)
        token = draw(st.sampled_from(_TOKENS)) * draw(st.integers(1, 3))
        return data[:at] + token + data[at:]
    if kind in ("duplicate", "delete") and data:
        start = draw(st.integers(0, len(data) - 1))
        end = draw(st.integers(start, min(len(data), start + 400)))
        if kind == "delete":
            return data[:start] + data[end:]
        at = _at(draw, data)
        return data[:at] + data[start:end] + data[at:]
    if kind == "leaf":
        leaves = list(_LEAF.finditer(data))
        if leaves:
            leaf = draw(st.sampled_from(leaves))
            return data[: leaf.end()] + leaf.group(0) + data[leaf.end() :]
    if kind == "encoding":
        text = data.decode("utf-8", "replace")
        encoding = draw(st.sampled_from(["utf-16", "utf-16-be", "utf-8-sig", "cp1252"]))
        return text.encode(encoding, "replace")
    return data


@st.composite
def damaged(draw: st.DrawFn, data: bytes, workbook: bool) -> bytes:
    """``data`` after one to three mutations (of one part, for most workbook examples)."""
    if workbook and draw(st.integers(0, 4)):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = [n for n in z.namelist() if n.endswith((".xml", ".rels"))]
        name = draw(st.sampled_from(sorted(names)))
        count = draw(st.integers(1, 3))

        def change(part: bytes) -> bytes:
            for _ in range(count):
                part = draw(mutation(part))
            return part

        return replace_part(data, name, change)
    for _ in range(draw(st.integers(1, 3))):
        data = draw(mutation(data))
    return data


def _budget(seed: seeds.Seed) -> int:
    return 64 * 1024 * 1024 + 200 * len(seed.data)


def _survives(name: str, data: st.DataObject, *, workbook: bool = False) -> None:
    """Read a damaged copy of format ``name``'s seed: records or an MnsError (a refusal, with
    its reason), any other exception fails; under the hang guard and memory budget."""
    seed = seeds.SEEDS[name]()
    damaged_copy = data.draw(damaged(seed.data, workbook=workbook))
    with bounded(_budget(seed)), contextlib.suppress(MnsError):
        seeds.read(seed, damaged_copy)


TEXT = ["canonical-csv", "canonical-jsonl", "canonical-parquet", "mapping-csv", "example"]
WORKBOOKS = ["mapping-xlsx", "annex-a", "audit-form"]
STATUTORY = ["cin-xml", "ssda903-csv", "ssda903-xml"]


@pytest.mark.parametrize("name", TEXT)
@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_text_formats_survive_damage(name: str, data: st.DataObject) -> None:
    _survives(name, data)


@pytest.mark.parametrize("name", STATUTORY)
@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_statutory_returns_survive_damage(name: str, data: st.DataObject) -> None:
    _survives(name, data)


@pytest.mark.parametrize("name", WORKBOOKS)
@settings(max_examples=15, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_workbooks_survive_damage(name: str, data: st.DataObject) -> None:
    _survives(name, data, workbook=True)
