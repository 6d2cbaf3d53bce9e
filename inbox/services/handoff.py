"""Public-to-private hand-off on X: answer the customer's mention with a short public post and
continue in a DM, in one action.

The DM goes where ingest will thread the customer's answer (inbox/services/ingest_store.py: a
private message joins the customer's latest private conversation on that channel): the
customer's open DM conversation, or a new one, which is then the latest. Both messages are
stored ``queued`` in one transaction and sent by the outbox like any reply, each with its own
delivery state: X refusing the DM (the customer does not accept DMs from the account) fails the
DM only, with X's reason, and the public post still goes. An event on each conversation records
the hand-off and names the other conversation.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from inbox import realtime
from inbox.extensions import db
from inbox.jobs import enqueue
from inbox.models import Conversation, ConversationEvent, Identity, Message, User
from inbox.models.base import utcnow
from inbox.models.conversation import ACTIVE_STATUSES, PREVIEW_LENGTH
from inbox.services import sla
from inbox.services.conversations import _reply_text, _visible, get_conversation
from inbox.services.errors import InvalidInput

PLATFORMS = ("twitter",)  # Meta's comments have their own private reply (conversations.reply(private=True))
# The suggested public answer, in the customer's language (customer-facing: not the agent's UI language).
PUBLIC_TEXT = {"ar": "راسلناك على الخاص 🙏", "en": "We've sent you a DM 🙏"}
TO_DM, FROM_PUBLIC = "handed_off_to_dm", "continued_from_public"  # event kinds on each side
DM_SUFFIX = ":dm"


@dataclass(frozen=True)
class Handoff:
    public: Message
    private: Message

    @property
    def dm_conversation_id(self) -> int:
        return self.private.conversation_id


def available(conversation: Conversation) -> bool:
    """A public conversation on a platform whose mentions can be continued by DM."""
    return conversation.is_public and conversation.channel.platform in PLATFORMS


def suggested_text(language: str | None) -> str:
    return PUBLIC_TEXT["en" if language == "en" else "ar"]


def dm_conversation(conversation: Conversation) -> Conversation | None:
    """The customer's DM conversation on the channel that an answer by DM would join, if it is
    still active (a resolved one would be reopened by the answer: a new one is opened instead)."""
    latest = db.session.scalar(
        select(Conversation).where(Conversation.channel_id == conversation.channel_id,
                                   Conversation.customer_id == conversation.customer_id,
                                   Conversation.is_public.is_(False))
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc()).limit(1))
    return latest if latest is not None and latest.status in ACTIVE_STATUSES else None


def start(user: User, conversation_id: int, public_text: str, private_text: str,
          client_token: str | None = None) -> Handoff:
    """Queue a public reply on the mention and a DM to its author, announced after the commit.

    InvalidInput when the conversation is not a public X one, a text is empty or too long, or
    the customer's DM conversation is held by a team the user cannot see. ``client_token``
    makes a second submit of the same form return the first hand-off."""
    key = (client_token or "").strip()[:60] or secrets.token_hex(16)
    done = _existing(user, key)
    if done is not None:
        return done
    public = get_conversation(user, conversation_id)
    if not available(public):
        raise InvalidInput("only a public X conversation can be continued in a DM")
    public_text = _checked(public, public_text, private=False, which="public reply")
    private_text = _checked(public, private_text, private=True, which="DM")
    if _customer_identity(public) is None:
        raise InvalidInput("the customer has no X account on record to write to")
    now = utcnow()
    private = dm_conversation(public)
    created = private is None
    if created:
        private = _open_dm(user, public, now)
    elif db.session.scalar(_visible(user).where(Conversation.id == private.id)) is None:
        raise InvalidInput("the customer's DM conversation is held by another team: ask them to answer there")
    public_message = _queue(user, public, public_text, key, now)
    private_message = _queue(user, private, private_text, key + DM_SUFFIX, now)
    db.session.flush()  # ids for the events' links and the SLA clock
    for conversation in (public, private):
        sla.agent_replied(conversation, now)
    events = [
        ConversationEvent(conversation=public, actor_id=user.id, kind=TO_DM,
                          data={"conversation_id": private.id, "new": created}),
        ConversationEvent(conversation=private, actor_id=user.id, kind=FROM_PUBLIC,
                          data={"conversation_id": public.id}),
    ]
    db.session.add_all(events)
    try:
        db.session.commit()
    except IntegrityError:  # the same token raced in from a second click
        db.session.rollback()
        done = _existing(user, key)
        if done is None:
            raise InvalidInput("this form was already used: reload the page to send again") from None
        return done
    realtime.announce([
        realtime.about_message(public_message, created=True), realtime.about_message(private_message, created=True),
        realtime.about_conversation(public), realtime.about_conversation(private, created=created),
    ])
    for event in events:
        realtime.event_recorded(event)
    enqueue("deliver_message", public_message.id)
    enqueue("deliver_message", private_message.id)
    return Handoff(public_message, private_message)


def _existing(user: User, key: str) -> Handoff | None:
    public = db.session.scalar(select(Message).where(Message.idempotency_key == key))
    private = db.session.scalar(select(Message).where(Message.idempotency_key == key + DM_SUFFIX))
    if public is None or private is None:
        return None
    get_conversation(user, public.conversation_id)  # a token is no way into others' tickets
    return Handoff(public, private)


def _checked(conversation: Conversation, text: str, private: bool, which: str) -> str:
    try:
        return _reply_text(conversation, text, None, private)
    except InvalidInput as exc:
        raise InvalidInput(f"{which}: {exc}") from exc


def _customer_identity(conversation: Conversation) -> Identity | None:
    return db.session.scalar(select(Identity).where(Identity.customer_id == conversation.customer_id,
                                                    Identity.platform == conversation.channel.platform)
                             .order_by(Identity.id).limit(1))


def _open_dm(user: User, public: Conversation, now) -> Conversation:
    """A new private conversation with the customer, held by the agent who opened it and
    classified like the mention it continues; its SLA clock runs on the priority's policy."""
    policy = sla.policies().get(public.priority)
    conversation = Conversation(
        channel_id=public.channel_id, customer_id=public.customer_id, team_id=public.team_id, assignee_id=user.id,
        status="open", priority=public.priority, is_public=False, intent=public.intent,
        intent_confidence=public.intent_confidence, intent_model_version_id=public.intent_model_version_id,
        language=public.language, sentiment=public.sentiment, last_message_at=now, opened_at=now,
        sla_policy=policy.to_dict() if policy else None, sla_pauses=[], created_at=now)
    db.session.add(conversation)
    return conversation


def _queue(user: User, conversation: Conversation, text: str, key: str, now) -> Message:
    """An agent's reply as conversations.reply stores it (without its commit)."""
    message = Message(conversation=conversation, channel_id=conversation.channel_id, direction="out",
                      author_user_id=user.id, text=text, is_public=conversation.is_public, state="queued",
                      idempotency_key=key, created_at=now)
    db.session.add(message)
    conversation.last_message_at = now
    conversation.preview = text[:PREVIEW_LENGTH]
    if conversation.first_response_at is None:
        conversation.first_response_at = now
    if conversation.assignee_id is None:
        conversation.assignee_id = user.id
    db.session.add(ConversationEvent(conversation=conversation, actor_id=user.id, kind="replied"))
    return message
