"""``outreach ingest``: agency deliveries into the warehouse."""

from __future__ import annotations

import sys
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
def ingest(
    raw: Annotated[
        Path | None,
        typer.Option(
            help="Folder holding agencies/<agency>/<YYYY-MM>.parquet|csv "
            "(default: <workspace>/data/raw)."
        ),
    ] = None,
    encoding: Annotated[
        str, typer.Option(help="Encoding of CSV deliveries: auto (UTF-8, else GBK), utf-8 or gbk.")
    ] = "auto",
    workspace: Workspace = None,
) -> None:
    """Validate agency deliveries into the warehouse: quarantine bad rows, reconcile every file."""
    from features.ingest.stage import IngestOptions, run

    settings = settings_for(workspace)
    console = new_console()
    with progress_bar(console, "ingest") as bar:
        task = bar.add_task("deliveries", total=None)
        report = run(
            settings,
            IngestOptions(raw=raw, encoding=encoding),
            progress=lambda done, total, agency: bar.update(
                task, completed=done, total=total, description=agency
            ),
        )
    data = report.as_dict()
    path = write_report(settings.reports_dir, "ingest", data)
    _print_ingest(console, data)
    for line in report.rejected:
        print(f"rejected: {line}", file=sys.stderr)
    console.print(f"report: {path}")
    if report.failure is not None:
        raise OutreachError(report.failure)


def _print_ingest(console: Console, report: dict) -> None:
    table = Table(title="Reconciliation: rows received = accepted + quarantined")
    for col in ("agency", "files", "new", "unchanged", "rejected", "received", "accepted",
                "quarantined"):  # fmt: skip
        table.add_column(col, justify="left" if col == "agency" else "right")
    for agency, a in report["by_agency"].items():
        table.add_row(
            agency, str(a["deliveries"]), str(a["accepted"]), str(a["unchanged"]),
            str(a["rejected"]), f"{a['rows_received']:,}", f"{a['rows_accepted']:,}",
            f"{a['rows_quarantined']:,}",
        )  # fmt: skip
    console.print(table)
    if report["quarantine_by_reason"]:
        reasons = Table(title="Quarantined rows by reason")
        reasons.add_column("reason")
        reasons.add_column("rows", justify="right")
        reasons.add_column("meaning")
        for k, v in report["quarantine_by_reason"].items():
            reasons.add_row(k, f"{v:,}", report["reason_codes"][k])
        console.print(reasons)
