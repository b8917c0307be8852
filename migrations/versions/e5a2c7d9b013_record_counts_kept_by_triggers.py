"""record counts: live records per connection and data type, kept by triggers on xero_record

Revision ID: e5a2c7d9b013
Revises: e4a7b2c9d013
Create Date: 2026-12-02 12:40:00.000000

The Data page read "records" with a count over xero_record (about half a second at 500k records);
the triggers (wizard/models/record_counts.py) now keep the figure as records are written. The
upgrade fills it from the records already stored, in the same transaction as the triggers.
"""
from alembic import op
import sqlalchemy as sa

from wizard.models import record_counts


# revision identifiers, used by Alembic.
revision = 'e5a2c7d9b013'
down_revision = 'e4a7b2c9d013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('record_count',
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('stream', sa.String(length=60), nullable=False),
    sa.Column('live', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connection.id'], ),
    sa.PrimaryKeyConstraint('connection_id', 'stream')
    )
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        # No sync may write records between the backfill and the triggers taking over.
        op.execute('LOCK TABLE xero_record IN SHARE ROW EXCLUSIVE MODE')
    for statement in record_counts.statements(dialect):
        op.execute(statement)
    op.execute(record_counts.RECOUNT)


def downgrade():
    for statement in record_counts.drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table('record_count')
