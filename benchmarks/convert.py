"""Benchmark: ``mns.convert`` of a large mapped CSV export to a records folder, in bounded
memory, against pyarrow's streaming CSV reader writing Parquet.

    python -m benchmarks.convert                  # a 3 GB export (the issue's run)
    python -m benchmarks.convert --size 0.1       # a quick developer run (100 MB)

The export is a synthetic case-management extract of referrals (``Referrals.csv``): one row
per case with a case id, a person id, date of birth (``dd/mm/yyyy``), gender in words,
ethnicity, disability (Yes/No), a full postcode, the team, the primary need written
``"N1 Abuse or neglect"``, the assessment factors as a list (``"4B; 3A; 21"``), and three
columns the mapping ignores (worker, referral source, free-text notes). It is read through a
mapping file like the one in docs/how-to/read-a-messy-export.md: codes mapped from words,
a pattern, dates in two formats, a multi-valued column to ``cin`` flags, constants.

Generated under ``/tmp/mns-bench-convert/`` and kept there, one file per size (a second
run reuses it); ``--clean`` removes them.

Each tool runs in a fresh process and reports its own peak resident memory (``VmHWM``):

- ``mns.convert(export, folder, mapping=..., pseudonymise=key)``: every cell checked and
  typed, every problem located, identifiers pseudonymised, postcodes cut to the district,
  dates of birth to the month, batch by batch, written as a records folder (Parquet per
  table, issues, provenance with the file's SHA-256, manifest); target: peak under 400 MB
  whatever the file's size;
- pyarrow: ``pyarrow.csv.open_csv`` (streaming, types inferred, nothing checked) writing one
  Parquet file with ``ParquetWriter``: what a user would otherwise write.

Printed: rows, seconds, rows per second, peak RSS, and mns's time as a multiple of pyarrow's.
CI never runs this: timings are not tests.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pv

from benchmarks.common import MIB, peak_rss, run_worker, table_text, worker_result

DATA = Path(tempfile.gettempdir()) / "mns-bench-convert"
SEED = 2024
CHUNK = 200_000
TARGET_PEAK_MB = 400
KEY = "benchmark-key-0123456789abcdef"

MAPPING = """
table = "cases"
date_formats = ["%d/%m/%Y", "%Y-%m-%d"]
ignore = ["Worker", "Referral source", "Notes"]
collection_year = 2024
reference_date = 2024-03-31

[constants]
la = "E09000003"
cohort = "referral"

[fields.case_id]
column = "Child ID"

[fields.child_id]
column = "Person ID"

[fields.birth_month]
column = "DOB"

[fields.sex]
column = "Gender"
codes = { M = ["Male", "Boy"], F = ["Female", "Girl"], U = ["Not stated", "Unknown"] }

[fields.ethnicity]
column = "Ethnicity"

[fields.disability]
column = "Disability"

[fields.area]
column = "Postcode"

[fields.team]
column = "Team"

[fields."cin.primary_need"]
column = "Primary need"
pattern = '^(?P<code>N\\d+)'

