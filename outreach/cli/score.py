"""``outreach score``: scores, eligibility and visit lists into the service database."""

from __future__ import annotations

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
    parse_day,
    progress_bar,
    settings_for,
)


@app.command()
def score(
    as_of: Annotated[str, typer.Option("--as-of", help="The snapshot date to score.")],
    level: Annotated[
        str, typer.Option(help="Jurisdiction of a visit list: township or village.")
    ] = "township",
    capacity_share: Annotated[
        float, typer.Option(help="List size as a share of the jurisdiction's households.")
    ] = 0.05,
    capacity: Annotated[
        int | None, typer.Option(help="Fixed list size per jurisdiction (overrides the share).")
    ] = None,
    exploration: Annotated[
        float, typer.Option(help="Share of each list drawn at random (exploration).")
    ] = 0.03,
    seed: Annotated[int, typer.Option(help="Seed of the exploration draws.")] = 0,
    chunk_rows: Annotated[
        int, typer.Option(help="Households per committed chunk (a killed run resumes after it).")
    ] = 50_000,
    workspace: Workspace = None,
) -> None:
    """Score every household with the champion, match programs, prioritise and write visit
    lists to the service database (idempotent; resumable)."""
    import pyarrow.parquet as pq

    from features import warehouse
    from features.pseudonym import load_pseudonymizer
    from features.vectors.build import snapshot_path
    from serving.batch.priority import ListSpec
    from serving.batch.report import report
    from serving.batch.scoring import score as run_score
    from training.pipeline import raw_dir_from_meta

    settings = settings_for(workspace)
    day = parse_day(as_of, "--as-of")
    if chunk_rows < 1:
        raise OutreachError("--chunk-rows must be at least 1")
    try:
        spec = ListSpec(level, capacity_share, capacity, exploration, seed)
    except ValueError as exc:
        raise OutreachError(f"bad list option: {exc}") from None
    console = new_console()
    with progress_bar(console, "score") as bar:
        task = bar.add_task("score", total=None)
        outcome = run_score(
            settings, day, spec, chunk_rows, lambda msg: bar.update(task, description=msg)
        )
    run = {
        "run_id": outcome.run_id, "as_of": day, "model_version": outcome.model_version,
        "snapshot_id": outcome.snapshot_id, "status": outcome.status,
        "households": outcome.n_households, "listed": outcome.n_listed,
        "exploration": outcome.n_exploration, "chunks": outcome.chunks,
        "corrections_applied": outcome.corrections_applied,
        "timings": outcome.timings, "lists": spec.as_dict(),
    }  # fmt: skip
    frame = raw_dir = pseudonymizer = None
    if outcome.scored is not None:
        frame = pq.read_table(snapshot_path(settings.snapshots_dir, day)).to_pandas()
        with warehouse.connect(settings.warehouse_path, read_only=True) as con:
            raw_dir = raw_dir_from_meta(con)
        pseudonymizer = load_pseudonymizer(settings.secret_path)
    data = report(outcome.scored, run, frame, raw_dir, pseudonymizer, level)
    out = write_report(settings.reports_dir, "score", data)
    _print_score(console, data)
    console.print(f"report: {out}")


def _print_score(console: Console, data: dict) -> None:
    run = data["run"]
    if run["status"] == "unchanged":
        console.print(
            f"run {run['run_id']} ({run['as_of']}, model {run['model_version']}) is already "
            "complete: nothing changed"
        )
        return
    console.print(
        f"run {run['run_id']}: {run['households']:,} households scored with model "
        f"{run['model_version']} ({run['status']}); {run['listed']:,} listed "
        f"({run['exploration']:,} exploration); {run.get('corrections_applied', 0)} "
        "caseworker correction(s) applied"
    )
    table = Table(title="Eligibility by program")
    for c in ("program", "likely", "verify", "not eligible", "receiving", "gap likely",
              "gap verify"):  # fmt: skip
        table.add_column(c, justify="left" if c == "program" else "right")
    for code, c in data.get("eligibility", {}).items():
        table.add_row(
            code, *(f"{c[k]:,}" for k in ("likely", "needs_verification", "not_eligible",
                                          "receiving", "gap_likely", "gap_verify"))
        )  # fmt: skip
    console.print(table)
    truth = data.get("truth")
    if truth:
        d = truth["eligibility"].get("dibao", {})
        for kind in ("likely", "likely_or_verify"):
            x = d.get(kind, {})
            console.print(
                f"dibao '{kind}' vs true eligibility: precision {x.get('precision') or 0:.3f}, "
                f"recall {x.get('recall') or 0:.3f} ({x.get('predicted', 0):,} predicted, "
                f"{x.get('true', 0):,} truly eligible)"
            )
        s = truth["silent_reached"]
        ratio = s["ratio_vs_rules"]
        console.print(
            f"silent households reached: lists {s['lists']:,} vs early-warning-rules lists "
            f"{s['rules_lists']:,} ({'n/a' if ratio is None else f'{ratio:.2f}x'}) of "
            f"{truth['silent_households']:,} silent households"
        )
