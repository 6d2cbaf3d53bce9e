"""Finding work that fell through a crack: a job lost with Redis, a worker killed mid-send."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select

from inbox import realtime
from inbox.extensions import db
from inbox.models import Channel, Message, RawEvent
from inbox.models.base import utcnow

SENDING_LIMIT = timedelta(minutes=10)


def _grace(name: str) -> timedelta:
    """How long work may wait for its own job before the sweeper steps in (config, seconds)."""
    return timedelta(seconds=float(current_app.config[name]))


def stale_raw_events(limit: int = 500) -> list[int]:
    """Stored deliveries nobody parsed: their job was lost (Redis away, worker killed)."""
    cutoff = utcnow() - _grace("SWEEP_RAW_EVENT_GRACE_SECONDS")
    ids = db.session.scalars(
        select(RawEvent.id).where(RawEvent.status == "pending", RawEvent.received_at < cutoff)
        .order_by(RawEvent.id).limit(limit)
    ).all()
    db.session.commit()
    return list(ids)


def stale_replies(limit: int = 500) -> list[int]:
    """Queued replies whose send job never ran, or whose retry time passed long ago."""
    cutoff = utcnow() - _grace("SWEEP_QUEUED_GRACE_SECONDS")
    ids = db.session.scalars(
        select(Message.id).join(Channel, Channel.id == Message.channel_id).where(
            Message.direction == "out", Message.state == "queued", Message.created_at < cutoff,
            or_(Message.next_attempt_at.is_(None), Message.next_attempt_at < cutoff),
            Channel.status == "active",
        ).order_by(Message.id).limit(limit)
    ).all()
    db.session.commit()
    return list(ids)


def fail_interrupted_sends() -> int:
    """A send that never finished may or may not have reached the platform: say so, and let
    the agent check and retry, rather than risk sending the reply twice."""
    cutoff = utcnow() - SENDING_LIMIT
    stuck = db.session.scalars(select(Message).where(
        Message.direction == "out", Message.state == "sending",
        or_(Message.next_attempt_at.is_(None), Message.next_attempt_at < cutoff),
        Message.created_at < cutoff,
    )).all()
    for message in stuck:
        message.state = "failed"
        message.error = ("Sending was interrupted, so it is not known whether the platform received this reply. "
                         "Check the conversation on the platform before retrying.")
    db.session.commit()
    for message in stuck:
        realtime.message_updated(message)
    return len(stuck)
