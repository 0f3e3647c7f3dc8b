"""Logged listings: ``list_entries.path`` and ``list_entries.selection_probability``.

- ``path`` (``ranked`` | ``program_gap`` | ``exploration``): how the entry reached its list
  (until now the path was told only by the stored purpose text and the exploration flag); rows
  written before are filled from those two;
- ``selection_probability``: the probability that the listing design put the household on the
  list (1.0 for ranked and program-gap entries; for an exploration entry its inclusion
  probability, see ``serving.batch.priority``). Rows written before are filled with 1.0 for
  ranked and program-gap entries and left null for exploration entries: their draw was not
  logged, and null says "not known" rather than a guess.

Revision ID: 0005
Revises: 0004 (0003 and 0004 were written in parallel: sessions and holders, replayable runs)
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROGRAM_GAP_MARK = "Program gap (项目缺口)%"
"""How the stored purpose of a program-gap entry begins (``PROGRAM_GAP_PURPOSE``)."""


def upgrade() -> None:
    with op.batch_alter_table("list_entries") as batch:
        batch.add_column(sa.Column("path", sa.Text(), nullable=True))
        batch.add_column(sa.Column("selection_probability", sa.Float(), nullable=True))
    entries = sa.table(
        "list_entries",
        sa.column("path", sa.Text()),
        sa.column("selection_probability", sa.Float()),
        sa.column("exploration", sa.Boolean()),
        sa.column("purpose", sa.Text()),
    )
    op.execute(
        entries.update().values(
            path=sa.case(
                (entries.c.exploration, "exploration"),
                (entries.c.purpose.like(PROGRAM_GAP_MARK), "program_gap"),
                else_="ranked",
            ),
            selection_probability=sa.case((entries.c.exploration, None), else_=1.0),
        )
    )
    with op.batch_alter_table("list_entries") as batch:
        batch.alter_column("path", existing_type=sa.Text(), nullable=False)
        batch.create_check_constraint("path", "path IN ('ranked', 'program_gap', 'exploration')")
        batch.create_check_constraint(
            "selection_probability",
            "selection_probability IS NULL OR "
            "(selection_probability > 0 AND selection_probability <= 1)",
        )


def downgrade() -> None:
    with op.batch_alter_table("list_entries") as batch:
        batch.drop_constraint(op.f("ck_list_entries_selection_probability"), type_="check")
        batch.drop_constraint(op.f("ck_list_entries_path"), type_="check")
        batch.drop_column("selection_probability")
        batch.drop_column("path")
