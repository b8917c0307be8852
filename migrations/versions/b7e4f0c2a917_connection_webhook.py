"""connection_webhook: what Xero's webhooks said changed, per connection (issue 17)

Revision ID: b7e4f0c2a917
Revises: a7c41e9b2f10
Create Date: 2026-12-02 06:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e4f0c2a917'
down_revision = 'a7c41e9b2f10'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('connection_webhook',
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('last_event_at', sa.DateTime(), nullable=True),
    sa.Column('last_received_at', sa.DateTime(), nullable=False),
    sa.Column('pending_streams', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connection.id'], ),
    sa.PrimaryKeyConstraint('connection_id')
    )


def downgrade():
    op.drop_table('connection_webhook')
