"""Telegram Bot API connector, against the wire examples and a fake Bot API on 127.0.0.1."""
from __future__ import annotations

import json
import re
from datetime import datetime

import pytest

from connectors.errors import AuthError, PayloadError, PermanentError, RateLimited, TransientError
from connectors.registry import connector_for
from connectors.telegram import ALLOWED_UPDATES, TelegramConnector
from connectors.types import Attachment, OutboundMessage
from tests.fakes.server import FakePlatform
from tests.fixtures import PLATFORM_EXAMPLES

EXAMPLES = PLATFORM_EXAMPLES / "telegram"
TOKEN = "7012345678:AAH-s3cret_Token"
BOT_ID = "7012345678"
SECRET = "Zx9_k2-RtY7qLm0PaB3c"
HASSAN, GROUP = "5123456789", "-1001987654321"


def load(name: str):
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def route(method: str) -> str:
    return re.escape(f"/bot{TOKEN}/{method}")


def make(fake: FakePlatform | None = None, **settings) -> TelegramConnector:
    base = {"account_id": BOT_ID, "bot_token": TOKEN, "secret_token": SECRET}
    if fake:
        base["api_base"] = fake.url
    return TelegramConnector({**base, **settings})


def update(n: int, key: str = "message", **message) -> dict:
    body = {"message_id": 7, "from": {"id": 612345987, "is_bot": False, "first_name": "Dina"},
            "chat": {"id": 612345987, "first_name": "Dina", "type": "private"}, "date": 1718125334}
    return {"update_id": n, key: {**body, **message}}


def reply(text: str, chat: str = HASSAN, in_reply_to: str | None = None, **kw) -> OutboundMessage:
    return OutboundMessage(text=text, recipient_id=chat, is_public=False, idempotency_key="k1",
                           in_reply_to=in_reply_to, **kw)


@pytest.fixture
def fake():
    with FakePlatform() as server:
        yield server


# ---- the example payloads ---------------------------------------------------------------

def test_getupdates_response_parses_to_the_five_updates_it_holds():
    first, answer, photo, edit, topic = make().parse(load("getupdates_response.json"))

    assert (first.external_id, first.conversation_key, first.author_id) == (f"{HASSAN}:1041", HASSAN, HASSAN)
    assert (first.author_handle, first.author_name) == ("hassan_ali", "حسن العلي")
    assert first.text == "السلام عليكم، الفاتورة وصلتني مرتين هذا الشهر"
    assert first.is_private and first.thread_id is None and first.parent_id is None
    assert first.created_at == datetime(2024, 6, 11, 17, 0, 4)
    assert (first.direction, first.action, first.attachments) == ("inbound", "create", ())

    # A reply to the bot's question: parent is the bot's message in the same chat.
    assert (answer.external_id, answer.parent_id) == (f"{HASSAN}:1043", f"{HASSAN}:1042")
    assert answer.text == "رقم الحساب 4409-2231" and answer.direction == "inbound"

    # Photo with a caption: the largest size, by file_id (file URLs embed the token).
    assert photo.external_id == "612345987:88" and photo.author_id == "612345987"
    assert (photo.author_name, photo.author_handle) == ("Dina", None)
    assert photo.text == "Router shows this red light since morning"
    largest = "AgACAgQAAxkBAAIBeVGViflxutnrYecpJbsNaUXkFVi3CzOkvgsOM5Ls"
    assert photo.attachments == (Attachment("image", external_id=largest),)

    # The edit keeps the original's id and brings the new text.
    assert (edit.external_id, edit.action) == (f"{HASSAN}:1041", "update")
    assert edit.text == "السلام عليكم، الفاتورة وصلتني مرتين هذا الشهر (شهر مايو)"

    # A public forum-topic message: message ids are per chat, the thread is the topic.
    assert (topic.external_id, topic.conversation_key) == (f"{GROUP}:5120", GROUP)
    assert topic.is_public and topic.thread_id == f"{GROUP}:5101" and topic.parent_id == f"{GROUP}:5101"
    assert (topic.author_id, topic.author_handle, topic.author_name) == ("902837465", "karim_eg", "Karim")
    assert topic.text == "@NajmCareBot el network fel Ma3adi wa2fa mn el sob7"
    assert topic.created_at == datetime(2024, 6, 11, 17, 3, 24)


