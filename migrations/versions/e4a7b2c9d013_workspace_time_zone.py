"""workspace.time_zone: the zone server-rendered times are written in (issue 16)

Revision ID: e4a7b2c9d013
Revises: c3d9e1f4a6b8
Create Date: 2026-12-02 12:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "e4a7b2c9d013"
down_revision = "c3d9e1f4a6b8"
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: existing workspaces keep showing UTC until an admin picks a zone.
    with op.batch_alter_table("workspace") as batch_op:
        batch_op.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("workspace") as batch_op:
        batch_op.drop_column("time_zone")
