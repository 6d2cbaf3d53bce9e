"""The contract every platform connector fulfils."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, ClassVar

from connectors.types import Event, HealthResult, OutboundMessage, PollResult, RawPayload, SendResult


class Connector:
    """One platform account, built from its channel's settings; holds no database state.

    Settings are a plain dict (credentials included): each connector documents its keys in
    ``setting_keys``; ``account_id`` is always the account's own id on the platform (X user
    id, Page id, Instagram account id, WhatsApp phone-number id, Telegram bot id), so that
    the account's own messages are told from customers'.

    Polled platforms implement ``poll``; pushed ones get payloads from webhooks (``verify``
    then ``split_webhook``). Both feed ``parse``, so the two paths give the same messages.
    """

    platform: ClassVar[str]
    label: ClassVar[str]  # the platform's name as people know it ("X", not "twitter")
    polled: ClassVar[bool] = False
    pushed: ClassVar[bool] = False
    max_text_length: ClassVar[int] = 4096
    # A public reply's limit when it differs from a private message's (X posts: 280), and how the
    # platform counts: "code_points" or "x_weighted" (connectors/text_length.py).
    max_public_text_length: ClassVar[int | None] = None
    text_counting: ClassVar[str] = "code_points"
    # Seconds between polls unless the channel sets poll_interval.
    default_poll_interval: ClassVar[int] = 60
    # How long after the customer's last message a free-form reply is allowed (None: always).
    reply_window: ClassVar[timedelta | None] = None
    # Settings an admin fills in; the secret ones are never shown back in full.
    setting_keys: ClassVar[tuple[str, ...]] = ()
    secret_keys: ClassVar[tuple[str, ...]] = ()

    def __init__(self, settings: Mapping[str, Any] | None = None):
        self.settings = dict(settings or {})
        self.account_id: str | None = str(self.settings["account_id"]) if self.settings.get("account_id") else None

    # ---- in --------------------------------------------------------------------------
    def poll(self, cursor: str | None) -> PollResult:
        """Fetch what arrived since ``cursor``; the new cursor is saved after storing."""
        raise NotImplementedError(f"{self.platform} is not polled")

    def verify(self, headers: Mapping[str, str], raw_body: bytes) -> bool:
        """Is this webhook delivery really from the platform? Checked before anything is stored."""
        return False

    def handshake(self, query: Mapping[str, str]) -> str | None:
        """A subscription check (GET): the body to answer with, or None for 403."""
        return None

    def split_webhook(self, body: dict[str, Any]) -> list[RawPayload]:
        """One webhook delivery as the payloads to store (with their dedup keys). Default:
        the whole body, keyed by nothing (message-level dedup still applies)."""
        return [RawPayload(body=body)]

    def parse(self, body: dict[str, Any]) -> list[Event]:
        """Messages and status updates in a stored payload; PayloadError if unreadable."""
        raise NotImplementedError

    # ---- out -------------------------------------------------------------------------
    def send(self, message: OutboundMessage) -> SendResult:
        raise NotImplementedError

    def health_check(self) -> HealthResult:
        """The platform's cheapest authenticated call."""
        raise NotImplementedError

    def register_webhook(self, url: str) -> str:
        """Point the platform at ``url`` where its API allows (Telegram's setWebhook); returns
        what to tell the admin. Meta's platforms are set up in the app dashboard instead."""
        raise NotImplementedError(f"{self.platform} webhooks are set up in the platform's own dashboard")
