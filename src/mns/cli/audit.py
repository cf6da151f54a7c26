"""``mns audit`` (records and a plan in, every analysis and the report out), ``mns report``
(the report again from an audit folder) and ``mns demo`` (the whole audit of Exampleshire)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mns.cli._common import debug_option, emit, json_option, say, shows_progress
from mns.cli._engines import engine_options
from mns.cli._reading import Reading, source_options
from mns.cli.records import issues_overview, print_issues
from mns.errors import MnsError

if TYPE_CHECKING:
    import pyarrow as pa

    from mns.audit import AuditResult
    from mns.engines import Engine

__all__ = ["audit_command", "demo_command", "read_population", "report_command"]


def read_population(path: Path) -> pa.Table:
    """The population table (``area`` and ``children`` columns) from a CSV or Parquet file."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    try:
        if path.suffix.lower() == ".parquet":
            table = pq.read_table(path)
        else:
            table = pacsv.read_csv(
                path, convert_options=pacsv.ConvertOptions(column_types={"area": pa.string()})
            )
    except (pa.ArrowInvalid, OSError) as exc:
        raise MnsError(f"{path}: cannot read the population table: {exc}", file=str(path)) from exc
    missing = [c for c in ("area", "children") if c not in table.column_names]
    if missing:
        raise MnsError(
            f"{path}: the population table needs the columns 'area' and 'children' (children "
            f"living in each area); it lacks {', '.join(map(repr, missing))} and has "
            f"{', '.join(map(repr, table.column_names))}",
            file=str(path),
            field=missing[0],
        )
    if not pa.types.is_integer(table.schema.field("children").type) and not pa.types.is_floating(
        table.schema.field("children").type
    ):
        raise MnsError(
            f"{path}: column 'children' must hold numbers of children, not "
            f"{table.schema.field('children').type}",
            file=str(path),
            field="children",
        )
    return table


def _steps() -> Callable[[str], None] | None:
    if not shows_progress():
        return None
    started = time.monotonic()

    def step(name: str) -> None:
        click.echo(f"  {time.monotonic() - started:5.1f}s  {name}", err=True)

    return step


def _summary(result: AuditResult, report: Path | None) -> dict[str, Any]:
    tables = {
        name: {"rows": table.num_rows, "withheld": len(result.suppressed.get(name, ()))}
        for name, table in result.published.items()
    }
    return {
        "report": report,
        "out": report.parent if report else None,
        "title": result.title,
        "cases": result.cases.num_rows,
        "min_count": result.min_count,
        "groups": result.groups,
        "census": result.census,
        "tables": tables,
        "notes": list(result.notes),
    }


def _print_summary(data: dict[str, Any]) -> None:
    click.echo(f"{data['title']}: {data['cases']} cases audited.")
    for note in data["notes"]:
        click.echo(f"note: {note}")
    if data["min_count"] is None:
        click.echo("Disclosure control is OFF: the tables and report show small counts.")
    else:
        withheld = sum(t["withheld"] for t in data["tables"].values())
        click.echo(
            f"Disclosure control: counts below {data['min_count']} withheld "
            f"({withheld} cells in {len(data['tables'])} tables)."
        )
    if data["report"]:
        click.echo(
            f"Wrote {data['out']}/ (tables as CSV and Parquet, all of them in tables.xlsx) and "
            f"the report {data['report']}"
        )


@click.command("audit")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--plan",
    "plan_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The plan file (TOML).",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The folder to write the tables and report.html to.",
)
@click.option(
    "--baseline",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="The baseline audit's records (an earlier audit), for the change since then.",
)
@click.option(
    "--referrals",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="The year's cases the sample was drawn from: annual numbers, and need by area.",
)
@click.option(
    "--population",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Children living in each area (CSV or Parquet with 'area' and 'children').",
)
@click.option(
    "--min-count",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Disclosure control withholds counts below this (and what would reveal them).",
)
@click.option(
    "--audience",
    type=click.Choice(["public", "internal"]),
    default="public",
    show_default=True,
    help="public: disclosure control over every table at once; internal: the planning "
    "group's copy, small numbers shown, every file and page marked not for publication.",
)
@click.option(
    "--no-disclose",
    is_flag=True,
    help="The same as --audience internal.",
)
@click.option(
    "--suggest/--no-suggest",
    default=False,
    show_default=True,
    help="Add 'what the data suggest' (latent class analysis; needs mns[lca]).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of --suggest.")
