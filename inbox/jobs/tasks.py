"""Job functions: ids in, one service call, safe to run twice.

They run inside an app context: the in-process runner pushes one per job, and
`flask --app app worker` runs rq inside one (its forked work-horses inherit it).
"""
from __future__ import annotations

from inbox.services import ingest, outbox, polling


def deliver_message(message_id: int) -> None:
    outbox.deliver(message_id)


def process_raw_event(raw_event_id: int) -> None:
    ingest.process_raw_event(raw_event_id)


def poll_channel(channel_id: int) -> None:
    polling.poll_channel(channel_id)
