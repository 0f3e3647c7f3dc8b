"""``outreach outcomes``: visit outcomes recorded by caseworkers, back into the pipeline.

User errors are raised as :class:`core.errors.OutreachError` and printed by ``outreach``'s
``main`` as one ``error:`` line with exit code 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from core.reports import write_report
from core.settings import load_settings
from outreach.cli.app import app
from outreach.cli.common import Workspace

outcomes_app = typer.Typer(
    help="Visit outcomes recorded by caseworkers: export them as a visits delivery for ingest.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

REPORT_STAGE = "outcomes-export"


@outcomes_app.callback()
def _group() -> None:
    """Visit outcomes recorded by caseworkers: export them as a visits delivery for ingest."""


@outcomes_app.command("export")
def export(
    month: Annotated[
        str | None,
        typer.Option(
            "--month",
            help="Month of recording to export, YYYY-MM (default: every month that is over).",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Raw folder to write agencies/visits/<YYYY-MM>-outreach.parquet into "
            "(default: <workspace>/data/raw, where `outreach ingest` reads).",
            file_okay=False,
        ),
    ] = None,
    workspace: Workspace = None,
) -> None:
    """Write recorded visit outcomes as a visits delivery that `outreach ingest` reads."""
    from serving.feedback.export import export_outcomes

    settings = load_settings(workspace)
    result = export_outcomes(settings, month, out)
    report = result.as_dict()
    path = write_report(settings.reports_dir, REPORT_STAGE, report)
    console = Console()
    _print(console, report)
    by_reason = report["unexported_by_reason"]
    if by_reason:
        counts = ", ".join(f"{k} {v}" for k, v in by_reason.items())
        print(
            f"not exported: {len(result.unexported)} outcomes ({counts}); ids in the report",
            file=sys.stderr,
        )
    console.print(f"report: {path}")
    if result.rows_exported == 0:
        from core.errors import OutreachError

        raise OutreachError(f"no outcome could be exported ({len(result.unexported)} left out)")


def _print(console: Console, report: dict) -> None:
    table = Table(title="Visit outcomes exported as visits deliveries")
    for col in ("month", "delivery", "rows", "status"):
        table.add_column(col, justify="right" if col == "rows" else "left")
    for d in report["deliveries"]:
        table.add_row(d["month"], d["delivery_id"], f"{d['rows']:,}", d["status"])
    console.print(table)
    if report["unexported_by_reason"]:
        left = Table(title="Outcomes not exported, by reason")
        left.add_column("reason")
        left.add_column("outcomes", justify="right")
        left.add_column("meaning")
        for k, v in report["unexported_by_reason"].items():
            left.add_row(k, f"{v:,}", report["reason_codes"][k])
        console.print(left)


app.add_typer(outcomes_app, name="outcomes")
