"""The adapter author's kit: a fresh plugin manager for tests, and the conformance suite.

In an adapter package's tests::

    from pathlib import Path

    import mns.testing
    from mns.testing import plugin_manager  # noqa: F401  (a pytest fixture)

    import mns_acme

    SAMPLES = Path(__file__).parent / "samples"

    def test_conformance(plugin_manager):
        plugin_manager.add(mns_acme)                   # or rely on the installed entry point
        mns.testing.conformance(
            "acme",                                    # the adapter's name, or the Adapter
            {SAMPLES / "export.acme": {"cases": 12},   # each sample: records in the source
             SAMPLES / "messy.acme": {"cases": 5}},    #   per table (accepted + rejected)
            other_samples=[SAMPLES / "not-acme.csv"],  # files sniff must not claim
        )

:func:`conformance` reads every sample through ``mns.read`` and checks that:

- the tables meet their canonical schemas and only declared tables have rows;
- records in the source = records accepted + records rejected (:func:`mns.records.issues.rejected`),
  for every table whose count the sample gives;
- reading is deterministic, and small batch sizes give the same tables;
- ``strict=True`` raises :class:`mns.RecordError` exactly when the lenient read found errors;
- ``sniff`` returns a bool, the same one twice, never raises, takes well under 10 ms on a
  4 KiB head, and claims none of ``other_samples`` nor the built-in adapters' samples.

It raises one ``AssertionError`` listing every failed check, and returns a
:class:`Report` of the checks made otherwise.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa
import pytest

from mns.errors import RecordError
from mns.plugins.adapter import Adapter
from mns.plugins.manager import Manager, use_manager
from mns.records import schema
from mns.records.bundle import Provenance, Records
from mns.records.issues import rejected

__all__ = [
    "Report",
    "assert_records_equal",
    "builtin_samples",
    "conformance",
    "plugin_manager",
    "records_difference",
    "reference_samples",
    "registered",
    "sample_records",
]

SNIFF_LIMIT = 0.010  #: seconds one sniff call may take on a 4 KiB head (generous on purpose)
PathLike = str | Path
SampleKey = PathLike | tuple[PathLike, ...]
#: samples and their records per table; keys: files, folders, or tuples of files
Samples = (
    Mapping[Path, Mapping[str, int]]
    | Mapping[str, Mapping[str, int]]
    | Mapping[tuple[PathLike, ...], Mapping[str, int]]
    | Mapping[SampleKey, Mapping[str, int]]
)


@pytest.fixture
def plugin_manager() -> Iterator[Manager]:
    """A fresh plugin manager (built-in adapters only, autoload off), made the process-wide
    one for the test: ``mns.read`` and ``mns.adapters()`` use it. Register plugins with
    ``plugin_manager.add(module)``, or load installed ones with ``load_entry_points()``."""
    manager = Manager(autoload=False)
    with use_manager(manager):
        yield manager


@contextlib.contextmanager
def registered(plugin: object, name: str) -> Iterator[Manager]:
    """A fresh plugin manager with ``plugin`` registered as its entry point would register it,
    made the process-wide one inside the ``with`` block."""
    manager = Manager(autoload=False)
    manager.add(plugin, name=name)
    with use_manager(manager):
        yield manager


def reference_samples(kind: str, near: PathLike) -> Path:
    """The folder of public reference samples for ``kind`` (e.g. ``"cin_census"``):
    ``$MNS_REFERENCE_DIR/<kind>``, else ``tests/reference/<kind>`` (the copies mns ships,
    with their licence) or ``shared/reference/<kind>`` in the first folder above ``near``
    that has one. Skips the test, saying why, when there is none."""
    env = os.environ.get("MNS_REFERENCE_DIR")
    candidates = [Path(env)] if env else []
    for parent in Path(near).resolve().parents:
        candidates += [parent / "tests" / "reference", parent / "shared" / "reference"]
    for folder in candidates:
        if (folder / kind).is_dir():
            return folder.resolve()
    pytest.skip(
        f"reference samples for {kind!r} not found: put shared/reference beside the "
        "repository or set MNS_REFERENCE_DIR"
    )


# --- comparing records -----------------------------------------------------------------------


def _plain(table: pa.Table) -> pa.Table:
    columns = [
        (c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c).combine_chunks()
        for c in table.columns
    ]
    return pa.Table.from_arrays(columns, names=table.column_names)


def _tables(records: Records) -> dict[str, pa.Table]:
    return {**{n: getattr(records, n) for n in schema.TABLES}, **records.extra}


def records_difference(a: Records, b: Records) -> list[str]:
    """What differs between two :class:`Records` (empty when they are the same): provenance,
    table names, each table's schema (types, not chunking) and values."""
    problems = []
    if a.provenance != b.provenance:
        problems.append(f"provenance differs: {a.provenance!r} != {b.provenance!r}")
    ta, tb = _tables(a), _tables(b)
    if set(ta) != set(tb):
        problems.append(f"tables differ: {sorted(ta)} != {sorted(tb)}")
    for name in sorted(set(ta) & set(tb)):
        x, y = ta[name], tb[name]
        if x.schema.remove_metadata() != y.schema.remove_metadata():
            problems.append(f"{name}: schemas differ:\n{x.schema}\n!=\n{y.schema}")
        elif not _plain(x).equals(_plain(y)):
            problems.append(f"{name}: values differ ({x.num_rows} and {y.num_rows} rows)")
    return problems


