"""Socket.IO handlers.

Authentication happens on connect, from the login session (the same revocable cookie as
HTTP): no session, a stale session version or a deactivated user means the connection is
refused. Rooms are joined here, by the server, from the user's own role and teams; the client
can name no room. Every later push comes from inbox/realtime.py.
"""
from __future__ import annotations

from flask import request
from flask_login import current_user
from flask_socketio import join_room

from inbox import realtime
from inbox.extensions import socketio
from inbox.services import assignment


@socketio.on("connect")
def on_connect(auth=None):
    """Who: any signed-in user's page. Joins: the user's, team and supervisor rooms."""
    if not current_user.is_authenticated:
        raise ConnectionRefusedError("unauthorized")
    for room in realtime.rooms_for_user(current_user):
        join_room(room)
    assignment.socket_presence(current_user.id, connected=True)
    return True


@socketio.on("disconnect")
def on_disconnect(*_args):
    """The user's last socket in this process closed: an online agent is away (assignment)."""
    if not current_user.is_authenticated:
        return
    room = realtime.user_room(current_user.id)
    others = [sid for sid, _ in socketio.server.manager.get_participants("/", room) if sid != request.sid]
    if not others:
        assignment.socket_presence(current_user.id, connected=False)
