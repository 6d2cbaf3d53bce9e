"""The only errors a connector raises; the outbox and the poller decide from the type.

``reason`` is shown to agents and admins, so it is a sentence a person can act on.
"""
from __future__ import annotations


class ConnectorError(Exception):
    def __init__(self, reason: str, code: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.code = code  # the platform's own error code, for logs and tests


class PayloadError(ConnectorError):
    """The payload cannot be read: malformed, or not this platform's format."""


class TransientError(ConnectorError):
    """Worth retrying later: timeouts, connection errors, 5xx."""

    def __init__(self, reason: str, code: str | None = None, retry_after: float | None = None):
        super().__init__(reason, code)
        self.retry_after = retry_after  # seconds, when the platform said


class RateLimited(TransientError):
    """The platform asked us to slow down; ``retry_after`` is when to try again (seconds),
    or None when it did not say (back off with jitter)."""


class PermanentError(ConnectorError):
    """Retrying will not help until a person acts (deleted post, blocked by the user)."""


class WindowClosed(PermanentError):
    """Free-form messages are no longer allowed (24-hour window); a template may be."""


class AuthError(PermanentError):
    """The channel's credentials no longer work (expired, revoked, missing permission):
    the channel needs re-authorisation."""
