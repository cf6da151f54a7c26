"""The ``mns`` click group and its commands (:mod:`mns.cli` loads it when click is installed)."""

from __future__ import annotations

import click

from mns.cli._common import MnsGroup, State, debug_option
from mns.cli.audit import audit_command, demo_command, report_command
from mns.cli.convert import convert_command
from mns.cli.info import adapters_command, languages_command
from mns.cli.records import classify_command, explain_command, read_command
from mns.cli.sampling import form_group, sample_command

__all__ = ["cli"]


@click.group(cls=MnsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mns", prog_name="mns")
@click.option("-q", "--quiet", is_flag=True, help="No progress notes on stderr.")
@debug_option
@click.pass_context
def cli(ctx: click.Context, quiet: bool) -> None:
    """mns: Matching Needs and Services for children's services.

    Start with `mns demo --out demo-output`, which audits the synthetic locality
    "Exampleshire" and writes demo-output/report.html.
    """
    st = ctx.ensure_object(State)
    st.quiet = st.quiet or quiet


for _command in (
    adapters_command,
    languages_command,
    read_command,
    convert_command,
    classify_command,
    explain_command,
    audit_command,
    report_command,
    demo_command,
    sample_command,
    form_group,
):
    cli.add_command(_command)
