"""The only errors a connector raises; the outbox decides retry or fail from the type."""
from __future__ import annotations


class ConnectorError(Exception):
    """Base class. ``reason`` is shown to agents and admins, so it is human-readable."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class PayloadError(ConnectorError):
    """The payload cannot be read: malformed, or not this platform's format."""


class TransientError(ConnectorError):
    """Worth retrying later: timeouts, 5xx, rate limits."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentError(ConnectorError):
    """Retrying will not help until a person acts (closed window, deleted post)."""


class AuthError(PermanentError):
    """The channel's credentials no longer work: the channel needs re-authorisation."""
