"""Typer options shared by every command module (``outreach/cli.py``, ``serving/*_cli.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
