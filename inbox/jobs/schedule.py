"""Periodic work of the embedded mode: poll each polled channel on its interval.

In production the same ``poll_channel`` job is enqueued by rq's scheduler (issue 3); here a
thread of the web process does it, and the in-process runner executes it.
"""
from __future__ import annotations

import logging
import threading
import time

from flask import Flask
from sqlalchemy import select

from connectors.registry import polled_platforms
from inbox.extensions import db
from inbox.jobs import enqueue, tasks
from inbox.models import Channel

log = logging.getLogger(__name__)
TICK_SECONDS = 0.5


def due_channels(last_run: dict[int, float], now: float) -> list[int]:
    channels = db.session.scalars(
        select(Channel).where(Channel.status == "active", Channel.platform.in_(polled_platforms()))
    ).all()
    due = []
    for channel in channels:
        interval = float((channel.settings or {}).get("poll_interval", 60))
        if now - last_run.get(channel.id, 0.0) >= interval:
            due.append(channel.id)
    db.session.rollback()
    return due


def start_embedded_scheduler(app: Flask) -> threading.Thread:
    def loop() -> None:
        last_run: dict[int, float] = {}
        while True:
            try:
                with app.app_context():
                    now = time.monotonic()
                    for channel_id in due_channels(last_run, now):
                        last_run[channel_id] = now
                        enqueue(tasks.poll_channel, channel_id)
            except Exception:  # keep scheduling through a passing database error
                log.exception("scheduler tick failed")
            time.sleep(TICK_SECONDS)

    thread = threading.Thread(target=loop, name="tawasul-scheduler", daemon=True)
    thread.start()
    return thread
