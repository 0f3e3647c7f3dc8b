"""Alembic migrations of the service database, run by :func:`serving.store.db.upgrade`."""
