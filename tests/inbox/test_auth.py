"""Who may do what: sign-in, revocable sessions, roles, CSRF and the login rate limit."""
import re

import pytest

from inbox.extensions import db
from inbox.models import AuditLog, User
from inbox.services import users
from tests.conftest import csrf_token, login, make_app, post


def test_signing_in_opens_the_inbox(client, people):
    response = login(client, "agent.a@example.com")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_wrong_password_says_only_that(client, people):
    pages = []
    for email in ("agent.a@example.com", "nobody@example.com"):
        response = login(client, email, "not-the-password")
        assert response.status_code == 401
        page = response.get_data(as_text=True)
        assert "Wrong e-mail or password." in page
        page = re.sub(r"[\w-]{20,}\.[\w-]+\.[\w-]+", "CSRF", page)  # tokens are signed with a timestamp
        pages.append(page.replace(email, "EMAIL"))
    # An unknown account and a wrong password look exactly alike.
    assert pages[0] == pages[1]
    assert client.get("/").status_code == 302  # still signed out


def test_pages_need_a_signed_in_user(client, people):
    response = client.get("/conversations/1")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert client.get("/api/conversations").status_code in (302, 401)


def test_logout_ends_every_session_including_copied_cookies(app, people):
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, "agent.a@example.com")
    login(phone, "agent.a@example.com")
    assert phone.get("/").status_code == 200
    post(laptop, "/logout")
    assert laptop.get("/").status_code == 302
    assert phone.get("/").status_code == 302


def test_a_password_change_ends_sessions(client, people):
    login(client, "agent.a@example.com")
    with client.application.app_context():
        users.change_password(db.session.get(User, people.agent_a.id), "a-new-password")
    assert client.get("/").status_code == 302
    assert login(client, "agent.a@example.com", "a-new-password").status_code == 302


def test_deactivating_a_user_ends_their_sessions_and_is_audited(app, people):
    agent, admin = app.test_client(), app.test_client()
    login(agent, "agent.a@example.com")
    login(admin, "admin@example.com")
    response = post(admin, f"/admin/users/{people.agent_a.id}/active", {"active": "0"})
    assert response.status_code == 303
    assert agent.get("/").status_code == 302
    assert login(agent, "agent.a@example.com").status_code == 401
    with app.app_context():
        entry = db.session.query(AuditLog).one()
    assert (entry.actor_id, entry.action, entry.target_id) == (people.admin.id, "user.deactivated", people.agent_a.id)


@pytest.mark.parametrize("email", ["agent.a@example.com", "supervisor@example.com"])
def test_admin_pages_are_forbidden_to_others(client, people, email):
    login(client, email)
    assert client.get("/admin/").status_code == 403
    assert post(client, f"/admin/users/{people.agent_b.id}/active", {"active": "0"}).status_code == 403
    with client.application.app_context():
        assert db.session.get(User, people.agent_b.id).active


def test_admins_see_users_and_channels(client, people):
    login(client, "admin@example.com")
    page = client.get("/admin/").get_data(as_text=True)
    assert "agent.b@example.com" in page and "Channel B" in page


def test_a_post_without_csrf_token_is_refused(client, people):
    login(client, "agent.a@example.com")
    response = client.post("/logout")
    assert response.status_code == 400
    assert client.get("/").status_code == 200  # still signed in: nothing happened
    assert client.post("/login", data={"email": "a@b.c", "password": "x"}).status_code == 400


def test_login_attempts_are_rate_limited(database_url):
    app = make_app(database_url, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    token = csrf_token(client)
    codes = [client.post("/login", data={"email": "x@example.com", "password": "nope", "csrf_token": token}).status_code
             for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    assert "Too many attempts" in client.post("/login", data={"csrf_token": token}).get_data(as_text=True)


def test_unknown_pages_get_a_404_in_the_users_language(client, people):
    arabic = client.get("/no/such/page", headers={"Accept-Language": "ar"})
    assert arabic.status_code == 404
    assert 'dir="rtl"' in arabic.get_data(as_text=True) and "هذه الصفحة غير موجودة" in arabic.get_data(as_text=True)
    english = client.get("/no/such/page", headers={"Accept-Language": "en"})
    assert "This page does not exist." in english.get_data(as_text=True)


def test_a_hostile_path_is_not_echoed_on_the_404_page(client):
    page = client.get("/<script>alert(1)</script>").get_data(as_text=True)
    assert "<script>alert(1)" not in page


def test_users_create_command(app, monkeypatch):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "--role", "admin", "--password", "s3cret-pass", "Boss@Example.com"])
    assert result.exit_code == 0, result.output
    assert "created admin boss@example.com" in result.output
    with app.app_context():
        assert users.authenticate("boss@example.com", "s3cret-pass").role == "admin"
    again = runner.invoke(args=["users", "create", "--password", "s3cret-pass", "boss@example.com"])
    assert again.exit_code != 0 and "already exists" in again.output
    prompted = runner.invoke(args=["users", "create", "second@example.com"], input="pw-typed-in\npw-typed-in\n")
    assert prompted.exit_code == 0, prompted.output
    with app.app_context():
        assert users.authenticate("second@example.com", "pw-typed-in").role == "agent"


def test_demo_seed_creates_the_documented_accounts_once(app):
    from inbox.services.seed import DEMO_PASSWORD, seed_demo

    with app.app_context():
        assert seed_demo() is True
        assert seed_demo() is False
        for name in ("admin", "supervisor", "agent1", "agent2"):
            email = f"{name}@tawasul.local"
            assert users.authenticate(email, DEMO_PASSWORD) is not None
