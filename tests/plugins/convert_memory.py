"""Run by ``python -m tests.plugins.convert_memory FOLDER`` in a child process: converts
mapped CSVs of 10,000 and 60,000 rows (9 and 54 MB) with ``mns.convert`` and prints, as JSON,
their sizes and the child's peak memory (``VmHWM``, its own) after each: the peak must not
follow the file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.peak import peak_mib

MAPPING = """
table = "services"
ignore = ["Notes"]

[fields.case_id]
column = "Case"

[fields.service]
column = "Service"

[fields.start_date]
column = "Start"
"""
NOTE = "x" * 900  # a long free-text column the mapping ignores: the file is large, rows few


def _export(path: Path, rows: int) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("Case,Service,Start,Notes\r\n")
        for i in range(rows):
            out.write(f"C{i},Family support,2024-0{1 + i % 9}-1{i % 10},{NOTE}\r\n")
    return path


def main() -> None:
    import mns

    folder = Path(sys.argv[1])
    mapping = folder / "services.toml"
    mapping.write_text(MAPPING, "utf-8")
    out: dict[str, float] = {}
    for name, rows in (("warm", 50), ("medium", 10_000), ("large", 60_000)):
        export = _export(folder / f"{name}.csv", rows)
        mns.convert(export, folder / name, mapping=mapping, batch_rows=1024, pseudonymise="k" * 16)
        out[f"{name}_mib"] = export.stat().st_size / 2**20
        out[f"{name}_peak_mib"] = peak_mib()
    out["rows"] = mns.read(folder / "large").services.num_rows
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
