"""X (Twitter) connector: the example payloads of the wire-format reference, polling with
paging and cursors, replies, and error mapping, all against a real HTTP fake of the API."""
from __future__ import annotations

import copy
import json
import time
from datetime import datetime

import pytest

from connectors.errors import AuthError, PayloadError, PermanentError, RateLimited, TransientError
from connectors.registry import connector_for
from connectors.twitter import TwitterConnector
from connectors.types import Attachment, OutboundMessage
from tests.fakes.server import FakePlatform
from tests.fixtures import load_example

ACCOUNT = "1290345678123456512"  # @NajmTelecom, the operator's own account in the examples
TOKEN = "user-context-token"
MENTIONS = rf"/2/users/{ACCOUNT}/mentions"
DM_EVENTS = "/2/dm_events"


def example(name: str) -> dict:
    return load_example("twitter", name)


def connector(url: str = "http://127.0.0.1:9", **settings) -> TwitterConnector:
    return TwitterConnector({"account_id": ACCOUNT, "bearer_token": TOKEN, "api_base": url, **settings})


def by_id(messages):
    return {m.external_id: m for m in messages}


def tweet(tweet_id: str, text: str = "@NajmTelecom hi", author: str = "2934857261", **extra) -> dict:
    return {"id": tweet_id, "edit_history_tweet_ids": [tweet_id], "text": text, "author_id": author,
            "created_at": "2024-06-11T08:00:00.000Z", "conversation_id": tweet_id, **extra}


def dm(event_id: str, text: str = "hello", sender: str = "2934857261", **extra) -> dict:
    return {"id": event_id, "event_type": "MessageCreate", "text": text, "sender_id": sender,
            "dm_conversation_id": f"2934857261-{ACCOUNT}", "created_at": "2024-06-11T09:00:00.000Z", **extra}


def page(items: list[dict], next_token: str | None = None, **includes) -> dict:
    meta = {"result_count": len(items), "newest_id": items[0]["id"], "oldest_id": items[-1]["id"]}
    if next_token:
        meta["next_token"] = next_token
    return {"data": items, "includes": includes, "meta": meta}


EMPTY = {"meta": {"result_count": 0}}


# ---- the example payloads ---------------------------------------------------------------
def test_registry_knows_twitter_as_a_polled_platform():
    assert isinstance(connector_for("twitter", {"account_id": ACCOUNT}), TwitterConnector)
    assert TwitterConnector.polled and not TwitterConnector.pushed
    assert "bearer_token" in TwitterConnector.secret_keys


def test_mentions_page_parses_every_post_with_author_thread_and_attachments():
    messages = by_id(connector().parse(example("mentions_page1.json")))
    assert set(messages) == {"1800427508465613493", "1800425964958791529", "1800424857664943097"}

    reply = messages["1800427508465613493"]
    assert reply.is_public and reply.platform == "twitter"
    assert (reply.author_id, reply.author_handle, reply.author_name) == (
        "1498765432109876544", "ahmed_alharbi90", "أحمد الحربي")
    assert reply.text.startswith("@NajmTelecom لسا المشكلة موجودة، النت يفصل")
    assert reply.thread_id == "1800422261391046728"  # conversation_id: the root post
    assert reply.parent_id == "1800423888779422642"  # our reply it answers
    assert reply.created_at == datetime(2024, 6, 11, 7, 19, 3)
    assert (reply.direction, reply.action, reply.conversation_key) == ("inbound", "create", None)

    photo = messages["1800425964958791529"]
    assert photo.author_handle == "sara_k_dxb" and photo.parent_id is None
    assert photo.thread_id == "1800425964958791529"
    assert photo.attachments == (Attachment(type="image", url="https://pbs.twimg.com/media/GPzuaptt0Azn0DN.jpg",
                                            external_id="3_1800425902044507398"),)

    arabizi = messages["1800424857664943097"]
    assert arabizi.text == "@NajmTelecom ya jama3a el 5G mesh shaghal 3andi mn embare7, el signal full bas mafi net 😤"
    assert arabizi.attachments == ()


