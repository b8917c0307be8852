"""book_total_tracking: book totals also kept per tracking option (the FP&A views read them)

Revision ID: e5b2c8d1f047
Revises: e5a2c7d9b013
Create Date: 2026-12-02 12:40:00

Existing rows are the untracked totals (tracking_option ""). Books synced before this revision
have no per-option totals yet: run `flask --app wsgi rebuild-book-totals` once after upgrading.
"""

import sqlalchemy as sa
from alembic import op

revision = "e5b2c8d1f047"
down_revision = "e5a2c7d9b013"
branch_labels = None
depends_on = None

KEY = ["connection_id", "basis", "account_ref", "day", "tracking_option"]
# a7c41e9b2f10 left its unique constraint unnamed: PostgreSQL named it; SQLite's batch copy
# names the reflected one by this convention so it can be dropped.
SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _old_key_name() -> str:
    if op.get_bind().dialect.name == "postgresql":
        return "book_total_connection_id_basis_account_ref_day_key"
    return "uq_book_total_connection_id"


def upgrade():
    with op.batch_alter_table("book_total", naming_convention=SQLITE_NAMES) as batch_op:
        batch_op.add_column(sa.Column("tracking_option", sa.String(length=64), server_default="", nullable=False))
        batch_op.drop_constraint(_old_key_name(), type_="unique")
        batch_op.create_unique_constraint("uq_book_total_key", KEY)


def downgrade():
    op.execute("DELETE FROM book_total WHERE tracking_option <> ''")
    with op.batch_alter_table("book_total") as batch_op:
        batch_op.drop_constraint("uq_book_total_key", type_="unique")
        batch_op.drop_column("tracking_option")
        batch_op.create_unique_constraint(
            "book_total_connection_id_basis_account_ref_day_key", KEY[:-1]
        )
