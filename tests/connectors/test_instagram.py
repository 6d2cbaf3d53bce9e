"""Instagram connector: DM and comment webhooks as recorded in the wire-format reference,
signatures over raw bytes, the subscription handshake, replies and Graph error mapping, all
against a real HTTP fake of the Graph API on 127.0.0.1."""
from __future__ import annotations

import copy
import hashlib
import hmac
import json
from datetime import datetime, timedelta

import pytest

from connectors.errors import AuthError, PayloadError, PermanentError, RateLimited, TransientError, WindowClosed
from connectors.instagram import InstagramConnector
from connectors.registry import connector_for
from connectors.types import Attachment, InboundMessage, OutboundMessage, StatusUpdate
from tests.fakes.server import FakePlatform
from tests.fixtures import example_names as platform_example_names
from tests.fixtures import load_example

IG = "17841405822304914"  # the operator's professional account in the examples
TOKEN = "IGQ-test-token"
SECRET = "app-secret-for-tests"
VERIFY = "verify-me"
REEM, ALI, SARA = "6312847590123456", "7781239045612873", "1094857362012345"
REEM_MID = ("aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjMTc4NDE0MDU4MjIzMDQ5MTQ6MTo2OTUzNjI4MjcwNjA0NjE4MjkzMTA0"
            "MzcyMzMwNTA4MjkxMjU3MAZDZD")
MEDIA, REEM_COMMENT = "17985436021457321", "17969460807260342"
MESSAGES = f"/{IG}/messages"


def example(name: str) -> dict:
    return load_example("instagram", name)


def example_names(prefix: str) -> list[str]:
    return platform_example_names("instagram", prefix)


def connector(url: str = "http://127.0.0.1:9", **settings) -> InstagramConnector:
    return InstagramConnector({"account_id": IG, "access_token": TOKEN, "app_secret": SECRET,
                               "verify_token": VERIFY, "graph_base": url, **settings})


def parse(name_or_body) -> list:
    return connector().parse(example(name_or_body) if isinstance(name_or_body, str) else name_or_body)


def only(name_or_body):
    events = parse(name_or_body)
    assert len(events) == 1
    return events[0]


def keys(name: str) -> list[str | None]:
    return [p.dedup_key for p in connector().split_webhook(example(name))]


def wire_bytes(body: dict) -> bytes:
    """How Meta really sends a body: compact, non-ASCII as \\uXXXX, and "/" as "\\/"."""
    return json.dumps(body, separators=(",", ":")).replace("/", "\\/").encode()


