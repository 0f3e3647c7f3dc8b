"""The service database: engine factory, migrations, and the few data-access helpers shared by the
batch scorer and the service.

The schema lives in :mod:`serving.store.tables`; the Alembic migrations that build it ship in
``serving/migrations`` and are run programmatically (no ``alembic.ini``)::

    url = settings.service_db_url          # sqlite:///<workspace>/data/service.sqlite3 by default
    upgrade(url)                           # idempotent: creates or brings the schema to head
    engine = make_engine(url)
    with engine.begin() as conn:
        run = latest_complete_run(conn)

Nothing here logs or raises a URL with its password (see :func:`safe_url`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine

from core.errors import ConfigError
from serving.store.tables import score_runs

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 10_000
DEFAULT_CHUNK_ROWS = 10_000


def to_url(url: str | URL) -> URL:
    """Parse a database URL and pin PostgreSQL to the psycopg 3 driver.

    ``postgres://`` and ``postgresql://`` become ``postgresql+psycopg://``; only SQLite and
    PostgreSQL are accepted.

    Raises:
        ConfigError: the URL cannot be parsed or names another database.
    """
    try:
        parsed = sa.make_url(url) if isinstance(url, str) else url
    except sa.exc.ArgumentError as exc:
        raise ConfigError("the service database URL cannot be parsed") from exc
    backend = parsed.get_backend_name()
    if backend in ("postgres", "postgresql"):
        return parsed.set(drivername="postgresql+psycopg")
    if backend != "sqlite":
        raise ConfigError(f"unsupported service database {backend!r}: use sqlite or postgresql")
    return parsed


def safe_url(url: str | URL) -> str:
    """The URL as text with any password replaced by ``***`` (safe for logs and errors)."""
    return to_url(url).render_as_string(hide_password=True)


def sqlite_path(url: str | URL) -> Path | None:
    """The database file of a SQLite URL, or None for PostgreSQL and in-memory SQLite."""
    parsed = to_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def postgresql_connect_args(url: sa.URL, wait_seconds: float) -> dict[str, object]:
    """psycopg's connect arguments for bounded waits: a connect timeout, and lock and statement
    timeouts added to the URL's own ``options`` (e.g. a search_path), never in their place."""
    ms = int(wait_seconds * 1000)
    given = url.query.get("options", "")
    given = " ".join(given) if isinstance(given, tuple) else given
    timeouts = f"-c lock_timeout={ms} -c statement_timeout={ms}"
    return {"connect_timeout": max(1, int(wait_seconds)), "options": f"{given} {timeouts}".strip()}


def make_engine(
    url: str | URL,
    wait_seconds: float | None = None,
    wal_autocheckpoint: bool = True,
    **kwargs: Any,
) -> Engine:
    """Create an engine for the service database.

    SQLite: WAL journal, ``synchronous=NORMAL``, foreign keys on, a busy timeout, and real
    transactions (``BEGIN`` is emitted by SQLAlchemy, so DDL is transactional too); the file's
    folder is created. PostgreSQL: the psycopg 3 driver with pre-ping.

    Both: ``hide_parameters`` (an error or a log line never shows the values bound to a
    statement: they can be notes or corrections).

    Args:
        url: a SQLite or PostgreSQL URL (``OUTREACH_DB_URL``).
        wait_seconds: the longest any wait on the database may last (the service's bound):
            SQLite's busy timeout; PostgreSQL's connect timeout, lock timeout, statement
            timeout and pool timeout. Default: SQLite 10 s, PostgreSQL no bound.
        wal_autocheckpoint: SQLite only. False: this engine's connections never checkpoint
            the write-ahead log at commit (``PRAGMA wal_autocheckpoint=0``); the owner runs
            :class:`serving.store.checkpoint.WalCheckpointer` beside them instead, so no
            commit waits for a checkpoint's copy and sync (the service does).
        **kwargs: passed to :func:`sqlalchemy.create_engine` (e.g. ``pool_size``).
    """
    parsed = to_url(url)
    kwargs.setdefault("hide_parameters", True)  # errors and logs never carry bound values
    if parsed.get_backend_name() == "postgresql":
        if wait_seconds is not None:
            given = kwargs.pop("connect_args", {})
            kwargs["connect_args"] = {**postgresql_connect_args(parsed, wait_seconds), **given}
            kwargs.setdefault("pool_timeout", wait_seconds)
        return sa.create_engine(parsed, pool_pre_ping=True, **kwargs)
    path = sqlite_path(parsed)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(parsed, **kwargs)
    busy = SQLITE_BUSY_TIMEOUT_MS if wait_seconds is None else int(wait_seconds * 1000)
    _configure_sqlite(engine, wal=path is not None, busy_ms=busy, autocheckpoint=wal_autocheckpoint)
    return engine


