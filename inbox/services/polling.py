"""Pull a polled channel: fetch a batch, store and ingest it, then move the cursor."""
from __future__ import annotations

import logging

from connectors.errors import AuthError, ConnectorError, TransientError
from connectors.registry import connector_for
from inbox.extensions import db
from inbox.models import Channel
from inbox.models.base import utcnow
from inbox.services.ingest import process_raw_event, record_raw_event

log = logging.getLogger(__name__)


def poll_channel(channel_id: int) -> int:
    """One poll of one channel; returns how many new messages were stored.

    The cursor is saved only after every payload of the batch is committed, so a crash in
    between re-fetches the batch, and the dedup keys make that harmless.
    """
    channel = db.session.get(Channel, channel_id)
    if channel is None or channel.status != "active":
        return 0
    connector = connector_for(channel.platform, channel.settings)
    cursor = channel.cursor
    db.session.rollback()  # no transaction (and no SQLite write lock) held over the network call
    try:
        result = connector.poll(cursor)
    except AuthError as exc:
        _record_failure(channel_id, exc.reason, needs_reauth=True)
        return 0
    except TransientError:
        raise  # the job system retries with backoff
    except ConnectorError as exc:
        _record_failure(channel_id, exc.reason)
        return 0
    stored = 0
    for payload in result.payloads:
        raw_id = record_raw_event(channel_id, payload.body, payload.dedup_key)
        if raw_id is not None:
            stored += len(process_raw_event(raw_id))
    channel = db.session.get(Channel, channel_id)
    channel.cursor = result.cursor or channel.cursor
    channel.last_polled_at, channel.last_error = utcnow(), None
    db.session.commit()
    return stored


def _record_failure(channel_id: int, reason: str, needs_reauth: bool = False) -> None:
    channel = db.session.get(Channel, channel_id)
    channel.last_error = reason
    if needs_reauth:
        channel.status = "needs_reauth"
    db.session.commit()
    log.warning("poll of channel %s failed: %s", channel_id, reason)
