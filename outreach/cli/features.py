"""``outreach features``: month-end household vectors."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from core.errors import OutreachError
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
    from features import warehouse
    from features.vectors.build import (
        build_snapshot,
        delivery_ids,
        read_snapshot_metadata,
        snapshot_report,
        write_snapshot,
    )
    from features.vectors.catalogue import FEATURE_SET_VERSION
    from policies.parameters import load_parameters

    settings = settings_for(workspace)
    days = as_of_dates(as_of, start, end)
    if not settings.warehouse_path.exists():
        raise OutreachError(f"no warehouse at {settings.warehouse_path}; run `outreach ingest`")
    params = load_parameters(settings.params_dir)
    console = new_console()
    reports = []
    with warehouse.connect(settings.warehouse_path, read_only=True) as con:
        if warehouse.fetch_one(con, "SELECT count(*) FROM links")[0] == 0:
            raise OutreachError("the warehouse has no links yet; run `outreach link`")
        with progress_bar(console, "features") as bar:
            task = bar.add_task("snapshots", total=len(days))
            for day in days:
                bar.update(task, description=day.isoformat())
                table = build_snapshot(con, day, params)
                path = write_snapshot(table, settings.snapshots_dir, day, delivery_ids(con, day))
                meta = read_snapshot_metadata(path)
                rep = snapshot_report(table)
                reports.append(
                    {
                        "as_of": day.isoformat(),
                        "snapshot_id": meta["snapshot_id"],
                        "path": str(path),
                        "deliveries": len(meta["delivery_ids"]),
                        **rep,
                    }
                )
                bar.advance(task)
    report = {"feature_set_version": FEATURE_SET_VERSION, "snapshots": reports}
    out = write_report(settings.reports_dir, "features", report)
    table = Table(title=f"Household vectors (feature set {FEATURE_SET_VERSION})")
    for col in ("as of", "snapshot id", "households", "deliveries used", "low-confidence"):
        table.add_column(col, justify="left" if col in ("as of", "snapshot id") else "right")
    for r in reports:
        low = r["features"]["low_confidence_link"]["mean"] or 0.0
        table.add_row(r["as_of"], r["snapshot_id"], f"{r['households']:,}", str(r["deliveries"]),
                      f"{low:.1%}")  # fmt: skip
    console.print(table)
    console.print(f"snapshots: {settings.snapshots_dir}  report: {out}")
