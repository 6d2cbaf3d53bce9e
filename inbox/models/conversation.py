"""Conversations (tickets), their messages, notes, tags and event history."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from inbox.extensions import db
from inbox.models.base import utcnow
from inbox.models.customer import trigram_index

STATUSES = ("new", "open", "pending", "snoozed", "resolved")
ACTIVE_STATUSES = ("new", "open", "pending", "snoozed")
PREVIEW_LENGTH = 280  # the queue shows the start of the latest message
# Outbound: queued -> sending -> sent -> delivered -> read, or failed. Inbound: received.
MESSAGE_STATES = ("received", "queued", "sending", "sent", "delivered", "read", "failed")

# The queue's order (inbox/services/queue.py): SLA due first, then longest waiting, then id. Both keys
# are stored columns computed by the database (ingest's bulk writes cannot forget them), NOT NULL
# with a far-future sentinel when no target runs / nobody waits, so that a page boundary is one
# row-value comparison an index can serve. The sentinel is written exactly as SQLAlchemy stores a
# datetime on SQLite (text that must compare equal to a bound parameter) and parsed by PostgreSQL.
SORT_SENTINEL = datetime(9999, 12, 31)
_SENTINEL_SQL = "'9999-12-31 00:00:00.000000'"
# The earliest of three nullable due times, portable: SQLite's min(a, b, c) is NULL when any is.
_EARLIEST_DUE_SQL = (
    "COALESCE(CASE"
    " WHEN first_response_due_at IS NOT NULL"
    " AND (next_response_due_at IS NULL OR first_response_due_at <= next_response_due_at)"
    " AND (resolution_due_at IS NULL OR first_response_due_at <= resolution_due_at) THEN first_response_due_at"
    " WHEN next_response_due_at IS NOT NULL"
    " AND (resolution_due_at IS NULL OR next_response_due_at <= resolution_due_at) THEN next_response_due_at"
    f" ELSE resolution_due_at END, {_SENTINEL_SQL})"
)
_WAITING_SQL = f"COALESCE(customer_waiting_since, {_SENTINEL_SQL})"
# The queue's indexes cover the active conversations only (a few percent of a long history).
ACTIVE_SQL = "status IN ('new', 'open', 'pending', 'snoozed')"
QUEUE_KEYS = ("sla_sort_at", "waiting_sort_at", "id")

conversation_tags = Table(
    "conversation_tags",
    db.metadata,
    Column("conversation_id", ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
)


class Tag(db.Model):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)


class Conversation(db.Model):
    __tablename__ = "conversations"
    __table_args__ = (
        # Finding the conversation of a public thread (several customers may share one post).
        Index("ix_conversations_channel_thread", "channel_id", "thread_external_id"),
        # The queue: by team and status, newest activity first.
        Index("ix_conversations_team_status_last", "team_id", "status", "last_message_at"),
        Index("ix_conversations_status_last", "status", "last_message_at"),
        Index("ix_conversations_assignee_status", "assignee_id", "status"),
        # Threading a DM into the customer's open conversation on that channel.
        Index("ix_conversations_customer_channel_status", "customer_id", "channel_id", "status"),
        # The SLA breach job's scan.
        Index("ix_conversations_sla_check_at", "sla_check_at"),
        # The queue's views (inbox/services/queue.py), each served in order by one index.
        Index("ix_conversations_queue_all", *QUEUE_KEYS,
              postgresql_where=sa.text(ACTIVE_SQL), sqlite_where=sa.text(ACTIVE_SQL)),
        Index("ix_conversations_queue_assignee", "assignee_id", *QUEUE_KEYS,
              postgresql_where=sa.text(ACTIVE_SQL), sqlite_where=sa.text(ACTIVE_SQL)),
        Index("ix_conversations_queue_team", "team_id", *QUEUE_KEYS,
              postgresql_where=sa.text(ACTIVE_SQL), sqlite_where=sa.text(ACTIVE_SQL)),
        # Every team's unassigned rows in order; team_id last, so an agent's count reads only the index.
        Index("ix_conversations_queue_unassigned", *QUEUE_KEYS, "team_id",
              postgresql_where=sa.text(ACTIVE_SQL + " AND assignee_id IS NULL AND NOT triage"),
              sqlite_where=sa.text(ACTIVE_SQL + " AND assignee_id IS NULL AND NOT triage")),
        Index("ix_conversations_queue_triage", *QUEUE_KEYS,
              postgresql_where=sa.text(ACTIVE_SQL + " AND triage"), sqlite_where=sa.text(ACTIVE_SQL + " AND triage")),
        # The snooze job's scan: conversations whose snooze has run out.
        Index("ix_conversations_snoozed_until", "snoozed_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="open")
    priority: Mapped[int] = mapped_column(default=2)  # 1 urgent … 4 low
    is_public: Mapped[bool] = mapped_column(default=False)
    thread_external_id: Mapped[str | None] = mapped_column(String(255))
    intent: Mapped[str | None] = mapped_column(String(32))
    intent_confidence: Mapped[float | None]
    # Which model gave the intent (None: no model, or an agent corrected it; the events say which).
    intent_model_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL")
    )
    language: Mapped[str | None] = mapped_column(String(8))
    sentiment: Mapped[str | None] = mapped_column(String(8))
    preview: Mapped[str] = mapped_column(String(PREVIEW_LENGTH), default="")
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_customer_message_at: Mapped[datetime | None]
    first_response_due_at: Mapped[datetime | None]
    resolution_due_at: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    # Routing (inbox/services/routing_decisions.py): an intent not trusted waits in triage with no
    # team; public noise is stored resolved; queued_at is when it began waiting for an agent.
    triage: Mapped[bool] = mapped_column(default=False, server_default=false())
    noise: Mapped[bool] = mapped_column(default=False, server_default=false())
    queued_at: Mapped[datetime | None]
    supervisor_alerted_at: Mapped[datetime | None]  # the ladder alerts once per wait
    # The SLA clock (inbox/services/sla.py): a due time is set while its target runs, None once met.
    next_response_due_at: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]  # this episode's start: created, or last reopened
    customer_waiting_since: Mapped[datetime | None]  # the oldest message the agents have not answered
    last_agent_reply_at: Mapped[datetime | None]
    paused_since: Mapped[datetime | None]  # pending: waiting on the customer
    sla_pauses: Mapped[list[list[str]]] = mapped_column(JSON, default=list, server_default="[]")  # ended pauses
    sla_policy: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the policy the clock runs on
    sla_check_at: Mapped[datetime | None]  # when the breach job looks next (a due time not yet recorded)
    # The queue's sort keys, kept by the database (see SORT_SENTINEL): never written by the app.
    sla_sort_at: Mapped[datetime] = mapped_column(sa.Computed(_EARLIEST_DUE_SQL, persisted=True))
    waiting_sort_at: Mapped[datetime] = mapped_column(sa.Computed(_WAITING_SQL, persisted=True))
    snoozed_until: Mapped[datetime | None]  # status "snoozed": back to "open" at this time (inbox/services/snooze.py)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Bumped once per transaction that changes the conversation, its messages, notes or events
    # (bump_seq_on_flush below; ingest's bulk path bumps it itself): a screen that sees a gap catches up.
    seq: Mapped[int] = mapped_column(default=1, server_default="1")

    channel = relationship("Channel")
    customer = relationship("Customer")
    team = relationship("Team")
    assignee = relationship("User")
    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", order_by="Message.id"
    )
    notes: Mapped[list[Note]] = relationship(order_by="Note.id", back_populates="conversation")
    tags: Mapped[list[Tag]] = relationship(secondary=conversation_tags)

    @property
    def sla_due_at(self) -> datetime | None:
        """The earliest due time of the SLA targets still running."""
        due = (self.first_response_due_at, self.next_response_due_at, self.resolution_due_at)
        return min((d for d in due if d is not None), default=None)

    @property
    def sla_remaining(self) -> timedelta | None:
        """Until the earliest due time; negative once it has passed (the target is breached)."""
        return None if self.sla_due_at is None else self.sla_due_at - utcnow()


class Message(db.Model):
    __tablename__ = "messages"
    __table_args__ = (
        # Replays, retries and duplicate webhooks store one row (DESIGN.md step 3).
        UniqueConstraint("channel_id", "external_id"),
        Index("ix_messages_conversation_id_id", "conversation_id", "id"),
        trigram_index("ix_messages_text_trgm", "text"),  # the queue's search
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    external_id: Mapped[str | None] = mapped_column(String(255))
    parent_external_id: Mapped[str | None] = mapped_column(String(255))
    direction: Mapped[str] = mapped_column(String(8))  # "in" | "out"
    author_identity_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id", ondelete="SET NULL"))
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    is_public: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(16), default="received")
    error: Mapped[str | None] = mapped_column(Text)
    # One reply per click: the browser's token for this reply (RELIABILITY.md case 33).
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Where replies go on the platform when that is not the author (X DM conversation, Telegram chat).
    platform_conversation_id: Mapped[str | None] = mapped_column(String(255))
    template: Mapped[str | None] = mapped_column(String(128))  # an approved template sent instead of text
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None]  # a queued reply waiting out a retry or a rate limit
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]

    conversation: Mapped[Conversation] = relationship(back_populates="messages")
    author_identity = relationship("Identity")
    author_user = relationship("User")


class Note(db.Model):
    """A private note between agents; never sent to the customer."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    conversation: Mapped[Conversation] = relationship(back_populates="notes")
    author = relationship("User")


