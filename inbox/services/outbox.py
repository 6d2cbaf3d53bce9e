"""Send queued replies through their channel's connector, at most once per reply."""
from __future__ import annotations

import logging

from connectors.errors import AuthError, PermanentError, TransientError
from connectors.registry import connector_for
from connectors.types import OutboundMessage
from inbox import realtime
from inbox.extensions import db
from inbox.models import Channel, Message

log = logging.getLogger(__name__)
DONE_STATES = ("sent", "delivered", "read", "failed")


def deliver(message_id: int) -> None:
    """Send one queued outbound message. Running it again after success does nothing."""
    message = db.session.get(Message, message_id)
    if message is None or message.direction != "out" or message.state in DONE_STATES:
        return
    channel = db.session.get(Channel, message.channel_id)
    outbound = _outbound(message)
    connector = connector_for(channel.platform, channel.settings)
    db.session.rollback()  # hold no transaction over the network call
    try:
        result = connector.send(outbound)
    except TransientError as exc:
        log.info("send of message %s will be retried: %s", message_id, exc.reason)
        raise
    except PermanentError as exc:
        message = db.session.get(Message, message_id)
        message.state, message.error = "failed", exc.reason
        if isinstance(exc, AuthError):
            channel = db.session.get(Channel, message.channel_id)
            channel.status, channel.last_error = "needs_reauth", exc.reason
        db.session.commit()
        realtime.message_updated(message)
        return
    message = db.session.get(Message, message_id)
    message.external_id, message.state = result.external_id, "sent"
    message.sent_at, message.error = result.sent_at, None
    db.session.commit()
    realtime.message_updated(message)


def _outbound(message: Message) -> OutboundMessage:
    conversation = message.conversation
    last_inbound = next((m for m in reversed(conversation.messages) if m.direction == "in"), None)
    identity = last_inbound.author_identity if last_inbound else None
    return OutboundMessage(
        text=message.text,
        recipient_id=identity.external_user_id if identity else "",
        is_public=message.is_public,
        idempotency_key=message.idempotency_key or str(message.id),
        in_reply_to=last_inbound.external_id if last_inbound else None,
    )
