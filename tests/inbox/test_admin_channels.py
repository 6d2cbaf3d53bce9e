"""The admins' channel screen: settings, credentials that never come back, health, pausing."""
import html

import pytest
from sqlalchemy import func, select

from inbox import crypto
from inbox.extensions import db
from inbox.models import AuditLog, Channel
from inbox.models.base import utcnow
from inbox.services import channels
from tests.conftest import login, make_app, post
from tests.fakes.server import FakePlatform
from tests.inbox.platform_helpers import BOT_TOKEN, SECRET

GET_ME = rf"/bot{BOT_TOKEN}/getMe"
BOT = {"ok": True, "result": {"id": 999, "is_bot": True, "first_name": "Bot", "username": "tawasul_bot"}}
UNAUTHORIZED = {"ok": False, "error_code": 401, "description": "Unauthorized"}
TEMPLATES_TEXT = ("follow_up | ar | مرحبا، هل ما زلت بحاجة للمساعدة؟\n"
                  "bill_ready | en_US | Your bill is ready | pay it in the app\n"
                  "survey | en")


@pytest.fixture
def admin(client, people):
    login(client, people.admin.email)
    return client


@pytest.fixture
def fake():
    with FakePlatform() as server:
        yield server


def telegram_form(**changes) -> dict:
    return {"platform": "telegram", "name": "Telegram bot", "team": "Team A", "account_id": "999",
            "api_base": "http://127.0.0.1:9", "mode": "polling", "timeout": "2", "poll_interval": "30",
            "bot_token": BOT_TOKEN, "secret_token": SECRET} | changes


def create(client, data: dict) -> int:
    response = post(client, "/admin/channels", data)
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def load(app, channel_id: int) -> Channel:
    with app.app_context():
        found = db.session.get(Channel, channel_id)
        found.team  # noqa: B018 (loaded before the session closes)
        db.session.expunge(found)
        return found


def settings_of(app, channel_id: int) -> dict:
    """What the connector is built with: settings and decrypted credentials."""
    with app.app_context():
        return channels.connector(db.session.get(Channel, channel_id)).settings


def audit(app) -> list[tuple]:
    with app.app_context():
        entries = db.session.scalars(select(AuditLog).order_by(AuditLog.id))
        return [(e.actor_id, e.action, e.target_id, e.data) for e in entries]


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_an_admin_creates_a_telegram_channel_whose_token_never_comes_back(app, admin, people):
    form = page(admin, "/admin/channels/new?platform=telegram")
    assert 'name="bot_token"' in form and 'name="poll_interval"' in form and 'name="templates"' not in form
    channel_id = create(admin, telegram_form())
    channel = load(app, channel_id)
    assert (channel.platform, channel.name, channel.team.name, channel.status) == (
        "telegram", "Telegram bot", "Team A", "active")
    assert channel.settings == {"account_id": "999", "api_base": "http://127.0.0.1:9", "mode": "polling",
                                "timeout": "2", "poll_interval": 30}
    assert BOT_TOKEN not in channel.secrets and SECRET not in channel.secrets
    assert BOT_TOKEN not in str(channel.settings)
    assert settings_of(app, channel_id)["bot_token"] == BOT_TOKEN
    edit = page(admin, f"/admin/channels/{channel_id}")
    assert BOT_TOKEN not in edit and SECRET not in edit
    assert BOT_TOKEN[-4:] in edit and crypto.mask(BOT_TOKEN) in html.unescape(edit)  # the masked form only
    assert f"http://localhost/webhooks/telegram/{channel_id}" in edit
    assert 'value="999"' in edit and "Channel saved." in edit
    assert audit(app)[-1][:3] == (people.admin.id, "channel.created", channel_id)
    assert BOT_TOKEN not in str(audit(app))


def test_the_webhook_url_uses_the_public_base_url(database_url):
    from tests import factories

    app = make_app(database_url, PUBLIC_BASE_URL="https://care.example.jo")
    with app.app_context():
        factories.world()
    client = app.test_client()
    login(client, "admin@example.com")
    channel_id = create(client, telegram_form(mode="webhook"))
    assert f"https://care.example.jo/webhooks/telegram/{channel_id}" in page(client, f"/admin/channels/{channel_id}")


