"""POST /webhooks/<platform>/<channel>: verified, stored once, parsed in a job."""
import json

from sqlalchemy import func, select

from inbox.extensions import db
from inbox.models import Channel, Message, RawEvent
from tests.conftest import jobs
from tests.inbox.platform_helpers import SECRET, telegram_channel, telegram_update

HEADER = "X-Telegram-Bot-Api-Secret-Token"


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def deliver(client, channel_id, body, secret=SECRET, **kwargs):
    headers = {HEADER: secret} if secret is not None else {}
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.post(f"/webhooks/telegram/{channel_id}", data=data, headers=headers,
                       content_type="application/json", **kwargs)


def test_a_signed_delivery_is_stored_then_ingested(app, client, people):
    channel_id = telegram_channel(app, "http://127.0.0.1:9")
    response = deliver(client, channel_id, telegram_update(1, "\u200fالنت مقطوع من الصبح 😡"))
    assert response.status_code == 200 and response.json == {"stored": 1, "duplicates": 0}
    jobs(app).drain()
    with app.app_context():
        message = db.session.scalars(select(Message)).one()
        assert message.text == "\u200fالنت مقطوع من الصبح 😡"  # RTL mark and emoji kept
        assert message.external_id == "555:1" and message.conversation.team.name == "Team A"


def test_bad_or_missing_signatures_store_nothing_and_are_counted(app, client, people):
    channel_id = telegram_channel(app, "http://127.0.0.1:9")
    for secret in (None, "wrong", SECRET[:-1], ""):
        assert deliver(client, channel_id, telegram_update(2), secret=secret).status_code == 401
    assert count(app, RawEvent) == 0
    with app.app_context():
        assert db.session.get(Channel, channel_id).rejected_webhooks == 4


def test_a_replayed_delivery_is_acknowledged_and_stored_once(app, client, people):
    channel_id = telegram_channel(app, "http://127.0.0.1:9")
    first = deliver(client, channel_id, telegram_update(3))
    again = deliver(client, channel_id, telegram_update(3))
    assert first.json["stored"] == 1 and again.status_code == 200 and again.json["duplicates"] == 1
    jobs(app).drain()
    assert count(app, RawEvent) == 1 and count(app, Message) == 1


def test_malformed_bodies_are_refused_without_a_retry_loop(app, client, people):
    channel_id = telegram_channel(app, "http://127.0.0.1:9")
    assert deliver(client, channel_id, b"{not json").status_code == 400
    assert deliver(client, channel_id, b"[" * 100_000 + b"]" * 100_000).status_code in (400, 413)
    assert deliver(client, channel_id, {"no": "update id"}).status_code == 400
    assert deliver(client, channel_id, b"x" * (1024 * 1024 + 1)).status_code == 413
    assert count(app, RawEvent) == 0


def test_unknown_channels_and_platform_mismatches_are_404(app, client, people):
    channel_id = telegram_channel(app, "http://127.0.0.1:9")
    assert client.post(f"/webhooks/telegram/{channel_id + 100}", data="{}").status_code == 404
    assert client.post(f"/webhooks/whatsapp/{channel_id}", data="{}").status_code == 404


def test_an_edit_updates_the_stored_message(app, client, people):
    channel_id = telegram_channel(app, "http://127.0.0.1:9")
    deliver(client, channel_id, telegram_update(10, "bill is 30 JD"))
    edited = telegram_update(11, "bill is 38 JD", message_id=10)
    edited["edited_message"] = edited.pop("message") | {"edit_date": 1718103800}
    deliver(client, channel_id, edited)
    jobs(app).drain()
    with app.app_context():
        message = db.session.scalars(select(Message)).one()
        assert message.text == "bill is 38 JD" and message.edited_at is not None


def test_a_message_and_its_edit_in_one_batch(app, people):
    from connectors.types import RawPayload
    from inbox.services import ingest

    channel_id = telegram_channel(app, "http://127.0.0.1:9")
    edited = telegram_update(21, "the right text", message_id=20)
    edited["edited_message"] = edited.pop("message") | {"edit_date": 1718103800}
    with app.app_context():
        ids = ingest.record_raw_events(channel_id, [RawPayload(telegram_update(20, "a typo"), "update:20"),
                                                    RawPayload(edited, "update:21")])
        ingest.process_raw_events(ids)
        message = db.session.scalars(select(Message)).one()
        assert message.text == "the right text" and message.edited_at is not None
