"""Benchmark: ``mns.read`` of canonical CSV and Parquet against pyarrow's own readers, and
peak memory when reading large CSVs.

    python -m benchmarks.read                         # speed on 2M cases, memory at 0.3/1/3 GB
    python -m benchmarks.read --rows 500000 --sizes 0.05 0.1 0.2   # a quick developer run

Speed: the same ``cases.csv`` / ``cases.parquet`` (synthetic canonical cases: 13 fixed
columns, 6 ``cin`` flags and ``cin.primary_need``) read by ``mns.read(path)`` and by
``pyarrow.csv.read_csv(path)`` / ``pyarrow.parquet.read_table(path)`` in the same process,
best of ``--repeat`` interleaved runs each, in wall-clock seconds and in CPU seconds
(``time.process_time``, all threads: steadier than wall time when the machine is shared).
``mns.read`` does more than parse: canonical types, checks of keys and codes, privacy
rules (birth month, postcode district) and the SHA-256 of every file for the provenance
(about 0.2 CPU seconds per 150 MB here); pyarrow infers its types and stops there.
Target: ratio <= 1.2.

Memory: for each size, a canonical CSV of about that many GB is generated under
``benchmarks/data/`` (git-ignored; deleted afterwards unless ``--keep``), then read by
``mns.read`` in a fresh process whose peak resident memory (``VmHWM``) is reported with
the size of the resulting table, beside pyarrow's ``read_csv`` in a process of its own.
CI never runs this: timings are not tests.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pv
import pyarrow.parquet as pq

from benchmarks.common import MIB, peak_rss, run_worker, table_text, time_best, worker_result

DATA = Path(__file__).parent / "data"
SEED = 2024
FLAGS = ("1B", "2A", "3A", "4B", "21B", "22A")
CHUNK = 500_000


def _chunk(start: int, rows: int, rng: np.random.Generator) -> pa.Table:
    """``rows`` synthetic canonical cases, numbered from ``start``."""
    ids = np.arange(start, start + rows)
    base = np.datetime64("2024-03-31")
    birth = base - rng.integers(0, 18 * 365, rows).astype("timedelta64[D]")
    months = birth.astype("datetime64[M]").astype("datetime64[D]")
    ages = ((base - birth).astype(int) // 365).astype(np.int16)

    def pick(values: list[str]) -> pa.Array:
        return pa.array(np.asarray(values, dtype=object)[rng.integers(0, len(values), rows)])

    columns: dict[str, pa.Array] = {
        "case_id": pa.array(np.char.add("C", ids.astype(str))),
        "child_id": pa.array(np.char.add("K", (ids // 2).astype(str))),
        "reference_date": pa.array(np.full(rows, base)).cast(pa.date32()),
        "birth_month": pa.array(months).cast(pa.date32()),
        "age": pa.array(ages),
        "sex": pick(["M", "F", "U"]),
        "ethnicity": pick(["WBRI", "WIRI", "MWBC", "AIND", "BAFR", "CHNE", "OOTH", "REFU"]),
        "disability": pa.array(rng.random(rows) < 0.1),
        "area": pick([f"NW{i}" for i in range(1, 12)]),
        "la": pick(["E09000003"]),
        "cohort": pick(["referral", "child_in_need", "child_protection"]),
        "agency": pick(["Northwick CSC"]),
        "source_system": pick(["Mosaic"]),
        "cin.primary_need": pick([f"N{i}" for i in range(10)]),
    }
    for code in FLAGS:
        columns[f"cin.{code}"] = pa.array(rng.random(rows) < 0.2)
    return pa.table(columns)


def generate(
    folder: Path, *, rows: int | None = None, size: float | None = None
) -> tuple[Path, Path | None]:
    """Write ``cases.csv`` (``rows`` rows, or about ``size`` GB) and, for ``rows``, also
    ``cases.parquet`` with the same data."""
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, parquet_path = folder / "cases.csv", folder / "cases.parquet"
    rng = np.random.default_rng(SEED)
    target = None if size is None else int(size * 1e9)
    written = 0
    first = _chunk(0, 1, rng)
    parquet = pq.ParquetWriter(parquet_path, first.schema) if rows is not None else None
    with pv.CSVWriter(csv_path, first.schema) as writer:
        while (rows is not None and written < rows) or (
            target is not None and csv_path.stat().st_size < target
        ):
            n = CHUNK if rows is None else min(CHUNK, rows - written)
            chunk = _chunk(written, n, rng)
            writer.write_table(chunk)
            if parquet is not None:
                parquet.write_table(chunk)
            written += n
    if parquet is not None:
        parquet.close()
        return csv_path, parquet_path
    return csv_path, None


def _speed(folder: Path, rows: int, repeat: int) -> list[list[object]]:
    import mns

    csv_path, parquet_path = generate(folder, rows=rows)
    assert parquet_path is not None
    results = []
    for kind, path, baseline in (
        ("CSV", csv_path, pv.read_csv),
        ("Parquet", parquet_path, pq.read_table),
    ):
        records = mns.read(path)  # warm up (imports, languages) and check the result
        assert records.cases.num_rows == rows, records.issues
        assert records.issues.num_rows == 0, records.issues.to_pylist()[:3]
        del records  # free it before timing
        theirs: list[float] = []
        ours: list[float] = []
        theirs_cpu: list[float] = []
        ours_cpu: list[float] = []
        for _ in range(repeat):  # interleaved, so that load from elsewhere hits both alike
            for times, cpu, run in (
                (theirs, theirs_cpu, lambda p=path, f=baseline: f(p)),
                (ours, ours_cpu, lambda p=path: mns.read(p)),
            ):
                gc.collect()
                start = time.process_time()
                times.append(time_best(run, 1)[0])
                cpu.append(time.process_time() - start)
        wall = (min(theirs), min(ours))
        busy = (min(theirs_cpu), min(ours_cpu))
        results.append(
            [
                kind,
                f"{path.stat().st_size / MIB:.0f} MiB",
                rows,
                f"{wall[0]:.3f}",
                f"{wall[1]:.3f}",
                f"{wall[1] / wall[0]:.2f}",
                f"{busy[0]:.3f}",
                f"{busy[1]:.3f}",
                f"{busy[1] / busy[0]:.2f}",
            ]
        )
    return results


def _worker(tool: str, path: str) -> None:
    before = peak_rss()
    start = time.perf_counter()
    if tool == "mns":
        import mns

        table = mns.read(path).cases
    else:
        table = pv.read_csv(path)
    seconds = time.perf_counter() - start
    worker_result(
        peak=peak_rss(), before=before, table=table.nbytes, rows=table.num_rows, seconds=seconds
    )


def _memory(folder: Path, sizes: list[float], keep: bool) -> list[list[object]]:
    rows = []
    for size in sizes:
        sub = folder / f"mem-{size}"
        csv_path, _ = generate(sub, size=size)
        file_size = csv_path.stat().st_size
        for tool in ("mns", "pyarrow"):
            result = run_worker(
                "benchmarks.read", ["--worker", tool, str(csv_path)], env={"MNS_AUTOLOAD": "0"}
            )
            rows.append(
                [
                    f"{file_size / 1e9:.2f} GB",
                    tool,
                    result["rows"],
                    f"{result['seconds']:.1f}",
                    f"{result['table'] / MIB:.0f} MiB",
                    f"{result['peak'] / MIB:.0f} MiB",
                    f"{result['peak'] / file_size:.2f}",
                ]
            )
        if not keep:
            csv_path.unlink()
            sub.rmdir()
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000, help="cases in the speed files")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--sizes", type=float, nargs="*", default=[0.3, 1.0, 3.0], help="GB, memory runs"
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--worker", nargs=2, metavar=("TOOL", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(*args.worker)
        return
    os.environ.setdefault("MNS_AUTOLOAD", "0")
    folder = DATA / "read"
    print(
        f"mns.read against pyarrow, {os.cpu_count()} cores, "
        f"Python {sys.version.split()[0]}, pyarrow {pa.__version__}"
    )
    speed = _speed(folder, args.rows, args.repeat)
    print()
    header = ["format", "file", "rows", "pyarrow s", "mns.read s", "ratio"]
    print(table_text([*header, "pyarrow CPU s", "mns CPU s", "CPU ratio"], speed))
    if not args.keep:
        for name in ("cases.csv", "cases.parquet"):
            (folder / name).unlink(missing_ok=True)
    if args.sizes:
        memory = _memory(folder, args.sizes, args.keep)
        print()
        print(
            table_text(
                ["CSV", "reader", "rows", "seconds", "table", "peak RSS", "peak / file"], memory
            )
        )
    if not args.keep and folder.exists() and not any(folder.iterdir()):
        folder.rmdir()


if __name__ == "__main__":
    main()
