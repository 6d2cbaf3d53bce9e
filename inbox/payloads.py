"""The JSON shapes the API and the socket events share."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from inbox.models import Conversation, Message
from inbox.models.base import utcnow


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value else None


def conversation_payload(conversation: Conversation) -> dict[str, Any]:
    return conversation_fields(conversation, conversation.channel, conversation.customer.display_name)


def conversation_fields(conversation: Any, channel: Any, customer_name: str) -> dict[str, Any]:
    """From anything with a conversation's attributes: a model, or ingest's plain rows."""
    return {
        "id": conversation.id,
        "status": conversation.status,
        "priority": conversation.priority,
        "is_public": conversation.is_public,
        "platform": channel.platform,
        "channel": channel.name,
        "team_id": conversation.team_id,
        "assignee_id": conversation.assignee_id,
        "customer": {"id": conversation.customer_id, "name": customer_name},
        "language": conversation.language,
        "intent": conversation.intent,
        "intent_confidence": conversation.intent_confidence,
        "intent_model_version_id": conversation.intent_model_version_id,  # None: no model, or a person
        "preview": conversation.preview,
        "last_message_at": _iso(conversation.last_message_at),
        "created_at": _iso(conversation.created_at),
        **sla_fields(conversation),
    }


def sla_fields(conversation: Any) -> dict[str, Any]:
    """The due times of the SLA targets still running, and the earliest of them."""
    due = {name: getattr(conversation, name, None)
           for name in ("first_response_due_at", "next_response_due_at", "resolution_due_at")}
    earliest = min((d for d in due.values() if d is not None), default=None)
    return {**{name: _iso(value) for name, value in due.items()}, "sla_due_at": _iso(earliest),
            "sla_breached": earliest is not None and earliest <= utcnow()}


def message_payload(message: Message) -> dict[str, Any]:
    if message.direction == "in":
        identity = message.author_identity
        author = (identity.display_name or identity.handle) if identity else None
    else:
        author = message.author_user.name if message.author_user else None
    return message_fields({
        "id": message.id, "conversation_id": message.conversation_id, "direction": message.direction,
        "text": message.text, "is_public": message.is_public, "state": message.state, "error": message.error,
        "attachments": message.attachments, "template": message.template, "edited_at": message.edited_at,
        "deleted_at": message.deleted_at, "created_at": message.created_at, "sent_at": message.sent_at,
    }, author)


def message_fields(row: dict[str, Any], author: str | None) -> dict[str, Any]:
    """From a message's column values (a model's, or a row ingest inserted)."""
    return {
        "id": row["id"],
        "conversation_id": row["conversation_id"],
        "direction": row["direction"],
        "author": author,
        "text": row["text"],
        "is_public": row["is_public"],
        "state": row["state"],
        "error": row.get("error"),
        "attachments": row.get("attachments") or [],
        "template": row.get("template"),
        "edited": row.get("edited_at") is not None,
        "deleted": row.get("deleted_at") is not None,
        "created_at": _iso(row["created_at"]),
        "sent_at": _iso(row.get("sent_at")),
    }
