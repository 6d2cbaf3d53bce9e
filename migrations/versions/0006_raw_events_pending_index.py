"""raw events: a partial index on the pending ones, for ingest's claim and the sweeper

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 08:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")


def upgrade():
    with op.batch_alter_table('raw_events', schema=None) as batch_op:
        batch_op.drop_index('ix_raw_events_status_received')
        batch_op.create_index('ix_raw_events_pending', ['id'], unique=False,
                              postgresql_where=PENDING, sqlite_where=PENDING)


def downgrade():
    with op.batch_alter_table('raw_events', schema=None) as batch_op:
        batch_op.drop_index('ix_raw_events_pending', postgresql_where=PENDING, sqlite_where=PENDING)
        batch_op.create_index('ix_raw_events_status_received', ['status', 'received_at'], unique=False)