def test_an_empty_credential_keeps_the_stored_one_and_a_new_one_replaces_it(app, admin, people):
    channel_id = create(admin, telegram_form())
    response = post(admin, f"/admin/channels/{channel_id}",
                    telegram_form(name="Telegram support", bot_token="", secret_token="", poll_interval="12"))
    assert response.status_code == 303
    settings = settings_of(app, channel_id)
    assert (settings["bot_token"], settings["secret_token"], settings["poll_interval"]) == (BOT_TOKEN, SECRET, 12)
    assert load(app, channel_id).name == "Telegram support"
    assert audit(app)[-1][1:] == ("channel.saved", channel_id,
                                  {"platform": "telegram", "changed": ["name", "poll_interval"]})
    assert post(admin, f"/admin/channels/{channel_id}",
                telegram_form(bot_token="654321:a-new-token", secret_token="")).status_code == 303
    settings = settings_of(app, channel_id)
    assert (settings["bot_token"], settings["secret_token"]) == ("654321:a-new-token", SECRET)
    assert "a-new-token" not in str(audit(app))  # the audit names what changed, never the value


def test_pausing_and_resuming_change_the_status_and_are_audited(app, admin, people):
    channel_id = create(admin, telegram_form())
    assert post(admin, f"/admin/channels/{channel_id}/pause", {"paused": "1"}).status_code == 303
    assert load(app, channel_id).status == "paused"
    assert 'data-testid="resume"' in page(admin, f"/admin/channels/{channel_id}")
    assert post(admin, f"/admin/channels/{channel_id}/pause", {"paused": "0"}).status_code == 303
    assert load(app, channel_id).status == "active"
    assert [a[1] for a in audit(app)[-2:]] == ["channel.paused", "channel.resumed"]
    assert post(admin, f"/admin/channels/{channel_id}/pause", {"paused": "maybe"}).status_code == 400
    assert load(app, channel_id).status == "active"


def test_a_channel_needing_new_credentials_shows_a_banner_to_admins(app, admin, people):
    with app.app_context():
        channel = db.session.get(Channel, people.channel_b.id)
        channel.status, channel.last_error, channel.last_error_at = "needs_reauth", "The token expired.", utcnow()
        db.session.commit()
    for path in ("/admin/", f"/admin/channels/{people.channel_a.id}"):
        shown = page(admin, path)
        assert shown.count('data-testid="reauth-banner"') == 1
        banner = shown[shown.index('data-testid="reauth-banner"'):].split("</p>")[0]
        assert "Channel B" in banner and "The token expired." in banner
        assert f'href="/admin/channels/{people.channel_b.id}"' in banner


def test_no_banner_while_every_channel_works(admin, people):
    assert "reauth-banner" not in page(admin, "/admin/")


def test_test_connection_reports_success_and_records_it(app, admin, people, fake):
    fake.reply("POST", GET_ME, json=BOT)
    channel_id = create(admin, telegram_form(api_base=fake.url))
    response = post(admin, f"/admin/channels/{channel_id}/test", follow_redirects=True)
    shown = response.get_data(as_text=True)
    assert "The connection works: @tawasul_bot" in shown
    assert len(fake.requests_to(GET_ME)) == 1
    channel = load(app, channel_id)
    assert channel.last_success_at is not None and channel.status == "active" and channel.last_error is None


def test_a_refused_token_is_reported_and_stops_the_channel(app, admin, people, fake):
    fake.reply("POST", GET_ME, status=401, json=UNAUTHORIZED)
    channel_id = create(admin, telegram_form(api_base=fake.url))
    shown = post(admin, f"/admin/channels/{channel_id}/test", follow_redirects=True).get_data(as_text=True)
    assert "The connection failed: The bot token was revoked or is invalid" in shown
    assert BOT_TOKEN not in shown
    channel = load(app, channel_id)
    assert channel.status == "needs_reauth" and "revoked" in channel.last_error and channel.last_error_at
    assert 'data-testid="reauth-banner"' in page(admin, "/admin/")
    fake.reply("POST", GET_ME, json=BOT)  # a working token again: the channel starts again
    post(admin, f"/admin/channels/{channel_id}/test")
    assert load(app, channel_id).status == "active"
    assert "reauth-banner" not in page(admin, "/admin/")


