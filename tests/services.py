"""Real PostgreSQL, Redis and Chromium for the tests: skip with a reason on a laptop that
lacks them, but fail under CI=true, where every one of them must run."""
from __future__ import annotations

import functools
import os
import shutil
import socket

import pytest

POSTGRES_BASE_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://127.0.0.1:5432/test")
# Each test run works in a schema of its own, so two runs on one server never collide.
POSTGRES_SCHEMA = f"tawasul_test_{os.getpid()}"
POSTGRES_URL = f"{POSTGRES_BASE_URL}?options=-csearch_path%3D{POSTGRES_SCHEMA}"
# Redis has no schemas: a database number per run (1-12; the benchmark uses 13), so two runs on
# one machine rarely share one, and the tests that flush it flush only their own.
REDIS_URL = os.environ.get("TEST_REDIS_URL", f"redis://127.0.0.1:6379/{1 + os.getpid() % 12}")
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@functools.cache
def available(service: str) -> bool:
    if service == "postgresql":
        return _port_open("127.0.0.1", 5432)
    if service == "redis":
        return _port_open("127.0.0.1", 6379)
    if service == "chromium":
        return bool(shutil.which(CHROMIUM))
    raise ValueError(service)


def require(service: str) -> None:
    if available(service):
        return
    reason = f"{service} is not available on this machine"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}, and under CI=true it must be", pytrace=False)
    pytest.skip(reason)
