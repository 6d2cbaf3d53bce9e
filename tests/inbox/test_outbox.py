"""Replies to a real platform (a fake Telegram on 127.0.0.1): sent once, retried when the
platform says so, failed visibly when a person must act."""
import time

import pytest
from sqlalchemy import select

from inbox.extensions import db
from inbox.jobs import tasks
from inbox.models import Channel, Message
from inbox.services import maintenance
from tests.conftest import jobs, login, post
from tests.fakes.server import FakePlatform
from tests.inbox.platform_helpers import BOT_TOKEN, SECRET, sent_message, telegram_channel, telegram_update

SEND = rf"/bot{BOT_TOKEN}/sendMessage"


@pytest.fixture
def fake():
    with FakePlatform() as server:
        yield server


@pytest.fixture
def conversation(app, client, people, fake):
    """A Telegram customer wrote; agent A is signed in to answer."""
    channel_id = telegram_channel(app, fake.url)
    client.post(f"/webhooks/telegram/{channel_id}", json=telegram_update(1),
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    jobs(app).drain()
    with app.app_context():
        conversation_id = db.session.scalars(select(Message.conversation_id)).one()
    login(client, people.agent_a.email)
    return conversation_id, channel_id


def reply(client, conversation_id, text="نعتذر، نعمل على المشكلة", token=None):
    data = {"text": text} | ({"client_token": token} if token else {})
    response = post(client, f"/conversations/{conversation_id}/reply", data, headers={"Accept": "application/json"})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json["id"]


def message(app, message_id) -> Message:
    with app.app_context():
        found = db.session.get(Message, message_id)
        db.session.expunge(found)
        return found


def test_a_reply_reaches_the_platform_once(app, client, fake, conversation):
    fake.reply("POST", SEND, json=sent_message())
    message_id = reply(client, conversation[0], token="once")
    reply(client, conversation[0], token="once")  # a double click
    jobs(app).drain()
    with app.app_context():
        tasks.deliver_message(message_id)  # a job run twice
    assert len(fake.requests_to(SEND)) == 1
    body = fake.requests_to(SEND)[0].json
    assert body["chat_id"] in ("555", 555) and body["text"] == "نعتذر، نعمل على المشكلة"
    assert body["reply_parameters"]["message_id"] == 1
    sent = message(app, message_id)
    assert sent.state == "sent" and sent.external_id == "555:9001"


def test_a_rate_limit_waits_for_the_platforms_delay(app, client, fake, conversation):
    fake.reply("POST", SEND, status=429, json={"ok": False, "error_code": 429,
                                               "description": "Too Many Requests: retry after 1",
                                               "parameters": {"retry_after": 1}})
    fake.reply("POST", SEND, json=sent_message())
    started = time.monotonic()
    message_id = reply(client, conversation[0])
    jobs(app).drain(timeout=15)
    calls = fake.requests_to(SEND)
    assert len(calls) == 2 and time.monotonic() - started >= 1.0
    assert message(app, message_id).state == "sent"


def test_a_server_error_is_retried_then_succeeds(app, client, fake, conversation):
    fake.reply("POST", SEND, status=500, json={"ok": False, "error_code": 500, "description": "Internal"})
    fake.reply("POST", SEND, json=sent_message())
    with app.app_context():
        from inbox.services import outbox

        outbox.backoff_seconds = lambda attempt: 0.05  # noqa: ARG005 - keep the test fast
    message_id = reply(client, conversation[0])
    jobs(app).drain(timeout=15)
    assert len(fake.requests_to(SEND)) == 2 and message(app, message_id).state == "sent"


def test_a_revoked_token_fails_the_reply_and_flags_the_channel(app, client, fake, conversation):
    fake.reply("POST", SEND, status=401, json={"ok": False, "error_code": 401, "description": "Unauthorized"})
    message_id = reply(client, conversation[0])
    jobs(app).drain()
    failed = message(app, message_id)
    assert failed.state == "failed" and "BotFather" in failed.error
    with app.app_context():
        channel = db.session.get(Channel, conversation[1])
        assert channel.status == "needs_reauth" and "BotFather" in channel.last_error
    page = client.get(f"/conversations/{conversation[0]}").get_data(as_text=True)
    assert "BotFather" in page  # the agent sees why
    # After the admin fixes the channel, the agent's retry sends it.
    with app.app_context():
        db.session.get(Channel, conversation[1]).status = "active"
        db.session.commit()
    fake.reply("POST", SEND, json=sent_message())
    assert post(client, f"/messages/{message_id}/retry", headers={"Accept": "application/json"}).status_code == 200
    jobs(app).drain()
    assert message(app, message_id).state == "sent"


def test_a_blocked_bot_is_a_permanent_failure_with_a_reason(app, client, fake, conversation):
    fake.reply("POST", SEND, status=403, json={"ok": False, "error_code": 403,
                                               "description": "Forbidden: bot was blocked by the user"})
    message_id = reply(client, conversation[0])
    jobs(app).drain()
    failed = message(app, message_id)
    assert failed.state == "failed" and "blocked" in failed.error
    with app.app_context():
        assert db.session.get(Channel, conversation[1]).status == "active"  # not the channel's fault


def test_the_sweeper_sends_a_reply_whose_job_was_lost(app, client, fake, conversation):
    fake.reply("POST", SEND, json=sent_message())
    with app.app_context():
        from datetime import timedelta

        from inbox.models.base import utcnow

        lost = Message(conversation_id=conversation[0], channel_id=conversation[1], direction="out",
                       text="queued before a crash", state="queued", idempotency_key="lost-1",
                       created_at=utcnow() - timedelta(minutes=5))
        db.session.add(lost)
        db.session.commit()
        lost_id = lost.id
        assert maintenance.stale_replies() == [lost_id]
        tasks.sweep()
    jobs(app).drain()
    assert message(app, lost_id).state == "sent"
