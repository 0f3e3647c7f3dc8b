"""The service database schema: SQLAlchemy Core tables, portable between SQLite and PostgreSQL.

One :data:`metadata` holds every table; the Alembic migrations in ``serving/migrations`` build
exactly this schema (a test compares the two). Conventions:

- household and person references are the pseudonymous keys (keyed hashes), never ID numbers;
- timestamps are :class:`UTCDateTime` (tz-aware UTC in and out on both backends); calendar dates
  (``as_of``, ``visit_date``) are plain local :class:`datetime.date`;
- closed vocabularies are text columns with a named CHECK constraint (no native enums, so adding a
  value is a one-line migration on both backends);
- JSON columns hold small documents (reasons, traces, settings), never whole tables.

See ``docs/storage.md`` for who writes and reads each table.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

RUN_STATUSES = ("running", "complete")
ELIGIBILITY_STATUSES = ("likely", "needs_verification", "not_eligible")
VISIT_OUTCOMES = ("visited", "not_found", "in_need", "not_in_need")
CORRECTION_STATUSES = ("open", "applied", "rejected")
ROLES = ("caseworker", "supervisor", "auditor", "data_scientist")
LIST_PATHS = ("ranked", "program_gap", "exploration")
"""How a list entry reached its list (``serving.batch.priority.PATHS``; a test keeps them equal)."""
SESSION_ENDS = ("signed_out", "idle", "expired")

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """A timestamp stored with its zone on PostgreSQL and as UTC text on SQLite.

    Binding a naive datetime raises (the caller must say which zone it means); results are always
    tz-aware UTC, whatever the backend.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """Refuse naive datetimes and normalise to UTC."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime: timestamps must carry a zone (use UTC)")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        """Return tz-aware UTC (SQLite gives back naive UTC)."""
        if value is None:
            return None
        if isinstance(value, str):  # pragma: no cover - defensive, SQLAlchemy parses SQLite text
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


# A 64-bit surrogate key that is still SQLite's autoincrementing rowid alias.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _one_of(column: str, values: tuple[str, ...], name: str) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=name)


def _text(name: str, nullable: bool = False, **kw: Any) -> sa.Column[str]:
    return sa.Column(name, sa.Text(), nullable=nullable, **kw)


score_runs = sa.Table(
    "score_runs",
    metadata,
    _text("run_id", primary_key=True),
    sa.Column("as_of", sa.Date(), nullable=False),
    _text("model_name"),
    _text("model_version"),
    _text("feature_set_version"),
    _text("snapshot_id"),
    _text("priority_version"),
    sa.Column("capacity", sa.JSON(), nullable=False),
    sa.Column("exploration_share", sa.Float(), nullable=False),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
    _text("status", server_default="running"),
    sa.Column("chunks_done", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("n_households", sa.Integer(), nullable=True),
    # set by `outreach purge` when the run's snapshot is removed (migration 0004)
    sa.Column("unreplayable_since", UTCDateTime(), nullable=True),
    _text("unreplayable_reason", nullable=True),
    _one_of("status", RUN_STATUSES, "status"),
    sa.Index(None, "status", "as_of", "finished_at"),
    sa.Index(None, "as_of", "model_version"),
)

scores = sa.Table(
    "scores",
    metadata,
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
    # the early-warning rules firing (bit i = the i-th of policies.early_warning.RULES)
    sa.Column("warning_bits", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("low_confidence_link", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("reasons", sa.JSON(none_as_null=True), nullable=True),
    sa.Column("base_value", sa.Float(), nullable=True),
    sa.Column("programs", sa.JSON(none_as_null=True), nullable=True),
    sa.PrimaryKeyConstraint("run_id", "household_id"),
    sa.ForeignKeyConstraint(["run_id"], ["score_runs.run_id"], ondelete="CASCADE"),
    sa.Index(None, "household_id", "as_of"),
    sa.Index(None, "run_id", "township_code", "village_code"),
)

eligibility = sa.Table(
    "eligibility",
    metadata,
    _text("run_id"),
    _text("household_id"),
    _text("program"),
    _text("status"),
    sa.Column("receiving", sa.Boolean(), nullable=False),
    sa.Column("gap", sa.Boolean(), nullable=False),
    sa.Column("trace", sa.JSON(none_as_null=True), nullable=True),
    sa.PrimaryKeyConstraint("run_id", "household_id", "program"),
    sa.ForeignKeyConstraint(
        ["run_id", "household_id"], ["scores.run_id", "scores.household_id"], ondelete="CASCADE"
    ),
    _one_of("status", ELIGIBILITY_STATUSES, "status"),
)

list_entries = sa.Table(
    "list_entries",
    metadata,
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
    _text("path"),  # ranked | program_gap | exploration (serving.batch.priority.PATHS)
    sa.Column("selection_probability", sa.Float(), nullable=True),  # null: not logged (pre-0004)
    sa.PrimaryKeyConstraint("run_id", "jurisdiction_code", "household_id"),
    sa.ForeignKeyConstraint(
        ["run_id", "household_id"], ["scores.run_id", "scores.household_id"], ondelete="CASCADE"
    ),
    sa.UniqueConstraint("run_id", "jurisdiction_code", "rank"),
    sa.CheckConstraint("rank >= 1", name="rank"),
    _one_of("path", LIST_PATHS, "path"),
    sa.CheckConstraint(
        "selection_probability IS NULL OR "
        "(selection_probability > 0 AND selection_probability <= 1)",
        name="selection_probability",
    ),
    sa.Index(None, "household_id", "run_id"),
)

visit_outcomes = sa.Table(
    "visit_outcomes",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    _text("household_id"),
    sa.Column("visit_date", sa.Date(), nullable=False),
    _text("outcome"),
    sa.Column("programs_started", sa.JSON(), nullable=False),
    _text("note", nullable=True),
    _text("recorded_by"),
    sa.Column("recorded_at", UTCDateTime(), nullable=False),
    _text("run_id", nullable=True),
    _text("model_version", nullable=True),
    _one_of("outcome", VISIT_OUTCOMES, "outcome"),
    sa.Index(None, "household_id", "visit_date"),
    sa.Index(None, "recorded_at"),
)

corrections = sa.Table(
    "corrections",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    _text("household_id"),
    _text("item"),
    _text("reference", nullable=True),
    _text("correction"),
    _text("reason"),
    _text("recorded_by"),
    sa.Column("recorded_at", UTCDateTime(), nullable=False),
    _text("status", server_default="open"),
    _text("applied_run_id", nullable=True),
    _one_of("status", CORRECTION_STATUSES, "status"),
    sa.Index(None, "household_id", "recorded_at"),
    sa.Index(None, "status"),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    _text("id", primary_key=True),
    _text("token_hash", unique=True),
    _text("role"),
    _text("jurisdiction_code", nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
    _text("holder", nullable=True),  # the person it was issued to (null: issued before 0003)
    _one_of("role", ROLES, "role"),
)

web_sessions = sa.Table(
    "web_sessions",
    metadata,
    _text("id", primary_key=True),  # SHA-256 of the cookie's nonce (the nonce is never stored)
    _text("token_id"),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("seen_at", UTCDateTime(), nullable=False),
    sa.Column("ended_at", UTCDateTime(), nullable=True),
    _text("end_reason", nullable=True),
    sa.ForeignKeyConstraint(["token_id"], ["api_tokens.id"]),
    sa.CheckConstraint(
        "end_reason IS NULL OR end_reason IN ('signed_out', 'idle', 'expired', 'key_rotated')",
        name="end_reason",
    ),
    sa.Index(None, "token_id"),
    sa.Index(None, "started_at"),
)
"""Web sessions, server-side (:mod:`serving.pages.session`): a signed-out, idle or expired
session is refused after a restart too."""

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", UTCDateTime(), nullable=False),
    _text("actor"),
    _text("role"),
    _text("action"),
    _text("resource"),
    _text("household_id", nullable=True),
    _text("jurisdiction_code", nullable=True),
    _text("purpose"),
    _text("request_id", nullable=True),
    sa.Column("detail", sa.JSON(none_as_null=True), nullable=True),
    _text("prev_hash", nullable=True),  # the hash chain (serving.store.chain); null: not chained
    _text("row_hash", nullable=True),
    sa.Index(None, "at"),
    sa.Index(None, "actor", "at"),
    sa.Index(None, "household_id", "at"),
)

audit_chain = sa.Table(
    "audit_chain",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("last_id", sa.BigInteger(), nullable=False),
    _text("last_hash"),
    sa.Column("base_id", sa.BigInteger(), nullable=False),
    _text("base_hash"),
    sa.CheckConstraint("id = 1", name="one_row"),
)
"""The audit chain's head (one row): its lock, the last row's id and hash, and the base a purge
moved the chain's start to (see :mod:`serving.store.chain`)."""

APPEND_ONLY_TABLES = ("audit_log",)
"""Tables whose rows the database itself refuses to UPDATE or DELETE (triggers, see migrations)."""
