"""Store what a platform delivered, once, and thread it into a conversation (DESIGN.md 1–3)."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from connectors.errors import PayloadError
from connectors.registry import connector_for
from connectors.types import InboundMessage
from inbox import realtime
from inbox.db import insert_ignoring_duplicates
from inbox.extensions import db
from inbox.models import Channel, Conversation, ConversationEvent, Customer, Identity, Message, RawEvent
from inbox.models.base import utcnow
from inbox.models.conversation import ACTIVE_STATUSES
from routing.language import detect_language
from routing.normalize import clean_for_storage

log = logging.getLogger(__name__)
PREVIEW_LENGTH = 280


@dataclass(frozen=True)
class Ingested:
    message_id: int
    conversation_id: int
    conversation_created: bool
    reopened: bool


def record_raw_event(channel_id: int, body: dict[str, Any], dedup_key: str | None) -> int | None:
    """Keep the payload as delivered. Returns its id, or None when this delivery was stored before."""
    stmt = insert_ignoring_duplicates(
        RawEvent,
        {
            "channel_id": channel_id,
            "dedup_key": dedup_key,
            "payload": clean_for_storage(json.dumps(body, ensure_ascii=False)),
            "status": "pending",
            "received_at": utcnow(),
        },
        ["channel_id", "dedup_key"],
    )
    raw_id = db.session.execute(stmt).scalar()
    db.session.commit()
    return raw_id


def process_raw_event(raw_event_id: int) -> list[Ingested]:
    """Parse a stored payload and ingest its messages; safe to run again on the same event."""
    raw = db.session.get(RawEvent, raw_event_id)
    if raw is None or raw.status == "processed":
        return []
    channel = db.session.get(Channel, raw.channel_id)
    connector = connector_for(channel.platform, channel.settings)
    try:
        messages = connector.parse(json.loads(raw.payload))
    except (PayloadError, ValueError) as exc:
        # Poison: keep it for a person to look at, never retry it forever.
        raw.status, raw.error = "failed", str(exc)
        db.session.commit()
        log.warning("raw event %s unreadable: %s", raw_event_id, exc)
        return []
    results = [result for message in messages if (result := ingest_message(channel.id, message))]
    raw = db.session.get(RawEvent, raw_event_id)
    raw.status, raw.processed_at, raw.error = "processed", utcnow(), None
    db.session.commit()
    return results


def ingest_message(channel_id: int, inbound: InboundMessage) -> Ingested | None:
    """Store one inbound message in its conversation; None if it was stored before."""
    channel = db.session.get(Channel, channel_id)
    already = db.session.scalar(
        select(Message.id).where(Message.channel_id == channel_id, Message.external_id == inbound.external_id)
    )
    if already:
        db.session.rollback()
        return None
    text = clean_for_storage(inbound.text)
    identity = _identity_for(inbound)
    conversation, created, reopened = _conversation_for(channel, identity.customer_id, inbound)
    conversation.preview = text[:PREVIEW_LENGTH]
    conversation.last_message_at = conversation.last_customer_message_at = utcnow()
    if created or reopened:
        conversation.language = detect_language(text)
    db.session.flush()
    stmt = insert_ignoring_duplicates(
        Message,
        {
            "conversation_id": conversation.id,
            "channel_id": channel_id,
            "external_id": inbound.external_id,
            "parent_external_id": inbound.parent_id,
            "direction": "in",
            "author_identity_id": identity.id,
            "text": text,
            "attachments": [vars(a) for a in inbound.attachments],
            "is_public": inbound.is_public,
            "state": "received",
            "created_at": utcnow(),
        },
        ["channel_id", "external_id"],
    )
    message_id = db.session.execute(stmt).scalar()
    if message_id is None:  # a concurrent writer stored it first: undo everything above
        db.session.rollback()
        return None
    db.session.commit()
    message = db.session.get(Message, message_id)
    realtime.conversation_updated(conversation, created=created)
    realtime.message_created(message)
    return Ingested(message_id, conversation.id, created, reopened)


def _identity_for(inbound: InboundMessage) -> Identity:
    identity = db.session.scalar(
        select(Identity).where(
            Identity.platform == inbound.platform, Identity.external_user_id == inbound.author_id
        )
    )
    name = clean_for_storage(inbound.author_name or inbound.author_handle or inbound.author_id)[:255]
    if identity is None:
        customer = Customer(display_name=name)
        identity = Identity(
            customer=customer,
            platform=inbound.platform,
            external_user_id=inbound.author_id,
            handle=inbound.author_handle,
            display_name=name,
        )
        db.session.add(identity)
        db.session.flush()
    elif inbound.author_name and identity.display_name != name:
        identity.display_name = name
    return identity


def _conversation_for(channel: Channel, customer_id: int, inbound: InboundMessage):
    """(conversation, created, reopened). Public replies join their thread; DMs join the
    customer's latest conversation on the channel; a resolved one reopens."""
    if inbound.is_public:
        conversation = db.session.scalar(
            select(Conversation).where(
                Conversation.channel_id == channel.id,
                Conversation.thread_external_id == inbound.thread_id,
            )
        )
    else:
        conversation = db.session.scalar(
            select(Conversation)
            .where(
                Conversation.channel_id == channel.id,
                Conversation.customer_id == customer_id,
                Conversation.is_public.is_(False),
            )
            .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
            .limit(1)
        )
    if conversation is None:
        conversation = Conversation(
            channel_id=channel.id,
            customer_id=customer_id,
            team_id=channel.team_id,
            status="open",
            is_public=inbound.is_public,
            thread_external_id=inbound.thread_id if inbound.is_public else None,
        )
        db.session.add(conversation)
        db.session.flush()
        _event(conversation, "created")
        return conversation, True, False
    if conversation.status not in ACTIVE_STATUSES:
        conversation.status, conversation.resolved_at = "open", None
        _event(conversation, "reopened")
        return conversation, False, True
    if conversation.status == "pending":  # the customer answered
        conversation.status = "open"
    return conversation, False, False


def _event(conversation: Conversation, kind: str, **data: Any) -> None:
    db.session.add(ConversationEvent(conversation_id=conversation.id, kind=kind, data=data))
