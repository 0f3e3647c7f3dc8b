"""``outreach link``: records to persons and households (the warehouse or a ``--table``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from core.reports import write_report
from outreach.cli.app import app
from outreach.cli.common import (
    Workspace,
    new_console,
    progress_bar,
    settings_for,
)


@app.command()
def link(
    table: Annotated[
        Path | None,
        typer.Option(help="Link this person table (CSV or Parquet) instead of the warehouse."),
    ] = None,
    map_: Annotated[
        str | None,
        typer.Option(
            "--map",
            help="With --table: name=COL,birth_date=COL,sex=COL,address=COL[,id=COL] (any subset).",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="With --table: the output file (.csv or .parquet).")
    ] = None,
    encoding: Annotated[str, typer.Option(help="With a CSV --table: auto, utf-8 or gbk.")] = "auto",
    retrain: Annotated[
        bool, typer.Option(help="Learn the match model again instead of reusing the saved one.")
    ] = False,
    truth: Annotated[
        Path | None,
        typer.Option(
            help="Simulator truth to measure against (default: <raw>/truth of the last ingest, "
            "when present)."
        ),
    ] = None,
    workspace: Workspace = None,
) -> None:
    """Resolve records to persons and persons to households (or deduplicate any person table)."""
    from features.linkage.stage import LinkOptions, TableOptions, run, run_table

    settings = settings_for(workspace)
    console = new_console()
    if table is not None or map_ is not None or out is not None:
        options = TableOptions(table=table, map=map_, out=out, encoding=encoding)
        with progress_bar(console, "link") as bar:
            task = bar.add_task("", total=None)
            result = run_table(
                settings, options, progress=lambda msg: bar.update(task, description=msg)
            )
        _print_table(console, table, result.notes)
        path = write_report(settings.reports_dir, "link-table", result.as_dict())
        console.print(f"wrote {result.output} (report: {path})")
        return
    with progress_bar(console, "link") as bar:
        task = bar.add_task("", total=None)
        report = run(
            settings,
            LinkOptions(retrain=retrain, truth=truth),
            progress=lambda msg: bar.update(task, description=msg),
        )
    data = report.as_dict()
    path = write_report(settings.reports_dir, "link", data)
    _print_link(console, data)
    console.print(f"report: {path}")


def _print_table(console: Console, table: Path, notes: dict) -> None:
    out = Table(title=f"Linked {table.name}")
    out.add_column("figure")
    out.add_column("value", justify="right")
    for k, v in notes.items():
        out.add_row(k, str(v))
    console.print(out)


def _print_link(console: Console, data: dict) -> None:
    table = Table(title="Linkage: records by agency and method")
    methods = ("id", "probabilistic", "singleton")
    table.add_column("agency")
    for m in methods:
        table.add_column(m, justify="right")
    for agency, counts in data["by_agency_method"].items():
        table.add_row(agency, *(f"{counts.get(m, 0):,}" for m in methods))
    console.print(table)
    summary = Table(title="Persons and households")
    summary.add_column("figure")
    summary.add_column("value", justify="right")
    for m, n in data["persons_by_method"].items():
        summary.add_row(f"persons ({m})", f"{n:,}")
    summary.add_row(
        f"links below {data['low_confidence_below']}", f"{data['low_confidence_links']:,}"
    )
    summary.add_row("households", f"{data['households']:,}")
    summary.add_row("households resting on a low-confidence link",
                    f"{data['households_low_confidence']:,}")  # fmt: skip
    q = data.get("quality")
    if q:
        for part in ("overall", "without_usable_id"):
            summary.add_row(f"pairwise precision ({part})", f"{q[part]['precision']:.4f}")
            summary.add_row(f"pairwise recall ({part})", f"{q[part]['recall']:.4f}")
    console.print(summary)
