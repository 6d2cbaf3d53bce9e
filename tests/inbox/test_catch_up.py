"""Catch-up after a dropped connection: per-conversation sequence numbers."""
from inbox.extensions import db, socketio
from inbox.models import Channel, Conversation, User
from inbox.services import conversations, ingest
from tests import factories
from tests.conftest import csrf_token, jobs, login, post

JSON = {"Accept": "application/json"}


def seq(app, conversation_id):
    with app.app_context():
        return db.session.get(Conversation, conversation_id).seq


def test_every_change_bumps_the_sequence_once_and_events_carry_it(app, people):
    http = app.test_client()
    login(http, people.agent_a.email)
    sock = socketio.test_client(app, flask_test_client=http)
    with app.app_context():
        got = factories.receive(people.channel_a.id)  # a new conversation starts at 1
    assert seq(app, got.conversation_id) == 1
    with app.app_context():
        factories.receive(people.channel_a.id)  # the same customer's next DM: ingest's bulk path
    assert seq(app, got.conversation_id) == 2
    sock.get_received()
    # one reply: a message, an event, the conversation's fields, one transaction: one step (3);
    # then the send job, which may already have run on its thread, changes the message's state (4)
    post(http, f"/conversations/{got.conversation_id}/reply", {"text": "on it", "client_token": "r1"})
    jobs(app).drain()
    assert seq(app, got.conversation_id) == 4
    post(http, f"/conversations/{got.conversation_id}/status", {"status": "pending"})
    assert seq(app, got.conversation_id) == 5
    received = [(p["name"], p["args"][0].get("seq")) for p in sock.get_received()]
    assert sorted(received, key=lambda event: event[1]) == [
        ("message_created", 3), ("conversation_updated", 3), ("message_updated", 4), ("conversation_updated", 5)]
    api = http.get(f"/api/conversations/{got.conversation_id}", headers=JSON).get_json()
    assert api["seq"] == 5


def test_a_batch_of_messages_for_one_conversation_is_one_step(app, people):
    with app.app_context():
        got = factories.receive(people.channel_a.id, author="cust-7")
        channel = db.session.get(Channel, people.channel_a.id)
        ingest._apply_all([(channel, factories.inbound(author="cust-7", text=f"part {i}")) for i in range(3)])
    assert seq(app, got.conversation_id) == 2


def test_a_screen_that_missed_events_while_disconnected_catches_up_and_is_warned(app, people):
    """Agent A's page loses its connection; a colleague answers meanwhile. The events are gone for
    A's socket, but the seq on reconnect shows the gap, the fetch returns the colleague's reply,
    and A's reply written against the old screen is refused until A confirms."""
    with app.app_context():
        got = factories.receive(people.channel_a.id, text="my internet is down")
        factories.user("omar@example.com", teams=("Team A",))
    http = app.test_client()
    login(http, people.agent_a.email)
    page = http.get(f"/api/conversations/{got.conversation_id}", headers=JSON).get_json()
    last_seq, last_seen = page["seq"], page["messages"][-1]["id"]
    sock = socketio.test_client(app, flask_test_client=http)
    sock.emit("viewing", {"conversation_id": got.conversation_id}, callback=True)
    sock.disconnect()

    colleague = app.test_client()
    login(colleague, "omar@example.com")
    post(colleague, f"/conversations/{got.conversation_id}/reply", {"text": "Restarting your line now"})

    sock = socketio.test_client(app, flask_test_client=http)  # the reconnect
    assert sock.is_connected()
    assert [p for p in sock.get_received() if p["name"] == "message_created"] == []  # missed for good
    caught_up = http.get(f"/api/conversations/{got.conversation_id}", headers=JSON).get_json()
    assert caught_up["seq"] > last_seq
    assert "Restarting your line now" in [m["text"] for m in caught_up["messages"]]

    data = {"csrf_token": csrf_token(http, "/"), "text": "Let me check", "last_seen_message_id": str(last_seen)}
    refused = http.post(f"/conversations/{got.conversation_id}/reply", data=data, headers=JSON)
    assert refused.status_code == 409 and refused.get_json()["answered_by"] == ["omar"]
    with app.app_context():
        agent = db.session.get(User, people.agent_a.id)
        outbound = [m.text for m in conversations.get_conversation(agent, got.conversation_id).messages
                    if m.direction == "out"]
    assert outbound == ["Restarting your line now"]
