"""``mns read``, ``mns classify`` and ``mns explain``: records in, need groups out, one case
explained."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import click

from mns.cli._common import (
    EXIT_ISSUES,
    debug_option,
    emit,
    json_option,
    say,
    shows_progress,
    state,
    table_text,
)
from mns.errors import MnsError

if TYPE_CHECKING:
    from mns.plugins.adapter import Adapter, Source
    from mns.records.bundle import Records

__all__ = [
    "Reading",
    "classify_command",
    "explain_command",
    "issues_overview",
    "read_command",
    "require_cases",
    "source_options",
]

_POSTCODE = {"district": "district", "sector": "sector", "keep": None}
_SHOWN_ISSUES = 10


def _parse_options(pairs: Sequence[str], adapter: Adapter | None) -> dict[str, Any]:
    """``KEY=VALUE`` pairs as adapter options, each converted to the type of its default."""
    defaults = {o.name: o.default for o in adapter.options} if adapter else {}
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="'--option'")
        options[key] = _convert(raw.strip(), defaults.get(key), key)
    return options


def _convert(raw: str, default: Any, key: str) -> Any:
    if isinstance(default, bool) or raw.lower() in ("true", "false"):
        if raw.lower() in ("true", "yes", "1"):
            return True
        if raw.lower() in ("false", "no", "0"):
            return False
        raise click.BadParameter(f"{key}={raw!r}: give true or false", param_hint="'--option'")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise click.BadParameter(
                f"{key}={raw!r}: give a whole number", param_hint="'--option'"
            ) from None
    if isinstance(default, float):
        try:
            return float(raw)
        except ValueError:
            raise click.BadParameter(
                f"{key}={raw!r}: give a number", param_hint="'--option'"
            ) from None
    return raw


def _key(key_file: Path | None) -> str | None:
    if key_file is None:
        return None
    key = key_file.read_text("utf-8").strip()
    if len(key) < 16:
        raise MnsError(
            f"{key_file}: the pseudonymisation key is {len(key)} characters; use a secret of "
            "at least 16 characters (e.g. `python -c 'import secrets; "
            "print(secrets.token_hex(32))'`)",
            file=str(key_file),
        )
    return key


@attrs.frozen(kw_only=True)
class Reading:
    """How a command reads its records: the options every reading command takes."""

    adapter: str | None = None
    adapter_options: Sequence[str] = ()
    strict: bool = False
    key_file: Path | None = None
    postcode: str = "district"

    def read(self, paths: Sequence[str | Path], *, label: str = "reading") -> Records:
        """Read ``paths`` with ``mns.read`` and these options, with a progress bar."""
        import mns
        from mns.cli._progress import read_progress
        from mns.plugins import manager
        from mns.records.io import sources

        chosen = manager.adapter(self.adapter) if self.adapter else None
        options = _parse_options(self.adapter_options, chosen)
        files = sources(list(paths))
        with read_progress(files, label=label, show=shows_progress()) as counted:
            records: Records = mns.read(
                list(counted),
                adapter=chosen,
                strict=self.strict,
                pseudonymise=_key(self.key_file),
                postcode=_POSTCODE[self.postcode],
                **options,
            )
        if not records.provenance.files:
            # e.g. a folder mns.write wrote: its provenance is the original read's; record the
            # files this read took the records from, with their checksums
            from mns.records.bundle import SourceFile

            read = tuple(SourceFile(name=f.name, sha256=_sha256(f), size=_size(f)) for f in files)
            provenance = attrs.evolve(records.provenance, files=read)
            records = attrs.evolve(records, provenance=provenance)
        return records

    def read_cases(self, paths: Sequence[str | Path], *, label: str = "reading") -> Records:
        """:meth:`read`, failing with a clear message when no cases were read."""
        records = self.read(paths, label=label)
        require_cases(records, paths)
        return records


def source_options(f: Any) -> Any:
    """The options every command that reads records takes, given to it as ``reading``."""

    @functools.wraps(f)
    def command(
        *args: Any,
        adapter: str | None,
        adapter_options: tuple[str, ...],
        strict: bool,
        key_file: Path | None,
        postcode: str,
        **kwargs: Any,
    ) -> Any:
        reading = Reading(
            adapter=adapter,
            adapter_options=adapter_options,
            strict=strict,
            key_file=key_file,
            postcode=postcode,
        )
        return f(*args, reading=reading, **kwargs)

    wrapped: Any = command
    for decorator in reversed(
        [
            click.option(
                "--adapter",
                "-a",
                metavar="NAME",
                help="The adapter to read with (default: chosen by file suffix, then content; "
                "see `mns adapters`).",
            ),
            click.option(
                "--option",
                "-o",
                "adapter_options",
                multiple=True,
                metavar="KEY=VALUE",
                help="An option for the adapter (repeatable; `mns adapters` lists them).",
            ),
            click.option(
                "--strict",
                is_flag=True,
                help="Stop at the first record with an error instead of listing it in the issues.",
            ),
            click.option(
                "--key-file",
                type=click.Path(exists=True, dir_okay=False, path_type=Path),
                help="Pseudonymise identifiers with the secret key kept in this file.",
            ),
            click.option(
                "--postcode",
                type=click.Choice(list(_POSTCODE)),
                default="district",
                show_default=True,
                help="Coarsen postcodes to the district or sector, or keep them as read.",
            ),
        ]
    ):
        wrapped = decorator(wrapped)
    return wrapped


def _sha256(source: Source) -> str:
    import hashlib

    digest = hashlib.sha256()
    with source.open() as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _size(source: Source) -> int:
    if source.path is not None:
        return source.path.stat().st_size
    with source.open() as stream:
        return len(stream.read())


def require_cases(records: Records, paths: Sequence[str | Path]) -> None:
    """Raise a clear error when a read gave no cases (naming the first issue, if any)."""
    if records.cases.num_rows:
        return
    from mns.records.issues import describe

    names = ", ".join(str(p) for p in paths)
    hint = ""
    if records.issues.num_rows:
        hint = f"; the first problem met: {describe(records.issues.slice(0, 1).to_pylist()[0])}"
    raise MnsError(f"no cases were read from {names}{hint}", file=str(paths[0]) if paths else None)


def issues_overview(records: Records) -> dict[str, Any]:
    """Counts of the problems met while reading, by kind, with the first few described."""
    from mns.audit import summarise_issues
    from mns.records.issues import describe, rejected

    issues = records.issues
    summary = summarise_issues(issues)
    return {
        "total": issues.num_rows,
        "errors": records.errors,
        "warnings": issues.num_rows - records.errors,
        "rejected_records": rejected(issues),
        "by_kind": summary.to_pylist(),
        "first": [describe(row) for row in issues.slice(0, _SHOWN_ISSUES).to_pylist()],
    }


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _print_issues(overview: dict[str, Any]) -> None:
    if not overview["total"]:
        click.echo("No problems met while reading.")
        return
    click.echo(
        f"\n{overview['total']} problems met while reading: {overview['errors']} errors, "
        f"{overview['warnings']} warnings; {overview['rejected_records']} records rejected."
    )
    rows = [{**row, "example": _short(str(row["example"]), 70)} for row in overview["by_kind"]]
    click.echo(
        table_text(
            rows,
            ["source", "table", "field", "severity", "action", "issues", "example"],
        )
    )
    click.echo(f"\nFirst {min(_SHOWN_ISSUES, overview['total'])}:")
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
@click.option(
    "--fail-on-errors",
    is_flag=True,
    help=f"Exit with code {EXIT_ISSUES} when any record had an error (for scripts and CI).",
)
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
    import mns
    from mns.records.io import tables

    records = reading.read(sources)
    written = str(mns.write(records, out, overwrite=overwrite)) if out else None
    prov = records.provenance
    counts = {name: t.num_rows for name, t in tables(records).items()}
    overview = issues_overview(records)
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
    }

    def text() -> None:
        click.echo(f"Read {len(prov.files)} file(s) with adapter {prov.adapter!r}.")
        click.echo(table_text([{"table": name, "rows": rows} for name, rows in counts.items()]))
        for note in prov.warnings:
            click.echo(f"note: {note}")
        _print_issues(overview)
        if written:
            click.echo(f"\nWrote {written}/ (Parquet, one file per table).")

    emit(data, text)
    if written is None and not state().json:
        say("Nothing written: give --out FOLDER to keep the records.")
    if fail_on_errors and records.errors:
        raise click.exceptions.Exit(EXIT_ISSUES)


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

    import mns
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
    explanation = mns.explain(row, plan)

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
    import attrs
    import pyarrow as pa

    import mns
    from mns import disclosure
    from mns.plan import load_plan

    plan = load_plan(plan_path)
    records = reading.read_cases(sources)
    classified = mns.classify(records.cases, plan, mode="all" if mode == "all" else "first")
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
        written = mns.write(kept, out, overwrite=overwrite)
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
