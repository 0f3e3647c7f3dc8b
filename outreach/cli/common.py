"""Helpers shared by the command modules: settings, console, progress bars, dates."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from core.settings import Settings, load_settings


def settings_for(workspace: Path | None) -> Settings:
    return load_settings(workspace)


def model_store(settings: Settings):
    """The workspace's MLflow store (tracking and registry)."""
    from training.model_registry import Store

    return Store.for_settings(settings)


def new_console() -> Console:
    return Console(stderr=False)


def progress_bar(console: Console, label: str) -> Progress:
    return Progress(
        TextColumn(f"[bold]{label}[/bold] {{task.description}}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,
    )


def parse_day(text: str, flag: str):
    from datetime import date

    from core.errors import ConfigError

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{flag} '{text}' is not a date YYYY-MM-DD") from None


def as_of_dates(as_of: list[str] | None, start: str | None, end: str | None) -> list:
    """The snapshot dates: every ``--as-of``, plus monthly dates from ``--from`` to ``--to``
    (the same day each month; month ends when ``--from`` is a month end)."""
    from core.errors import ConfigError
    from core.months import monthly_dates

    days = {parse_day(a, "--as-of") for a in as_of or []}
    if (start is None) != (end is None):
        raise ConfigError("--from and --to go together")
    if start is not None:
        first, last = parse_day(start, "--from"), parse_day(end, "--to")
        if last < first:
            raise ConfigError("--to is before --from")
        days.update(monthly_dates(first, last))
    if not days:
        raise ConfigError("give --as-of DATE (repeatable) or --from DATE --to DATE")
    return sorted(days)


Workspace = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        help="Folder holding all generated state (default: $OUTREACH_WORKSPACE, else the "
        "current folder).",
        file_okay=False,
    ),
]
"""``--workspace``: the folder holding all generated state."""
