"""the queue: one stored SLA sort key, keyset indexes and search

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# As in inbox/models/conversation.py at this revision.
SENTINEL = "'9999-12-31 00:00:00.000000'"
EARLIEST_DUE = (
    "COALESCE(CASE"
    " WHEN first_response_due_at IS NOT NULL"
    " AND (next_response_due_at IS NULL OR first_response_due_at <= next_response_due_at)"
    " AND (resolution_due_at IS NULL OR first_response_due_at <= resolution_due_at) THEN first_response_due_at"
    " WHEN next_response_due_at IS NOT NULL"
    " AND (resolution_due_at IS NULL OR next_response_due_at <= resolution_due_at) THEN next_response_due_at"
    f" ELSE resolution_due_at END, {SENTINEL})"
)
WAITING = f"COALESCE(customer_waiting_since, {SENTINEL})"
ACTIVE = "status IN ('new', 'open', 'pending', 'snoozed')"
KEYS = ['sla_sort_at', 'waiting_sort_at', 'id']
QUEUE_INDEXES = [
    ('ix_conversations_queue_all', KEYS, ACTIVE),
    ('ix_conversations_queue_assignee', ['assignee_id', *KEYS], ACTIVE),
    ('ix_conversations_queue_team', ['team_id', *KEYS], ACTIVE),
    ('ix_conversations_queue_unassigned', [*KEYS, 'team_id'], ACTIVE + " AND assignee_id IS NULL AND NOT triage"),
    ('ix_conversations_queue_triage', KEYS, ACTIVE + " AND triage"),
]
TRIGRAM_INDEXES = [
    ('ix_customers_display_name_trgm', 'customers', 'display_name'),
    ('ix_identities_handle_trgm', 'identities', 'handle'),
    ('ix_messages_text_trgm', 'messages', 'text'),
]


def _postgresql() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def _rebuild() -> str:
    """SQLite cannot ADD or DROP a stored generated column in place; PostgreSQL can."""
    return 'auto' if _postgresql() else 'always'


def upgrade():
    # SQLite cannot ADD a stored generated column: the batch rebuilds the table.
    with op.batch_alter_table('conversations', schema=None, recreate=_rebuild()) as batch_op:
        batch_op.add_column(sa.Column('sla_sort_at', sa.DateTime(), sa.Computed(EARLIEST_DUE, persisted=True),
                                      nullable=False))
        batch_op.add_column(sa.Column('waiting_sort_at', sa.DateTime(), sa.Computed(WAITING, persisted=True),
                                      nullable=False))
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        for name, columns, where in QUEUE_INDEXES:
            batch_op.create_index(name, columns, unique=False,
                                  postgresql_where=sa.text(where), sqlite_where=sa.text(where))
    if _postgresql():
        # In public, so that every schema's search_path (and the tests' own schemas) finds the operators.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
    for name, table, column in TRIGRAM_INDEXES:  # SQLite: empty (WHERE 0), its search scans
        op.create_index(name, table, [column], unique=False, postgresql_using='gin',
                        postgresql_ops={column: 'public.gin_trgm_ops'}, sqlite_where=sa.text('0'))


def downgrade():
    for name, table, _column in TRIGRAM_INDEXES:  # the extension stays: other schemas may use it
        op.drop_index(name, table_name=table)
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        for name, _columns, where in reversed(QUEUE_INDEXES):
            batch_op.drop_index(name, postgresql_where=sa.text(where), sqlite_where=sa.text(where))
    with op.batch_alter_table('conversations', schema=None, recreate=_rebuild()) as batch_op:
        batch_op.drop_column('waiting_sort_at')
        batch_op.drop_column('sla_sort_at')
