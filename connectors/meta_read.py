"""Reconciliation through the Graph API's read side: what a lost webhook never delivered.

Meta pushes Page and Instagram events by webhook, but deliveries get lost (a subscription
drops, the endpoint is down past Meta's retries). So Meta channels are also polled, every
``poll_interval`` seconds (300 is plenty: this is a safety net, not the main path). A poll
reads back what arrived since the last one: the conversations (Messenger / Instagram DMs)
and the comments on the account's recent posts. Each API page is stored as it came, wrapped:

    {"tawasul_source": "graph_conversations", "since": <epoch s>, "page": <the page JSON>}

Sources: ``graph_conversations`` (a listing, each conversation with its newest messages),
``graph_messages`` (a further page of one conversation, with ``conversation_id``),
``graph_posts`` (Page feed / IG media, each post with its newest comments) and
``graph_comments`` (a further page of one post's comments, with ``post_id``).

``parse`` reads such a body into the same InboundMessages as the webhook path: the external
id is the Messenger/IG ``mid`` or the comment id, so a message seen both ways is stored once.
Only items created at or after ``since`` are read, and a page's dedup key names exactly
those items: a page holding nothing new is not returned, and the overlap of the next poll
(the same items again) is not stored twice.

Cursor: ``{"since": <epoch s>}``. The first poll looks back LOOKBACK; the next cursor is the
newest item's time minus OVERLAP, never earlier than the last cursor, unchanged when nothing
new arrived. Listings are bounded (MAX_* below): a backlog beyond them is left to webhooks.

Read from Meta's reference, not from recorded responses (unconfirmed):
- the conversations edge has no time-based paging ("since" is not available), so it is read
  newest first by ``updated_time`` and paging stops at the first page older than ``since``;
- the Page feed / IG media are paged by post creation time, not by the time of the latest
  comment, so no ``since`` is sent there either: the newest MAX_POST_PAGES pages of posts are
  scanned and their comments filtered by time (comments on older posts are left to webhooks);
- that the read-side message ``id`` equals the webhook ``mid`` and the read-side comment id
  equals the webhook ``comment_id`` / ``id`` (same formats in every example seen);
- the order of nested lists (messages newest first; IG comments may be oldest first), so
  whether a nested list may hold more new items is judged from the page's own order.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from connectors.errors import PayloadError
from connectors.types import Attachment, InboundMessage, PollResult, RawPayload


class ReadableConnector(Protocol):
    """What reading needs of a Meta connector (``connectors.meta.MetaConnector`` and its
    Facebook and Instagram subclasses): where to read, and how one item becomes a message.
    A protocol, so that this module does not import the connector that imports it."""

    label: str
    account_id: str | None
    conversations_path: str
    conversations_params: dict[str, Any]
    message_fields: str | None
    posts_path: str
    posts_params: dict[str, Any]
    comments_params: dict[str, Any]
    comment_time_field: str

    def graph(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]: ...

    def comment_items(self, comments: list[Any]) -> list[Any]: ...

    def read_comment(self, item: dict[str, Any], post_id: str) -> InboundMessage: ...

    def direct_message(self, mid: str, sender: str, recipient: str | None, at: datetime, text: str,
                       action: str = ..., parent_id: str | None = None,
                       attachments: tuple[Attachment, ...] = (), echo: bool = False,
                       author_name: str | None = None, author_handle: str | None = None) -> InboundMessage: ...

SOURCE = "tawasul_source"
CONVERSATIONS, MESSAGES, POSTS, COMMENTS = "graph_conversations", "graph_messages", "graph_posts", "graph_comments"
SOURCES = (CONVERSATIONS, MESSAGES, POSTS, COMMENTS)
LOOKBACK = timedelta(hours=24)  # how far back a first poll (no cursor yet) reads
OVERLAP = 60  # seconds re-read on each poll: late-indexed items; the dedup keys absorb repeats
MAX_LIST_PAGES = 10  # conversations listing pages per poll (25 conversations each)
MAX_POST_PAGES = 2  # newest posts scanned for new comments: 2 pages of 25 (Page limits are per call)
MAX_NESTED_PAGES = 4  # further pages of one conversation's messages / one post's comments
EPOCH = datetime(1970, 1, 1)
FILE_TYPES = {"image": "image", "video": "video", "audio": "audio"}  # by the MIME type's major part


def is_read_body(body: Any) -> bool:
    return isinstance(body, dict) and SOURCE in body


def graph_time(value: Any) -> datetime:
    """Naive UTC from a Graph read time: ISO ``2024-06-11T10:22:03+0000`` or epoch seconds."""
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        return EPOCH + timedelta(seconds=int(value))
    if not isinstance(value, str):
        raise ValueError(f"not a Graph time: {value!r}")
    moment = datetime.fromisoformat(value)
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def epoch_seconds(moment: datetime) -> int:
    return int((moment - EPOCH).total_seconds())


def items(value: Any) -> list[Any]:
    """The ``data`` list of a Graph list (absent: empty); PayloadError if it is not a list."""
    if value is None:
        return []
    data = value.get("data", []) if isinstance(value, dict) else None
    if not isinstance(data, list):
        raise PayloadError(f"unreadable Graph list: expected an object with a 'data' list, got {str(value)[:80]}")
    return data


def _loose_items(value: Any) -> list[dict[str, Any]]:
    """``items`` for paging decisions: whatever is unreadable counts as nothing."""
    try:
        return [item for item in items(value) if isinstance(item, dict)]
    except PayloadError:
        return []


def _after(page: Any) -> str | None:
    """The cursor of the next page, or None on the last page (Graph omits ``paging.next``)."""
    paging = page.get("paging") if isinstance(page, dict) else None
    if not isinstance(paging, dict) or not paging.get("next"):
        return None
    cursors = paging.get("cursors") if isinstance(paging.get("cursors"), dict) else {}
    after = cursors.get("after") or parse_qs(urlsplit(str(paging["next"])).query).get("after", [None])[0]
    return str(after) if after else None


def _times(entries: list[dict[str, Any]], field: str) -> list[datetime]:
    moments = []
    for entry in entries:
        try:
            moments.append(graph_time(entry[field]))
        except (KeyError, ValueError, TypeError, OverflowError):
            continue
    return moments


def wants_more(moments: list[datetime], since: datetime) -> bool:
    """May the next page of a list hold items at or after ``since``? A list read newest first
    goes on while its oldest item is still new; one read oldest first has the newer items on
    its next pages."""
    if not moments:
        return False
    if moments[0] < moments[-1]:
        return True
    return moments[-1] >= since


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]


# ---- parsing -------------------------------------------------------------------------------
def parse_read_body(connector: ReadableConnector, body: dict[str, Any]) -> list[InboundMessage]:
    """The messages of one stored read page that were created at or after its ``since``,
    oldest first (so a customer's message comes before the account's answer to it)."""
    source, page = body.get(SOURCE), body.get("page")
    if source not in SOURCES or not isinstance(page, dict):
        raise PayloadError(f"unreadable {connector.label} read payload: source {source!r}")
    if source == CONVERSATIONS:
        found = [read_message(connector, m) for c in items(page) for m in items(_field(c, "messages"))]
    elif source == MESSAGES:
        found = [read_message(connector, m) for m in items(page)]
    elif source == POSTS:
        found = [connector.read_comment(comment, str(post["id"]))
                 for post in items(page) for comment in connector.comment_items(items(_field(post, "comments")))]
    else:
        post_id = str(body["post_id"])
        found = [connector.read_comment(comment, post_id) for comment in connector.comment_items(items(page))]
    since = EPOCH + timedelta(seconds=int(body.get("since") or 0))
    return sorted((m for m in found if m.created_at >= since), key=lambda m: m.created_at)


def _field(entry: Any, name: str) -> Any:
    if not isinstance(entry, dict):
        raise PayloadError(f"unreadable Graph item: {str(entry)[:80]}")
    return entry.get(name)


def read_message(connector: ReadableConnector, item: dict[str, Any]) -> InboundMessage:
    """One message of the conversations API: the same ids as the webhook (``id`` is the
    ``mid``); the account's own messages are echoes, keyed to the customer they went to."""
    mid, author = str(item["id"]), item["from"]
    sender = str(author["id"])
    recipients = [str(r["id"]) for r in items(item.get("to")) if isinstance(r, dict) and r.get("id")]
    recipient = next((r for r in recipients if r != sender), None)
    text = item.get("message") or ""
    if not isinstance(text, str):
        raise PayloadError(f"message {mid} has a text that is not a string")
    attachments = [read_attachment(a) for a in items(item.get("attachments"))]
    if item.get("sticker"):  # Messenger: the sticker's image URL
        attachments.append(Attachment(type="sticker", url=str(item["sticker"])))
    for share in items(item.get("shares")):  # shared posts, reels, links
        attachments.append(Attachment(type="share", url=share.get("link") or share.get("url"), name=share.get("name")))
    story = item.get("story") if isinstance(item.get("story"), dict) else {}
    for kind in ("mention", "reply_to"):  # Instagram story mentions and replies (unconfirmed shape)
        linked = story.get(kind)
        if isinstance(linked, dict):
            attachments.append(Attachment(type="story", url=linked.get("link"), external_id=_str(linked.get("id"))))
    if item.get("is_unsupported"):
        attachments.append(Attachment(type="other", name="unsupported"))
    return connector.direct_message(mid, sender, recipient, graph_time(item["created_time"]), text=text,
                                    attachments=tuple(attachments), author_name=author.get("name"),
                                    author_handle=author.get("username"))


