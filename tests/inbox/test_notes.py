"""Private notes: never sent to the customer; an @mention notifies the colleague, live, and
only a colleague who may see the conversation."""
from sqlalchemy import func, select

from inbox.extensions import db, socketio
from inbox.models import ConversationEvent, Message, Note, Notification
from inbox.services import notes
from tests import factories
from tests.conftest import jobs, login, post


def connect(app, email):
    http = app.test_client()
    login(http, email)
    return http, socketio.test_client(app, flask_test_client=http)


def received(sock, name):
    return [p["args"][0] for p in sock.get_received() if p["name"] == name]


def setup(app, people):
    with app.app_context():
        colleague = factories.user("agent.c@example.com", teams=("Team A",))
        got = factories.receive(people.channel_a.id, author="a-1", name="Lina", text="my bill is wrong")
        return got.conversation_id, colleague.id


def test_a_mention_notifies_the_colleague_live_and_nobody_who_cannot_see_it(app, people):
    conversation_id, colleague_id = setup(app, people)
    author, _ = connect(app, people.agent_a.email)
    _, colleague = connect(app, "agent.c@example.com")
    _, outsider = connect(app, people.agent_b.email)
    for sock in (colleague, outsider):
        sock.get_received()

    response = post(author, f"/conversations/{conversation_id}/notes",
                    {"text": "@agent.c can you check the bill? cc @agent.b and @nobody"},
                    headers={"Accept": "application/json"})

    assert response.status_code == 201 and response.json["text"].startswith("@agent.c")
    live = received(colleague, "notification_created")
    assert len(live) == 1 and live[0]["conversation_id"] == conversation_id
    assert live[0]["excerpt"].startswith("@agent.c can you check") and live[0]["read"] is False
    assert received(outsider, "notification_created") == []  # Team B may not see Team A's ticket
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 1
        event = db.session.scalar(select(ConversationEvent).where(ConversationEvent.kind == "note_added"))
        assert event.data["mentions"] == [colleague_id] and event.actor_id == people.agent_a.id


def test_a_note_is_never_sent_to_the_customer(app, people):
    conversation_id, _ = setup(app, people)
    http, _ = connect(app, people.agent_a.email)
    post(http, f"/conversations/{conversation_id}/notes", {"text": "customer sounds upset, be gentle"})
    jobs(app).drain()
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Message.direction == "out")) == 0
        assert db.session.scalar(select(Note.text)) == "customer sounds upset, be gentle"
    api = http.get(f"/api/conversations/{conversation_id}").json
    assert all("be gentle" not in m["text"] for m in api["messages"])
    page = http.get(f"/conversations/{conversation_id}").get_data(as_text=True)
    assert 'data-testid="note"' in page and "customer sounds upset, be gentle" in page


def test_notifications_are_listed_and_marked_read_by_their_owner_only(app, people):
    conversation_id, _ = setup(app, people)
    author, _ = connect(app, people.agent_a.email)
    colleague, _ = connect(app, "agent.c@example.com")
    post(author, f"/conversations/{conversation_id}/notes", {"text": "@agent.c first"})
    post(author, f"/conversations/{conversation_id}/notes", {"text": "@agent.c second"})

    listed = colleague.get("/notifications").json
    assert listed["unread"] == 2 and [n["excerpt"] for n in listed["items"]] == ["@agent.c second", "@agent.c first"]
    assert 'data-testid="notifications-count"' in colleague.get("/").get_data(as_text=True)
    first = listed["items"][1]["id"]
    # Someone else's notification is not found, and stays unread.
    assert post(author, "/notifications/read", {"id": first}, headers={"Accept": "application/json"}).status_code == 404
    read = post(colleague, "/notifications/read", {"id": first}, headers={"Accept": "application/json"})
    assert read.json == {"unread": 1}
    assert post(colleague, "/notifications/read", {}, headers={"Accept": "application/json"}).json == {"unread": 0}


def test_only_people_who_may_see_the_conversation_are_offered(app, people):
    conversation_id, _ = setup(app, people)
    http, _ = connect(app, people.agent_a.email)
    offered = {p["handle"] for p in http.get(f"/conversations/{conversation_id}/mentionable").json}
    assert offered == {"agent.c", "supervisor", "admin"}  # Team A, supervisors and admins; not Team B, not me
    outsider, _ = connect(app, people.agent_b.email)
    assert outsider.get(f"/conversations/{conversation_id}/mentionable").status_code == 404
    assert post(outsider, f"/conversations/{conversation_id}/notes", {"text": "hi"}).status_code == 404


def test_mentions_by_handle_or_name_and_nothing_in_an_email_address(ctx, world):
    audience = [world.agent_a, world.supervisor]
    world.supervisor.name = "Rana Haddad"
    found = notes.mentioned_users("ask @RanaHaddad, not mail@agent.a.example.com; @agent.a.", audience)
    assert [u.id for u in found] == [world.supervisor.id, world.agent_a.id]
    assert notes.mentioned_users("write to agent.a@example.com", audience) == []


def test_an_empty_note_is_refused(app, people):
    conversation_id, _ = setup(app, people)
    http, _ = connect(app, people.agent_a.email)
    response = post(http, f"/conversations/{conversation_id}/notes", {"text": "   "},
                    headers={"Accept": "application/json"})
    assert response.status_code == 422 and response.json["error"]
