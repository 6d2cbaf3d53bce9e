"""The contract every platform connector fulfils."""
from __future__ import annotations

from typing import Any, ClassVar

from connectors.types import InboundMessage, OutboundMessage, PollResult, SendResult


class Connector:
    """One platform account. Built from the channel's settings; holds no database state.

    Polled platforms implement ``poll``; pushed platforms get payloads from webhooks. Both
    feed ``parse``, so the two paths give the same messages.
    """

    platform: ClassVar[str]
    polled: ClassVar[bool] = False
    max_text_length: ClassVar[int] = 4096

    def __init__(self, settings: dict[str, Any] | None = None):
        self.settings = settings or {}

    def poll(self, cursor: str | None) -> PollResult:
        raise NotImplementedError(f"{self.platform} is not polled")

    def parse(self, body: dict[str, Any]) -> list[InboundMessage]:
        raise NotImplementedError

    def send(self, message: OutboundMessage) -> SendResult:
        raise NotImplementedError