@click.option(
    "--groups",
    metavar="GROUPING",
    help="The grouping every table uses: 'rules' (the plan's rules), a role ('professional', "
    "'shadow', 'mixed'), 'consensus' or an audit's name. Default: the professional panel's "
    "when the records hold its assignments, else the rules.",
)
@click.option(
    "--census",
    is_flag=True,
    help="The audited cases are every case of the year: annual numbers without --referrals.",
)
@click.option(
    "--participation",
    "participation_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Who took part in the audit's groups (TOML). Default: participation.toml in the "
    "folder of the audited records, when there is one.",
)
@click.option(
    "--previous-plan",
    "previous_plan",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The plan of the last cycle (TOML): what changed from it, beside the change in "
    "needs since --baseline, in plan_changes and the report's 'Progress since the last plan'.",
)
@click.option("--title", help="The report's title.")
@click.option("--overwrite", is_flag=True, help="Replace an earlier audit in --out.")
@engine_options
@source_options
@json_option
@debug_option
def audit_command(
    *,
    sources: tuple[Path, ...],
    plan_path: Path,
    out: Path,
    baseline: tuple[Path, ...],
    referrals: tuple[Path, ...],
    population: Path | None,
    min_count: int,
    audience: str,
    no_disclose: bool,
    suggest: bool,
    seed: int,
    groups: str | None,
    census: bool,
    title: str | None,
    overwrite: bool,
    reading: Reading,
    as_json: bool,
    participation_path: Path | None = None,
    previous_plan: Path | None = None,
    engine: Engine | None = None,
) -> None:
    """Run the whole audit: read the records in SOURCES, classify them with the plan, run
    every analysis, apply disclosure control, and write the tables (CSV and Parquet) and
    report.html to --out.

    A SOURCE may be a partitioned Parquet dataset of cases (a folder of name=value
    folders of Parquet files); --engine chooses where the analyses compute.

    \b
    Example:
      mns audit records/2026 --plan plan.toml --baseline records/2025 \\
          --previous-plan plan-2022.toml --referrals referrals/2026 \\
          --population population.csv --out audit-2026
    """
    from mns.audit import changes_from, run_audit
    from mns.engines import use
    from mns.plan import load_plan

    load_plan(plan_path)  # a plan with a mistake fails before the records are read
    if previous_plan is not None:  # and so does a previous plan, or a replaces naming no group
        changes_from(previous_plan, load_plan(plan_path), plan_path)
    if not referrals and not census:  # said before reading, in the command line's terms
        raise MnsError(
            "annual numbers need to know how the audited cases stand for the year's: give "
            "--referrals FOLDER (the year's cases: the sample is scaled up to them) or --census "
            "(the audited cases are every case of the year)",
            item="referrals",
        )
    participation = _participation(participation_path, sources)
    records = reading.read_cases(sources, label="reading the audit")
    before = reading.read_cases(baseline, label="reading the baseline") if baseline else None
    year = reading.read_cases(referrals, label="reading the year's cases") if referrals else None
    people = read_population(population) if population else None
    no_disclose = no_disclose or audience == "internal"
    if no_disclose:
        say("mns: disclosure control is OFF: do not publish what this writes.")
    with use(engine or "local"):
        result = run_audit(
            records,
            plan_path,
            baseline=before,
            referrals=year,
            population=people,
            min_count=min_count,
            disclose=not no_disclose,
            suggest=suggest,
            seed=seed,
            groups=groups,
            census=census,
            title=title,
            out=out,
            overwrite=overwrite,
            progress=_steps(),
            participation=participation,
            previous_plan=previous_plan,
        )
    data = _summary(result, out / "report.html")
    inputs = {"audit": records, "baseline": before, "referrals": year}
    overviews = {role: issues_overview(r) for role, r in inputs.items() if r is not None}
    # counts by kind for everyone; the messages quote values from the records, so only the
    # internal audience's summary carries them
    data["read_issues"] = {
        role: {
            **{k: o[k] for k in ("total", "errors", "warnings", "rejected_records")},
            "kinds": [
                {k: v for k, v in kind.items() if no_disclose or k != "message"}
                for kind in o["kinds"]
            ],
        }
        for role, o in overviews.items()
    }
    data["issues"] = issues_overview(records)["by_kind"] if no_disclose else None

    def text() -> None:
        _print_summary(data)
        given = {"audit": sources, "baseline": baseline, "referrals": referrals}
        for role, overview in overviews.items():
            print_issues(overview, examples=False, where=f" {', '.join(map(str, given[role]))}")
        if any(o["total"] for o in overviews.values()):
            click.echo(
                "\nEvery issue, one per row: mns read SOURCES --out FOLDER writes them to "
                "FOLDER/issues.csv and FOLDER/issues.xlsx."
            )

    emit(data, text)


