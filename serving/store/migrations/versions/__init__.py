"""Alembic revision files, oldest first (``0001_initial`` builds the whole schema)."""