def test_each_polled_update_parses_on_its_own_like_the_whole_response():
    connector = make()
    whole = connector.parse(load("getupdates_response.json"))
    one_by_one = [e for u in load("getupdates_response.json")["result"] for e in connector.parse(u)]
    assert one_by_one == whole


def test_webhook_update_message_is_a_private_start_command():
    [message] = make().parse(load("webhook_update_message.json"))
    assert (message.external_id, message.author_id, message.text) == (f"{HASSAN}:1045", HASSAN, "/start")
    assert message.is_private and message.created_at == datetime(2024, 6, 11, 17, 6, 44)


def test_bot_blocked_notice_and_empty_poll_yield_no_messages():
    assert make().parse(load("webhook_update_my_chat_member_blocked.json")) == []
    assert make().parse(load("getupdates_empty.json")) == []


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("getupdates_*.json")) + sorted(EXAMPLES.glob("webhook_*.json")),
                         ids=lambda p: p.name)
def test_debug_cli_parses_every_inbound_example_with_only_an_account_id(path):
    connector = connector_for("telegram", {"account_id": BOT_ID})
    for event in connector.parse(json.loads(path.read_text(encoding="utf-8"))):
        json.dumps(event.to_dict(), ensure_ascii=False)


# ---- message shapes ---------------------------------------------------------------------

def test_the_bots_own_message_is_an_outbound_echo():
    sent = load("sendmessage_response.json")["result"]
    [echo] = make().parse({"update_id": 9, "message": sent})
    assert echo.direction == "outbound" and echo.external_id == f"{HASSAN}:1046"


def test_channel_post_is_public_and_authored_by_the_channel():
    channel = {"id": -1001234567890, "title": "Najm News", "username": "najmnews", "type": "channel"}
    body = {"update_id": 10, "channel_post": {"message_id": 3, "sender_chat": channel, "chat": channel,
                                              "date": 1718125204, "text": "صيانة مجدولة الليلة"}}
    [post] = make().parse(body)
    assert (post.author_id, post.author_handle, post.author_name) == ("-1001234567890", "najmnews", "Najm News")
    assert post.is_public and post.external_id == "-1001234567890:3" and post.thread_id == "-1001234567890:3"


def test_business_chats_tell_customer_from_owner_and_report_edits_and_deletes():
    connector = make()
    customer = update(20, "business_message", text="hello", business_connection_id="bc1")
    owner = update(21, "business_message", text="how can I help?", business_connection_id="bc1",
                   **{"from": {"id": 4400112233, "is_bot": False, "first_name": "Najm Shop"}})
    edited = update(22, "edited_business_message", text="hello!", edit_date=1718125400)
    deleted = {"update_id": 23, "deleted_business_messages": {
        "business_connection_id": "bc1", "chat": {"id": 612345987, "type": "private"}, "message_ids": [7, 8]}}

    assert connector.parse(customer)[0].direction == "inbound"
    assert connector.parse(owner)[0].direction == "outbound"
    [edit] = connector.parse(edited)
    assert (edit.external_id, edit.action, edit.text) == ("612345987:7", "update", "hello!")
    removed = connector.parse(deleted)
    assert [(m.external_id, m.action, m.text) for m in removed] == [("612345987:7", "delete", ""),
                                                                     ("612345987:8", "delete", "")]