def assert_records_equal(a: Records, b: Records) -> None:
    """Fail with the differences unless ``a`` and ``b`` hold the same tables and provenance."""
    problems = records_difference(a, b)
    if problems:
        raise AssertionError("records differ:\n- " + "\n- ".join(problems))


# --- samples of the built-in adapters ----------------------------------------------------------


def sample_records() -> Records:
    """A small, synthetic set of canonical records (every table filled)."""
    cases = pa.table(
        {
            "case_id": ["C1", "C2", "C3"],
            "child_id": ["K1", "K2", None],
            "reference_date": [dt.date(2024, 3, 31)] * 3,
            "birth_month": [dt.date(2015, 6, 1), dt.date(2019, 1, 1), None],
            "age": pa.array([8, 5, None], pa.int16()),
            "sex": ["F", "M", "U"],
            "area": ["NW1", "NW2", None],
            "cohort": ["referral", "child_in_need", "referral"],
        }
    )
    services = pa.table(
        {
            "case_id": ["C1", "C1", "C2"],
            "service": ["family support", "parenting", "family support"],
            "start_date": [dt.date(2023, 5, 1), dt.date(2023, 9, 1), None],
        }
    )
    outcomes = pa.table({"case_id": ["C1"], "outcome": ["school attendance"], "achieved": [True]})
    assignments = pa.table(
        {
            "case_id": ["C1", "C2"],
            "audit": ["baseline"] * 2,
            "role": ["professional"] * 2,
            "need_group": ["NG1", "NG2"],
        }
    )
    return Records(
        provenance=Provenance(
            adapter="sample", collection_year=2024, reference_date=dt.date(2024, 3, 31)
        ),
        cases=schema.conform(cases, "cases"),
        services=schema.conform(services, "services"),
        outcomes=schema.conform(outcomes, "outcomes"),
        assignments=schema.conform(assignments, "assignments"),
    )


def builtin_samples(folder: PathLike) -> dict[Path, tuple[str, dict[str, int]]]:
    """Write one small sample per built-in format into ``folder``; returns each file with the
    adapter that reads it and its records per table."""
    import pyarrow.csv as pv
    import pyarrow.parquet as pq

    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    records = sample_records()
    out: dict[Path, tuple[str, dict[str, int]]] = {}
    cases = root / "cases.csv"
    pv.write_csv(_plain(records.cases), cases)
    out[cases] = ("canonical", {"cases": records.cases.num_rows})
    services = root / "services.jsonl"
    with services.open("w", encoding="utf-8") as f:
        for row in _plain(records.services).to_pylist():
            f.write(_json_line(row))
    out[services] = ("canonical", {"services": records.services.num_rows})
    outcomes = root / "outcomes.parquet"
    pq.write_table(records.outcomes, outcomes)
    out[outcomes] = ("canonical", {"outcomes": records.outcomes.num_rows})
    return out


