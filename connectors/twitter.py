"""X (Twitter) API v2: public mentions and DMs by polling, replies as posts or DMs.

Polling stores one payload per API page, exactly as X returned it, and ``parse`` reads such
a page (a mentions page or a ``dm_events`` page) as well as the Account Activity API (AAA)
webhook bodies, which use the older v1.1 shapes. The cursor is a JSON string
``{"since_id": ..., "dm_last_id": ...}``. Ids stay strings end to end: X snowflakes exceed
2^53 and must never pass through a float.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any, ClassVar

import requests

from connectors.base import Connector
from connectors.errors import AuthError, PayloadError, PermanentError, RateLimited, TransientError
from connectors.http import DEFAULT_TIMEOUT, HttpClient
from connectors.ratelimit import retry_after_seconds
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

TWEET_PARAMS = {
    "tweet.fields": "created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets,attachments,"
                    "entities,lang,note_tweet,edit_history_tweet_ids",
    "expansions": "author_id,referenced_tweets.id,in_reply_to_user_id,attachments.media_keys",
    "user.fields": "username,name,verified",
    "media.fields": "url,preview_image_url,type",
}
DM_PARAMS = {
    "dm_event.fields": "id,text,event_type,created_at,dm_conversation_id,sender_id,participant_ids,"
                       "referenced_tweets,attachments",
    "event_types": "MessageCreate",  # joins/leaves are not messages; parse skips them anyway
    "expansions": "sender_id,participant_ids,attachments.media_keys,referenced_tweets.id",
    "user.fields": "username,name",
    "media.fields": "url,preview_image_url,type",
}
MAX_PAGES = 100  # a guard against a paging loop; X serves only ~800 mentions anyway
MEDIA_TYPES = {"photo": "image", "video": "video", "animated_gif": "video"}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
EPOCH = datetime(1970, 1, 1)
AUTH_HINTS = ("scope", "permission", "oauth", "authenticat", "client-forbidden")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _iso_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value)  # "2024-06-11T07:19:03.000Z"
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _v1_time(value: str) -> datetime:
    """v1.1 "Tue Jun 11 10:05:09 +0000 2024", read without strptime's locale-dependent %b."""
    _, month, day, clock, offset, year = value.split()
    hour, minute, second = (int(part) for part in clock.split(":"))
    moment = datetime(int(year), MONTHS.index(month) + 1, int(day), hour, minute, second)
    sign = -1 if offset.startswith("-") else 1
    return moment - sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5]))


def _ms_time(value: str | int) -> datetime:
    return EPOCH + timedelta(milliseconds=int(value))


def _newer(a: str | None, b: str | None) -> str | None:
    """The newer of two snowflake ids (digit strings, compared as ints, kept as strings)."""
    if not a or not b:
        return a or b
    return a if int(a) >= int(b) else b


def _snowflake(value: Any) -> str | None:
    """An id fit for a cursor: a digit string, else None."""
    return str(value) if value is not None and str(value).isdigit() else None


def _direction(author_id: str, account_id: str | None) -> str:
    return OUTBOUND if author_id == account_id else INBOUND


def _retweet(item: Any) -> bool:
    return isinstance(item, dict) and any(r.get("type") == "retweeted" for r in item.get("referenced_tweets") or [])


def _v1_media(media: dict[str, Any]) -> Attachment:
    return Attachment(type=MEDIA_TYPES.get(media.get("type"), "other"), url=media.get("media_url_https"),
                      external_id=str(media.get("id_str")))