[multi.factors]
column = "Factors"
language = "cin"
"""

_NEEDS = [
    "N1 Abuse or neglect",
    "N2 Child's disability",
    "N3 Parental illness/disability",
    "N4 Family in acute stress",
    "N5 Family dysfunction",
    "N6 Socially unacceptable behaviour",
    "N7 Low income",
    "N8 Absent parenting",
    "N9 Cases other than children in need",
]
_FACTORS = ["1A", "1B", "2A", "2B", "3A", "3B", "4A", "4B", "5A", "6A", "8B", "21", "22A", "24A"]
_WORDS = [
    "family",
    "visited",
    "school",
    "concerns",
    "raised",
    "mother",
    "father",
    "reported",
    "worker",
    "attended",
    "strategy",
    "meeting",
    "health",
    "visitor",
    "referral",
    "police",
    "notification",
    "housing",
    "support",
    "plan",
    "review",
    "agreed",
    "child",
    "seen",
    "alone",
    "safety",
    "plan",
    "section",
    "47",
    "enquiry",
    "consent",
    "obtained",
]


def _chunk(start: int, rows: int, rng: np.random.Generator) -> pa.Table:
    """``rows`` synthetic referrals, numbered from ``start``."""
    ids = np.arange(start, start + rows)

    def pick(values: list[str], p: list[float] | None = None) -> pa.Array:
        return pa.array(np.asarray(values, dtype=object)[rng.choice(len(values), rows, p=p)])

    days = rng.integers(0, 28, rows) + 1
    months = rng.integers(0, 12, rows) + 1
    years = rng.integers(2006, 2024, rows)
    dob = np.char.add(
        np.char.add(np.char.zfill(days.astype(str), 2), "/"),
        np.char.add(np.char.add(np.char.zfill(months.astype(str), 2), "/"), years.astype(str)),
    )
    letters = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))
    postcode = np.char.add(
        np.char.add("NW", (rng.integers(1, 12, rows)).astype(str)),
        np.char.add(
            np.char.add(" ", rng.integers(1, 10, rows).astype(str)),
            np.char.add(letters[rng.integers(0, 20, rows)], letters[rng.integers(0, 20, rows)]),
        ),
    )
    pool = [
        "; ".join(sorted(set(rng.choice(_FACTORS, rng.integers(0, 4)).tolist())))
        for _ in range(500)
    ]
    notes = [
        " ".join(rng.choice(_WORDS, rng.integers(15, 35)).tolist()).capitalize() + "."
        for _ in range(1000)
    ]
    return pa.table(
        {
            "Child ID": pa.array(np.char.add("C", np.char.zfill(ids.astype(str), 9))),
            "Person ID": pa.array(np.char.add("P", np.char.zfill((ids // 2).astype(str), 9))),
            "DOB": pa.array(dob),
            "Gender": pick(["Male", "Female", "Boy", "Girl", "Not stated"]),
            "Ethnicity": pick(["WBRI", "WIRI", "MWBC", "AIND", "BAFR", "CHNE", "OOTH", "REFU"]),
            "Disability": pick(["Yes", "No"], [0.1, 0.9]),
            "Postcode": pa.array(postcode),
            "Team": pick(["Assessment North", "Assessment South", "Children in Need 1", "CP"]),
            "Primary need": pick(_NEEDS),
            "Factors": pick(pool),
            "Worker": pick(["A. Khan", "B. Smith", "C. Jones", "D. Patel", "E. Brown"]),
            "Referral source": pick(["Police", "School", "Health", "Self", "Other LA"]),
            "Notes": pick(notes),
        }
    )


def generate(size: float) -> tuple[Path, Path]:
    """The export of about ``size`` GB and its mapping file, made once and kept."""
    DATA.mkdir(parents=True, exist_ok=True)
    mapping = DATA / "referrals.toml"
    mapping.write_text(MAPPING, "utf-8")
    path = DATA / f"referrals-{size:g}GB.csv"
    if path.exists():
        return path, mapping
    target = int(size * 1e9)
    rng = np.random.default_rng(SEED)
    partial = path.with_suffix(".csv.partial")
    written = 0
    first = _chunk(0, 1, rng)
    options = pv.WriteOptions(quoting_style="needed")
    with pv.CSVWriter(partial, first.schema, write_options=options) as writer:
        while partial.stat().st_size < target:
            writer.write_table(_chunk(written, CHUNK, rng))
            written += CHUNK
    partial.rename(path)
    return path, mapping


# ------------------------------------------------------------------------------ workers


def _mns(path: str, mapping: str, out: str, batch_rows: int) -> dict[str, object]:
    import pyarrow.parquet as pq

    import mns

    given = {"batch_rows": batch_rows} if batch_rows else {}
    folder = mns.convert(path, out, mapping=mapping, pseudonymise=KEY, overwrite=True, **given)  # type: ignore[arg-type]
    rows = pq.ParquetFile(Path(folder) / "cases.parquet").metadata.num_rows
    issues = pq.ParquetFile(Path(folder) / "issues.parquet").metadata.num_rows
    return {"rows": rows, "issues": issues}


def _pyarrow(path: str, out: str) -> dict[str, object]:
    import pyarrow.parquet as pq

    rows = 0
    reader = pv.open_csv(path, read_options=pv.ReadOptions(block_size=1 << 24))
    target = Path(out) / "referrals.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(target, reader.schema) as writer:
        for batch in reader:
            writer.write_batch(batch)
            rows += batch.num_rows
    return {"rows": rows, "issues": 0}


def _worker(tool: str, path: str, mapping: str, out: str, batch_rows: int) -> None:
    start = time.perf_counter()
    result = _mns(path, mapping, out, batch_rows) if tool == "mns" else _pyarrow(path, out)
    seconds = time.perf_counter() - start
    worker_result(peak=peak_rss(), seconds=seconds, cpu=time.process_time(), **result)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=float, default=3.0, help="GB of CSV (default 3)")
    parser.add_argument(
        "--batch-rows", type=int, default=0, help="mns.convert batch_rows (default: its own)"
    )
    parser.add_argument("--clean", action="store_true", help="remove the generated exports")
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        tool, path, mapping, out, batch = args.worker
        _worker(tool, path, mapping, out, int(batch))
        return
    if args.clean:
        shutil.rmtree(DATA, ignore_errors=True)
        return
    os.environ.setdefault("MNS_AUTOLOAD", "0")
    start = time.perf_counter()
    path, mapping = generate(args.size)
    made = time.perf_counter() - start
    size = path.stat().st_size
    print(
        f"mns.convert against pyarrow (open_csv + ParquetWriter), {os.cpu_count()} cores, "
        f"Python {sys.version.split()[0]}, pyarrow {pa.__version__}; "
        f"{path} ({size / 1e9:.2f} GB{f', made in {made:.0f} s' if made > 1 else ''})"
    )
    results = {}
    rows = []
    with tempfile.TemporaryDirectory(dir=DATA) as scratch:
        for tool in ("pyarrow", "mns"):
            out = str(Path(scratch) / tool)
            args_ = [tool, str(path), str(mapping), out, str(args.batch_rows)]
            result = run_worker("benchmarks.convert", ["--worker", *args_])
            results[tool] = result
            rows.append(
                [
                    tool,
                    result["rows"],
                    result["issues"],
                    f"{result['seconds']:.1f}",
                    f"{result['cpu']:.1f}",
                    f"{result['rows'] / result['seconds']:,.0f}",
                    f"{result['peak'] / MIB:.0f} MiB",
                ]
            )
    print()
    header = ["tool", "rows", "issues", "seconds", "CPU s", "rows/s", "peak RSS"]
    print(table_text(header, rows))
    ratio = results["mns"]["seconds"] / results["pyarrow"]["seconds"]
    peak = results["mns"]["peak"] / MIB
    verdict = "met" if peak < TARGET_PEAK_MB else "MISSED"
    print(
        f"\nmns / pyarrow time: {ratio:.1f}x; mns peak {peak:.0f} MiB, pyarrow peak "
        f"{results['pyarrow']['peak'] / MIB:.0f} MiB (target: mns under {TARGET_PEAK_MB} MB: "
        f"{verdict})"
    )


if __name__ == "__main__":
    main()