def sha256_header(raw: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def comment_body(field: str = "comments", **value) -> dict:
    base = {"from": {"id": "17841452098374615", "username": "reem.travels"},
            "media": {"id": MEDIA, "media_product_type": "FEED"}, "id": "17900000000000001", "text": "?"}
    return {"object": "instagram", "entry": [{"id": IG, "time": 1718112011,
                                              "changes": [{"field": field, "value": {**base, **value}}]}]}


def reply(text: str = "hi", **fields) -> OutboundMessage:
    return OutboundMessage(**{"text": text, "recipient_id": REEM, "is_public": False,
                              "idempotency_key": "reply-1", **fields})


# ---- every recorded payload ---------------------------------------------------------------
@pytest.mark.parametrize("name", example_names("webhook_"))
def test_each_recorded_webhook_parses_alone_and_split_into_events(name):
    body = example(name)
    parts = connector().split_webhook(body)
    assert [e for p in parts for e in connector().parse(p.body)] == connector().parse(body)
    assert all(len(p.body["entry"]) == 1 and p.dedup_key for p in parts)


def test_the_connector_is_registered_as_a_pushed_and_reconciled_platform_with_a_24_hour_window():
    c = connector_for("instagram", {"account_id": IG})
    assert isinstance(c, InstagramConnector) and c.account_id == IG
    assert c.pushed and c.polled and c.reply_window == timedelta(hours=24)  # polled: reconciliation
    assert c.default_poll_interval == 300
    assert set(c.secret_keys) == {"access_token", "app_secret", "verify_token"}


# ---- DMs ----------------------------------------------------------------------------------
def test_a_text_dm_is_a_private_inbound_message():
    assert only("webhook_dm_text.json") == InboundMessage(
        platform="instagram", external_id=REEM_MID, author_id=REEM,
        text="هاي، شريحة البيانات للسفر تشتغل في تركيا؟", is_public=False,
        created_at=datetime(2024, 6, 11, 13, 1, 15, 640000), conversation_key=REEM,
    )


def test_an_image_without_text():
    message = only("webhook_dm_image.json")
    assert message.text == "" and message.created_at == datetime(2024, 6, 11, 13, 2, 40, 6000)
    (image,) = message.attachments
    assert image.type == "image" and image.url.startswith("https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=8419")


def test_a_story_mention_is_a_story_attachment():
    message = only("webhook_dm_story_mention.json")
    assert message.author_id == SARA and message.text == ""
    assert [a.type for a in message.attachments] == ["story"]
    assert "asset_id=78894787528446368" in message.attachments[0].url


def test_a_story_reply_keeps_the_text_and_shows_the_story():
    message = only("webhook_dm_story_reply.json")
    assert message.text == "kam se3r el offer da? 😍" and message.author_id == ALI
    assert message.parent_id is None  # a story is not a stored message
    (story,) = message.attachments
    assert story.type == "story" and story.external_id == "10282659089296527"
    assert "asset_id=78647454727493036" in story.url


def test_an_echo_is_outbound_and_keyed_to_the_customer():
    message = only("webhook_dm_echo.json")
    assert message.direction == "outbound" and message.author_id == IG
    assert message.conversation_key == REEM
    assert message.text == "أهلاً ريم! نعم، شريحة السفر تشتغل في تركيا ضمن باقة أوروبا وآسيا 🌍"


def test_an_unsend_deletes_the_original_message():
    message = only("webhook_dm_unsend.json")
    assert (message.action, message.external_id, message.text) == ("delete", REEM_MID, "")
    assert message.author_id == REEM and message.direction == "inbound"


def test_unsupported_content_is_an_empty_message_with_an_other_attachment():
    message = only("webhook_dm_unsupported.json")
    assert message.text == "" and message.author_id == ALI
    assert message.attachments == (Attachment(type="other", name="unsupported"),)


def test_a_reaction_is_not_a_message():
    assert parse("webhook_dm_reaction.json") == []


def test_seen_is_a_read_receipt_of_the_named_message():
    assert only("webhook_messaging_seen.json") == StatusUpdate(
        platform="instagram", status="read", timestamp=datetime(2024, 6, 11, 13, 9, 40),
        external_id="aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjMTc4NDE0MDU4MjIzMDQ5MTQ6MTo3Njg1NDUxNTU3NzIyMjQ3NjUxNjcy"
                    "NDM3MjMxODk4OTA3NjYxNAZDZD",
        recipient_id=REEM,
    )


def test_batched_entries_give_each_message_and_a_shared_reel():
    text, reel = parse("webhook_batched_entries.json")
    assert (text.author_id, text.text) == (ALI, "hello, anyone there?")
    assert (reel.author_id, reel.text) == (SARA, "")
    assert reel.attachments[0].type == "share" and reel.attachments[0].external_id == "11283101577445669"
    assert reel.attachments[0].name == "عرض الصيف 🔥"
    assert reel.created_at == datetime(2024, 6, 11, 14, 0, 0, 700000)


def test_arabic_emoji_rtl_marks_and_very_long_text_are_kept_exactly():
    body = example("webhook_dm_text.json")
    text = "\u200fالشريحة ما تشتغل 😡🇯🇴\u200f\n" + "ليش؟ " * 1200
    body["entry"][0]["messaging"][0]["message"]["text"] = text
    assert only(body).text == text


# ---- comments -----------------------------------------------------------------------------
def test_a_comment_is_public_in_the_media_thread_and_timed_by_the_entry():
    assert only("webhook_comment.json") == InboundMessage(
        platform="instagram", external_id=REEM_COMMENT, author_id="17841452098374615",
        author_handle="reem.travels", text="هل العرض يشمل الشرائح الإلكترونية eSIM؟", is_public=True,
        created_at=datetime(2024, 6, 11, 13, 20, 11), thread_id=MEDIA, parent_id=MEDIA,
    )


def test_a_comment_reply_points_at_its_parent_comment():
    comment = only("webhook_comment_reply.json")
    assert (comment.external_id, comment.thread_id, comment.parent_id) == ("17886942958046151", MEDIA, REEM_COMMENT)
    assert comment.author_handle == "ali_elmasry_" and comment.text == "@reem.travels ah yes2al gamed 👌"
    assert comment.created_at == datetime(2024, 6, 11, 13, 22, 48)


def test_the_accounts_own_comment_is_outbound():
    comment = only(comment_body(**{"from": {"id": IG, "username": "najm.telecom"}, "parent_id": REEM_COMMENT}))
    assert comment.direction == "outbound" and comment.parent_id == REEM_COMMENT


def test_a_live_comment_is_read_like_a_comment():
    comment = only(comment_body("live_comments", text="\u200fهل البث مسجل؟ 🎥"))
    assert comment.is_public and comment.text == "\u200fهل البث مسجل؟ 🎥" and comment.thread_id == MEDIA


def test_a_mention_needs_a_fetch_and_gives_no_message_yet():
    assert parse("webhook_mention_in_comment.json") == []
    assert keys("webhook_mention_in_comment.json") == ["mention:17895330810158979"]


def test_a_comment_without_an_author_is_unreadable():
    body = comment_body()
    del body["entry"][0]["changes"][0]["value"]["from"]
    with pytest.raises(PayloadError):
        parse(body)


# ---- splitting ----------------------------------------------------------------------------
def test_dedup_keys_tell_an_unsend_and_a_read_from_the_message():
    assert keys("webhook_dm_text.json") == [f"mid:{REEM_MID}"]
    assert keys("webhook_dm_unsend.json") == [f"delete:{REEM_MID}"]
    assert keys("webhook_dm_reaction.json") == [f"reaction:{REEM_MID}:{REEM}:1718111342000"]
    (seen,) = keys("webhook_messaging_seen.json")
    assert seen.startswith("read:aWdf") and seen.endswith(f":{REEM}")
    assert keys("webhook_comment.json") == [f"comment:{REEM_COMMENT}"]


def test_split_keeps_the_envelope_around_each_event():
    body = example("webhook_batched_entries.json")
    first, second = connector().split_webhook(body)
    assert second.body == {"object": "instagram", "entry": [
        {"id": IG, "time": 1718114401150, "messaging": body["entry"][1]["messaging"]}]}
    assert first.dedup_key != second.dedup_key


def test_a_batch_of_many_entries_gives_every_event_once():
    dm = example("webhook_dm_text.json")["entry"][0]
    comment = example("webhook_comment.json")["entry"][0]
    entries = []
    for n in range(150):
        a, b = copy.deepcopy(dm), copy.deepcopy(comment)
        a["messaging"][0]["message"]["mid"] = f"aWdf{n}"
        b["changes"][0]["value"]["id"] = str(17969460807260342 + n)
        entries += [a, b]
    parts = connector().split_webhook({"object": "instagram", "entry": entries})
    assert len(parts) == 300 and len({p.dedup_key for p in parts}) == 300
    events = [e for p in parts for e in connector().parse(p.body)]
    assert sum(e.is_public for e in events) == 150 and events[-1].external_id == str(17969460807260342 + 149)


@pytest.mark.parametrize("body", [None, [], {"object": "instagram"}, {"object": "instagram", "entry": "x"},
                                  example("webhook_dm_text.json") | {"object": "page"}])
def test_a_body_that_is_not_an_instagram_webhook_is_refused(body):
    with pytest.raises(PayloadError):
        connector().split_webhook(body)
    with pytest.raises(PayloadError):
        connector().parse(body)


# ---- signatures and the handshake ---------------------------------------------------------
def test_the_signature_is_checked_over_the_exact_bytes():
    body = example("webhook_dm_story_reply.json")
    body["entry"] += example("webhook_comment.json")["entry"]
    raw = wire_bytes(body)
    assert b"\\ud83d\\ude0d" in raw and b"https:\\/\\/" in raw and b"\\u0647\\u0644" in raw
    good = sha256_header(raw)
    assert connector().verify({"x-hub-signature-256": good}, raw)
    reserialised = json.dumps(json.loads(raw), ensure_ascii=False).encode()
    assert not connector().verify({"X-Hub-Signature-256": good}, reserialised)
    assert not connector().verify({"X-Hub-Signature-256": good[:40]}, raw)
    assert not connector().verify({"X-Hub-Signature-256": sha256_header(raw, "other")}, raw)
    sha1 = "sha1=" + hmac.new(SECRET.encode(), raw, hashlib.sha1).hexdigest()
    assert not connector().verify({"X-Hub-Signature": sha1}, raw)
    assert not connector().verify({}, raw)
    assert not connector().verify({"X-Hub-Signature-256": sha256_header(b"{}")}, raw)
    texts = [m.text for m in parse(json.loads(raw))]
    assert texts == ["kam se3r el offer da? 😍", "هل العرض يشمل الشرائح الإلكترونية eSIM؟"]


def test_the_handshake_answers_only_our_verify_token():
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "ch-42"}
    assert connector().handshake(query) == "ch-42"
    assert connector().handshake({**query, "hub.verify_token": VERIFY + "x"}) is None


