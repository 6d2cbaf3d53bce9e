"""The JSON shapes the API and the socket events share."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from inbox.models import Conversation, Message
from inbox.models.base import utcnow
from inbox.models.conversation import SORT_SENTINEL


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
        "snoozed_until": _iso(getattr(conversation, "snoozed_until", None)),
        "seq": getattr(conversation, "seq", None),  # the screen's catch-up cursor (inbox/models/conversation.py)
        **sla_fields(conversation),
        **queue_fields(conversation, channel),
    }


SORT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # fixed width: the queue's script compares keys as strings


def queue_fields(conversation: Any, channel: Any) -> dict[str, Any]:
    """What the queue's script needs to place a row (inbox/services/queue.py): its filters' fields
    and its sort key [SLA due, waiting since, id], the sentinel standing for "none"."""
    due = [getattr(conversation, name, None)
           for name in ("first_response_due_at", "next_response_due_at", "resolution_due_at")]
    waiting = getattr(conversation, "customer_waiting_since", None)
    earliest = min((d for d in due if d is not None), default=SORT_SENTINEL)
    return {"channel_id": channel.id, "triage": bool(getattr(conversation, "triage", False)),
            "customer_waiting_since": _iso(waiting),
            "sort_key": [earliest.strftime(SORT_FORMAT), (waiting or SORT_SENTINEL).strftime(SORT_FORMAT),
                         conversation.id]}


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
    }, author) | {"seq": message.conversation.seq}


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


# ---- the conversation screen: notes, events, notifications (inbox/services/notes.py) ----

def note_payload(note: Any) -> dict[str, Any]:
    """A private note: for the agents' screens only, never for the customer."""
    return {"id": note.id, "conversation_id": note.conversation_id, "author_id": note.author_id,
            "author": note.author.name if getattr(note, "author", None) else None,
            "text": note.text, "created_at": _iso(note.created_at)}


def event_payload(event: Any) -> dict[str, Any]:
    return {"id": event.id, "conversation_id": event.conversation_id, "kind": event.kind,
            "actor_id": event.actor_id, "created_at": _iso(event.created_at)}


def notification_payload(notification: Any) -> dict[str, Any]:
    actor = getattr(notification, "actor", None)
    return {"id": notification.id, "kind": notification.kind, "conversation_id": notification.conversation_id,
            "note_id": notification.note_id, "actor": actor.name if actor else None,
            "excerpt": notification.excerpt, "created_at": _iso(notification.created_at),
            "read": notification.read_at is not None}