def test_parse_returns_messages_oldest_first():
    messages = connector().parse(example("mentions_page1.json"))
    assert [m.created_at for m in messages] == sorted(m.created_at for m in messages)


def test_last_mentions_page_holds_the_thread_root():
    [root] = connector().parse(example("mentions_page2_last.json"))
    assert root.external_id == root.thread_id == "1800422261391046728"
    assert root.parent_id is None
    assert root.text == "@NajmTelecom النت مقطوع عندي من الساعة ٦ الصبح 😞 رقم الطلب 88213"
    assert root.created_at == datetime(2024, 6, 11, 6, 58, 12)


def test_an_edit_keys_on_the_first_version_and_partial_errors_do_not_fail_the_page():
    messages = by_id(connector().parse(example("mentions_with_edit_and_partial_error.json")))
    assert set(messages) == {"1800438107471880439", "1800439080550739487"}
    edit = messages["1800438107471880439"]
    assert edit.action == "update"
    assert edit.text == "@NajmTelecom the outage in Jeddah is back again (edited: Al-Rawdah district, since 7:40am)"
    assert edit.thread_id == "1800438107471880439"
    # The post it answers was not found (errors[]), but the reference is still known.
    lina = messages["1800439080550739487"]
    assert (lina.action, lina.author_handle, lina.parent_id) == ("create", "lina_mhd", "1800435297288078092")


def test_an_empty_page_has_no_messages():
    assert connector().parse(example("mentions_empty.json")) == []


def test_dm_events_page_parses_messages_echoes_and_media():
    messages = by_id(connector().parse(example("dm_events_page1.json")))
    assert len(messages) == 4 and all(not m.is_public for m in messages.values())

    first = messages["1800456782660395497"]
    assert (first.author_id, first.author_handle, first.author_name) == ("1634098712345671680", "noura_q8", "نورة")
    assert first.text == "مرحبا، أبي أنقل رقمي من شركة ثانية لكم وأحافظ على نفس الرقم، وش المطلوب؟"
    assert first.conversation_key == "1290345678123456512-1634098712345671680"
    assert first.created_at == datetime(2024, 6, 11, 9, 15, 22, 512000)
    assert (first.thread_id, first.parent_id, first.direction) == (None, None, "inbound")

    echo = messages["1800457204152591808"]
    assert echo.direction == "outbound" and echo.author_id == ACCOUNT

    media_only = messages["1800458369606613324"]
    assert media_only.text == "https://t.co/1Ib8pp1xxX"  # X sends the link as the text
    assert media_only.attachments == (Attachment(
        type="image", url="https://ton.x.com/1.1/ton/data/dm/1800458369606613324/9608214409749921355/CDydesok.jpg",
        external_id="3_1800458344985619123"),)

    sara = messages["1800453463405602475"]
    assert sara.conversation_key == "2934857261-1290345678123456512" and sara.author_name == "Sara K."


def test_dm_joins_and_leaves_are_not_messages():
    body = {"data": [dm("11"), {"id": "12", "event_type": "ParticipantsJoin", "dm_conversation_id": "99",
                                "created_at": "2024-06-11T09:00:00.000Z", "participant_ids": ["5"]},
                     {"id": "13", "event_type": "ParticipantsLeave", "dm_conversation_id": "99",
                      "created_at": "2024-06-11T09:00:00.000Z", "participant_ids": ["5"]}]}
    assert [m.external_id for m in connector().parse(body)] == ["11"]


def test_account_activity_tweet_create():
    [message] = connector().parse(example("aaa_webhook_tweet_create.json"))
    assert message.external_id == message.thread_id == "1800469308896401378"
    assert (message.author_id, message.author_handle, message.author_name) == ("873450912", "lina_mhd", "لينا محمد")
    assert message.text == "@NajmTelecom متى يرجع النت في الخبر؟"
    assert message.created_at == datetime(2024, 6, 11, 10, 5, 9)
    assert message.is_public and message.parent_id is None and message.direction == "inbound"


