"""book totals: per connection, basis, account reference and day, the cents posted

Revision ID: a7c41e9b2f10
Revises: 5b1e7c0a9f21
Create Date: 2026-12-02 07:05:00.000000

Books synced before this revision have no totals: run `flask --app wsgi rebuild-book-totals`
once after upgrading (it recomputes them from the stored records).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c41e9b2f10'
down_revision = '5b1e7c0a9f21'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('book_total',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('basis', sa.String(length=20), nullable=False),
    sa.Column('account_ref', sa.String(length=200), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connection.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('connection_id', 'basis', 'account_ref', 'day')
    )


def downgrade():
    op.drop_table('book_total')
