"""WhatsApp Business Cloud API connector: the specification, against the recorded wire formats
(tests/fixtures/platforms/whatsapp, from ../shared/platforms) and a fake Graph API on 127.0.0.1."""
from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from connectors.errors import AuthError, PayloadError, PermanentError, RateLimited, TransientError, WindowClosed
from connectors.registry import connector_for
from connectors.types import Attachment, InboundMessage, OutboundMessage, StatusUpdate
from connectors.whatsapp import WINDOW_REASON, WhatsAppConnector
from tests.fakes.server import FakePlatform
from tests.fixtures import PLATFORM_EXAMPLES

EXAMPLES = PLATFORM_EXAMPLES / "whatsapp"
PHONE_ID = "109876543210987"
TOKEN = "EAAG-test-token"
SECRET = "app-secret-for-tests"
MESSAGES_PATH = f"/{PHONE_ID}/messages"

ABDULLAH, MARYAM, RASHID = "966501234567", "201001234567", "971501234567"
OUR_MESSAGE = "wamid.HBgMOTY2OTIwMDAxMjM0FQIAEhgUQzU4OTI1MDNFMTJCNDdGQTQyRjk="


def example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def connector(**settings) -> WhatsAppConnector:
    return WhatsAppConnector({"account_id": PHONE_ID, "access_token": TOKEN, "app_secret": SECRET,
                              "verify_token": "verify-me", **settings})


def parse_one(name_or_body):
    body = example(name_or_body) if isinstance(name_or_body, str) else name_or_body
    events = connector().parse(body)
    assert len(events) == 1
    return events[0]


def message_body(**message) -> dict:
    """A one-message webhook from Abdullah, with ``message`` merged over a text message."""
    body = example("webhook_text_message.json")
    msg = body["entry"][0]["changes"][0]["value"]["messages"][0]
    msg.pop("text")
    msg.update(message)
    return body


def dm(external_id: str, author: str, name: str, text: str, at: datetime, **extra) -> InboundMessage:
    return InboundMessage(platform="whatsapp", external_id=external_id, author_id=author, author_handle=author,
                          author_name=name, text=text, is_public=False, created_at=at, **extra)


# ---- the connector's contract ----------------------------------------------------------------

def test_registry_builds_a_pushed_connector_with_a_24_hour_window():
    built = connector_for("whatsapp", {"account_id": PHONE_ID})
    assert isinstance(built, WhatsAppConnector) and built.account_id == PHONE_ID
    assert (built.platform, built.pushed, built.polled) == ("whatsapp", True, False)
    assert built.reply_window == timedelta(hours=24)
    assert set(built.secret_keys) == {"access_token", "app_secret", "verify_token"}


# ---- inbound messages, file by file --------------------------------------------------------------

def test_text_message():
    assert parse_one("webhook_text_message.json") == dm(
        "wamid.HBgMOTY2NTAxMjM0NTY3FQIAEhgUQTg0QkJBMDc5MzFEQjkyNTMwNkE=", ABDULLAH, "Abdullah",
        "السلام عليكم، أبغى أعرف رصيد الإنترنت المتبقي في باقتي", datetime(2024, 6, 11, 15, 0, 12))


def test_image_with_caption():
    assert parse_one("webhook_image_message.json") == dm(
        "wamid.HBgMOTY2NTAxMjM0NTY3FQIAEhgUMDc5OURDNkVCRDcxOEI4Qzc2NEQ=", ABDULLAH, "Abdullah",
        "هذي رسالة الخطأ اللي تطلع لي", datetime(2024, 6, 11, 15, 1, 40),
        attachments=(Attachment(type="image", external_id="5992135577601432", mime_type="image/jpeg"),))


def test_document_keeps_its_file_name():
    assert parse_one("webhook_document_message.json") == dm(
        "wamid.HBgMMjAxMDAxMjM0NTY3FQIAEhgUM0U1MDE4MUQ5NjBFOTU1OEMxNTM=", MARYAM, "مريم", "فاتورة شهر مايو",
        datetime(2024, 6, 11, 15, 4, 30),
        attachments=(Attachment(type="file", external_id="6589409110208604", name="invoice-2024-05.pdf",
                                mime_type="application/pdf"),))


