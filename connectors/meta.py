"""What Facebook Pages and Instagram share: Meta's webhook envelope and signature, the
Messenger-shaped ``messaging[]`` events, the Graph API error envelope and the send calls.

Settings: ``account_id`` (Page id / Instagram professional account id), ``access_token``
(sent as an ``Authorization: Bearer`` header, never in the URL, so it stays out of proxy and
access logs), ``app_secret`` (webhook HMAC), ``verify_token`` (subscription handshake),
``graph_base`` (default below; ``https://graph.instagram.com/v21.0`` for Instagram Login
tokens) and optional ``timeout`` (seconds).

``OutboundMessage`` conventions: a private message whose ``in_reply_to`` is a comment id
(digits, or ``POSTID_COMMENTID``) is sent as a private reply to that comment (Meta's
Private Replies: ``POST /{account_id}/messages`` with ``recipient.comment_id``, one per
comment, within 7 days of it); message ids (``m_...``, Instagram's base64 ids) never look
like that. ``template="HUMAN_AGENT"`` sends with Meta's Human Agent tag (a human's reply up
to 7 days after the customer's message).

Both platforms are pushed *and* polled: the poll is a reconciliation through the Graph
API's read side that ingests what a lost webhook never delivered (``connectors.meta_read``).
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any, ClassVar

from connectors.base import Connector
from connectors.errors import (
    AuthError,
    ConnectorError,
    PayloadError,
    PermanentError,
    RateLimited,
    TransientError,
    WindowClosed,
)
from connectors.http import DEFAULT_TIMEOUT, HttpClient
from connectors.meta_read import GraphReader, is_read_body, parse_read_body
from connectors.ratelimit import retry_after_seconds
from connectors.signatures import meta_handshake, meta_signature_valid
from connectors.types import (
    CREATE,
    DELETE,
    INBOUND,
    OUTBOUND,
    UPDATE,
    Attachment,
    Event,
    HealthResult,
    InboundMessage,
    OutboundMessage,
    PollResult,
    RawPayload,
    SendResult,
    StatusUpdate,
)

GRAPH_BASE = "https://graph.facebook.com/v21.0"
HUMAN_AGENT_TAG = "HUMAN_AGENT"
EVENT_LISTS = ("messaging", "standby", "changes")  # standby: another app owns the thread
RATE_LIMIT_CODES = {4, 17, 32, 613, 80001, 80002, 80006}
WINDOW_SUBCODES = {2018278, 2534022}  # Messenger, Instagram: "sent outside of allowed window"
PRIVATE_REPLY_WINDOW = timedelta(days=7)
# Private Replies' own refusals, as ``error.code``: (#10900) "Activity already replied to",
# (#10901) "Activity replying time expired", (#10902) "not a Replyable activity",
# (#10903) "This user can't reply to this activity".
PRIVATE_REPLY_REFUSALS = {
    10900: "This comment already has a private reply: {label} allows only one per comment.",
    10901: "The comment is more than 7 days old: {label} allows a private reply only within 7 days of it.",
    10902: "{label} does not allow a private reply to this comment ({detail}).",
    10903: "{label} does not allow a private reply to this comment ({detail}).",
}
TOKEN_CAUSES = {
    463: "it has expired",
    460: "its session was invalidated (a password change or a security check)",
    467: "it is no longer valid",
    458: "the app was removed from the account",
}
ATTACHMENT_TYPES = {
    "image": "image", "video": "video", "audio": "audio", "file": "file", "sticker": "sticker",
    "location": "location", "share": "share", "reel": "share", "ig_reel": "share", "ig_post": "share",
    "template": "share", "fallback": "share", "story_mention": "story", "story": "story",
}
COMMENT_ID = re.compile(r"\d+(_\d+)?")
EPOCH = datetime(1970, 1, 1)


def from_epoch(value: Any) -> datetime:
    """Naive UTC from Meta's epoch numbers: milliseconds in ``messaging[]``, seconds in
    feed/comment changes. A value above 10^11 can only be milliseconds (10^11 s is year 5138)."""
    number = int(value)
    return EPOCH + (timedelta(milliseconds=number) if abs(number) >= 10**11 else timedelta(seconds=number))


def regain_access_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds until Meta lifts a throttle: the largest ``estimated_time_to_regain_access``
    (minutes) in ``X-Business-Use-Case-Usage``; Meta sends no Retry-After."""
    raw = {k.lower(): v for k, v in headers.items()}.get("x-business-use-case-usage")
    try:
        usage = json.loads(raw) if raw else {}
        minutes = [float(u.get("estimated_time_to_regain_access") or 0) for rows in usage.values() for u in rows]
    except (ValueError, TypeError, AttributeError):
        return None
    longest = max(minutes, default=0)
    return longest * 60 if longest > 0 else None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def graph_error(label: str, status: int, body: Any, headers: Mapping[str, str]) -> ConnectorError:
    """The one place a Graph API failure becomes a connector error: by ``error.code`` and
    ``error_subcode`` (the HTTP status is usually 400 whatever happened), then by status."""
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    code, sub = _int(error.get("code")), _int(error.get("error_subcode"))
    detail = str(error.get("error_user_msg") or error.get("message") or f"HTTP {status}").rstrip(". ")
    tag = f"{code}/{sub}" if code is not None and sub else str(code if code is not None else status)
    if code in RATE_LIMIT_CODES or (code is None and status == 429):
        wait = regain_access_seconds(headers) or retry_after_seconds(headers)
        return RateLimited(f"{label} is limiting this account's requests: {detail}. It will be retried.", tag, wait)
    if code in PRIVATE_REPLY_REFUSALS:
        return PermanentError(PRIVATE_REPLY_REFUSALS[code].format(label=label, detail=detail), tag)
    if code == 190:
        cause = TOKEN_CAUSES.get(sub, "it was rejected")
        return AuthError(f"The {label} access token no longer works: {cause}. Reconnect the channel "
                         f"to issue a new token. ({detail})", tag)
    if code == 10 and sub in WINDOW_SUBCODES:
        return WindowClosed("The customer-service window closed: the last customer message is over 24 hours "
                            f"old. {label} allows a free-form reply again when the customer writes, or a "
                            "Human Agent reply within 7 days.", tag)
    if code == 10 or (code is not None and 200 <= code <= 299) or (code is None and status in (401, 403)):
        return AuthError(f"The {label} token is missing a permission: {detail}. Grant it to the app and "
                         "reconnect the channel.", tag)
    if code == 100:
        return PermanentError(f"{label} refused the request: {detail}.", tag)
    if error.get("is_transient") or code in (1, 2) or status >= 500:
        return TransientError(f"{label} had a temporary problem: {detail}. It will be retried.", tag)
    return PermanentError(f"{label} refused the request: {detail}.", tag)


