"""sign-in lifetimes and re-authentication times; the audit log append-only in PostgreSQL

Revision ID: 5e1c0a7d2b94
Revises: a7c31e0b5f42
Create Date: 2026-12-02 06:45:00

"""
from alembic import op
import sqlalchemy as sa

from wizard.models import audit_guard

# revision identifiers, used by Alembic.
revision = '5e1c0a7d2b94'
down_revision = 'a7c31e0b5f42'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_seen_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('password_at', sa.DateTime(), nullable=True))
    # Sign-ins from before: seen and authenticated when they began (old ones then expire at once).
    op.execute("UPDATE login_session SET last_seen_at = created_at, password_at = created_at")
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.alter_column('last_seen_at', existing_type=sa.DateTime(), nullable=False)
        batch_op.alter_column('password_at', existing_type=sa.DateTime(), nullable=False)

    if op.get_bind().dialect.name == 'postgresql':
        for statement in audit_guard.CREATE:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for statement in audit_guard.DROP:
            op.execute(statement)
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.drop_column('password_at')
        batch_op.drop_column('last_seen_at')