def test_account_activity_direct_message():
    [message] = connector().parse(example("aaa_webhook_direct_message.json"))
    assert message.external_id == "1800468702320565824"
    assert (message.author_id, message.author_handle, message.author_name) == ("1122334455667788990", "omar_3ww",
                                                                               "Omar")
    assert message.text == "3ayez a3raf leh el fatoora zadet 50 riyal el shahr da"
    assert message.created_at == datetime(2024, 6, 11, 10, 2, 44, 381000)  # epoch ms 1718100164381
    assert not message.is_public and message.direction == "inbound"
    # The same key as the polled dm_conversation_id of this 1:1 chat.
    assert message.conversation_key == "1122334455667788990-1290345678123456512"


def test_account_activity_dm_conversation_key_orders_ids_as_numbers():
    body = example("aaa_webhook_direct_message.json")
    body["direct_message_events"][0]["message_create"]["sender_id"] = "2934857261"
    [message] = connector().parse(body)
    assert message.conversation_key == "2934857261-1290345678123456512"  # as dm_events_page1.json has it


def test_account_activity_own_messages_deletes_retweets_and_offsets():
    body = example("aaa_webhook_direct_message.json")
    create = body["direct_message_events"][0]["message_create"]
    create["sender_id"], create["target"]["recipient_id"] = ACCOUNT, "1122334455667788990"
    create["message_data"]["attachment"] = {"type": "media", "media": {
        "id_str": "1800460463110604261", "type": "photo", "media_url_https": "https://pbs.twimg.com/dm/1.jpg"}}
    # Without an account_id setting (the debug CLI), for_user_id names the account.
    [echo] = TwitterConnector({}).parse(body)
    assert echo.direction == "outbound" and echo.author_handle == "NajmTelecom"
    assert echo.attachments == (Attachment(type="image", url="https://pbs.twimg.com/dm/1.jpg",
                                           external_id="1800460463110604261"),)

    tweets = example("aaa_webhook_tweet_create.json")
    original = tweets["tweet_create_events"][0]
    original["created_at"] = "Tue Jun 11 13:05:09 +0300 2024"  # not UTC: converted
    original["in_reply_to_status_id_str"] = "1800469000000000000"
    retweet = {**copy.deepcopy(original), "id_str": "1800469999999999999", "retweeted_status": {"id_str": "1"}}
    tweets["tweet_create_events"].append(retweet)
    tweets["tweet_delete_events"] = [{"status": {"id": "1800469308896401378", "user_id": "873450912"},
                                      "timestamp_ms": "1718100400000"}]
    created, deleted = connector().parse(tweets)
    assert created.created_at == datetime(2024, 6, 11, 10, 5, 9)
    assert created.parent_id == created.thread_id == "1800469000000000000"
    assert (deleted.external_id, deleted.action, deleted.text) == ("1800469308896401378", "delete", "")
    assert deleted.created_at == datetime(2024, 6, 11, 10, 6, 40)


def test_account_activity_events_that_are_not_messages_yield_nothing():
    body = {"for_user_id": ACCOUNT, "favorite_events": [{"id": "x"}],
            "direct_message_events": [{"type": "message_read"}]}
    assert connector().parse(body) == []


def test_own_posts_long_posts_and_text_kept_exactly():
    rtl = "\u200fشكراً لكم 🌹\u200f  "  # RTL marks, emoji and trailing spaces all kept
    long_text = "أ" * 3000 + " 📶"
    body = page([tweet("1800500000000000003", text=rtl, author=ACCOUNT),
                 tweet("1800500000000000002", text="@NajmTelecom " + "أ" * 260 + "…",
                       note_tweet={"text": long_text})])
    messages = by_id(connector().parse(body))
    assert messages["1800500000000000003"].text == rtl
    assert messages["1800500000000000003"].direction == "outbound"
    assert messages["1800500000000000002"].text == long_text
    assert messages["1800500000000000002"].direction == "inbound"


