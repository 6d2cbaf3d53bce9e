"""Job functions: ids in, one service call, safe to run twice.

They run inside an app context: the in-process runner pushes one per job, and
`flask --app app worker` runs rq inside one (its forked work-horses inherit it).
"""
from __future__ import annotations

from inbox.jobs.queue import enqueue, enqueue_in, waiting
from inbox.services import channels, ingest, maintenance, outbox, polling

BATCH_SIZE = 200  # raw events per ingest job: per-job overhead, not Python, limits rq


def deliver_message(message_id: int) -> None:
    retry_in = outbox.deliver(message_id)
    if retry_in is not None:  # rate limited or a passing failure: the platform's own delay
        enqueue_in(retry_in, deliver_message, message_id)


def process_raw_events(raw_event_ids: list[int]) -> None:
    ingest.process_raw_events(raw_event_ids)


def poll_channel(channel_id: int) -> None:
    polling.poll_channel(channel_id)


def check_channel_health(channel_id: int) -> None:
    channels.check_health(channel_id)


def sweep() -> None:
    """Re-queue what a lost job left behind; every job it queues is safe to run twice.

    Stored events are swept only when no job is waiting: during a backlog their jobs are
    still queued, not lost, and re-queueing them would only add work."""
    stale = maintenance.stale_raw_events() if waiting() == 0 else []
    for start in range(0, len(stale), BATCH_SIZE):
        enqueue(process_raw_events, stale[start:start + BATCH_SIZE])
    for message_id in maintenance.stale_replies():
        enqueue(deliver_message, message_id)
    maintenance.fail_interrupted_sends()
