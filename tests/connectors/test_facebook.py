"""Facebook Page connector: Messenger and Page-feed webhooks as recorded in the wire-format
reference, signatures over raw bytes, the subscription handshake, replies and Graph error
mapping, all against a real HTTP fake of the Graph API on 127.0.0.1."""
from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from connectors.errors import AuthError, PayloadError, PermanentError, RateLimited, TransientError, WindowClosed
from connectors.facebook import FacebookConnector
from connectors.registry import connector_for
from connectors.types import Attachment, InboundMessage, OutboundMessage, StatusUpdate
from tests.fakes.server import FakePlatform
from tests.fixtures import example_names as platform_example_names
from tests.fixtures import load_example

PAGE = "104857362910458"  # Najm Telecom's Page in the examples
TOKEN = "EAAG-page-token"
SECRET = "app-secret-for-tests"
VERIFY = "verify-me"
KHALID = "7214583069123456"  # the customer of most Messenger examples
OUR_REPLY = "m_PxjkcuuoSGKGzWFPFEDI6ZDXqicBH-MPxgzeEKEB1M4IC_0A4XAboH4UQ60ZZe-LH8gSpabYLjVj2j0Y"
POSTBACK = "m_LiYjrCm_79Qqda5SiEbYJRy1XEr6o4WQdz03jRz_RxkhoQGnQ_yc961NLTc3UQywKzwzkTgZ0KpZPv5X"  # "talk to an agent"
POST = "104857362910458_122150098765432101"
FAISAL_COMMENT = "122150098765432101_5464148998447030"
HUDA_COMMENT = "122150098765432101_9925538853587916"


def example(name: str) -> dict:
    return load_example("facebook", name)


def example_names(prefix: str) -> list[str]:
    return platform_example_names("facebook", prefix)


def connector(url: str = "http://127.0.0.1:9", **settings) -> FacebookConnector:
    return FacebookConnector({"account_id": PAGE, "access_token": TOKEN, "app_secret": SECRET,
                              "verify_token": VERIFY, "graph_base": url, **settings})


def parse(name_or_body) -> list:
    return connector().parse(example(name_or_body) if isinstance(name_or_body, str) else name_or_body)


def only(name_or_body):
    events = parse(name_or_body)
    assert len(events) == 1
    return events[0]


def wire_bytes(body: dict) -> bytes:
    """How Meta really sends a body: compact, non-ASCII as \\uXXXX, and "/" as "\\/"."""
    return json.dumps(body, separators=(",", ":")).replace("/", "\\/").encode()


