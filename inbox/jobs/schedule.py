"""Periodic work: poll each polled channel on its interval, sweep, check SLA breaches and channel health.

One loop serves both run modes: a thread of the web process in embedded mode, and
`flask --app app scheduler` (one process) in production, which enqueues onto rq.
"""
from __future__ import annotations

import logging
import threading
import time

from flask import Flask
from sqlalchemy import select

from connectors.registry import connector_class, polled_platforms
from inbox.extensions import db
from inbox.jobs import enqueue, tasks
from inbox.jobs.queue import kick
from inbox.models import Channel

log = logging.getLogger(__name__)
TICK_SECONDS = 0.5
SWEEP_EVERY = 30.0
SLA_EVERY = 30.0
HEALTH_EVERY = 600.0
SNOOZE_EVERY = 30.0  # snoozed conversations wake to open
ASSIGN_EVERY = 15.0  # the escalation ladder's clock; capacity freeing kicks assignment at once


def due_channels(last_run: dict[int, float], now: float) -> list[int]:
    channels = db.session.scalars(
        select(Channel).where(Channel.status == "active", Channel.platform.in_(polled_platforms()))
    ).all()
    due = []
    for channel in channels:
        if channel.platform == "telegram" and (channel.settings or {}).get("mode") == "webhook":
            continue
        default = connector_class(channel.platform).default_poll_interval
        interval = float((channel.settings or {}).get("poll_interval") or default)
        if now - last_run.get(channel.id, 0.0) >= interval:
            due.append(channel.id)
    db.session.rollback()
    return due


def health_check_channels() -> list[int]:
    ids = db.session.scalars(
        select(Channel.id).where(Channel.status.in_(("active", "needs_reauth")), Channel.platform != "demo")
    ).all()
    db.session.rollback()
    return list(ids)


class Schedule:
    def __init__(self) -> None:
        self.last_poll: dict[int, float] = {}
        self.last_sweep = 0.0
        self.last_sla = 0.0
        self.last_health = 0.0
        self.last_assign = 0.0
        self.last_snooze = 0.0

    def tick(self, now: float) -> None:
        for channel_id in due_channels(self.last_poll, now):
            self.last_poll[channel_id] = now
            enqueue(tasks.poll_channel, channel_id)
        if now - self.last_sweep >= SWEEP_EVERY:
            self.last_sweep = now
            enqueue(tasks.sweep)
        if now - self.last_sla >= SLA_EVERY:
            self.last_sla = now
            enqueue(tasks.check_sla)
        if now - self.last_snooze >= SNOOZE_EVERY:
            self.last_snooze = now
            enqueue(tasks.wake_snoozed)
        if now - self.last_assign >= ASSIGN_EVERY:
            self.last_assign = now
            kick(tasks.assign_waiting)
        if now - self.last_health >= HEALTH_EVERY:
            self.last_health = now
            for channel_id in health_check_channels():
                enqueue(tasks.check_channel_health, channel_id)


def run_schedule(app: Flask, stop: threading.Event | None = None) -> None:
    schedule = Schedule()
    while not (stop and stop.is_set()):
        try:
            with app.app_context():
                schedule.tick(time.monotonic())
        except Exception:  # keep scheduling through a passing database or Redis error
            log.exception("scheduler tick failed")
        time.sleep(TICK_SECONDS)


def start_embedded_scheduler(app: Flask) -> threading.Thread:
    thread = threading.Thread(target=run_schedule, args=(app,), name="tawasul-scheduler", daemon=True)
    thread.start()
    return thread
