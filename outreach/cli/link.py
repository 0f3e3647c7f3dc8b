"""``outreach link``: records to persons and households (the warehouse or a ``--table``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from core.errors import OutreachError
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
    from features.pseudonym import load_pseudonymizer

    settings = settings_for(workspace)
    keys = load_pseudonymizer(settings.secret_path)
    console = new_console()
    if table is not None or map_ is not None or out is not None:
        _link_table(console, settings, keys, table, map_, out, encoding)
        return
    from features import warehouse
    from features.linkage import link as run_link

    if not settings.warehouse_path.exists():
        raise OutreachError(f"no warehouse at {settings.warehouse_path}; run `outreach ingest`")
    if truth is not None and not (truth / "records").is_dir():
        raise OutreachError(f"--truth {truth} has no records/ folder")
    with warehouse.connect(settings.warehouse_path) as con, progress_bar(console, "link") as bar:
        if truth is None:
            row = warehouse.fetch_one(con, "SELECT value FROM meta WHERE key = 'raw_dir'")
            truth = Path(row[0]) / "truth" if row else None
        task = bar.add_task("", total=None)
        report = run_link(
            con,
            keys,
            settings.data_dir / "linkage" / "model.json",
            retrain=retrain,
            truth_dir=truth if truth is not None and truth.is_dir() else None,
            progress=lambda msg: bar.update(task, description=msg),
        )
    data = report.as_dict()
    path = write_report(settings.reports_dir, "link", data)
    _print_link(console, data)
    console.print(f"report: {path}")


def _link_table(console, settings, keys, table, map_, out, encoding) -> None:
    from core.errors import ConfigError
    from features.ingest import read_table
    from features.linkage import link_table, parse_map

    if table is None or map_ is None or out is None:
        raise ConfigError("--table, --map and --out go together")
    if out.suffix not in (".csv", ".parquet"):
        raise ConfigError("--out must end in .csv or .parquet")
    if out.resolve() == table.resolve():
        raise ConfigError("--out must differ from --table (the input is never changed)")
    frame = read_table(table, encoding)
    mapping = parse_map(map_, list(frame.columns))
    with progress_bar(console, "link") as bar:
        bar.add_task(f"{len(frame):,} rows", total=None)
        result, notes = link_table(frame, mapping, keys)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".csv":
        result.to_csv(out, index=False, encoding="utf-8")
    else:
        result.to_parquet(out, index=False)
    table_ = Table(title=f"Linked {table.name}")
    table_.add_column("figure")
    table_.add_column("value", justify="right")
    for k, v in notes.items():
        table_.add_row(k, str(v))
    console.print(table_)
    path = write_report(
        settings.reports_dir, "link-table", {"input": table.name, "output": str(out), **notes}
    )
    console.print(f"wrote {out} (report: {path})")


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
