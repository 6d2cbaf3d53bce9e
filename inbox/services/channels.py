"""Channels: their connector, their credentials, their health."""
from __future__ import annotations

import secrets as token_source
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from connectors.base import Connector
from connectors.errors import AuthError, ConnectorError, RateLimited
from connectors.registry import PLATFORMS, connector_class
from inbox import crypto
from inbox.extensions import db
from inbox.models import AuditLog, Channel, User
from inbox.models.base import utcnow
from inbox.services.errors import InvalidInput, NotFound
from inbox.services.users import get_or_create_team

ADMIN_PLATFORMS = tuple(name for name in PLATFORMS if name != "demo") + ("demo",)
# Settings every channel has besides its platform's own.
COMMON_SETTINGS = ("poll_interval",)


def connector(channel: Channel) -> Connector:
    """The channel's connector, with its decrypted credentials."""
    values = dict(channel.settings or {})
    values.update(crypto.decrypt(channel.secrets))
    return connector_class(channel.platform)(values)


def get_channel(channel_id: int) -> Channel:
    channel = db.session.get(Channel, channel_id)
    if channel is None:
        raise NotFound("channel")
    return channel


def list_channels() -> list[Channel]:
    return list(db.session.scalars(select(Channel).order_by(Channel.id)))


def secret_keys(platform: str) -> tuple[str, ...]:
    return connector_class(platform).secret_keys


def masked_secrets(channel: Channel) -> dict[str, str]:
    try:
        values = crypto.decrypt(channel.secrets)
    except crypto.CredentialsUnreadable:
        return {key: "?" for key in secret_keys(channel.platform)}
    return {key: crypto.mask(values.get(key)) for key in secret_keys(channel.platform)}


def save_channel(actor: User, channel_id: int | None, platform: str, name: str, team_name: str | None,
                 values: dict[str, Any]) -> Channel:
    """Create or edit a channel. Secret fields left empty keep their stored value."""
    if platform not in PLATFORMS:
        raise InvalidInput(f"unknown platform {platform!r}")
    name = (name or "").strip()
    if not name:
        raise InvalidInput("a channel needs a name")
    cls = connector_class(platform)
    channel = get_channel(channel_id) if channel_id else Channel(platform=platform, status="active")
    if channel_id and channel.platform != platform:
        raise InvalidInput("the platform of a channel cannot change")
    stored = crypto.decrypt(channel.secrets) if channel.secrets else {}
    settings = dict(channel.settings or {})
    for key in (*cls.setting_keys, *COMMON_SETTINGS):
        if key in cls.secret_keys or key not in values:
            continue
        settings[key] = str(values[key]).strip()
    for key in cls.secret_keys:
        given = str(values.get(key) or "").strip()
        if given:
            stored[key] = given
    if cls.pushed and not stored.get("verify_token") and "verify_token" in cls.secret_keys:
        stored["verify_token"] = token_source.token_urlsafe(24)
    poll_interval = settings.get("poll_interval") or "60"
    try:
        settings["poll_interval"] = max(5.0, float(poll_interval))
    except ValueError:
        raise InvalidInput("the polling interval is a number of seconds") from None
    channel.name = name[:120]
    channel.settings = settings
    channel.secrets = crypto.encrypt(stored) if stored else None
    channel.team = get_or_create_team(team_name.strip()) if team_name and team_name.strip() else None
    if not channel_id:
        db.session.add(channel)
    db.session.flush()
    db.session.add(AuditLog(actor_id=actor.id, action="channel.saved" if channel_id else "channel.created",
                            target_type="channel", target_id=channel.id,
                            data={"platform": platform, "changed": sorted(k for k in values if values[k])}))
    db.session.commit()
    return channel


def set_paused(actor: User, channel_id: int, paused: bool) -> Channel:
    channel = get_channel(channel_id)
    channel.status = "paused" if paused else "active"
    if not paused:
        channel.rate_limited_until = None
    db.session.add(AuditLog(actor_id=actor.id, action="channel.paused" if paused else "channel.resumed",
                            target_type="channel", target_id=channel.id))
    db.session.commit()
    return channel


def record_success(channel: Channel) -> None:
    channel.last_success_at = utcnow()
    if channel.status == "needs_reauth":
        channel.status = "active"
    channel.last_error = None


def record_failure(channel: Channel, error: ConnectorError) -> None:
    """Remember what went wrong; an auth failure of any kind stops the channel until an admin acts."""
    channel.last_error, channel.last_error_at = error.reason, utcnow()
    if isinstance(error, AuthError):
        channel.status = "needs_reauth"
    elif isinstance(error, RateLimited):
        wait = error.retry_after if error.retry_after is not None else 60
        channel.rate_limited_until = utcnow() + timedelta(seconds=wait)


def check_health(channel_id: int) -> tuple[bool, str]:
    """Call the platform's cheapest authenticated endpoint and record the outcome."""
    channel = get_channel(channel_id)
    try:
        result = connector(channel).health_check()
    except (ConnectorError, crypto.CredentialsUnreadable, NotImplementedError) as exc:
        reason = getattr(exc, "reason", None) or str(exc) or "health check not available"
        if isinstance(exc, ConnectorError):
            record_failure(channel, exc)
        db.session.commit()
        return False, reason
    record_success(channel)
    channel.token_expires_at = result.token_expires_at or channel.token_expires_at
    db.session.commit()
    return result.ok, result.detail


def webhook_path(channel: Channel) -> str:
    return f"/webhooks/{channel.platform}/{channel.id}"
