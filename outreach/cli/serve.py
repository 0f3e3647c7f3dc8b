"""CLI commands of the service: ``outreach serve`` and ``outreach token create|list|revoke``.

Also ``outreach demo``, which runs every stage and then serves.
Errors are :class:`~core.errors.OutreachError` (one ``error:`` line, exit 2).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from core.errors import ConfigError
from core.settings import load_settings
from outreach.cli.app import app
from outreach.cli.common import Workspace
from serving.runtime import tuning

token_app = typer.Typer(
    name="token",
    help="Issue, list and revoke API tokens (stored hashed; shown once).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


def _engine(workspace: Path | None):
    from serving.store import db

    settings = load_settings(workspace)
    db.upgrade(settings.service_db_url)
    return db.make_engine(settings.service_db_url)


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option(help="caseworker, supervisor, auditor or data_scientist.")],
    holder: Annotated[
        str,
        typer.Option(
            help="The person the token is issued to (a name or post, shown to auditors in the "
            "audit log; no ID or phone numbers)."
        ),
    ],
    jurisdiction: Annotated[
        str | None,
        typer.Option(
            help="Caseworker: 9-digit township or 12-digit village code (required). "
            "Supervisor: 6-digit county code (optional). Others: none."
        ),
    ] = None,
    days: Annotated[int, typer.Option(help="Days until the token expires (1-366).")] = 90,
    workspace: Workspace = None,
) -> None:
    """Create a token and print it (only the token; it cannot be shown again)."""
    from serving.runtime import auth

    auth.check_scope(role, jurisdiction)
    auth.check_holder(holder)
    engine = _engine(workspace)
    try:
        with engine.begin() as conn:
            token, _ = auth.create_token(conn, role, jurisdiction, days, holder=holder)
    finally:
        engine.dispose()
    typer.echo(token)


@token_app.command("list")
def token_list(workspace: Workspace = None) -> None:
    """List tokens: id, holder, role, jurisdiction, created, expires, revoked (never the token)."""
    from serving.runtime import auth

    engine = _engine(workspace)
    try:
        with engine.connect() as conn:
            rows = auth.list_tokens(conn)
    finally:
        engine.dispose()
    typer.echo("id\tholder\trole\tjurisdiction\tcreated_at\texpires_at\trevoked_at")
    for r in rows:
        revoked = r["revoked_at"].isoformat() if r["revoked_at"] else "-"
        created, expires = r["created_at"].isoformat(), r["expires_at"].isoformat()
        cells = [r["id"], r.get("holder") or "-", r["role"], r["jurisdiction_code"] or "-",
                 created, expires, revoked]  # fmt: skip
        typer.echo("\t".join(cells))


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (from `outreach token list`).")],
    workspace: Workspace = None,
) -> None:
    """Revoke a token by id (takes effect within the service's token cache, 2 s)."""
    from serving.runtime import auth

    engine = _engine(workspace)
    try:
        with engine.begin() as conn:
            done = auth.revoke_token(conn, token_id)
    finally:
        engine.dispose()
    if not done:
        raise ConfigError(f"no active token with id {token_id!r}")
    typer.echo(f"revoked {token_id}")


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on (loopback by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port (0: any free port).")] = 8000,
    workspace: Workspace = None,
) -> None:
    """Serve the API (one uvicorn worker; LightGBM on one thread)."""
    if not 0 <= port <= 65535:
        raise ConfigError("--port must be between 0 and 65535")
    tuning.tune_process()
    import uvicorn

    from serving.app import create_app

    app = create_app(load_settings(workspace))
    # proxy headers are the app's own ([service] trusted_proxies), never uvicorn's default
    uvicorn.run(app, host=host, port=port, workers=1, log_level="info", access_log=False,
                proxy_headers=False)  # fmt: skip


def demo(
    host: Annotated[str, typer.Option(help="Interface to serve on (loopback by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[
        int, typer.Option(help="Port to serve on (taken: any free port; 0: any free port).")
    ] = 8000,
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve when the stages are done.")
    ] = True,
    workspace: Workspace = None,
) -> None:
    """Run the whole system on embedded defaults and serve it (what `make demo` runs).

    simulate -> ingest -> link -> features -> train -> score -> demo tokens -> serve, each stage
    timed; a second run reuses what is built. Prints the URL and one caseworker, one supervisor
    and one auditor token (valid 7 days).
    """
    if not 0 <= port <= 65535:
        raise ConfigError("--port must be between 0 and 65535")
    from outreach import demo as d

    settings = load_settings(workspace)
    d.ensure_workspace(settings.workspace)
    say = typer.echo
    times = d.run_stages(settings, say)
    started = time.perf_counter()
    tokens = d.demo_tokens(settings)
    times.append(d.StageTime("tokens", time.perf_counter() - started, False))
    say("[7/8] tokens: issued")
    say("stage times:")
    for line in d.summary(times):
        say(line)
    if not serve_after:
        _print_tokens(tokens, None)
        return
    sock = d.bind(host, port)
    url = f"http://{host}:{sock.getsockname()[1]}/"
    say(f"[8/8] serve: {url}")
    _print_tokens(tokens, url)
    d.serve_on(settings, sock)


def _print_tokens(tokens: list[tuple[str, str | None, str]], url: str | None) -> None:
    if url:
        typer.echo(f"\nOutreach is serving at {url}  (sign in with a token; Ctrl+C stops)")
        typer.echo(f"API document: {url}docs")
    typer.echo("demo tokens (valid 7 days; shown only now):")
    for role, code, token in tokens:
        where = f" {code}" if code else ""
        typer.echo(f"  {role:<10}{where:<11} {token}")


app.command("serve")(serve)
app.command("demo")(demo)
app.add_typer(token_app, name="token")
