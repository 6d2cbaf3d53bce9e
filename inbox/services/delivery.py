"""Receipts from platforms: what became of the messages we sent."""
from __future__ import annotations

from sqlalchemy import select

from connectors.types import StatusUpdate
from inbox.extensions import db
from inbox.models import Conversation, Identity, Message
from inbox.models.base import utcnow

# A state only moves forward: receipts arrive late and out of order (WhatsApp, Meta).
RANK = {"queued": 0, "sending": 1, "sent": 2, "delivered": 3, "read": 4}


def apply_status(channel_id: int, update: StatusUpdate) -> list[Message]:
    """Record delivered / read / failed on the outbound messages the update names; returns
    the messages that changed. The caller commits, then announces them."""
    return [m for m in _targets(channel_id, update) if _advance(m, update)]


def _targets(channel_id: int, update: StatusUpdate) -> list[Message]:
    query = select(Message).where(Message.channel_id == channel_id, Message.direction == "out")
    if update.external_id:
        return list(db.session.scalars(query.where(Message.external_id == update.external_id)))
    if update.watermark and update.recipient_id:
        # "Everything sent to this person before the watermark": Messenger's receipts.
        customer_ids = select(Identity.customer_id).where(Identity.external_user_id == update.recipient_id)
        conversations = select(Conversation.id).where(Conversation.customer_id.in_(customer_ids))
        return list(db.session.scalars(query.where(
            Message.conversation_id.in_(conversations),
            Message.sent_at.is_not(None),
            Message.sent_at <= update.watermark,
            Message.state.in_(("sent", "delivered")),
        )))
    return []


def _advance(message: Message, update: StatusUpdate) -> bool:
    if update.status == "failed":
        if message.state == "read":
            return False
        message.state, message.error = "failed", update.error or "The platform could not deliver this message."
        return True
    if RANK.get(update.status, -1) <= RANK.get(message.state, -1) or message.state == "failed":
        return False
    message.state = update.status
    if update.status == "delivered":
        message.delivered_at = update.timestamp or utcnow()
    elif update.status == "read":
        message.read_at = update.timestamp or utcnow()
        message.delivered_at = message.delivered_at or message.read_at
    return True
