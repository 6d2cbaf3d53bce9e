"""Who has a page open, and who is viewing which conversation: live state, not stored in the database.

With ``REDIS_URL`` the state lives in Redis, so every web process sees every socket; without it, in
this process (the embedded run mode has one web process). Each socket refreshes its entries with a
heartbeat (inbox/static/together.js, every HEARTBEAT_SECONDS); an entry not refreshed for
STALE_SECONDS is ignored, so a web process that dies leaves no viewer and no page behind for long.

Keys (Redis, under the install's SOCKETIO_CHANNEL prefix):
* ``<prefix>:viewers:<conversation id>``: hash socket id -> {"user_id", "name", "at"}
* ``<prefix>:sid-views:<socket id>``: set of the conversation ids that socket views
* ``<prefix>:sockets:<user id>``: hash socket id -> last heartbeat (seconds)
"""
from __future__ import annotations

import json
import threading
import time
from typing import Any

from flask import current_app

HEARTBEAT_SECONDS = 30
STALE_SECONDS = 3 * HEARTBEAT_SECONDS
KEY_TTL_SECONDS = 6 * HEARTBEAT_SECONDS


class _Memory:
    """One process's state (the embedded mode)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.viewers: dict[int, dict[str, dict[str, Any]]] = {}
        self.sid_views: dict[str, set[int]] = {}
        self.sockets: dict[int, dict[str, float]] = {}

    def view(self, conversation_id: int, sid: str, entry: dict[str, Any]) -> None:
        with self.lock:
            self.viewers.setdefault(conversation_id, {})[sid] = entry
            self.sid_views.setdefault(sid, set()).add(conversation_id)

    def leave(self, conversation_id: int, sid: str) -> None:
        with self.lock:
            self.viewers.get(conversation_id, {}).pop(sid, None)
            if not self.viewers.get(conversation_id):
                self.viewers.pop(conversation_id, None)
            self.sid_views.get(sid, set()).discard(conversation_id)

    def entries(self, conversation_id: int) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.viewers.get(conversation_id, {}).values())

    def views_of(self, sid: str) -> list[int]:
        with self.lock:
            return sorted(self.sid_views.get(sid, set()))

    def forget_sid(self, sid: str) -> None:
        with self.lock:
            self.sid_views.pop(sid, None)

    def socket_seen(self, user_id: int, sid: str, now: float) -> None:
        with self.lock:
            self.sockets.setdefault(user_id, {})[sid] = now

    def socket_gone(self, user_id: int, sid: str) -> dict[str, float]:
        with self.lock:
            mine = self.sockets.get(user_id, {})
            mine.pop(sid, None)
            if not mine:
                self.sockets.pop(user_id, None)
            return dict(mine)

    def sockets_of(self, user_id: int) -> dict[str, float]:
        with self.lock:
            return dict(self.sockets.get(user_id, {}))


class _Redis:
    """Every web process's state, shared through Redis."""

    def __init__(self, url: str, prefix: str) -> None:
        from inbox.redis_pool import connect

        self.redis = connect(url)
        self.prefix = prefix

    def _key(self, *parts: Any) -> str:
        return ":".join([self.prefix, *map(str, parts)])

    def view(self, conversation_id: int, sid: str, entry: dict[str, Any]) -> None:
        viewers, views = self._key("viewers", conversation_id), self._key("sid-views", sid)
        pipe = self.redis.pipeline()
        pipe.hset(viewers, sid, json.dumps(entry))
        pipe.expire(viewers, KEY_TTL_SECONDS)
        pipe.sadd(views, conversation_id)
        pipe.expire(views, KEY_TTL_SECONDS)
        pipe.execute()

    def leave(self, conversation_id: int, sid: str) -> None:
        pipe = self.redis.pipeline()
        pipe.hdel(self._key("viewers", conversation_id), sid)
        pipe.srem(self._key("sid-views", sid), conversation_id)
        pipe.execute()

    def entries(self, conversation_id: int) -> list[dict[str, Any]]:
        return [json.loads(v) for v in self.redis.hvals(self._key("viewers", conversation_id))]

    def views_of(self, sid: str) -> list[int]:
        return sorted(int(v) for v in self.redis.smembers(self._key("sid-views", sid)))

    def forget_sid(self, sid: str) -> None:
        self.redis.delete(self._key("sid-views", sid))

    def socket_seen(self, user_id: int, sid: str, now: float) -> None:
        key = self._key("sockets", user_id)
        pipe = self.redis.pipeline()
        pipe.hset(key, sid, now)
        pipe.expire(key, KEY_TTL_SECONDS)
        pipe.execute()

    def socket_gone(self, user_id: int, sid: str) -> dict[str, float]:
        key = self._key("sockets", user_id)
        pipe = self.redis.pipeline()
        pipe.hdel(key, sid)
        pipe.hgetall(key)
        _, rest = pipe.execute()
        return {k.decode(): float(v) for k, v in rest.items()}

    def sockets_of(self, user_id: int) -> dict[str, float]:
        return {k.decode(): float(v) for k, v in self.redis.hgetall(self._key("sockets", user_id)).items()}