def sha256_header(raw: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def dm(text: str = "hi", **message) -> dict:
    return {"object": "page", "entry": [{"id": PAGE, "time": 1718103723708, "messaging": [{
        "sender": {"id": KHALID}, "recipient": {"id": PAGE}, "timestamp": 1718103723417,
        "message": {"mid": "m_test", "text": text, **message}}]}]}


def reply(text: str = "hi", **fields) -> OutboundMessage:
    return OutboundMessage(**{"text": text, "recipient_id": KHALID, "is_public": False,
                              "idempotency_key": "reply-1", **fields})


def header(request, name: str) -> str | None:
    return {k.lower(): v for k, v in request.headers.items()}.get(name.lower())


# ---- every recorded payload ---------------------------------------------------------------
@pytest.mark.parametrize("name", example_names("webhook_"))
def test_each_recorded_webhook_parses_alone_and_split_into_events(name):
    body = example(name)
    whole = connector().parse(body)
    parts = connector().split_webhook(body)
    assert [e for p in parts for e in connector().parse(p.body)] == whole
    assert all(len(p.body["entry"]) == 1 for p in parts)
    assert all(p.dedup_key for p in parts)


def test_the_connector_is_registered_as_a_pushed_and_reconciled_platform_with_a_24_hour_window():
    c = connector_for("facebook", {"account_id": PAGE})
    assert isinstance(c, FacebookConnector) and c.account_id == PAGE
    assert c.pushed and c.polled  # polled: the reconciliation of lost webhooks
    assert c.default_poll_interval == 300
    assert c.reply_window == timedelta(hours=24)
    assert c.max_text_length == 2000
    assert set(c.secret_keys) == {"access_token", "app_secret", "verify_token"}
    assert {"account_id", "access_token", "app_secret", "verify_token", "graph_base"} <= set(c.setting_keys)


# ---- Messenger ----------------------------------------------------------------------------
def test_a_text_message_is_a_private_inbound_message():
    message = only("webhook_messenger_text.json")
    assert message == InboundMessage(
        platform="facebook",
        external_id="m_rIRMu7yrCHabPxnQt5krXT8PZ6cBeJma1M1r7L_TfhyEvY7BdG9N2xzAD6jPuTDU4akeO1wflKZqBasI",
        author_id=KHALID,
        text='السلام عليكم، عندي مشكلة في تفعيل الشريحة الجديدة، يطلع لي "لا توجد خدمة"',
        is_public=False,
        created_at=datetime(2024, 6, 11, 11, 2, 3, 417000),
        conversation_key=KHALID,
    )
    assert message.thread_id is None and message.parent_id is None


def test_attachments_without_text_keep_their_type_and_url():
    message = only("webhook_messenger_attachments.json")
    assert message.text == ""
    assert message.created_at == datetime(2024, 6, 11, 11, 3, 20, 2000)
    assert [a.type for a in message.attachments] == ["image", "file"]
    assert message.attachments[0].url.startswith("https://scontent.xx.fbcdn.net/v/t1.15752-9/468214483_")
    assert message.attachments[1].url.startswith("https://cdn.fbsbx.com/")
    assert "invoice_May.pdf" in message.attachments[1].url


def test_a_reply_points_at_the_message_it_quotes():
    message = only("webhook_messenger_reply_to.json")
    assert message.text == "هذا رقم الشريحة اللي فوق"
    assert message.parent_id == "m_eX-4vtoXSiaBhgXoh0UseqCy4O_AGCeTcVD80l9ekR0a5KskwL7UMpMBuGJVb6VL0CaxotmNKBXT85iY"
    assert message.thread_id is None and not message.is_public


def test_an_echo_of_the_pages_reply_is_outbound_and_keyed_to_the_customer():
    message = only("webhook_messenger_echo.json")
    assert message.direction == "outbound" and message.action == "create"
    assert message.external_id == OUR_REPLY
    assert message.author_id == PAGE
    assert message.conversation_key == KHALID  # finds the customer's conversation
    assert message.text.startswith("أهلاً خالد، فضلاً أعد تشغيل الجوال")
    assert message.created_at == datetime(2024, 6, 11, 11, 6, 55, 120000)


def test_an_edit_updates_the_original_message_with_the_new_text():
    message = only("webhook_messenger_edit.json")
    assert message.action == "update" and message.direction == "inbound"
    assert message.external_id == "m_7JyvsaNPVe3mYeOzxVd49UVYlwRpTxXqE_UKPnGCYATK9i2Yr-I_alpsPdyDvGHUpiBcokM7roBEbOS-"
    assert message.text == "هذا رقم الشريحة اللي فوق (آخر ٤ أرقام 7781)"
    assert message.author_id == KHALID


def test_a_reaction_is_not_a_message():
    assert parse("webhook_messenger_reaction.json") == []


def test_delivery_names_the_delivered_message_and_read_gives_a_watermark():
    delivered, read = parse("webhook_messenger_delivery_and_read.json")
    assert delivered == StatusUpdate(platform="facebook", status="delivered",
                                     timestamp=datetime(2024, 6, 11, 11, 9, 30),
                                     external_id=OUR_REPLY, recipient_id=KHALID)
    assert read == StatusUpdate(platform="facebook", status="read", timestamp=datetime(2024, 6, 11, 11, 9, 31, 880000),
                                recipient_id=KHALID, watermark=datetime(2024, 6, 11, 11, 6, 55, 130000))


def test_a_delivery_without_mids_falls_back_to_the_watermark():
    body = example("webhook_messenger_delivery_and_read.json")
    body["entry"] = body["entry"][:1]
    del body["entry"][0]["messaging"][0]["delivery"]["mids"]
    (status,) = parse(body)
    assert status.status == "delivered" and status.external_id is None
    assert status.watermark == datetime(2024, 6, 11, 11, 6, 55, 130000) and status.recipient_id == KHALID


def test_batched_entries_give_every_message_including_a_postback_as_its_title():
    messages = parse("webhook_messenger_batched_entries.json")
    assert [(m.author_id, m.text) for m in messages] == [
        ("6839201745512398", "Hello, I want to upgrade my plan to the 100GB one"),
        ("25091847361029475", "momken a3raf rasidi kam? 🙏"),
        ("6839201745512398", "تحدث مع موظف"),
    ]
    assert messages[2].external_id == POSTBACK
    assert [m.created_at for m in messages] == [datetime(2024, 6, 11, 12, 0, 1, 101000),
                                                datetime(2024, 6, 11, 12, 0, 1, 877000),
                                                datetime(2024, 6, 11, 12, 0, 2, 450000)]


def test_standby_events_while_another_app_owns_the_thread_are_read_too():
    body = dm("still there?")
    body["entry"][0]["standby"] = body["entry"][0].pop("messaging")
    assert only(body).text == "still there?"


def test_a_like_sticker_and_unknown_attachment_types():
    body = dm(text=None, attachments=[
        {"type": "image", "payload": {"url": "https://scontent.xx.fbcdn.net/like.png", "sticker_id": 369239263222822}},
        {"type": "something_new", "payload": {"url": "https://example.invalid/x"}},
        {"type": "fallback", "payload": None, "title": "A shared link", "url": "https://example.com/a"},
    ])
    sticker, other, fallback = only(body).attachments
    assert sticker == Attachment(type="sticker", url="https://scontent.xx.fbcdn.net/like.png",
                                 external_id="369239263222822")
    assert other.type == "other"
    assert (fallback.type, fallback.url, fallback.name) == ("share", "https://example.com/a", "A shared link")


def test_arabic_emoji_rtl_marks_and_very_long_text_are_kept_exactly():
    text = "\u200fمرحبا 👋🏽 الرصيد\u200f  \n" + "نت بطيء جداً " * 400 + " \u200e"
    message = only(dm(text))
    assert message.text == text and len(message.text) > 5000


# ---- Page feed comments -------------------------------------------------------------------
def test_a_top_level_comment_is_public_in_the_posts_thread():
    comment = only("webhook_feed_comment_add.json")
    assert comment == InboundMessage(
        platform="facebook", external_id=FAISAL_COMMENT, author_id="3391827465019283",
        author_name="Faisal Al-Qahtani", text="ليش العرض ما يشمل الباقات المفوترة؟ 🤔", is_public=True,
        created_at=datetime(2024, 6, 11, 12, 10, 41), thread_id=POST, parent_id=POST,
    )


def test_a_reply_comment_points_at_the_comment_it_answers():
    comment = only("webhook_feed_comment_reply.json")
    assert (comment.external_id, comment.thread_id, comment.parent_id) == (HUDA_COMMENT, POST, FAISAL_COMMENT)
    assert comment.author_name == "Huda Saleh" and comment.text == "نفس السؤال، وأنا مشتركة من ٣ سنين"
    assert comment.created_at == datetime(2024, 6, 11, 12, 14, 2)


def test_an_edited_comment_updates_it():
    comment = only("webhook_feed_comment_edited.json")
    assert comment.action == "update" and comment.external_id == FAISAL_COMMENT
    assert comment.text == "ليش العرض ما يشمل الباقات المفوترة؟ 🤔 وش الفرق؟"


def test_a_removed_comment_is_a_delete_without_text():
    comment = only("webhook_feed_comment_remove.json")
    assert comment.action == "delete" and comment.external_id == HUDA_COMMENT
    assert comment.text == "" and comment.attachments == ()


def test_a_photo_comment_without_text_carries_the_photo():
    comment = only("webhook_feed_comment_with_photo.json")
    assert comment.text == ""
    assert [a.type for a in comment.attachments] == ["image"]
    assert comment.attachments[0].url.startswith("https://scontent.xx.fbcdn.net/v/t1.15752-9/576992397_")


def test_the_pages_own_comment_comes_back_as_outbound():
    comment = only("webhook_feed_page_own_comment.json")
    assert comment.direction == "outbound" and comment.author_id == PAGE
    assert comment.parent_id == FAISAL_COMMENT and comment.thread_id == POST


@pytest.mark.parametrize("value", [
    {"item": "reaction", "verb": "add", "reaction_type": "like", "post_id": POST, "from": {"id": "1"}},
    {"item": "status", "verb": "add", "post_id": POST, "message": "Our new offer", "from": {"id": PAGE}},
    {"item": "comment", "verb": "hide", "comment_id": FAISAL_COMMENT, "post_id": POST, "from": {"id": "1"}},
])
def test_other_feed_changes_are_not_messages(value):
    body = {"object": "page", "entry": [{"id": PAGE, "time": 1718107841,
                                         "changes": [{"field": "feed", "value": value}]}]}
    assert parse(body) == []


def test_a_comment_without_its_author_is_unreadable_with_a_reason():
    body = example("webhook_feed_comment_add.json")
    del body["entry"][0]["changes"][0]["value"]["from"]
    with pytest.raises(PayloadError, match="pages_read_user_content"):
        parse(body)


# ---- splitting and malformed bodies -------------------------------------------------------
def test_split_gives_one_self_contained_payload_per_event_with_stable_keys():
    body = example("webhook_messenger_batched_entries.json")
    parts = connector().split_webhook(body)
    assert [p.dedup_key for p in parts] == [
        "mid:m_1O76DriY2CWfkjkZOEa3aFCvvj6p0fY5IrwTzcON9KphUwqz1_RqVpo-2Bu4aRKzS7sVfRi4LvI6pJH6",
        "mid:m_h46d4uSl_3l27uYLnq9ASZBn5Afs03Gh88DvrqmEYNrLPvs8TWVLjUGWoIxDU9wY9nfIP6oCX3uf-Auf",
        f"postback:{POSTBACK}",
    ]
    assert parts[1].body == {"object": "page", "entry": [
        {"id": PAGE, "time": 1718107202277, "messaging": [body["entry"][1]["messaging"][0]]}]}
    assert [p.dedup_key for p in connector().split_webhook(copy.deepcopy(body))] == [p.dedup_key for p in parts]


def test_dedup_keys_tell_an_edit_a_receipt_and_a_reaction_from_the_message():
    def keys(name):
        return [p.dedup_key for p in connector().split_webhook(example(name))]
    assert keys("webhook_messenger_edit.json") == [
        "edit:m_7JyvsaNPVe3mYeOzxVd49UVYlwRpTxXqE_UKPnGCYATK9i2Yr-I_alpsPdyDvGHUpiBcokM7roBEbOS-:1"]
    assert keys("webhook_messenger_echo.json") == [f"mid:{OUR_REPLY}"]
    assert keys("webhook_messenger_delivery_and_read.json") == [
        f"delivery:1718104015130:{KHALID}", f"read:1718104015130:{KHALID}"]
    assert keys("webhook_messenger_reaction.json") == [f"reaction:{OUR_REPLY}:{KHALID}:1718104140333"]
    assert keys("webhook_feed_comment_add.json") == [f"feed:{FAISAL_COMMENT}:add:1718107841"]
    assert keys("webhook_feed_comment_remove.json") == [f"feed:{HUDA_COMMENT}:remove:1718108405"]


def test_two_edits_of_one_comment_keep_two_keys_and_a_redelivery_keeps_its_key():
    first = example("webhook_feed_comment_edited.json")
    second = copy.deepcopy(first)
    second["entry"][0]["changes"][0]["value"]["message"] = "نسيت أسأل: وش الفرق؟"
    (a,), (b,), (again,) = (connector().split_webhook(x) for x in (first, second, copy.deepcopy(first)))
    assert a.dedup_key.startswith(f"feed:{FAISAL_COMMENT}:edited:1718107841")
    assert a.dedup_key != b.dedup_key and a.dedup_key == again.dedup_key


def test_a_batch_of_many_entries_gives_every_message_once():
    body = {"object": "page", "entry": [
        {"id": PAGE, "time": 1718103723708 + n, "messaging": [
            {"sender": {"id": str(9000000000000000 + n)}, "recipient": {"id": PAGE},
             "timestamp": 1718103723417 + n, "message": {"mid": f"m_{n}", "text": f"رسالة {n}"}}]}
        for n in range(300)]}
    parts = connector().split_webhook(body)
    assert len({p.dedup_key for p in parts}) == 300
    messages = [m for p in parts for m in connector().parse(p.body)]
    assert [m.external_id for m in messages] == [f"m_{n}" for n in range(300)]
    assert messages[299].author_id == "9000000000000299"


@pytest.mark.parametrize("body", [[], "entry", {}, {"entry": {}}, {"object": "page", "entry": None},
                                  {"object": "instagram", "entry": []}])
def test_a_body_that_is_not_a_page_webhook_cannot_be_split_or_parsed(body):
    with pytest.raises(PayloadError):
        connector().split_webhook(body)
    with pytest.raises(PayloadError):
        connector().parse(body)


def test_a_malformed_entry_is_kept_for_parse_to_park_without_losing_its_siblings():
    good = example("webhook_messenger_text.json")["entry"][0]
    parts = connector().split_webhook({"object": "page", "entry": [good, "garbage", {"id": PAGE, "messaging": 7}]})
    assert len(parts) == 3 and parts[0].dedup_key.startswith("mid:")
    assert len(connector().parse(parts[0].body)) == 1
    for part in parts[1:]:
        with pytest.raises(PayloadError):
            connector().parse(part.body)


@pytest.mark.parametrize("item", [
    {"recipient": {"id": PAGE}, "timestamp": 1718103723417, "message": {"mid": "m_1", "text": "no sender"}},
    {"sender": {"id": KHALID}, "timestamp": "yesterday", "message": {"mid": "m_1", "text": "x"}},
    {"sender": {"id": KHALID}, "timestamp": 1718103723417, "message": {"text": "no mid"}},
    {"sender": {"id": KHALID}, "timestamp": 1718103723417, "message": {"mid": "m_1", "text": {"not": "text"}}},
    {"sender": {"id": KHALID}, "timestamp": 10**30, "message": {"mid": "m_1", "text": "x"}},
    {"sender": KHALID, "timestamp": 1718103723417, "message": "hello"},
    "not an event",
])
def test_an_unreadable_event_raises_payload_error(item):
    body = {"object": "page", "entry": [{"id": PAGE, "time": 1, "messaging": [item]}]}
    with pytest.raises(PayloadError):
        connector().parse(body)
    assert len(connector().split_webhook(body)) == 1  # still stored, to be parked


# ---- signatures and the handshake ---------------------------------------------------------
def test_a_signature_over_the_exact_wire_bytes_is_valid():
    body = example("webhook_messenger_text.json")
    body["entry"] += example("webhook_messenger_attachments.json")["entry"]
    raw = wire_bytes(body)
    assert b"\\u0627\\u0644" in raw and b"https:\\/\\/" in raw  # the bytes Meta really signs
    signature = sha256_header(raw)
    for name in ("X-Hub-Signature-256", "x-hub-signature-256", "X-HUB-SIGNATURE-256"):
        assert connector().verify({name: signature, "X-Hub-Signature": "sha1=ignored"}, raw)
    assert parse(json.loads(raw))[0].text.startswith("السلام عليكم")


def _bad_signatures():
    raw = wire_bytes(example("webhook_messenger_text.json"))
    good = sha256_header(raw)
    reserialised = json.dumps(json.loads(raw), ensure_ascii=False).encode()
    sha1 = "sha1=" + hmac.new(SECRET.encode(), raw, hashlib.sha1).hexdigest()
    return raw, {
        "missing": {},
        "wrong secret": {"X-Hub-Signature-256": sha256_header(raw, "another-secret")},
        "sha1 only": {"X-Hub-Signature": sha1},
        "sha1 in the sha256 header": {"X-Hub-Signature-256": sha1},
        "truncated": {"X-Hub-Signature-256": good[:-8]},
        "no prefix": {"X-Hub-Signature-256": good.removeprefix("sha256=")},
        "another body": {"X-Hub-Signature-256": sha256_header(wire_bytes(example("webhook_messenger_echo.json")))},
        "re-serialised body": {"X-Hub-Signature-256": sha256_header(reserialised)},
        "empty": {"X-Hub-Signature-256": ""},
    }


@pytest.mark.parametrize("case", list(_bad_signatures()[1]))
def test_a_bad_signature_is_rejected(case):
    raw, headers = _bad_signatures()
    assert connector().verify(headers[case], raw) is False


def test_without_an_app_secret_nothing_verifies():
    raw = wire_bytes(example("webhook_messenger_text.json"))
    assert FacebookConnector({"account_id": PAGE}).verify({"X-Hub-Signature-256": sha256_header(raw, "")}, raw) is False


def test_the_subscription_handshake_echoes_the_challenge_only_for_our_token():
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}
    assert connector().handshake(query) == "1158201444"
    assert connector().handshake({**query, "hub.verify_token": "guess"}) is None
    assert connector().handshake({**query, "hub.mode": "unsubscribe"}) is None
    assert connector().handshake({k: v for k, v in query.items() if k != "hub.verify_token"}) is None
    assert FacebookConnector({"account_id": PAGE}).handshake(query) is None


