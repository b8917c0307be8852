"""xero_report.period holds `<tracking category id>:<month>` for reports by tracking category

Revision ID: c3d9e1f4a6b8
Revises: b7e4f0c2a917
Create Date: 2026-12-02 08:05:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c3d9e1f4a6b8"
down_revision = "b7e4f0c2a917"
branch_labels = None
depends_on = None


def upgrade():
    # 36 characters of category id, a colon and a month: PostgreSQL refused them in 40.
    with op.batch_alter_table("xero_report") as batch_op:
        batch_op.alter_column("period", existing_type=sa.String(length=40), type_=sa.String(length=80))


def downgrade():
    with op.batch_alter_table("xero_report") as batch_op:
        batch_op.alter_column("period", existing_type=sa.String(length=80), type_=sa.String(length=40))
