"""SLA policies per priority, the business-hours calendar, the SLA clock on conversations

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 10:02:11.204113

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# The defaults as of this revision (inbox/services/sla.py uses the same until an admin saves others).
POLICIES = [
    {"priority": 1, "name": "Urgent", "first_response_minutes": 15, "next_response_minutes": 60,
     "resolution_minutes": 480, "business_hours": False},
    {"priority": 2, "name": "High", "first_response_minutes": 60, "next_response_minutes": 120,
     "resolution_minutes": 1440, "business_hours": True},
    {"priority": 3, "name": "Normal", "first_response_minutes": 240, "next_response_minutes": 240,
     "resolution_minutes": 2880, "business_hours": True},
    {"priority": 4, "name": "Low", "first_response_minutes": 1440, "next_response_minutes": 1440,
     "resolution_minutes": 7200, "business_hours": True},
]
OFFICE_DAY = [["08:00", "20:00"]]
HOURS = {"timezone": "Asia/Amman",
         "weekly": {day: OFFICE_DAY for day in ("monday", "tuesday", "wednesday", "thursday", "sunday")},
         "holidays": [], "overrides": []}


def upgrade():
    policies = op.create_table('sla_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('first_response_minutes', sa.Integer(), nullable=True),
    sa.Column('next_response_minutes', sa.Integer(), nullable=True),
    sa.Column('resolution_minutes', sa.Integer(), nullable=True),
    sa.Column('business_hours', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_policies')),
    sa.UniqueConstraint('priority', name=op.f('uq_sla_policies_priority'))
    )
    calendar = op.create_table('business_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('config', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_business_hours'))
    )
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_response_due_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('opened_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('customer_waiting_since', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('last_agent_reply_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('paused_since', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('sla_pauses', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('sla_policy', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('sla_check_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_conversations_sla_check_at', ['sla_check_at'], unique=False)

    now = datetime.now(timezone.utc).replace(tzinfo=None)
    op.bulk_insert(policies, [{**policy, "updated_at": now} for policy in POLICIES])
    op.bulk_insert(calendar, [{"config": HOURS, "updated_at": now}])


def downgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_sla_check_at')
        batch_op.drop_column('sla_check_at')
        batch_op.drop_column('sla_policy')
        batch_op.drop_column('sla_pauses')
        batch_op.drop_column('paused_since')
        batch_op.drop_column('last_agent_reply_at')
        batch_op.drop_column('customer_waiting_since')
        batch_op.drop_column('opened_at')
        batch_op.drop_column('next_response_due_at')

    op.drop_table('business_hours')
    op.drop_table('sla_policies')
