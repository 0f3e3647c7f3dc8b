"""``outreach features``: month-end household vectors."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from core.reports import write_report
from outreach.cli.app import app
from outreach.cli.common import (
    Workspace,
    as_of_dates,
    new_console,
    progress_bar,
    settings_for,
)


@app.command()
def features(
    as_of: Annotated[
        list[str] | None, typer.Option("--as-of", help="Snapshot date YYYY-MM-DD; repeatable.")
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="First monthly snapshot date (with --to).")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last monthly snapshot date.")] = None,
    workspace: Workspace = None,
) -> None:
    """Build point-in-time household vectors, one Parquet snapshot per as-of date."""
    from features.vectors.stage import FeaturesOptions, run

    settings = settings_for(workspace)
    days = as_of_dates(as_of, start, end)
    console = new_console()
    bar = progress_bar(console, "features")
    task = bar.add_task("snapshots", total=len(days))

    def advance(day, done: int, _total: int) -> None:
        bar.start()  # on the first snapshot: an input error prints no bar
        bar.update(task, description=day.isoformat(), completed=done)

    try:
        report = run(settings, FeaturesOptions(days), advance)
        bar.update(task, completed=len(days))
    finally:
        bar.stop()
    data = report.as_dict()
    out = write_report(settings.reports_dir, "features", data)
    version = data["feature_set_version"]
    table = Table(title=f"Household vectors (feature set {version})")
    for col in ("as of", "snapshot id", "households", "deliveries used", "low-confidence"):
        table.add_column(col, justify="left" if col in ("as of", "snapshot id") else "right")
    for r in data["snapshots"]:
        low = r["features"]["low_confidence_link"]["mean"] or 0.0
        table.add_row(r["as_of"], r["snapshot_id"], f"{r['households']:,}", str(r["deliveries"]),
                      f"{low:.1%}")  # fmt: skip
    console.print(table)
    console.print(f"snapshots: {settings.snapshots_dir}  report: {out}")
