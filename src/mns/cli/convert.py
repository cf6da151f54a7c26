"""``mns convert``: agency records straight to a records folder, a batch at a time
(:func:`mns.convert`), for exports too large to hold in memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from mns.cli._common import (
    debug_option,
    emit,
    fail_on_errors_option,
    json_option,
    shows_progress,
    table_text,
)
from mns.cli._reading import Reading, exit_after_reading, source_options

__all__ = ["convert_command"]


@click.command("convert")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--overwrite", is_flag=True, help="Replace what mns wrote in FOLDER before.")
@click.option(
    "--batch-rows",
    type=click.IntRange(min=1),
    default=None,
    metavar="ROWS",
    help="Rows read, protected and written at a time (default 16,384; the result does not "
    "depend on it, memory does).",
)
@fail_on_errors_option
@source_options
@json_option
@debug_option
def convert_command(
    *,
    sources: tuple[Path, ...],
    folder: Path,
    overwrite: bool,
    batch_rows: int | None,
    fail_on_errors: bool,
    reading: Reading,
    as_json: bool,
) -> None:
    """Convert agency records (files or folders) into FOLDER, as `mns read --out FOLDER`
    would, a batch at a time: an export of several GB converts in bounded memory.

    Each batch is pseudonymised (--key-file), its postcodes and dates of birth cut, and
    written as it is read; FOLDER holds one Parquet file per table, the issues (also as
    issues.csv and issues.xlsx), the provenance and the manifest.
    """
    import pyarrow.parquet as pq

    from mns.cli._progress import read_progress
    from mns.cli.records import issues_overview, print_issues, unread_files
    from mns.conversion import BATCH_ROWS, convert
    from mns.dispatch import left_out
    from mns.io import sources as to_sources
    from mns.records import schema
    from mns.records.bundle import Provenance, Records
    from mns.records.issue_files import ISSUES_CSV, ISSUES_XLSX
    from mns.records.provenance import PROVENANCE_FILE, provenance_from_json

    if reading.link:
        raise click.UsageError(
            "mns convert does not link one child's records (linking needs every record at "
            "once): `mns read --link --out FOLDER` does"
        )
    files = to_sources(list(sources))
    arguments = reading.arguments(sources, files)
    with read_progress(files, label="converting", show=shows_progress()) as counted:
        written = convert(
            list(counted),
            folder,
            overwrite=overwrite,
            issue_files=True,
            batch_rows=batch_rows or BATCH_ROWS,
            **arguments,
        )
    parquet = sorted(written.glob("*.parquet"))
    counts = {p.stem: pq.ParquetFile(p).metadata.num_rows for p in parquet if p.stem != "issues"}
    issues = schema.conform(pq.read_table(written / "issues.parquet"), "issues")
    provenance = provenance_from_json(
        (written / PROVENANCE_FILE).read_text("utf-8"), str(written / PROVENANCE_FILE)
    )
    overview = issues_overview(Records(provenance=Provenance(), issues=issues))
    unread = unread_files(issues)
    data: dict[str, Any] = {
        "out": str(written),
        "adapter": provenance.adapter,
        "adapter_version": provenance.adapter_version,
        "files": [{"name": f.name, "sha256": f.sha256, "size": f.size} for f in provenance.files],
        "collection_year": provenance.collection_year,
        "reference_date": provenance.reference_date,
        "pseudonymised": provenance.pseudonymised,
        "notes": list(provenance.warnings),
        "tables": counts,
        "issues": overview,
        "issue_files": [str(written / name) for name in (ISSUES_CSV, ISSUES_XLSX)],
        "unread_files": unread,
        "left_out_files": list(left_out(issues)),
    }

    def text() -> None:
        click.echo(
            f"Converted {len(provenance.files)} file(s) with adapter {provenance.adapter!r} "
            f"into {written}/."
        )
        click.echo(table_text([{"table": name, "rows": rows} for name, rows in counts.items()]))
        for note in provenance.warnings:
            click.echo(f"note: {note}")
        print_issues(overview)
        if overview["total"]:
            click.echo(f"Every issue, one per row: {' and '.join(data['issue_files'])}.")

    emit(data, text)
    exit_after_reading(unread, overview["errors"], fail_on_errors=fail_on_errors)
