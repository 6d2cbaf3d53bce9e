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


def rooms_for_user(user: User) -> list[str]:
    rooms = [user_room(user.id)]
    if user.sees_all_teams:
        rooms.append(SUPERVISORS_ROOM)
    rooms.extend(team_room(team_id) for team_id in user.team_ids)
    return rooms


def _audience(conversation: Conversation) -> list[str]:
    rooms = [SUPERVISORS_ROOM]
    if conversation.team_id:
        rooms.append(team_room(conversation.team_id))
    if conversation.assignee_id:
        rooms.append(user_room(conversation.assignee_id))
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


def announce(announcements: list[Announcement]) -> None:
    for item in announcements:
        socketio.emit(item.event, item.payload, to=list(item.rooms))


def conversation_updated(conversation: Conversation, created: bool = False) -> None:
    announce([about_conversation(conversation, created)])


def message_created(message: Message) -> None:
    announce([about_message(message, created=True)])


def message_updated(message: Message) -> None:
    announce([about_message(message, created=False)])


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