def test_attachments_of_every_kind_without_text():
    body = update(30, document={"file_id": "DOC1", "file_name": "فاتورة.pdf", "mime_type": "application/pdf"},
                  voice={"file_id": "VOI1", "duration": 3, "mime_type": "audio/ogg"},
                  video={"file_id": "VID1", "duration": 9, "mime_type": "video/mp4"},
                  sticker={"file_id": "STK1", "emoji": "😡", "width": 512, "height": 512},
                  location={"latitude": 31.9539, "longitude": 35.9106})
    [message] = make().parse(body)
    assert message.text == ""
    assert set(message.attachments) == {
        Attachment("file", external_id="DOC1", name="فاتورة.pdf", mime_type="application/pdf"),
        Attachment("audio", external_id="VOI1", mime_type="audio/ogg"),
        Attachment("video", external_id="VID1", mime_type="video/mp4"),
        Attachment("sticker", external_id="STK1", name="😡"),
        Attachment("location", url="geo:31.9539,35.9106"),
    }


def test_an_animation_is_listed_once_although_telegram_also_sends_it_as_document():
    gif = {"file_id": "GIF1", "file_name": "router.mp4", "mime_type": "video/mp4"}
    [message] = make().parse(update(31, animation=gif, document=gif))
    assert message.attachments == (Attachment("video", external_id="GIF1", name="router.mp4", mime_type="video/mp4"),)


def test_service_messages_and_unknown_updates_yield_nothing():
    joined = update(32, new_chat_members=[{"id": 1, "is_bot": False, "first_name": "A"}])
    assert make().parse(joined) == []
    assert make().parse({"update_id": 33, "callback_query": {"id": "1", "data": "x"}}) == []
    assert make().parse({"update_id": 34}) == []


def test_arabic_emoji_and_direction_marks_are_kept_exactly():
    text = "\u200f  مرحبا 👋🏽 الراوتر\u200e (Orange) لا يعمل ❤️\u200f  \n"
    [message] = make().parse(update(40, text=text, **{"from": {"id": 612345987, "first_name": "  دينا "}}))
    assert message.text == text


def test_very_long_text_is_kept_whole():
    text = "ب" * 4000 + "🙂" * 96
    [message] = make().parse(update(41, text=text))
    assert message.text == text and len(message.text) == 4096


@pytest.mark.parametrize("body", [
    [],
    "update",
    {},
    {"ok": False, "error_code": 401, "description": "Unauthorized"},
    {"ok": True, "result": "nope"},
    {"ok": True, "result": [7]},
    {"update_id": "abc", "message": {}},
    {"update_id": 1, "message": {"message_id": 1, "date": 1718125204, "text": "no chat"}},
    {"update_id": 1, "message": {"message_id": 1, "chat": {"id": 5, "type": "private"}, "text": "x",
                                 "date": "yesterday"}},
    {"update_id": 1, "message": {"message_id": 1.5, "chat": {"id": 5, "type": "private"}, "text": "x",
                                 "date": 1}},
    {"update_id": 1, "message": {"message_id": 1, "chat": {"id": 5, "type": "private"}, "text": 12, "date": 1}},
    {"update_id": 1, "deleted_business_messages": {"chat": {"id": 5}}},
])
def test_unreadable_bodies_raise_payload_error(body):
    with pytest.raises(PayloadError):
        make().parse(body)


# ---- webhook ----------------------------------------------------------------------------

def test_webhook_secret_header_right_any_case_wrong_or_missing():
    raw = json.dumps(load("webhook_update_message.json"), separators=(",", ":")).encode()
    connector = make()
    assert connector.verify({"X-Telegram-Bot-Api-Secret-Token": SECRET}, raw)
    assert connector.verify({"x-telegram-bot-api-secret-token": SECRET}, raw)
    assert not connector.verify({"X-Telegram-Bot-Api-Secret-Token": SECRET[:-1]}, raw)
    assert not connector.verify({"X-Telegram-Bot-Api-Secret-Token": ""}, raw)
    assert not connector.verify({}, raw)
    assert not make(secret_token=None).verify({"X-Telegram-Bot-Api-Secret-Token": ""}, raw)


