"""Send queued replies through their channel's connector: at most once per reply, retrying
what the platform says is passing, failing visibly what a person must fix."""
from __future__ import annotations

import logging
import random
from datetime import timedelta

from sqlalchemy import select, update

from connectors.errors import AuthError, PermanentError, RateLimited, TransientError
from connectors.types import OutboundMessage
from inbox import crypto, realtime
from inbox.extensions import db
from inbox.models import Channel, Identity, Message
from inbox.models.base import utcnow
from inbox.services import channels

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 6
MAX_BACKOFF_SECONDS = 15 * 60


def deliver(message_id: int) -> float | None:
    """Send one queued outbound message. A second run, or a concurrent one, does nothing.

    Returns in how many seconds to try again when the reply went back to the queue, else None.
    """
    if not _claim(message_id):
        return None
    message = db.session.get(Message, message_id)
    channel = db.session.get(Channel, message.channel_id)
    now = utcnow()
    if channel.status == "paused" or (channel.rate_limited_until and channel.rate_limited_until > now):
        wait = (channel.rate_limited_until - now).total_seconds() if channel.rate_limited_until else 60
        return _requeue(message, max(wait, 1), count_attempt=False)
    if channel.status == "needs_reauth":
        _fail(message, channel.last_error or "The channel must be reconnected by an admin before replies can be sent.")
        return None
    try:
        connector = channels.connector(channel)
    except crypto.CredentialsUnreadable as exc:
        _fail(message, f"{exc}; an admin must re-enter them.")
        return None
    outbound = _outbound(message)
    db.session.commit()  # hold no transaction (nor SQLite's write lock) over the network call
    try:
        result = connector.send(outbound)
    except RateLimited as exc:
        channel = db.session.get(Channel, message.channel_id)
        channels.record_failure(channel, exc)
        return _requeue(db.session.get(Message, message_id), exc.retry_after)
    except TransientError as exc:
        log.info("send of message %s will be retried: %s", message_id, exc.reason)
        return _requeue(db.session.get(Message, message_id), exc.retry_after, reason=exc.reason)
    except PermanentError as exc:
        if isinstance(exc, AuthError):
            channels.record_failure(db.session.get(Channel, message.channel_id), exc)
        _fail(db.session.get(Message, message_id), exc.reason)
        return None
    else:
        message = db.session.get(Message, message_id)
        message.external_id, message.state = result.external_id, "sent"
        message.sent_at, message.error, message.next_attempt_at = result.sent_at, None, None
        channels.record_success(db.session.get(Channel, message.channel_id))
        db.session.commit()
        realtime.message_updated(message)
        return None


def _claim(message_id: int) -> bool:
    """queued -> sending, atomically: only one worker ever sends a given reply."""
    claimed = db.session.execute(
        update(Message)
        .where(Message.id == message_id, Message.direction == "out", Message.state == "queued")
        .values(state="sending", attempts=Message.attempts + 1)
    ).rowcount
    db.session.commit()
    return claimed == 1


def backoff_seconds(attempt: int) -> float:
    """Exponential with full jitter, capped: no retry storm after an outage."""
    return random.uniform(1, min(MAX_BACKOFF_SECONDS, 5 * 2 ** attempt))


def _requeue(message: Message, retry_after: float | None, count_attempt: bool = True,
             reason: str | None = None) -> float | None:
    if count_attempt and message.attempts >= MAX_ATTEMPTS:
        _fail(message, (reason or "The platform kept refusing") + ". Sending was given up; retry later.")
        return None
    delay = retry_after if retry_after is not None else backoff_seconds(message.attempts)
    message.state, message.next_attempt_at = "queued", utcnow() + timedelta(seconds=delay)
    db.session.commit()
    return delay


def _fail(message: Message, reason: str) -> None:
    message.state, message.error, message.next_attempt_at = "failed", reason, None
    db.session.commit()
    realtime.message_updated(message)


def _outbound(message: Message) -> OutboundMessage:
    conversation = message.conversation
    last_inbound = next((m for m in reversed(conversation.messages) if m.direction == "in"), None)
    # A DM conversation an agent opened (inbox/services/handoff.py) has no inbound message yet.
    identity = last_inbound.author_identity if last_inbound else _customer_identity(conversation)
    return OutboundMessage(
        text=message.text,
        recipient_id=identity.external_user_id if identity else "",
        is_public=message.is_public,
        idempotency_key=message.idempotency_key or str(message.id),
        # A private reply answers the comment it was written for (Meta's recipient.comment_id).
        in_reply_to=message.parent_external_id or (last_inbound.external_id if last_inbound else None),
        conversation_key=last_inbound.platform_conversation_id if last_inbound else None,
        template=message.template,
    )


def _customer_identity(conversation) -> Identity | None:
    return db.session.scalar(select(Identity).where(Identity.customer_id == conversation.customer_id,
                                                    Identity.platform == conversation.channel.platform)
                             .order_by(Identity.id).limit(1))
