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
    from features import warehouse
    from features.ingest import ingest as run_ingest
    from features.ingest import summarize
    from features.pseudonym import load_pseudonymizer

    settings = settings_for(workspace)
    source = raw if raw is not None else settings.raw_dir
    keys = load_pseudonymizer(settings.secret_path)
    console = new_console()
    with warehouse.connect(settings.warehouse_path) as con, progress_bar(console, "ingest") as bar:
        task = bar.add_task("deliveries", total=None)
        results = run_ingest(
            con, source, keys, encoding,
            progress=lambda done, total, agency: bar.update(
                task, completed=done, total=total, description=agency
            ),
        )  # fmt: skip
    report = summarize(results)
    path = write_report(settings.reports_dir, "ingest", report)
    _print_ingest(console, report)
    for line in report["rejected"]:
        print(f"rejected: {line}", file=sys.stderr)
    console.print(f"report: {path}")
    if not report["reconciles"]:
        raise OutreachError("the reconciliation failed: received != accepted + quarantined")
    if report["rejected"]:
        raise OutreachError(f"{len(report['rejected'])} deliveries rejected (see above)")


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
