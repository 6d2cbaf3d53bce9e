"""Telegram Bot API: a bot's private chats, groups, channels and business chats.

Each channel picks how updates arrive with the setting ``mode``: "polling" (default; the
poll job calls ``getUpdates`` with ``offset`` = last update_id + 1) or "webhook" (Telegram
POSTs one Update per request with the ``X-Telegram-Bot-Api-Secret-Token`` header). Telegram
refuses getUpdates while a webhook is set, so a webhook channel's poll does nothing.

Ids: ``message_id`` is unique only per chat, so a message is ``"<chat id>:<message id>"``
and the chat id is its ``conversation_key`` (where a reply goes). The bot token is part of
every URL: it never appears in an error reason, and file URLs (which embed it) are not stored.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from connectors.base import Connector
from connectors.errors import AuthError, ConnectorError, PayloadError, PermanentError, RateLimited, TransientError
from connectors.http import HttpClient
from connectors.ratelimit import retry_after_seconds
from connectors.signatures import secret_token_valid
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
)

ALLOWED_UPDATES = ["message", "edited_message", "channel_post", "edited_channel_post", "business_message",
                   "edited_business_message", "deleted_business_messages", "my_chat_member"]
# Update key -> the action of the message it carries.
MESSAGE_KINDS = {"message": CREATE, "channel_post": CREATE, "business_message": CREATE,
                 "edited_message": UPDATE, "edited_channel_post": UPDATE, "edited_business_message": UPDATE}
PUBLIC_CHATS = ("group", "supergroup", "channel")
# Content a customer sends that we cannot show: kept as an "other" attachment named by kind,
# so the agent sees that something arrived. Messages with none of the known content
# (joins, pins, topic created...) are service messages and yield nothing.
OTHER_CONTENT = ("contact", "poll", "dice", "story", "game", "invoice", "paid_media")
SECRET_HEADER = "x-telegram-bot-api-secret-token"
CONNECT_TIMEOUT, READ_TIMEOUT = 5.0, 20.0
CHAT_ID = re.compile(r"-?\d+")


def _epoch(value: Any) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(f"a Telegram date must be epoch seconds, got {value!r}")
    return datetime.fromtimestamp(value, UTC).replace(tzinfo=None)


def _id(value: Any) -> str:
    """Telegram ids are JSON integers (up to 52 bits); keep them exact, as strings."""
    if isinstance(value, bool) or not isinstance(value, int | str) or not CHAT_ID.fullmatch(str(value)):
        raise PayloadError(f"a Telegram id must be an integer, got {value!r}")
    return str(value)


def _full_name(person: Mapping[str, Any]) -> str | None:
    name = " ".join(p for p in (person.get("first_name"), person.get("last_name")) if p).strip()
    return name or person.get("title") or None


def _attachments(message: Mapping[str, Any]) -> tuple[Attachment, ...]:
    found: list[Attachment] = []
    if message.get("photo"):  # several sizes, smallest first
        found.append(Attachment("image", external_id=message["photo"][-1]["file_id"]))
    files = {"video": "video", "video_note": "video", "animation": "video", "voice": "audio", "audio": "audio"}
    # An animation also comes as `document` (backward compatibility): list it once.
    if "animation" not in message:
        files["document"] = "file"
    for key, kind in files.items():
        item = message.get(key)
        if item:
            found.append(Attachment(kind, external_id=item["file_id"], name=item.get("file_name") or item.get("title"),
                                    mime_type=item.get("mime_type")))
    if message.get("sticker"):
        found.append(Attachment("sticker", external_id=message["sticker"]["file_id"],
                                name=message["sticker"].get("emoji")))
    if message.get("location"):
        spot = message["location"]
        title = (message.get("venue") or {}).get("title")
        found.append(Attachment("location", url=f"geo:{spot['latitude']},{spot['longitude']}", name=title))
    found.extend(Attachment("other", name=key) for key in OTHER_CONTENT if message.get(key))
    return tuple(found)


class TelegramConnector(Connector):
    platform: ClassVar[str] = "telegram"
    label: ClassVar[str] = "Telegram"
    polled: ClassVar[bool] = True
    pushed: ClassVar[bool] = True
    max_text_length: ClassVar[int] = 4096
    setting_keys: ClassVar[tuple[str, ...]] = ("account_id", "bot_token", "secret_token", "api_base", "mode",
                                               "timeout", "long_poll_seconds")
    secret_keys: ClassVar[tuple[str, ...]] = ("bot_token", "secret_token")

    def __init__(self, settings: Mapping[str, Any] | None = None):
        super().__init__(settings)
        self.api_base = str(self.settings.get("api_base") or "https://api.telegram.org").rstrip("/")
        self.mode = str(self.settings.get("mode") or "polling")
        self.long_poll_seconds = float(self.settings.get("long_poll_seconds") or 0)
        timeout = self.settings.get("timeout")
        self.connect_timeout = float(timeout) if timeout else CONNECT_TIMEOUT
        self.read_timeout = float(timeout) if timeout else READ_TIMEOUT
        self._client: HttpClient | None = None

    # ---- in --------------------------------------------------------------------------
    def poll(self, cursor: str | None) -> PollResult:
        """One getUpdates call from ``cursor`` (the next offset). The offset confirms and
        deletes older updates on Telegram's side, so the cursor only moves forward."""
        if self.mode == "webhook":
            return PollResult(cursor=cursor)  # updates arrive by webhook; getUpdates would 409
        if self.mode != "polling":
            raise PermanentError(f"The channel's mode must be \"polling\" or \"webhook\", not {self.mode!r}.")
        query: dict[str, Any] = {"limit": 100, "timeout": int(self.long_poll_seconds),
                                 "allowed_updates": ALLOWED_UPDATES}
        if cursor:
            if not CHAT_ID.fullmatch(cursor):
                raise PermanentError(f"The channel's saved poll position {cursor!r} is not a Telegram update id: "
                                     "clear it to poll from the oldest pending update.", "bad_cursor")
            query["offset"] = int(cursor)
        # The server holds a long poll open for `timeout` seconds: wait longer than that.
        result = self._call("getUpdates", query, read_timeout=self.read_timeout + self.long_poll_seconds)
        if not isinstance(result, list) or not all(isinstance(u, dict) for u in result):
            raise PayloadError("Telegram answered getUpdates without a list of updates.")
        ids = [int(_id(update.get("update_id"))) for update in result]
        payloads = [RawPayload(body=update, dedup_key=f"update:{n}") for update, n in zip(result, ids, strict=True)]
        return PollResult(payloads=payloads, cursor=str(max(ids) + 1) if ids else cursor)

    def verify(self, headers: Mapping[str, str], raw_body: bytes) -> bool:
        given = next((value for name, value in headers.items() if name.lower() == SECRET_HEADER), None)
        return secret_token_valid(self.settings.get("secret_token"), given)

    def split_webhook(self, body: dict[str, Any]) -> list[RawPayload]:
        """A webhook POST carries exactly one Update."""
        if not isinstance(body, dict) or "update_id" not in body:
            raise PayloadError("A Telegram webhook body must be one Update with an update_id.")
        return [RawPayload(body=body, dedup_key=f"update:{_id(body['update_id'])}")]

    def parse(self, body: dict[str, Any]) -> list[Event]:
        """One Update, or a whole getUpdates answer ``{"ok": true, "result": [...]}``."""
        if isinstance(body, dict) and "update_id" in body:
            updates = [body]
        elif isinstance(body, dict) and body.get("ok") is True and isinstance(body.get("result"), list):
            updates = body["result"]
        else:
            raise PayloadError("not a Telegram Update (no update_id) nor a getUpdates answer (ok/result)")
        try:
            return [event for update in updates for event in self._parse_update(update)]
        except PayloadError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise PayloadError(f"unreadable Telegram update: {exc!r}") from exc

    def _parse_update(self, update: Mapping[str, Any]) -> list[Event]:
        _id(update["update_id"])
        for key, action in MESSAGE_KINDS.items():
            if key in update:
                message = self._message(update[key], action, business=key.endswith("business_message"))
                return [message] if message else []
        if "deleted_business_messages" in update:
            return self._deleted(update["deleted_business_messages"])
        return []  # my_chat_member (blocked/kicked), reactions, callbacks...: not messages

    def _message(self, message: Mapping[str, Any], action: str, business: bool) -> InboundMessage | None:
        chat = message["chat"]
        chat_id = _id(chat["id"])
        text = message.get("text") or message.get("caption") or ""
        if not isinstance(text, str):
            raise PayloadError(f"message text must be a string, got {type(text).__name__}")
        attachments = _attachments(message)
        if not text and not attachments:
            return None  # a service message (member joined, pinned, topic created...)
        # Posts on behalf of a chat (channel posts, anonymous admins) name the chat in
        # sender_chat; `from` then holds a placeholder bot, if anything.
        author = message.get("sender_chat") or message.get("from") or chat
        author_id = _id(author["id"])
        is_public = chat.get("type") in PUBLIC_CHATS
        reply_to = message.get("reply_to_message")
        return InboundMessage(
            platform=self.platform,
            external_id=f"{chat_id}:{_id(message['message_id'])}",
            author_id=author_id,
            author_handle=author.get("username"),
            author_name=_full_name(author),
            text=text,
            is_public=is_public,
            created_at=_epoch(message["date"]),
            thread_id=self._thread(chat_id, message) if is_public else None,
            parent_id=f"{chat_id}:{_id(reply_to['message_id'])}" if reply_to else None,
            attachments=attachments,
            direction=OUTBOUND if self._is_own(author_id, chat, business) else INBOUND,
            action=action,
            conversation_key=chat_id,
        )

    @staticmethod
    def _thread(chat_id: str, message: Mapping[str, Any]) -> str:
        """The root message of a public thread: the forum topic / reply thread, else the
        replied-to message, else the message itself (a new question starts a thread)."""
        reply_to = message.get("reply_to_message") or {}
        root = message.get("message_thread_id") or reply_to.get("message_thread_id") or reply_to.get("message_id")
        return f"{chat_id}:{_id(root or message['message_id'])}"

    def _is_own(self, author_id: str, chat: Mapping[str, Any], business: bool) -> bool:
        # Telegram never delivers the bot's own messages, except in business chats: there the
        # chat is the customer, so a message from anyone else is the business owner's (or
        # the bot's on their behalf), i.e. ours.
        if author_id == self.account_id:
            return True
        return business and chat.get("type") == "private" and author_id != _id(chat["id"])

    def _deleted(self, deleted: Mapping[str, Any]) -> list[Event]:
        chat = deleted["chat"]
        chat_id = _id(chat["id"])
        # The notice has no date: the deletion is stamped with the time we read it.
        now = datetime.now(UTC).replace(tzinfo=None)
        return [
            InboundMessage(platform=self.platform, external_id=f"{chat_id}:{_id(mid)}", author_id=chat_id, text="",
                           is_public=chat.get("type") in PUBLIC_CHATS, created_at=now, action=DELETE,
                           conversation_key=chat_id)
            for mid in deleted["message_ids"]
        ]

    # ---- out -------------------------------------------------------------------------
    def send(self, message: OutboundMessage) -> SendResult:
        """sendMessage to the chat of the conversation. A reply quotes the customer's message
        but is still sent if that message was deleted meanwhile."""
        reply_chat, _, reply_mid = (message.in_reply_to or "").rpartition(":")
        chat = message.conversation_key or reply_chat or message.recipient_id
        if not chat:
            raise PermanentError("The reply has no Telegram chat to go to.")
        body: dict[str, Any] = {"chat_id": int(chat) if CHAT_ID.fullmatch(chat) else chat, "text": message.text}
        if reply_mid.isdigit():
            body["reply_parameters"] = {"message_id": int(reply_mid), "allow_sending_without_reply": True}
        result = self._call("sendMessage", body)
        try:
            return SendResult(external_id=f"{_id(result['chat']['id'])}:{_id(result['message_id'])}",
                              sent_at=_epoch(result["date"]))
        except (KeyError, TypeError, PayloadError) as exc:
            # Sent, but we cannot tell its id: retrying would send it twice.
            raise PermanentError("Telegram accepted the message but its answer could not be read: check the chat "
                                 "before sending it again.", "unreadable_answer") from exc

    def health_check(self) -> HealthResult:
        me = self._call("getMe", {})
        return HealthResult(ok=True, detail="@" + str((me or {}).get("username") or "?"))

    def register_webhook(self, url: str) -> str:
        """setWebhook with the channel's secret token: from then on Telegram POSTs updates to
        ``url`` and refuses getUpdates (switch the channel's mode to "webhook")."""
        secret = self.settings.get("secret_token")
        if not secret:
            raise PermanentError("Set a secret token on the channel first: every delivery is checked against it.")
        self._call("setWebhook", {"url": url, "secret_token": secret, "allowed_updates": ALLOWED_UPDATES,
                                  "drop_pending_updates": False})
        return f"Telegram will deliver updates to {url}"

    # ---- HTTP ------------------------------------------------------------------------
    def _call(self, method: str, payload: dict[str, Any], read_timeout: float | None = None) -> Any:
        """POST a Bot API method; the ``result`` of an ok answer, or the mapped error."""
        token = self.settings.get("bot_token")
        if not token:
            raise AuthError("The channel has no bot token: create one in BotFather and add it to the channel.")
        if self._client is None:  # the token is in the base URL: HttpClient's reasons name only the method
            self._client = HttpClient(f"{self.api_base}/bot{token}")
        timeout = (self.connect_timeout, read_timeout or self.read_timeout)
        try:
            response = self._client.request("POST", method, json=payload, timeout=timeout)
        except TransientError as exc:
            # `from None`: the requests exception quotes the URL, and with it the token.
            raise TransientError(exc.reason, exc.code) from None
        try:
            body = response.json()
        except ValueError:
            raise TransientError(f"Telegram answered {method} with HTTP {response.status_code} and a body that is "
                                 "not JSON; it will be retried.", "malformed_json") from None
        if response.ok and isinstance(body, dict) and body.get("ok") is True:
            return body.get("result")
        raise telegram_error(response.status_code, body if isinstance(body, dict) else {}, response.headers)


