"""Job functions: ids in, one service call, safe to run twice."""
from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any

from flask import Flask, has_app_context

from inbox.services import ingest, outbox, polling

_worker_app: Flask | None = None


def _app() -> Flask:
    """The app of a bare `rq worker` process, built once (the composition root is app.py)."""
    global _worker_app
    if _worker_app is None:
        _worker_app = importlib.import_module("app").create_app()
    return _worker_app


def job(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def run(*args: Any) -> Any:
        if has_app_context():
            return func(*args)
        with _app().app_context():
            return func(*args)

    return run


@job
def deliver_message(message_id: int) -> None:
    outbox.deliver(message_id)


@job
def process_raw_event(raw_event_id: int) -> None:
    ingest.process_raw_event(raw_event_id)


@job
def poll_channel(channel_id: int) -> None:
    polling.poll_channel(channel_id)
