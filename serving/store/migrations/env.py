"""Alembic environment: migrations run on the connection passed by :func:`serving.store.db.upgrade`.

To add a revision from a checkout (autogenerate compares ``serving.store.tables.metadata`` with the
database at ``url``)::

    from alembic import command
    from serving.store import db
    config = db._alembic_config()
    config.set_main_option("sqlalchemy.url", url)
    command.revision(config, message="what changes", autogenerate=True, rev_id="0002")

Offline SQL for a DBA: ``command.upgrade(config, "head", sql=True)`` with the URL set.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from serving.store.tables import metadata

# Held for the migration's transaction so two processes never migrate one database at once.
PG_MIGRATION_LOCK = 0x6F75747265616368  # "outreach"


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_MIGRATION_LOCK})")
        context.run_migrations()


def _main() -> None:
    config = context.config
    if context.is_offline_mode():
        context.configure(
            url=config.get_main_option("sqlalchemy.url"),
            target_metadata=metadata,
            literal_binds=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from serving.store.db import make_engine

    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


_main()