# ---- sending ------------------------------------------------------------------------------
def test_a_dm_reply_is_the_request_of_the_reference():
    request = example("send_request_text.json")
    with FakePlatform() as fake:
        fake.reply("POST", MESSAGES, json=example("send_response.json"))
        result = connector(fake.url).send(reply(request["message"]["text"], recipient_id=request["recipient"]["id"],
                                                in_reply_to=REEM_MID))
    (sent,) = fake.requests
    assert sent.json == request
    assert {k.lower(): v for k, v in sent.headers.items()}["authorization"] == f"Bearer {TOKEN}"
    assert result.external_id == example("send_response.json")["message_id"]


def test_the_human_agent_tag_is_sent_when_asked_for():
    request = example("send_request_human_agent_tag.json")
    with FakePlatform() as fake:
        fake.reply("POST", MESSAGES, json=example("send_response.json"))
        connector(fake.url).send(reply(request["message"]["text"], recipient_id=ALI, template="HUMAN_AGENT"))
    assert fake.requests[0].json == request


def test_a_private_reply_to_a_comment():
    request = example("private_reply_request.json")
    with FakePlatform() as fake:
        fake.reply("POST", MESSAGES, json=example("send_response.json"))
        connector(fake.url).send(reply(request["message"]["text"], recipient_id="17841452098374615",
                                       in_reply_to=request["recipient"]["comment_id"]))
    assert fake.requests[0].json == request


