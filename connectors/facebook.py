"""Facebook Page: Messenger conversations and comments on the Page's posts, both pushed by
Meta's webhook (object ``page``). Settings and send conventions: see ``connectors.meta``.

Feed changes become messages only for comments: ``add`` (new), ``edited`` (update),
``remove`` (delete). ``hide``/``unhide`` are the Page's own moderation and reactions, shares
and posts are not customer messages, so they give nothing. The Page's own comments come
back as ``direction="outbound"`` so the pipeline recognises its replies.
"""
from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from connectors.errors import PayloadError
from connectors.meta import MetaConnector, from_epoch
from connectors.types import CREATE, DELETE, INBOUND, OUTBOUND, UPDATE, Attachment, Event, InboundMessage

VERBS = {"add": CREATE, "edited": UPDATE, "remove": DELETE}


class FacebookConnector(MetaConnector):
    platform: ClassVar[str] = "facebook"
    polled: ClassVar[bool] = False
    max_text_length: ClassVar[int] = 2000  # Send API limit; comments allow more
    label: ClassVar[str] = "Facebook"
    webhook_object: ClassVar[str] = "page"
    messaging_type: ClassVar[str | None] = "RESPONSE"
    profile_field: ClassVar[str] = "name"

    messages_path: ClassVar[str] = "/me/messages"
    reply_path: ClassVar[str] = "/{comment_id}/comments"

    def change_key(self, change: dict[str, Any]) -> str | None:
        """``feed:<comment_id>:<verb>:<created_time>``. An edit keeps the comment's original
        ``created_time``, so edits add a digest of the new text: two edits stay two events,
        while a redelivery of one edit keeps its key."""
        value = change.get("value")
        if change.get("field") != "feed" or not isinstance(value, dict):
            return None
        verb, created = value.get("verb"), value.get("created_time")
        if value.get("item") != "comment":
            who = (value.get("from") or {}).get("id") if isinstance(value.get("from"), dict) else None
            return f"feed:{value.get('item')}:{value.get('post_id')}:{who}:{verb}:{created}"
        key = f"feed:{value.get('comment_id')}:{verb}:{created}"
        if verb == "edited":
            key += ":" + hashlib.sha256(str(value.get("message") or "").encode()).hexdigest()[:16]
        return key

    def parse_change(self, change: dict[str, Any], entry: dict[str, Any]) -> list[Event]:
        value = change["value"]
        action = VERBS.get(value.get("verb"))
        if change.get("field") != "feed" or value.get("item") != "comment" or action is None:
            return []
        return [self._comment(value, entry, action)]

    def _comment(self, value: dict[str, Any], entry: dict[str, Any], action: str) -> InboundMessage:
        comment_id, post_id = str(value["comment_id"]), str(value.get("post_id") or value["post"]["id"])
        author = value.get("from") or {}
        if not author.get("id") and action != DELETE:
            # Meta leaves "from" out when the app may not read the commenter's identity.
            raise PayloadError(f"comment {comment_id} has no author (from.id): the Page token needs "
                               "the pages_read_user_content permission")
        author_id = str(author.get("id") or "")
        attachments = tuple(Attachment(type=kind, url=value[field])
                            for field, kind in (("photo", "image"), ("video", "video")) if value.get(field))
        return InboundMessage(
            platform=self.platform,
            external_id=comment_id,
            author_id=author_id,
            author_name=author.get("name"),
            text="" if action == DELETE else value.get("message") or "",
            is_public=True,
            created_at=from_epoch(value.get("created_time") or entry["time"]),
            thread_id=post_id,
            parent_id=str(value.get("parent_id") or post_id),
            attachments=() if action == DELETE else attachments,
            direction=OUTBOUND if author_id and author_id == self.account_id else INBOUND,
            action=action,
        )