def test_split_webhook_keeps_the_one_update_keyed_by_update_id():
    body = load("webhook_update_message.json")
    [payload] = make().split_webhook(body)
    assert payload.body == body and payload.dedup_key == "update:348120516"
    assert make().parse(payload.body)[0].external_id == f"{HASSAN}:1045"


@pytest.mark.parametrize("body", [{}, {"message": {}}, [], {"update_id": None}])
def test_split_webhook_rejects_a_body_without_update_id(body):
    with pytest.raises(PayloadError):
        make().split_webhook(body)


# ---- polling ----------------------------------------------------------------------------

def test_polling_advances_the_offset_and_empty_polls_keep_the_cursor(fake):
    fake.reply("POST", route("getUpdates"), json=load("getupdates_response.json"))
    fake.reply("POST", route("getUpdates"), json={"ok": True, "result": [load("webhook_update_message.json")]})
    fake.reply("POST", route("getUpdates"), json=load("getupdates_empty.json"))
    connector = make(fake)

    first = connector.poll(None)
    assert first.cursor == "348120516"
    assert [p.dedup_key for p in first.payloads] == [f"update:{n}" for n in range(348120511, 348120516)]
    assert first.payloads[0].body == load("getupdates_response.json")["result"][0]
    second = connector.poll(first.cursor)
    assert second.cursor == "348120517" and [p.dedup_key for p in second.payloads] == ["update:348120516"]
    third = connector.poll(second.cursor)
    assert third.payloads == [] and third.cursor == "348120517"

    sent = [r.json for r in fake.requests_to(route("getUpdates"))]
    assert sent[0] == {"limit": 100, "timeout": 0, "allowed_updates": ALLOWED_UPDATES}
    assert sent[1]["offset"] == 348120516 and sent[2]["offset"] == 348120517
    assert {"message", "edited_message", "business_message", "deleted_business_messages",
            "my_chat_member"} <= set(sent[0]["allowed_updates"])


def test_an_empty_first_poll_keeps_no_cursor(fake):
    fake.reply("POST", route("getUpdates"), json=load("getupdates_empty.json"))
    assert make(fake).poll(None).cursor is None


def test_a_redelivered_update_gives_the_same_dedup_key_and_message_id(fake):
    # An offset that was not confirmed (crash before the cursor was saved) replays the batch.
    batch = {"ok": True, "result": [load("webhook_update_message.json")]}
    fake.reply("POST", route("getUpdates"), json=batch)
    connector = make(fake)
    a, b = connector.poll(None), connector.poll(None)
    assert a.payloads[0].dedup_key == b.payloads[0].dedup_key == "update:348120516"
    assert connector.parse(a.payloads[0].body) == connector.parse(b.payloads[0].body)


def test_long_poll_waits_longer_than_the_poll_time(fake):
    fake.reply("POST", route("getUpdates"), json=load("getupdates_empty.json"), delay=1.0)
    make(fake, timeout=0.5, long_poll_seconds=1).poll("5")
    assert fake.requests[0].json["timeout"] == 1


def test_a_webhook_channel_does_not_poll(fake):
    result = make(fake, mode="webhook").poll("348120516")
    assert result.payloads == [] and result.cursor == "348120516" and fake.requests == []


def test_a_corrupt_cursor_is_a_permanent_error_not_a_crash(fake):
    with pytest.raises(PermanentError, match="poll position"):
        make(fake).poll("next")
    assert fake.requests == []


def test_an_unknown_mode_is_a_permanent_error(fake):
    with pytest.raises(PermanentError, match="polling"):
        make(fake, mode="push").poll(None)


# ---- errors -----------------------------------------------------------------------------

