"""``outreach keys rotate``: rotate the session signing key (:mod:`serving.privacy.keys`)."""

from __future__ import annotations

from typing import Annotated

import typer

from core.settings import load_settings
from outreach.cli.app import app
from outreach.cli.common import Workspace

keys_app = typer.Typer(
    name="keys",
    help="Rotate the workspace's keys.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


@keys_app.command("rotate")
def keys_rotate(
    kind: Annotated[
        str,
        typer.Option(
            help="session: a new session signing key (every open session ends). hmac: refused "
            "with the reason; its rotation is a procedure (docs/privacy.md)."
        ),
    ],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    workspace: Workspace = None,
) -> None:
    """Replace a key; for the session key every open session is ended, audited."""
    from serving.privacy import keys

    settings = load_settings(workspace)
    if kind == "session" and not yes:
        n = keys.open_sessions(settings)
        typer.confirm(f"{n} open session(s) will end; rotate the session key?", abort=True)
    typer.echo(keys.rotate(settings, kind).line())


app.add_typer(keys_app)
