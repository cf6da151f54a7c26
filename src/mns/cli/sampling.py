"""``mns sample`` (draw the audit sample, or say how many cases it needs) and ``mns form``
(the audit-form workbook for a sample, or a printable single-case form)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import pyarrow as pa

from mns.cli._common import debug_option, emit, json_option, jsonable, say, table_text
from mns.cli._reading import Reading, source_options

if TYPE_CHECKING:
    from mns.records.bundle import Records

__all__ = ["form_group", "sample_command"]

#: The extra table ``mns sample --out`` writes beside the sampled cases: how it was drawn.
SAMPLE_TABLE = "sample"


@click.command("sample")
@click.argument("sources", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--n", "n", type=click.IntRange(min=1), help="How many cases to draw.")
@click.option(
    "--margin",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    help="Instead of --n: draw enough cases to estimate a need group's share within this "
    "margin (e.g. 0.07 for plus or minus 7 points).",
)
@click.option(
    "--confidence",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.95,
    show_default=True,
    help="Confidence level of --margin.",
)
@click.option(
    "--population",
    type=click.IntRange(min=1),
    help="With --margin and no SOURCES: the number of cases in the period (else the rows read).",
)
@click.option(
    "--seed", type=click.IntRange(min=0), help="Seed of the draw (same seed, same sample)."
)
@click.option(
    "--strata",
    multiple=True,
    metavar="COLUMN",
    help="Stratify by this column of the cases (repeatable: area, agency, cohort...).",
)
@click.option(
    "--allocation",
    type=click.Choice(["proportional", "equal"]),
    default="proportional",
    show_default=True,
    help="How the sample is shared between strata.",
)
@click.option("--audit", "audit_name", default="audit", show_default=True, help="The audit's name.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the sampled cases (Parquet) and how they were drawn to this folder.",
)
@click.option("--overwrite", is_flag=True, help="Replace the files already in --out.")
@source_options
@json_option
@debug_option
def sample_command(
    *,
    sources: tuple[Path, ...],
    n: int | None,
    margin: float | None,
    confidence: float,
    population: int | None,
    seed: int | None,
    strata: tuple[str, ...],
    allocation: str,
    audit_name: str,
    out: Path | None,
    overwrite: bool,
    reading: Reading,
    as_json: bool,
) -> None:
    """Draw a reproducible (optionally stratified) random sample of the cases in SOURCES,
    or, with --margin and no SOURCES, say how many cases an audit needs.

    \b
    Examples:
      mns sample --margin 0.07 --population 1400
      mns sample referrals.csv --n 200 --seed 2026 --strata area --out sample
    """
    from mns import sampling
    from mns.io import write
    from mns.records.bundle import Records

    if n is not None and margin is not None:
        raise click.UsageError("give --n or --margin, not both")
    if not sources:
        if margin is None:
            raise click.UsageError("give SOURCES to sample from, or --margin to size a sample")
        size = sampling.sample_size(margin, confidence, population=population)
        data: dict[str, Any] = {
            "sample_size": size,
            "margin": margin,
            "confidence": confidence,
            "population": population,
        }
        emit(
            data,
            lambda: click.echo(
                f"{size} cases estimate a need group's share within ±{100 * margin:g} points "
                f"at {100 * confidence:g}% confidence"
                + (f" (population {population:,})." if population else ".")
            ),
        )
        return
    if seed is None:
        raise click.UsageError("give --seed: the same seed draws the same sample again")
    if n is None and margin is None:
        raise click.UsageError("give --n (cases to draw) or --margin (to size the sample)")
    records = reading.read_cases(sources)
    try:
        if n is None:
            assert margin is not None
            n = sampling.sample_size(
                margin, confidence, population=population or records.cases.num_rows
            )
        drawn = sampling.sample(
            records.cases,
            n,
            seed=seed,
            strata=list(strata) or None,
            allocation="equal" if allocation == "equal" else "proportional",
            audit=audit_name,
        )
    except ValueError as exc:  # the options' values: the user's to fix
        raise click.UsageError(str(exc)) from None
    strata_rows = drawn.strata.to_pylist()
    audit = jsonable(drawn.audit)
    written = None
    if out is not None:
        how = pa.table(
            {
                "audit": [drawn.audit.name],
                "seed": pa.array([seed], pa.int64()),
                "sample_size": pa.array([drawn.audit.sample_size], pa.int64()),
                "population_size": pa.array([drawn.audit.population_size], pa.int64()),
                "sampling_fraction": pa.array([drawn.audit.sampling_fraction], pa.float64()),
                "strata": [", ".join(strata)],
                "allocation": [allocation],
            }
        )
        bundle = Records(
            provenance=records.provenance,
            cases=drawn.cases,
            extra={"strata": drawn.strata, SAMPLE_TABLE: how},
        )
        written = write(bundle, out, overwrite=overwrite)
    data = {
        "out": written,
        "cases": drawn.cases.num_rows,
        "population": records.cases.num_rows,
        "audit": audit,
        "strata": strata_rows,
    }

    def text() -> None:
        click.echo(f"Drew {drawn.cases.num_rows} of {records.cases.num_rows} cases (seed {seed}).")
        click.echo(table_text(strata_rows))
        if written:
            click.echo(f"\nWrote {written}/ (the sampled cases, with stratum and sample_weight).")

    emit(data, text)
    if written is None:
        say("Nothing written: give --out FOLDER to keep the sample.")


@click.group("form")
def form_group() -> None:
    """Audit forms: the workbook auditors fill for a sample, or a printable one-case form."""


@form_group.command("workbook")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The workbook to write (.xlsx).",
)
@click.option("--language", default="mns", show_default=True, help="Language of the form.")
@click.option(
    "--plan",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A plan file: its need groups become the form's drop-down.",
)
@click.option("--audit", "audit_name", help="The audit's name (default: the sample's).")
@click.option(
    "--role",
    type=click.Choice(["professional", "shadow", "mixed"]),
    default="professional",
    show_default=True,
    help="The audit group filling the form.",
)
@click.option("--auditor", help="Who fills the form.")
@source_options  # its --year also keeps the form to the indicators valid that year
@json_option
@debug_option
def form_workbook_command(
    *,
    sources: tuple[Path, ...],
    out: Path,
    language: str,
    plan: Path | None,
    audit_name: str | None,
    role: str,
    auditor: str | None,
    reading: Reading,
    as_json: bool,
) -> None:
    """Write the audit-form workbook (XLSX) for the cases in SOURCES (e.g. the folder
    `mns sample --out` wrote); `mns read` reads the filled workbook back.

    \b
    Example:
      mns form workbook sample --plan plan.toml --out audit-form.xlsx
    """
    from mns.forms import write_workbook

    records = reading.read_cases(sources)
    audit = audit_name or _sample_audit(records)
    path = write_workbook(
        out,
        records.cases,
        language=language,
        plan=plan,
        audit=audit,
        role=role,
        auditor=auditor,
        year=reading.year,
    )
    data = {"out": path, "cases": records.cases.num_rows, "language": language, "role": role}
    emit(data, lambda: click.echo(f"Wrote {path} ({records.cases.num_rows} cases to audit)."))


def _sample_audit(records: Records) -> str | None:
    """The audit name `mns sample --out` recorded with the sampled cases, if any."""
    how = records.extra.get(SAMPLE_TABLE)
    if how is None or "audit" not in how.column_names or how.num_rows != 1:
        return None
    name = how.column("audit")[0].as_py()
    return str(name) if name else None


@form_group.command("printable")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The form to write (.html, to print or fill on screen).",
)
@click.option("--language", default="mns", show_default=True, help="Language of the form.")
@click.option(
    "--plain",
    is_flag=True,
    help="The family's self-assessment wording (plain labels, no definitions).",
)
@click.option(
    "--plan",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A plan file: lists its need groups on the practitioner's form.",
)
@click.option("--title", help="The form's title.")
@click.option("--year", type=int, help="Only indicators valid in this collection year.")
@json_option
@debug_option
def form_printable_command(
    *,
    out: Path,
    language: str,
    plain: bool,
    plan: Path | None,
    title: str | None,
    year: int | None,
    as_json: bool,
) -> None:
    """Write a printable single-case form: an initial assessment for a practitioner, or
    (--plain) a family's self-assessment.

    \b
    Example:
      mns form printable --plain --out my-family.html
    """
    from mns.forms import write_printable

    path = write_printable(out, language=language, plain=plain, plan=plan, title=title, year=year)
    emit({"out": path, "language": language, "plain": plain}, lambda: click.echo(f"Wrote {path}."))
