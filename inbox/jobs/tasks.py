"""Job functions: ids in, one service call, safe to run twice.

They run inside an app context: the in-process runner pushes one per job, and
`flask --app app worker` runs rq inside one (its forked work-horses inherit it).
"""
from __future__ import annotations

import time

from inbox.jobs.queue import enqueue, enqueue_in, kick, kicked
from inbox.services import assignment, channels, ingest, maintenance, model_versions, outbox, polling, sla, snooze

INGEST_BUDGET_SECONDS = 10.0  # then the job queues its successor, so other jobs get a turn


def deliver_message(message_id: int) -> None:
    retry_in = outbox.deliver(message_id)
    if retry_in is not None:  # rate limited or a passing failure: the platform's own delay
        enqueue_in(retry_in, deliver_message, message_id)


def ingest_pending() -> None:
    """Parse and store what webhooks stored, a few hundred payloads per transaction, until
    nothing is waiting. Queued by ``kick``: under load a worker stays in this loop, so rq's
    per-job cost (fork, bookkeeping) is paid per backlog, not per webhook; two workers share the
    backlog through ``process_pending``'s SKIP LOCKED claim."""
    kicked(ingest_pending)
    deadline = time.monotonic() + INGEST_BUDGET_SECONDS
    while ingest.process_pending():
        if time.monotonic() > deadline:
            kick(ingest_pending)
            return


def process_raw_events(raw_event_ids: list[int]) -> None:
    """Named payloads (kept for jobs queued before ingest_pending existed)."""
    ingest.process_raw_events(raw_event_ids)


def poll_channel(channel_id: int) -> None:
    polling.poll_channel(channel_id)


def check_channel_health(channel_id: int) -> None:
    channels.check_health(channel_id)


def train_intent_model(version_id: int, activate: bool = True) -> None:
    """An admin's "Retrain": ~30–60 s on the default configuration (no cross-validation), under
    TRAINING_JOB_TIMEOUT_SECONDS; a version already trained is left alone, a failure is kept on it."""
    model_versions.train_version(version_id, activate=activate)


def check_sla() -> None:
    """Record SLA breaches that fell due since the last look and tell supervisors (every ~30 s)."""
    sla.check_breaches()


def wake_snoozed() -> None:
    """Snoozed conversations whose time has come go back to open (every ~30 s)."""
    snooze.wake_due()


def assign_waiting() -> None:
    """Conversations waiting in team queues get agents as capacity frees; the escalation ladder
    climbs; the work of agents gone offline goes back to the queue (routing settings). Kicked when
    capacity frees, and on the schedule."""
    kicked(assign_waiting)
    assignment.assign_waiting()


def sweep() -> None:
    """Re-queue what a lost job left behind; every job it queues is safe to run twice.

    Stored payloads still pending after the grace lost their kick (Redis away, a worker
    killed): kick again; a kick already queued makes this a no-op."""
    if maintenance.stale_raw_events(limit=1):
        kick(ingest_pending)
    for message_id in maintenance.stale_replies():
        enqueue(deliver_message, message_id)
    maintenance.fail_interrupted_sends()
