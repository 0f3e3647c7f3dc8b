"""Initial schema: runs, scores, eligibility, visit lists, outcomes, corrections, tokens, audit log.

The audit log is append-only, enforced by the database: a statement-level trigger on PostgreSQL
refuses UPDATE, DELETE and TRUNCATE; BEFORE UPDATE/DELETE triggers with ``RAISE(ABORT)`` do the
same on SQLite.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
APPEND_ONLY_MESSAGE = "audit_log is append-only"

PG_APPEND_ONLY = [
    """
    CREATE FUNCTION outreach_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END;
    $$
    """,
    """
    CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION outreach_refuse_change()
    """,
]
SQLITE_APPEND_ONLY = [
    f"""
    CREATE TRIGGER audit_log_no_{op_name.lower()} BEFORE {op_name} ON audit_log
    BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}: {op_name} refused'); END
    """
    for op_name in ("UPDATE", "DELETE")
]


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _text(name: str, nullable: bool = False, **kw: Any) -> sa.Column:
    return sa.Column(name, sa.Text(), nullable=nullable, **kw)


def upgrade() -> None:
    """Create every table, index and the append-only triggers."""
    op.create_table(
        "score_runs",
        _text("run_id"),
        sa.Column("as_of", sa.Date(), nullable=False),
        _text("model_name"),
        _text("model_version"),
        _text("feature_set_version"),
        _text("snapshot_id"),
        _text("priority_version"),
        sa.Column("capacity", sa.JSON(), nullable=False),
        sa.Column("exploration_share", sa.Float(), nullable=False),
        _ts("started_at"),
        _ts("finished_at", nullable=True),
        _text("status", server_default="running"),
        sa.Column("chunks_done", sa.Integer(), server_default="0", nullable=False),
        sa.Column("n_households", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('running', 'complete')", name=op.f("ck_score_runs_status")),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_score_runs")),
    )
    op.create_index(
        "ix_score_runs_status_as_of_finished_at", "score_runs", ["status", "as_of", "finished_at"]
    )
    op.create_index("ix_score_runs_as_of_model_version", "score_runs", ["as_of", "model_version"])

    op.create_table(
        "scores",
        _text("run_id"),
        _text("household_id"),
        sa.Column("as_of", sa.Date(), nullable=False),
        _text("model_version"),
        _text("township_code"),
        _text("village_code"),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("raw_score", sa.Float(), nullable=False),
        _text("band"),
        sa.Column("priority", sa.Float(), nullable=False),
        sa.Column("warning_bits", sa.Integer(), server_default="0", nullable=False),
        sa.Column("low_confidence_link", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=True),
        sa.Column("base_value", sa.Float(), nullable=True),
        sa.Column("programs", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["score_runs.run_id"],
            name=op.f("fk_scores_run_id_score_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "household_id", name=op.f("pk_scores")),
    )
    op.create_index("ix_scores_household_id_as_of", "scores", ["household_id", "as_of"])
    op.create_index(
        "ix_scores_run_id_township_code_village_code",
        "scores",
        ["run_id", "township_code", "village_code"],
    )

    op.create_table(
        "eligibility",
        _text("run_id"),
        _text("household_id"),
        _text("program"),
        _text("status"),
        sa.Column("receiving", sa.Boolean(), nullable=False),
        sa.Column("gap", sa.Boolean(), nullable=False),
        sa.Column("trace", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "status IN ('likely', 'needs_verification', 'not_eligible')",
            name=op.f("ck_eligibility_status"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id", "household_id"],
            ["scores.run_id", "scores.household_id"],
            name=op.f("fk_eligibility_run_id_household_id_scores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "household_id", "program", name=op.f("pk_eligibility")),
    )

    op.create_table(
        "list_entries",
        _text("run_id"),
        _text("jurisdiction_code"),
        _text("household_id"),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("priority", sa.Float(), nullable=False),
        _text("model_version"),
        sa.Column("exploration", sa.Boolean(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        _text("purpose"),
        sa.CheckConstraint("rank >= 1", name=op.f("ck_list_entries_rank")),
        sa.ForeignKeyConstraint(
            ["run_id", "household_id"],
            ["scores.run_id", "scores.household_id"],
            name=op.f("fk_list_entries_run_id_household_id_scores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "run_id", "jurisdiction_code", "household_id", name=op.f("pk_list_entries")
        ),
        sa.UniqueConstraint(
            "run_id",
            "jurisdiction_code",
            "rank",
            name=op.f("uq_list_entries_run_id_jurisdiction_code_rank"),
        ),
    )
    op.create_index(
        "ix_list_entries_household_id_run_id", "list_entries", ["household_id", "run_id"]
    )

    op.create_table(
        "visit_outcomes",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        _text("household_id"),
        sa.Column("visit_date", sa.Date(), nullable=False),
        _text("outcome"),
        sa.Column("programs_started", sa.JSON(), nullable=False),
        _text("note", nullable=True),
        _text("recorded_by"),
        _ts("recorded_at"),
        _text("run_id", nullable=True),
        _text("model_version", nullable=True),
        sa.CheckConstraint(
            "outcome IN ('visited', 'not_found', 'in_need', 'not_in_need')",
            name=op.f("ck_visit_outcomes_outcome"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_outcomes")),
    )
    op.create_index(
        "ix_visit_outcomes_household_id_visit_date",
        "visit_outcomes",
        ["household_id", "visit_date"],
    )
    op.create_index("ix_visit_outcomes_recorded_at", "visit_outcomes", ["recorded_at"])

    op.create_table(
        "corrections",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        _text("household_id"),
        _text("item"),
        _text("reference", nullable=True),
        _text("correction"),
        _text("reason"),
        _text("recorded_by"),
        _ts("recorded_at"),
        _text("status", server_default="open"),
        _text("applied_run_id", nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'applied', 'rejected')", name=op.f("ck_corrections_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrections")),
    )
    op.create_index(
        "ix_corrections_household_id_recorded_at", "corrections", ["household_id", "recorded_at"]
    )
    op.create_index("ix_corrections_status", "corrections", ["status"])

    op.create_table(
        "api_tokens",
        _text("id"),
        _text("token_hash"),
        _text("role"),
        _text("jurisdiction_code", nullable=True),
        _ts("created_at"),
        _ts("expires_at"),
        _ts("revoked_at", nullable=True),
        sa.CheckConstraint(
            "role IN ('caseworker', 'supervisor', 'auditor', 'data_scientist')",
            name=op.f("ck_api_tokens_role"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )

    op.create_table(
        "audit_log",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        _ts("at"),
        _text("actor"),
        _text("role"),
        _text("action"),
        _text("resource"),
        _text("household_id", nullable=True),
        _text("jurisdiction_code", nullable=True),
        _text("purpose"),
        _text("request_id", nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_actor_at", "audit_log", ["actor", "at"])
    op.create_index("ix_audit_log_household_id_at", "audit_log", ["household_id", "at"])

    dialect = op.get_bind().dialect.name
    for statement in PG_APPEND_ONLY if dialect == "postgresql" else SQLITE_APPEND_ONLY:
        op.execute(statement)


def downgrade() -> None:
    """Drop everything (the audit log with it: only for throw-away databases)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS outreach_refuse_change()")
    for table in (
        "audit_log",
        "api_tokens",
        "corrections",
        "visit_outcomes",
        "list_entries",
        "eligibility",
        "scores",
        "score_runs",
    ):
        op.drop_table(table)