def read_attachment(raw: dict[str, Any]) -> Attachment:
    """A conversations-API attachment: ``image_data`` / ``video_data`` / ``file_url``."""
    image = raw.get("image_data") if isinstance(raw.get("image_data"), dict) else {}
    video = raw.get("video_data") if isinstance(raw.get("video_data"), dict) else {}
    mime = raw.get("mime_type")
    if image.get("url"):
        kind, url = "image", image["url"]
    elif video.get("url"):
        kind, url = "video", video["url"]
    else:
        kind = FILE_TYPES.get(str(mime or "").split("/")[0], "file") if raw.get("file_url") else "other"
        url = raw.get("file_url")
    return Attachment(type=kind, url=url, external_id=_str(raw.get("id")), name=raw.get("name"), mime_type=mime)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


# ---- polling -------------------------------------------------------------------------------
class GraphReader:
    """One reconciliation poll of one Meta account."""

    def __init__(self, connector: ReadableConnector, cursor: str | None, now: float | None = None):
        self.connector = connector
        self.cursor = cursor
        self.now = int(time.time() if now is None else now)
        self.since = read_cursor(cursor)
        if self.since is None:
            self.since = self.now - int(LOOKBACK.total_seconds())
        self.since_time = EPOCH + timedelta(seconds=self.since)
        self.payloads: list[RawPayload] = []
        self.newest: int | None = None

    def poll(self) -> PollResult:
        self._conversations()
        self._posts()
        # Oldest data first: later listing pages and further nested pages hold older items.
        return PollResult(payloads=list(reversed(self.payloads)), cursor=self.next_cursor())

    def next_cursor(self) -> str | None:
        if self.newest is None:
            return self.cursor  # nothing new: the window stays where it was
        newest = min(self.newest, self.now)  # a clock ahead of ours must not skip the future
        return json.dumps({"since": max(self.since, newest - OVERLAP)})

    def _conversations(self) -> None:
        c = self.connector
        path = c.conversations_path.format(account_id=c.account_id)
        for page in self._pages(path, c.conversations_params, MAX_LIST_PAGES):
            self._keep(CONVERSATIONS, page)
            conversations = _loose_items(page)
            if c.message_fields:  # further messages of busy conversations (not Instagram: 20 at most)
                for conversation in conversations:
                    if conversation.get("id"):
                        self._nested(MESSAGES, f"/{conversation['id']}/messages",
                                     {"fields": c.message_fields, "limit": 25}, conversation.get("messages"),
                                     "created_time", conversation_id=str(conversation["id"]))
            if not wants_more(_times(conversations, "updated_time"), self.since_time):
                return  # newest first: the next pages were updated before the window

    def _posts(self) -> None:
        c = self.connector
        path = c.posts_path.format(account_id=c.account_id)
        for page in self._pages(path, c.posts_params, MAX_POST_PAGES):
            self._keep(POSTS, page)
            for post in _loose_items(page):
                if post.get("id"):
                    self._nested(COMMENTS, f"/{post['id']}/comments", c.comments_params, post.get("comments"),
                                 c.comment_time_field, post_id=str(post["id"]))

    def _nested(self, source: str, path: str, params: dict[str, Any], first: Any, time_field: str,
                **context: str) -> None:
        """Further pages of a list embedded in its parent (a conversation's messages, a post's
        comments), while they may still hold items of the window."""
        page = first
        for _ in range(MAX_NESTED_PAGES):
            after = _after(page)
            if not after or not wants_more(_times(_loose_items(page), time_field), self.since_time):
                return
            page = self.connector.graph("GET", path, params={**params, "after": after})
            self._keep(source, page, **context)

    def _pages(self, path: str, params: dict[str, Any], limit: int) -> Iterator[dict[str, Any]]:
        after = None
        for _ in range(limit):
            page = self.connector.graph("GET", path, params={**params, "after": after} if after else params)
            yield page
            following = _after(page)
            if not following or following == after:
                return
            after = following

    def _keep(self, source: str, page: dict[str, Any], **context: str) -> None:
        """Return the page if it holds anything of the window, keyed by exactly those items."""
        body = {SOURCE: source, "since": self.since, **context, "page": page}
        try:
            messages = parse_read_body(self.connector, body)
        except (PayloadError, KeyError, TypeError, ValueError, AttributeError, OverflowError):
            # Stored anyway (once: keyed by its content) so that parse parks it with its reason.
            self.payloads.append(RawPayload(body, f"{source}:unreadable:{_digest(page)}"))
            return
        if not messages:
            return
        key = f"{source}:{_digest(sorted(m.external_id for m in messages))}"
        self.payloads.append(RawPayload(body, key))
        newest = max(epoch_seconds(m.created_at) for m in messages)
        self.newest = newest if self.newest is None else max(self.newest, newest)


def read_cursor(cursor: str | None) -> int | None:
    """The ``since`` of a cursor; None when absent or unreadable (start with the lookback)."""
    try:
        state = json.loads(cursor) if cursor else None
        since = int(state["since"]) if isinstance(state, dict) else None
    except (ValueError, TypeError, KeyError, OverflowError):
        return None
    return since if since is not None and 0 <= since < 10**11 else None
