"""xero_login: pending OAuth state kept server-side (issue 11 item 1); notification.resolved_at

Revision ID: a7c31e0b5f42
Revises: d158b5658106
Create Date: 2026-12-02 06:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c31e0b5f42'
down_revision = 'd158b5658106'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('xero_login',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=128), nullable=False),
    sa.Column('code_verifier', sa.String(length=128), nullable=False),
    sa.Column('nonce', sa.String(length=128), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('reconnect_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('consumed_at', sa.DateTime(), nullable=True),
    sa.Column('token_set_id', sa.Integer(), nullable=True),
    sa.Column('auth_event_id', sa.String(length=64), nullable=False),
    sa.Column('tenants', sa.JSON(), nullable=True),
    sa.Column('chosen_tenant_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['reconnect_id'], ['connection.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['token_set_id'], ['token_set.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('xero_login', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_xero_login_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_xero_login_workspace_id'), ['workspace_id'], unique=False)

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolved_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_column('resolved_at')

    with op.batch_alter_table('xero_login', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_xero_login_workspace_id'))
        batch_op.drop_index(batch_op.f('ix_xero_login_user_id'))

    op.drop_table('xero_login')