def test_registering_the_telegram_webhook_uses_a_generated_secret_and_switches_to_webhook_mode(
        app, admin, people, fake):
    set_webhook = rf"/bot{BOT_TOKEN}/setWebhook"
    fake.reply("POST", set_webhook, json={"ok": True, "result": True, "description": "Webhook was set"})
    channel_id = create(admin, telegram_form(api_base=fake.url, secret_token=""))
    secret = settings_of(app, channel_id)["secret_token"]
    assert len(secret) >= 24 and secret not in page(admin, f"/admin/channels/{channel_id}")
    shown = post(admin, f"/admin/channels/{channel_id}/webhook", follow_redirects=True).get_data(as_text=True)
    assert "Webhook registered" in shown and secret not in shown
    sent = fake.requests_to(set_webhook)[0].json
    assert (sent["url"], sent["secret_token"]) == (f"http://localhost/webhooks/telegram/{channel_id}", secret)
    assert load(app, channel_id).settings["mode"] == "webhook"
    assert audit(app)[-1][1:3] == ("channel.webhook_registered", channel_id)


def test_meta_webhooks_are_not_registered_by_the_app(app, admin, people):
    channel_id = create(admin, {"platform": "whatsapp", "name": "WhatsApp", "account_id": "1"})
    assert 'data-testid="register-webhook"' not in page(admin, f"/admin/channels/{channel_id}")
    shown = post(admin, f"/admin/channels/{channel_id}/webhook", follow_redirects=True).get_data(as_text=True)
    assert "could not be registered" in shown and "dashboard" in shown


@pytest.mark.parametrize("email", ["agent.a@example.com", "supervisor@example.com"])
def test_channel_screens_are_forbidden_to_agents_and_supervisors(app, client, people, email):
    channel_id = people.channel_a.id
    login(client, email)
    assert client.get("/admin/channels/new?platform=telegram").status_code == 403
    assert client.get(f"/admin/channels/{channel_id}").status_code == 403
    assert client.get("/admin/channels/99999").status_code == 403
    for path, data in [("/admin/channels", telegram_form()),
                       (f"/admin/channels/{channel_id}", {"name": "Hijacked", "poll_interval": "5"}),
                       (f"/admin/channels/{channel_id}/pause", {"paused": "1"}),
                       (f"/admin/channels/{channel_id}/test", {}),
                       (f"/admin/channels/{channel_id}/webhook", {})]:
        assert post(client, path, data).status_code == 403, path
    channel = load(app, channel_id)
    assert (channel.name, channel.status) == ("Channel A", "active")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Channel)) == 2
    assert audit(app) == []


def test_a_post_without_csrf_token_is_refused(app, admin, people):
    channel_id = people.channel_a.id
    assert admin.post(f"/admin/channels/{channel_id}/pause", data={"paused": "1"}).status_code == 400
    assert admin.post("/admin/channels", data=telegram_form()).status_code == 400
    assert admin.post(f"/admin/channels/{channel_id}", data={"name": "Changed"}).status_code == 400
    channel = load(app, channel_id)
    assert (channel.name, channel.status) == ("Channel A", "active")
    assert audit(app) == []


def test_unknown_platforms_and_channels_are_404(admin, people):
    assert admin.get("/admin/channels/new?platform=myspace").status_code == 404
    assert admin.get("/admin/channels/new").status_code == 404
    assert post(admin, "/admin/channels", telegram_form(platform="myspace")).status_code == 404
    assert admin.get("/admin/channels/99999").status_code == 404
    for path in ("/admin/channels/99999", "/admin/channels/99999/pause", "/admin/channels/99999/test",
                 "/admin/channels/99999/webhook"):
        assert post(admin, path, {"paused": "1", "name": "x"}).status_code == 404, path


@pytest.mark.parametrize("changes, reason", [
    ({"name": "  "}, "a channel needs a name"),
    ({"poll_interval": "often"}, "polling interval"),
    ({"timeout": "-3"}, "timeout must be"),
    ({"api_base": "file:///etc/passwd"}, "api_base must be"),
    ({"team": "T" * 81}, "at most 80"),
])
def test_bad_input_shows_the_form_again_and_saves_nothing(app, admin, people, changes, reason):
    response = post(admin, "/admin/channels", telegram_form(**changes))
    assert response.status_code == 422
    shown = response.get_data(as_text=True)
    assert 'data-testid="form-error"' in shown and reason in shown
    assert BOT_TOKEN not in shown and SECRET not in shown  # a typed credential is not sent back either
    assert 'value="999"' in shown  # the rest of what was typed is kept
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Channel)) == 2
    assert audit(app) == []


