"""notes with mentions, notifications and canned responses in two languages

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=True),
    sa.Column('note_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('excerpt', sa.String(length=280), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_notifications_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_notifications_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['note_id'], ['notes.id'], name=op.f('fk_notifications_note_id_notes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_user_read_created', ['user_id', 'read_at', 'created_at'], unique=False)

    with op.batch_alter_table('canned_responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shortcut', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('text_en', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_canned_responses_shortcut'), ['shortcut'])

    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('snoozed_until', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_conversations_snoozed_until', ['snoozed_until'], unique=False)


def downgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_snoozed_until')
        batch_op.drop_column('snoozed_until')

    with op.batch_alter_table('canned_responses', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_canned_responses_shortcut'), type_='unique')
        batch_op.drop_column('updated_at')
        batch_op.drop_column('text_en')
        batch_op.drop_column('shortcut')

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_read_created')

    op.drop_table('notifications')