def telegram_error(status: int, body: Mapping[str, Any], headers: Mapping[str, str]) -> ConnectorError:
    """The one mapping of a failed Bot API call (``{"ok": false, "error_code", "description",
    "parameters"}``) to the connector error the outbox and poller act on."""
    code = body.get("error_code") if isinstance(body.get("error_code"), int) else status
    description = str(body.get("description") or f"HTTP {status}")
    lowered = description.lower()
    params = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
    tag = str(code)
    if code == 429:
        wait = params.get("retry_after")
        wait = float(wait) if isinstance(wait, int | float) else retry_after_seconds(headers)
        return RateLimited(f"Telegram is limiting how often the bot may call it: {description}.", tag, retry_after=wait)
    if params.get("migrate_to_chat_id"):
        return PermanentError(f"This group was upgraded to a supergroup with the new chat id "
                              f"{params['migrate_to_chat_id']}: replies must go to that chat.", "migrated")
    if code == 401:
        return AuthError("The bot token was revoked or is invalid: create a new one in BotFather and update the "
                         "channel.", tag)
    if code == 404:  # what Telegram answers for a malformed token in the URL
        return AuthError("Telegram does not know this bot: check the bot token (and the API address) in the "
                         "channel settings.", tag)
    if code == 403 and "blocked by the user" in lowered:
        return PermanentError("The customer blocked the bot, so Telegram refuses messages to them until they "
                              "unblock it.", "blocked")
    if code == 403 and "can't initiate" in lowered:
        return PermanentError("The bot cannot write first: the customer must open the bot and press Start before "
                              "it can message them.", "cant_initiate")
    if code == 409 and "webhook is active" in lowered:
        return PermanentError("Telegram refuses polling because a webhook is set for this bot: set the channel's "
                              "mode to \"webhook\", or delete the webhook to keep polling.", "webhook_active")
    if code == 409:
        return PermanentError("Another program is polling this bot at the same time: stop the other poller (only "
                              f"one may run per bot token). Telegram said: {description}", "conflict")
    if code == 400 and "message is too long" in lowered:
        return PermanentError("The reply is longer than Telegram's 4096-character limit: shorten it or split it "
                              "into several messages.", "too_long")
    if code >= 500 or status >= 500:
        return TransientError(f"Telegram had a server error ({description}); it will be retried.", tag)
    return PermanentError(f"Telegram refused the request: {description}", tag)
