"""``outreach audit verify``: check the audit log's hash chain and name the first broken row.

Exit 0 when the chain is intact (the last id and head hash are printed: keep them somewhere
else, e.g. the operator's log, so a rewrite of the whole chain shows too); exit 1 with one line
naming the first broken row otherwise. The verdict is also written as JSON to
``<workspace>/data/reports/audit-verify/latest.json``.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer

from core.reports import write_report
from core.settings import load_settings
from outreach.cli.app import app
from outreach.cli.common import Workspace

audit_app = typer.Typer(
    name="audit",
    help="Check the audit log.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


@audit_app.command("verify")
def audit_verify(
    workspace: Workspace = None,
    quiet: Annotated[bool, typer.Option(help="Print nothing when intact.")] = False,
) -> int:
    """Verify the hash chain and the append-only triggers; exit 1 at the first broken row."""
    from serving.store import chain, db

    settings = load_settings(workspace)
    engine = db.make_engine(settings.service_db_url)
    try:
        db.upgrade(engine)
        with engine.connect() as conn:
            verdict = chain.verify(conn)
    finally:
        engine.dispose()
    write_report(settings.reports_dir, "audit-verify", dataclasses.asdict(verdict))
    if not (quiet and verdict.ok):
        typer.echo(verdict.line(), err=not verdict.ok)
    if not verdict.ok:
        raise typer.Exit(1)
    return 0


app.add_typer(audit_app)
