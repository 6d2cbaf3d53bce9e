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
