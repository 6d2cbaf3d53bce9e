"""The normalised shapes every connector reads into and sends from (DESIGN.md step 2)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Attachment:
    type: str  # image | video | audio | file | sticker | location
    url: str | None = None
    external_id: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class InboundMessage:
    platform: str
    external_id: str
    author_id: str
    text: str
    is_public: bool
    created_at: datetime  # UTC, naive
    author_handle: str | None = None
    author_name: str | None = None
    # Public posts: the thread's root post id, and the post this one answers.
    thread_id: str | None = None
    parent_id: str | None = None
    attachments: tuple[Attachment, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat() + "Z"
        return data


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


@dataclass(frozen=True)
class SendResult:
    external_id: str
    sent_at: datetime