ERRORS = {  # file -> (the call that meets it, the error class, words the reason must hold)
    "error_400_message_too_long.json": ("send", PermanentError, "4096"),
    "error_400_migrated_to_supergroup.json": ("send", PermanentError, "-1001987654321"),
    "error_400_reply_not_found.json": ("send", PermanentError, "message to be replied not found"),
    "error_401_unauthorized.json": ("send", AuthError, "BotFather"),
    "error_403_blocked_by_user.json": ("send", PermanentError, "blocked the bot"),
    "error_403_cant_initiate.json": ("send", PermanentError, "press Start"),
    "error_409_other_getupdates.json": ("poll", PermanentError, "Another program is polling"),
    "error_409_webhook_active.json": ("poll", PermanentError, "webhook"),
    "error_429_flood.json": ("send", RateLimited, "limiting"),
}


def test_every_error_example_is_covered():
    assert {p.name for p in EXAMPLES.glob("error_*.json")} == set(ERRORS)


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_error_examples_map_to_the_right_error(fake, name):
    call, cls, words = ERRORS[name]
    body = load(name)
    fake.reply("POST", route("sendMessage" if call == "send" else "getUpdates"), status=body["error_code"], json=body)
    connector = make(fake)
    with pytest.raises(cls) as caught:
        connector.send(reply("hi", in_reply_to=f"{HASSAN}:1043")) if call == "send" else connector.poll("1")
    assert type(caught.value) is cls
    assert words in caught.value.reason and TOKEN not in caught.value.reason


def test_rate_limit_waits_as_long_as_telegram_says(fake):
    fake.reply("POST", route("sendMessage"), status=429, json=load("error_429_flood.json"))
    with pytest.raises(RateLimited) as caught:
        make(fake).send(reply("hi"))
    assert caught.value.retry_after == 23


def test_revoked_token_exact_reason_on_poll_and_health_check(fake):
    fake.reply("POST", route("getUpdates"), status=401, json=load("error_401_unauthorized.json"))
    fake.reply("POST", route("getMe"), status=401, json=load("error_401_unauthorized.json"))
    with pytest.raises(AuthError) as caught:
        make(fake).poll(None)
    assert caught.value.reason == ("The bot token was revoked or is invalid: create a new one in BotFather and "
                                   "update the channel.")
    with pytest.raises(AuthError):
        make(fake).health_check()


def test_a_missing_token_is_an_auth_error_without_a_request(fake):
    with pytest.raises(AuthError):
        make(fake, bot_token="").send(reply("hi"))
    assert fake.requests == []


def test_other_refusals_are_permanent_with_telegrams_words(fake):
    fake.reply("POST", route("sendMessage"), status=403,
               json={"ok": False, "error_code": 403, "description": "Forbidden: bot was kicked from the group chat"})
    with pytest.raises(PermanentError) as caught:
        make(fake).send(reply("hi", chat=GROUP))
    assert type(caught.value) is PermanentError and "kicked from the group" in caught.value.reason


def test_server_error_then_success(fake):
    fake.reply("POST", route("sendMessage"), status=500,
               json={"ok": False, "error_code": 500, "description": "Internal Server Error"})
    fake.reply("POST", route("sendMessage"), json=load("sendmessage_response.json"))
    connector = make(fake)
    with pytest.raises(TransientError) as caught:
        connector.send(reply("hi"))
    assert type(caught.value) is TransientError
    assert connector.send(reply("hi")).external_id == f"{HASSAN}:1046"


def test_timeout_is_transient_and_never_quotes_the_token(fake):
    fake.reply("POST", route("getUpdates"), json=load("getupdates_empty.json"), delay=2)
    with pytest.raises(TransientError) as caught:
        make(fake, timeout=0.5).poll(None)
    error = caught.value
    assert error.code == "timeout" and TOKEN not in error.reason
    # The requests exception quotes the URL (and the token): it must not be chained.
    assert error.__cause__ is None and error.__suppress_context__


