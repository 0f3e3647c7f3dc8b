"""``outreach month``: one month of operations (ingest, link, features, train, score)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from outreach.cli.app import app
from outreach.cli.common import Workspace, new_console, parse_day, settings_for


@app.command()
def month(
    as_of: Annotated[str, typer.Option("--as-of", help="The month end to run (YYYY-MM-DD).")],
    retrain: Annotated[
        bool, typer.Option("--retrain", help="Train and register a model before scoring.")
    ] = False,
    workspace: Workspace = None,
) -> None:
    """Run one month of operations: ingest new deliveries (exported visit outcomes too), link,
    build the month-end vectors, train when asked, score and build the visit lists."""
    from outreach.month import MonthOptions, run

    settings = settings_for(workspace)
    console = new_console()
    report = run(settings, MonthOptions(parse_day(as_of, "--as-of"), retrain), console.print)
    table = Table(title=f"Month {report.as_of.isoformat()}")
    table.add_column("stage")
    table.add_column("seconds", justify="right")
    for stage in report.stages:
        table.add_row(stage["stage"], f"{stage['seconds']:.1f}")
    console.print(table)