# ---- sending ------------------------------------------------------------------------------
def test_a_private_reply_is_the_send_api_request_of_the_reference():
    request = example("send_api_request_text.json")
    with FakePlatform() as fake:
        fake.reply("POST", "/me/messages", json=example("send_api_response.json"))
        result = connector(fake.url).send(reply(request["message"]["text"], recipient_id=request["recipient"]["id"],
                                                in_reply_to="m_rIRMu7yrCHabPxnQt5krXT8PZ6cBeJma1M1r7L"))
    (sent,) = fake.requests
    assert sent.json == request
    assert header(sent, "Authorization") == f"Bearer {TOKEN}" and "access_token" not in sent.query
    assert result.external_id == example("send_api_response.json")["message_id"]
    assert result.sent_at.tzinfo is None
    assert abs(datetime.now(UTC).replace(tzinfo=None) - result.sent_at) < timedelta(minutes=1)


def test_the_human_agent_tag_is_sent_when_asked_for():
    request = example("send_api_request_human_agent_tag.json")
    with FakePlatform() as fake:
        fake.reply("POST", "/me/messages", json=example("send_api_response.json"))
        connector(fake.url).send(reply(request["message"]["text"], recipient_id=request["recipient"]["id"],
                                       template="HUMAN_AGENT"))
    assert fake.requests[0].json == request


