"""Store what a platform delivered, once, and thread it into a conversation (DESIGN.md 1–3)."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from connectors.errors import PayloadError
from connectors.types import CREATE, DELETE, OUTBOUND, InboundMessage, StatusUpdate
from inbox import realtime
from inbox.db import insert_ignoring_duplicates
from inbox.extensions import db
from inbox.models import Channel, Conversation, ConversationEvent, Customer, Identity, Message, RawEvent
from inbox.models.base import utcnow
from inbox.models.conversation import ACTIVE_STATUSES
from inbox.services import channels, delivery
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
    """Parse a stored payload and apply its events; safe to run again on the same event."""
    raw = db.session.get(RawEvent, raw_event_id)
    if raw is None or raw.status != "pending":
        return []
    channel = db.session.get(Channel, raw.channel_id)
    try:
        events = channels.connector(channel).parse(json.loads(raw.payload))
    except (PayloadError, ValueError, RecursionError) as exc:
        # Poison: parked for a person to look at (the dead letters), never retried forever.
        raw.status, raw.error = "failed", getattr(exc, "reason", None) or str(exc)[:500]
        db.session.commit()
        log.warning("raw event %s unreadable: %s", raw_event_id, raw.error)
        return []
    results = []
    for event in events:
        if isinstance(event, StatusUpdate):
            delivery.apply_status(channel.id, event)
        elif event.action != CREATE:
            apply_change(channel.id, event)
        elif (result := ingest_message(channel.id, event)) is not None:
            results.append(result)
    raw = db.session.get(RawEvent, raw_event_id)
    raw.status, raw.processed_at, raw.error = "processed", utcnow(), None
    db.session.commit()
    return results


def ingest_message(channel_id: int, inbound: InboundMessage) -> Ingested | None:
    """Store one new message in its conversation; None if it was stored before."""
    channel = db.session.get(Channel, channel_id)
    already = db.session.scalar(
        select(Message.id).where(Message.channel_id == channel_id, Message.external_id == inbound.external_id)
    )
    if already:
        db.session.rollback()
        return None
    echo = inbound.direction == OUTBOUND
    text = clean_for_storage(inbound.text)
    identity = None if echo else _identity_for(inbound)
    conversation, created, reopened = _conversation_for(channel, identity, inbound)
    if conversation is None:  # an echo of something we have no conversation for
        db.session.rollback()
        return None
    now = utcnow()
    conversation.preview = text[:PREVIEW_LENGTH]
    conversation.last_message_at = now
    if not echo:
        conversation.last_customer_message_at = channel.last_message_at = now
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
            "platform_conversation_id": inbound.conversation_key,
            "direction": "out" if echo else "in",
            "author_identity_id": identity.id if identity else None,
            "text": text,
            "attachments": [_attachment(a) for a in inbound.attachments],
            "is_public": inbound.is_public,
            "state": "sent" if echo else "received",
            "created_at": now,
            "sent_at": inbound.created_at if echo else None,
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


def apply_change(channel_id: int, inbound: InboundMessage) -> Message | None:
    """An edit or a delete of a stored message; unknown messages are ignored."""
    message = db.session.scalar(
        select(Message).where(Message.channel_id == channel_id, Message.external_id == inbound.external_id)
    )
    if message is None:
        db.session.rollback()
        return None
    if inbound.action == DELETE:
        message.text, message.attachments, message.deleted_at = "", [], utcnow()
    else:
        message.text, message.edited_at = clean_for_storage(inbound.text), utcnow()
    db.session.commit()
    realtime.message_updated(message)
    return message


def _attachment(attachment) -> dict[str, Any]:
    return {k: clean_for_storage(v) if isinstance(v, str) else v for k, v in vars(attachment).items()}


def _identity_for(inbound: InboundMessage) -> Identity:
    identity = db.session.scalar(
        select(Identity).where(
            Identity.platform == inbound.platform, Identity.external_user_id == inbound.author_id
        )
    )
    name = clean_for_storage(inbound.author_name or inbound.author_handle or inbound.author_id)[:255]
    if identity is None:
        identity = Identity(
            customer=Customer(display_name=name),
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


def _conversation_for(channel: Channel, identity: Identity | None, inbound: InboundMessage):
    """(conversation, created, reopened).

    A public message joins the conversation of the message it answers, else its author's
    conversation in that thread; a private one joins the customer's latest conversation on
    the channel. A resolved conversation reopens; an echo never creates or reopens one.
    """
    conversation = _existing_conversation(channel, identity, inbound)
    if inbound.direction == OUTBOUND:
        return conversation, False, False
    if conversation is None:
        conversation = Conversation(
            channel_id=channel.id,
            customer_id=identity.customer_id,
            team_id=channel.team_id,
            status="open",
            is_public=inbound.is_public,
            thread_external_id=(inbound.thread_id or inbound.external_id) if inbound.is_public else None,
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


def _existing_conversation(channel: Channel, identity: Identity | None, inbound: InboundMessage):
    if inbound.parent_id:
        parent = db.session.scalar(
            select(Message).where(Message.channel_id == channel.id, Message.external_id == inbound.parent_id)
        )
        if parent is not None:
            return parent.conversation
    latest = select(Conversation).order_by(Conversation.last_message_at.desc(), Conversation.id.desc()).limit(1)
    if inbound.is_public:
        query = latest.where(Conversation.channel_id == channel.id,
                             Conversation.thread_external_id == (inbound.thread_id or inbound.external_id))
        if identity is not None:
            query = query.where(Conversation.customer_id == identity.customer_id)
        return db.session.scalar(query)
    if identity is None:  # an echo of a DM: its recipient's conversation, if we know them
        return _echo_conversation(channel, inbound.conversation_key) if inbound.conversation_key else None
    return db.session.scalar(latest.where(
        Conversation.channel_id == channel.id,
        Conversation.customer_id == identity.customer_id,
        Conversation.is_public.is_(False),
    ))


def _echo_conversation(channel: Channel, key: str) -> Conversation | None:
    """``key`` is the platform's conversation id (X, Telegram) or the recipient's user id (Meta)."""
    latest = select(Conversation).order_by(Conversation.last_message_at.desc(), Conversation.id.desc()).limit(1)
    by_thread = latest.join(Message, Message.conversation_id == Conversation.id).where(
        Message.channel_id == channel.id, Message.platform_conversation_id == key)
    by_recipient = latest.join(Identity, Identity.customer_id == Conversation.customer_id).where(
        Conversation.channel_id == channel.id, Conversation.is_public.is_(False),
        Identity.platform == channel.platform, Identity.external_user_id == key)
    return db.session.scalar(by_thread) or db.session.scalar(by_recipient)


def _event(conversation: Conversation, kind: str, **data: Any) -> None:
    db.session.add(ConversationEvent(conversation_id=conversation.id, kind=kind, data=data))