def _json_line(row: Mapping[str, Any]) -> str:
    import json

    return (
        json.dumps({k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in row.items()})
        + "\n"
    )


# --- the suite -------------------------------------------------------------------------------


@attrs.frozen
class Report:
    """The checks :func:`conformance` made (all passed)."""

    adapter: str
    checks: tuple[str, ...]


class _Checks:
    def __init__(self) -> None:
        self.passed: list[str] = []
        self.failed: list[str] = []

    def check(self, ok: bool, name: str, problem: str) -> bool:
        (self.passed if ok else self.failed).append(name if ok else f"{name}: {problem}")
        return ok


def _key(sample: SampleKey) -> tuple[Path, ...]:
    if isinstance(sample, (str, Path)):
        return (Path(sample),)
    return tuple(Path(p) for p in sample)


def _files(paths: Sequence[Path]) -> list[Path]:
    out = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(c for c in p.iterdir() if c.is_file() and not c.name.startswith(".")))
        else:
            out.append(p)
    return out


def _resolve(adapter: str | Adapter) -> Adapter:
    if isinstance(adapter, Adapter):
        return adapter
    from mns.plugins.manager import get_manager

    return get_manager().adapter(adapter)


def conformance(
    adapter: str | Adapter,
    samples: Samples,
    *,
    other_samples: Iterable[PathLike] = (),
    options: Mapping[str, Any] | None = None,
    batch_sizes: Sequence[int] = (1, 3),
) -> Report:
    """Run the conformance suite on ``adapter`` (its name or the :class:`mns.Adapter`).

    ``samples`` maps each sample (a file, a folder, or a tuple of files read together) to
    the number of records it holds per table, counted independently of the adapter (e.g.
    data rows of a CSV, child elements of an XML file): the suite checks that each table's
    rows plus its rejected records equal that number. ``options`` go to every read.
    ``other_samples`` are files of other formats that ``sniff`` must not claim; the
    built-in adapters' samples are added to them.
    """
    from mns.io import read

    chosen = _resolve(adapter)
    given = dict(options or {})
    if not samples:
        raise ValueError("conformance needs at least one sample with its record counts")
    checks = _Checks()
    for sample, counts in samples.items():
        paths = _key(sample)
        label = ", ".join(str(p) for p in paths)
        source: Any = list(paths) if len(paths) > 1 else paths[0]
        try:
            first = read(source, chosen, **given)
        except Exception as exc:
            checks.check(False, f"reads {label}", f"{type(exc).__name__}: {exc}")
            continue
        checks.check(True, f"reads {label}", "")
        _check_schemas(checks, chosen, first, label)
        for table, expected in sorted(counts.items()):
            found = _tables(first).get(table)
            accepted = found.num_rows if found is not None else 0
            dropped = rejected(first.issues, table)
            checks.check(
                accepted + dropped == expected,
                f"accounting {label} [{table}]",
                f"{expected} records in the source, but {accepted} accepted + {dropped} rejected "
                f"= {accepted + dropped}",
            )
        again = read(source, chosen, **given)
        diff = records_difference(first, again)
        checks.check(not diff, f"deterministic {label}", "; ".join(diff))
        for size in batch_sizes:
            batched = read(source, chosen, batch_size=size, **given)
            diff = records_difference(first, batched)
            checks.check(not diff, f"batch_size={size} {label}", "; ".join(diff))
        _check_strict(checks, chosen, source=source, options=given, lenient=first, label=label)
    heads = [_head(p) for sample in samples for p in _files(_key(sample))]
    _check_sniff(checks, chosen, heads)
    with tempfile.TemporaryDirectory() as tmp:
        others = [Path(p) for p in other_samples]
        others += [p for p, (name, _) in builtin_samples(tmp).items() if name != chosen.name]
        for path in others:
            claimed = _sniff(chosen, _head(path))
            checks.check(
                claimed is False,
                f"sniff leaves {path.name} alone",
                f"sniff claims {path} (a sample of another format)",
            )
    if checks.failed:
        raise AssertionError(
            f"adapter {chosen.name!r} fails {len(checks.failed)} conformance check(s):\n- "
            + "\n- ".join(checks.failed)
        )
    return Report(adapter=chosen.name, checks=tuple(checks.passed))