def test_voice_note_is_an_audio_attachment_without_text():
    assert parse_one("webhook_voice_message.json") == dm(
        "wamid.HBgMMjAxMDAxMjM0NTY3FQIAEhgURkQ1NTkxMUVBMkNCRDM5MEI2NTY=", MARYAM, "مريم", "",
        datetime(2024, 6, 11, 15, 3, 5),
        attachments=(Attachment(type="audio", external_id="6925953876809098", mime_type="audio/ogg; codecs=opus"),))


def test_button_reply_is_the_buttons_title_and_quotes_our_message():
    assert parse_one("webhook_interactive_button_reply.json") == dm(
        "wamid.HBgMOTcxNTAxMjM0NTY3FQIAEhgURjAzNzg2MENGMjlBRTM2NTYzRDg=", RASHID, "Rashid ⚡", "Talk to an agent",
        datetime(2024, 6, 11, 15, 8, 1), parent_id="wamid.HBgMOTY2OTIwMDAxMjM0FQIAEhgUQjZEQTI1QTQzQTg0NkVCMzFFN0U=")


def test_quoted_reply_points_at_the_quoted_message():
    assert parse_one("webhook_reply_with_context.json") == dm(
        "wamid.HBgMOTY2NTAxMjM0NTY3FQIAEhgUM0NFQUYyRkZCRjNFMEI2RTlBQkE=", ABDULLAH, "Abdullah",
        "tamam, shokran 🙏 bas el net lessa ba6ee2", datetime(2024, 6, 11, 15, 6, 59), parent_id=OUR_MESSAGE)


def test_reaction_is_not_a_message():
    assert connector().parse(example("webhook_reaction.json")) == []


def test_unsupported_message_is_kept_with_a_note_for_the_agent():
    assert parse_one("webhook_unsupported_message.json") == dm(
        "wamid.HBgMOTcxNTAxMjM0NTY3FQIAEhgUQTQ2OEM2NDE0Q0U5REEyMDFFMEM=", RASHID, "Rashid ⚡", "",
        datetime(2024, 6, 11, 15, 9), attachments=(Attachment(type="other",
                                                              name="Message type is currently not supported."),))


def test_edit_updates_the_original_message():
    assert parse_one("webhook_user_edit.json") == dm(
        "wamid.HBgMMjAxMDAxMjM0NTY3FQIAEhgUODg5RUVBRjc3RUUwOUE0NDk2RTA=", MARYAM, "مريم",
        "رقم الطلب الصحيح 55120 وليس 55210", datetime(2024, 6, 11, 16, 5), action="update")


def test_revoke_deletes_the_original_message():
    assert parse_one("webhook_user_revoke.json") == dm(
        "wamid.HBgMMjAxMDAxMjM0NTY3FQIAEhgUODg5RUVBRjc3RUUwOUE0NDk2RTA=", MARYAM, "مريم", "",
        datetime(2024, 6, 11, 16, 6), action="delete")


def test_batched_messages_each_get_their_own_author():
    events = connector().parse(example("webhook_batched_messages.json"))
    assert [(m.author_id, m.author_name, m.text, m.created_at) for m in events] == [
        (ABDULLAH, "Abdullah", "مساء الخير", datetime(2024, 6, 11, 16, 0)),
        (MARYAM, "مريم", "ممكن أحد يرد عليّ؟ صار لي ساعة أنتظر", datetime(2024, 6, 11, 16, 0, 1)),
        (ABDULLAH, "Abdullah", "أبي أجدد الباقة", datetime(2024, 6, 11, 16, 0, 2)),
    ]
    assert len({m.external_id for m in events}) == 3


# ---- statuses of what we sent ------------------------------------------------------------------

def test_sent_status():
    assert parse_one("webhook_status_sent.json") == StatusUpdate(
        platform="whatsapp", status="sent", timestamp=datetime(2024, 6, 11, 15, 5, 10), external_id=OUR_MESSAGE,
        recipient_id=ABDULLAH)


