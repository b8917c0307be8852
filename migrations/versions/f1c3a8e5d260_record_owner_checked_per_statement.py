"""record owner checked per statement: on PostgreSQL, xero_record's connection is checked by
statement-level triggers instead of a per-row foreign key, payloads are compressed with lz4, and
book_total leaves room on its pages for its in-place updates (fillfactor)

Revision ID: f1c3a8e5d260
Revises: f1a3c5e7b902
Create Date: 2026-12-02 16:20:00

wizard/models/record_owner.py says what the triggers guarantee (what the foreign key did). SQLite
keeps its foreign key: nothing changes there. lz4 applies to payloads written from now on (the
stored ones stay pglz-compressed until rewritten; both read back alike), the fillfactor to pages
filled from now on.
"""

from alembic import op

from wizard.models import record_owner
from wizard.models.books import FILLFACTOR
from wizard.models.sync import PAYLOAD_LZ4

revision = "f1c3a8e5d260"
down_revision = "f1a3c5e7b902"
branch_labels = None
depends_on = None

FOREIGN_KEY = "xero_record_connection_id_fkey"


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    # The triggers take over in the transaction that drops the foreign key: no write goes unchecked.
    for statement in record_owner.POSTGRESQL:
        op.execute(statement)
    op.drop_constraint(FOREIGN_KEY, "xero_record", type_="foreignkey")
    op.execute(PAYLOAD_LZ4)
    op.execute(f"ALTER TABLE book_total SET (fillfactor = {FILLFACTOR})")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE book_total RESET (fillfactor)")
    op.execute("ALTER TABLE xero_record ALTER COLUMN payload SET COMPRESSION pglz")
    op.create_foreign_key(FOREIGN_KEY, "xero_record", "connection", ["connection_id"], ["id"])
    for statement in record_owner.DROP_POSTGRESQL:
        op.execute(statement)
