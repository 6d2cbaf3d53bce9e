"""Crossing replies: two agents answering the same customer at once.

The reply form carries the id of the last message the agent had on screen
(``last_seen_message_id``, kept current by inbox/static/together.js). If a colleague's reply, or
a new message from the customer, was stored after it, the reply is refused with who answered
(HTTP 409) unless the agent confirms (``confirm_crossing=1``): no customer gets two answers
because two agents did not see each other.
"""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import or_, select

from inbox.extensions import db
from inbox.models import Message, User
from inbox.payloads import message_payload
from inbox.services.conversations import get_conversation


class Crossing(Exception):
    """Messages the agent has not seen arrived since they began: their reply would cross them."""

    def __init__(self, messages: list[Message]):
        self.messages = messages
        self.answered_by = sorted({m.author_user.name if m.author_user else _("An automatic reply")
                                   for m in messages if m.direction == "out"})
        self.customer_wrote = any(m.direction == "in" for m in messages)
        if self.answered_by:
            text = _("%(names)s answered while you were writing. Read the reply, then send yours anyway or change it.",
                     names=", ".join(self.answered_by))
        else:
            text = _("The customer wrote again while you were writing. Read it, then send anyway or change your reply.")
        super().__init__(text)

    def payload(self) -> dict[str, Any]:
        return {"error": str(self), "crossing": True, "answered_by": self.answered_by,
                "customer_wrote": self.customer_wrote, "messages": [message_payload(m) for m in self.messages]}


def unseen(user: User, conversation_id: int, last_seen_message_id: int) -> list[Message]:
    """Messages stored after the one the agent last saw, other than the agent's own."""
    get_conversation(user, conversation_id)  # NotFound: no peeking into others' conversations
    return list(db.session.scalars(
        select(Message).where(
            Message.conversation_id == conversation_id, Message.id > last_seen_message_id,
            Message.deleted_at.is_(None),
            or_(Message.direction == "in", Message.author_user_id.is_(None), Message.author_user_id != user.id))
        .order_by(Message.id)))


def check(user: User, conversation_id: int, last_seen_message_id: int | None, confirmed: bool) -> None:
    """Raise Crossing when the reply would cross unseen messages and the agent did not confirm.
    A form without ``last_seen_message_id`` (an API client) is not checked."""
    if confirmed or last_seen_message_id is None:
        return
    messages = unseen(user, conversation_id, last_seen_message_id)
    if messages:
        raise Crossing(messages)
