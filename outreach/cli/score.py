"""``outreach score``: scores, eligibility and visit lists into the service database.

Parses the flags into ``settings.scoring`` (only the flags given override ``outreach.toml``),
calls :func:`serving.batch.stage.run`, prints the run and writes its report
(``data/reports/score/latest.json``).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from core.errors import OutreachError
from core.reports import write_report
from core.settings import load_settings
from outreach.cli.app import app
from outreach.cli.common import Workspace, new_console, parse_day, progress_bar


@app.command()
def score(
    as_of: Annotated[str, typer.Option("--as-of", help="The snapshot date to score.")],
    level: Annotated[
        str | None,
        typer.Option(help="Jurisdiction of a visit list: township or village [default: township]."),
    ] = None,
    capacity_share: Annotated[
        float | None,
        typer.Option(help="List size as a share of the jurisdiction's households [default: 0.05]."),
    ] = None,
    capacity: Annotated[
        int | None, typer.Option(help="Fixed list size per jurisdiction (overrides the share).")
    ] = None,
    exploration: Annotated[
        float | None,
        typer.Option(help="Share of each list drawn at random (exploration) [default: 0.03]."),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed of the exploration draws [default: 0].")
    ] = None,
    chunk_rows: Annotated[
        int | None,
        typer.Option(help="Households per committed chunk (a killed run resumes after it)."),
    ] = None,
    ranking: Annotated[
        str | None,
        typer.Option(
            help="What orders the lists: model (the champion's priority) or rules (the "
            "early-warning rules' score, same population and sizes) [default: model]."
        ),
    ] = None,
    workspace: Workspace = None,
) -> None:
    """Score every household with the champion, match programs, prioritise and write visit
    lists to the service database (idempotent; resumable).

    List options not given come from ``[scoring]`` in ``<workspace>/outreach.toml``, else the
    defaults of :class:`core.settings.ScoringConfig`."""
    from serving.batch.priority import ListSpec
    from serving.batch.stage import ScoreOptions, run

    flags = {
        "level": level,
        "capacity_share": capacity_share,
        "capacity": capacity,
        "exploration_share": exploration,
        "seed": seed,
        "ranking": ranking,
    }
    given = {k: v for k, v in flags.items() if v is not None}
    day = parse_day(as_of, "--as-of")
    if chunk_rows is not None:
        if chunk_rows < 1:
            raise OutreachError("--chunk-rows must be at least 1")
        given["chunk_rows"] = chunk_rows
    try:
        ListSpec(**{k: v for k, v in given.items() if k != "chunk_rows"})  # the flags' own check
    except ValueError as exc:
        raise OutreachError(f"bad list option: {exc}") from None
    settings = load_settings(workspace, scoring=given)
    console = new_console()
    with progress_bar(console, "score") as bar:
        task = bar.add_task("score", total=None)
        result = run(settings, ScoreOptions(day), lambda msg: bar.update(task, description=msg))
    data = result.as_dict()
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
