"""One way to open Redis: a bounded pool that makes a caller wait for a free connection.

redis-py's default pool raises MaxConnectionsError past 100 connections; 300 sockets closing at
once (an office's network dropping) then lost their disconnect bookkeeping. Waiting a moment is
the right answer for a web process, whose greenlets or threads each need one only briefly.
"""
from __future__ import annotations

from redis import BlockingConnectionPool, Redis

MAX_CONNECTIONS = 50
WAIT_SECONDS = 10  # then redis.ConnectionError, as if Redis were down (callers already handle that)


def connect(url: str) -> Redis:
    return Redis(connection_pool=BlockingConnectionPool.from_url(url, max_connections=MAX_CONNECTIONS,
                                                                 timeout=WAIT_SECONDS))
