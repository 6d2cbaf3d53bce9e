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
from inbox.labels import ui_labels  # the same translated names the screen shows
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
    # The other conversation an event names (a hand-off to or from a DM), for a link.
    conversation_id: int | None = None
    link_text: str | None = None


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
    words = Words(ui_labels(), names, teams)
    return [_entry(r, words) for r in rows]


def _entry(row: ConversationEvent, words: Words) -> TimelineEntry:
    data = row.data or {}
    other, link = None, None
    if row.kind in LINKED and isinstance(data.get("conversation_id"), int):
        other = data["conversation_id"]
        link = _("Open the DM conversation") if row.kind == "handed_off_to_dm" else _("Open the public conversation")
    return TimelineEntry(row.created_at, row.kind, words.names.get(row.actor_id), describe(row.kind, data, words),
                         other, link)


LINKED = ("handed_off_to_dm", "continued_from_public")  # inbox/services/handoff.py


@dataclass(frozen=True)
class Words:
    """Codes in events (intents, statuses, priorities, SLA targets, ids) as the reader's words."""

    labels: dict[str, Any]
    names: dict[int, str]
    teams: dict[int, str]

    def intent(self, key: Any) -> str:
        return self.labels["intent"].get(key, self.labels["no_intent"]) if key else self.labels["no_intent"]

    def status(self, key: Any) -> str:
        return self.labels["status"].get(key, "—")

    def priority(self, key: Any) -> str:
        try:
            return self.labels["screen"]["priority"][int(key)]
        except (KeyError, TypeError, ValueError):
            return "—"

    def target(self, key: Any) -> str:
        return {"first_response": _("first response"), "next_response": _("next response"),
                "resolution": _("resolution")}.get(key, "—")

    def person(self, user_id: Any) -> str:
        return self.names.get(user_id, _("someone")) if user_id else _("nobody")

    def team(self, team_id: Any) -> str:
        return self.teams.get(team_id, "—")


def _percent(value: Any) -> str:
    return f"{round(float(value) * 100)}%" if isinstance(value, int | float) else "—"


def _rules(fired: list[Any]) -> str:
    return ", ".join(str(r.get("name") or r.get("rule_id")) if isinstance(r, dict) else str(r) for r in fired)


def _opened(kind: str, data: dict[str, Any], w: Words) -> str:
    routing = data.get("routing") or {}
    text = _("Conversation opened") if kind == "created" else _("Conversation reopened by the customer")
    if data.get("intent"):
        text += " · " + _("intent %(intent)s (%(confidence)s)", intent=w.intent(data["intent"]),
                           confidence=_percent(data.get("confidence")))
    if routing.get("model_version"):
        text += " · " + _("model %(version)s", version=routing["model_version"])
    if routing.get("fired"):
        text += " · " + _("rules: %(rules)s", rules=_rules(routing["fired"]))
    if routing.get("team_id"):
        text += " · " + _("team %(team)s", team=w.team(routing["team_id"]))
    if routing.get("priority"):
        text += " · " + _("priority %(priority)s", priority=w.priority(routing["priority"]))
    if routing.get("triage"):
        text += " · " + _("sent to triage")
    return text


def _assigned(data: dict[str, Any], w: Words) -> str:
    agent = w.person(data.get("agent_id"))
    if data.get("by") == "routing":
        text = _("Assigned to %(agent)s by routing", agent=agent)
        if data.get("rules"):
            text += " · " + _("rules: %(rules)s", rules=_rules(data["rules"]))
        if data.get("model_version"):
            text += " · " + _("model %(version)s, confidence %(confidence)s", version=data["model_version"],
                              confidence=_percent(data.get("confidence")))
        return text
    if data.get("by") == "queue":
        return _("Assigned to %(agent)s from the team's queue", agent=agent)
    if data.get("reason") == "claimed":
        return _("%(agent)s claimed the conversation", agent=agent)
    return _("Assigned to %(agent)s", agent=agent)


def _status(data: dict[str, Any], w: Words) -> str:
    if data.get("reason") == "snooze_ended":
        return _("The snooze ended: open again")
    if data.get("to") == "snoozed" and data.get("until"):
        return _("Snoozed until %(until)s", until=_local(data["until"]))
    return _("Status changed to %(status)s", status=w.status(data.get("to")))


def _note(data: dict[str, Any], w: Words) -> str:
    mentions = [w.names.get(i, "") for i in data.get("mentions") or []]
    if mentions:
        return _("Note added, mentioning %(names)s", names=", ".join(mentions))
    return _("Note added")


def describe(kind: str, data: dict[str, Any], w: Words) -> str:
    """One event in words, in the reader's language: never a raw code."""
    simple = {
        "supervisor_alerted": lambda: _("No agent was free: supervisors alerted"),
        "replied": lambda: _("Replied to the customer"),
        "auto_replied": lambda: _("Automatic reply sent"),
        "unassigned": lambda: _("Returned to the queue from %(agent)s", agent=w.person(data.get("from_agent_id"))),
        "intent_corrected": lambda: _("Intent corrected to %(intent)s", intent=w.intent(data.get("to"))),
        "sla_breached": lambda: _("SLA target missed (%(target)s), due %(due)s", target=w.target(data.get("target")),
                                  due=_local(data.get("due"))),
        "tag_added": lambda: _("Tag added: %(tag)s", tag=data.get("tag") or ""),
        "tag_removed": lambda: _("Tag removed: %(tag)s", tag=data.get("tag") or ""),
        "priority_changed": lambda: _("Priority changed from %(before)s to %(after)s",
                                      before=w.priority(data.get("from")), after=w.priority(data.get("to"))),
        "handed_off_to_dm": lambda: (_("Answered publicly and continued in a new DM conversation") if data.get("new")
                                     else _("Answered publicly and continued in the customer's DM conversation")),
        "continued_from_public": lambda: _("Continued here from the customer's public X mention"),
        "status_changed": lambda: _status(data, w),
        "assigned": lambda: _assigned(data, w),
        "note_added": lambda: _note(data, w),
    }
    if kind in ("created", "reopened"):
        return _opened(kind, data, w)
    if kind == "transferred":
        if data.get("to_agent_id"):
            return _("Transferred to %(agent)s", agent=w.person(data.get("to_agent_id")))
        return _("Moved to team %(team)s", team=w.team(data.get("to_team_id")))
    if kind in simple:
        return simple[kind]()
    return _("Something changed")


def _local(iso: Any) -> str:
    from flask_babel import format_datetime

    try:
        return format_datetime(datetime.fromisoformat(str(iso).removesuffix("Z")), "short")
    except (TypeError, ValueError):
        return "—"
