"""The audit log's hash chain: ``prev_hash`` and ``row_hash`` on every row, the ``audit_chain``
head, existing rows chained in id order, and a trigger refusing an id at or below the newest
(closes SQLite's ``INSERT OR REPLACE``, which deletes without firing DELETE triggers).

UPSERT (``ON CONFLICT DO UPDATE``) already meets the UPDATE triggers on both backends; a dropped
trigger is reported by ``outreach audit verify``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64
SQLITE_NO_REWIND = """
CREATE TRIGGER audit_log_no_rewind BEFORE INSERT ON audit_log
WHEN NEW.id >= 0 AND NEW.id <= (SELECT max(id) FROM audit_log)
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: an old id refused'); END
"""
PG_NO_REWIND = [
    """
    CREATE FUNCTION outreach_refuse_rewind() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.id <= (SELECT coalesce(max(id), 0) FROM audit_log) THEN
            RAISE EXCEPTION 'audit_log is append-only: an old id refused'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END;
    $$
    """,
    """
    CREATE TRIGGER audit_log_no_rewind BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION outreach_refuse_rewind()
    """,
]
SQLITE_APPEND_ONLY = [
    f"""
    CREATE TRIGGER audit_log_no_{name.lower()} BEFORE {name} ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: {name} refused'); END
    """
    for name in ("UPDATE", "DELETE")
]


def _chain_existing(bind: sa.Connection) -> tuple[int, str]:
    """Hash the rows already there, in id order (the append-only triggers are off meanwhile)."""
    from serving.store.chain import row_hash
    from serving.store.tables import audit_log

    prev_id, prev = 0, GENESIS
    cols = [audit_log.c[n] for n in ("id", "at", "actor", "role", "action", "resource",
            "household_id", "jurisdiction_code", "purpose", "request_id", "detail")]  # fmt: skip
    rows = bind.execute(sa.select(*cols).order_by(audit_log.c.id)).mappings().all()
    update = sa.text("UPDATE audit_log SET prev_hash = :p, row_hash = :h WHERE id = :i")
    for row in rows:
        h = row_hash(prev, row)
        bind.execute(update, {"p": prev, "h": h, "i": row["id"]})
        prev_id, prev = int(row["id"]), h
    return prev_id, prev


def upgrade() -> None:
    """Add the chain columns and head, chain existing rows, add the no-rewind trigger."""
    bind = op.get_bind()
    pg = bind.dialect.name == "postgresql"
    if pg:
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    else:
        op.execute("DROP TRIGGER audit_log_no_update")
        op.execute("DROP TRIGGER audit_log_no_delete")
    op.add_column("audit_log", sa.Column("prev_hash", sa.Text(), nullable=True))
    op.add_column("audit_log", sa.Column("row_hash", sa.Text(), nullable=True))
    op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.Text(), nullable=False),
        sa.Column("base_id", sa.BigInteger(), nullable=False),
        sa.Column("base_hash", sa.Text(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_chain_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain")),
    )
    last_id, last_hash = _chain_existing(bind)
    bind.execute(
        sa.text("INSERT INTO audit_chain (id, last_id, last_hash, base_id, base_hash) "
                "VALUES (1, :i, :h, 0, :g)"),
        {"i": last_id, "h": last_hash, "g": GENESIS},
    )  # fmt: skip
    if pg:
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
        for statement in PG_NO_REWIND:
            op.execute(statement)
    else:
        for statement in SQLITE_APPEND_ONLY:
            op.execute(statement)
        op.execute(SQLITE_NO_REWIND)


def downgrade() -> None:
    """Drop the chain (the rows stay; only for throw-away databases)."""
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_rewind ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS outreach_refuse_rewind()")
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    else:
        for name in ("no_rewind", "no_update", "no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS audit_log_{name}")
    op.drop_table("audit_chain")
    op.drop_column("audit_log", "row_hash")
    op.drop_column("audit_log", "prev_hash")
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    else:
        for statement in SQLITE_APPEND_ONLY:
            op.execute(statement)
