"""``mns adapters`` and ``mns languages``: what this installation can read and speak."""

from __future__ import annotations

from typing import Any

import click

from mns.cli._common import debug_option, emit, json_option, table_text

__all__ = ["adapters_command", "languages_command"]


@click.command("adapters")
@json_option
@debug_option
def adapters_command(as_json: bool) -> None:
    """List the installed adapters (the record formats mns can read), and any plugin
    that failed to load, with its error."""
    from mns.cli._reading import option_flag, type_name
    from mns.plugins import manager

    found = manager.adapters()
    failed = manager.failures()
    rows: list[dict[str, Any]] = [
        {
            "name": a.name,
            "plugin": a.plugin,
            "version": a.version,
            "suffixes": list(a.suffixes),
            "tables": list(a.tables),
            "options": [
                {
                    "name": o.name,
                    "type": type_name(o),
                    "default": o.default,
                    "flag": option_flag(o.name),
                    "description": o.description,
                }
                for o in a.options
            ],
            "description": a.description,
        }
        for a in found
    ]
    failures = [{"plugin": f.plugin, "target": f.target, "error": f.error} for f in failed]

    def text() -> None:
        click.echo(f"{len(rows)} adapter{'s' if len(rows) != 1 else ''} installed:")
        click.echo(
            table_text(
                [
                    {
                        "adapter": r["name"],
                        "plugin": r["plugin"],
                        "suffixes": r["suffixes"],
                        "reads": r["description"],
                    }
                    for r in rows
                ]
            )
        )
        with_options = [r for r in rows if r["options"]]
        if with_options:
            click.echo("\nOptions (give them to mns read, classify, explain or audit):")
        for r in with_options:
            click.echo(f"  {r['name']}:")
            for o in r["options"]:
                default = "" if o["default"] is None else f"; default {o['default']}"
                click.echo(f"    {o['flag']:<24} {o['description']} ({o['type']}{default})")
        if failures:
            click.echo(f"\n{len(failures)} plugin(s) failed to load and were left out:")
            for f in failures:
                click.echo(f"  {f['plugin']} ({f['target']}): {f['error']}")

    emit({"adapters": rows, "failures": failures}, text)


@click.command("languages")
@click.argument("name", required=False)
@click.option("--year", type=int, help="Only codes valid in this collection year (2024 = 2023-24).")
@json_option
@debug_option
def languages_command(name: str | None, year: int | None, as_json: bool) -> None:
    """List the shipped languages of need and crosswalks, or, given a NAME (or a language
    file), its dimensions and indicators."""
    from mns.lang import crosswalk, crosswalks, language, languages, valid_in

    if name is None:
        rows = []
        for lang_name in languages():
            lang = language(lang_name)
            rows.append(
                {
                    "name": lang.name,
                    "version": lang.version,
                    "title": lang.title,
                    "dimensions": len(lang.dimensions),
                    "indicators": len(lang.codes(year)),
                }
            )
        walks = []
        for source, target in crosswalks():
            cw = crosswalk(source, target)
            walks.append(
                {
                    "source": source,
                    "target": target,
                    "version": cw.version,
                    "provenance": cw.provenance.value,
                    "mappings": len(cw.mappings),
                }
            )

        def text() -> None:
            click.echo(table_text(rows, ["name", "version", "indicators", "title"]))
            click.echo("\nCrosswalks:")
            click.echo(table_text(walks, ["source", "target", "version", "provenance", "mappings"]))
            click.echo("\nShow one language's indicators with: mns languages NAME")

        emit({"languages": rows, "crosswalks": walks}, text)
        return

    lang = language(name)
    dims = {d.code: d.label for d in lang.dimensions}
    indicators: list[dict[str, Any]] = [
        {
            "column": f"{lang.name}.{ind.code}",
            "code": ind.code,
            "kind": ind.kind.value,
            "dimension": ind.dimension,
            "concerns": ind.concerns.value if ind.concerns else None,
            "polarity": ind.polarity.value,
            "label": ind.label,
            "valid_from": ind.valid_from,
            "valid_to": ind.valid_to,
            "values": [v.code for v in ind.values if valid_in(v, year)],
        }
        for ind in lang.indicators
        if valid_in(ind, year)
    ]
    data = {
        "name": lang.name,
        "version": lang.version,
        "title": lang.title,
        "description": lang.description,
        "dimensions": [{"code": c, "label": label} for c, label in dims.items()],
        "indicators": indicators,
    }

    def show() -> None:
        click.echo(f"{lang.name} {lang.version}: {lang.title}")
        if lang.description:
            click.echo(lang.description.strip())
        for code, label in dims.items():
            members = [i for i in indicators if i["dimension"] == code]
            if not members:
                continue
            click.echo(f"\n{label} [{code}]")
            for i in members:
                years = ""
                if i["valid_from"] or i["valid_to"]:
                    years = f"  ({i['valid_from'] or ''}-{i['valid_to'] or ''})"
                kind = "strength" if i["polarity"] == "strength" else i["kind"]
                click.echo(f"  {i['column']:<36} {kind:<8} {i['label']}{years}")

    emit(data, show)
