"""Crossing replies: a second agent is warned before answering a customer a colleague just answered."""
from inbox.extensions import db
from inbox.models import Message
from tests import factories
from tests.conftest import csrf_token, login

JSON = {"Accept": "application/json"}


def agent(app, email):
    http = app.test_client()
    login(http, email)
    return http


def reply(http, conversation_id, text, last_seen, **extra):
    data = {"csrf_token": csrf_token(http, "/"), "text": text, "last_seen_message_id": str(last_seen), **extra}
    return http.post(f"/conversations/{conversation_id}/reply", data=data, headers=JSON)


def stored_texts(app, conversation_id):
    with app.app_context():
        return [m.text for m in db.session.query(Message).filter_by(conversation_id=conversation_id, direction="out")
                .order_by(Message.id)]


def test_a_reply_crossing_a_colleagues_is_refused_with_who_answered_until_confirmed(app, people):
    with app.app_context():
        got = factories.receive(people.channel_a.id, text="el net 3ndi ba6ee2")
        colleague = factories.user("omar@example.com", teams=("Team A",))
        colleague_name = colleague.name
    first, second = agent(app, "omar@example.com"), agent(app, people.agent_a.email)
    seen = got.message_id  # both opened the conversation on the customer's message
    assert reply(first, got.conversation_id, "We are checking your line", seen).status_code == 201

    refused = reply(second, got.conversation_id, "Please restart your router", seen)
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["answered_by"] == [colleague_name] and colleague_name in body["error"]
    assert [m["text"] for m in body["messages"]] == ["We are checking your line"]
    assert stored_texts(app, got.conversation_id) == ["We are checking your line"]

    sent = reply(second, got.conversation_id, "Please restart your router", seen, confirm_crossing="1")
    assert sent.status_code == 201
    assert stored_texts(app, got.conversation_id) == ["We are checking your line", "Please restart your router"]


def test_the_customer_writing_again_warns_too_but_ones_own_replies_do_not(app, people):
    with app.app_context():
        got = factories.receive(people.channel_a.id, author="cust-9", text="hello")
    http = agent(app, people.agent_a.email)
    first = reply(http, got.conversation_id, "Hi, how can I help?", got.message_id)
    assert first.status_code == 201
    # a second message of mine, written before I saw my first one echoed: not a crossing
    assert reply(http, got.conversation_id, "Are you there?", got.message_id).status_code == 201
    with app.app_context():
        factories.receive(people.channel_a.id, author="cust-9", text="my bill is wrong")
    refused = reply(http, got.conversation_id, "Anything else?", first.get_json()["id"])
    assert refused.status_code == 409
    assert refused.get_json()["customer_wrote"] and refused.get_json()["answered_by"] == []
    assert [m["text"] for m in refused.get_json()["messages"]] == ["my bill is wrong"]


def test_without_javascript_the_refusal_is_a_message_on_the_page(app, people):
    with app.app_context():
        got = factories.receive(people.channel_a.id)
    admin, http = agent(app, people.admin.email), agent(app, people.agent_a.email)
    assert reply(admin, got.conversation_id, "done", got.message_id).status_code == 201
    data = {"csrf_token": csrf_token(http, "/"), "text": "me too", "last_seen_message_id": str(got.message_id)}
    response = http.post(f"/conversations/{got.conversation_id}/reply", data=data, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "answered while you were writing" in page and people.admin.name in page
    assert stored_texts(app, got.conversation_id) == ["done"]


def test_the_check_is_no_way_into_another_teams_conversation(app, people):
    with app.app_context():
        got = factories.receive(people.channel_a.id, text="secret of team A")
    outsider = agent(app, people.agent_b.email)
    response = reply(outsider, got.conversation_id, "hi", 0)
    assert response.status_code == 404 and "secret" not in response.get_data(as_text=True)
