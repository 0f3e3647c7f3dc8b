"""``outreach simulate`` and ``outreach contracts``: the simulated county and its data contract.

``simulate`` parses its flags and calls :func:`simulator.stage.run`; the world's manifest
(``<out>/manifest.json``) is its report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from outreach.cli.app import app
from outreach.cli.common import (
    Workspace,
    new_console,
    progress_bar,
    settings_for,
)


@app.command()
def simulate(
    households: Annotated[int, typer.Option(help="Households at the start.")] = 20_000,
    months: Annotated[int, typer.Option(help="Months to deliver, from 2023-01.")] = 36,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    out: Annotated[
        Path | None,
        typer.Option(help="Output folder (default: <workspace>/data/raw)."),
    ] = None,
    rate: Annotated[
        list[str] | None,
        typer.Option(
            "--rate",
            help="Defect-rate override AGENCY.DEFECT=VALUE (AGENCY may be '*'); repeatable.",
        ),
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing simulation in --out.")] = False,
    defects: Annotated[
        str,
        typer.Option(
            help="Defect profile: 'default' (the frozen reference world) or 'hard' (adds "
            "homophone and look-alike names, missing, swapped and 1st-of-month birth dates, "
            "transposed ID digits, stale villages; see docs/simulator.md).",
        ),
    ] = "default",
    workspace: Workspace = None,
) -> None:
    """Simulate a county observed by its agencies: monthly deliveries plus the ground truth."""
    from simulator.stage import SimulateOptions, run

    settings = settings_for(workspace)
    options = SimulateOptions(households, months, seed, tuple(rate or ()), out, force, defects)
    console = new_console()
    with progress_bar(console, "simulate") as bar:
        task = bar.add_task("months (incl. burn-in)", total=None)

        def progress(_: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        report = run(settings, options, progress)
    if report.reused:
        console.print(f"{report.out} already holds this simulation; nothing to do.")
    _print_summary(console, report.manifest, report.out)


def _print_summary(console: Console, manifest: dict, out: Path) -> None:
    s = manifest["summary"]
    c = manifest["config"]
    table = Table(title=f"Simulated county {c['county_code']} (seed {c['seed']})")
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = [
        ("households at start", f"{c['households']:,}"),
        ("households ever", f"{manifest['counts']['households_ever']:,}"),
        ("persons ever", f"{manifest['counts']['persons_ever']:,}"),
        ("months delivered", f"{s['months']} from {c['start_month']}"),
        ("hardship share of household-months", f"{s['hardship_share']:.2%}"),
        ("onset share of household-months", f"{s['onset_share']:.2%}"),
        ("silent share of hardship months", f"{s['silent_share_of_hardship']:.1%}"),
        ("enrolled (dibao or tekun)", f"{s['enrolled_share']:.2%}"),
        (
            "mean p_onset_6m",
            "n/a" if s["mean_p_onset_6m"] is None else f"{s['mean_p_onset_6m']:.3f}",
        ),
    ]
    for agency, n in manifest["counts"]["records_by_agency"].items():
        rows.append((f"records: {agency}", f"{n:,}"))
    for k, v in rows:
        table.add_row(k, v)
    console.print(table)
    console.print(f"written to {out} (manifest: {out / 'manifest.json'})")


@app.command()
def contracts(
    check: Annotated[
        bool, typer.Option(help="Fail if the file differs from the code instead of writing it.")
    ] = False,
    path: Annotated[Path, typer.Option(help="Where the Markdown goes.")] = Path(
        "docs/data-contracts.md"
    ),
    workspace: Workspace = None,
) -> None:
    """Render the agency data contracts to Markdown (docs/data-contracts.md)."""
    from core.contracts import render_markdown
    from core.errors import DataContractError

    text = render_markdown() + "\n"
    if check:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            raise DataContractError(f"{path} is out of date; run `outreach contracts`")
        typer.echo(f"{path} is up to date")
        return
    path.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {path}")