def is_comment_id(value: str | None) -> bool:
    """A comment's id (digits, or ``POSTID_COMMENTID``), never a message's (``m_...``, base64)."""
    return bool(value and COMMENT_ID.fullmatch(value))


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _attachment(raw: dict[str, Any]) -> Attachment:
    payload = raw.get("payload") or {}
    kind = raw.get("type")
    if payload.get("sticker_id"):  # a Like or other sticker arrives as an "image"
        kind = "sticker"
    return Attachment(
        type=ATTACHMENT_TYPES.get(kind, "other"),
        url=payload.get("url") or raw.get("url"),
        external_id=_str(payload.get("sticker_id") or payload.get("reel_video_id") or payload.get("id")),
        name=payload.get("title") or raw.get("title"),
    )


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


class MetaConnector(Connector):
    """The shared half of FacebookConnector and InstagramConnector."""

    pushed: ClassVar[bool] = True
    polled: ClassVar[bool] = True  # reconciliation: what a lost webhook never delivered
    # Seconds between reconciliation polls that suit Meta channels. The scheduler reads the
    # channel's ``poll_interval`` setting, so admins set this value there.
    default_poll_interval: ClassVar[int] = 300
    reply_window: ClassVar[timedelta | None] = timedelta(hours=24)
    # A private reply to a public comment (Messenger / Instagram DM): one per comment, within
    # ``private_reply_window`` of it, whatever the 24-hour window says.
    private_replies: ClassVar[bool] = True
    private_reply_window: ClassVar[timedelta] = PRIVATE_REPLY_WINDOW
    setting_keys: ClassVar[tuple[str, ...]] = (
        "account_id", "access_token", "app_secret", "verify_token", "graph_base", "timeout")
    secret_keys: ClassVar[tuple[str, ...]] = ("access_token", "app_secret", "verify_token")
    webhook_object: ClassVar[str]  # the envelope's "object"
    messaging_type: ClassVar[str | None] = None  # Messenger wants "RESPONSE" on replies
    profile_field: ClassVar[str]  # what the health check shows: the Page name, the IG username
    messages_path: ClassVar[str]  # DMs; "{account_id}" is filled in
    private_reply_path: ClassVar[str] = "/{account_id}/messages"  # Private Replies' documented endpoint
    reply_path: ClassVar[str]  # public replies; "{comment_id}" is filled in
    # The read API (see connectors.meta_read); "{account_id}" is filled in.
    conversations_path: ClassVar[str]
    conversations_params: ClassVar[dict[str, Any]]
    message_fields: ClassVar[str | None] = None  # set: follow a busy conversation's further messages
    posts_path: ClassVar[str]
    posts_params: ClassVar[dict[str, Any]]
    comments_params: ClassVar[dict[str, Any]]  # further comments of one post: GET /{post_id}/comments
    comment_time_field: ClassVar[str]

    @cached_property
    def http(self) -> HttpClient:
        timeout = float(self.settings["timeout"]) if self.settings.get("timeout") else DEFAULT_TIMEOUT
        token = self.settings.get("access_token") or ""
        return HttpClient(self.settings.get("graph_base") or GRAPH_BASE,
                          {"Authorization": f"Bearer {token}"}, timeout=timeout)

    # ---- webhooks --------------------------------------------------------------------
    def verify(self, headers: Mapping[str, str], raw_body: bytes) -> bool:
        signature = {k.lower(): v for k, v in headers.items()}.get("x-hub-signature-256")
        return meta_signature_valid(self.settings.get("app_secret"), raw_body, signature)

    def handshake(self, query: Mapping[str, str]) -> str | None:
        return meta_handshake(query, self.settings.get("verify_token"))

    def split_webhook(self, body: dict[str, Any]) -> list[RawPayload]:
        """One payload per event, in the original envelope with one entry and one item. An
        entry that cannot be read is kept whole (it fails in ``parse``, where it is parked)."""
        payloads = []
        for entry in self._entries(body):
            events = self._events(entry)
            if events is None:
                payloads.append(RawPayload({"object": body.get("object"), "entry": [entry]}))
                continue
            head = {k: entry[k] for k in ("id", "time") if k in entry}
            for key, item in events:
                envelope = {"object": body.get("object"), "entry": [{**head, key: [item]}]}
                payloads.append(RawPayload(envelope, self._dedup_key(key, item)))
        return payloads

    def _entries(self, body: Any) -> list[Any]:
        entries = body.get("entry") if isinstance(body, dict) else None
        if not isinstance(entries, list):
            raise PayloadError(f"unreadable {self.label} webhook: expected an object with an 'entry' list")
        if body.get("object") not in (None, self.webhook_object):
            raise PayloadError(f"unreadable {self.label} webhook: its object is {body.get('object')!r}")
        return entries

    @staticmethod
    def _events(entry: Any) -> list[tuple[str, Any]] | None:
        if not isinstance(entry, dict) or any(not isinstance(entry.get(k, []), list) for k in EVENT_LISTS):
            return None
        return [(key, item) for key in EVENT_LISTS for item in entry.get(key, [])]

    def _dedup_key(self, key: str, item: Any) -> str | None:
        try:
            return self.change_key(item) if key == "changes" else messaging_key(item)
        except (AttributeError, TypeError):  # a malformed item: no key; parse will park it
            return None

    def change_key(self, change: dict[str, Any]) -> str | None:
        raise NotImplementedError

    # ---- reconciliation --------------------------------------------------------------
    def poll(self, cursor: str | None) -> PollResult:
        """What arrived since ``cursor`` through the read API (``connectors.meta_read``)."""
        if not self.account_id:
            raise PermanentError(f"The {self.label} channel has no account id: set account_id.")
        return GraphReader(self, cursor).poll()

    def comment_items(self, comments: list[Any]) -> list[Any]:
        """The comments of one read page, replies included."""
        return comments

    def read_comment(self, item: dict[str, Any], post_id: str) -> InboundMessage:
        """One comment of the read API, with the webhook path's ids."""
        raise NotImplementedError

    # ---- parsing ---------------------------------------------------------------------
    def parse(self, body: dict[str, Any]) -> list[Event]:
        """A webhook body (or one event of it) or a stored read-API page."""
        events: list[Event] = []
        try:
            if is_read_body(body):
                return list(parse_read_body(self, body))  # a reconciliation page
            for entry in self._entries(body):
                pairs = self._events(entry)
                if pairs is None:
                    raise PayloadError(f"unreadable {self.label} webhook entry: {str(entry)[:120]}")
                for key, item in pairs:
                    events += self.parse_change(item, entry) if key == "changes" else self.parse_messaging(item)
        except PayloadError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
            kind = "read-API page" if is_read_body(body) else "webhook event"
            raise PayloadError(f"unreadable {self.label} {kind}: {exc!r}") from exc
        return events

    def parse_change(self, change: dict[str, Any], entry: dict[str, Any]) -> list[Event]:
        raise NotImplementedError

    def parse_messaging(self, item: dict[str, Any]) -> list[Event]:
        """One Messenger-shaped event (DM, echo, edit, unsend, postback, receipt)."""
        sender, recipient = str(item["sender"]["id"]), _str((item.get("recipient") or {}).get("id"))
        at = from_epoch(item["timestamp"])
        if "message" in item:
            return [self._message(item["message"], sender, recipient, at)]
        if "message_edit" in item:
            edit = item["message_edit"]
            return [self.direct_message(str(edit["mid"]), sender, recipient, at, text=edit.get("text") or "",
                                        action=UPDATE)]
        if "postback" in item:  # a button tap: its label is what the customer "said"
            postback = item["postback"]
            mid = _str(postback.get("mid")) or f"postback:{sender}:{item['timestamp']}"
            return [self.direct_message(mid, sender, recipient, at, text=postback.get("title") or "")]
        for kind, status in (("delivery", "delivered"), ("read", "read")):
            if kind in item:
                return self._receipts(item[kind], status, sender, at)
        return []  # reactions, opt-ins, referrals, handover: not messages

    def _message(self, message: dict[str, Any], sender: str, recipient: str | None, at: datetime) -> InboundMessage:
        mid = str(message["mid"])
        if message.get("is_deleted"):  # Instagram unsend
            return self.direct_message(mid, sender, recipient, at, text="", action=DELETE)
        attachments = [_attachment(a) for a in message.get("attachments") or []]
        if message.get("is_unsupported"):  # content the API cannot show: the agent opens the app
            attachments.append(Attachment(type="other", name="unsupported"))
        reply_to = message.get("reply_to") or {}
        story = reply_to.get("story")
        if story:  # a reply to the account's story: the story is the context, not a stored message
            attachments.append(Attachment(type="story", url=story.get("url"), external_id=_str(story.get("id"))))
        text = message.get("text") or ""
        if not isinstance(text, str):
            raise PayloadError(f"message {mid} has a text that is not a string")
        return self.direct_message(mid, sender, recipient, at, text=text, parent_id=_str(reply_to.get("mid")),
                                   attachments=tuple(attachments), echo=bool(message.get("is_echo")))

    def direct_message(self, mid: str, sender: str, recipient: str | None, at: datetime, text: str,
                       action: str = CREATE, parent_id: str | None = None,
                       attachments: tuple[Attachment, ...] = (), echo: bool = False,
                       author_name: str | None = None, author_handle: str | None = None) -> InboundMessage:
        """A private message. ``conversation_key`` is always the customer's id, so that the
        echo of the account's reply (author = account) finds the customer's conversation."""
        outbound = echo or sender == self.account_id
        return InboundMessage(
            platform=self.platform, external_id=mid, author_id=sender, text=text, is_public=False,
            created_at=at, author_name=author_name, author_handle=author_handle, parent_id=parent_id,
            attachments=attachments,
            direction=OUTBOUND if outbound else INBOUND, action=action,
            conversation_key=(recipient if outbound else sender),
        )

    def _receipts(self, receipt: dict[str, Any], status: str, sender: str, at: datetime) -> list[Event]:
        """Messenger names the messages (``mids``) or only a watermark; Instagram names one ``mid``."""
        mids = receipt.get("mids") or ([receipt["mid"]] if receipt.get("mid") else [])
        if mids:
            return [StatusUpdate(self.platform, status, at, external_id=str(m), recipient_id=sender) for m in mids]
        watermark = from_epoch(receipt["watermark"])
        return [StatusUpdate(self.platform, status, at, recipient_id=sender, watermark=watermark)]

    # ---- out -------------------------------------------------------------------------
    def send(self, message: OutboundMessage) -> SendResult:
        if message.is_public:
            if not message.in_reply_to:
                raise PermanentError(f"A public {self.label} reply needs the comment it answers.")
            path = self.reply_path.format(comment_id=message.in_reply_to)
            data = self.graph("POST", path, json={"message": message.text})
            return self._sent(data, "id")
        if is_comment_id(message.in_reply_to):
            return self._private_reply(message)
        path = self.messages_path.format(account_id=self.account_id)
        data = self.graph("POST", path, json=self.private_body(message))
        return self._sent(data, "message_id")

    def _private_reply(self, message: OutboundMessage) -> SendResult:
        """A private reply to a comment. Outside the 7 days Meta may answer with the
        24-hour window's error, which would misdirect the agent: that is said plainly."""
        if not self.account_id:
            raise PermanentError(f"The {self.label} channel has no account id: set account_id.")
        path = self.private_reply_path.format(account_id=self.account_id)
        try:
            data = self.graph("POST", path, json=self.private_body(message))
        except WindowClosed as exc:
            raise PermanentError(PRIVATE_REPLY_REFUSALS[10901].format(label=self.label), exc.code) from exc
        return self._sent(data, "message_id")

    def private_body(self, message: OutboundMessage) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if is_comment_id(message.in_reply_to):
            body["recipient"] = {"comment_id": message.in_reply_to}  # a private reply to a comment
        elif message.recipient_id:
            body["recipient"] = {"id": message.recipient_id}
            if self.messaging_type:
                body["messaging_type"] = self.messaging_type
        else:
            raise PermanentError(f"This {self.label} message has no recipient.")
        if message.template == HUMAN_AGENT_TAG:
            body.update(messaging_type="MESSAGE_TAG", tag=HUMAN_AGENT_TAG)
        body["message"] = {"text": message.text}
        return body

    def _sent(self, data: dict[str, Any], field: str) -> SendResult:
        if not data.get(field):  # accepted but unnamed: resending could post it twice
            raise PermanentError(f"{self.label} accepted the reply but returned no id.")
        return SendResult(external_id=str(data[field]), sent_at=_now())

    def health_check(self) -> HealthResult:
        fields = f"id,{self.profile_field}"
        data = self.graph("GET", f"/{self.account_id or 'me'}", params={"fields": fields})
        return HealthResult(ok=True, detail=str(data.get(self.profile_field) or data.get("id") or ""))

    def graph(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """One Graph API call; any error envelope (whatever the status) raises."""
        response = self.http.request(method, path, **kwargs)
        body = self.http.json(response)
        if response.status_code >= 400 or not isinstance(body, dict) or "error" in body:
            raise graph_error(self.label, response.status_code, body, response.headers)
        return body


def messaging_key(item: dict[str, Any]) -> str | None:
    """The dedup key of one ``messaging[]`` event: distinct for an edit, an unsend and a
    receipt of the same message; None when the event names nothing stable."""
    sender = (item.get("sender") or {}).get("id")
    message = item.get("message")
    if isinstance(message, dict) and message.get("mid"):
        return f"{'delete' if message.get('is_deleted') else 'mid'}:{message['mid']}"
    edit = item.get("message_edit")
    if isinstance(edit, dict) and edit.get("mid"):
        return f"edit:{edit['mid']}:{edit.get('num_edit')}"
    postback = item.get("postback")
    if isinstance(postback, dict):
        return f"postback:{postback.get('mid') or str(sender) + ':' + str(item.get('timestamp'))}"
    reaction = item.get("reaction")
    if isinstance(reaction, dict):  # one person may react, unreact and react again
        return f"reaction:{reaction.get('mid')}:{sender}:{item.get('timestamp')}"
    for kind in ("read", "delivery"):
        receipt = item.get(kind)
        if isinstance(receipt, dict) and (receipt.get("mid") or receipt.get("watermark")):
            return f"{kind}:{receipt.get('mid') or receipt.get('watermark')}:{sender}"
    return None
