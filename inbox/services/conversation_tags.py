"""Tags on a conversation: any agent who may see it adds or removes them; each change is an
event on the conversation and reaches every screen showing it."""
from __future__ import annotations

import re

from sqlalchemy import select

from inbox import realtime
from inbox.extensions import db
from inbox.models import Conversation, ConversationEvent, Tag, User
from inbox.services.conversations import get_conversation
from inbox.services.errors import InvalidInput
from routing.normalize import clean_for_storage

MAX_TAG = 64
MAX_TAGS_PER_CONVERSATION = 30


def normalise(name: str) -> str:
    """Trimmed, inner whitespace collapsed, lowercase (rules compare tags by name)."""
    name = re.sub(r"\s+", " ", clean_for_storage(name or "")).strip().lower()
    if not name or len(name) > MAX_TAG or "," in name or "،" in name:
        raise InvalidInput(f"a tag is one word or phrase of up to {MAX_TAG} characters, without commas")
    return name


def add_tag(user: User, conversation_id: int, name: str) -> Conversation:
    conversation = get_conversation(user, conversation_id)
    name = normalise(name)
    if any(t.name == name for t in conversation.tags):
        return conversation
    if len(conversation.tags) >= MAX_TAGS_PER_CONVERSATION:
        raise InvalidInput(f"a conversation has at most {MAX_TAGS_PER_CONVERSATION} tags")
    tag = db.session.scalar(select(Tag).where(Tag.name == name))
    if tag is None:
        tag = Tag(name=name)
        db.session.add(tag)
    conversation.tags.append(tag)
    return _changed(user, conversation, "tag_added", name)


def remove_tag(user: User, conversation_id: int, name: str) -> Conversation:
    conversation = get_conversation(user, conversation_id)
    name = re.sub(r"\s+", " ", (name or "")).strip().lower()
    tag = next((t for t in conversation.tags if t.name == name), None)
    if tag is None:
        return conversation
    conversation.tags.remove(tag)
    return _changed(user, conversation, "tag_removed", name)


def _changed(user: User, conversation: Conversation, kind: str, name: str) -> Conversation:
    event = ConversationEvent(conversation=conversation, actor_id=user.id, kind=kind, data={"tag": name})
    db.session.add(event)
    db.session.commit()
    realtime.tags_changed(conversation)
    realtime.event_recorded(event)
    return conversation
