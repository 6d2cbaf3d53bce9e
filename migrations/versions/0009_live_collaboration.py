"""live collaboration: per-conversation sequence numbers and presence

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), server_default='1', nullable=False))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('presence_source', sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('presence_source')

    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('seq')
