"""``mns read``, ``mns classify`` and ``mns explain``: records in, need groups out, one case
explained."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import click

from mns.cli._common import (
    debug_option,
    emit,
    fail_on_errors_option,
    json_option,
    say,
    state,
    table_text,
)
from mns.cli._reading import Reading, exit_after_reading, require_cases, source_options
from mns.errors import MnsError

if TYPE_CHECKING:
    from mns.records.bundle import Records

__all__ = [
    "Reading",
    "classify_command",
    "explain_command",
    "issues_overview",
    "print_issues",
    "read_command",
    "require_cases",
    "source_options",
    "unread_files",
]

_SHOWN_ISSUES = 10


def issues_overview(records: Records) -> dict[str, Any]:
    """The problems met while reading: counts by severity and by kind (severity, action,
    table, field), where they are (by file, table and field), and the first few described."""
    from mns.audit import summarise_issues
    from mns.records.issues import rejected

    issues = records.issues
    kinds = issue_kinds(issues)
    return {
        "total": issues.num_rows,
        "errors": records.errors,
        "warnings": issues.num_rows - records.errors,
        "rejected_records": rejected(issues),
        "kinds": kinds,
        "by_kind": summarise_issues(issues).to_pylist(),
        "first": [_describe(row) for row in issues.slice(0, _SHOWN_ISSUES).to_pylist()],
    }


def issue_kinds(issues: Any) -> list[dict[str, Any]]:
    """Issues counted by kind: (severity, action, table, field), errors first, then the most
    frequent, each with the message of its first issue."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if issues.num_rows == 0:
        return []
    keys = ["severity", "action", "table", "field"]
    plain = pa.table(
        {
            **{k: pc.fill_null(issues.column(k).cast(pa.string()), "") for k in keys},
            "order": pa.array(range(issues.num_rows), pa.int64()),
        }
    )
    grouped = plain.group_by(keys, use_threads=False).aggregate(
        [("order", "count"), ("order", "min")]
    )
    messages = issues.column("message").to_pylist()
    rows = [
        {
            **{k: row[k] for k in keys},
            "issues": row["order_count"],
            "message": messages[row["order_min"]],
        }
        for row in grouped.to_pylist()
    ]
    rows.sort(key=lambda r: (r["severity"] != "error", -r["issues"], *(r[k] for k in keys)))
    return rows


def _describe(issue: dict[str, Any]) -> str:
    from mns.records.issues import describe

    text = describe(issue)
    return f"{text} [record {issue['record']}]" if issue.get("record") else text


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


#: Kinds of issue listed on the console; the files written with --out hold every issue.
_SHOWN_KINDS = 20


def print_issues(overview: dict[str, Any], *, examples: bool = True, where: str = "") -> None:
    """The problems met while reading, for people: totals, counts by kind and severity and,
    with ``examples``, the first issues (which may quote values from the records)."""
    if not overview["total"]:
        click.echo(f"No problems met while reading{where}.")
        return
    click.echo(
        f"\n{overview['total']} problems met while reading{where}: {overview['errors']} errors, "
        f"{overview['warnings']} warnings; {overview['rejected_records']} records rejected."
    )
    kinds = overview["kinds"]
    columns = ["severity", "action", "table", "field", "issues"]
    rows = [{c: k[c] for c in columns} for k in kinds[:_SHOWN_KINDS]]
    if examples:
        columns.append("first message")
        for row, kind in zip(rows, kinds, strict=False):
            row["first message"] = _short(str(kind["message"]), 70)
    click.echo(table_text(rows, columns))
    if len(kinds) > _SHOWN_KINDS:
        click.echo(f"... and {len(kinds) - _SHOWN_KINDS} more kinds.")
    if examples:
        click.echo(f"\nThe first {min(_SHOWN_ISSUES, overview['total'])}:")
        for line in overview["first"]:
            click.echo(f"  {line}")