def test_a_private_reply_to_a_comment_goes_to_the_comment():
    request = example("private_reply_request.json")
    with FakePlatform() as fake:
        fake.reply("POST", f"/{PAGE}/messages", json=example("private_reply_response.json"))
        result = connector(fake.url).send(reply(request["message"]["text"], recipient_id="3391827465019283",
                                                in_reply_to=request["recipient"]["comment_id"]))
    assert fake.requests[0].path == f"/{PAGE}/messages"  # Private Replies' documented endpoint
    assert fake.requests[0].json == request
    assert result.external_id == example("private_reply_response.json")["message_id"]


def test_a_public_reply_comments_on_the_comment_it_answers():
    request = example("comment_reply_request.json")
    with FakePlatform() as fake:
        fake.reply("POST", f"/{HUDA_COMMENT}/comments", json=example("comment_reply_response.json"))
        result = connector(fake.url).send(reply(request["message"], recipient_id="2847561092837465",
                                                is_public=True, in_reply_to=HUDA_COMMENT))
    assert fake.requests[0].json == request
    assert result.external_id == "122150098765432101_5545617399698778"


def test_a_public_reply_without_a_comment_to_answer_is_refused_before_sending():
    with pytest.raises(PermanentError, match="comment"):
        connector().send(reply(is_public=True))


ERRORS = [
    ("error_outside_24h_window.json", WindowClosed, "10/2018278"),
    ("error_rate_limit_app_code4.json", RateLimited, "4"),
    ("error_rate_limit_user_code17.json", RateLimited, "17"),
    ("error_rate_limit_page_code32.json", RateLimited, "32"),
    ("error_rate_limit_code613.json", RateLimited, "613"),
    ("error_token_expired_190_463.json", AuthError, "190/463"),
    ("error_token_session_invalidated_190_460.json", AuthError, "190/460"),
    ("error_token_invalid_190.json", AuthError, "190"),
]


def test_every_recorded_error_file_is_covered():
    assert sorted(name for name, _, _ in ERRORS) == example_names("error_")


