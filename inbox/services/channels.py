"""Channels: their connector, their credentials, their health."""
from __future__ import annotations

import math
import re
import secrets as token_source
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from connectors.base import Connector
from connectors.errors import AuthError, ConnectorError, RateLimited
from connectors.registry import PLATFORMS, connector_class
from inbox import crypto
from inbox.extensions import db
from inbox.models import AuditLog, Channel, Team, User
from inbox.models.base import utcnow
from inbox.services.errors import InvalidInput, NotFound
from inbox.services.users import get_or_create_team

ADMIN_PLATFORMS = tuple(name for name in PLATFORMS if name != "demo") + ("demo",)
# Settings every channel has besides its platform's own.
COMMON_SETTINGS = ("poll_interval",)
# Where a connector sends its calls. Credentials sent with every call must be entered again
# when this changes, so that stored credentials never go to an address someone just typed.
ENDPOINT_SETTINGS = ("api_base", "graph_base")
SENT_TO_API = ("bearer_token", "bot_token", "access_token")
# Numeric settings: (lowest, highest, whole numbers only).
NUMBER_SETTINGS = {"timeout": (0.5, 120, False), "long_poll_seconds": (0, 50, False), "max_results": (5, 100, True)}
MAX_SETTING_LENGTH = 2000
# Webhook secrets the app makes up when an admin leaves them empty: Meta's handshake token,
# Telegram's delivery header (sent to Telegram by ``register_webhook``).
GENERATED_SECRETS = ("verify_token", "secret_token")
MIN_POLL_SECONDS, MAX_POLL_SECONDS = 5.0, 86400.0
# WhatsApp's rules: template names are lowercase letters, digits and "_"; languages "ar", "en_US".
TEMPLATE_NAME = re.compile(r"[a-z0-9_]{1,512}")
TEMPLATE_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:_[A-Za-z]{2,4})?")
MAX_TEMPLATES = 250


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


def needing_reauth() -> list[Channel]:
    """Channels stopped until an admin enters working credentials."""
    return list(db.session.scalars(select(Channel).where(Channel.status == "needs_reauth").order_by(Channel.id)))


def team_names() -> list[str]:
    return list(db.session.scalars(select(Team.name).order_by(Team.name)))


def secret_keys(platform: str) -> tuple[str, ...]:
    return connector_class(platform).secret_keys


def editable_settings(platform: str) -> tuple[str, ...]:
    """The non-secret settings an admin edits: the platform's own, and the polling interval
    of a polled platform."""
    cls = connector_class(platform)
    own = tuple(key for key in cls.setting_keys if key not in cls.secret_keys)
    return own + (COMMON_SETTINGS if cls.polled else ())


def masked_secrets(channel: Channel) -> dict[str, str]:
    try:
        values = crypto.decrypt(channel.secrets)
    except crypto.CredentialsUnreadable:
        return {key: "?" for key in secret_keys(channel.platform)}
    return {key: crypto.mask(values.get(key)) for key in secret_keys(channel.platform)}


def verify_token(channel: Channel) -> str | None:
    """The token an admin pastes into the platform's webhook setup, in full: it only answers
    the subscription handshake; deliveries are checked with the app secret, never shown."""
    if "verify_token" not in secret_keys(channel.platform):
        return None
    try:
        return crypto.decrypt(channel.secrets).get("verify_token") or None
    except crypto.CredentialsUnreadable:
        return None


@dataclass(frozen=True)
class ChannelForm:
    """What the admin form of a channel shows; credentials only masked."""

    platform: str
    polled: bool
    pushed: bool
    setting_keys: tuple[str, ...]
    secret_keys: tuple[str, ...]
    values: dict[str, str]  # name, team and settings, as the form's fields show them
    masked: dict[str, str]
    verify_token: str | None
    webhook_path: str | None
    registers_webhook: bool  # the app can point the platform at the webhook itself


def registers_webhook(platform: str) -> bool:
    return connector_class(platform).register_webhook is not Connector.register_webhook


def channel_form(channel: Channel | None, platform: str) -> ChannelForm:
    """The form for a new channel of ``platform`` (``channel`` None) or for ``channel``."""
    cls = connector_class(platform)
    keys = editable_settings(platform)
    values = form_values(channel, keys) if channel else {"poll_interval": str(cls.default_poll_interval)}
    return ChannelForm(platform, cls.polled, cls.pushed, keys, cls.secret_keys, values,
                       masked_secrets(channel) if channel else {},
                       verify_token(channel) if channel else None,
                       webhook_path(channel) if channel and cls.pushed else None,
                       cls.pushed and registers_webhook(platform))


