"""Alembic migrations of the service database, run by :func:`serving.db.upgrade`."""