@pytest.mark.parametrize("name, error, code", ERRORS)
@pytest.mark.parametrize("status", [400, 403])
def test_recorded_graph_errors_map_by_code_whatever_the_status(name, error, code, status):
    with FakePlatform() as fake:
        fake.reply("POST", "/me/messages", status=status, json=example(name))
        with pytest.raises(error) as caught:
            connector(fake.url).send(reply())
    assert type(caught.value) is error and caught.value.code == code
    assert caught.value.reason.endswith((".", ")")) and len(caught.value.reason) > 30


def test_token_errors_name_their_cause_and_the_window_names_the_way_out():
    reasons = {}
    for name in ("error_token_expired_190_463.json", "error_token_session_invalidated_190_460.json",
                 "error_outside_24h_window.json"):
        with FakePlatform() as fake:
            fake.reply("POST", "/me/messages", status=400, json=example(name))
            with pytest.raises(PermanentError) as caught:
                connector(fake.url).send(reply())
        reasons[name] = caught.value.reason
    # The cause comes first, in our words; Meta's own message follows in brackets.
    assert "expired" in reasons["error_token_expired_190_463.json"].split("(")[0]
    assert "invalidated" in reasons["error_token_session_invalidated_190_460.json"].split("(")[0]
    assert "Reconnect the channel" in reasons["error_token_expired_190_463.json"]
    assert "24 hours" in reasons["error_outside_24h_window.json"]


def test_a_rate_limit_waits_as_long_as_the_business_use_case_header_says():
    usage = example("usage_headers_example.json")  # estimated_time_to_regain_access: 9 minutes
    with FakePlatform() as fake:
        fake.reply("POST", "/me/messages", status=429, json=example("error_rate_limit_page_code32.json"), headers=usage)
        with pytest.raises(RateLimited) as caught:
            connector(fake.url).send(reply())
    assert caught.value.retry_after == 9 * 60


def test_a_rate_limit_without_usage_headers_leaves_the_wait_to_the_caller():
    with FakePlatform() as fake:
        fake.reply("POST", "/me/messages", status=400, json=example("error_rate_limit_app_code4.json"))
        with pytest.raises(RateLimited) as caught:
            connector(fake.url).send(reply())
    assert caught.value.retry_after is None


@pytest.mark.parametrize("status, error, expected", [
    (400, {"code": 230, "message": "(#230) Requires pages_messaging permission"}, AuthError),
    (403, {"code": 10, "message": "(#10) Application does not have permission for this action"}, AuthError),
    (400, {"code": 100, "error_subcode": 2018001, "message": "No matching user found"}, PermanentError),
    (400, {"code": 551, "message": "This person isn't available right now."}, PermanentError),
    (500, {"code": 2, "message": "An unexpected error has occurred.", "is_transient": True}, TransientError),
    (400, {"code": 1, "message": "An unknown error occurred"}, TransientError),
    (503, {"code": 99999, "message": "Service temporarily unavailable"}, TransientError),
    (401, {}, AuthError),
    (429, {}, RateLimited),
])
def test_other_graph_errors(status, error, expected):
    with FakePlatform() as fake:
        fake.reply("POST", "/me/messages", status=status, json={"error": error} if error else {})
        with pytest.raises(expected) as caught:
            connector(fake.url).send(reply())
    assert type(caught.value) is expected
    if error.get("code") in (230, 10):
        assert "missing a permission" in caught.value.reason


def test_a_server_error_is_retried_and_the_next_attempt_works():
    with FakePlatform() as fake:
        fake.reply("POST", "/me/messages", status=500, body=b"<html>Internal Server Error</html>")
        fake.reply("POST", "/me/messages", json=example("send_api_response.json"))
        c = connector(fake.url)
        with pytest.raises(TransientError):
            c.send(reply())
        assert c.send(reply()).external_id.startswith("m__Tgfpe")
    assert len(fake.requests) == 2


def test_a_platform_that_does_not_answer_in_time_is_a_transient_error():
    with FakePlatform() as fake:
        fake.reply("POST", "/me/messages", json=example("send_api_response.json"), delay=1.0)
        with pytest.raises(TransientError) as caught:
            connector(fake.url, timeout=0.2).send(reply())
    assert caught.value.code == "timeout"


def test_a_success_status_with_a_body_that_is_not_json_is_transient():
    with FakePlatform() as fake:
        fake.reply("POST", "/me/messages", body=b'{"recipient_id": "72145830')
        with pytest.raises(TransientError) as caught:
            connector(fake.url).send(reply())
    assert caught.value.code == "malformed_json"


def test_an_error_envelope_with_a_success_status_still_raises():
    with FakePlatform() as fake:
        fake.reply("POST", "/me/messages", json=example("error_token_expired_190_463.json"))
        with pytest.raises(AuthError):
            connector(fake.url).send(reply())


def test_an_accepted_reply_without_an_id_is_not_resent():
    with FakePlatform() as fake:
        fake.reply("POST", "/me/messages", json={"recipient_id": KHALID})
        with pytest.raises(PermanentError) as caught:
            connector(fake.url).send(reply())
    assert not isinstance(caught.value, TransientError)


# ---- health -------------------------------------------------------------------------------
def test_health_check_reads_the_page_name():
    with FakePlatform() as fake:
        fake.reply("GET", f"/{PAGE}", json={"id": PAGE, "name": "Najm Telecom"})
        health = connector(fake.url).health_check()
    assert health.ok and health.detail == "Najm Telecom"
    assert fake.requests[0].arg("fields") == "id,name"
    assert header(fake.requests[0], "Authorization") == f"Bearer {TOKEN}"


def test_health_check_raises_the_mapped_error_of_a_dead_token():
    with FakePlatform() as fake:
        fake.reply("GET", f"/{PAGE}", status=400, json=example("error_token_expired_190_463.json"))
        with pytest.raises(AuthError, match="expired"):
            connector(fake.url).health_check()