def test_attachments_only_video_and_gif_use_the_preview_image():
    body = page([tweet("1800500000000000009", text="", attachments={"media_keys": ["7_1", "16_2", "3_gone"]})],
                media=[{"media_key": "7_1", "type": "video", "preview_image_url": "https://pbs.twimg.com/v.jpg"},
                       {"media_key": "16_2", "type": "animated_gif", "preview_image_url": "https://pbs.twimg.com/g.jpg"}])
    [message] = connector().parse(body)
    assert message.text == ""
    assert message.attachments == (
        Attachment(type="video", url="https://pbs.twimg.com/v.jpg", external_id="7_1"),
        Attachment(type="video", url="https://pbs.twimg.com/g.jpg", external_id="16_2"),
        Attachment(type="other", external_id="3_gone"),  # its media object was not returned
    )


def test_a_retweet_in_mentions_is_not_a_message():
    body = page([tweet("1800500000000000011", referenced_tweets=[{"type": "retweeted", "id": "1800427508465613493"}]),
                 tweet("1800500000000000010")])
    assert [m.external_id for m in connector().parse(body)] == ["1800500000000000010"]


def test_the_same_post_on_two_pages_gets_one_external_id():
    original = tweet("1800438107471880439")
    edited = tweet("1800438765977214207", edit_history_tweet_ids=["1800438107471880439", "1800438765977214207"])
    first, second = connector().parse(page([original])), connector().parse(page([copy.deepcopy(original), edited]))
    assert {m.external_id for m in first + second} == {"1800438107471880439"}
    assert [m.action for m in second] == ["create", "update"]


def test_ids_beyond_two_to_the_53_stay_exact_strings():
    big = "18004275084656134939"  # would lose digits as a float
    [message] = connector().parse(page([tweet(big, conversation_id=big)]))
    assert message.external_id == message.thread_id == big


@pytest.mark.parametrize("body", [
    [],
    "not json object",
    {},
    {"data": "nope"},
    {"data": [{"id": "1", "text": "no author or time"}]},
    {"data": [tweet("1", created_at="yesterday")]},
    {"data": [dm("1", dm_conversation_id=None) | {"sender_id": None, "created_at": None}]},
    {"for_user_id": ACCOUNT, "tweet_create_events": [{"id_str": "1", "text": "no user"}]},
    {"for_user_id": ACCOUNT, "tweet_create_events": [{"id_str": "1", "user": {"id_str": "2"}, "created_at": "Tue"}]},
    {"for_user_id": ACCOUNT, "direct_message_events": [{"type": "message_create", "id": "1"}]},
])
def test_unreadable_payloads_raise_payload_error(body):
    with pytest.raises(PayloadError):
        connector().parse(body)


# ---- polling ------------------------------------------------------------------------------
def test_first_poll_pages_mentions_and_dms_and_stores_each_page_as_returned():
    dm_page2 = {"data": [dm("1800450000000000001", "older message")], "meta": {"result_count": 1}}
    with FakePlatform() as fake:
        fake.reply("GET", MENTIONS, json=example("mentions_page1.json"))
        fake.reply("GET", MENTIONS, json=example("mentions_page2_last.json"))
        fake.reply("GET", DM_EVENTS, json=example("dm_events_page1.json"))
        fake.reply("GET", DM_EVENTS, json=dm_page2)
        result = connector(fake.url).poll(None)

    first, second = fake.requests_to(MENTIONS)
    assert first.headers["Authorization"] == f"Bearer {TOKEN}"
    assert first.arg("since_id") is None and first.arg("pagination_token") is None
    assert first.arg("max_results") == "100"
    assert "note_tweet" in first.arg("tweet.fields") and "edit_history_tweet_ids" in first.arg("tweet.fields")
    assert first.arg("expansions") == "author_id,referenced_tweets.id,in_reply_to_user_id,attachments.media_keys"
    assert first.arg("user.fields") == "username,name,verified"
    assert first.arg("media.fields") == "url,preview_image_url,type"
    assert second.arg("pagination_token") == "7140dibdnow9c7btw4ruqxa71p2td8vkqxryo1nij7brd"
    dm_first, dm_second = fake.requests_to(DM_EVENTS)
    assert "dm_conversation_id" in dm_first.arg("dm_event.fields") and "sender_id" in dm_first.arg("expansions")
    assert dm_second.arg("pagination_token") == "18LAA5FFPEKJA52G0G00ZZZZ"

    # Oldest page first, each exactly as X returned it, no payload-level key.
    assert [p.body for p in result.payloads] == [example("mentions_page2_last.json"), example("mentions_page1.json"),
                                                  dm_page2, example("dm_events_page1.json")]
    assert all(p.dedup_key is None for p in result.payloads)
    # The next since_id is the FIRST page's newest_id; the newest DM is the DM mark.
    assert json.loads(result.cursor) == {"since_id": "1800427508465613493", "dm_last_id": "1800458369606613324"}