class ConversationEvent(db.Model):
    """Every assignment, status change, reply and breach: the source of every report."""

    __tablename__ = "conversation_events"
    __table_args__ = (
        Index("ix_conversation_events_conversation_created", "conversation_id", "created_at"),
        Index("ix_conversation_events_kind_created", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    conversation: Mapped[Conversation] = relationship()


# ---- the per-conversation sequence number ------------------------------------------------------
# Every transaction that changes a conversation, adds or changes one of its messages, notes or
# events bumps ``conversations.seq`` once, atomically (``seq = seq + 1`` in the UPDATE, so two
# transactions never hand out the same number on PostgreSQL). Screens compare the number on each
# event with the last they saw and fetch the conversation again on a gap or after a reconnect.
_SEQ_BUMPED = "tawasul_seq_bumped"  # session.info: conversations already bumped in this transaction


def _seq_targets(session) -> dict[int, Any]:
    found: dict[int, Any] = {}
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Conversation):
            if obj.id is not None and obj in session.dirty and session.is_modified(obj):
                found[obj.id] = obj
            continue
        if not isinstance(obj, Message | Note | ConversationEvent):
            continue
        if obj in session.dirty and not session.is_modified(obj):
            continue
        owner = obj.__dict__.get("conversation")  # set through the relationship, id not yet known
        conversation_id = obj.conversation_id or (owner.id if owner is not None else None)
        if conversation_id is not None:
            found.setdefault(conversation_id, owner)
    return found


@sa.event.listens_for(Session, "before_flush")
def _bump_seq_on_flush(session, _context, _instances) -> None:
    bumped = session.info.setdefault(_SEQ_BUMPED, set())
    with session.no_autoflush:
        for conversation_id, conversation in _seq_targets(session).items():
            if conversation_id in bumped:
                continue
            conversation = conversation if isinstance(conversation, Conversation) else \
                session.get(Conversation, conversation_id)
            if conversation is not None:
                conversation.seq = Conversation.seq + 1
                bumped.add(conversation_id)


@sa.event.listens_for(Session, "after_flush")
def _new_conversations_start_at_one(session, _context) -> None:
    bumped = session.info.setdefault(_SEQ_BUMPED, set())
    bumped.update(obj.id for obj in session.new if isinstance(obj, Conversation))


@sa.event.listens_for(Session, "after_transaction_end")
def _forget_bumped(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_SEQ_BUMPED, None)


def bump_seq(conversation_ids, created_ids=()) -> dict[int, int]:
    """For Core writers (ingest's batches): bump the conversations not bumped yet in this
    transaction, note the ones just inserted (they start at 1), and return every seq now."""
    from inbox.db import among

    session = db.session()
    bumped = session.info.setdefault(_SEQ_BUMPED, set())
    bumped.update(created_ids)
    ids = sorted(set(conversation_ids) - bumped)
    if ids:
        session.execute(sa.update(Conversation).where(among(Conversation.id, ids))
                        .values(seq=Conversation.seq + 1).execution_options(synchronize_session=False))
        bumped.update(ids)
    wanted = sorted(set(conversation_ids) | set(created_ids))
    if not wanted:
        return {}
    rows = session.execute(sa.select(Conversation.id, Conversation.seq).where(among(Conversation.id, wanted)))
    return dict(rows.all())