@pytest.mark.parametrize("status", [200, 502])
def test_a_body_that_is_not_json_is_transient(fake, status):
    fake.reply("POST", route("getUpdates"), status=status, body=b"<html>Bad Gateway</html>")
    with pytest.raises(TransientError) as caught:
        make(fake).poll(None)
    assert caught.value.code == "malformed_json"


def test_an_ok_answer_without_updates_is_unreadable(fake):
    fake.reply("POST", route("getUpdates"), json={"ok": True, "result": {"update_id": 1}})
    with pytest.raises(PayloadError):
        make(fake).poll(None)


# ---- sending ----------------------------------------------------------------------------

def test_send_reply_matches_the_sendmessage_example(fake):
    fake.reply("POST", route("sendMessage"), json=load("sendmessage_response.json"))
    expected = load("sendmessage_request.json")
    result = make(fake).send(reply(expected["text"], conversation_key=HASSAN, in_reply_to=f"{HASSAN}:1043"))
    [request] = fake.requests
    assert request.path == f"/bot{TOKEN}/sendMessage"
    assert request.json == expected
    assert result.external_id == f"{HASSAN}:1046" and result.sent_at == datetime(2024, 6, 11, 17, 7, 44)


def test_a_reply_in_a_group_goes_to_the_group_not_the_authors_private_chat(fake):
    fake.reply("POST", route("sendMessage"), json={"ok": True, "result": {
        "message_id": 5121, "chat": {"id": int(GROUP), "type": "supergroup"}, "date": 1718125700, "text": "x"}})
    result = make(fake).send(reply("Ahlan Karim", chat="902837465", in_reply_to=f"{GROUP}:5120"))
    assert fake.requests[0].json["chat_id"] == int(GROUP)
    assert fake.requests[0].json["reply_parameters"] == {"message_id": 5120, "allow_sending_without_reply": True}
    assert result.external_id == f"{GROUP}:5121"


def test_a_new_message_has_no_reply_parameters_and_keeps_long_text_whole(fake):
    fake.reply("POST", route("sendMessage"), json=load("sendmessage_response.json"))
    text = "\u200fشكراً 🙏 " + "x" * 4087
    make(fake).send(reply(text))
    assert fake.requests[0].json == {"chat_id": int(HASSAN), "text": text} and len(text) == 4096


def test_an_unreadable_send_answer_is_permanent_so_the_reply_is_not_sent_twice(fake):
    fake.reply("POST", route("sendMessage"), json={"ok": True, "result": {}})
    with pytest.raises(PermanentError):
        make(fake).send(reply("hi"))


def test_health_check_names_the_bot(fake):
    fake.reply("POST", route("getMe"), json={"ok": True, "result": {
        "id": 7012345678, "is_bot": True, "first_name": "Najm Care", "username": "NajmCareBot"}})
    health = make(fake).health_check()
    assert health.ok and health.detail == "@NajmCareBot"


def test_register_webhook_sends_the_secret_and_the_update_kinds():
    with FakePlatform() as fake:
        fake.reply("POST", r"/bot[^/]+/setWebhook", json={"ok": True, "result": True,
                                                           "description": "Webhook was set"})
        connector = TelegramConnector({"bot_token": "1:abc", "secret_token": "s3cret", "api_base": fake.url})
        assert "https://inbox.example/webhooks/telegram/4" in connector.register_webhook(
            "https://inbox.example/webhooks/telegram/4")
        sent = fake.requests_to(r"/bot[^/]+/setWebhook")[0].json
    assert sent["url"] == "https://inbox.example/webhooks/telegram/4" and sent["secret_token"] == "s3cret"
    assert "message" in sent["allowed_updates"] and "edited_message" in sent["allowed_updates"]


def test_register_webhook_needs_a_secret_token():
    with pytest.raises(PermanentError, match="secret token"):
        TelegramConnector({"bot_token": "1:abc"}).register_webhook("https://inbox.example/hook")
