"""The normalised shapes every connector reads into and sends from (DESIGN.md step 2)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

# InboundMessage.direction: a customer's message, or an echo of one the account sent.
INBOUND, OUTBOUND = "inbound", "outbound"
# InboundMessage.action: a new message, an edit of a stored one, or its deletion.
CREATE, UPDATE, DELETE = "create", "update", "delete"


def iso_utc(value: datetime) -> str:
    """ISO-8601 UTC with a Z, from a naive-UTC datetime."""
    return value.isoformat() + "Z"


@dataclass(frozen=True)
class Attachment:
    type: str  # image | video | audio | file | sticker | location | share | story | other
    url: str | None = None
    external_id: str | None = None
    name: str | None = None
    mime_type: str | None = None


@dataclass(frozen=True)
class InboundMessage:
    """One message as a platform reports it. Ids are strings; ``created_at`` is naive UTC;
    ``text`` is exactly as sent (no trimming, direction marks kept)."""

    platform: str
    external_id: str
    author_id: str
    text: str
    is_public: bool
    created_at: datetime
    author_handle: str | None = None
    author_name: str | None = None
    # Public posts: the thread's root post id, and the post this one answers.
    thread_id: str | None = None
    parent_id: str | None = None
    attachments: tuple[Attachment, ...] = ()
    direction: str = INBOUND
    action: str = CREATE
    # Where a reply goes when that is not the author: X dm_conversation_id, Telegram chat id.
    conversation_key: str | None = None

    @property
    def is_private(self) -> bool:
        return not self.is_public

    def to_dict(self) -> dict[str, Any]:
        """The JSON line of `flask connectors parse` (DESIGN.md contract)."""
        return {
            "platform": self.platform,
            "external_id": self.external_id,
            "thread_id": self.thread_id,
            "parent_id": self.parent_id,
            "author_id": self.author_id,
            "author_handle": self.author_handle,
            "author_name": self.author_name,
            "text": self.text,
            "is_private": self.is_private,
            "created_at": iso_utc(self.created_at),
            "attachments": [asdict(a) for a in self.attachments],
            "direction": self.direction,
            "action": self.action,
            "conversation_key": self.conversation_key,
        }


@dataclass(frozen=True)
class StatusUpdate:
    """What happened to a message the account sent: delivered, read or failed.

    Either ``external_id`` names the message, or ``watermark`` says "everything sent to
    ``recipient_id`` before this time" (Messenger's read/delivery receipts)."""

    platform: str
    status: str  # sent | delivered | read | failed
    timestamp: datetime
    external_id: str | None = None
    recipient_id: str | None = None
    watermark: datetime | None = None
    error_code: str | None = None
    error: str | None = None  # human-readable, shown to the agent

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["timestamp"] = iso_utc(self.timestamp)
        data["watermark"] = iso_utc(self.watermark) if self.watermark else None
        data["kind"] = "status"
        return data


Event = InboundMessage | StatusUpdate


@dataclass(frozen=True)
class RawPayload:
    """One delivery as the platform sent it, with the key that makes a replay harmless."""

    body: dict[str, Any]
    dedup_key: str | None = None


@dataclass(frozen=True)
class PollResult:
    payloads: list[RawPayload] = field(default_factory=list)
    cursor: str | None = None  # where the next poll starts; saved after the batch is stored


@dataclass(frozen=True)
class OutboundMessage:
    text: str
    recipient_id: str
    is_public: bool
    idempotency_key: str
    in_reply_to: str | None = None  # the platform id of the message being answered
    conversation_key: str | None = None  # InboundMessage.conversation_key of that message
    template: str | None = None  # an approved template's name (WhatsApp outside the window)
    template_language: str | None = None


@dataclass(frozen=True)
class SendResult:
    external_id: str
    sent_at: datetime


@dataclass(frozen=True)
class HealthResult:
    ok: bool
    detail: str = ""
    token_expires_at: datetime | None = None