# ---- reconciliation: the read API fills what lost webhooks never delivered ----------------
CONVERSATIONS, FEED = f"/{PAGE}/conversations", f"/{PAGE}/feed"
SINCE = 1718100000  # 2024-06-11T10:00:00Z, before every example
CURSOR = json.dumps({"since": SINCE})
MISSED_DM = "m_Tz8kQ2vLw0HcR4nYbXa1PdEe6sJ9uMfGi3oKqV7yC5tB-xN_pWlZ0rSaUjDhFg2Ek4iO8cYmLnQvRb1"
MISSED_COMMENT = "122150098765432101_8801234567890123"
NEWEST = 1718109069  # 2024-06-11T12:31:09Z, the missed comment: the newest item of the examples
RATE_LIMIT_HEADERS = {"X-Business-Use-Case-Usage": json.dumps(
    {PAGE: [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 4}]})}
EMPTY = {"data": []}


def script(fake: FakePlatform, conversations=("graph_conversations_page1.json", "graph_conversations_page2_last.json"),
           feed=("graph_feed_page.json",)) -> None:
    for page in conversations:
        fake.reply("GET", CONVERSATIONS, json=example(page) if isinstance(page, str) else page)
    for page in feed:
        fake.reply("GET", FEED, json=example(page) if isinstance(page, str) else page)


def reconcile(cursor: str | None = CURSOR, **pages):
    with FakePlatform() as fake:
        script(fake, **pages)
        result = connector(fake.url).poll(cursor)
    return result, fake


def polled_messages(result) -> dict[str, InboundMessage]:
    return {m.external_id: m for p in result.payloads for m in connector().parse(p.body)}


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def conversation(conversation_id: str, *messages: tuple[str, str, float], after: str | None = None) -> dict:
    """A conversations-API conversation; messages are (mid, sender, epoch), newest first."""
    data = [{"id": mid, "message": f"text of {mid}", "created_time": iso(at),
             "from": {"id": sender, "name": "Najm Telecom" if sender == PAGE else "A customer"},
             "to": {"data": [{"id": PAGE if sender != PAGE else KHALID}]}} for mid, sender, at in messages]
    paging = {"cursors": {"before": "b", "after": after or "a"}}
    if after:
        paging["next"] = f"https://graph.facebook.com/v21.0/{conversation_id}/messages?limit=25&after={after}"
    return {"id": conversation_id, "updated_time": data[0]["created_time"],
            "messages": {"data": data, "paging": paging}}


def listing(*entries: dict, after: str | None = None) -> dict:
    page = {"data": list(entries), "paging": {"cursors": {"before": "b", "after": after or "z"}}}
    if after:
        page["paging"]["next"] = f"https://graph.facebook.com/v21.0/{PAGE}/conversations?after={after}"
    return page


def test_a_reconciliation_poll_finds_a_message_the_webhook_never_delivered():
    result, fake = reconcile()
    missed = polled_messages(result)[MISSED_DM]
    assert missed == InboundMessage(
        platform="facebook", external_id=MISSED_DM, author_id=KHALID, author_name="Khalid Al-Harbi",
        text="لسه ما اشتغلت الشريحة، جربت أعيد التشغيل مرتين", is_public=False,
        created_at=datetime(2024, 6, 11, 11, 15, 42), conversation_key=KHALID,
    )
    first = fake.requests[0]
    assert first.path == CONVERSATIONS and first.arg("platform") == "messenger"
    assert first.arg("fields") == ("id,updated_time,messages.limit(25)"
                                   "{id,message,from,to,created_time,attachments,sticker}")
    assert first.arg("since") is None  # the conversations edge has no time-based paging
    assert header(first, "Authorization") == f"Bearer {TOKEN}" and "access_token" not in first.query


def test_a_reconciliation_poll_finds_a_comment_the_webhook_never_delivered():
    result, fake = reconcile()
    comment = polled_messages(result)[MISSED_COMMENT]
    assert comment == InboundMessage(
        platform="facebook", external_id=MISSED_COMMENT, author_id="5528391047261835", author_name="Omar Haddad",
        text="نفس المشكلة عندي، هذي صورة الرسالة اللي تطلع", is_public=True,
        created_at=datetime(2024, 6, 11, 12, 31, 9), thread_id=POST, parent_id=POST,
        attachments=(Attachment(type="image", external_id="1029384756473829", url=(
            "https://scontent.xx.fbcdn.net/v/t39.30808-6/448522311_1029384756473829_5528391047261835_n.jpg"
            "?stp=dst-jpg_s720x720&_nc_cat=111&ccb=1-7&_nc_sid=5f2048&oh=00_AYC9kWq&oe=666E91B2")),),
    )
    (feed,) = fake.requests_to(FEED)
    fields = feed.arg("fields")
    assert "comments.filter(stream).order(reverse_chronological).limit(25)" in fields  # replies too, newest first
    assert "{id,message,from,created_time,parent{id},attachment}" in fields
    assert feed.arg("since") is None  # feed's since filters posts by creation, not by their latest comment


@pytest.mark.parametrize("webhook", ["webhook_messenger_text.json", "webhook_messenger_echo.json",
                                     "webhook_feed_comment_add.json", "webhook_feed_comment_reply.json",
                                     "webhook_feed_page_own_comment.json"])
def test_a_message_seen_by_webhook_and_by_reconciliation_has_the_same_ids(webhook):
    """Messages are unique by (channel, external_id): both paths must name a message alike."""
    pushed = only(webhook)
    polled = polled_messages(reconcile()[0])[pushed.external_id]

    def identity(m):
        return (m.external_id, m.author_id, m.text, m.is_public, m.thread_id, m.parent_id, m.direction,
                m.conversation_key, m.action, m.created_at.replace(microsecond=0))
    assert identity(polled) == identity(pushed)


def test_the_pages_own_messages_and_comments_are_outbound():
    messages = polled_messages(reconcile()[0])
    echo, own_comment = messages[OUR_REPLY], messages["122150098765432101_2791821255434103"]
    assert (echo.direction, echo.author_id, echo.conversation_key) == ("outbound", PAGE, KHALID)
    assert (own_comment.direction, own_comment.author_id, own_comment.parent_id) == ("outbound", PAGE, FAISAL_COMMENT)
    outbound = {m.external_id for m in messages.values() if m.direction == "outbound"}
    assert outbound == {OUR_REPLY, own_comment.external_id}


