"""Facebook Page: Messenger conversations and comments on the Page's posts, both pushed by
Meta's webhook (object ``page``). Settings and send conventions: see ``connectors.meta``.

Feed changes become messages only for comments: ``add`` (new), ``edited`` (update),
``remove`` (delete). ``hide``/``unhide`` are the Page's own moderation and reactions, shares
and posts are not customer messages, so they give nothing. The Page's own comments come
back as ``direction="outbound"`` so the pipeline recognises its replies.

Reconciliation (``connectors.meta_read``) reads ``GET /{page_id}/conversations`` (Messenger)
and ``GET /{page_id}/feed`` with each post's comments, all levels (``filter(stream)``, newest
first), into the same messages: comment id = the webhook's ``comment_id``, thread = the post
id, parent = ``parent.id`` or the post.
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, ClassVar

from connectors.errors import PayloadError
from connectors.meta import MetaConnector, from_epoch
from connectors.meta_read import graph_time
from connectors.types import CREATE, DELETE, INBOUND, OUTBOUND, UPDATE, Attachment, Event, InboundMessage

VERBS = {"add": CREATE, "edited": UPDATE, "remove": DELETE}
MESSAGE_FIELDS = "id,message,from,to,created_time,attachments,sticker"
COMMENT_FIELDS = "id,message,from,created_time,parent{id},attachment"
# All levels of comments (replies too), newest first. (unconfirmed: the two modifiers together)
COMMENTS_EDGE = f"comments.filter(stream).order(reverse_chronological).limit(25){{{COMMENT_FIELDS}}}"
# A comment's ``attachment.type`` (unconfirmed list: photo, sticker, video_inline, animated_image_share, share).
COMMENT_ATTACHMENTS = {"photo": "image", "sticker": "sticker", "video_inline": "video", "video": "video",
                       "animated_image_share": "image", "animated_image_video": "video", "share": "share"}


class FacebookConnector(MetaConnector):
    platform: ClassVar[str] = "facebook"
    polled: ClassVar[bool] = True  # reconciliation of lost webhooks; webhooks stay the main path
    max_text_length: ClassVar[int] = 2000  # Send API limit; comments allow more
    label: ClassVar[str] = "Facebook"
    webhook_object: ClassVar[str] = "page"
    messaging_type: ClassVar[str | None] = "RESPONSE"
    profile_field: ClassVar[str] = "name"

    messages_path: ClassVar[str] = "/me/messages"
    reply_path: ClassVar[str] = "/{comment_id}/comments"

    conversations_path: ClassVar[str] = "/{account_id}/conversations"
    conversations_params: ClassVar[dict[str, Any]] = {
        "platform": "messenger", "limit": 25,
        "fields": f"id,updated_time,messages.limit(25){{{MESSAGE_FIELDS}}}"}
    message_fields: ClassVar[str | None] = MESSAGE_FIELDS
    posts_path: ClassVar[str] = "/{account_id}/feed"
    posts_params: ClassVar[dict[str, Any]] = {"fields": f"id,updated_time,{COMMENTS_EDGE}", "limit": 25}
    comments_params: ClassVar[dict[str, Any]] = {
        "fields": COMMENT_FIELDS, "filter": "stream", "order": "reverse_chronological", "limit": 50}
    comment_time_field: ClassVar[str] = "created_time"

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
        attachments = tuple(Attachment(type=kind, url=value[field])
                            for field, kind in (("photo", "image"), ("video", "video")) if value.get(field))
        return self._public(
            comment_id, value.get("from") or {}, "" if action == DELETE else value.get("message") or "",
            from_epoch(value.get("created_time") or entry["time"]), post_id, str(value.get("parent_id") or post_id),
            () if action == DELETE else attachments, action)

    def read_comment(self, item: dict[str, Any], post_id: str) -> InboundMessage:
        """A comment of the read API: ``parent`` only on replies, ``attachment`` singular."""
        parent = item.get("parent") if isinstance(item.get("parent"), dict) else {}
        attachment = item.get("attachment") if isinstance(item.get("attachment"), dict) else None
        text = item.get("message") or ""
        if not isinstance(text, str):
            raise PayloadError(f"comment {item['id']} has a text that is not a string")
        return self._public(str(item["id"]), item.get("from") or {}, text, graph_time(item["created_time"]),
                            post_id, str(parent.get("id") or post_id),
                            (_comment_attachment(attachment),) if attachment else (), CREATE)

    def _public(self, comment_id: str, author: dict[str, Any], text: str, at: datetime, post_id: str,
                parent_id: str, attachments: tuple[Attachment, ...], action: str) -> InboundMessage:
        if not author.get("id") and action != DELETE:
            # Meta leaves "from" out when the app may not read the commenter's identity.
            raise PayloadError(f"comment {comment_id} has no author (from.id): the Page token needs "
                               "the pages_read_user_content permission")
        author_id = str(author.get("id") or "")
        return InboundMessage(
            platform=self.platform,
            external_id=comment_id,
            author_id=author_id,
            author_name=author.get("name"),
            text=text,
            is_public=True,
            created_at=at,
            thread_id=post_id,
            parent_id=parent_id,
            attachments=attachments,
            direction=OUTBOUND if author_id and author_id == self.account_id else INBOUND,
            action=action,
        )


def _comment_attachment(raw: dict[str, Any]) -> Attachment:
    media = raw.get("media") if isinstance(raw.get("media"), dict) else {}
    image = media.get("image") if isinstance(media.get("image"), dict) else {}
    target = raw.get("target") if isinstance(raw.get("target"), dict) else {}
    return Attachment(type=COMMENT_ATTACHMENTS.get(raw.get("type"), "other"),
                      url=image.get("src") or media.get("source") or raw.get("url"),
                      external_id=str(target["id"]) if target.get("id") else None, name=raw.get("title"))