def _store() -> _Memory | _Redis:
    store = current_app.extensions.get("tawasul_viewers")
    if store is None:
        url = current_app.config.get("REDIS_URL")
        store = _Redis(url, current_app.config["SOCKETIO_CHANNEL"]) if url else _Memory()
        current_app.extensions["tawasul_viewers"] = store
    return store


def _fresh(entries: list[dict[str, Any]], now: float) -> list[dict[str, Any]]:
    return [e for e in entries if now - e.get("at", 0) <= STALE_SECONDS]


def view(conversation_id: int, sid: str, user_id: int, name: str) -> list[dict[str, Any]]:
    """The socket views the conversation (the caller checked the user may see it); who views it now."""
    _store().view(conversation_id, sid, {"user_id": user_id, "name": name, "at": time.time()})
    return viewers(conversation_id)


def leave(conversation_id: int, sid: str) -> list[dict[str, Any]]:
    _store().leave(conversation_id, sid)
    return viewers(conversation_id)


def is_viewing(conversation_id: int, sid: str) -> bool:
    return conversation_id in _store().views_of(sid)


def views_of(sid: str) -> list[int]:
    return _store().views_of(sid)


def viewers(conversation_id: int) -> list[dict[str, Any]]:
    """Who views the conversation, once per person (several tabs are one viewer), by name."""
    people: dict[int, dict[str, Any]] = {}
    for entry in _fresh(_store().entries(conversation_id), time.time()):
        people.setdefault(entry["user_id"], {"user_id": entry["user_id"], "name": entry["name"]})
    return sorted(people.values(), key=lambda v: (v["name"], v["user_id"]))


def socket_closed(sid: str) -> list[int]:
    """The socket is gone: it views nothing any more. Returns the conversations it viewed."""
    store = _store()
    viewed = store.views_of(sid)
    for conversation_id in viewed:
        store.leave(conversation_id, sid)
    store.forget_sid(sid)
    return viewed


def socket_opened(user_id: int, sid: str) -> None:
    _store().socket_seen(user_id, sid, time.time())


def heartbeat(user_id: int, sid: str) -> None:
    """The page is still there: its socket and its views stay fresh."""
    store = _store()
    now = time.time()
    store.socket_seen(user_id, sid, now)
    for conversation_id in store.views_of(sid):
        entries = [e for e in store.entries(conversation_id) if e.get("user_id") == user_id]
        if entries:
            store.view(conversation_id, sid, {**entries[0], "at": now})


def sockets_left(user_id: int, sid: str) -> int:
    """The socket closed: how many of the user's sockets remain open, in every web process."""
    now = time.time()
    return sum(1 for at in _store().socket_gone(user_id, sid).values() if now - at <= STALE_SECONDS)


def has_sockets(user_id: int) -> bool:
    now = time.time()
    return any(now - at <= STALE_SECONDS for at in _store().sockets_of(user_id).values())