def _configure_sqlite(
    engine: Engine, wal: bool, busy_ms: int = SQLITE_BUSY_TIMEOUT_MS, autocheckpoint: bool = True
) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let SQLAlchemy emit BEGIN (transactional DDL)
        cursor = dbapi_conn.cursor()
        try:
            if wal:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                if not autocheckpoint:
                    cursor.execute("PRAGMA wal_autocheckpoint=0")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN")


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(url: str | URL | Engine, revision: str = "head") -> str | None:
    """Bring the database to ``revision`` (default: the newest); a no-op when already there.

    Creates the SQLite file and its folder when missing. On PostgreSQL concurrent callers are
    serialised by an advisory lock held for the migration's transaction.

    Returns:
        The revision the database is at afterwards.
    """
    engine = url if isinstance(url, Engine) else make_engine(url)
    try:
        with engine.begin() as conn:
            config = _alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        if engine is not url:
            engine.dispose()


def current_revision(url: str | URL | Engine) -> str | None:
    """The database's Alembic revision, or None when it was never migrated (or does not exist)."""
    path = None if isinstance(url, Engine) else sqlite_path(url)
    if path is not None and not path.exists():
        return None
    engine = url if isinstance(url, Engine) else make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        if engine is not url:
            engine.dispose()


def head_revision() -> str:
    """The newest revision shipped with the package."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def write_rows(
    conn: Connection,
    table: sa.Table,
    rows: Iterable[Mapping[str, Any]],
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> int:
    """Bulk-insert rows within ``conn``'s transaction; the caller decides where to commit.

    SQLite: one executemany per ``chunk_rows`` rows. PostgreSQL: one ``COPY ... FROM STDIN``
    streamed from the iterable (about three times faster than batched INSERTs).

    Values must be plain Python (``DataFrame.to_dict("records")`` gives that; raw numpy integers
    do not bind on SQLite). Every row must have the keys of the first row; columns left out take
    their defaults.

    Returns:
        The number of rows inserted.
    """
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    iterator = iter(rows)
    if conn.dialect.name == "postgresql":
        return _copy_rows(conn, table, iterator)
    if conn.dialect.name == "sqlite":
        return _sqlite_rows(conn, table, iterator, chunk_rows)
    insert = table.insert()
    total = 0
    while chunk := list(itertools.islice(iterator, chunk_rows)):
        conn.execute(insert, chunk)
        total += len(chunk)
    return total


def write_columns(conn: Connection, table: sa.Table, columns: Mapping[str, Sequence[Any]]) -> int:
    """Bulk-insert rows given as equal-length columns (the fast path for millions of rows:
    no dict per row). Values as for :func:`write_rows`. SQLite: one ``executemany``, each column
    through its type's bind processor; other backends: :func:`write_rows` (``COPY`` on
    PostgreSQL).

    Returns:
        The number of rows inserted.

    Raises:
        ValueError: columns of different lengths.
    """
    names = list(columns)
    lengths = {len(columns[n]) for n in names}
    if len(lengths) > 1:
        raise ValueError(f"columns of different lengths: {sorted(lengths)}")
    if not names or lengths == {0}:
        return 0
    if conn.dialect.name != "sqlite":
        rows = (
            dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)
        )
        return write_rows(conn, table, rows)
    dialect = conn.dialect
    processed = []
    for n in names:
        proc = table.c[n].type.dialect_impl(dialect).bind_processor(dialect)
        try:
            processed.append(columns[n] if proc is None else [proc(v) for v in columns[n]])
        except (TypeError, ValueError) as exc:  # as conn.execute reports a bad value
            raise sa.exc.StatementError(str(exc), f"INSERT INTO {table.name}", None, exc) from exc
    _executemany(conn, _insert_sql(dialect, table, names), zip(*processed, strict=True))
    return lengths.pop()


def _executemany(conn: Connection, sql: str, params: Iterable[tuple[Any, ...]]) -> None:
    """``executemany`` on the transaction's DBAPI cursor; a DBAPI error surfaces as SQLAlchemy's
    (``IntegrityError`` and so on, as ``conn.execute`` raises), without the parameters."""
    dbapi = conn.dialect.loaded_dbapi
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.executemany(sql, params)
    except dbapi.Error as exc:
        raise sa.exc.DBAPIError.instance(
            sql, None, exc, dbapi.Error, hide_parameters=True, dialect=conn.dialect
        ) from exc
    finally:
        cursor.close()


def _insert_sql(dialect: sa.Dialect, table: sa.Table, names: Sequence[str]) -> str:
    quote = dialect.identifier_preparer.quote
    return (
        f"INSERT INTO {dialect.identifier_preparer.format_table(table)} "
        f"({', '.join(quote(n) for n in names)}) VALUES ({', '.join('?' * len(names))})"
    )


def _sqlite_rows(
    conn: Connection, table: sa.Table, rows: Iterator[Mapping[str, Any]], chunk_rows: int
) -> int:
    """SQLite: ``executemany`` of tuples on the transaction's own DBAPI cursor, each value
    through its column type's bind processor (what ``conn.execute(insert, rows)`` stores, about
    twice as fast for millions of rows; tested equal in ``tests/unit/test_service_db.py``)."""
    first = next(rows, None)
    if first is None:
        return 0
    names = list(first)
    dialect = conn.dialect
    processors = [table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names]
    sql = _insert_sql(dialect, table, names)

    def as_tuple(row: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(
            value if proc is None else proc(value)
            for value, proc in zip((row[n] for n in names), processors, strict=True)
        )

    total = 0
    batch = itertools.chain([first], rows)
    while chunk := list(itertools.islice(batch, chunk_rows)):
        try:
            params = [as_tuple(r) for r in chunk]
        except (TypeError, ValueError) as exc:  # as conn.execute reports a bad value
            raise sa.exc.StatementError(str(exc), sql, None, exc) from exc
        _executemany(conn, sql, params)
        total += len(chunk)
    return total


def _copy_rows(conn: Connection, table: sa.Table, rows: Iterator[Mapping[str, Any]]) -> int:
    import psycopg
    from psycopg.types.json import Json

    first = next(rows, None)
    if first is None:
        return 0
    names = list(first)
    convert: list[Callable[[Any], Any] | None] = []
    for name in names:
        kind = table.c[name].type
        if isinstance(kind, sa.JSON):
            convert.append(lambda v: None if v is None else Json(v))
        elif isinstance(kind, sa.TypeDecorator):
            convert.append(lambda v, kind=kind: kind.process_bind_param(v, conn.dialect))
        else:
            convert.append(None)
    quote = conn.dialect.identifier_preparer.quote
    statement = f"COPY {quote(table.name)} ({', '.join(quote(n) for n in names)}) FROM STDIN"
    pairs = list(zip(convert, names, strict=True))
    raw = conn.connection.dbapi_connection
    assert raw is not None
    total = 0
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in itertools.chain([first], rows):
                copy.write_row([f(row[n]) if f else row[n] for f, n in pairs])
                total += 1
    except psycopg.Error as exc:  # raise what an INSERT would (IntegrityError, ...)
        raise sa.exc.DBAPIError.instance(statement, None, exc, psycopg.Error) from exc
    return total


@dataclasses.dataclass(frozen=True, slots=True)
class ScoreRun:
    """One row of ``score_runs``."""

    run_id: str
    as_of: dt.date
    model_name: str
    model_version: str
    feature_set_version: str
    snapshot_id: str
    priority_version: str
    capacity: dict[str, Any]
    exploration_share: float
    started_at: dt.datetime
    finished_at: dt.datetime | None
    status: str
    chunks_done: int
    n_households: int | None
    unreplayable_since: dt.datetime | None = None  # set by `outreach purge` (migration 0004)
    unreplayable_reason: str | None = None


def get_run(conn: Connection, run_id: str) -> ScoreRun | None:
    """The run with this id, or None."""
    row = conn.execute(sa.select(score_runs).where(score_runs.c.run_id == run_id)).mappings()
    found = row.first()
    return ScoreRun(**found) if found is not None else None


def latest_complete_run(conn: Connection, as_of: dt.date | None = None) -> ScoreRun | None:
    """The newest complete run (latest ``as_of``, then latest ``finished_at``), optionally the
    newest whose ``as_of`` is on or before the given date; None when there is none."""
    query = sa.select(score_runs).where(score_runs.c.status == "complete")
    if as_of is not None:
        query = query.where(score_runs.c.as_of <= as_of)
    query = query.order_by(
        score_runs.c.as_of.desc(), score_runs.c.finished_at.desc(), score_runs.c.run_id.desc()
    ).limit(1)
    found = conn.execute(query).mappings().first()
    return ScoreRun(**found) if found is not None else None


@dataclasses.dataclass(frozen=True, slots=True)
class AuditEvent:
    """One row of the append-only ``audit_log``: who read what, when (UTC), and for what purpose.

    ``detail`` holds small, non-identifying context (filters, counts, the model version); never an
    ID number or a name.
    """

    actor: str
    role: str
    action: str
    resource: str
    purpose: str
    household_id: str | None = None
    jurisdiction_code: str | None = None
    request_id: str | None = None
    detail: Mapping[str, Any] | None = None
    at: dt.datetime = dataclasses.field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def __post_init__(self) -> None:
        for name in ("actor", "role", "action", "resource", "purpose"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ValueError(f"audit event: {name} must be a non-empty string")
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("audit event: at must carry a zone (use UTC)")
        if self.detail is not None:
            json.dumps(dict(self.detail))  # TypeError now rather than in the writer thread

    def as_row(self) -> dict[str, Any]:
        """The event as an ``audit_log`` insert row."""
        row = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        row["detail"] = dict(self.detail) if self.detail is not None else None
        return row


def append_audit(conn: Connection, events: Sequence[AuditEvent]) -> int:
    """Append audit events to the hash chain in one batch insert within ``conn``'s transaction
    (under the chain's lock: :func:`serving.store.chain.append`).

    Returns:
        The number of rows appended.
    """
    from serving.store import chain

    return chain.append(conn, events)
