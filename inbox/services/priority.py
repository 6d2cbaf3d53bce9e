"""An agent changes a conversation's priority (1 urgent … 4 low) after ingest.

The new priority brings its SLA policy (``sla.priority_changed``): the targets still running are
measured by it from when they started, so raising a conversation to urgent brings its due times
forward and lowering it pushes them back. A ``priority_changed`` event records from, to and who.
"""
from __future__ import annotations

from inbox import realtime
from inbox.extensions import db
from inbox.models import Conversation, ConversationEvent, User
from inbox.models.conversation import ACTIVE_STATUSES
from inbox.services import sla
from inbox.services.conversations import get_conversation
from inbox.services.errors import InvalidInput
from routing.sla import PRIORITIES


def parse(value: str | int | None) -> int:
    """A priority from a form field; ``InvalidInput`` unless it is 1, 2, 3 or 4."""
    text = str(value if value is not None else "").strip()
    if not text.isdigit() or int(text) not in PRIORITIES:
        raise InvalidInput("priority must be 1 (urgent), 2, 3 or 4 (low)")
    return int(text)


def set_priority(user: User, conversation_id: int, priority: int) -> Conversation:
    """Set the priority of a conversation the user may see (NotFound otherwise, as for every
    conversation action) and re-time its SLA; announced after the commit. The same priority
    again changes nothing."""
    priority = parse(priority)
    conversation = get_conversation(user, conversation_id)
    if conversation.priority == priority:
        return conversation
    data = {"from": conversation.priority, "to": priority}
    conversation.priority = priority
    if conversation.status in ACTIVE_STATUSES:  # a resolved one takes its policy when it reopens
        sla.priority_changed(conversation)
        data["sla_policy"] = (conversation.sla_policy or {}).get("name")
    event = ConversationEvent(conversation=conversation, actor_id=user.id, kind="priority_changed", data=data)
    db.session.add(event)
    db.session.commit()
    realtime.conversation_updated(conversation)
    realtime.event_recorded(event)
    return conversation
