"""What agents do with conversations: list, open, reply, change status."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, or_, select
from sqlalchemy.exc import IntegrityError

from connectors.registry import connector_class
from connectors.text_length import code_points, x_weighted
from inbox import realtime
from inbox.extensions import db
from inbox.jobs import enqueue
from inbox.models import Conversation, ConversationEvent, Message, User
from inbox.models.base import utcnow
from inbox.models.conversation import PREVIEW_LENGTH
from inbox.services import sla
from inbox.services.errors import InvalidInput, NotFound
from routing.normalize import clean_for_storage

MAX_REPLY_LENGTH = 4000
AGENT_STATUSES = ("open", "pending", "resolved")
def _visible(user: User) -> Select:
    query = select(Conversation)
    if not user.sees_all_teams:
        query = query.where(
            or_(Conversation.team_id.in_(user.team_ids), Conversation.assignee_id == user.id)
        )
    return query


def list_conversations(user: User, status_filter: str = "active", limit: int = 100) -> list[Conversation]:
    """The first conversations of the user's default view (or of triage) in queue order; the
    queue itself is inbox/services/queue.py."""
    from inbox.services import queue  # the queue module builds on this one's rules

    view = "triage" if status_filter == "triage" else queue.default_view(user)
    status = "active" if status_filter == "triage" else status_filter
    return queue.page(user, queue.parse_query(user, {"view": view, "status": status}), size=limit).items


def get_conversation(user: User, conversation_id: int) -> Conversation:
    """The conversation if the user may see it; NotFound otherwise (no existence oracle)."""
    conversation = db.session.scalar(_visible(user).where(Conversation.id == conversation_id))
    if conversation is None:
        raise NotFound("conversation")
    return conversation


class WindowClosed(InvalidInput):
    """Free-form replies are no longer allowed on this channel; an approved template may be."""


# Why a private reply (Messenger / Instagram DM to a commenter) is not possible. The first
# two hold for the whole conversation (no option to offer); the others are worth telling.
NOT_PUBLIC, UNSUPPORTED, NO_COMMENT, ALREADY_SENT, TOO_OLD = (
    "not_public", "unsupported", "no_comment", "already_sent", "too_old")
PRIVATE_REPLY_REFUSALS = {
    NOT_PUBLIC: _l("This conversation is already private: a private reply answers a public comment."),
    UNSUPPORTED: _l("This platform does not offer private replies to comments."),
    NO_COMMENT: _l("There is no comment of the customer to answer privately."),
    ALREADY_SENT: _l("A private reply was already sent for this comment: the platform allows one per comment."),
    TOO_OLD: _l("The comment is more than 7 days old: the platform allows a private reply only within 7 days."),
}


class PrivateReplyRefused(InvalidInput):
    """A private reply the platform would refuse; ``reason`` is a PRIVATE_REPLY_REFUSALS key."""

    def __init__(self, reason: str):
        super().__init__(PRIVATE_REPLY_REFUSALS[reason])
        self.reason = reason


@dataclass(frozen=True)
class ReplyOptions:
    window_closed: bool
    templates: list[dict[str, str]]
    # None: the customer's last comment may be answered privately; else why not.
    private_reply_refusal: str | None = NOT_PUBLIC

    @property
    def can_reply_privately(self) -> bool:
        return self.private_reply_refusal is None

    @property
    def private_reply_reason(self) -> str | None:
        """Why a private reply is not possible here, when the agent would expect one."""
        if self.private_reply_refusal in (NOT_PUBLIC, UNSUPPORTED, None):
            return None
        return str(PRIVATE_REPLY_REFUSALS[self.private_reply_refusal])


def reply_options(conversation: Conversation) -> ReplyOptions:
    """Whether the platform's customer-service window is still open (it governs private
    messages; a public reply to a comment has none), the templates the channel may send when
    it is not (WhatsApp's approved templates), and whether a private reply is possible."""
    window = connector_class(conversation.channel.platform).reply_window
    last = conversation.last_customer_message_at
    closed = bool(window and not conversation.is_public and last and utcnow() - last > window)
    templates = [t for t in (conversation.channel.settings or {}).get("templates") or [] if t.get("name")]
    return ReplyOptions(closed, templates, _private_reply_target(conversation)[0])


def text_limit(conversation: Conversation, private: bool = False) -> tuple[int, str]:
    """(the most a reply may count, how the platform counts): a public X post 280 counted X's way,
    else the platform's message limit in code points (never above MAX_REPLY_LENGTH)."""
    connector = connector_class(conversation.channel.platform)
    public = conversation.is_public and not private
    if public and connector.max_public_text_length:
        return min(connector.max_public_text_length, MAX_REPLY_LENGTH), connector.text_counting
    return min(connector.max_text_length, MAX_REPLY_LENGTH), "code_points"


def text_length(text: str, counting: str) -> int:
    return x_weighted(text) if counting == "x_weighted" else code_points(text)


def _private_reply_target(conversation: Conversation) -> tuple[str | None, Message | None]:
    """(refusal or None, the comment a private reply answers): the customer's last comment
    still on the platform, if the platform allows one private reply to it and it is recent."""
    connector = connector_class(conversation.channel.platform)
    if not conversation.is_public:
        return NOT_PUBLIC, None
    if not getattr(connector, "private_replies", False):
        return UNSUPPORTED, None
    comment = db.session.scalar(
        select(Message)
        .where(Message.conversation_id == conversation.id, Message.direction == "in",
               Message.external_id.is_not(None), Message.deleted_at.is_(None))
        .order_by(Message.id.desc()).limit(1))
    if comment is None:
        return NO_COMMENT, None
    if _private_reply_sent(conversation.channel_id, comment.external_id):
        return ALREADY_SENT, comment
    if utcnow() - comment.created_at > connector.private_reply_window:
        return TOO_OLD, comment
    return None, comment


def _private_reply_sent(channel_id: int, comment_id: str) -> bool:
    """A private reply to this comment is sent or on its way (a failed one never reached it)."""
    return db.session.scalar(
        select(Message.id).where(
            Message.channel_id == channel_id, Message.direction == "out", Message.is_public.is_(False),
            Message.parent_external_id == comment_id, Message.state != "failed",
        ).limit(1)) is not None


def _reply_text(conversation: Conversation, text: str, template: str | None, private: bool = False) -> str:
    options = reply_options(conversation)
    if template:
        if private:
            raise InvalidInput("a private reply to a comment is free text, not a template")
        chosen = next((t for t in options.templates if t["name"] == template), None)
        if chosen is None:
            raise InvalidInput("this channel has no approved template of that name")
        return chosen.get("text") or chosen["name"]
    if options.window_closed and not private:
        raise WindowClosed(
            "The customer last wrote more than 24 hours ago, so the platform will refuse a free-form "
            "reply. Send one of the channel's approved templates instead."
        )
    text = clean_for_storage(text or "").strip()
    if not text:
        raise InvalidInput("a reply needs some text")
    if len(text) > MAX_REPLY_LENGTH:
        raise InvalidInput(f"a reply has at most {MAX_REPLY_LENGTH} characters")
    limit, counting = text_limit(conversation, private)
    if text_length(text, counting) > limit:
        raise InvalidInput(f"this reply counts {text_length(text, counting)} characters; the platform allows {limit}")
    return text


def reply(user: User, conversation_id: int, text: str, client_token: str | None = None,
          template: str | None = None, private: bool = False) -> Message:
    """Store the reply as ``queued`` with the conversation's update, then queue its sending.

    ``client_token`` comes from the reply form: a second submit of the same form returns the
    first reply instead of sending twice. Outside the platform's reply window only an
    approved ``template`` may be sent: the agent is told so instead of a send that will fail.

    ``private`` answers the customer's last comment of a public conversation in Messenger /
    Instagram DM (Meta's private reply): the message is private and names that comment; the
    conversation stays public. PrivateReplyRefused when the platform would refuse it.
    """
    key = (client_token or "").strip()[:64] or secrets.token_hex(16)
    existing = db.session.scalar(select(Message).where(Message.idempotency_key == key))
    if existing is not None:
        get_conversation(user, existing.conversation_id)  # a token is no way into others' tickets
        return existing
    conversation = get_conversation(user, conversation_id)
    comment = None
    if private:
        refusal, comment = _private_reply_target(conversation)
        if refusal:
            raise PrivateReplyRefused(refusal)
    text = _reply_text(conversation, text, template, private)
    now = utcnow()
    message = Message(
        conversation=conversation,
        channel_id=conversation.channel_id,
        direction="out",
        author_user_id=user.id,
        text=text,
        is_public=conversation.is_public and not private,
        parent_external_id=comment.external_id if comment else None,  # the comment a private reply answers
        state="queued",
        idempotency_key=key,
        template=template or None,
        created_at=now,
    )
    db.session.add(message)
    conversation.last_message_at = now
    conversation.preview = text[:PREVIEW_LENGTH]
    if conversation.first_response_at is None:
        conversation.first_response_at = now
    sla.agent_replied(conversation, now)
    if conversation.assignee_id is None:
        conversation.assignee_id = user.id
    db.session.add(ConversationEvent(conversation=conversation, actor_id=user.id, kind="replied"))
    try:
        db.session.commit()
    except IntegrityError:  # the same token raced in from a second click
        db.session.rollback()
        return db.session.scalar(select(Message).where(Message.idempotency_key == key))
    realtime.message_created(message)
    realtime.conversation_updated(conversation)
    enqueue("deliver_message", message.id)
    return message


def retry_message(user: User, message_id: int) -> Message:
    """Put a failed reply back in the outbox (the agent's retry button)."""
    message = db.session.get(Message, message_id)
    if message is None or message.direction != "out":
        raise NotFound("message")
    get_conversation(user, message.conversation_id)
    if message.state != "failed":
        return message
    message.state, message.error = "queued", None
    db.session.commit()
    realtime.message_updated(message)
    enqueue("deliver_message", message.id)
    return message


def set_status(user: User, conversation_id: int, status: str) -> Conversation:
    if status not in AGENT_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(AGENT_STATUSES)}")
    conversation = get_conversation(user, conversation_id)
    if conversation.status == status:
        return conversation
    data: dict[str, Any] = {"from": conversation.status, "to": status}
    conversation.status = status
    conversation.resolved_at = utcnow() if status == "resolved" else None
    conversation.snoozed_until = None  # a snooze ends when an agent picks another status
    sla.status_changed(conversation, data["from"], conversation.resolved_at or utcnow())
    db.session.add(
        ConversationEvent(conversation=conversation, actor_id=user.id, kind="status_changed", data=data)
    )
    db.session.commit()
    realtime.conversation_updated(conversation)
    return conversation