def test_a_refused_edit_changes_nothing(app, admin, people):
    channel_id = create(admin, telegram_form())
    response = post(admin, f"/admin/channels/{channel_id}", telegram_form(name="Renamed", poll_interval="x"))
    assert response.status_code == 422
    assert load(app, channel_id).name == "Telegram bot"
    assert 'value="Renamed"' in response.get_data(as_text=True)


def test_moving_the_api_address_needs_the_token_again(app, admin, people):
    """Otherwise the stored token could be sent to any address an admin types in."""
    channel_id = create(admin, telegram_form())
    moved = telegram_form(api_base="https://collector.example.net", bot_token="", secret_token="")
    response = post(admin, f"/admin/channels/{channel_id}", moved)
    assert response.status_code == 422 and "bot_token entered again" in response.get_data(as_text=True)
    assert load(app, channel_id).settings["api_base"] == "http://127.0.0.1:9"
    assert post(admin, f"/admin/channels/{channel_id}", moved | {"bot_token": BOT_TOKEN}).status_code == 303
    assert settings_of(app, channel_id)["api_base"] == "https://collector.example.net"


def test_hostile_names_are_escaped(app, admin, people):
    hostile = "<script>alert(1)</script>"
    channel_id = create(admin, telegram_form(name=hostile, team=hostile[:40]))
    with app.app_context():
        channel = db.session.get(Channel, channel_id)
        channel.status, channel.last_error = "needs_reauth", "<img src=x onerror=alert(2)>"
        db.session.commit()
    for path in ("/admin/", f"/admin/channels/{channel_id}"):
        shown = page(admin, path)
        assert "<script>alert(1)" not in shown and "<img src=x" not in shown
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown


def test_whatsapp_templates_round_trip_and_the_verify_token_is_shown(app, admin, people):
    form = page(admin, "/admin/channels/new?platform=whatsapp")
    assert 'name="templates"' in form and 'name="poll_interval"' not in form
    channel_id = create(admin, {"platform": "whatsapp", "name": "WhatsApp", "team": "Team A",
                                "account_id": "109876543210987", "graph_base": "", "templates": TEMPLATES_TEXT,
                                "access_token": "EAAG-wa-access-token", "app_secret": "wa-app-secret"})
    settings = load(app, channel_id).settings
    assert settings["templates"] == [
        {"name": "follow_up", "language": "ar", "text": "مرحبا، هل ما زلت بحاجة للمساعدة؟"},
        {"name": "bill_ready", "language": "en_US", "text": "Your bill is ready | pay it in the app"},
        {"name": "survey", "language": "en", "text": ""},
    ]
    shown = page(admin, f"/admin/channels/{channel_id}")
    textarea = shown[shown.index('name="templates"'):].split(">", 1)[1].split("</textarea>")[0]
    assert html.unescape(textarea) == TEMPLATES_TEXT
    verify = settings_of(app, channel_id)["verify_token"]
    assert len(verify) >= 24 and f'data-testid="verify-token">{verify}<' in shown
    assert "wa-access-token" not in shown and "wa-app-secret" not in shown
    assert f"/webhooks/whatsapp/{channel_id}" in shown
    resent = {"name": "WhatsApp", "team": "Team A", "account_id": "109876543210987",
              "templates": html.unescape(textarea)}
    assert post(admin, f"/admin/channels/{channel_id}", resent).status_code == 303
    assert load(app, channel_id).settings["templates"] == settings["templates"]
    assert settings_of(app, channel_id)["verify_token"] == verify  # kept, not regenerated


def test_a_malformed_template_line_is_refused(app, admin, people):
    response = post(admin, "/admin/channels", {"platform": "whatsapp", "name": "WhatsApp",
                                               "templates": "follow_up | ar | hi\nNot A Template"})
    assert response.status_code == 422
    shown = response.get_data(as_text=True)
    assert "Template line 2" in shown and "Not A Template" in shown