def test_next_poll_asks_since_the_cursor_and_stops_dms_at_the_last_seen_event():
    cursor = json.dumps({"since_id": "1800427508465613493", "dm_last_id": "1800458369606613324"})
    newer = dm("1800470000000000000", "جديد")
    seen_page = {"data": [newer, dm("1800458369606613324", "seen")],
                 "meta": {"result_count": 2, "next_token": "MORE"}}
    with FakePlatform() as fake:
        fake.reply("GET", MENTIONS, json=EMPTY)
        fake.reply("GET", DM_EVENTS, json=seen_page)
        result = connector(fake.url).poll(cursor)
    assert fake.requests_to(MENTIONS)[0].arg("since_id") == "1800427508465613493"
    assert len(fake.requests_to(DM_EVENTS)) == 1  # the already-seen event ends the paging
    assert [p.body for p in result.payloads] == [seen_page]  # the empty mentions page is not stored
    # An empty mentions poll keeps the old since_id.
    assert json.loads(result.cursor) == {"since_id": "1800427508465613493", "dm_last_id": "1800470000000000000"}


def test_an_empty_poll_keeps_the_cursor():
    cursor = json.dumps({"since_id": "1800427508465613493", "dm_last_id": "1800458369606613324"})
    with FakePlatform() as fake:
        fake.reply("GET", MENTIONS, json=EMPTY)
        fake.reply("GET", DM_EVENTS, json=EMPTY)
        result = connector(fake.url).poll(cursor)
    assert result.payloads == [] and json.loads(result.cursor) == json.loads(cursor)


def test_an_unreadable_cursor_starts_over():
    with FakePlatform() as fake:
        fake.reply("GET", MENTIONS, json=EMPTY)
        fake.reply("GET", DM_EVENTS, json=EMPTY)
        result = connector(fake.url, max_results=20).poll("{not json")
    assert fake.requests_to(MENTIONS)[0].arg("since_id") is None
    assert fake.requests_to(MENTIONS)[0].arg("max_results") == "20"
    assert json.loads(result.cursor) == {"since_id": None, "dm_last_id": None}


def test_a_post_on_two_pages_of_one_poll_becomes_one_message():
    shared = tweet("1800500000000000005")
    with FakePlatform() as fake:
        fake.reply("GET", MENTIONS, json=page([tweet("1800500000000000006"), shared], next_token="N"))
        fake.reply("GET", MENTIONS, json=page([copy.deepcopy(shared), tweet("1800500000000000004")]))
        fake.reply("GET", DM_EVENTS, json=EMPTY)
        result = connector(fake.url).poll(None)
    ids = [m.external_id for p in result.payloads for m in connector().parse(p.body)]
    assert len(ids) == 4 and sorted(set(ids)) == ["1800500000000000004", "1800500000000000005",
                                                  "1800500000000000006"]
    assert json.loads(result.cursor)["since_id"] == "1800500000000000006"


# ---- errors -------------------------------------------------------------------------------
@pytest.mark.parametrize("name, status, error, reason", [
    ("error_400_invalid_request.json", 400, PermanentError, "The `since_id` query parameter value [abc123] is not"),
    ("error_401_unauthorized.json", 401, AuthError,
     "The X access token expired or was revoked: reconnect the channel."),
    ("error_429_rate_limit.json", 429, RateLimited, "rate limit"),
    ("error_429_usage_cap.json", 429, RateLimited, "monthly usage cap"),
])
def test_api_errors_map_to_connector_errors(name, status, error, reason):
    with FakePlatform() as fake:
        fake.reply("GET", MENTIONS, status=status, json=example(name))
        with pytest.raises(error) as caught:
            connector(fake.url).poll(None)
    assert type(caught.value) is error and reason in caught.value.reason


