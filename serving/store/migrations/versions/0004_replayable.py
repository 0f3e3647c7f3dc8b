"""Runs that can no longer be replayed: ``score_runs.unreplayable_since`` and
``unreplayable_reason``, set by ``outreach purge`` when the snapshot a run was scored from is
removed (its on-demand explanations and a re-score from the same inputs are then impossible).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the two columns."""
    op.add_column(
        "score_runs", sa.Column("unreplayable_since", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("score_runs", sa.Column("unreplayable_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("score_runs") as batch:
        batch.drop_column("unreplayable_reason")
        batch.drop_column("unreplayable_since")
