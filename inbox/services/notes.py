"""Private notes between agents, their @mentions, and the notifications a mention creates.

A note is never sent to the customer. ``@handle`` names a colleague by the part of their
e-mail address before the "@" (``@agent2``) or by their name written without spaces; only people
who may see the conversation can be mentioned, anyone else's handle stays plain text.
"""
from __future__ import annotations

import re

from sqlalchemy import false, func, or_, select, update

from inbox import realtime
from inbox.extensions import db
from inbox.models import Conversation, ConversationEvent, Note, Notification, Team, User
from inbox.models.base import utcnow
from inbox.services.conversations import get_conversation
from inbox.services.errors import InvalidInput, NotFound
from routing.normalize import clean_for_storage

MAX_NOTE_LENGTH = 4000
MAX_MENTIONS = 20
EXCERPT_LENGTH = 200
# A bounded, linear pattern: "@" not inside a word or an e-mail address, then a word of up to 64.
MENTION = re.compile(r"(?<![\w@.])@([\w.\-]{1,64})")


def handle_of(user: User) -> str:
    """The word that mentions ``user``: their e-mail's local part, lowercased."""
    return user.email.split("@", 1)[0].lower()


def may_see(user: User, conversation: Conversation) -> bool:
    """The rule of conversations._visible, for one user and one conversation."""
    return user.active and (user.sees_all_teams or conversation.assignee_id == user.id
                            or (conversation.team_id is not None and conversation.team_id in user.team_ids))


def mentionable(user: User, conversation_id: int) -> list[User]:
    """Who the user may mention in a note on this conversation (for the autocomplete)."""
    conversation = get_conversation(user, conversation_id)
    return _audience(conversation)


def _audience(conversation: Conversation) -> list[User]:
    query = select(User).where(User.active.is_(True)).where(or_(
        User.role.in_(("supervisor", "admin")),
        User.id == conversation.assignee_id,
        User.teams.any(Team.id == conversation.team_id) if conversation.team_id else false(),
    )).order_by(User.name)
    return list(db.session.scalars(query))


def mentioned_users(text: str, audience: list[User]) -> list[User]:
    """The people of ``audience`` that ``text`` mentions, in order of first mention."""
    by_word: dict[str, User] = {}
    for person in audience:
        by_word.setdefault(re.sub(r"\s+", "", person.name).lower(), person)
    for person in audience:  # the e-mail handle wins over a colleague's look-alike name
        by_word[handle_of(person)] = person
    found: dict[int, User] = {}
    for match in MENTION.finditer(text):
        word = match.group(1).rstrip(".-").lower()
        person = by_word.get(word)
        if person is not None:
            found.setdefault(person.id, person)
        if len(found) >= MAX_MENTIONS:
            break
    return list(found.values())


def add_note(user: User, conversation_id: int, text: str) -> Note:
    """Store a note; each colleague it mentions (who may see the conversation) gets a notification,
    pushed to their own room after the commit."""
    conversation = get_conversation(user, conversation_id)
    text = clean_for_storage(text or "").strip()
    if not text:
        raise InvalidInput("a note needs some text")
    if len(text) > MAX_NOTE_LENGTH:
        raise InvalidInput(f"a note has at most {MAX_NOTE_LENGTH} characters")
    people = [p for p in mentioned_users(text, _audience(conversation)) if p.id != user.id]
    note = Note(conversation=conversation, author_id=user.id, text=text, created_at=utcnow())
    db.session.add(note)
    db.session.flush()
    event = ConversationEvent(conversation=conversation, actor_id=user.id, kind="note_added",
                              data={"note_id": note.id, "mentions": [p.id for p in people]})
    db.session.add(event)
    notifications = [Notification(user_id=p.id, kind="mention", conversation_id=conversation.id, note_id=note.id,
                                  actor_id=user.id, excerpt=text[:EXCERPT_LENGTH]) for p in people]
    db.session.add_all(notifications)
    db.session.commit()
    realtime.note_created(note, event)
    realtime.notifications_created(notifications)
    return note


def list_notes(user: User, conversation_id: int) -> list[Note]:
    conversation = get_conversation(user, conversation_id)
    return list(conversation.notes)


def notifications_for(user: User, limit: int = 20) -> list[Notification]:
    """The user's newest notifications, unread first."""
    query = (select(Notification).where(Notification.user_id == user.id)
             .order_by(Notification.read_at.is_not(None), Notification.created_at.desc(), Notification.id.desc())
             .limit(limit))
    return list(db.session.scalars(query))


def unread_count(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def mark_read(user: User, notification_id: int | None = None) -> int:
    """One of the user's notifications (or all of them) read; NotFound for someone else's."""
    query = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if notification_id is not None:
        if db.session.scalar(select(Notification.user_id).where(Notification.id == notification_id)) != user.id:
            raise NotFound("notification")
        query = query.where(Notification.id == notification_id)
    changed = db.session.execute(query.values(read_at=utcnow()).execution_options(synchronize_session=False))
    db.session.commit()
    realtime.notifications_read(user.id, unread_count(user))
    return changed.rowcount
