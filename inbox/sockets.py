"""Socket.IO handlers.

Authentication happens on connect, from the login session (the same revocable cookie as
HTTP): no session, a stale session version or a deactivated user means the connection is
refused, and every later event re-checks it (the user is loaded from the session per event).
Rooms are joined here, by the server, from the user's own role and teams; the client can name
no room. A conversation's room (who views it, who types) is joined only after the same
visibility check as the HTTP views (conversations.get_conversation), and re-checked on every
heartbeat and typing event, so a transfer away from the agent's team stops the stream.
Every push comes from inbox/realtime.py.
"""
from __future__ import annotations

from typing import Any

from flask import request
from flask_login import current_user
from flask_socketio import disconnect, join_room, leave_room

from inbox import realtime
from inbox.extensions import socketio
from inbox.models import User
from inbox.services import assignment, viewers
from inbox.services.errors import NotFound

TYPING_KINDS = ("reply", "note")


def _user() -> User | None:
    if not current_user.is_authenticated:
        disconnect()
        return None
    return current_user._get_current_object()


def _conversation_id(data: Any) -> int | None:
    value = data.get("conversation_id") if isinstance(data, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _may_see(user: User, conversation_id: int) -> bool:
    # Imported here: conversations -> jobs.tasks -> ingest -> classification -> conversations.
    from inbox.services.conversations import get_conversation

    try:
        get_conversation(user, conversation_id)
    except NotFound:
        return False
    return True


def _stop_viewing(conversation_id: int) -> None:
    leave_room(realtime.conversation_room(conversation_id))
    realtime.viewers_changed(conversation_id, viewers.leave(conversation_id, request.sid))


@socketio.on("connect")
def on_connect(auth=None):
    """Who: any signed-in user's page. Joins: the user's, team and supervisor rooms."""
    if not current_user.is_authenticated:
        raise ConnectionRefusedError("unauthorized")
    for room in realtime.rooms_for_user(current_user):
        join_room(room)
    viewers.socket_opened(current_user.id, request.sid)
    assignment.socket_presence(current_user.id, connected=True)
    return True


@socketio.on("disconnect")
def on_disconnect(*_args):
    """The socket's views end; the user's last socket (in every process) closed: away (assignment)."""
    for conversation_id in viewers.socket_closed(request.sid):
        realtime.viewers_changed(conversation_id, viewers.viewers(conversation_id))
    if not current_user.is_authenticated:
        return
    if viewers.sockets_left(current_user.id, request.sid) == 0:
        assignment.socket_presence(current_user.id, connected=False)


@socketio.on("viewing")
def on_viewing(data=None):
    """A conversation page opened: join its room if the user may see it; everyone there hears
    who views it. A page views one conversation: any earlier view of this socket ends."""
    user = _user()
    conversation_id = _conversation_id(data)
    if user is None or conversation_id is None or not _may_see(user, conversation_id):
        return {"ok": False}
    for earlier in viewers.socket_closed(request.sid):
        if earlier != conversation_id:
            leave_room(realtime.conversation_room(earlier))
            realtime.viewers_changed(earlier, viewers.viewers(earlier))
    join_room(realtime.conversation_room(conversation_id))
    now_viewing = viewers.view(conversation_id, request.sid, user.id, user.name)
    realtime.viewers_changed(conversation_id, now_viewing)
    return {"ok": True, "viewers": now_viewing}


@socketio.on("stop_viewing")
def on_stop_viewing(data=None):
    conversation_id = _conversation_id(data)
    if conversation_id is not None and viewers.is_viewing(conversation_id, request.sid):
        _stop_viewing(conversation_id)
    return {"ok": True}


@socketio.on("typing")
def on_typing(data=None):
    """The agent types a reply or a note (the page sends it at most every 2 s while typing)."""
    user = _user()
    conversation_id = _conversation_id(data)
    kind = data.get("kind") if isinstance(data, dict) else None
    if user is None or conversation_id is None or kind not in TYPING_KINDS \
            or not viewers.is_viewing(conversation_id, request.sid):
        return {"ok": False}
    if not _may_see(user, conversation_id):
        _stop_viewing(conversation_id)
        return {"ok": False}
    realtime.typing(conversation_id, user, kind, skip_sid=request.sid)
    return {"ok": True}


@socketio.on("heartbeat")
def on_heartbeat(data=None):
    """The page is still open (every viewers.HEARTBEAT_SECONDS): its socket and views stay fresh,
    and a view the user may no longer see (transferred away) ends."""
    user = _user()
    if user is None:
        return {"ok": False}
    viewers.heartbeat(user.id, request.sid)
    for conversation_id in viewers.views_of(request.sid):
        if not _may_see(user, conversation_id):
            _stop_viewing(conversation_id)
    return {"ok": True}


@socketio.on("idle")
def on_idle(data=None):
    """The page saw no key or mouse for AUTO_AWAY_MINUTES (idle: true) or saw them again."""
    user = _user()
    if user is None or not isinstance(data, dict) or not isinstance(data.get("idle"), bool):
        return {"ok": False}
    user = assignment.idle_presence(user, data["idle"])
    return {"ok": True, "presence": user.presence}
