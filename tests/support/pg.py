"""PostgreSQL for the storage tests (a pytest plugin, registered in ``tests/conftest.py``).

Where the server comes from, first match wins:

1. ``OUTREACH_TEST_PG_URL`` (any SQLAlchemy/libpq URL; it must answer, else the tests fail);
2. a server on ``127.0.0.1:5432`` (user ``postgres``, trust auth, database ``test``), as on CI;
3. a throw-away cluster started with ``initdb``/``pg_ctl`` (found on ``PATH``, in
   ``/usr/local/bin`` or ``/usr/lib/postgresql/*/bin``) on a free port in a temp folder, stopped
   at the end of the session (as root it runs as the ``postgres`` user);
4. otherwise the tests that need it are skipped with the reason, and the reason is repeated in
   the terminal summary; with ``CI=true`` they fail instead.

``OUTREACH_TEST_PG=cluster`` forces step 3 (to exercise the harness itself).

Fixtures: ``pg_url`` (session: a database of its own, dropped at the end), ``pg_fresh_url``
(per test: an empty schema of its own in that database, dropped after the test) and ``db_url``
(per test, parametrized: a fresh SQLite file, then a fresh PostgreSQL schema). Tests that use
PostgreSQL carry the ``postgresql`` marker (``-m "not postgresql"`` deselects them).
"""

from __future__ import annotations

import dataclasses
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

PG_URL_ENV = "OUTREACH_TEST_PG_URL"
PG_MODE_ENV = "OUTREACH_TEST_PG"
LOCAL_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BIN_DIRS = ("/usr/local/bin", "/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin")

_report: list[str] = []  # lines for the terminal summary


@dataclasses.dataclass
class PgServer:
    """A reachable server: an admin URL, where it came from, and (if ours) its folder and how to
    stop it."""

    url: str
    source: str
    stop: Callable[[], None] | None = None
    home: Path | None = None
    halt: Callable[[], None] | None = None  # ours only: stop the server, keep its data
    resume: Callable[[], None] | None = None  # ours only: start it again on the same port


def to_psycopg(url: str) -> str:
    """Pin a postgres URL to the psycopg 3 driver."""
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", url)


def probe(url: str, timeout: int = 3) -> str | None:
    """None when the server answers, else the error's first line (no password in it)."""
    engine = sa.create_engine(url, connect_args={"connect_timeout": timeout}, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return None
    except sa.exc.SQLAlchemyError as exc:
        return str(exc.orig or exc).strip().splitlines()[0]
    finally:
        engine.dispose()


def find_bindir() -> Path | None:
    """The folder holding both ``initdb`` and ``pg_ctl`` (newest version first), or None."""
    candidates: list[Path] = []
    found = shutil.which("pg_ctl")
    if found:
        candidates.append(Path(found).resolve().parent)
    for pattern in BIN_DIRS:
        matches = sorted(Path("/").glob(pattern.lstrip("/")), key=_version_key, reverse=True)
        candidates.extend(matches)
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    return None


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", str(path)))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_cluster(bindir: Path) -> PgServer:
    """initdb + pg_ctl start a trust-auth cluster on a free loopback port; ``stop`` removes it.

    Raises:
        RuntimeError: the cluster could not be created or started (with the tool's output).
    """
    base = Path(tempfile.mkdtemp(prefix="outreach-pg-"))
    run_as: str | None = None
    if os.geteuid() == 0:  # initdb refuses to run as root
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(base, ignore_errors=True)
            raise RuntimeError("running as root and there is no 'postgres' user") from None
        os.chown(base, account.pw_uid, account.pw_gid)
        run_as = "postgres"
    data, port = base / "data", _free_port()

    def tool(*args: str) -> None:
        done = subprocess.run(args, capture_output=True, text=True, user=run_as, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(
                f"{Path(args[0]).name} failed: {(done.stderr or done.stdout)[-800:]}"
            )

    def stop() -> None:
        try:
            tool(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(base, ignore_errors=True)

    opts = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"

    def halt() -> None:
        tool(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")

    def resume() -> None:
        tool(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"),
             "-o", opts, "-w", "-t", "60", "start")  # fmt: skip

    try:
        tool(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
             "-E", "UTF8", "--locale=C", "--no-sync")  # fmt: skip
        tool(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"),
             "-o", opts, "-w", "-t", "60", "start")  # fmt: skip
    except (RuntimeError, subprocess.TimeoutExpired):
        if (data / "postmaster.pid").exists():
            stop()
        shutil.rmtree(base, ignore_errors=True)
        raise
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    source = f"throw-away cluster ({bindir}) on port {port}"
    return PgServer(url=url, source=source, stop=stop, home=base, halt=halt, resume=resume)


def discover() -> PgServer | str:
    """The server to use, or the reason there is none."""
    forced = os.environ.get(PG_MODE_ENV, "") == "cluster"
    explicit = os.environ.get(PG_URL_ENV)
    if explicit and not forced:
        url = to_psycopg(explicit)
        error = probe(url)
        if error is not None:
            pytest.fail(f"{PG_URL_ENV} is set but does not answer: {error}", pytrace=False)
        return PgServer(url=url, source=PG_URL_ENV)
    tried = []
    if not forced:
        error = probe(LOCAL_URL)
        if error is None:
            return PgServer(url=LOCAL_URL, source="server on 127.0.0.1:5432")
        tried.append(f"127.0.0.1:5432: {error}")
    bindir = find_bindir()
    if bindir is None:
        tried.append("no initdb/pg_ctl found")
    else:
        try:
            return start_cluster(bindir)
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            tried.append(f"pg_ctl cluster: {exc}")
    return "no PostgreSQL for the storage tests (" + "; ".join(tried) + ")"


def _on_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(reason: str) -> None:
    if _on_ci():
        pytest.fail(f"{reason} — CI=true requires PostgreSQL", pytrace=False)
    pytest.skip(reason)


def _admin_engine(url: str) -> sa.Engine:
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "postgresql: needs a PostgreSQL server (see tests/support/pg.py)"
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in _report:
        terminalreporter.write_line(line, yellow=not line.startswith("PostgreSQL"), bold=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A reachable PostgreSQL server (see the module docstring for where it comes from)."""
    found = discover()
    if isinstance(found, str):
        verdict = "FAILED (CI=true)" if _on_ci() else "SKIPPED"
        _report.append(f"{verdict} PostgreSQL storage tests: {found}")
        _unavailable(found)
        return
    _report.append(f"PostgreSQL storage tests ran on: {found.source}")
    try:
        yield found
    finally:
        if found.stop is not None:
            found.stop()


@pytest.fixture(scope="session")
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """A database created for this test session (unique name), dropped at the end."""
    name = f"outreach_test_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine(pg_server.url)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(pg_server.url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def pg_fresh_url(pg_url: str) -> Iterator[str]:
    """An empty schema of its own (first on the search path) in the session database."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine(pg_url)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = sa.make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)],
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty service database URL on each backend: a SQLite file, then a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'service.sqlite3'}"
    return str(request.getfixturevalue("pg_fresh_url"))
