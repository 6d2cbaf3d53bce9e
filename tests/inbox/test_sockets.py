"""Live updates: who may connect, which rooms they are in, what reaches them."""
from inbox.extensions import db, socketio
from inbox.models import User
from inbox.services import users
from tests import factories
from tests.conftest import jobs, login, post


def connect(app, email=None):
    http = app.test_client()
    if email:
        login(http, email)
    return http, socketio.test_client(app, flask_test_client=http)


def events(sock) -> list[tuple[str, dict]]:
    return [(packet["name"], packet["args"][0]) for packet in sock.get_received()]


def test_a_socket_without_a_signed_in_session_is_refused(app, people):
    _, sock = connect(app)
    assert not sock.is_connected()


def test_agents_hear_about_their_team_only(app, people):
    _, agent_a = connect(app, people.agent_a.email)
    _, supervisor = connect(app, people.supervisor.email)
    assert agent_a.is_connected() and supervisor.is_connected()
    with app.app_context():
        factories.receive(people.channel_a.id, author="a-1", name="Customer A", text="<b>hi</b>")
        factories.receive(people.channel_b.id, author="b-1", name="Customer B", text="secret of team B")
    got = events(agent_a)
    assert [name for name, _ in got] == ["conversation_created", "message_created"]
    assert got[0][1]["customer"]["name"] == "Customer A" and got[1][1]["text"] == "<b>hi</b>"
    assert "secret of team B" not in str(got)
    names = [(name, payload.get("customer", {}).get("name")) for name, payload in events(supervisor)]
    assert ("conversation_created", "Customer A") in names and ("conversation_created", "Customer B") in names


def test_a_reply_is_seen_queued_then_sent(app, people):
    http, sock = connect(app, people.agent_a.email)
    with app.app_context():
        got = factories.receive(people.channel_a.id)
    sock.get_received()
    post(http, f"/conversations/{got.conversation_id}/reply", {"text": "on it", "client_token": "abc"})
    jobs(app).drain()
    states = [(name, payload["state"]) for name, payload in events(sock) if name.startswith("message_")]
    assert states == [("message_created", "queued"), ("message_updated", "sent")]


def test_ending_a_users_sessions_disconnects_their_sockets(app, people):
    _, agent = connect(app, people.agent_a.email)
    _, other = connect(app, people.agent_b.email)
    with app.app_context():
        users.end_sessions(db.session.get(User, people.agent_a.id))
    assert not agent.is_connected()
    assert other.is_connected()


def test_a_deactivated_users_cookie_cannot_open_a_socket(app, people):
    http = app.test_client()
    login(http, people.agent_a.email)
    with app.app_context():
        admin = db.session.get(User, people.admin.id)
        users.set_active(admin, people.agent_a.id, False)
    sock = socketio.test_client(app, flask_test_client=http)
    assert not sock.is_connected()


def test_a_handshake_from_a_foreign_origin_is_refused(app, client, people):
    login(client, people.agent_a.email)
    handshake = "/socket.io/?EIO=4&transport=polling"
    assert client.get(handshake, headers={"Origin": "https://evil.example"}).status_code == 400
    assert client.get(handshake, headers={"Origin": "http://localhost"}).status_code == 200


# ---- working together: viewing, typing, and what a socket may join -----------------------------

def second_agent_of_team_a(app) -> str:
    with app.app_context():
        return factories.user("agent.c@example.com", teams=("Team A",)).email


def named(sock, name: str) -> list[dict]:
    return [payload for event, payload in events(sock) if event == name]


