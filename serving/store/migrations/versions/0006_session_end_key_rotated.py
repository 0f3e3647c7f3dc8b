"""Sessions ended by a key rotation: ``web_sessions.end_reason`` may be ``key_rotated``
(``outreach keys rotate --kind session``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ck_web_sessions_end_reason"
BEFORE = "end_reason IS NULL OR end_reason IN ('signed_out', 'idle', 'expired')"
AFTER = "end_reason IS NULL OR end_reason IN ('signed_out', 'idle', 'expired', 'key_rotated')"


def _replace(condition: str) -> None:
    with op.batch_alter_table("web_sessions", recreate="auto") as batch:
        batch.drop_constraint(op.f(NAME), type_="check")
        batch.create_check_constraint(op.f(NAME), sa.text(condition))


def upgrade() -> None:
    _replace(AFTER)


def downgrade() -> None:
    _replace(BEFORE)