def test_delivered_then_read():
    events = connector().parse(example("webhook_statuses_delivered_read.json"))
    assert [(s.status, s.external_id, s.recipient_id, s.timestamp, s.error_code) for s in events] == [
        ("delivered", OUR_MESSAGE, ABDULLAH, datetime(2024, 6, 11, 15, 5, 11), None),
        ("read", OUR_MESSAGE, ABDULLAH, datetime(2024, 6, 11, 15, 5, 52), None),
    ]


def test_failed_status_outside_the_window_tells_the_agent_to_use_a_template():
    assert parse_one("webhook_status_failed_131047.json") == StatusUpdate(
        platform="whatsapp", status="failed", timestamp=datetime(2024, 6, 12, 18, 0, 3),
        external_id="wamid.HBgMOTY2OTIwMDAxMjM0FQIAEhgUNzE0QTE2RTgxQzFBQUQyMzZEMzE=", recipient_id=MARYAM,
        error_code="131047", error=WINDOW_REASON)
    assert WINDOW_REASON == ("The customer-service window closed: the customer has not written in the last "
                             "24 hours. Send an approved template instead.")


def test_played_voice_note_counts_as_read_and_unknown_statuses_are_skipped():
    body = example("webhook_statuses_delivered_read.json")
    statuses = body["entry"][0]["changes"][0]["value"]["statuses"]
    statuses[0]["status"], statuses[1]["status"] = "played", "deleted"
    assert [s.status for s in connector().parse(body)] == ["read"]


def test_other_failures_use_the_platforms_words():
    body = example("webhook_status_failed_131047.json")
    error = body["entry"][0]["changes"][0]["value"]["statuses"][0]["errors"][0]
    error.update(code=131049, title="This message was not delivered to maintain healthy ecosystem engagement.")
    error["error_data"]["details"] = "Meta chose not to deliver it."
    status = parse_one(body)
    assert status.error_code == "131049"
    assert status.error == ("This message was not delivered to maintain healthy ecosystem engagement.: "
                            "Meta chose not to deliver it.")


# ---- splitting deliveries into stored payloads -----------------------------------------------------

SPLIT_KEYS = {
    "webhook_text_message.json": ["msg:wamid.HBgMOTY2NTAxMjM0NTY3FQIAEhgUQTg0QkJBMDc5MzFEQjkyNTMwNkE="],
    "webhook_user_edit.json": ["edit:wamid.HBgMMjAxMDAxMjM0NTY3FQIAEhgURUQ3QUZDRUFBODZEQzNGMzQ2NDg="],
    "webhook_user_revoke.json": ["revoke:wamid.HBgMMjAxMDAxMjM0NTY3FQIAEhgUNDlBODQ1RDFGN0MzQTA1NzlGMDk="],
    "webhook_reaction.json": ["msg:wamid.HBgMOTcxNTAxMjM0NTY3FQIAEhgUNDVFRTZFQkM1N0Y0NTkwNjQxRTE="],
    "webhook_statuses_delivered_read.json": [f"status:{OUR_MESSAGE}:delivered", f"status:{OUR_MESSAGE}:read"],
    "webhook_batched_messages.json": [
        "msg:wamid.HBgMOTY2NTAxMjM0NTY3FQIAEhgUREVGMEI5RDI5OTMxMzRCNjVBQjM=",
        "msg:wamid.HBgMMjAxMDAxMjM0NTY3FQIAEhgUQURGMzJCMUNDOEZBNjUwQkRGNjU=",
        "msg:wamid.HBgMOTY2NTAxMjM0NTY3FQIAEhgUOTNEMUI2MUI0QjE3MUIyRjNBOUY=",
    ],
}


@pytest.mark.parametrize("name", sorted(SPLIT_KEYS))
def test_split_gives_one_payload_per_item_with_a_stable_key(name):
    assert [p.dedup_key for p in connector().split_webhook(example(name))] == SPLIT_KEYS[name]


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("webhook_*.json")))
def test_every_split_payload_parses_alone_to_the_same_events(name):
    body = example(name)
    payloads = connector().split_webhook(body)
    assert payloads
    for payload in payloads:
        (entry,) = payload.body["entry"]
        (change,) = entry["changes"]
        value = change["value"]
        assert payload.body["object"] == "whatsapp_business_account" and entry["id"] == "102938475610293"
        assert value["metadata"]["phone_number_id"] == PHONE_ID
        assert len(value.get("messages", [])) + len(value.get("statuses", [])) == 1
        for msg in value.get("messages", []):  # only the sender's contact travels with a message
            assert [c["wa_id"] for c in value["contacts"]] == [msg["from"]]
    split = [event for p in payloads for event in connector().parse(p.body)]
    assert split == connector().parse(body)
    for event in split:
        json.dumps(event.to_dict())  # the debug CLI prints every event as a JSON line


