"""``outreach promote|rollback|models``: the model registry's champion."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from core.errors import OutreachError
from outreach.cli.app import app
from outreach.cli.common import Workspace, new_console, settings_for


@app.command()
def promote(
    version: Annotated[str, typer.Argument(help="The model version to make champion.")],
    workspace: Workspace = None,
) -> None:
    """Point the `champion` alias at a model version (the previous one can be rolled back to)."""
    from training.model_registry import Store
    from training.model_registry import promote as run_promote

    settings = settings_for(workspace)
    if not version.isdigit():
        raise OutreachError(f"version must be a number, not '{version}'")
    previous = run_promote(Store.for_settings(settings), version)
    typer.echo(f"champion: version {version} (was {previous or 'none'})")


@app.command()
def rollback(workspace: Workspace = None) -> None:
    """Move the `champion` alias back to the version it named before."""
    from training.model_registry import Store
    from training.model_registry import rollback as run_rollback

    settings = settings_for(workspace)
    current, target = run_rollback(Store.for_settings(settings))
    typer.echo(f"champion: version {target} (was {current})")


@app.command()
def models(workspace: Workspace = None) -> None:
    """List the registered model versions with their aliases and validation scores."""
    from training.model_registry import Store, versions

    settings = settings_for(workspace)
    table = Table(title="Registered models (outreach-hardship)")
    for col in ("version", "aliases", "validation score", "run"):
        table.add_column(col)
    for v in versions(Store.for_settings(settings)):
        score = "" if v["valid_score"] is None else f"{v['valid_score']:.4f}"
        table.add_row(v["version"], ", ".join(v["aliases"]), score, v["run_id"][:12])
    new_console().print(table)
