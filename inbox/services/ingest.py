"""Store what a platform delivered, once, and thread it into a conversation (DESIGN.md 1–3)."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from connectors.errors import PayloadError
from connectors.types import CREATE, DELETE, Event, InboundMessage, RawPayload, StatusUpdate
from inbox import realtime
from inbox.db import among, bulk_insert, bulk_update, insert_returning_ids
from inbox.extensions import db
from inbox.models import Channel, Message, RawEvent
from inbox.models.base import utcnow
from inbox.payloads import conversation_fields, message_fields
from inbox.services import channels, classification, delivery, ingest_store, routing_decisions, sla
from routing.intent import MAX_CHARS
from routing.normalize import clean_for_storage

log = logging.getLogger(__name__)
PENDING_BATCH = 300  # stored payloads per ingest transaction: a few hundred messages
URGENT_PRIORITY = 1


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
    """Keep each payload as delivered, in one transaction and one statement per kind: the id of
    each, or None for a payload stored before (same dedup key)."""
    now, ids = utcnow(), [None] * len(payloads)
    rows = [{"channel_id": channel_id, "dedup_key": p.dedup_key, "status": "pending", "received_at": now,
             "payload": clean_for_storage(json.dumps(p.body, ensure_ascii=False))} for p in payloads]
    keyed = [i for i, p in enumerate(payloads) if p.dedup_key is not None]
    if keyed:
        new = {key: raw_id for raw_id, key in bulk_insert(RawEvent, [rows[i] for i in keyed], ("id", "dedup_key"),
                                                           ignore_conflicts_on=["channel_id", "dedup_key"])}
        for i in keyed:
            ids[i] = new.pop(payloads[i].dedup_key, None)  # a key twice in one call: stored once
    unkeyed = [i for i, p in enumerate(payloads) if p.dedup_key is None]
    if unkeyed:
        for i, raw_id in zip(unkeyed, insert_returning_ids(RawEvent, [rows[i] for i in unkeyed]), strict=True):
            ids[i] = raw_id
    db.session.commit()
    return ids


def process_raw_event(raw_event_id: int) -> list[Ingested]:
    return process_raw_events([raw_event_id])


def process_raw_events(raw_event_ids: list[int]) -> list[Ingested]:
    """Parse the named stored payloads and apply their events in one transaction; safe to run
    again (payloads already processed are skipped)."""
    statement = _pending().where(among(RawEvent.id, raw_event_ids))
    return _process(db.session.execute(statement).all())


def process_pending(limit: int = PENDING_BATCH) -> int:
    """Claim up to ``limit`` stored payloads that no other worker is parsing, and ingest them in
    one transaction: the number claimed (0: nothing is waiting). On PostgreSQL the claim is
    ``FOR UPDATE SKIP LOCKED``, so workers share the backlog without waiting on each other, and a
    worker killed mid-batch leaves its payloads pending for the next one (its locks die with it)."""
    statement = _pending().limit(limit)
    if db.session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    rows = db.session.execute(statement).all()
    if not rows:
        db.session.rollback()
        return 0
    _process(rows)
    return len(rows)


def _pending():
    return (select(RawEvent.id, RawEvent.channel_id, RawEvent.payload)
            .where(RawEvent.status == "pending").order_by(RawEvent.id))


def _process(raws) -> list[Ingested]:
    """Batching is what makes ingest fast (one commit for many messages); a payload that cannot
    be read is parked as failed (the dead letters) without holding up the rest."""
    now, parsed, done, failed = utcnow(), [], [], []
    connectors: dict[int, Any] = {}
    for raw in raws:
        channel = db.session.get(Channel, raw.channel_id)
        try:
            if channel.id not in connectors:
                connectors[channel.id] = channels.connector(channel)
            parsed.extend((channel, event) for event in connectors[channel.id].parse(json.loads(raw.payload)))
        except (PayloadError, ValueError, RecursionError) as exc:
            error = (getattr(exc, "reason", None) or str(exc))[:500]
            failed.append({"id": raw.id, "status": "failed", "error": error})
            log.warning("raw event %s unreadable: %s", raw.id, error)
            continue
        done.append(raw.id)
    results = _apply_all(parsed, commit=False)
    if done:
        db.session.execute(update(RawEvent).where(among(RawEvent.id, done))
                           .values(status="processed", processed_at=now, error=None)
                           .execution_options(synchronize_session=False))
    bulk_update(RawEvent, failed)
    _commit_and_announce()
    return results


def ingest_message(channel_id: int, inbound: InboundMessage) -> Ingested | None:
    """Store one new message in its conversation; None if it was stored before."""
    results = _apply_all([(db.session.get(Channel, channel_id), inbound)])
    return results[0] if results else None


def _apply_all(events: list[tuple[Channel, Event]], commit: bool = True) -> list[Ingested]:
    """Runs of new messages are stored by the batch (ingest_store); receipts, edits and deletes,
    rare and possibly about a message of the same batch, are applied in order between them."""
    results: list[Ingested] = []
    run: list[tuple[Channel, InboundMessage]] = []
    for channel, event in events:
        if isinstance(event, InboundMessage) and event.action == CREATE:
            run.append((channel, event))
            continue
        results.extend(_store_run(run))
        run = []
        if isinstance(event, StatusUpdate):
            _later(realtime.about_message(m, False) for m in delivery.apply_status(channel.id, event))
        else:
            changed = apply_change(channel.id, event)
            if changed is not None:
                db.session.flush()
                _later([realtime.about_message(changed, False)])
    results.extend(_store_run(run))
    if commit:
        _commit_and_announce()
    return results


def _store_run(run: list[tuple[Channel, InboundMessage]]) -> list[Ingested]:
    if not run:
        return []
    db.session.flush()  # Core statements below must see the ORM's pending changes
    result = ingest_store.store_new(run, _decide)
    auto_replies = routing_decisions.record(result.threads)  # tags, assignments, auto-replies: ids exist now
    conversations = {}
    for thread in result.threads:
        payload = conversation_fields(thread, thread.channel, thread.customer_name)
        conversations[id(thread)] = payload
        _later([realtime.conversation_announcement(payload, thread.created)])
    _later(realtime.message_announcement(
        message_fields({**m.row, "id": m.id, "conversation_id": m.thread.id}, m.author), conversations[id(m.thread)])
        for m in result.messages)
    _later(auto_replies)
    return [Ingested(m.id, m.thread.id, m.created, m.reopened) for m in result.messages]


def _decide(threads: list[ingest_store.Thread]) -> None:
    """DESIGN.md step 4 for conversations just opened or reopened, all in one batched call:
    language, intent (with its confidence and model version), sentiment and urgency, read from
    what the customer wrote in this batch. The decision is kept on the conversation's
    created/reopened event, so every screen and report can say why."""
    if not threads:
        return
    texts = ["\n".join(thread.texts)[:MAX_CHARS] for thread in threads]
    predictions, version_id = classification.classify_texts(texts)
    for thread, prediction in zip(threads, predictions, strict=True):
        thread.language, thread.sentiment = prediction.lang, prediction.sentiment
        thread.intent, thread.intent_confidence = prediction.intent, prediction.confidence
        thread.intent_model_version_id = version_id if prediction.intent else None
        if prediction.urgent:
            thread.priority = URGENT_PRIORITY
        thread.decision = {"intent": prediction.intent, "confidence": round(prediction.confidence, 4),
                           "model_version_id": thread.intent_model_version_id, "language": prediction.lang,
                           "sentiment": prediction.sentiment, "urgent": prediction.urgent}
    routing_decisions.decide(threads)
    sla.apply_due_times(threads)  # last: the priority is final


def _later(announcements) -> None:
    """Announced once the transaction commits (never before: a rollback would make screens lie)."""
    db.session.info.setdefault("announcements", []).extend(announcements)


def _commit_and_announce() -> None:
    announcements = db.session.info.pop("announcements", [])
    db.session.commit()
    realtime.announce(announcements)
    routing_decisions.after_commit()


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