def test_batched_delivery_with_many_entries_and_changes():
    text, status = example("webhook_text_message.json"), example("webhook_statuses_delivered_read.json")
    batch = example("webhook_batched_messages.json")
    other_field = {"field": "message_template_status_update", "value": {"event": "APPROVED"}}
    body = {"object": "whatsapp_business_account", "entry": [
        {"id": "102938475610293", "changes": batch["entry"][0]["changes"] + [other_field]},
        {"id": "102938475610293", "changes": text["entry"][0]["changes"] + status["entry"][0]["changes"]},
    ]}
    payloads = connector().split_webhook(body)
    assert [p.dedup_key.split(":")[0] for p in payloads] == ["msg"] * 4 + ["status"] * 2
    events = [e for p in payloads for e in connector().parse(p.body)]
    assert [type(e).__name__ for e in events] == ["InboundMessage"] * 4 + ["StatusUpdate"] * 2
    assert events == connector().parse(body)


# ---- text, media and message kinds -----------------------------------------------------------------

def test_arabic_emoji_and_direction_marks_are_kept_exactly():
    text = "\u200fمرحبا 👋🏽 رقمي \u200e0791234567\u200f؟  \n"
    assert parse_one(message_body(type="text", text={"body": text})).text == text


def test_very_long_text_is_kept_whole():
    text = "رصيد " * 3000 + "🙏"
    assert parse_one(message_body(type="text", text={"body": text})).text == text


def test_media_without_caption_has_empty_text():
    message = parse_one(message_body(type="video", video={"id": "77", "mime_type": "video/mp4"}))
    assert message.text == "" and message.attachments == (Attachment(type="video", external_id="77",
                                                                      mime_type="video/mp4"),)


def test_sticker_and_list_reply_and_template_button():
    sticker = parse_one(message_body(type="sticker", sticker={"id": "88", "mime_type": "image/webp"}))
    assert sticker.attachments == (Attachment(type="sticker", external_id="88", mime_type="image/webp"),)
    listed = parse_one(message_body(type="interactive", interactive={
        "type": "list_reply", "list_reply": {"id": "b2", "title": "باقة 20 دينار", "description": "شهري"}}))
    assert listed.text == "باقة 20 دينار"
    button = parse_one(message_body(type="button", button={"payload": "STOP", "text": "إيقاف"}))
    assert button.text == "إيقاف"


def test_location_is_an_attachment():
    message = parse_one(message_body(type="location", location={
        "latitude": 31.9539, "longitude": 35.9106, "name": "فرع العبدلي", "address": "عمّان"}))
    assert message.text == ""
    assert message.attachments == (Attachment(type="location", url="geo:31.9539,35.9106", name="فرع العبدلي"),)


@pytest.fixture
def amman_clock(monkeypatch):
    """The server's local time zone is not UTC (Amman is UTC+3)."""
    monkeypatch.setenv("TZ", "Asia/Amman")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_times_are_utc_whatever_the_servers_time_zone(amman_clock):
    assert parse_one("webhook_text_message.json").created_at == datetime(2024, 6, 11, 15, 0, 12)
    assert parse_one("webhook_status_sent.json").timestamp == datetime(2024, 6, 11, 15, 5, 10)


def test_forwarded_message_has_no_parent():
    assert parse_one(message_body(type="text", text={"body": "fwd"}, context={"forwarded": True})).parent_id is None


# ---- unreadable payloads ---------------------------------------------------------------------------

def _broken(mutate):
    body = example("webhook_text_message.json")
    mutate(body, body["entry"][0]["changes"][0]["value"]["messages"][0])
    return body