@click.command("read")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the records to this folder as Parquet (one file per table, plus provenance). "
    "Without it, only the summary is printed.",
)
@click.option("--overwrite", is_flag=True, help="Replace the Parquet files already in --out.")
@fail_on_errors_option
@source_options
@json_option
@debug_option
def read_command(
    *,
    sources: tuple[Path, ...],
    out: Path | None,
    overwrite: bool,
    fail_on_errors: bool,
    reading: Reading,
    as_json: bool,
) -> None:
    """Read agency records (files or folders) into mns's tables, write them as Parquet, and
    summarise the problems met while reading."""
    from mns.dispatch import left_out
    from mns.io import tables, write
    from mns.records.issue_files import ISSUES_CSV, ISSUES_XLSX

    records = reading.read(sources)
    written = (
        str(write(records, out, overwrite=overwrite, issue_files=True, inputs=sources))
        if out
        else None
    )
    issue_files = [str(out / name) for name in (ISSUES_CSV, ISSUES_XLSX)] if out else []
    prov = records.provenance
    counts = {name: t.num_rows for name, t in tables(records).items()}
    overview = issues_overview(records)
    unread = unread_files(records.issues)
    data = {
        "out": written,
        "adapter": prov.adapter,
        "adapter_version": prov.adapter_version,
        "files": [{"name": f.name, "sha256": f.sha256, "size": f.size} for f in prov.files],
        "collection_year": prov.collection_year,
        "reference_date": prov.reference_date,
        "pseudonymised": prov.pseudonymised,
        "notes": list(prov.warnings),
        "tables": counts,
        "issues": overview,
        "issue_files": issue_files,
        "unread_files": unread,
        "left_out_files": list(left_out(records.issues)),
    }

    def text() -> None:
        click.echo(f"Read {len(prov.files)} file(s) with adapter {prov.adapter!r}.")
        click.echo(table_text([{"table": name, "rows": rows} for name, rows in counts.items()]))
        for note in prov.warnings:
            click.echo(f"note: {note}")
        print_issues(overview)
        if written:
            click.echo(f"\nWrote {written}/ (Parquet, one file per table).")
            if overview["total"]:
                click.echo(f"Every issue, one per row: {' and '.join(issue_files)}.")

    emit(data, text)
    if written is None and not state().json:
        say(
            "Nothing written: give --out FOLDER to keep the records (and every issue in "
            "issues.csv and issues.xlsx)."
        )
    exit_after_reading(unread, records.errors, fail_on_errors=fail_on_errors)


def unread_files(issues: Any) -> list[str]:
    """The files a read could not read, whole (an adapter refused them) or from some point on
    (an issue rejecting the file itself, not one record): a reading command fails on them."""
    import pyarrow.compute as pc

    from mns.dispatch import refused

    if issues.num_rows == 0:
        return []
    mask = pc.and_(
        pc.and_(
            pc.equal(issues.column("table"), "file"), pc.equal(issues.column("action"), "rejected")
        ),
        pc.equal(issues.column("severity"), "error"),
    )
    partly = issues.filter(pc.fill_null(mask, False)).column("source").to_pylist()
    return list(dict.fromkeys([*refused(issues), *(str(s) for s in partly)]))


def _plan_option(f: Any) -> Any:
    return click.option(
        "--plan",
        "plan_path",
        required=True,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="The plan file (TOML): need groups with their rules, services with thresholds.",
    )(f)


@click.command("explain")
@click.argument("case_id")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@_plan_option
@source_options
@json_option
@debug_option
def explain_command(
    *,
    case_id: str,
    sources: tuple[Path, ...],
    plan_path: Path,
    reading: Reading,
    as_json: bool,
) -> None:
    """Explain one case against the plan: which need group it is in and why, and which
    service thresholds it meets, with the values seen.

    \b
    Example:
      mns explain R000123 referrals.csv --plan plan.toml
    """
    import difflib

    import pyarrow.compute as pc

    from mns.classification import explain
    from mns.plan import load_plan

    plan = load_plan(plan_path)
    records = reading.read_cases(sources)
    ids = records.cases.column("case_id").cast("string")
    found = records.cases.filter(pc.equal(ids, case_id))
    if found.num_rows == 0:
        close = difflib.get_close_matches(case_id, ids.to_pylist(), n=3, cutoff=0.6)
        hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
        where = ", ".join(str(s) for s in sources)
        raise MnsError(
            f"no case {case_id!r} in {where}{hint}; identifiers are matched exactly"
            + (" (and were pseudonymised with --key-file)" if reading.key_file else ""),
            item=case_id,
        )
    row = found.slice(0, 1).to_pylist()[0]
    explanation = explain(row, plan)

    def outcome(o: Any) -> dict[str, Any]:
        return {
            "code": o.code,
            "name": o.name,
            "rule": o.rule,
            "holds": o.outcome,
            "missing": list(o.missing),
        }

    data = {
        "case": case_id,
        "plan": explanation.plan,
        "language": explanation.language,
        "need_group": explanation.need_group,
        "missing_fields": list(explanation.missing_fields),
        "need_groups": [outcome(o) for o in explanation.need_groups],
        "thresholds": [outcome(o) for o in explanation.thresholds],
        "crosswalks": list(explanation.crosswalks),
        "text": explanation.render(),
    }
    emit(data, lambda: click.echo(explanation.render()))


