"""The JSON shapes the API and the socket events share."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from inbox.models import Conversation, Message


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value else None


def conversation_payload(conversation: Conversation) -> dict[str, Any]:
    customer = conversation.customer
    return {
        "id": conversation.id,
        "status": conversation.status,
        "priority": conversation.priority,
        "is_public": conversation.is_public,
        "platform": conversation.channel.platform,
        "channel": conversation.channel.name,
        "team_id": conversation.team_id,
        "assignee_id": conversation.assignee_id,
        "customer": {"id": customer.id, "name": customer.display_name},
        "language": conversation.language,
        "preview": conversation.preview,
        "last_message_at": _iso(conversation.last_message_at),
        "created_at": _iso(conversation.created_at),
    }


def message_payload(message: Message) -> dict[str, Any]:
    if message.direction == "in":
        identity = message.author_identity
        author = (identity.display_name or identity.handle) if identity else None
    else:
        author = message.author_user.name if message.author_user else None
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "direction": message.direction,
        "author": author,
        "text": message.text,
        "is_public": message.is_public,
        "state": message.state,
        "error": message.error,
        "attachments": message.attachments or [],
        "template": message.template,
        "edited": message.edited_at is not None,
        "deleted": message.deleted_at is not None,
        "created_at": _iso(message.created_at),
        "sent_at": _iso(message.sent_at),
    }