BROKEN = {
    "not an object": [],
    "empty": {},
    "another platform": {"object": "page", "entry": []},
    "entry not a list": {"object": "whatsapp_business_account", "entry": {"id": "1"}},
    "entry without changes": {"object": "whatsapp_business_account", "entry": [{"id": "1"}]},
    "message without id": _broken(lambda b, m: m.pop("id")),
    "message without type": _broken(lambda b, m: m.pop("type")),
    "timestamp not epoch": _broken(lambda b, m: m.update(timestamp="yesterday")),
    "text body not text": _broken(lambda b, m: m.update(text={"body": 42})),
    "value not an object": _broken(lambda b, m: b["entry"][0]["changes"][0].update(value="oops")),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_unreadable_payloads_raise_payload_error(case):
    with pytest.raises(PayloadError):
        connector().parse(copy.deepcopy(BROKEN[case]))


@pytest.mark.parametrize("case", ["not an object", "empty", "another platform", "entry not a list",
                                  "entry without changes", "message without id", "value not an object"])
def test_unsplittable_deliveries_raise_payload_error(case):
    with pytest.raises(PayloadError):
        connector().split_webhook(copy.deepcopy(BROKEN[case]))


# ---- webhook authenticity ----------------------------------------------------------------------------

def compact(body) -> bytes:
    """Meta's wire form: compact, non-ASCII as \\uXXXX, '/' as '\\/'."""
    return json.dumps(body, separators=(",", ":")).replace("/", "\\/").encode()


def sign(raw: bytes, secret: str = SECRET, digest=hashlib.sha256) -> str:
    return hmac.new(secret.encode(), raw, digest).hexdigest()


RAW = compact(example("webhook_text_message.json"))


def test_signature_over_the_compact_escaped_bytes_is_valid():
    assert b"\\u0627" in RAW  # the Arabic travels escaped, so re-serialising would change the bytes
    assert connector().verify({"X-Hub-Signature-256": f"sha256={sign(RAW)}"}, RAW)
    assert connector().verify({"x-hub-signature-256": f"sha256={sign(RAW)}"}, RAW)


@pytest.mark.parametrize("headers, raw", [
    ({}, RAW),
    ({"X-Hub-Signature-256": f"sha256={sign(RAW, 'another-secret')}"}, RAW),
    ({"X-Hub-Signature-256": f"sha1={sign(RAW, digest=hashlib.sha1)}"}, RAW),
    ({"X-Hub-Signature": f"sha1={sign(RAW, digest=hashlib.sha1)}"}, RAW),
    ({"X-Hub-Signature-256": f"sha256={sign(RAW)[:-2]}"}, RAW),
    ({"X-Hub-Signature-256": sign(RAW)}, RAW),
    ({"X-Hub-Signature-256": f"sha256={sign(RAW)}"}, RAW.replace(b"Abdullah", b"Abdullaa")),
    ({"X-Hub-Signature-256": f"sha256={sign(RAW)}"}, json.dumps(json.loads(RAW), ensure_ascii=False).encode()),
], ids=["missing", "wrong secret", "sha1 prefix", "sha1 header", "truncated", "no prefix", "other body",
        "re-serialised body"])
def test_bad_signatures_are_refused(headers, raw):
    assert connector().verify(headers, raw) is False


def test_no_app_secret_refuses_everything():
    assert WhatsAppConnector({"account_id": PHONE_ID}).verify({"X-Hub-Signature-256": f"sha256={sign(RAW)}"},
                                                              RAW) is False


def test_subscription_handshake():
    query = {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"}
    assert connector().handshake(query) == "1158201444"
    assert connector().handshake({**query, "hub.verify_token": "guess"}) is None
    assert connector().handshake({**query, "hub.mode": "unsubscribe"}) is None
    assert WhatsAppConnector({"account_id": PHONE_ID}).handshake(query) is None


# ---- sending --------------------------------------------------------------------------------------

def reply(text="", to=ABDULLAH, **fields) -> OutboundMessage:
    return OutboundMessage(text=text, recipient_id=to, is_public=False, idempotency_key="k1", **fields)


@pytest.fixture
def fake():
    with FakePlatform() as server:
        yield server


def live(fake, **settings) -> WhatsAppConnector:
    return connector(graph_base=fake.url, **settings)


def test_send_text(fake):
    fake.reply("POST", MESSAGES_PATH, json=example("send_response.json"))
    expected = example("send_text_request.json")
    result = live(fake).send(reply(expected["text"]["body"], to=expected["to"]))
    assert result.external_id == "wamid.HBgMOTY2OTIwMDAxMjM0FQIAEhgUMjIyQTJCRUQyN0E1ODREMjFCNTQ="
    assert result.sent_at.tzinfo is None
    assert abs(datetime.now(UTC).replace(tzinfo=None) - result.sent_at) < timedelta(minutes=1)
    (request,) = fake.requests
    assert (request.method, request.path) == ("POST", MESSAGES_PATH)
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.json == expected


def test_send_reply_quotes_the_customers_message(fake):
    fake.reply("POST", MESSAGES_PATH, json=example("send_response.json"))
    expected = example("send_reply_request.json")
    expected["text"]["preview_url"] = False  # the example omits it; false is also the platform default
    live(fake).send(reply(expected["text"]["body"], in_reply_to=expected["context"]["message_id"]))
    assert fake.requests[0].json == expected


def test_send_template(fake):
    fake.reply("POST", MESSAGES_PATH, json=example("send_template_response.json"))
    expected = example("send_template_request.json")
    del expected["template"]["components"]  # OutboundMessage carries no template parameters
    result = live(fake).send(reply("", to=MARYAM, template="ticket_followup"))
    assert result.external_id == "wamid.HBgMOTY2OTIwMDAxMjM0FQIAEhgURkE4OTczMzgxRjQxMkEwQTRGOUY="
    assert fake.requests[0].json == expected


def test_template_language_from_the_message_then_the_settings(fake):
    fake.reply("POST", MESSAGES_PATH, json=example("send_template_response.json"))
    templates = [{"name": "survey", "language": "en_US", "text": "How did we do?"}]
    sender = live(fake, templates=templates)
    sender.send(reply(to=MARYAM, template="survey"))
    sender.send(reply(to=MARYAM, template="survey", template_language="ar"))
    assert [r.json["template"]["language"]["code"] for r in fake.requests] == ["en_US", "ar"]


def test_long_arabic_text_is_sent_unchanged(fake):
    fake.reply("POST", MESSAGES_PATH, json=example("send_response.json"))
    text = ("\u200fشكراً لتواصلك 🌟 " * 300)[:4096]
    live(fake).send(reply(text))
    assert fake.requests[0].json["text"]["body"] == text


def graph_error(code, message=None, **extra) -> dict:
    """Meta's error envelope (as in the error_*.json examples)."""
    return {"error": {"message": message or f"(#{code}) error", "type": "OAuthException", "code": code,
                      "fbtrace_id": "Ab1", **extra}}


@pytest.mark.parametrize("status, body, kind, code", [
    (400, example("error_throughput_130429.json"), RateLimited, "130429"),
    (429, example("error_throughput_130429.json"), RateLimited, "130429"),
    (400, example("error_pair_rate_131056.json"), RateLimited, "131056"),
    (400, graph_error(80007), RateLimited, "80007"),
    (403, graph_error(4), RateLimited, "4"),
    (401, example("error_token_expired_190.json"), AuthError, "190"),
    (400, example("error_token_expired_190.json"), AuthError, "190"),
    (403, graph_error(10), AuthError, "10"),
    (403, graph_error(200), AuthError, "200"),
    (400, graph_error(131047, "Re-engagement message"), WindowClosed, "131047"),
    (400, example("error_invalid_parameter_100.json"), PermanentError, "100"),
    (400, graph_error(131026, "Message Undeliverable."), PermanentError, "131026"),
    (400, graph_error(132001, "Template name does not exist in the translation"), PermanentError, "132001"),
    (500, graph_error(131000, "Something went wrong"), TransientError, "131000"),
    (503, graph_error(1, "An unknown error occurred"), TransientError, "1"),
    (400, graph_error(2, "Service temporarily unavailable", is_transient=True), TransientError, "2"),
], ids=lambda v: v.__name__ if isinstance(v, type) else None)
def test_send_errors_are_classified_by_error_code(fake, status, body, kind, code):
    fake.reply("POST", MESSAGES_PATH, status=status, json=body)
    with pytest.raises(kind) as caught:
        live(fake).send(reply("hi"))
    assert type(caught.value) is kind and caught.value.code == code
    assert caught.value.reason.endswith(".") and len(caught.value.reason) > 40
    if kind is RateLimited:
        assert caught.value.retry_after is None


def test_error_reasons_are_actionable(fake):
    fake.reply("POST", MESSAGES_PATH, status=400, json=example("error_invalid_parameter_100.json"))
    with pytest.raises(PermanentError) as invalid:
        live(fake).send(reply("x" * 5000))
    assert "must be at most 4096 characters" in invalid.value.reason
    fake.reply("POST", "/1/messages", status=400, json=graph_error(131047, "Re-engagement message"))
    with pytest.raises(WindowClosed) as closed:
        live(fake, account_id="1").send(reply("hi"))
    assert closed.value.reason == WINDOW_REASON
    fake.reply("POST", "/2/messages", status=401, json=example("error_token_expired_190.json"))
    with pytest.raises(AuthError) as expired:
        live(fake, account_id="2").send(reply("hi"))
    assert "Session has expired" in expired.value.reason and "new token" in expired.value.reason


def test_rate_limit_honours_retry_after(fake):
    fake.reply("POST", MESSAGES_PATH, status=429, json=example("error_throughput_130429.json"),
               headers={"Retry-After": "30"})
    with pytest.raises(RateLimited) as caught:
        live(fake).send(reply("hi"))
    assert caught.value.retry_after == 30.0


def test_server_error_then_success(fake):
    fake.reply("POST", MESSAGES_PATH, status=500, body=b"<html>Internal Server Error</html>")
    fake.reply("POST", MESSAGES_PATH, json=example("send_response.json"))
    sender = live(fake)
    with pytest.raises(TransientError):
        sender.send(reply("hi"))
    assert sender.send(reply("hi")).external_id.startswith("wamid.")
    assert len(fake.requests) == 2


def test_timeout_is_transient(fake):
    fake.reply("POST", MESSAGES_PATH, json=example("send_response.json"), delay=1.0)
    with pytest.raises(TransientError) as caught:
        live(fake, timeout=0.2).send(reply("hi"))
    assert type(caught.value) is TransientError and caught.value.code == "timeout"


@pytest.mark.parametrize("status", [200, 400])
def test_malformed_json_is_transient(fake, status):
    fake.reply("POST", MESSAGES_PATH, status=status, body=b'{"messages": [{"id": "wamid.')
    with pytest.raises(TransientError) as caught:
        live(fake).send(reply("hi"))
    assert type(caught.value) is TransientError and caught.value.code == "malformed_json"


def test_success_without_a_message_id_is_not_retried(fake):
    """The message may have gone out: a retry could send it twice."""
    fake.reply("POST", MESSAGES_PATH, json={"messaging_product": "whatsapp", "messages": []})
    with pytest.raises(PermanentError, match="check the chat"):
        live(fake).send(reply("hi"))


def test_missing_token_is_an_auth_error_without_a_call(fake):
    with pytest.raises(AuthError):
        WhatsAppConnector({"account_id": PHONE_ID, "graph_base": fake.url}).send(reply("hi"))
    assert fake.requests == []


# ---- health -----------------------------------------------------------------------------------------

def test_health_check_shows_the_phone_number(fake):
    fake.reply("GET", f"/{PHONE_ID}", json={"display_phone_number": "+962 6 500 1234", "verified_name": "Tawasul",
                                            "id": PHONE_ID})
    health = live(fake).health_check()
    assert health.ok and health.detail == "+962 6 500 1234 (Tawasul)"
    assert fake.requests[0].arg("fields") == "display_phone_number,verified_name"
    assert fake.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"


def test_health_check_with_an_expired_token(fake):
    fake.reply("GET", f"/{PHONE_ID}", status=401, json=example("error_token_expired_190.json"))
    with pytest.raises(AuthError):
        live(fake).health_check()
