"""WhatsApp Business Cloud API: one phone number, pushed webhooks, replies through the Graph API.

Everything arrives as ``whatsapp_business_account`` webhooks (``field: "messages"``): customer
messages and the statuses (sent/delivered/read/failed) of what we sent. All messages are
private. Choices where the platform leaves room:

- A reaction is not a message ([]): it says nothing an agent must answer. ``system`` messages
  (the customer changed number) are skipped too.
- ``unsupported`` and any type this module does not know (contacts, order...) become a message
  with empty text and one ``other`` attachment naming what arrived, so the agent sees that the
  customer wrote (which also opens the 24-hour window).
- ``played`` (a voice note was listened to) is reported as ``read``; other statuses are skipped.
- Changes of other fields (template updates, account alerts) carry no messages and are ignored.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
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
from connectors.http import HttpClient
from connectors.ratelimit import retry_after_seconds
from connectors.signatures import meta_handshake, meta_signature_valid
from connectors.types import (
    DELETE,
    UPDATE,
    Attachment,
    Event,
    HealthResult,
    InboundMessage,
    OutboundMessage,
    RawPayload,
    SendResult,
    StatusUpdate,
)

GRAPH_BASE = "https://graph.facebook.com/v21.0"
OBJECT = "whatsapp_business_account"

WINDOW_REASON = ("The customer-service window closed: the customer has not written in the last 24 hours. "
                 "Send an approved template instead.")
UNDELIVERABLE_REASON = ("WhatsApp could not deliver the message to this number: it may not use WhatsApp, or the "
                        "customer has to update the app or accept the latest terms.")
# Curated sentences for the codes agents meet most; other codes use the platform's own words.
REASONS = {"131047": WINDOW_REASON, "131026": UNDELIVERABLE_REASON}

# Wire media type -> Attachment.type. Voice notes are ``audio`` with ``voice: true``.
MEDIA = {"image": "image", "video": "video", "audio": "audio", "voice": "audio", "document": "file",
         "sticker": "sticker"}
SKIPPED_TYPES = {"reaction", "system"}
STATUSES = {"sent": "sent", "delivered": "delivered", "read": "read", "played": "read", "failed": "failed"}

# Error classes by ``error.code`` (Meta's HTTP status varies, so it only decides when no code does).
RATE_CODES = {"4", "17", "32", "613", "80007", "130429", "131048", "131056"}
TOKEN_CODES = {"102", "190"}
PERMISSION_CODES = {"3", "10", "131005"} | {str(n) for n in range(200, 300)}
TRANSIENT_CODES = {"1", "2", "131000", "131016", "133004"}


def _id(value: Any) -> str:
    """A platform id as a string; ids are strings on WhatsApp, ints tolerated, nothing else."""
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise PayloadError(f"expected an id, got {value!r}")
    return str(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PayloadError(f"expected text, got {value!r}")
    return value


def _epoch(value: Any) -> datetime:
    """``timestamp`` is epoch seconds sent as a string."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PayloadError(f"expected an epoch timestamp, got {value!r}")
    return datetime.fromtimestamp(int(value), UTC).replace(tzinfo=None)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _message_values(body: Any) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(entry, value) for every ``messages`` change of a webhook body."""
    if not isinstance(body, dict) or body.get("object") != OBJECT or not isinstance(body.get("entry"), list):
        raise PayloadError(f"not a WhatsApp webhook: expected an object {OBJECT!r} with an entry list")
    for entry in body["entry"]:
        for change in entry["changes"]:
            if change.get("field") == "messages":
                yield entry, change["value"]


def _envelope(entry: dict[str, Any], value: dict[str, Any], items: dict[str, Any]) -> dict[str, Any]:
    """A webhook body holding one entry, one change and just ``items`` (parse reads it alone)."""
    inner = {"messaging_product": value.get("messaging_product"), "metadata": value.get("metadata")} | items
    return {"object": OBJECT, "entry": [{"id": entry.get("id"), "changes": [{"field": "messages", "value": inner}]}]}


def _describe(msg: dict[str, Any]) -> str:
    """What an unreadable message was, from its ``errors[]`` when WhatsApp says."""
    for error in msg.get("errors") or []:
        details = (error.get("error_data") or {}).get("details")
        return details or error.get("title") or error.get("message") or "unsupported"
    return str(msg.get("type") or "unknown")


def _content(msg: dict[str, Any]) -> tuple[str, tuple[Attachment, ...]]:
    """The text and attachments of a message (or of an edit's new ``message``)."""
    kind = msg["type"]
    if kind == "text":
        return _text(msg["text"]["body"]), ()
    if kind in MEDIA:
        media = msg[kind]
        attachment = Attachment(type=MEDIA[kind], external_id=_id(media["id"]) if media.get("id") else None,
                                mime_type=media.get("mime_type"), name=media.get("filename"))
        return _text(media.get("caption")), (attachment,)
    if kind == "interactive":
        reply = msg["interactive"]
        chosen = reply[reply["type"]]  # button_reply | list_reply | nfm_reply
        return _text(chosen.get("title") or chosen.get("body")), ()
    if kind == "button":  # a quick-reply button of a template
        return _text(msg["button"].get("text")), ()
    if kind == "location":
        loc = msg["location"]
        url = f"geo:{loc['latitude']},{loc['longitude']}" if "latitude" in loc and "longitude" in loc else None
        return "", (Attachment(type="location", url=url, name=loc.get("name") or loc.get("address")),)
    return "", (Attachment(type="other", name=_describe(msg)),)


def _failure(errors: list[dict[str, Any]]) -> tuple[str | None, str]:
    """(error code, sentence for the agent) of a failed status."""
    if not errors:
        return None, "WhatsApp reported the message as failed without saying why."
    error = errors[0]
    code = str(error["code"]) if error.get("code") is not None else None
    if code in REASONS:
        return code, REASONS[code]
    title = error.get("title") or error.get("message") or "The message could not be delivered"
    details = (error.get("error_data") or {}).get("details")
    if details:
        return code, f"{title}: {details}"
    return code, f"{title} (error {code})." if code else f"{title}."


def _error_for(status: int, error: dict[str, Any], headers: Mapping[str, str]) -> ConnectorError:
    """The one place that turns a Graph API error into a connector error."""
    code = str(error["code"]) if error.get("code") is not None else None
    details = (error.get("error_data") or {}).get("details")
    said = "; ".join(str(part) for part in (error.get("message"), details) if part) or f"HTTP {status}"
    detail = f"error {code}: {said}" if code else said
    if code in RATE_CODES or (code is None and status == 429):
        return RateLimited(f"WhatsApp is limiting how fast this number may send ({detail}). It will be retried "
                           "later.", code, retry_after_seconds(headers))
    if code in TOKEN_CODES or (code is None and status == 401):
        return AuthError(f"The WhatsApp access token has expired or was revoked ({detail}). An admin must enter a "
                         "new token in the channel settings.", code)
    if code in PERMISSION_CODES or (code is None and status == 403):
        return AuthError(f"The WhatsApp access token lacks a permission ({detail}). An admin must grant "
                         "whatsapp_business_messaging to the token, or enter a token that has it.", code)
    if code in REASONS:
        return (WindowClosed if code == "131047" else PermanentError)(REASONS[code], code)
    if code == "100":
        return PermanentError(f"WhatsApp rejected the request as invalid ({detail}). Change it before sending "
                              "again.", code)
    if status >= 500 or error.get("is_transient") or code in TRANSIENT_CODES:
        return TransientError(f"WhatsApp had a temporary problem ({detail}). It will be retried.", code)
    return PermanentError(f"WhatsApp refused the request ({detail}).", code)


class WhatsAppConnector(Connector):
    """Settings: ``account_id`` (phone-number id), ``access_token`` (Bearer), ``app_secret``
    (webhook signatures), ``verify_token`` (subscription handshake), ``graph_base``, optional
    ``timeout`` (seconds) and ``templates`` (the approved templates, [{"name", "language", "text"}])."""

    platform: ClassVar[str] = "whatsapp"
    label: ClassVar[str] = "WhatsApp"
    pushed: ClassVar[bool] = True
    polled: ClassVar[bool] = False
    max_text_length: ClassVar[int] = 4096
    reply_window: ClassVar[timedelta | None] = timedelta(hours=24)
    setting_keys: ClassVar[tuple[str, ...]] = (
        "account_id", "access_token", "app_secret", "verify_token", "graph_base", "templates")
    secret_keys: ClassVar[tuple[str, ...]] = ("access_token", "app_secret", "verify_token")

    def __init__(self, settings: Mapping[str, Any] | None = None):
        super().__init__(settings)
        self._client: HttpClient | None = None

    # ---- in --------------------------------------------------------------------------
    def verify(self, headers: Mapping[str, str], raw_body: bytes) -> bool:
        signature = next((v for k, v in headers.items() if k.lower() == "x-hub-signature-256"), None)
        return meta_signature_valid(self.settings.get("app_secret"), raw_body, signature)

    def handshake(self, query: Mapping[str, str]) -> str | None:
        return meta_handshake(query, self.settings.get("verify_token"))

    def split_webhook(self, body: dict[str, Any]) -> list[RawPayload]:
        """One envelope per message and per status, holding only that item (and its contact)."""
        try:
            return list(self._split(body))
        except PayloadError:
            raise
        except (KeyError, TypeError, AttributeError) as exc:
            raise PayloadError(f"unreadable WhatsApp webhook: {exc!r}") from exc

    def _split(self, body: dict[str, Any]) -> Iterator[RawPayload]:
        for entry, value in _message_values(body):
            for msg in value.get("messages") or []:
                contacts = [c for c in value.get("contacts") or [] if c.get("wa_id") == msg.get("from")]
                prefix = msg["type"] if msg["type"] in ("edit", "revoke") else "msg"
                yield RawPayload(_envelope(entry, value, {"contacts": contacts, "messages": [msg]}),
                                 f"{prefix}:{_id(msg['id'])}")
            for status in value.get("statuses") or []:
                yield RawPayload(_envelope(entry, value, {"statuses": [status]}),
                                 f"status:{_id(status['id'])}:{status['status']}")

    def parse(self, body: dict[str, Any]) -> list[Event]:
        try:
            events: list[Event] = []
            for _entry, value in _message_values(body):
                names = {c.get("wa_id"): (c.get("profile") or {}).get("name") for c in value.get("contacts") or []}
                for msg in value.get("messages") or []:
                    events.extend(self._message(msg, names))
                for status in value.get("statuses") or []:
                    events.extend(self._status(status))
            return events
        except PayloadError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError) as exc:
            raise PayloadError(f"unreadable WhatsApp webhook: {exc!r}") from exc

    def _message(self, msg: dict[str, Any], names: Mapping[Any, str | None]) -> list[InboundMessage]:
        kind = msg["type"]
        if kind in SKIPPED_TYPES:
            return []
        author = _id(msg["from"])  # the wa_id: digits of the phone number, also its handle
        common: dict[str, Any] = dict(platform=self.platform, author_id=author, author_handle=author,
                                      author_name=names.get(author), is_public=False,
                                      created_at=_epoch(msg["timestamp"]))
        if kind == "revoke":
            return [InboundMessage(external_id=_id(msg["revoke"]["original_message_id"]), text="",
                                   action=DELETE, **common)]
        if kind == "edit":
            text, attachments = _content(msg["edit"]["message"])
            return [InboundMessage(external_id=_id(msg["edit"]["original_message_id"]), text=text,
                                   attachments=attachments, action=UPDATE, **common)]
        text, attachments = _content(msg)
        quoted = (msg.get("context") or {}).get("id")  # absent on forwards ({"forwarded": true})
        return [InboundMessage(external_id=_id(msg["id"]), text=text, attachments=attachments,
                               parent_id=_id(quoted) if quoted else None, **common)]

    def _status(self, item: dict[str, Any]) -> list[StatusUpdate]:
        status = STATUSES.get(item["status"])
        if status is None:
            return []
        code, reason = _failure(item.get("errors") or []) if status == "failed" else (None, None)
        recipient = item.get("recipient_id")
        return [StatusUpdate(platform=self.platform, status=status, timestamp=_epoch(item["timestamp"]),
                             external_id=_id(item["id"]), recipient_id=_id(recipient) if recipient else None,
                             error_code=code, error=reason)]

    # ---- out -------------------------------------------------------------------------
    def send(self, message: OutboundMessage) -> SendResult:
        """A free-form text (quoting ``in_reply_to``), or the approved ``template`` when set."""
        body: dict[str, Any] = {"messaging_product": "whatsapp"}
        if message.template:
            body |= {"to": message.recipient_id, "type": "template", "template": {
                "name": message.template, "language": {"code": self._language(message)}}}
        else:
            body |= {"recipient_type": "individual", "to": message.recipient_id}
            if message.in_reply_to:
                body["context"] = {"message_id": message.in_reply_to}
            body |= {"type": "text", "text": {"body": message.text, "preview_url": False}}
        data = self._call("POST", f"{self._phone_id()}/messages", json=body)
        sent = data.get("messages")
        if not (isinstance(sent, list) and sent and isinstance(sent[0], dict) and sent[0].get("id")):
            # Not retried: the message may have gone out, and a retry could send it twice.
            raise PermanentError("WhatsApp accepted the message but returned no message id: check the chat "
                                 "before sending again.", "no_id")
        return SendResult(external_id=str(sent[0]["id"]), sent_at=_now())

    def _language(self, message: OutboundMessage) -> str:
        """The message's language, else the configured template's, else Arabic."""
        if message.template_language:
            return message.template_language
        for template in self.settings.get("templates") or []:
            if isinstance(template, dict) and template.get("name") == message.template and template.get("language"):
                return str(template["language"])
        return "ar"

    def health_check(self) -> HealthResult:
        data = self._call("GET", self._phone_id(), params={"fields": "display_phone_number,verified_name"})
        number, name = data.get("display_phone_number"), data.get("verified_name")
        if not number:
            raise TransientError("WhatsApp answered the health check without the phone number.", "no_number")
        return HealthResult(ok=True, detail=f"{number} ({name})" if name else str(number))

    # ---- http ------------------------------------------------------------------------
    def _phone_id(self) -> str:
        if not self.account_id:
            raise PermanentError("This WhatsApp channel has no phone-number id: set account_id in its settings.")
        return self.account_id

    def _http(self) -> HttpClient:
        token = self.settings.get("access_token")
        if not token:
            raise AuthError("This WhatsApp channel has no access token: an admin must enter one in its settings.")
        if self._client is None:
            timeout = self.settings.get("timeout")
            extra = {"timeout": float(timeout)} if timeout else {}
            self._client = HttpClient(self.settings.get("graph_base") or GRAPH_BASE,
                                      {"Authorization": f"Bearer {token}"}, **extra)
        return self._client

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """One Graph API call; the answer's JSON object, or the mapped error."""
        client = self._http()
        response = client.request(method, path, **kwargs)
        data = client.json(response)
        error = data.get("error") if isinstance(data, dict) else None
        if response.status_code >= 400 or error:
            raise _error_for(response.status_code, error if isinstance(error, dict) else {}, response.headers)
        if not isinstance(data, dict):
            raise TransientError(f"WhatsApp answered {method} {path} with JSON that is not an object.",
                                 "malformed_json")
        return data