def test_each_page_is_stored_as_returned_with_its_source_and_the_polls_window():
    result, _ = reconcile()
    bodies = {(p.body["tawasul_source"], p.body["page"]["data"][0]["id"]): p.body for p in result.payloads}
    assert set(bodies) == {("graph_conversations", "t_1472583690214785"), ("graph_conversations", "t_6839201745512398"),
                           ("graph_posts", POST)}
    assert bodies["graph_conversations", "t_1472583690214785"]["page"] == example("graph_conversations_page1.json")
    assert all(body["since"] == SINCE for body in bodies.values())
    assert len({p.dedup_key for p in result.payloads}) == 3 and all(p.dedup_key for p in result.payloads)
    # Oldest first: the second listing page (older conversations) is stored before the first.
    sources = [(p.body["tawasul_source"], p.body["page"]["data"][0]["id"]) for p in result.payloads]
    assert sources.index(("graph_conversations", "t_6839201745512398")) < sources.index(
        ("graph_conversations", "t_1472583690214785"))


def test_each_read_page_parses_oldest_first_into_the_webhook_shapes():
    for name in example_names("graph_"):
        source = "graph_posts" if "feed" in name else "graph_conversations"
        messages = connector().parse({"tawasul_source": source, "since": SINCE, "page": example(name)})
        assert messages and all(m.platform == "facebook" and m.created_at.tzinfo is None for m in messages)
        assert [m.created_at for m in messages] == sorted(m.created_at for m in messages)


def test_read_attachments_keep_their_type_and_url():
    messages = {m.external_id[:8]: m for m in polled_messages(reconcile()[0]).values()}
    (image,) = messages["m_bV5nWq"].attachments
    assert (image.type, image.mime_type, image.external_id) == ("image", "image/jpeg", "1158203947561234")
    assert image.url.startswith("https://scontent.xx.fbcdn.net/v/t1.15752-9/448211904_")
    (voice,) = messages["m_Lq2wE4"].attachments
    assert voice.type == "audio" and voice.url.startswith("https://cdn.fbsbx.com/")
    assert voice.name.startswith("audioclip") and voice.mime_type == "audio/mpeg"
    (sticker,) = messages["m_Zx9cV7"].attachments
    assert sticker.type == "sticker" and sticker.url.startswith("https://scontent.xx.fbcdn.net/v/t39.1997-6/")


def test_the_listing_is_paged_through_its_after_cursor_until_the_last_page():
    _, fake = reconcile()
    first, second = fake.requests_to(CONVERSATIONS)
    assert first.arg("after") is None
    assert second.arg("after") == example("graph_conversations_page1.json")["paging"]["cursors"]["after"]
    assert second.arg("fields") == first.arg("fields") and second.arg("platform") == "messenger"
    assert len(fake.requests_to(FEED)) == 1  # the feed example is a last page


def test_paging_stops_at_conversations_updated_before_the_window():
    old = conversation("t_old", ("m_old", KHALID, SINCE - 3600))
    result, fake = reconcile(conversations=[listing(old, after="more")], feed=[EMPTY])
    assert len(fake.requests_to(CONVERSATIONS)) == 1 and result.payloads == []


def test_paging_is_bounded_even_if_the_platform_always_offers_a_next_page():
    busy = [listing(conversation(f"t_{n}", (f"m_{n}", KHALID, SINCE + 60)), after=f"page-{n}") for n in range(15)]
    feed = [{**EMPTY, "paging": {"next": f"https://x/?after=f{n}", "cursors": {"after": f"f{n}"}}} for n in range(9)]
    with FakePlatform() as fake:
        script(fake, conversations=busy, feed=feed)
        result = connector(fake.url).poll(CURSOR)
    assert len(fake.requests_to(CONVERSATIONS)) == 10 and len(fake.requests_to(FEED)) == 2
    assert len(result.payloads) == 10


def test_paging_stops_when_the_platform_repeats_a_cursor():
    again = listing(conversation("t_1", ("m_1", KHALID, SINCE + 60)), after="same")
    _, fake = reconcile(conversations=[again], feed=[EMPTY])
    assert len(fake.requests_to(CONVERSATIONS)) == 2


def test_a_busy_conversation_is_read_further_while_its_messages_are_in_the_window():
    busy = conversation("t_busy", ("m_3", KHALID, SINCE + 300), ("m_2", PAGE, SINCE + 200), after="older")
    quiet = conversation("t_quiet", ("m_q", KHALID, SINCE - 100), after="older-still")  # already before the window
    older = conversation("t_busy", ("m_1", KHALID, SINCE + 100), ("m_0", KHALID, SINCE - 50))["messages"]
    with FakePlatform() as fake:
        script(fake, conversations=[listing(busy, quiet)], feed=[EMPTY])
        fake.reply("GET", "/t_busy/messages", json=older)
        result = connector(fake.url).poll(CURSOR)
    (further,) = fake.requests_to("/t_busy/messages")
    assert further.arg("after") == "older"
    assert further.arg("fields") == "id,message,from,to,created_time,attachments,sticker"
    assert fake.requests_to("/t_quiet/messages") == []
    nested = [p.body for p in result.payloads if p.body["tawasul_source"] == "graph_messages"]
    assert [b["conversation_id"] for b in nested] == ["t_busy"]
    assert set(polled_messages(result)) == {"m_3", "m_2", "m_1"}  # m_0 and m_q are before the window


def test_a_busy_posts_comments_are_read_further():
    post = example("graph_feed_page.json")
    post["data"][0]["comments"]["paging"]["next"] = f"https://graph.facebook.com/v21.0/{POST}/comments?after=c2"
    post["data"][0]["comments"]["paging"]["cursors"]["after"] = "c2"
    more = {"data": [{"id": "122150098765432101_1000000000000001", "message": "أول تعليق", "created_time":
                      "2024-06-11T10:05:00+0000", "from": {"id": "1000000000000001", "name": "Early Bird"}}]}
    with FakePlatform() as fake:
        script(fake, conversations=[EMPTY], feed=[post])
        fake.reply("GET", f"/{POST}/comments", json=more)
        result = connector(fake.url).poll(CURSOR)
    (further,) = fake.requests_to(f"/{POST}/comments")
    assert further.arg("after") == "c2"
    assert (further.arg("filter"), further.arg("order")) == ("stream", "reverse_chronological")
    early = polled_messages(result)["122150098765432101_1000000000000001"]
    assert (early.thread_id, early.parent_id, early.text) == (POST, POST, "أول تعليق")


