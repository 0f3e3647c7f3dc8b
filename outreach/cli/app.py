"""The ``outreach`` Typer app that every command module registers its commands on."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="outreach",
    help="Outreach: find households sliding into hardship before they have to ask for help.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
