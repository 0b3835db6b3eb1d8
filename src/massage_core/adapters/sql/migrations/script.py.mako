"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}

revision: str = ${repr(up_revision)}
down_revision: str | None = ${repr(down_revision)}
branch_labels: str | None = ${repr(branch_labels)}
depends_on: str | None = ${repr(depends_on)}


def upgrade() -> None:
    """Apply this revision."""
    ${upgrades if upgrades else "raise RuntimeError('this revision has no upgrade steps: write them before committing it')"}


def downgrade() -> None:
    """Revert this revision."""
    ${downgrades if downgrades else "raise RuntimeError('this revision has no downgrade steps: write them before committing it')"}
