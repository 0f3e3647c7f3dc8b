"""``outreach subject-report`` (a person's access request, PIPL Arts. 24 and 45) and ``outreach
purge`` (the retention periods).

The ID number is read from a prompt that does not echo (never an argument: it would stay in
the shell's history and the process list), hashed in this process and forgotten; see
:mod:`serving.privacy.subject_report` for what the report holds.
"""

from __future__ import annotations

from typing import Annotated

import typer

from core.settings import load_settings
from outreach.cli.app import app
from outreach.cli.common import Workspace


def subject_report(
    requested_by: Annotated[
        str,
        typer.Option(
            help="The id of the supervisor's or auditor's token the report is written for "
            "(outreach token list); the audit rows name it."
        ),
    ],
    workspace: Workspace = None,
) -> None:
    """Write what the system holds about a person and their household (owner-only JSON),
    asking for the person's ID number at a prompt; audited."""
    from serving.privacy.subject_report import write_report

    settings = load_settings(workspace)
    id_number = typer.prompt("ID number (not shown)", hide_input=True, err=True)
    result = write_report(settings, id_number, requested_by)
    del id_number
    held = f"{result.records} records, {len(result.households)} households"
    typer.echo(f"{held}; report (owner-only): {result.path}")
    typer.echo(f"audited: {result.audit_rows} row(s), resource subject_report")


app.command("subject-report")(subject_report)


def purge(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be removed; change nothing.")
    ] = False,
    workspace: Workspace = None,
) -> None:
    """Remove what is past its retention period ([retention] in outreach.toml, docs/privacy.md);
    one audit row records it and the audit chain stays verifiable."""
    from serving.privacy.purge import purge as run_purge

    report = run_purge(load_settings(workspace), dry_run=dry_run)
    for line in report.lines():
        typer.echo(line)


app.command("purge")(purge)