def test_the_cursor_moves_to_the_newest_item_less_an_overlap():
    result, _ = reconcile()
    assert json.loads(result.cursor) == {"since": NEWEST - 60}


def test_the_overlap_is_not_stored_twice_and_the_cursor_never_moves_back():
    second, _ = reconcile(cursor=json.dumps({"since": NEWEST - 60}))
    third, _ = reconcile(cursor=second.cursor)
    assert second.cursor == third.cursor == json.dumps({"since": NEWEST - 60})
    assert [p.dedup_key for p in second.payloads] == [p.dedup_key for p in third.payloads]  # stored once
    assert set(polled_messages(second)) == {MISSED_COMMENT}  # only what is in the window
    ahead, _ = reconcile(cursor=json.dumps({"since": NEWEST - 10}))
    assert json.loads(ahead.cursor) == {"since": NEWEST - 10}  # newest - 60 would move it back


def test_an_empty_poll_keeps_the_cursor():
    result, fake = reconcile(conversations=[EMPTY], feed=[EMPTY])
    assert result.payloads == [] and result.cursor == CURSOR
    assert [r.path for r in fake.requests] == [CONVERSATIONS, FEED]


def test_a_poll_with_nothing_after_the_cursor_stores_nothing_and_keeps_it():
    late = json.dumps({"since": NEWEST + 3600})
    result, _ = reconcile(cursor=late)
    assert result.payloads == [] and result.cursor == late


def test_the_first_poll_looks_back_a_bounded_window():
    now = time.time()
    recent = conversation("t_new", ("m_recent", KHALID, now - 2 * 3600), ("m_stale", KHALID, now - 30 * 3600))
    result, _ = reconcile(cursor=None, conversations=[listing(recent)], feed=[EMPTY])
    assert set(polled_messages(result)) == {"m_recent"}
    since = json.loads(result.cursor)["since"]
    assert abs(since - (int(now) - 2 * 3600 - 60)) <= 2
    nothing, _ = reconcile(cursor=None)  # the examples are older than 24 hours
    assert nothing.payloads == [] and nothing.cursor is None


@pytest.mark.parametrize("cursor", ["not json", "[1718100000]", '{"since": "soon"}', '{"since": 1e30}',
                                    '{"since": -5}'])
def test_an_unreadable_cursor_starts_over_with_the_lookback(cursor):
    result, fake = reconcile(cursor=cursor)  # the examples are older than the 24-hour lookback
    assert result.payloads == [] and result.cursor == cursor
    assert [r.path for r in fake.requests] == [CONVERSATIONS, FEED]  # no conversation is recent: no paging


@pytest.mark.parametrize("status, name, error, code", [
    (400, "error_rate_limit_page_code32.json", RateLimited, "32"),
    (400, "error_rate_limit_app_code4.json", RateLimited, "4"),
    (400, "error_token_expired_190_463.json", AuthError, "190/463"),
    (401, "error_token_invalid_190.json", AuthError, "190"),
])
def test_errors_during_a_poll_are_the_mapped_connector_errors(status, name, error, code):
    with FakePlatform() as fake:
        fake.reply("GET", CONVERSATIONS, status=status, json=example(name), headers=RATE_LIMIT_HEADERS)
        with pytest.raises(error) as caught:
            connector(fake.url).poll(CURSOR)
    assert type(caught.value) is error and caught.value.code == code
    if error is RateLimited:
        assert caught.value.retry_after == 4 * 60


def test_an_error_on_the_feed_after_the_conversations_fails_the_whole_poll():
    """Nothing is returned, so the cursor does not move: the next poll reads the window again."""
    with FakePlatform() as fake:
        script(fake, feed=[])
        denied = {"error": {"code": 10, "message": "(#10) Requires pages_read_engagement"}}
        fake.reply("GET", FEED, status=400, json=denied)
        with pytest.raises(AuthError, match="missing a permission"):
            connector(fake.url).poll(CURSOR)
    with FakePlatform() as fake:
        fake.reply("GET", CONVERSATIONS, status=500, body=b"<html>oops</html>")
        with pytest.raises(TransientError):
            connector(fake.url).poll(CURSOR)


def test_a_poll_needs_the_page_id():
    with pytest.raises(PermanentError, match="account id"):
        FacebookConnector({"access_token": TOKEN}).poll(None)


def test_an_unreadable_read_page_is_stored_once_so_that_it_is_parked_with_a_reason():
    broken = listing(conversation("t_x", ("m_x", KHALID, SINCE + 60)))
    del broken["data"][0]["messages"]["data"][0]["from"]
    result, _ = reconcile(conversations=[broken], feed=[EMPTY])
    (payload,) = result.payloads
    assert payload.dedup_key.startswith("graph_conversations:unreadable:")
    with pytest.raises(PayloadError):
        connector().parse(payload.body)
    assert result.cursor == CURSOR


@pytest.mark.parametrize("body", [
    {"tawasul_source": "graph_something", "since": SINCE, "page": EMPTY},
    {"tawasul_source": "graph_conversations", "since": SINCE, "page": {"data": "x"}},
    {"tawasul_source": "graph_conversations", "since": SINCE, "page": ["not", "an", "object"]},
    {"tawasul_source": "graph_posts", "since": SINCE, "page": {"data": [{"comments": {"data": [
        {"id": "1_2", "message": "a post without an id", "from": {"id": "3"},
         "created_time": "2024-06-11T11:00:00+0000"}]}}]}},
    {"tawasul_source": "graph_comments", "since": SINCE, "page": EMPTY},
    {"tawasul_source": "graph_messages", "since": SINCE, "page": {"data": [
        {"id": "m_1", "from": {"id": KHALID}, "created_time": "yesterday"}]}},
])
def test_a_read_body_that_cannot_be_read_raises_payload_error(body):
    with pytest.raises(PayloadError):
        connector().parse(body)


def test_a_read_comment_without_its_author_names_the_missing_permission():
    page = example("graph_feed_page.json")
    del page["data"][0]["comments"]["data"][0]["from"]
    with pytest.raises(PayloadError, match="pages_read_user_content"):
        connector().parse({"tawasul_source": "graph_posts", "since": SINCE, "page": page})
