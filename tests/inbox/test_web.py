"""The agent's screens through the test client: queue, conversation, reply, status, language."""
import re

from sqlalchemy import func, select

from inbox.extensions import db
from inbox.models import Conversation, Message
from tests import factories
from tests.conftest import jobs, login, post


def receive(app, channel_id, **kwargs):
    with app.app_context():
        return factories.receive(channel_id, **kwargs)


def test_the_queue_lists_only_what_the_agent_may_see(app, client, people):
    mine = receive(app, people.channel_a.id, author="a-1", name="Customer of A", text="my bill is wrong")
    theirs = receive(app, people.channel_b.id, author="b-1", name="Customer of B", text="no signal")
    login(client, people.agent_a.email)
    page = client.get("/").get_data(as_text=True)
    assert "Customer of A" in page and "my bill is wrong" in page
    assert "Customer of B" not in page
    assert client.get(f"/conversations/{mine.conversation_id}").status_code == 200
    # Another team's ticket is "not found", not "forbidden": no existence oracle.
    assert client.get(f"/conversations/{theirs.conversation_id}").status_code == 404
    assert client.get(f"/api/conversations/{theirs.conversation_id}").status_code == 404
    assert post(client, f"/conversations/{theirs.conversation_id}/reply", {"text": "hi"}).status_code == 404
    assert post(client, f"/conversations/{theirs.conversation_id}/status", {"status": "resolved"}).status_code == 404


def test_supervisors_see_every_team(app, client, people):
    receive(app, people.channel_a.id, author="a-1", name="Customer of A")
    receive(app, people.channel_b.id, author="b-1", name="Customer of B")
    login(client, people.supervisor.email)
    page = client.get("/").get_data(as_text=True)
    assert "Customer of A" in page and "Customer of B" in page


def test_a_reply_is_queued_then_sent_by_a_job(app, client, people):
    got = receive(app, people.channel_a.id, text="el net 3ndi ba6ee2")
    login(client, people.agent_a.email)
    response = post(client, f"/conversations/{got.conversation_id}/reply",
                    {"text": "We are checking your line now", "client_token": "t-1"},
                    headers={"Accept": "application/json"})
    assert response.status_code == 201
    assert response.json["state"] == "queued" and response.json["direction"] == "out"
    jobs(app).drain()
    thread = client.get(f"/api/conversations/{got.conversation_id}").json["messages"]
    assert [(m["direction"], m["state"]) for m in thread] == [("in", "received"), ("out", "sent")]
    with app.app_context():
        sent = db.session.get(Message, response.json["id"])
        assert sent.external_id == "demo-out-t-1" and sent.sent_at is not None
        assert db.session.get(Conversation, got.conversation_id).first_response_at is not None


def test_sending_the_same_form_twice_stores_one_reply(app, client, people):
    got = receive(app, people.channel_a.id)
    login(client, people.agent_a.email)
    for _ in range(2):
        post(client, f"/conversations/{got.conversation_id}/reply", {"text": "Hello", "client_token": "same"})
    jobs(app).drain()
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Message.direction == "out")) == 1


def test_an_empty_or_huge_reply_is_refused(app, client, people):
    got = receive(app, people.channel_a.id)
    login(client, people.agent_a.email)
    for text in ("   ", "x" * 4001):
        response = post(client, f"/conversations/{got.conversation_id}/reply", {"text": text},
                        headers={"Accept": "application/json"})
        assert response.status_code == 422 and response.json["error"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Message.direction == "out")) == 0


def test_status_changes_and_the_queue_filters(app, client, people):
    got = receive(app, people.channel_a.id, name="Resolved Customer")
    login(client, people.agent_a.email)
    assert post(client, f"/conversations/{got.conversation_id}/status", {"status": "resolved"}).status_code == 303
    assert "Resolved Customer" not in client.get("/").get_data(as_text=True)
    assert "Resolved Customer" in client.get("/?status=resolved").get_data(as_text=True)
    assert post(client, f"/conversations/{got.conversation_id}/status", {"status": "deleted"}).status_code == 400
    assert client.get("/?status=priority;DROP TABLE").status_code == 400
    assert client.get("/api/conversations?status=bogus").status_code == 400


def test_customer_text_and_names_are_escaped_everywhere(app, client, people):
    hostile_name = '"><script>alert(1)</script>\u202eevil'
    hostile_text = "<img src=x onerror=alert(1)> <svg/onload=alert(2)>"
    got = receive(app, people.channel_a.id, name=hostile_name, text=hostile_text)
    login(client, people.agent_a.email)
    for path in ("/", f"/conversations/{got.conversation_id}"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>alert(1)" not in page and "<img src=x" not in page and "<svg/onload" not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page
        assert re.search(r"<bdi>&#34;&gt;&lt;script&gt;", page)  # isolated and escaped
    api = client.get(f"/api/conversations/{got.conversation_id}").json
    assert api["messages"][0]["text"] == hostile_text  # stored and served as data, byte for byte


def test_every_response_carries_security_headers(client, people):
    for path in ("/login", "/no-such-page"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"


def test_arabic_users_get_rtl_and_can_switch_to_english(app, client, people):
    with app.app_context():
        factories.user("arabic@example.com", teams=("Team A",), language="ar")
    login(client, "arabic@example.com")
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page and "صندوق الوارد" in page
    assert post(client, "/language", {"language": "en", "next": "/"}).status_code == 303
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in page and "Inbox" in page
    # The choice belongs to the account: a new session starts in English too.
    other = app.test_client()
    login(other, "arabic@example.com")
    assert 'dir="ltr"' in other.get("/").get_data(as_text=True)
    assert post(client, "/language", {"language": "xx"}).status_code == 400


def test_language_switch_never_redirects_off_site(client, people):
    response = post(client, "/language", {"language": "en", "next": "//evil.example/"})
    assert response.headers["Location"] == "/"


def test_times_are_shown_in_amman(app, client, people):
    from datetime import datetime

    got = receive(app, people.channel_a.id)
    with app.app_context():
        conversation = db.session.get(Conversation, got.conversation_id)
        conversation.last_message_at = datetime(2026, 1, 15, 22, 30)  # UTC: 01:30 the next day in Amman
        db.session.commit()
    login(client, people.agent_a.email)
    page = client.get("/").get_data(as_text=True)
    assert "1/16/26, 1:30" in page