def test_a_public_reply_answers_the_comment():
    request = example("comment_reply_request.json")
    with FakePlatform() as fake:
        fake.reply("POST", f"/{REEM_COMMENT}/replies", json=example("comment_reply_response.json"))
        result = connector(fake.url).send(reply(request["message"], is_public=True, in_reply_to=REEM_COMMENT))
    assert fake.requests[0].json == request
    assert result.external_id == "17862585887686532"


ERRORS = [
    ("error_outside_window.json", WindowClosed, "10/2534022"),
    ("error_rate_limit_code4.json", RateLimited, "4"),
    ("error_token_expired_190.json", AuthError, "190/463"),
]


def test_every_recorded_error_file_is_covered():
    assert sorted(name for name, _, _ in ERRORS) == example_names("error_")


@pytest.mark.parametrize("name, error, code", ERRORS)
def test_recorded_errors_map_to_their_class(name, error, code):
    with FakePlatform() as fake:
        fake.reply("POST", MESSAGES, status=400, json=example(name))
        with pytest.raises(error) as caught:
            connector(fake.url).send(reply())
    assert type(caught.value) is error and caught.value.code == code and "Instagram" in caught.value.reason


def test_the_business_use_case_limit_waits_as_the_header_says():
    usage = {"X-Business-Use-Case-Usage": json.dumps({IG: [{"type": "instagram", "call_count": 100,
                                                             "estimated_time_to_regain_access": 3}]})}
    error = {"error": {"message": "Calls to this API have exceeded the rate limit.", "code": 80002}}
    with FakePlatform() as fake:
        fake.reply("POST", MESSAGES, status=429, json=error, headers=usage)
        with pytest.raises(RateLimited) as caught:
            connector(fake.url).send(reply())
    assert caught.value.retry_after == 180


def test_a_server_error_then_success():
    with FakePlatform() as fake:
        fake.reply("POST", MESSAGES, status=502, json={"error": {"message": "Bad gateway"}})
        fake.reply("POST", MESSAGES, json=example("send_response.json"))
        c = connector(fake.url)
        with pytest.raises(TransientError):
            c.send(reply())
        assert c.send(reply()).external_id.startswith("aWdf")


def test_a_timeout_and_a_body_that_is_not_json_are_transient():
    with FakePlatform() as fake:
        fake.reply("POST", MESSAGES, json=example("send_response.json"), delay=1.0)
        with pytest.raises(TransientError, match="in time"):
            connector(fake.url, timeout=0.2).send(reply())
    with FakePlatform() as fake:
        fake.reply("POST", MESSAGES, status=400, body=b"<html>oops</html>")
        with pytest.raises(TransientError):
            connector(fake.url).send(reply())