def test_viewers_see_each_other_and_a_closed_page_leaves(app, people):
    with app.app_context():
        got = factories.receive(people.channel_a.id)
    _, first = connect(app, people.agent_a.email)
    _, second = connect(app, second_agent_of_team_a(app))
    assert first.emit("viewing", {"conversation_id": got.conversation_id}, callback=True)["ok"]
    answer = second.emit("viewing", {"conversation_id": got.conversation_id}, callback=True)
    assert [v["name"] for v in answer["viewers"]] == sorted([people.agent_a.name, "agent.c"])
    seen = named(first, "viewers")
    assert [v["name"] for v in seen[-1]["viewers"]] == sorted([people.agent_a.name, "agent.c"])
    second.disconnect()
    assert [v["name"] for v in named(first, "viewers")[-1]["viewers"]] == [people.agent_a.name]


def test_typing_reaches_the_other_viewers_not_the_typist(app, people):
    with app.app_context():
        got = factories.receive(people.channel_a.id)
    _, typist = connect(app, people.agent_a.email)
    _, colleague = connect(app, second_agent_of_team_a(app))
    for sock in (typist, colleague):
        sock.emit("viewing", {"conversation_id": got.conversation_id}, callback=True)
    typist.get_received(), colleague.get_received()
    assert typist.emit("typing", {"conversation_id": got.conversation_id, "kind": "note"}, callback=True)["ok"]
    assert named(colleague, "typing") == [{"conversation_id": got.conversation_id, "user_id": people.agent_a.id,
                                           "name": people.agent_a.name, "kind": "note"}]
    assert named(typist, "typing") == []
    assert not typist.emit("typing", {"conversation_id": got.conversation_id, "kind": "<b>"}, callback=True)["ok"]


def test_viewing_a_conversation_one_may_not_see_is_refused_and_joins_nothing(app, people):
    with app.app_context():
        got = factories.receive(people.channel_a.id)
    _, outsider = connect(app, people.agent_b.email)
    _, insider = connect(app, people.agent_a.email)
    for value in (got.conversation_id, str(got.conversation_id), f"conversation:{got.conversation_id}", None):
        assert not outsider.emit("viewing", {"conversation_id": value}, callback=True)["ok"]
    # typing in a room the socket was refused: refused too, and nothing is sent to anyone
    assert not outsider.emit("typing", {"conversation_id": got.conversation_id, "kind": "reply"}, callback=True)["ok"]
    outsider.emit("join", {"room": f"team:{people.team_a.id}"})  # no such handler: a client names no room
    insider.emit("viewing", {"conversation_id": got.conversation_id}, callback=True)
    insider.emit("typing", {"conversation_id": got.conversation_id, "kind": "reply"}, callback=True)
    assert events(outsider) == []
    assert all(v["name"] != people.agent_b.name for p in named(insider, "viewers") for v in p["viewers"])


def test_an_agent_of_a_private_team_receives_no_event_of_another_team(app, people):
    """Team B's agent stays connected while Team A works: a new conversation, messages, a reply
    and its delivery, a status change, a claim, viewers and typing. Not one event reaches them."""
    _, outsider = connect(app, people.agent_b.email)
    http, insider = connect(app, people.agent_a.email)
    _, supervisor = connect(app, people.supervisor.email)
    with app.app_context():
        got = factories.receive(people.channel_a.id, text="team A only")
    insider.emit("viewing", {"conversation_id": got.conversation_id}, callback=True)
    insider.emit("typing", {"conversation_id": got.conversation_id, "kind": "reply"}, callback=True)
    post(http, f"/conversations/{got.conversation_id}/claim")
    post(http, f"/conversations/{got.conversation_id}/reply", {"text": "team A answer", "client_token": "t1"})
    jobs(app).drain()
    post(http, f"/conversations/{got.conversation_id}/status", {"status": "pending"})
    with app.app_context():
        factories.receive(people.channel_a.id, text="another of team A")
    insider.emit("idle", {"idle": True}, callback=True)
    assert events(outsider) == []
    heard = {name for name, _ in events(supervisor)}
    assert {"conversation_created", "conversation_updated", "message_created", "message_updated"} <= heard
    assert "typing" not in heard  # the supervisor did not open the conversation