def _participation(given: Path | None, sources: tuple[Path, ...]) -> Any:
    """Who took part: the file given, else the ``participation.toml`` of the audited records'
    folder (None when there is none); read before the records, so a mistake fails first."""
    from mns.participation import PARTICIPATION_FILE, load_participation

    if given is None:
        found = [s / PARTICIPATION_FILE for s in sources if (s / PARTICIPATION_FILE).is_file()]
        if len(found) > 1:
            raise MnsError(
                f"{len(found)} folders of the audited records hold a {PARTICIPATION_FILE} "
                f"({', '.join(map(str, found))}): keep one, or name it with --participation",
                file=str(found[1]),
            )
        given = found[0] if found else None
    return load_participation(given) if given is not None else None


@click.command("report")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the report (default: FOLDER/report.html).",
)
@json_option
@debug_option
def report_command(*, folder: Path, out: Path | None, as_json: bool) -> None:
    """Write the report again from an audit folder (what `mns audit --out` wrote), e.g.
    after a newer mns changed how it looks. It shows the folder's tables as they are.

    \b
    Example:
      mns report audit-2026 --out audit-2026/report-copy.html
    """
    from mns.audit import load_result
    from mns.report import write_report

    report_input = load_result(folder)
    path = write_report(report_input, out or folder / "report.html")
    emit(
        {"report": path, "title": report_input.title, "tables": sorted(report_input.tables)},
        lambda: click.echo(f"Wrote {path}"),
    )


#: Where ``mns demo`` puts the demo's records, inside --out.
DEMO_RECORDS = "records"


