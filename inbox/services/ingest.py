"""Store what a platform delivered, once, and thread it into a conversation (DESIGN.md 1–3)."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from connectors.errors import PayloadError
from connectors.types import CREATE, DELETE, OUTBOUND, Event, InboundMessage, RawPayload, StatusUpdate
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
    [raw_id] = record_raw_events(channel_id, [RawPayload(body=body, dedup_key=dedup_key)])
    return raw_id


def record_raw_events(channel_id: int, payloads: list[RawPayload]) -> list[int | None]:
    """Keep each payload as delivered, in one transaction: the id of each, or None for a
    payload stored before (same dedup key)."""
    now, ids = utcnow(), []
    for payload in payloads:
        stmt = insert_ignoring_duplicates(
            RawEvent,
            {
                "channel_id": channel_id,
                "dedup_key": payload.dedup_key,
                "payload": clean_for_storage(json.dumps(payload.body, ensure_ascii=False)),
                "status": "pending",
                "received_at": now,
            },
            ["channel_id", "dedup_key"],
        )
        ids.append(db.session.execute(stmt).scalar())
    db.session.commit()
    return ids


@dataclass
class _Notices:
    """What to announce once the batch is committed (never before: a rollback would lie)."""

    conversations: dict[int, tuple[Conversation, bool]] = field(default_factory=dict)
    created: list[Message] = field(default_factory=list)
    updated: list[Message] = field(default_factory=list)

    def announce(self) -> None:
        for conversation, created in self.conversations.values():
            realtime.conversation_updated(conversation, created=created)
        for message in self.created:
            realtime.message_created(message)
        for message in self.updated:
            realtime.message_updated(message)


def process_raw_event(raw_event_id: int) -> list[Ingested]:
    return process_raw_events([raw_event_id])


def process_raw_events(raw_event_ids: list[int]) -> list[Ingested]:
    """Parse stored payloads and apply their events in one transaction; safe to run again.

    Batching is what makes ingest fast (one commit, one job for many messages); a payload
    that cannot be read is parked as failed (the dead letters) without holding up the rest.
    """
    raws = db.session.scalars(
        select(RawEvent).where(RawEvent.id.in_(raw_event_ids), RawEvent.status == "pending").order_by(RawEvent.id)
    ).all()
    notices, results, now = _Notices(), [], utcnow()
    connectors: dict[int, Any] = {}
    for raw in raws:
        channel = db.session.get(Channel, raw.channel_id)
        try:
            if channel.id not in connectors:
                connectors[channel.id] = channels.connector(channel)
            events = connectors[channel.id].parse(json.loads(raw.payload))
        except (PayloadError, ValueError, RecursionError) as exc:
            raw.status, raw.error = "failed", (getattr(exc, "reason", None) or str(exc))[:500]
            log.warning("raw event %s unreadable: %s", raw.id, raw.error)
            continue
        for event in events:
            result = _apply(channel, event, notices)
            if result is not None:
                results.append(result)
        raw.status, raw.processed_at, raw.error = "processed", now, None
    db.session.commit()
    notices.announce()
    return results


def ingest_message(channel_id: int, inbound: InboundMessage) -> Ingested | None:
    """Store one new message in its conversation; None if it was stored before."""
    notices = _Notices()
    result = _apply(db.session.get(Channel, channel_id), inbound, notices)
    db.session.commit()
    notices.announce()
    return result


def _apply(channel: Channel, event: Event, notices: _Notices) -> Ingested | None:
    if isinstance(event, StatusUpdate):
        notices.updated.extend(delivery.apply_status(channel.id, event))
        return None
    if event.action != CREATE:
        changed = apply_change(channel.id, event)
        if changed is not None:
            notices.updated.append(changed)
        return None
    savepoint = db.session.begin_nested()
    result = _store(channel, event, notices)
    if result is None:
        savepoint.rollback()
    else:
        savepoint.commit()
    return result


def _store(channel: Channel, inbound: InboundMessage, notices: _Notices) -> Ingested | None:
    already = db.session.scalar(
        select(Message.id).where(Message.channel_id == channel.id, Message.external_id == inbound.external_id)
    )
    if already:
        return None
    echo = inbound.direction == OUTBOUND
    text = clean_for_storage(inbound.text)
    identity = None if echo else _identity_for(inbound)
    conversation, created, reopened = _conversation_for(channel, identity, inbound)
    if conversation is None:  # an echo of something we have no conversation for
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
            "channel_id": channel.id,
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
    if message_id is None:  # a concurrent writer stored it first
        return None
    previous = notices.conversations.get(conversation.id)
    notices.conversations[conversation.id] = (conversation, created or bool(previous and previous[1]))
    notices.created.append(db.session.get(Message, message_id))
    return Ingested(message_id, conversation.id, created, reopened)


def apply_change(channel_id: int, inbound: InboundMessage) -> Message | None:
    """An edit or a delete of a stored message (not committed); unknown messages are ignored."""
    message = db.session.scalar(
        select(Message).where(Message.channel_id == channel_id, Message.external_id == inbound.external_id)
    )
    if message is None:
        return None
    if inbound.action == DELETE:
        message.text, message.attachments, message.deleted_at = "", [], utcnow()
    else:
        message.text, message.edited_at = clean_for_storage(inbound.text), utcnow()
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