def form_values(channel: Channel, keys: tuple[str, ...]) -> dict[str, str]:
    settings = channel.settings or {}
    values = {"name": channel.name, "team": channel.team.name if channel.team else ""}
    for key in keys:
        value = settings.get(key)
        if key == "templates":
            values[key] = format_templates(value or [])
        elif isinstance(value, float) and value.is_integer():
            values[key] = str(int(value))
        else:
            values[key] = "" if value is None else str(value)
    return values


def parse_templates(text: str) -> list[dict[str, str]]:
    """WhatsApp's approved templates from the admin form: one per line, ``name | language |
    text`` (the text, what agents see, is optional and may itself contain "|")."""
    templates: list[dict[str, str]] = []
    for number, line in enumerate(str(text).splitlines(), 1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|", 2)]
        if len(parts) < 2 or not TEMPLATE_NAME.fullmatch(parts[0]) or not TEMPLATE_LANGUAGE.fullmatch(parts[1]):
            raise InvalidInput(f"Template line {number} must read \"name | language | text\", with a name of "
                               "lowercase letters, digits and _ and a language code such as ar or en_US.")
        if any((t["name"], t["language"]) == (parts[0], parts[1]) for t in templates):
            raise InvalidInput(f"Template line {number} repeats {parts[0]} in {parts[1]}.")
        templates.append({"name": parts[0], "language": parts[1], "text": parts[2] if len(parts) > 2 else ""})
    if len(templates) > MAX_TEMPLATES:
        raise InvalidInput(f"A channel has at most {MAX_TEMPLATES} templates.")
    return templates


def format_templates(templates: list[dict[str, Any]]) -> str:
    """The text ``parse_templates`` reads back (a line break inside a text becomes a space)."""
    lines = []
    for t in templates:
        text = " ".join(str(t.get("text") or "").split())
        lines.append(" | ".join(str(part) for part in (t.get("name", ""), t.get("language", ""), text) if part))
    return "\n".join(lines)


def save_channel(actor: User, channel_id: int | None, platform: str, name: str, team_name: str | None,
                 values: dict[str, Any]) -> Channel:
    """Create or edit a channel; InvalidInput, with nothing saved, if a value is unusable.

    ``values`` holds settings (WhatsApp ``templates`` as ``parse_templates`` text, or a list)
    and credentials by key. A key left out keeps its value; a credential left empty keeps
    the stored one. Changing the API address needs the credentials sent to it again.
    """
    try:
        return _save_channel(actor, channel_id, platform, name, team_name, values)
    except InvalidInput:
        db.session.rollback()
        raise


def _save_channel(actor: User, channel_id: int | None, platform: str, name: str, team_name: str | None,
                  values: dict[str, Any]) -> Channel:
    if platform not in PLATFORMS:
        raise InvalidInput(f"unknown platform {platform!r}")
    cls = connector_class(platform)
    channel = get_channel(channel_id) if channel_id else Channel(platform=platform, status="active")
    if channel_id and channel.platform != platform:
        raise InvalidInput("the platform of a channel cannot change")
    name, team_name = _checked_name(name, "a channel needs a name", 120), _checked_name(team_name, None, 80)
    given = {key: str(values.get(key) or "").strip() for key in cls.secret_keys}
    given = {key: value for key, value in given.items() if value}
    settings = _merged_settings(channel, values)
    _check_endpoint_change(channel, settings, given)
    stored = _merged_secrets(channel, given)
    changed = _changes(channel, name, team_name, settings, given)
    channel.name, channel.settings = name, settings
    if stored is not None:
        channel.secrets = crypto.encrypt(stored) if stored else None
    channel.team = get_or_create_team(team_name) if team_name else None
    if not channel_id:
        db.session.add(channel)
    db.session.flush()
    db.session.add(AuditLog(actor_id=actor.id, action="channel.saved" if channel_id else "channel.created",
                            target_type="channel", target_id=channel.id,
                            data={"platform": platform, "changed": changed}))
    db.session.commit()
    return channel


def _checked_name(value: str | None, required: str | None, limit: int) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(required)
    if len(value) > limit:
        raise InvalidInput(f"a name has at most {limit} characters")
    return value


def _merged_settings(channel: Channel, values: dict[str, Any]) -> dict[str, Any]:
    cls = connector_class(channel.platform)
    settings = dict(channel.settings or {})
    for key in (*cls.setting_keys, *COMMON_SETTINGS):
        if key not in cls.secret_keys and key in values:
            settings[key] = _setting(key, values[key])
    settings["poll_interval"] = _poll_interval(settings.get("poll_interval"), cls.default_poll_interval)
    return settings


def _setting(key: str, value: Any) -> Any:
    if key == "templates":
        return parse_templates(value if isinstance(value, str) else format_templates(value or []))
    text = str(value if value is not None else "").strip()
    if len(text) > MAX_SETTING_LENGTH:
        raise InvalidInput(f"{key} is too long")
    if text and key in NUMBER_SETTINGS:
        _check_number(key, text)
    if text and key in ENDPOINT_SETTINGS:
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or " " in text:
            raise InvalidInput(f"{key} must be an http(s) address such as https://api.example.com")
    return text


def _check_number(key: str, text: str) -> None:
    low, high, whole = NUMBER_SETTINGS[key]
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not low <= number <= high or (whole and not number.is_integer()):
        kind = "a whole number" if whole else "a number"
        raise InvalidInput(f"{key} must be {kind} from {low:g} to {high:g}")


def _poll_interval(value: Any, default: int) -> float | int:
    try:
        seconds = float(value if value not in (None, "") else default)
    except (TypeError, ValueError):
        raise InvalidInput("the polling interval is a number of seconds") from None
    if not math.isfinite(seconds) or seconds > MAX_POLL_SECONDS:
        raise InvalidInput(f"the polling interval is at most {int(MAX_POLL_SECONDS)} seconds")
    seconds = max(MIN_POLL_SECONDS, seconds)
    return int(seconds) if seconds.is_integer() else seconds


def _stored_secrets(channel: Channel) -> dict[str, Any] | None:
    """The channel's decrypted credentials; None if another key encrypted them."""
    try:
        return crypto.decrypt(channel.secrets)
    except crypto.CredentialsUnreadable:
        return None


def _check_endpoint_change(channel: Channel, settings: dict[str, Any], given: dict[str, str]) -> None:
    old = channel.settings or {}
    if channel.id is None or all((old.get(k) or "") == (settings.get(k) or "") for k in ENDPOINT_SETTINGS):
        return
    stored = _stored_secrets(channel) or {}
    missing = [key for key in SENT_TO_API if stored.get(key) and key not in given
               and key in secret_keys(channel.platform)]
    if missing:
        raise InvalidInput(f"Changing the API address needs {', '.join(missing)} entered again: stored "
                           "credentials are never sent to a new address.")


def _merged_secrets(channel: Channel, given: dict[str, str]) -> dict[str, Any] | None:
    """The credentials to store; None keeps the stored ones untouched (unreadable with the
    current key and none entered: a key rotation may still be undone)."""
    stored = _stored_secrets(channel)
    if stored is None and not given:
        return None
    stored = {**(stored or {}), **given}
    cls = connector_class(channel.platform)
    for key in GENERATED_SECRETS:
        if cls.pushed and key in cls.secret_keys and not stored.get(key):
            stored[key] = token_source.token_urlsafe(24)
    return stored


def _changes(channel: Channel, name: str, team_name: str | None, settings: dict[str, Any],
             given: dict[str, str]) -> list[str]:
    """The names (never the values) of what an edit changes, for the audit log."""
    old = channel.settings or {}
    changed = {key for key in settings if settings[key] != old.get(key)} | set(given)
    if name != channel.name:
        changed.add("name")
    if (team_name or None) != (channel.team.name if channel.team else None):
        changed.add("team")
    return sorted(changed)


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


def _failure(channel: Channel, exc: Exception) -> str:
    """Record a failed platform call on the channel; the reason to show the admin."""
    if isinstance(exc, ConnectorError):
        record_failure(channel, exc)
    db.session.commit()
    return getattr(exc, "reason", None) or str(exc) or "not available for this platform"


def check_health(channel_id: int) -> tuple[bool, str]:
    """Call the platform's cheapest authenticated endpoint and record the outcome."""
    channel = get_channel(channel_id)
    try:
        result = connector(channel).health_check()
    except (ConnectorError, crypto.CredentialsUnreadable, NotImplementedError) as exc:
        return False, _failure(channel, exc)
    record_success(channel)
    channel.token_expires_at = result.token_expires_at or channel.token_expires_at
    db.session.commit()
    return result.ok, result.detail


def register_webhook(actor: User, channel_id: int, url: str) -> tuple[bool, str]:
    """Point the platform at ``url``, the channel's webhook address, where its API allows
    (Telegram). A channel with a ``mode`` setting switches to "webhook": the platform pushes now."""
    channel = get_channel(channel_id)
    try:
        detail = connector(channel).register_webhook(url)
    except (ConnectorError, crypto.CredentialsUnreadable, NotImplementedError) as exc:
        return False, _failure(channel, exc)
    if "mode" in connector_class(channel.platform).setting_keys:
        channel.settings = {**(channel.settings or {}), "mode": "webhook"}
    db.session.add(AuditLog(actor_id=actor.id, action="channel.webhook_registered", target_type="channel",
                            target_id=channel.id, data={"url": url}))
    db.session.commit()
    return True, detail


def webhook_path(channel: Channel) -> str:
    return f"/webhooks/{channel.platform}/{channel.id}"
