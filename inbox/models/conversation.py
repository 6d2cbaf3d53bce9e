"""Conversations (tickets), their messages, notes, tags and event history."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inbox.extensions import db
from inbox.models.base import utcnow

STATUSES = ("new", "open", "pending", "snoozed", "resolved")
ACTIVE_STATUSES = ("new", "open", "pending", "snoozed")
PREVIEW_LENGTH = 280  # the queue shows the start of the latest message
# Outbound: queued -> sending -> sent -> delivered -> read, or failed. Inbound: received.
MESSAGE_STATES = ("received", "queued", "sending", "sent", "delivered", "read", "failed")

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
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    channel = relationship("Channel")
    customer = relationship("Customer")
    team = relationship("Team")
    assignee = relationship("User")
    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", order_by="Message.id"
    )
    notes: Mapped[list[Note]] = relationship(order_by="Note.id")
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
