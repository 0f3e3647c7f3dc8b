"""``outreach evaluate``: the rolling-origin evaluation of the model and of the lists it makes."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from core.errors import ConfigError
from core.reports import write_report
from outreach.cli.app import app
from outreach.cli.common import Workspace, new_console, progress_bar, settings_for


@app.command()
def evaluate(
    months: Annotated[int, typer.Option(help="Test months of the rolling origin (>= 6).")] = 6,
    n_boot: Annotated[
        int, typer.Option("--n-boot", help="Bootstrap resamples of every interval (>= 20).")
    ] = 200,
    workspace: Workspace = None,
) -> None:
    """Evaluate over several test months: the model against its baselines (paired intervals),
    calibration in the list region, fairness decomposed, and the lists a county would get against
    rules lists under the same conditions (simulated data only; the truth is read by evaluation
    alone). Writes data/reports/evaluate/latest.json."""
    from serving.batch.stage import EVALUATE, EvaluationOptions, run_evaluation
    from training.backtest import frame_of

    if months < 6:
        raise ConfigError("--months must be at least 6 (one test month is not an evaluation)")
    if n_boot < 20:
        raise ConfigError("--n-boot must be at least 20")
    settings = settings_for(workspace)
    console = new_console()
    with progress_bar(console, "evaluate") as bar:
        task = bar.add_task("origins", total=None)
        report = run_evaluation(
            settings,
            EvaluationOptions(months=months, n_boot=n_boot),
            lambda msg: bar.update(task, description=msg),
        )
    data = report.as_dict()
    path = write_report(settings.reports_dir, EVALUATE, data)
    models = data["models"]
    table = Table(title=f"Test months {', '.join(models['months'])} ({models['n_boot']} resamples)")
    for col in ("figure", "value", "95 % interval"):
        table.add_column(col, justify="left" if col == "figure" else "right")
    for row in frame_of(models).itertuples(index=False):
        table.add_row(str(row.figure), f"{row.value:.4g}", f"[{row.low:.4g}, {row.high:.4g}]")
    console.print(table)
    console.print(f"report: {path}")