def test_rate_limit_waits_until_the_reset_header():
    reset = int(time.time()) + 120
    with FakePlatform() as fake:
        fake.reply("GET", MENTIONS, status=429, json=example("error_429_rate_limit.json"),
                   headers={"x-rate-limit-limit": "450", "x-rate-limit-remaining": "0",
                            "x-rate-limit-reset": str(reset)})
        with pytest.raises(RateLimited) as caught:
            connector(fake.url).poll(None)
    assert 115 <= caught.value.retry_after <= 120


def test_reply_not_allowed_is_permanent_not_an_auth_problem():
    with FakePlatform() as fake:
        fake.reply("POST", "/2/tweets", status=403, json=example("error_403_reply_not_allowed.json"))
        with pytest.raises(PermanentError) as caught:
            connector(fake.url).send(OutboundMessage(text="hi", recipient_id="2934857261", is_public=True,
                                                     idempotency_key="k", in_reply_to="1800425964958791529"))
    assert not isinstance(caught.value, AuthError)
    assert "not mentioned or engaged" in caught.value.reason and caught.value.code == "reply_not_allowed"


@pytest.mark.parametrize("body, error", [
    ({"title": "Forbidden", "type": "about:blank", "status": 403,
      "detail": "Missing required OAuth scope: dm.write"}, AuthError),
    ({"title": "Unsupported Authentication", "status": 403,
      "detail": "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.",
      "type": "https://api.twitter.com/2/problems/unsupported-authentication"}, AuthError),
    ({"title": "Forbidden", "type": "about:blank", "status": 403,
      "detail": "You are not allowed to create a Tweet with duplicate content."}, PermanentError),
])
def test_other_forbidden_answers(body, error):
    with FakePlatform() as fake:
        fake.reply("POST", "/2/tweets", status=403, json=body)
        with pytest.raises(PermanentError) as caught:
            connector(fake.url).send(OutboundMessage(text="hi", recipient_id="1", is_public=True, idempotency_key="k"))
    assert type(caught.value) is error and body["detail"] in caught.value.reason


def test_a_server_error_is_transient_and_the_next_poll_works():
    with FakePlatform() as fake:
        fake.reply("GET", MENTIONS, status=500, json={"title": "Internal Server Error", "status": 500})
        fake.reply("GET", MENTIONS, json=example("mentions_page2_last.json"))
        fake.reply("GET", DM_EVENTS, json=EMPTY)
        client = connector(fake.url)
        with pytest.raises(TransientError) as caught:
            client.poll(None)
        assert not isinstance(caught.value, RateLimited) and caught.value.code == "500"
        result = client.poll(None)
    assert [p.body for p in result.payloads] == [example("mentions_page2_last.json")]


def test_an_html_outage_page_is_transient():
    with FakePlatform() as fake:
        fake.reply("GET", MENTIONS, status=503, body=b"<html>Over capacity</html>")
        with pytest.raises(TransientError):
            connector(fake.url).poll(None)


def test_a_timeout_is_transient():
    with FakePlatform() as fake:
        fake.reply("GET", MENTIONS, json=EMPTY, delay=2)
        with pytest.raises(TransientError) as caught:
            connector(fake.url, timeout=0.5).poll(None)
    assert caught.value.code == "timeout"


def test_malformed_json_from_the_api_is_transient():
    with FakePlatform() as fake:
        fake.reply("GET", MENTIONS, body=b'{"data": [{"id": "18004')
        with pytest.raises(TransientError) as caught:
            connector(fake.url).poll(None)
    assert caught.value.code == "malformed_json"


def test_an_answer_with_only_errors_is_permanent():
    body = {"errors": [{"detail": "Could not find user with id: [1290345678123456512].", "title": "Not Found Error",
                        "type": "https://api.twitter.com/2/problems/resource-not-found"}]}
    with FakePlatform() as fake:
        fake.reply("GET", MENTIONS, json=body)
        with pytest.raises(PermanentError) as caught:
            connector(fake.url).poll(None)
    assert "Could not find user" in caught.value.reason