class TwitterConnector(Connector):
    platform: ClassVar[str] = "twitter"
    label: ClassVar[str] = "X"
    polled: ClassVar[bool] = True
    max_text_length: ClassVar[int] = 10000  # DMs
    max_public_text_length: ClassVar[int | None] = 280  # posts, counted X's way (URLs 23, emoji 2)
    text_counting: ClassVar[str] = "x_weighted"
    setting_keys: ClassVar[tuple[str, ...]] = ("account_id", "bearer_token", "api_base", "timeout", "max_results")
    secret_keys: ClassVar[tuple[str, ...]] = ("bearer_token",)

    @cached_property
    def http(self) -> HttpClient:
        # Built on first use: parsing a stored payload needs no credentials.
        timeout = self.settings.get("timeout")
        return HttpClient(
            self.settings.get("api_base") or "https://api.x.com",
            {"Authorization": f"Bearer {self.settings.get('bearer_token', '')}"},
            timeout=float(timeout) if timeout else DEFAULT_TIMEOUT,
        )

    # ---- HTTP ------------------------------------------------------------------------
    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.http.request(method, path, **kwargs)
        if response.status_code >= 300:
            raise self._error(response)
        body = self.http.json(response)
        if not isinstance(body, dict):
            raise TransientError(f"X answered {method} {path} with JSON that is not an object", "malformed_json")
        if body.get("errors") and "data" not in body and "meta" not in body:
            raise PermanentError(f"X refused the request: {self._detail(body)}", "errors")
        return body

    @staticmethod
    def _detail(body: Any) -> str:
        if not isinstance(body, dict):
            return "no details given"
        errors = body.get("errors") if isinstance(body.get("errors"), list) else []
        messages = [e.get("message") or e.get("detail") for e in errors if isinstance(e, dict)]
        return "; ".join(m for m in messages if m) or body.get("detail") or body.get("title") or "no details given"

    def _error(self, response: requests.Response) -> Exception:
        """Every X error status and body, mapped to the connector errors (the one place)."""
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None  # an HTML outage page: classified by status alone
        detail = self._detail(body)
        retry_after = retry_after_seconds(response.headers)
        text = json.dumps(body).lower()
        if status == 429:
            if "usage-capped" in text or "usagecapexceeded" in text:
                return RateLimited("The X monthly usage cap for this app is reached: nothing can be fetched or "
                                   "sent until the cap resets or the plan is upgraded.", "usage_cap", retry_after)
            return RateLimited("X rate limit reached for this endpoint: retrying when the 15-minute window resets.",
                               "rate_limited", retry_after)
        if status == 401:
            return AuthError("The X access token expired or was revoked: reconnect the channel.", "401")
        if status == 403:
            if "Reply to this conversation is not allowed" in detail:
                return PermanentError("X does not allow this public reply: the author has not mentioned or engaged "
                                      "the account in this conversation. Answer by DM instead.", "reply_not_allowed")
            if any(hint in text for hint in AUTH_HINTS):
                return AuthError(f"The X app or token lacks a permission ({detail}): reconnect the channel with "
                                 "the required scopes.", "403")
            return PermanentError(f"X refused the request: {detail}", "403")
        if status >= 500:
            return TransientError(f"X is having trouble (HTTP {status}): retrying later.", str(status), retry_after)
        return PermanentError(f"X rejected the request (HTTP {status}): {detail}", str(status))

    # ---- in --------------------------------------------------------------------------
    def poll(self, cursor: str | None) -> PollResult:
        """New mentions (since ``since_id``) and DMs (down to ``dm_last_id``), one payload per
        page that holds data, oldest page first so older messages are stored first."""
        if not self.account_id:
            raise PermanentError("The X channel has no account id: set account_id to the account's user id.")
        state = self._read_cursor(cursor)
        mention_pages, since_id = self._poll_mentions(state.get("since_id"))
        dm_pages, dm_last_id = self._poll_dms(state.get("dm_last_id"))
        payloads = [RawPayload(body=page) for page in reversed(mention_pages)]
        payloads += [RawPayload(body=page) for page in reversed(dm_pages)]
        return PollResult(payloads=payloads, cursor=json.dumps({"since_id": since_id, "dm_last_id": dm_last_id}))

    @staticmethod
    def _read_cursor(cursor: str | None) -> dict[str, str | None]:
        try:
            state = json.loads(cursor) if cursor else {}
        except ValueError:
            state = {}  # unreadable: start over; the (channel, external_id) key drops repeats
        if not isinstance(state, dict):
            state = {}
        return {key: _snowflake(state.get(key)) for key in ("since_id", "dm_last_id")}

    def _pages(self, path: str, params: dict[str, Any]):
        """Yield the pages of a listing, following ``meta.next_token`` until it is absent."""
        token = None
        for _ in range(MAX_PAGES):
            page = self._call("GET", path, params={**params, "pagination_token": token} if token else params)
            yield page
            meta = page.get("meta") if isinstance(page.get("meta"), dict) else {}
            next_token = meta.get("next_token")
            if not next_token or next_token == token:
                return
            token = next_token

    def _poll_mentions(self, since_id: str | None) -> tuple[list[dict[str, Any]], str | None]:
        params: dict[str, Any] = {**TWEET_PARAMS, "max_results": int(self.settings.get("max_results") or 100)}
        if since_id:
            params["since_id"] = since_id
        pages = list(self._pages(f"/2/users/{self.account_id}/mentions", params))
        meta = pages[0].get("meta") or {}
        # X's rule: the next since_id is the FIRST page's newest_id (results come newest first).
        newest = meta.get("newest_id") or next((t.get("id") for t in pages[0].get("data") or []), None)
        return [p for p in pages if p.get("data")], _newer(_snowflake(newest), since_id)

    def _poll_dms(self, last_id: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """dm_events has no since_id: page (newest first) until an already-seen event."""
        params = {**DM_PARAMS, "max_results": min(int(self.settings.get("max_results") or 100), 100)}
        pages, newest = [], last_id
        for page in self._pages("/2/dm_events", params):
            events = page.get("data") or []
            ids = [i for event in events if isinstance(event, dict) and (i := _snowflake(event.get("id")))]
            if events:
                pages.append(page)
            for event_id in ids:
                newest = _newer(event_id, newest)
            if last_id and any(int(event_id) <= int(last_id) for event_id in ids):
                break
        return pages, newest

    def parse(self, body: dict[str, Any]) -> list[Event]:
        """A mentions page, a dm_events page or an AAA webhook body → messages, oldest first.
        Partial ``errors[]`` next to ``data`` (e.g. a deleted referenced post) are ignored."""
        if not isinstance(body, dict):
            raise PayloadError("not an X payload: the body is not a JSON object")
        try:
            if "for_user_id" in body:
                messages = self._parse_aaa(body)
            elif "data" in body:
                items = body["data"] if isinstance(body["data"], list) else [body["data"]]
                includes = body.get("includes") or {}
                users = {str(u["id"]): u for u in includes.get("users", [])}
                media = {str(m["media_key"]): m for m in includes.get("media", [])}
                # A retweet of a post that mentions the account is not a message to it.
                messages = [m for item in items if not _retweet(item) and (m := self._parse_v2(item, users, media))]
            elif "meta" in body:
                return []  # an empty page: {"meta": {"result_count": 0}}
            else:
                raise PayloadError("not an X payload: no data, meta or Account Activity events")
        except PayloadError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise PayloadError(f"unreadable X payload: {exc!r}") from exc
        return sorted(messages, key=lambda m: m.created_at)

    def _parse_v2(self, item: dict[str, Any], users: dict, media: dict) -> InboundMessage | None:
        if "event_type" in item:
            if item["event_type"] != "MessageCreate":
                return None  # ParticipantsJoin / ParticipantsLeave
            author_id, public = str(item["sender_id"]), False
            external_id = str(item["id"])
            text = item.get("text") or ""
        else:
            author_id, public = str(item["author_id"]), True
            history = item.get("edit_history_tweet_ids") or [item["id"]]
            external_id = str(history[0])  # an edit gets a new id: key on the first version
            text = (item.get("note_tweet") or {}).get("text") or item.get("text") or ""
        user = users.get(author_id, {})
        replied_to = [r["id"] for r in item.get("referenced_tweets") or [] if r.get("type") == "replied_to"]
        keys = (item.get("attachments") or {}).get("media_keys") or []
        return InboundMessage(
            platform=self.platform, external_id=external_id, text=text, is_public=public,
            author_id=author_id, author_handle=user.get("username"), author_name=user.get("name"),
            created_at=_iso_time(item["created_at"]),
            thread_id=str(item.get("conversation_id") or external_id) if public else None,
            parent_id=str(replied_to[0]) if public and replied_to else None,
            attachments=tuple(self._attachment(media.get(str(key)), str(key)) for key in keys),
            direction=_direction(author_id, self.account_id),
            action=UPDATE if public and str(item["id"]) != external_id else CREATE,
            conversation_key=None if public else str(item["dm_conversation_id"]),
        )

    @staticmethod
    def _attachment(media: dict[str, Any] | None, key: str) -> Attachment:
        if media is None:  # the key's media object is missing (a partial error)
            return Attachment(type="other", external_id=key)
        return Attachment(type=MEDIA_TYPES.get(media.get("type"), "other"),
                          url=media.get("url") or media.get("preview_image_url"), external_id=key)

    # ---- Account Activity API (v1.1 shapes) -----------------------------------------
    def _parse_aaa(self, body: dict[str, Any]) -> list[InboundMessage]:
        account = self.account_id or str(body["for_user_id"])
        users = body.get("users") or {}
        # Retweets are not addressed to the account: skipped, as in the polled path.
        messages = [self._aaa_tweet(t, account) for t in body.get("tweet_create_events") or []
                    if "retweeted_status" not in t]
        messages += [self._aaa_dm(e, account, users) for e in body.get("direct_message_events") or []
                     if e.get("type") == "message_create"]
        for event in body.get("tweet_delete_events") or []:
            status = event["status"]
            messages.append(InboundMessage(
                platform=self.platform, external_id=str(status["id"]), author_id=str(status["user_id"]), text="",
                is_public=True, created_at=_ms_time(event["timestamp_ms"]), action=DELETE,
                direction=_direction(str(status["user_id"]), account)))
        return messages

    def _aaa_tweet(self, tweet: dict[str, Any], account: str) -> InboundMessage:
        user = tweet["user"]
        tweet_id = str(tweet["id_str"])
        parent = tweet.get("in_reply_to_status_id_str")
        text = (tweet.get("extended_tweet") or {}).get("full_text") or tweet.get("text") or ""
        entities = tweet.get("extended_entities") or (tweet.get("extended_tweet") or {}).get("extended_entities") or {}
        return InboundMessage(
            platform=self.platform, external_id=tweet_id, text=text, is_public=True,
            author_id=str(user["id_str"]), author_handle=user.get("screen_name"), author_name=user.get("name"),
            created_at=_v1_time(tweet["created_at"]),
            # v1.1 has no conversation_id: a reply joins its parent's thread (best effort).
            thread_id=str(parent) if parent else tweet_id,
            parent_id=str(parent) if parent else None,
            attachments=tuple(_v1_media(m) for m in entities.get("media") or []),
            direction=_direction(str(user["id_str"]), account),
        )

    def _aaa_dm(self, event: dict[str, Any], account: str, users: dict[str, Any]) -> InboundMessage:
        create = event["message_create"]
        sender, recipient = str(create["sender_id"]), str(create["target"]["recipient_id"])
        data = create.get("message_data") or {}
        media = (data.get("attachment") or {}).get("media")
        user = users.get(sender) or {}
        return InboundMessage(
            platform=self.platform, external_id=str(event["id"]), text=data.get("text") or "", is_public=False,
            author_id=sender, author_handle=user.get("screen_name"), author_name=user.get("name"),
            created_at=_ms_time(event["created_timestamp"]),
            attachments=(_v1_media(media),) if media else (),
            direction=_direction(sender, account),
            # The v2 dm_conversation_id of a 1:1 chat, so pushed and polled DMs agree.
            conversation_key="-".join(sorted((sender, recipient), key=int)),
        )

    # ---- out -------------------------------------------------------------------------
    def send(self, message: OutboundMessage) -> SendResult:
        """A public reply is a post answering ``in_reply_to``; a private one is a DM to the
        recipient (or into a group conversation, whose id has no "-")."""
        if message.is_public:
            payload: dict[str, Any] = {"text": message.text}
            if message.in_reply_to:
                payload["reply"] = {"in_reply_to_tweet_id": message.in_reply_to}
            data, key = self._call("POST", "/2/tweets", json=payload).get("data") or {}, "id"
        else:
            group = message.conversation_key and "-" not in message.conversation_key
            path = (f"/2/dm_conversations/{message.conversation_key}/messages" if group
                    else f"/2/dm_conversations/with/{message.recipient_id}/messages")
            data, key = self._call("POST", path, json={"text": message.text}).get("data") or {}, "dm_event_id"
        if not isinstance(data, dict) or not data.get(key):
            # It may well have been sent: retrying could post it twice.
            raise PermanentError("X accepted the message but returned no id: check the account before resending.")
        return SendResult(external_id=str(data[key]), sent_at=_now())

    def health_check(self) -> HealthResult:
        """``GET /2/users/me``; errors are raised (AuthError → the channel needs reconnecting)."""
        user = self._call("GET", "/2/users/me").get("data") or {}
        if self.account_id and str(user.get("id")) != self.account_id:
            raise AuthError(f"The X token belongs to @{user.get('username')}, not to this channel's account "
                            f"({self.account_id}): reconnect the channel with the right account.", "wrong_account")
        return HealthResult(ok=True, detail=f"@{user.get('username')}")
