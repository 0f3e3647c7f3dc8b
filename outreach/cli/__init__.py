"""The ``outreach`` command line: one module per command group, each calling its stage.

Every command takes ``--workspace``; user errors print one line on stderr and exit non-zero.
Importing this package registers every command on :data:`app`; :func:`main` runs it.
"""

from __future__ import annotations

import sys

import typer

from core.errors import OutreachError
from core.files import restrict_new_files
from outreach.cli import (
    audit,
    evaluate,
    features,
    ingest,
    keys,
    link,
    models,
    month,
    outcomes,
    privacy,
    score,
    serve,
    train,
    twin,
    world,
)
from outreach.cli.app import app

__all__ = ["app", "main"]
_COMMAND_MODULES = (world, ingest, link, features, train, models, score, outcomes, serve, audit)
_COMMAND_MODULES += (evaluate, month, twin, privacy, keys)
_HELP_ORDER = ("simulate", "contracts", "ingest", "link", "features", "train", "drift")
_HELP_ORDER += ("models", "promote", "rollback", "score", "evaluate", "month", "serve", "demo")


def _command_name(info: typer.models.CommandInfo) -> str:
    return info.name or info.callback.__name__


# `outreach --help` lists the commands in pipeline order, whatever order the modules load in
app.registered_commands.sort(
    key=lambda c: _HELP_ORDER.index(_command_name(c)) if _command_name(c) in _HELP_ORDER else 99
)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning user errors into one line and a non-zero exit.

    Everything the command creates is owner-only (personal data at rest; :mod:`core.files`).
    """
    restrict_new_files()
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
