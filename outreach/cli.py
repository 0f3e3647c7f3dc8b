"""The ``outreach`` command line: one sub-command per pipeline stage.

Every command takes ``--workspace``; user errors print one line on stderr and exit non-zero.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from features.errors import OutreachError
from outreach.settings import Settings, load_settings

app = typer.Typer(
    name="outreach",
    help="Outreach: find households sliding into hardship before they have to ask for help.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

Workspace = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        help="Folder holding all generated state (default: $OUTREACH_WORKSPACE, else the "
        "current folder).",
        file_okay=False,
    ),
]


def _settings(workspace: Path | None) -> Settings:
    return load_settings(workspace)


def _console() -> Console:
    return Console(stderr=False)


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
    workspace: Workspace = None,
) -> None:
    """Simulate a county observed by its agencies: monthly deliveries plus the ground truth."""
    from features.params import load_parameters
    from features.simulator.config import build_config
    from features.simulator.engine import simulate as run_simulation

    settings = _settings(workspace)
    config = build_config(households, months, seed, rate)
    params = load_parameters(settings.params_dir)
    target = out if out is not None else settings.raw_dir
    console = _console()
    with Progress(
        TextColumn("[bold]simulate[/bold] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task("months (incl. burn-in)", total=None)

        def progress(_: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = run_simulation(config, params, target, force=force, progress=progress)
    if result.reused:
        console.print(f"{result.out} already holds this simulation; nothing to do.")
    _print_summary(console, result.manifest, result.out)


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
    from features.contracts import render_markdown
    from features.errors import DataContractError

    text = render_markdown() + "\n"
    if check:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            raise DataContractError(f"{path} is out of date; run `outreach contracts`")
        typer.echo(f"{path} is up to date")
        return
    path.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning user errors into one line and a non-zero exit."""
    try:
        result = app(args=argv, standalone_mode=False, prog_name="outreach")
    except typer.TyperException as exc:  # bad flags and values (click's UsageError family)
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx else ""
        print(f"error: {' '.join(message.split())}{hint}", file=sys.stderr)
        return int(getattr(exc, "exit_code", 2) or 2)
    except typer.Abort:
        print("error: aborted", file=sys.stderr)
        return 130
    except OutreachError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
