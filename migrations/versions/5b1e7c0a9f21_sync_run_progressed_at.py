"""sync_run.progressed_at: when the run last started or committed a page (stalled-run notice)

Revision ID: 5b1e7c0a9f21
Revises: 5e1c0a7d2b94
Create Date: 2026-12-02 06:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "5b1e7c0a9f21"
down_revision = "5e1c0a7d2b94"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sync_run") as batch_op:
        batch_op.add_column(sa.Column("progressed_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("sync_run") as batch_op:
        batch_op.drop_column("progressed_at")
