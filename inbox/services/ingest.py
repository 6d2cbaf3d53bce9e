"""Store what a platform delivered, once, and thread it into a conversation (DESIGN.md 1–3)."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
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


class _Batch:
    """One ingest transaction: what it already knows, so that each message costs an insert
    and not a round of look-ups, and what to announce once it is committed (never before:
    a rollback would make the screens lie)."""

    def __init__(self, creates: list[tuple[Channel, InboundMessage]]):
        self.stored: set[tuple[int, str]] = set()
        self.identities: dict[tuple[str, str], Identity] = {}
        # Keyed by customer: its id, or the new Customer object itself before the flush.
        self.private: dict[tuple[int, Any], Conversation | None] = {}
        self.threads: dict[tuple[int, str, Any], Conversation | None] = {}
        self.by_message: dict[tuple[int, str], Conversation] = {}
        self.touched: dict[int, tuple[Conversation, bool]] = {}
        self.messages: list[tuple[Message, bool]] = []
        self._preload(creates)

    def _preload(self, creates: list[tuple[Channel, InboundMessage]]) -> None:
        by_channel: dict[int, list[str]] = {}
        authors: dict[str, set[str]] = {}
        for channel, inbound in creates:
            by_channel.setdefault(channel.id, []).append(inbound.external_id)
            authors.setdefault(inbound.platform, set()).add(inbound.author_id)
        for channel_id, ids in by_channel.items():
            for chunk in _chunks(ids):
                found = db.session.scalars(select(Message.external_id).where(
                    Message.channel_id == channel_id, Message.external_id.in_(chunk)))
                self.stored.update((channel_id, external_id) for external_id in found)
        for platform, ids in authors.items():
            for chunk in _chunks(sorted(ids)):
                for identity in db.session.scalars(select(Identity).where(
                        Identity.platform == platform, Identity.external_user_id.in_(chunk))):
                    self.identities[(platform, identity.external_user_id)] = identity

    def touch(self, conversation: Conversation, created: bool) -> None:
        previous = self.touched.get(id(conversation))  # new ones have no id before the flush
        self.touched[id(conversation)] = (conversation, created or bool(previous and previous[1]))

    def announcements(self) -> list[realtime.Announcement]:
        """Computed before the commit, while every object is loaded (no re-select after)."""
        items = [realtime.about_conversation(c, created) for c, created in self.touched.values()]
        return items + [realtime.about_message(m, created) for m, created in self.messages]


def _chunks(items: list[str], size: int = 500):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def process_raw_event(raw_event_id: int) -> list[Ingested]:
    return process_raw_events([raw_event_id])


def process_raw_events(raw_event_ids: list[int]) -> list[Ingested]:
    """Parse stored payloads and apply their events in one transaction; safe to run again.

    Batching is what makes ingest fast (one commit, one job for many messages); a payload
    that cannot be read is parked as failed (the dead letters) without holding up the rest.
    A concurrent writer storing the same message makes the commit fail; the job's retry then
    finds it stored and skips it.
    """
    raws = db.session.scalars(
        select(RawEvent).where(RawEvent.id.in_(raw_event_ids), RawEvent.status == "pending").order_by(RawEvent.id)
    ).all()
    now, parsed = utcnow(), []
    connectors: dict[int, Any] = {}
    for raw in raws:
        channel = db.session.get(Channel, raw.channel_id)
        try:
            if channel.id not in connectors:
                connectors[channel.id] = channels.connector(channel)
            parsed.extend((channel, event) for event in connectors[channel.id].parse(json.loads(raw.payload)))
        except (PayloadError, ValueError, RecursionError) as exc:
            raw.status, raw.error = "failed", (getattr(exc, "reason", None) or str(exc))[:500]
            log.warning("raw event %s unreadable: %s", raw.id, raw.error)
            continue
        raw.status, raw.processed_at, raw.error = "processed", now, None
    return _apply_all(parsed)


def ingest_message(channel_id: int, inbound: InboundMessage) -> Ingested | None:
    """Store one new message in its conversation; None if it was stored before."""
    results = _apply_all([(db.session.get(Channel, channel_id), inbound)])
    return results[0] if results else None


def _apply_all(events: list[tuple[Channel, Event]]) -> list[Ingested]:
    creates = [(c, e) for c, e in events if isinstance(e, InboundMessage) and e.action == CREATE]
    batch, stored = _Batch(creates), []
    for channel, event in events:
        if isinstance(event, StatusUpdate):
            db.session.flush()  # receipts and edits may name a message stored earlier in this batch
            batch.messages.extend((m, False) for m in delivery.apply_status(channel.id, event))
        elif event.action != CREATE:
            db.session.flush()
            changed = apply_change(channel.id, event)
            if changed is not None:
                batch.messages.append((changed, False))
        else:
            # The batch's own caches know what it created: no flush before every look-up.
            with db.session.no_autoflush:
                result = _store(batch, channel, event)
            if result is not None:
                stored.append(result)
    db.session.flush()  # one round of inserts per table for the whole batch
    for conversation, created in batch.touched.values():
        if created:
            _event(conversation, "created")
    results = [Ingested(m.id, m.conversation.id, created, reopened) for m, created, reopened in stored]
    announcements = batch.announcements()
    db.session.commit()
    realtime.announce(announcements)
    return results


def _store(batch: _Batch, channel: Channel, inbound: InboundMessage) -> tuple[Message, bool, bool] | None:
    key = (channel.id, inbound.external_id)
    if key in batch.stored:
        return None
    echo = inbound.direction == OUTBOUND
    text = clean_for_storage(inbound.text)
    identity = None if echo else _identity_for(batch, inbound)
    conversation, created, reopened = _conversation_for(batch, channel, identity, inbound)
    if conversation is None:  # an echo of something we have no conversation for
        return None
    now = utcnow()
    conversation.preview = text[:PREVIEW_LENGTH]
    conversation.last_message_at = now
    if not echo:
        conversation.last_customer_message_at = channel.last_message_at = now
        if created or reopened:
            conversation.language = detect_language(text)
    message = Message(
        conversation=conversation,
        channel_id=channel.id,
        external_id=inbound.external_id,
        parent_external_id=inbound.parent_id,
        platform_conversation_id=inbound.conversation_key,
        direction="out" if echo else "in",
        author_identity=identity,
        text=text,
        attachments=[_attachment(a) for a in inbound.attachments],
        is_public=inbound.is_public,
        state="sent" if echo else "received",
        created_at=now,
        sent_at=inbound.created_at if echo else None,
    )
    db.session.add(message)
    batch.stored.add(key)
    batch.by_message[key] = conversation
    batch.touch(conversation, created)
    batch.messages.append((message, True))
    return message, created, reopened


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


def _identity_for(batch: _Batch, inbound: InboundMessage) -> Identity:
    key = (inbound.platform, inbound.author_id)
    identity = batch.identities.get(key)
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
        batch.identities[key] = identity
    elif inbound.author_name and identity.display_name != name:
        identity.display_name = name
    return identity


def _conversation_for(batch: _Batch, channel: Channel, identity: Identity | None, inbound: InboundMessage):
    """(conversation, created, reopened).

    A public message joins the conversation of the message it answers, else its author's
    conversation in that thread; a private one joins the customer's latest conversation on
    the channel. A resolved conversation reopens; an echo never creates or reopens one.
    """
    conversation = _existing_conversation(batch, channel, identity, inbound)
    if inbound.direction == OUTBOUND:
        return conversation, False, False
    if conversation is None:
        thread = (inbound.thread_id or inbound.external_id) if inbound.is_public else None
        conversation = Conversation(
            channel_id=channel.id,
            team_id=channel.team_id,
            status="open",
            is_public=inbound.is_public,
            thread_external_id=thread,
        )
        if identity.customer_id:
            conversation.customer_id = identity.customer_id
        else:
            conversation.customer = identity.customer
        db.session.add(conversation)
        if thread is None:
            batch.private[(channel.id, _customer_key(identity))] = conversation
        else:
            batch.threads[(channel.id, thread, _customer_key(identity))] = conversation
        return conversation, True, False
    if conversation.status not in ACTIVE_STATUSES:
        conversation.status, conversation.resolved_at = "open", None
        _event(conversation, "reopened")
        return conversation, False, True
    if conversation.status == "pending":  # the customer answered
        conversation.status = "open"
    return conversation, False, False


def _customer_key(identity: Identity) -> Any:
    return identity.customer_id or identity.customer


def _latest():
    return select(Conversation).order_by(Conversation.last_message_at.desc(), Conversation.id.desc()).limit(1)


def _existing_conversation(batch: _Batch, channel: Channel, identity: Identity | None, inbound: InboundMessage):
    if inbound.parent_id:
        parent = batch.by_message.get((channel.id, inbound.parent_id)) or db.session.scalar(
            select(Conversation).join(Message, Message.conversation_id == Conversation.id).where(
                Message.channel_id == channel.id, Message.external_id == inbound.parent_id))
        if parent is not None:
            return parent
    if identity is None:  # an echo of a DM: its recipient's conversation, if we know them
        return _echo_conversation(channel, inbound.conversation_key) if inbound.conversation_key else None
    new_customer = identity.customer_id is None  # no conversation anywhere yet
    if inbound.is_public:
        key = (channel.id, inbound.thread_id or inbound.external_id, _customer_key(identity))
        if key not in batch.threads:
            batch.threads[key] = None if new_customer else db.session.scalar(_latest().where(
                Conversation.channel_id == channel.id, Conversation.thread_external_id == key[1],
                Conversation.customer_id == identity.customer_id))
        return batch.threads[key]
    key = (channel.id, _customer_key(identity))
    if key not in batch.private:
        batch.private[key] = None if new_customer else db.session.scalar(_latest().where(
            Conversation.channel_id == channel.id, Conversation.customer_id == identity.customer_id,
            Conversation.is_public.is_(False)))
    return batch.private[key]


def _echo_conversation(channel: Channel, key: str) -> Conversation | None:
    """``key`` is the platform's conversation id (X, Telegram) or the recipient's user id (Meta)."""
    by_thread = _latest().join(Message, Message.conversation_id == Conversation.id).where(
        Message.channel_id == channel.id, Message.platform_conversation_id == key)
    by_recipient = _latest().join(Identity, Identity.customer_id == Conversation.customer_id).where(
        Conversation.channel_id == channel.id, Conversation.is_public.is_(False),
        Identity.platform == channel.platform, Identity.external_user_id == key)
    return db.session.scalar(by_thread) or db.session.scalar(by_recipient)


def _event(conversation: Conversation, kind: str, **data: Any) -> None:
    db.session.add(ConversationEvent(conversation=conversation, kind=kind, data=data))
