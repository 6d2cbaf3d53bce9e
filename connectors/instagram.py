"""Instagram professional account: DMs and comments on the account's media, pushed by Meta's
webhook (object ``instagram``). Settings and send conventions: see ``connectors.meta``.

DMs share Messenger's shape (``is_deleted`` is an unsend, ``read.mid`` a read receipt).
Comments carry no timestamp, so ``created_at`` is the entry's ``time``. A ``mentions``
change names only a media and comment id, with no author or text: it gives nothing here
and needs a Graph fetch (``GET /{comment_id}?fields=text,username,timestamp``) to become a
message.
"""
from __future__ import annotations

from typing import Any, ClassVar

from connectors.meta import MetaConnector, from_epoch
from connectors.types import INBOUND, OUTBOUND, Event, InboundMessage

COMMENT_FIELDS = ("comments", "live_comments")


class InstagramConnector(MetaConnector):
    platform: ClassVar[str] = "instagram"
    polled: ClassVar[bool] = False
    max_text_length: ClassVar[int] = 1000
    label: ClassVar[str] = "Instagram"
    webhook_object: ClassVar[str] = "instagram"
    profile_field: ClassVar[str] = "username"

    messages_path: ClassVar[str] = "/{account_id}/messages"
    reply_path: ClassVar[str] = "/{comment_id}/replies"

    def change_key(self, change: dict[str, Any]) -> str | None:
        value = change.get("value")
        if not isinstance(value, dict):
            return None
        if change.get("field") in COMMENT_FIELDS and value.get("id"):
            return f"comment:{value['id']}"
        if change.get("field") == "mentions":
            return f"mention:{value.get('comment_id') or value.get('media_id')}"
        return None

    def parse_change(self, change: dict[str, Any], entry: dict[str, Any]) -> list[Event]:
        if change.get("field") not in COMMENT_FIELDS:
            return []  # mentions (need a fetch), story insights, ...
        value = change["value"]
        author, media_id = value["from"], str(value["media"]["id"])
        author_id = str(author["id"])
        return [InboundMessage(
            platform=self.platform,
            external_id=str(value["id"]),
            author_id=author_id,
            author_handle=author.get("username"),
            text=value.get("text") or "",
            is_public=True,
            created_at=from_epoch(entry["time"]),
            thread_id=media_id,
            parent_id=str(value.get("parent_id") or media_id),
            direction=OUTBOUND if author_id == self.account_id else INBOUND,
        )]