@click.command("demo")
@click.option(
    "--out",
    default="demo-output",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The folder to write the demo's records, tables and report.html to.",
)
@click.option(
    "--seed", type=int, default=2026, show_default=True, help="Seed of the synthetic data."
)
@click.option(
    "--suggest/--no-suggest",
    default=None,
    help="Add 'what the data suggest' (default: when mns[lca] is installed).",
)
@click.option("--overwrite", is_flag=True, help="Replace an earlier demo in --out.")
@json_option
@debug_option
def demo_command(
    *, out: Path, seed: int, suggest: bool | None, overwrite: bool, as_json: bool
) -> None:
    """Audit Exampleshire, a synthetic locality of 80,000 residents: write its records
    (the re-audit of 200 referrals, the baseline audit a year earlier, the year's
    referrals, the population by area, the plan and the plan of the last cycle) and then
    run `mns audit` on them.

    \b
    Example:
      mns demo --out demo-output    # then open demo-output/report.html
    """
    import shutil

    from mns.audit import lca_available
    from mns.demo import LOCALITY, exampleshire

    if out.exists() and any(p for p in out.iterdir() if not p.name.startswith(".")):
        if not overwrite:
            raise MnsError(
                f"folder {str(out)!r} is not empty; choose another with --out, or pass "
                "--overwrite to replace the earlier demo there",
                file=str(out),
            )
        shutil.rmtree(out / DEMO_RECORDS, ignore_errors=True)
    say(f"mns demo: making {LOCALITY} (seed {seed})...")
    demo = exampleshire(seed)
    paths = _write_demo(demo, out / DEMO_RECORDS)
    if suggest is None:
        suggest = lca_available()
    args = [
        str(paths["audit"]),
        "--plan",
        str(paths["plan"]),
        "--baseline",
        str(paths["baseline"]),
        "--previous-plan",
        str(paths["previous_plan"]),
        "--referrals",
        str(paths["referrals"]),
        "--population",
        str(paths["population"]),
        "--out",
        str(out),
        "--title",
        f"{LOCALITY} needs audit {demo.year}-{str(demo.year + 1)[-2:]}: the re-audit",
        "--overwrite",
    ]
    if suggest:
        args += ["--suggest", "--seed", str(seed)]
    say("mns demo: the same as\n  mns audit " + " ".join(_quote(a) for a in args))
    ctx = click.get_current_context()
    ctx.invoke(
        audit_command,
        **_audit_defaults(
            sources=(paths["audit"],),
            plan_path=paths["plan"],
            out=out,
            baseline=(paths["baseline"],),
            previous_plan=paths["previous_plan"],
            referrals=(paths["referrals"],),
            population=paths["population"],
            suggest=bool(suggest),
            seed=seed,
            title=args[args.index("--title") + 1],
            overwrite=True,
            as_json=as_json,
        ),
    )


def _quote(text: str) -> str:
    return f"'{text}'" if any(ch in text for ch in " ':") else text


def _audit_defaults(**given: Any) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "min_count": 5,
        "audience": "public",
        "no_disclose": False,
        "groups": None,
        "census": False,
        "title": None,
        "adapter": None,
        "adapter_options": (),
        "mapping": None,
        "year": None,
        "strict": False,
        "key_file": None,
        "postcode": "district",
    }
    return {**defaults, **given}


def _write_demo(demo: Any, folder: Path) -> dict[str, Path]:
    """The demo's inputs as files, as an authority would have them."""
    import shutil

    import pyarrow.csv as pacsv

    from mns.demo import participation_path, previous_plan_path
    from mns.io import write
    from mns.participation import PARTICIPATION_FILE
    from mns.records.folder import replacing

    folder.mkdir(parents=True, exist_ok=True)
    year = demo.year
    paths = {
        "audit": folder / f"audit-{year + 1}",
        "baseline": folder / f"audit-{year}",
        "referrals": folder / f"referrals-{year + 1}",
        "population": folder / "population.csv",
        "plan": folder / "plan.toml",
        "previous_plan": folder / f"plan-{year - 3}.toml",  # the plan of the last cycle
    }
    write(demo.reaudit, paths["audit"], overwrite=True)
    # who took part, beside the audited records (where mns audit looks for it)
    with replacing(paths["audit"] / PARTICIPATION_FILE) as temporary:
        shutil.copyfile(participation_path(), temporary)
    write(demo.sample, paths["baseline"], overwrite=True)
    write(demo.reaudit_referrals, paths["referrals"], overwrite=True)
    with replacing(paths["population"]) as temporary:
        pacsv.write_csv(demo.population, temporary)
    with replacing(paths["plan"]) as temporary:
        shutil.copyfile(demo.plan_path, temporary)
    with replacing(paths["previous_plan"]) as temporary:
        shutil.copyfile(previous_plan_path(), temporary)
    return paths
