"""Polled channels (a Telegram bot in polling mode, against a fake Bot API): cursors, rate
limits that park only their own channel, auth failures that flag it, and health checks."""
import pytest
from sqlalchemy import func, select

from inbox.extensions import db
from inbox.jobs import tasks
from inbox.models import Channel, Message
from inbox.services import polling
from tests.fakes.server import FakePlatform
from tests.inbox.platform_helpers import BOT_TOKEN, telegram_channel, telegram_update

UPDATES = rf"/bot{BOT_TOKEN}/getUpdates"


@pytest.fixture
def fake():
    with FakePlatform() as server:
        yield server


def channel(app, channel_id) -> Channel:
    with app.app_context():
        found = db.session.get(Channel, channel_id)
        db.session.expunge(found)
        return found


def test_polling_moves_the_cursor_after_storing(app, people, fake):
    channel_id = telegram_channel(app, fake.url, mode="polling")
    fake.reply("POST", UPDATES, json={"ok": True, "result": [telegram_update(41), telegram_update(42, "still down")]})
    fake.reply("POST", UPDATES, json={"ok": True, "result": []})
    with app.app_context():
        assert polling.poll_channel(channel_id) == 2
        assert polling.poll_channel(channel_id) == 0
        assert db.session.scalar(select(func.count()).select_from(Message)) == 2
    assert channel(app, channel_id).cursor == "43"
    assert fake.requests_to(UPDATES)[1].json["offset"] == 43  # the second poll asks only for what is new


def test_a_rate_limited_channel_waits_while_others_go_on(app, people, fake):
    limited = telegram_channel(app, fake.url, mode="polling")
    fake.reply("POST", UPDATES, status=429, json={"ok": False, "error_code": 429,
                                                  "description": "Too Many Requests: retry after 30",
                                                  "parameters": {"retry_after": 30}})
    with app.app_context():
        assert polling.poll_channel(limited) == 0
        assert polling.poll_channel(limited) == 0
    assert len(fake.requests_to(UPDATES)) == 1  # the second poll did not call the platform
    parked = channel(app, limited)
    assert parked.rate_limited_until is not None and parked.status == "active"
    with FakePlatform() as other_fake:
        other_fake.reply("POST", UPDATES, json={"ok": True, "result": [telegram_update(7)]})
        other = telegram_channel(app, other_fake.url, mode="polling", team_name="Team B")
        with app.app_context():
            assert polling.poll_channel(other) == 1


def test_an_auth_failure_flags_the_channel_for_admins(app, people, fake):
    channel_id = telegram_channel(app, fake.url, mode="polling")
    fake.reply("POST", UPDATES, status=401, json={"ok": False, "error_code": 401, "description": "Unauthorized"})
    with app.app_context():
        assert polling.poll_channel(channel_id) == 0
    flagged = channel(app, channel_id)
    assert flagged.status == "needs_reauth" and "BotFather" in flagged.last_error
    assert BOT_TOKEN not in flagged.last_error


def test_the_health_check_records_the_last_successful_call(app, people, fake):
    channel_id = telegram_channel(app, fake.url, mode="polling")
    fake.reply("POST", rf"/bot{BOT_TOKEN}/getMe",
               json={"ok": True, "result": {"id": 999, "is_bot": True, "first_name": "Bot", "username": "care_bot"}})
    with app.app_context():
        tasks.check_channel_health(channel_id)
    assert channel(app, channel_id).last_success_at is not None


def test_credentials_are_encrypted_at_rest(app, people, fake):
    channel_id = telegram_channel(app, fake.url)
    stored = channel(app, channel_id)
    assert BOT_TOKEN not in (stored.secrets or "") and BOT_TOKEN not in str(stored.settings)
