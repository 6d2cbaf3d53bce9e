"""Pull a polled channel: fetch a batch, store and ingest it, then move the cursor."""
from __future__ import annotations

import logging

from connectors.errors import ConnectorError, RateLimited, TransientError
from inbox import crypto
from inbox.extensions import db
from inbox.models import Channel
from inbox.models.base import utcnow
from inbox.services import channels
from inbox.services.ingest import process_raw_events, record_raw_events

log = logging.getLogger(__name__)


def poll_channel(channel_id: int) -> int:
    """One poll of one channel; returns how many new messages were stored.

    The cursor is saved only after every payload of the batch is committed, so a crash in
    between re-fetches the batch, and the dedup keys make that harmless. After downtime the
    next poll starts from the saved cursor: nothing in between is skipped.
    """
    channel = db.session.get(Channel, channel_id)
    if channel is None or channel.status != "active":
        return 0
    if channel.rate_limited_until and channel.rate_limited_until > utcnow():
        return 0  # this channel waits for its reset; the others go on
    try:
        connector = channels.connector(channel)
    except crypto.CredentialsUnreadable as exc:
        channel.last_error = str(exc)
        db.session.commit()
        return 0
    cursor = channel.cursor
    db.session.commit()  # no transaction (and no SQLite write lock) held over the network call
    try:
        result = connector.poll(cursor)
    except ConnectorError as exc:
        channel = db.session.get(Channel, channel_id)
        channels.record_failure(channel, exc)
        db.session.commit()
        log.warning("poll of channel %s failed: %s", channel_id, exc.reason)
        if isinstance(exc, TransientError) and not isinstance(exc, RateLimited):
            raise  # the job system retries a passing failure with backoff
        return 0
    raw_ids = [raw_id for raw_id in record_raw_events(channel_id, result.payloads) if raw_id is not None]
    stored = len(process_raw_events(raw_ids)) if raw_ids else 0
    channel = db.session.get(Channel, channel_id)
    channel.cursor = result.cursor or channel.cursor
    channel.last_polled_at = utcnow()
    channels.record_success(channel)
    db.session.commit()
    return stored