def test_polling_without_an_account_id_is_refused():
    with pytest.raises(PermanentError):
        TwitterConnector({"bearer_token": TOKEN}).poll(None)


# ---- sending ------------------------------------------------------------------------------
def test_a_public_reply_is_a_post_answering_the_mention():
    request = example("create_tweet_reply_request.json")
    with FakePlatform() as fake:
        fake.reply("POST", "/2/tweets", status=201, json=example("create_tweet_reply_response.json"))
        result = connector(fake.url).send(OutboundMessage(
            text=request["text"], recipient_id="1498765432109876544", is_public=True, idempotency_key="r1",
            in_reply_to="1800427508465613493"))
    [sent] = fake.requests
    assert (sent.method, sent.path) == ("POST", "/2/tweets")
    assert sent.json == request
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert result.external_id == "1800430591280094508"
    assert isinstance(result.sent_at, datetime) and result.sent_at.tzinfo is None


def test_a_private_reply_is_a_dm_to_the_customer():
    request = example("dm_send_request.json")
    with FakePlatform() as fake:
        fake.reply("POST", r"/2/dm_conversations/with/\d+/messages", status=201, json=example("dm_send_response.json"))
        result = connector(fake.url).send(OutboundMessage(
            text=request["text"], recipient_id="1634098712345671680", is_public=False, idempotency_key="r2",
            conversation_key="1290345678123456512-1634098712345671680"))
    [sent] = fake.requests
    assert sent.path == "/2/dm_conversations/with/1634098712345671680/messages"
    assert sent.json == request
    assert result.external_id == "1800459213208842713"


def test_a_group_dm_goes_into_its_conversation_and_long_text_is_sent_whole():
    text = "\u200fمرحبا 👋 " + "x" * 9990
    with FakePlatform() as fake:
        fake.reply("POST", r"/2/dm_conversations/\d+/messages", status=201, json=example("dm_send_response.json"))
        connector(fake.url).send(OutboundMessage(text=text, recipient_id="2934857261", is_public=False,
                                                 idempotency_key="r3", conversation_key="1800000000000000001"))
    [sent] = fake.requests
    assert sent.path == "/2/dm_conversations/1800000000000000001/messages"
    assert sent.json == {"text": text}


def test_send_errors_are_mapped():
    message = OutboundMessage(text="hi", recipient_id="1634098712345671680", is_public=False, idempotency_key="k")
    with FakePlatform() as fake:
        fake.reply("POST", r"/2/dm_conversations/with/\d+/messages", status=401,
                   json=example("error_401_unauthorized.json"))
        with pytest.raises(AuthError):
            connector(fake.url).send(message)


def test_an_accepted_send_without_an_id_is_not_retried():
    message = OutboundMessage(text="hi", recipient_id="1", is_public=True, idempotency_key="k")
    with FakePlatform() as fake:
        fake.reply("POST", "/2/tweets", status=201, json={"data": {}})
        with pytest.raises(PermanentError) as caught:
            connector(fake.url).send(message)
    assert not isinstance(caught.value, TransientError)


# ---- health ------------------------------------------------------------------------------
def test_health_check_names_the_account():
    with FakePlatform() as fake:
        fake.reply("GET", "/2/users/me", json={"data": {"id": ACCOUNT, "name": "Najm Telecom",
                                                        "username": "NajmTelecom"}})
        health = connector(fake.url).health_check()
    assert health.ok and health.detail == "@NajmTelecom"
    assert fake.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"


def test_health_check_raises_on_an_expired_token_or_another_account():
    with FakePlatform() as fake:
        fake.reply("GET", "/2/users/me", status=401, json=example("error_401_unauthorized.json"))
        with pytest.raises(AuthError):
            connector(fake.url).health_check()
    with FakePlatform() as fake:
        fake.reply("GET", "/2/users/me", json={"data": {"id": "2934857261", "name": "Sara", "username": "sara_k_dxb"}})
        with pytest.raises(AuthError) as caught:
            connector(fake.url).health_check()
    assert "@sara_k_dxb" in caught.value.reason