def test_a_missing_recipient_is_refused_before_sending():
    with pytest.raises(PermanentError):
        connector().send(reply(recipient_id=""))


# ---- health -------------------------------------------------------------------------------
def test_health_check_reads_the_username():
    with FakePlatform() as fake:
        fake.reply("GET", f"/{IG}", json={"id": IG, "username": "najm.telecom"})
        health = connector(fake.url).health_check()
    assert health.ok and health.detail == "najm.telecom" and fake.requests[0].arg("fields") == "id,username"


def test_health_check_with_an_expired_token_raises_auth_error():
    with FakePlatform() as fake:
        fake.reply("GET", f"/{IG}", status=400, json=example("error_token_expired_190.json"))
        with pytest.raises(AuthError):
            connector(fake.url).health_check()


# ---- reconciliation: the read API fills what lost webhooks never delivered ----------------
CONVERSATIONS, MEDIA_LIST = "/me/conversations", f"/{IG}/media"
SINCE = 1718100000  # 2024-06-11T10:00:00Z, before every example
CURSOR = json.dumps({"since": SINCE})
MISSED_DM = ("aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjMTc4NDE0MDU4MjIzMDQ5MTQ6MTozMTU0NzgyOTA2MTM4NDcyOTU2MTA4NDcz"
             "OTIwNTg3MTkzNjQ4MgZDZD")
MISSED_COMMENT, OUR_COMMENT, ALI_REPLY = "18043219876501234", "17862585887686532", "17886942958046151"
NEWEST = 1718113265  # 2024-06-11T13:41:05Z, the missed comment


def reconcile(cursor: str | None = CURSOR, conversations=None, media=None):
    with FakePlatform() as fake:
        fake.reply("GET", CONVERSATIONS, json=conversations or example("graph_conversations_page.json"))
        fake.reply("GET", MEDIA_LIST, json=media or example("graph_media_page.json"))
        result = connector(fake.url).poll(cursor)
    return result, fake


def polled_messages(result) -> dict[str, InboundMessage]:
    return {m.external_id: m for p in result.payloads for m in connector().parse(p.body)}


def test_a_reconciliation_poll_finds_a_dm_and_a_comment_the_webhook_never_delivered():
    result, fake = reconcile()
    messages = polled_messages(result)
    assert messages[MISSED_DM] == InboundMessage(
        platform="instagram", external_id=MISSED_DM, author_id=REEM, author_handle="reem.travels",
        text="طيب وكم سعر الباقة لأسبوع؟", is_public=False, created_at=datetime(2024, 6, 11, 13, 30, 2),
        conversation_key=REEM)
    assert messages[MISSED_COMMENT] == InboundMessage(
        platform="instagram", external_id=MISSED_COMMENT, author_id="17841463029184756", author_handle="salma.kh",
        text="الباقة تشمل مكالمات دولية ولا بيانات بس؟", is_public=True,
        created_at=datetime(2024, 6, 11, 13, 41, 5), thread_id=MEDIA, parent_id=MEDIA)
    conversations, media = fake.requests
    assert conversations.path == CONVERSATIONS and conversations.arg("platform") == "instagram"
    assert conversations.arg("fields") == ("id,updated_time,"
                                           "messages.limit(20){id,message,from,to,created_time,attachments}")
    assert media.path == MEDIA_LIST
    assert media.arg("fields") == ("id,timestamp,comments.limit(25){id,text,from,username,timestamp,parent_id,"
                                   "replies{id,text,from,username,timestamp,parent_id}}")
    authorizations = {v for r in fake.requests for k, v in r.headers.items() if k.lower() == "authorization"}
    assert authorizations == {f"Bearer {TOKEN}"} and not any("access_token" in r.query for r in fake.requests)


@pytest.mark.parametrize("webhook", ["webhook_dm_text.json", "webhook_dm_echo.json", "webhook_dm_image.json",
                                     "webhook_comment.json", "webhook_comment_reply.json"])
def test_a_message_seen_by_webhook_and_by_reconciliation_has_the_same_ids(webhook):
    pushed = only(webhook)
    polled = polled_messages(reconcile()[0])[pushed.external_id]

    def identity(m):
        return (m.external_id, m.author_id, m.author_handle if m.is_public else None, m.text, m.is_public,
                m.thread_id, m.parent_id, m.direction, m.conversation_key, m.action,
                [(a.type, a.url) for a in m.attachments])
    assert identity(polled) == identity(pushed)


