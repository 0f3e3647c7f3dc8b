"""``outreach outcomes``: visit outcomes recorded by caseworkers, back into the pipeline.

A typer sub-app mounted by the composition root (``outreach/cli.py``)::

    app.add_typer(outcomes_app, name="outcomes")

User errors are raised as :class:`core.errors.OutreachError` and printed by ``outreach``'s
``main`` as one ``error:`` line with exit code 2.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from core.settings import Settings, load_settings
from outreach.cli_options import Workspace

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
    path = write_report(settings, report)
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


def write_report(settings: Settings, report: dict) -> Path:
    """Write the report as ``reports/outcomes-export/<UTC time>.json`` and ``latest.json``."""
    folder = settings.reports_dir / REPORT_STAGE
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, ensure_ascii=False, indent=2, default=str)
    path = folder / f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}.json"
    path.write_text(text, encoding="utf-8")
    (folder / "latest.json").write_text(text, encoding="utf-8")
    return path
