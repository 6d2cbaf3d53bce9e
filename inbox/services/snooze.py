"""Snoozing: a conversation set aside until a time, when it wakes up open again (a job every
half minute, inbox/jobs/schedule.py). Each snooze and each wake is an event."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from inbox import realtime
from inbox.extensions import db
from inbox.models import Conversation, ConversationEvent, User
from inbox.models.base import utcnow
from inbox.services import conversations, sla  # conversations: a module, jobs import this one
from inbox.services.errors import InvalidInput

MAX_SNOOZE = timedelta(days=90)
WAKE_BATCH = 500


def parse_local(value: str, timezone: str) -> datetime:
    """A ``datetime-local`` field's value ("2026-11-28T09:00"), read in the user's time zone,
    as naive UTC."""
    try:
        local = datetime.fromisoformat((value or "").strip())
    except ValueError:
        raise InvalidInput("pick the date and time the conversation should wake up") from None
    if local.tzinfo is None:
        try:
            local = local.replace(tzinfo=ZoneInfo(timezone or "Asia/Amman"))
        except ZoneInfoNotFoundError:
            local = local.replace(tzinfo=ZoneInfo("Asia/Amman"))
    return local.astimezone(UTC).replace(tzinfo=None)


def snooze(user: User, conversation_id: int, until: datetime) -> Conversation:
    """Snoozed until ``until`` (naive UTC), which must be in the future and within 90 days."""
    conversation = conversations.get_conversation(user, conversation_id)
    now = utcnow()
    if until <= now + timedelta(seconds=30):
        raise InvalidInput("a snooze ends in the future")
    if until > now + MAX_SNOOZE:
        raise InvalidInput("a conversation can be snoozed for at most 90 days")
    if conversation.status == "resolved":
        raise InvalidInput("a resolved conversation cannot be snoozed")
    previous = conversation.status
    conversation.status, conversation.snoozed_until = "snoozed", until
    sla.status_changed(conversation, previous, now)
    event = ConversationEvent(conversation=conversation, actor_id=user.id, kind="status_changed",
                              data={"from": previous, "to": "snoozed", "until": until.isoformat() + "Z"})
    db.session.add(event)
    db.session.commit()
    realtime.conversation_updated(conversation)
    realtime.event_recorded(event)
    return conversation


def wake_due(now: datetime | None = None) -> list[int]:
    """Snoozed conversations whose time has come go back to open; safe to run twice."""
    now = now or utcnow()
    due = list(db.session.scalars(
        select(Conversation).where(Conversation.status == "snoozed", Conversation.snoozed_until <= now)
        .order_by(Conversation.snoozed_until).limit(WAKE_BATCH).with_for_update(skip_locked=True)))
    events = []
    for conversation in due:
        conversation.status, conversation.snoozed_until = "open", None
        sla.status_changed(conversation, "snoozed", now)
        event = ConversationEvent(conversation=conversation, kind="status_changed",
                                  data={"from": "snoozed", "to": "open", "reason": "snooze_ended"})
        db.session.add(event)
        events.append(event)
    db.session.commit()
    realtime.announce([realtime.about_conversation(c) for c in due])
    for event in events:
        realtime.event_recorded(event)
    return [c.id for c in due]