def test_the_accounts_own_dm_and_comment_are_outbound():
    messages = polled_messages(reconcile()[0])
    echo = messages["aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjMTc4NDE0MDU4MjIzMDQ5MTQ6MToyMTM1MzExMzIwOTUwNzQ5MDkxOTc0OTkx"
                    "MzgzMzcxMDI5OTA5OAZDZD"]
    assert (echo.direction, echo.author_id, echo.conversation_key) == ("outbound", IG, REEM)
    ours = messages[OUR_COMMENT]
    assert (ours.direction, ours.parent_id, ours.thread_id) == ("outbound", REEM_COMMENT, MEDIA)
    assert sum(m.direction == "outbound" for m in messages.values()) == 2


def test_replies_nested_in_a_comment_are_read_with_their_parent():
    reply = polled_messages(reconcile()[0])[ALI_REPLY]
    assert (reply.parent_id, reply.thread_id, reply.author_handle) == (REEM_COMMENT, MEDIA, "ali_elmasry_")
    assert reply.created_at == datetime(2024, 6, 11, 13, 22, 48)


def test_a_conversations_messages_are_not_paged_further_instagram_serves_only_the_newest_20():
    _, fake = reconcile()
    assert [r.path for r in fake.requests] == [CONVERSATIONS, MEDIA_LIST]


def test_more_comments_of_a_media_are_paged_while_they_may_be_new():
    media = example("graph_media_page.json")
    media["data"][0]["comments"]["paging"].update(next=f"https://graph.facebook.com/v21.0/{MEDIA}/comments?after=c2")
    media["data"][0]["comments"]["paging"]["cursors"]["after"] = "c2"
    later = {"data": [{"id": "17900000000000077", "text": "وبعدين؟", "timestamp": "2024-06-11T13:50:00+0000",
                       "from": {"id": "17841400000000077", "username": "late.reader"}}]}
    with FakePlatform() as fake:
        fake.reply("GET", CONVERSATIONS, json={"data": []})
        fake.reply("GET", MEDIA_LIST, json=media)
        fake.reply("GET", f"/{MEDIA}/comments", json=later)
        result = connector(fake.url).poll(CURSOR)
    (further,) = fake.requests_to(f"/{MEDIA}/comments")
    assert further.arg("after") == "c2" and "replies{" in further.arg("fields")
    late = polled_messages(result)["17900000000000077"]
    assert (late.thread_id, late.parent_id, late.author_handle) == (MEDIA, MEDIA, "late.reader")
    assert json.loads(result.cursor) == {"since": 1718113800 - 60}


def test_the_cursor_moves_forward_and_an_empty_poll_keeps_it():
    result, _ = reconcile()
    assert json.loads(result.cursor) == {"since": NEWEST - 60}
    again, _ = reconcile(cursor=result.cursor)
    assert again.cursor == result.cursor and set(polled_messages(again)) == {MISSED_COMMENT}
    empty, _ = reconcile(conversations={"data": []}, media={"data": []})
    assert empty.payloads == [] and empty.cursor == CURSOR


@pytest.mark.parametrize("status, error_body, error, code", [
    (400, {"error": {"message": "Calls to this API have exceeded the rate limit.", "code": 80002}},
     RateLimited, "80002"),
    (400, example("error_rate_limit_code4.json"), RateLimited, "4"),
    (400, example("error_token_expired_190.json"), AuthError, "190/463"),
])
def test_errors_during_a_poll_are_the_mapped_connector_errors(status, error_body, error, code):
    with FakePlatform() as fake:  # the conversations answer, then the media listing fails
        fake.reply("GET", CONVERSATIONS, json=example("graph_conversations_page.json"))
        fake.reply("GET", MEDIA_LIST, status=status, json=error_body)
        with pytest.raises(error) as caught:
            connector(fake.url).poll(CURSOR)
    assert type(caught.value) is error and caught.value.code == code and "Instagram" in caught.value.reason


def test_a_read_comment_without_an_author_is_unreadable():
    page = example("graph_media_page.json")
    del page["data"][0]["comments"]["data"][1]["from"]
    with pytest.raises(PayloadError, match="author"):
        connector().parse({"tawasul_source": "graph_posts", "since": SINCE, "page": page})