@click.command("classify")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@_plan_option
@click.option(
    "--mode",
    type=click.Choice(["first", "all"]),
    default="first",
    show_default=True,
    help="first: each case in the first need group whose rule holds; all: a yes/no column "
    "per need group.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the classified records here (Parquet): case records, for the audit team.",
)
@click.option("--overwrite", is_flag=True, help="Replace the Parquet files already in --out.")
@click.option(
    "--min-count",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="The counts printed withhold numbers below this (disclosure control).",
)
@click.option("--no-disclose", is_flag=True, help="Print every count, however small.")
@source_options
@json_option
@debug_option
def classify_command(
    *,
    sources: tuple[Path, ...],
    plan_path: Path,
    mode: str,
    out: Path | None,
    overwrite: bool,
    min_count: int,
    no_disclose: bool,
    reading: Reading,
    as_json: bool,
) -> None:
    """Put each case in SOURCES in its need group with the plan's rules, and test every
    service's threshold; print how many cases each need group has (disclosure-controlled)
    and, with --out, keep the classified records.

    \b
    Example:
      mns classify records/audit --plan plan.toml --out records/classified
    """
    import pyarrow as pa

    from mns import classification, disclosure
    from mns.io import write
    from mns.plan import load_plan

    plan = load_plan(plan_path)
    records = reading.read_cases(sources)
    classified = classification.classify(
        records.cases, plan, mode="all" if mode == "all" else "first", missing_fields=True
    )
    assert isinstance(classified, pa.Table)
    if mode == "first":
        groups = [g.code for g in plan.need_groups] + ["unassigned", "unknown"]
        values = classified.column("need_group").cast(pa.string()).to_pylist()
        counts = [values.count(g) for g in groups]
    else:
        groups = [
            g.code for g in plan.need_groups if f"need_group.{g.code}" in classified.column_names
        ]
        counts = [
            sum(1 for v in classified.column(f"need_group.{g}").to_pylist() if v) for g in groups
        ]
    table = pa.table({"need_group": groups, "cases": pa.array(counts, pa.int64())})
    withheld: set[int] = set()
    if not no_disclose:
        done = disclosure.disclose(table, min_count, count="cases", rows="need_group")
        withheld = set(done.suppressed.column("row").to_pylist())
    rows = [
        {"need_group": g, "cases": None if i in withheld else c}
        for i, (g, c) in enumerate(zip(groups, counts, strict=True))
    ]
    written = None
    if out is not None:
        kept = attrs.evolve(records, cases=classified)
        written = write(kept, out, overwrite=overwrite, issue_files=True, inputs=sources)
    data = {
        "out": written,
        "cases": classified.num_rows,
        "mode": mode,
        "min_count": None if no_disclose else min_count,
        "need_groups": rows,
    }

    def text() -> None:
        click.echo(f"Classified {classified.num_rows} cases with the plan {plan.name!r}.")
        shown = [{**r, "cases": "c" if r["cases"] is None else r["cases"]} for r in rows]
        click.echo(table_text(shown))
        if withheld:
            click.echo(f"c: fewer than {min_count} cases, or a count that would reveal one.")
        if written:
            click.echo(
                f"\nWrote {written}/ (the classified records: keep them with the case records)."
            )

    emit(data, text)