def _head(path: Path, size: int = 4096) -> bytes:
    with path.open("rb") as f:
        return f.read(size)


def _sniff(adapter: Adapter, head: bytes) -> object:
    try:
        return adapter.sniff(head)
    except Exception as exc:
        return exc


def _check_schemas(checks: _Checks, adapter: Adapter, records: Records, label: str) -> None:
    problems = []
    for name in schema.TABLES:
        table = getattr(records, name)
        expected = schema.SCHEMAS[name]
        for field in expected:
            actual = (
                table.schema.field(field.name).type if field.name in table.column_names else None
            )
            if actual != field.type:
                problems.append(f"{name}.{field.name} is {actual}, expected {field.type}")
        if name != "issues" and name not in adapter.tables and table.num_rows:
            problems.append(f"{name} has {table.num_rows} rows but the adapter does not declare it")
    if records.provenance.adapter == "":
        problems.append("provenance names no adapter")
    checks.check(not problems, f"schemas {label}", "; ".join(problems))


def _check_strict(
    checks: _Checks,
    adapter: Adapter,
    *,
    source: Any,
    options: Mapping[str, Any],
    lenient: Records,
    label: str,
) -> None:
    from mns.io import read

    try:
        strict = read(source, adapter, strict=True, **options)
    except RecordError as exc:
        where = exc.file is not None and exc.message != ""
        checks.check(
            lenient.errors > 0 and where,
            f"strict {label}",
            "strict=True raised although the lenient read found no errors"
            if lenient.errors == 0
            else f"the RecordError does not say where: {exc!r}",
        )
        return
    except Exception as exc:
        checks.check(False, f"strict {label}", f"strict=True raised {type(exc).__name__}: {exc}")
        return
    diff = records_difference(lenient, strict)
    checks.check(
        lenient.errors == 0 and not diff,
        f"strict {label}",
        f"strict=True did not raise although the lenient read found {lenient.errors} error(s)"
        if lenient.errors
        else "; ".join(diff),
    )


def _check_sniff(checks: _Checks, adapter: Adapter, heads: Sequence[bytes]) -> None:
    probes = [*heads, b"", os.urandom(4096), b"\xef\xbb\xbf", b"\x00" * 4096]
    problems = []
    for head in probes:
        first, second = _sniff(adapter, head), _sniff(adapter, head)
        if isinstance(first, Exception):
            problems.append(f"sniff raised {type(first).__name__}: {first} on {head[:20]!r}...")
        elif not isinstance(first, bool):
            problems.append(f"sniff returned {type(first).__name__}, not bool")
        elif first != second:
            problems.append(f"sniff gave {first} then {second} on the same bytes")
    big = heads[0] if heads else os.urandom(4096)
    calls = 50
    start = time.perf_counter()
    for _ in range(calls):
        _sniff(adapter, big)
    mean = (time.perf_counter() - start) / calls
    if mean > SNIFF_LIMIT:
        problems.append(
            f"sniff takes {mean * 1000:.1f} ms per call (limit {SNIFF_LIMIT * 1000:.0f} ms)"
        )
    checks.check(not problems, "sniff is pure and fast", "; ".join(problems))
