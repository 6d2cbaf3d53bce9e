"""Webhook deliveries: verified over the raw bytes, stored, then parsed in a job."""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from connectors.errors import PayloadError
from connectors.registry import connector_class
from inbox import crypto
from inbox.extensions import db
from inbox.models import Channel
from inbox.services import channels
from inbox.services.errors import InvalidInput, NotFound
from inbox.services.ingest import record_raw_events


class SignatureInvalid(Exception):
    pass


@dataclass(frozen=True)
class Accepted:
    stored: list[int]  # the new RawEvents, to parse in jobs
    duplicates: int


def _channel(platform: str, channel_id: int) -> Channel:
    channel = db.session.get(Channel, channel_id)
    if channel is None or channel.platform != platform or not connector_class(platform).pushed:
        raise NotFound("channel")
    return channel


def handshake(platform: str, channel_id: int, query: Mapping[str, str]) -> str | None:
    channel = _channel(platform, channel_id)
    try:
        return channels.connector(channel).handshake(query)
    except crypto.CredentialsUnreadable:
        return None


def accept(platform: str, channel_id: int, headers: Mapping[str, str], raw_body: bytes) -> Accepted:
    """Verify, then store each event of the delivery once. Nothing is stored for a delivery
    that fails verification; the channel counts it so an admin can see an attack or a bad secret."""
    channel = _channel(platform, channel_id)
    try:
        connector = channels.connector(channel)
    except crypto.CredentialsUnreadable as exc:
        raise SignatureInvalid(str(exc)) from exc
    if not connector.verify(headers, raw_body):
        channel.rejected_webhooks += 1
        db.session.commit()
        raise SignatureInvalid("signature missing or wrong")
    try:
        body = json.loads(raw_body)
    except (ValueError, RecursionError) as exc:
        raise InvalidInput("the body is not JSON") from exc
    try:
        payloads = connector.split_webhook(body)
    except (PayloadError, RecursionError) as exc:
        raise InvalidInput(getattr(exc, "reason", "unreadable payload")) from exc
    ids = record_raw_events(channel.id, payloads)
    stored = [raw_id for raw_id in ids if raw_id is not None]
    return Accepted(stored, len(ids) - len(stored))
