"""Instagram professional account: DMs and comments on the account's media, pushed by Meta's
webhook (object ``instagram``). Settings and send conventions: see ``connectors.meta``.

DMs share Messenger's shape (``is_deleted`` is an unsend, ``read.mid`` a read receipt).
Comments carry no timestamp, so ``created_at`` is the entry's ``time``. A ``mentions``
change names only a media and comment id, with no author or text: it gives nothing here
and needs a Graph fetch (``GET /{comment_id}?fields=text,username,timestamp``) to become a
message.

Reconciliation (``connectors.meta_read``) reads ``GET /me/conversations?platform=instagram``
(``me`` is the Page with a Page token on graph.facebook.com, the Instagram account with an
Instagram-login token on graph.instagram.com) and ``GET /{ig_id}/media`` with each media's
comments and their ``replies`` (Instagram nests replies one level deep). Only the 20 newest
messages of a conversation can be read, so a conversation's messages are not paged further.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from connectors.errors import PayloadError
from connectors.meta import MetaConnector, from_epoch
from connectors.meta_read import graph_time, items
from connectors.types import INBOUND, OUTBOUND, Event, InboundMessage

COMMENT_FIELDS = ("comments", "live_comments")
MESSAGE_FIELDS = "id,message,from,to,created_time,attachments"
READ_COMMENT_FIELDS = "id,text,from,username,timestamp,parent_id"


class InstagramConnector(MetaConnector):
    platform: ClassVar[str] = "instagram"
    polled: ClassVar[bool] = True  # reconciliation of lost webhooks; webhooks stay the main path
    max_text_length: ClassVar[int] = 1000
    label: ClassVar[str] = "Instagram"
    webhook_object: ClassVar[str] = "instagram"
    profile_field: ClassVar[str] = "username"

    messages_path: ClassVar[str] = "/{account_id}/messages"
    reply_path: ClassVar[str] = "/{comment_id}/replies"

    conversations_path: ClassVar[str] = "/me/conversations"
    conversations_params: ClassVar[dict[str, Any]] = {
        "platform": "instagram", "limit": 25, "fields": f"id,updated_time,messages.limit(20){{{MESSAGE_FIELDS}}}"}
    posts_path: ClassVar[str] = "/{account_id}/media"
    posts_params: ClassVar[dict[str, Any]] = {
        "fields": f"id,timestamp,comments.limit(25){{{READ_COMMENT_FIELDS},replies{{{READ_COMMENT_FIELDS}}}}}",
        "limit": 25}
    comments_params: ClassVar[dict[str, Any]] = {
        "fields": f"{READ_COMMENT_FIELDS},replies{{{READ_COMMENT_FIELDS}}}", "limit": 50}
    comment_time_field: ClassVar[str] = "timestamp"

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
        return [self._comment(value, value["from"], str(value["media"]["id"]), from_epoch(entry["time"]))]

    def comment_items(self, comments: list[Any]) -> list[Any]:
        """Top-level comments, each followed by its ``replies`` (the first page of them)."""
        flat = []
        for comment in comments:
            flat.append(comment)
            if isinstance(comment, dict):
                flat += items(comment.get("replies"))
        return flat

    def read_comment(self, item: dict[str, Any], post_id: str) -> InboundMessage:
        author = item.get("from") if isinstance(item.get("from"), dict) else {}
        if not author.get("id"):
            raise PayloadError(f"Instagram comment {item['id']} has no author (from.id)")
        author = {**author, "username": author.get("username") or item.get("username")}
        return self._comment(item, author, post_id, graph_time(item["timestamp"]))

    def _comment(self, value: dict[str, Any], author: dict[str, Any], media_id: str, at: datetime) -> InboundMessage:
        author_id = str(author["id"])
        return InboundMessage(
            platform=self.platform,
            external_id=str(value["id"]),
            author_id=author_id,
            author_handle=author.get("username"),
            text=value.get("text") or "",
            is_public=True,
            created_at=at,
            thread_id=media_id,
            parent_id=str(value.get("parent_id") or media_id),
            direction=OUTBOUND if author_id == self.account_id else INBOUND,
        )
