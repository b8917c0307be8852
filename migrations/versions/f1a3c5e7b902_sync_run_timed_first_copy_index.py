"""sync_run: a partial index of successful initial runs by finish time (step 1's first-copy figure)

Revision ID: f1a3c5e7b902
Revises: e5b2c8d1f047
Create Date: 2026-12-02 16:20:00

Step 1 reads the latest 50 of these across the fleet; without this index that read scans and
sorts every run ever made.
"""

import sqlalchemy as sa
from alembic import op

revision = "f1a3c5e7b902"
down_revision = "e5b2c8d1f047"
branch_labels = None
depends_on = None

TIMED_FIRST_COPY = sa.text("kind = 'initial' AND state = 'succeeded'")


def upgrade():
    op.create_index(
        "ix_sync_run_timed_first_copy",
        "sync_run",
        ["finished_at"],
        sqlite_where=TIMED_FIRST_COPY,
        postgresql_where=TIMED_FIRST_COPY,
    )


def downgrade():
    op.drop_index("ix_sync_run_timed_first_copy", table_name="sync_run")
