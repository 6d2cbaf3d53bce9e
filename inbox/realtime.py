"""Every push to browsers goes through here, after the commit (STYLE.md habit 4).

Rooms are chosen by the server from the authenticated user (see inbox/sockets.py): one per
user, one per team, and one for supervisors and admins, who see every team.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inbox.extensions import socketio
from inbox.models import Conversation, Message, User
from inbox.payloads import conversation_payload, message_payload

SUPERVISORS_ROOM = "supervisors"


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def team_room(team_id: int) -> str:
    return f"team:{team_id}"


def conversation_room(conversation_id: int) -> str:
    """Who is viewing and typing: joined only by inbox/sockets.py after checking the user may see it."""
    return f"conversation:{conversation_id}"


def rooms_for_user(user: User) -> list[str]:
    rooms = [user_room(user.id)]
    if user.sees_all_teams:
        rooms.append(SUPERVISORS_ROOM)
    rooms.extend(team_room(team_id) for team_id in user.team_ids)
    return rooms


def _audience(conversation: Conversation) -> list[str]:
    return _rooms(conversation.team_id, conversation.assignee_id)


def _rooms(team_id: int | None, assignee_id: int | None) -> list[str]:
    rooms = [SUPERVISORS_ROOM]
    if team_id:
        rooms.append(team_room(team_id))
    if assignee_id:
        rooms.append(user_room(assignee_id))
    return rooms


@dataclass(frozen=True)
class Announcement:
    """An event prepared inside a transaction and sent after its commit."""

    event: str
    payload: dict[str, Any]
    rooms: tuple[str, ...]


def about_conversation(conversation: Conversation, created: bool = False) -> Announcement:
    event = "conversation_created" if created else "conversation_updated"
    return Announcement(event, conversation_payload(conversation), tuple(_audience(conversation)))


def about_message(message: Message, created: bool) -> Announcement:
    event = "message_created" if created else "message_updated"
    return Announcement(event, message_payload(message), tuple(_audience(message.conversation)))


def conversation_announcement(payload: dict[str, Any], created: bool) -> Announcement:
    """From a payload built without a model (ingest's batches)."""
    event = "conversation_created" if created else "conversation_updated"
    return Announcement(event, payload, tuple(_rooms(payload["team_id"], payload["assignee_id"])))


def message_announcement(payload: dict[str, Any], conversation: dict[str, Any]) -> Announcement:
    payload = {**payload, "seq": conversation.get("seq")}
    return Announcement("message_created", payload, tuple(_rooms(conversation["team_id"],
                                                                  conversation["assignee_id"])))


def breach_announcement(conversation: Conversation, breach: dict[str, Any]) -> Announcement:
    """An SLA target missed: supervisors and the conversation's team hear it (not each agent)."""
    rooms = [SUPERVISORS_ROOM] + ([team_room(conversation.team_id)] if conversation.team_id else [])
    return Announcement("sla_breached", {"conversation_id": conversation.id, **breach}, tuple(rooms))


def announce(announcements: list[Announcement]) -> None:
    """One emit per event and audience, in order of first appearance: a batch of hundreds of
    messages is a handful of emits, and a screen applies a list at once instead of being
    flooded (one item is sent as itself, several as a list)."""
    groups: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = {}
    for item in announcements:
        groups.setdefault((item.event, item.rooms), []).append(item.payload)
    for (event, rooms), payloads in groups.items():
        socketio.emit(event, payloads[0] if len(payloads) == 1 else payloads, to=list(rooms))


def conversation_updated(conversation: Conversation, created: bool = False) -> None:
    announce([about_conversation(conversation, created)])


def message_created(message: Message) -> None:
    announce([about_message(message, created=True)])


def message_updated(message: Message) -> None:
    announce([about_message(message, created=False)])


def supervisor_alerted(conversation: Conversation, why: dict[str, Any]) -> None:
    """A conversation waited past the ladder's "alert a supervisor" step with no agent free."""
    payload = {"conversation": conversation_payload(conversation), "reason": why.get("reason"),
               "detail": why.get("detail"), "waited_seconds": why.get("waited_seconds")}
    announce([Announcement("supervisor_alerted", payload, (SUPERVISORS_ROOM,))])


def end_user_sessions(user_id: int) -> None:
    """Disconnect every socket of a user whose sessions were revoked.

    Sockets in this process are closed by the server; the event also reaches sockets held by
    other processes (through the message queue), whose pages then close them, and every
    socket handler re-checks the session anyway (inbox/sockets.py).
    """
    room = user_room(user_id)
    socketio.emit("session_ended", {}, to=room)
    server = getattr(socketio, "server", None)
    if server is None:
        return
    for sid, _eio_sid in list(server.manager.get_participants("/", room)):
        server.disconnect(sid, namespace="/")


# ---- working together: viewers, typing, presence (inbox/sockets.py, inbox/services/viewers.py) ----

def viewers_changed(conversation_id: int, viewers: list[dict[str, Any]]) -> None:
    """Everyone viewing the conversation learns who else is (names are text on the screens)."""
    socketio.emit("viewers", {"conversation_id": conversation_id, "viewers": viewers},
                  to=conversation_room(conversation_id))


def typing(conversation_id: int, user: User, kind: str, skip_sid: str | None = None) -> None:
    """One agent is typing a reply or a note: the other viewers hear it (the typist does not)."""
    socketio.emit("typing", {"conversation_id": conversation_id, "user_id": user.id, "name": user.name,
                             "kind": kind}, to=conversation_room(conversation_id), skip_sid=skip_sid)


def presence_changed(payload: dict[str, Any]) -> None:
    """An agent's presence (and open load) for the supervisors' team panel."""
    socketio.emit("presence_changed", payload, to=SUPERVISORS_ROOM)


# ---- the conversation screen: notes, tags, events, notifications (inbox/services/notes.py) ----

def note_created(note: Any, event: Any) -> None:
    """A private note reaches the agents who see the conversation (never the customer)."""
    from inbox.payloads import event_payload, note_payload

    rooms = tuple(_audience(note.conversation))
    announce([Announcement("note_created", note_payload(note), rooms),
              Announcement("conversation_event_recorded", event_payload(event), rooms)])


def event_recorded(event: Any) -> None:
    """A new line of a conversation's history: screens showing it refresh their timeline."""
    from inbox.payloads import event_payload

    announce([Announcement("conversation_event_recorded", event_payload(event), tuple(_audience(event.conversation)))])


def tags_changed(conversation: Conversation) -> None:
    payload = {"conversation_id": conversation.id, "tags": sorted(t.name for t in conversation.tags)}
    announce([Announcement("conversation_tags_changed", payload, tuple(_audience(conversation)))])


def notifications_created(notifications: list[Any]) -> None:
    """Each notification to its own person's room only."""
    from inbox.payloads import notification_payload

    announce([Announcement("notification_created", notification_payload(n), (user_room(n.user_id),))
              for n in notifications])


def notifications_read(user_id: int, unread: int) -> None:
    """The user's other tabs update their badge."""
    announce([Announcement("notifications_read", {"unread": unread}, (user_room(user_id),))])
