"""What the conversation screen shows besides the messages: the thread with notes woven in,
the customer's other conversations on every platform, and the event history in words."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from inbox.extensions import db
from inbox.models import Conversation, ConversationEvent, Message, Note, Team, User
from inbox.services.conversations import _visible

HISTORY_LIMIT = 20
HISTORY_MESSAGES = 3  # the last few messages of each other conversation, shown when expanded
EVENT_LIMIT = 200


def thread(conversation: Conversation) -> list[Message | Note]:
    """Messages and private notes in the order they were written."""
    items: list[Message | Note] = [*conversation.messages, *conversation.notes]
    return sorted(items, key=lambda i: (i.created_at, isinstance(i, Note), i.id))


@dataclass(frozen=True)
class PastConversation:
    conversation: Conversation
    last_messages: list[Message]


def customer_history(user: User, conversation: Conversation) -> list[PastConversation]:
    """The customer's other conversations the user may see, on every platform, newest first."""
    others = list(db.session.scalars(
        _visible(user).where(Conversation.customer_id == conversation.customer_id, Conversation.id != conversation.id)
        .options(selectinload(Conversation.channel))
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc()).limit(HISTORY_LIMIT)))
    result = []
    for other in others:
        last = list(db.session.scalars(select(Message).where(Message.conversation_id == other.id)
                                       .order_by(Message.id.desc()).limit(HISTORY_MESSAGES)))
        result.append(PastConversation(other, list(reversed(last))))
    return result


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    actor: str | None
    text: str


def events(conversation: Conversation) -> list[TimelineEntry]:
    """The conversation's events, oldest first, each as a translated sentence."""
    rows = list(db.session.scalars(select(ConversationEvent).where(ConversationEvent.conversation_id == conversation.id)
                                   .order_by(ConversationEvent.created_at, ConversationEvent.id).limit(EVENT_LIMIT)))
    user_ids = {r.actor_id for r in rows} | {v for r in rows for k, v in (r.data or {}).items()
                                             if k in ("agent_id", "from_agent_id", "to_agent_id", "by")}
    user_ids |= {m for r in rows for m in (r.data or {}).get("mentions") or []}
    names = dict(db.session.execute(select(User.id, User.name).where(
        User.id.in_([i for i in user_ids if isinstance(i, int)]))).all())
    teams = dict(db.session.execute(select(Team.id, Team.name)).all())
    return [TimelineEntry(r.created_at, r.kind, names.get(r.actor_id), describe(r.kind, r.data or {}, names, teams))
            for r in rows]


def _percent(value: Any) -> str:
    return f"{round(float(value) * 100)}%" if isinstance(value, int | float) else "—"


def describe(kind: str, data: dict[str, Any], names: dict[int, str], teams: dict[int, str]) -> str:  # noqa: C901
    """One event in words, in the reader's language."""
    def person(key: str) -> str:
        return names.get(data.get(key), _("someone")) if data.get(key) else _("nobody")

    status = {"new": _("New"), "open": _("Open"), "pending": _("Pending"), "snoozed": _("Snoozed"),
              "resolved": _("Resolved")}
    if kind in ("created", "reopened"):
        routing = data.get("routing") or {}
        text = _("Conversation opened") if kind == "created" else _("Conversation reopened by the customer")
        if data.get("intent"):
            text += " · " + _("intent %(intent)s (%(confidence)s)", intent=data["intent"],
                               confidence=_percent(data.get("confidence")))
        if routing.get("model_version"):
            text += " · " + _("model %(version)s", version=routing["model_version"])
        if routing.get("fired"):
            text += " · " + _("rules: %(rules)s", rules=", ".join(str(r) for r in routing["fired"]))
        if routing.get("triage"):
            text += " · " + _("sent to triage")
        return text
    if kind == "assigned":
        agent = person("agent_id")
        if data.get("by") == "routing":
            text = _("Assigned to %(agent)s by routing", agent=agent)
            if data.get("rules"):
                text += " · " + _("rules: %(rules)s", rules=", ".join(str(r) for r in data["rules"]))
            if data.get("model_version"):
                text += " · " + _("model %(version)s, confidence %(confidence)s", version=data["model_version"],
                                  confidence=_percent(data.get("confidence")))
            return text
        if data.get("by") == "queue":
            return _("Assigned to %(agent)s from the team's queue", agent=agent)
        if data.get("reason") == "claimed":
            return _("%(agent)s claimed the conversation", agent=agent)
        return _("Assigned to %(agent)s", agent=agent)
    if kind == "unassigned":
        return _("Returned to the queue from %(agent)s", agent=person("from_agent_id"))
    if kind == "transferred":
        if data.get("to_agent_id"):
            return _("Transferred to %(agent)s", agent=person("to_agent_id"))
        return _("Moved to team %(team)s", team=teams.get(data.get("to_team_id"), "—"))
    if kind == "status_changed":
        to = status.get(data.get("to"), data.get("to") or "")
        if data.get("reason") == "snooze_ended":
            return _("The snooze ended: open again")
        if data.get("to") == "snoozed" and data.get("until"):
            return _("Snoozed until %(until)s", until=_local(data["until"]))
        return _("Status changed to %(status)s", status=to)
    if kind == "intent_corrected":
        return _("Intent corrected to %(intent)s", intent=data.get("to") or "—")
    if kind == "sla_breached":
        return _("SLA target missed (%(target)s), due %(due)s", target=data.get("target") or "—",
                 due=_local(data.get("due")))
    if kind == "supervisor_alerted":
        return _("No agent was free: supervisors alerted")
    if kind == "replied":
        return _("Replied to the customer")
    if kind == "auto_replied":
        return _("Automatic reply sent")
    if kind == "note_added":
        mentions = [names.get(i, "") for i in data.get("mentions") or []]
        if mentions:
            return _("Note added, mentioning %(names)s", names=", ".join(mentions))
        return _("Note added")
    if kind == "tag_added":
        return _("Tag added: %(tag)s", tag=data.get("tag") or "")
    if kind == "tag_removed":
        return _("Tag removed: %(tag)s", tag=data.get("tag") or "")
    if kind == "priority_changed":
        return _("Priority changed from %(before)s to %(after)s", before=data.get("from", "—"),
                 after=data.get("to", "—"))
    return kind.replace("_", " ")


def _local(iso: Any) -> str:
    from flask_babel import format_datetime

    try:
        return format_datetime(datetime.fromisoformat(str(iso).removesuffix("Z")), "short")
    except (TypeError, ValueError):
        return "—"
