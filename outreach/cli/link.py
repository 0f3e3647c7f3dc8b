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
        list[Path] | None,
        typer.Option(
            help="Deduplicate this person table (CSV or Parquet) instead of the warehouse; "
            "given twice: link the two tables (pairs across them only)."
        ),
    ] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="With --table: name=COL (or given=COL,family=COL),birth_date=COL,sex=COL,"
            "address=COL,id=COL,other=COL... (any subset; other= repeats). Once for every "
            "table, or once per --table.",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="With --table: the output file (.csv or .parquet).")
    ] = None,
    encoding: Annotated[str, typer.Option(help="With a CSV --table: auto, utf-8 or gbk.")] = "auto",
    labels: Annotated[
        Path | None,
        typer.Option(
            help="With --table: labels (CSV/XLSX: record_l,record_r,match or record,cluster) to "
            "train m from and to measure precision, recall and F1 against."
        ),
    ] = None,
    review: Annotated[
        int,
        typer.Option(
            help="With --table: write the N most uncertain pairs side by side for clerical "
            "review, into <workspace>/data/reports/review/ (owner-only, audited, purged after "
            "[retention] personal_files_days); mark 'match' and feed back with --labels."
        ),
    ] = 0,
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
    from serving.privacy.file_audit import recorder

    settings = settings_for(workspace)
    console = new_console()
    if table or map_ or out is not None or labels is not None or review:
        options = TableOptions(
            tables=tuple(table or ()),
            maps=tuple(map_ or ()),
            out=out,
            encoding=encoding,
            labels=labels,
            review=review,
        )
        with progress_bar(console, "link") as bar:
            task = bar.add_task("", total=None)
            result = run_table(
                settings,
                options,
                progress=lambda msg: bar.update(task, description=msg),
                audit=recorder(settings),
            )
        _print_table(console, result.input, result.notes)
        path = write_report(settings.reports_dir, "link-table", result.as_dict())
        console.print(f"wrote {result.output} (report: {path})")
        if "review_file" in result.notes:
            console.print(
                f"review ({result.notes['review_pairs']} pairs, owner-only, audited): "
                f"{result.notes['review_file']}"
            )
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


def _print_table(console: Console, name: str, notes: dict) -> None:
    out = Table(title=f"Linked {name}")
    out.add_column("figure")
    out.add_column("value", justify="right")
    shown = ("job", "rows", "rows_without_usable_field", "clusters", "m_estimated_by",
             "records_in_multi_record_clusters", "prior_match_probability")  # fmt: skip
    for k in shown:
        if k in notes:
            out.add_row(k, str(notes[k]))
    q = notes.get("estimated_quality", {})
    for k in ("scored_pairs", "accepted_pairs", "share_near_threshold", "expected_precision",
              "expected_recall"):  # fmt: skip
        if k in q:
            v = q[k]
            out.add_row(f"estimated: {k}", f"{v:.4f}" if isinstance(v, float) else f"{v:,}")
    m = notes.get("measured_on_labels")
    if m:
        for k in ("precision", "recall", "f1"):
            lo, hi = m[f"{k}_95"]
            out.add_row(f"on labels: {k}", f"{m[k]:.4f} [{lo:.4f}, {hi:.4f}]")
    console.print(out)
    rules = Table(title="Blocking rules")
    for c in ("rule", "records keyed", "beyond cap", "candidate pairs", "max per record"):
        rules.add_column(c, justify="right" if c != "rule" else "left")
    for s in notes.get("blocking_rules", []):
        rules.add_row(s["rule"], f"{s['records_keyed']:,}", f"{s['records_beyond_cap']:,}",
                      f"{s['candidate_pairs']:,}", str(s["max_candidates_per_record"]))  # fmt: skip
    console.print(rules)


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
