"""Presence: online / away / offline, auto-away after inactivity, the supervisors' live panel."""
from datetime import timedelta

from inbox.extensions import db, socketio
from inbox.models import Conversation, User
from inbox.models.base import utcnow
from inbox.services import assignment
from tests import factories
from tests.conftest import login, post

JSON = {"Accept": "application/json"}


def page(app, email):
    http = app.test_client()
    login(http, email)
    return http, socketio.test_client(app, flask_test_client=http)


def presence(app, user_id):
    with app.app_context():
        user = db.session.get(User, user_id)
        return user.presence, user.presence_source


def go(http, value):
    return post(http, "/presence", {"presence": value, "next": "/"})


def held_by(app, conversation_id):
    with app.app_context():
        return db.session.get(Conversation, conversation_id).assignee_id


def test_idleness_makes_an_agent_away_who_keeps_their_work_and_activity_brings_them_back(app, people):
    http, sock = page(app, people.agent_a.email)
    go(http, "online")
    with app.app_context():
        mine = factories.receive(people.channel_a.id, author="c-1")
    post(http, f"/conversations/{mine.conversation_id}/claim")
    assert sock.emit("idle", {"idle": True}, callback=True)["presence"] == "away"
    assert presence(app, people.agent_a.id) == ("away", "idle")
    with app.app_context():
        waiting = factories.receive(people.channel_a.id, author="c-2")  # new work: not for an away agent
        assignment.assign_waiting(utcnow() + timedelta(hours=2))  # long past the offline grace: page still open
    assert presence(app, people.agent_a.id) == ("away", "idle")
    assert held_by(app, mine.conversation_id) == people.agent_a.id
    assert held_by(app, waiting.conversation_id) is None
    assert sock.emit("idle", {"idle": False}, callback=True)["presence"] == "online"


def test_an_away_the_agent_chose_is_not_undone_by_activity_or_a_new_page(app, people):
    http, sock = page(app, people.agent_a.email)
    go(http, "away")
    assert presence(app, people.agent_a.id) == ("away", "manual")
    assert sock.emit("idle", {"idle": False}, callback=True)["presence"] == "away"
    sock.disconnect()
    socketio.test_client(app, flask_test_client=http)
    assert presence(app, people.agent_a.id)[0] == "away"


def test_closing_the_last_page_is_away_then_offline_after_the_grace_handing_work_back(app, people):
    http, first = page(app, people.agent_a.email)
    go(http, "online")
    with app.app_context():
        got = factories.receive(people.channel_a.id)
    post(http, f"/conversations/{got.conversation_id}/claim")
    _, second = page(app, people.agent_a.email)  # two tabs
    first.disconnect()
    assert presence(app, people.agent_a.id)[0] == "online"  # a tab is still open
    second.disconnect()
    assert presence(app, people.agent_a.id) == ("away", "disconnected")
    with app.app_context():
        assignment.assign_waiting(utcnow() + timedelta(seconds=30))  # a page reload: within the grace
    assert presence(app, people.agent_a.id)[0] == "away" and held_by(app, got.conversation_id) == people.agent_a.id
    with app.app_context():
        assignment.assign_waiting(utcnow() + timedelta(hours=1))
    assert presence(app, people.agent_a.id)[0] == "offline"
    assert held_by(app, got.conversation_id) is None


def test_supervisors_see_presence_live_and_agents_do_not(app, people):
    http, agent = page(app, people.agent_a.email)
    _, supervisor = page(app, people.supervisor.email)
    _, other_agent = page(app, people.agent_b.email)
    supervisor.get_received(), other_agent.get_received()
    go(http, "online")
    agent.emit("idle", {"idle": True}, callback=True)
    rows = [p["args"][0] for p in supervisor.get_received() if p["name"] == "presence_changed"]
    assert [(r["name"], r["presence"]) for r in rows] == [(people.agent_a.name, "online"),
                                                          (people.agent_a.name, "away")]
    assert rows[-1]["teams"] == ["Team A"] and rows[-1]["open"] == 0
    assert [p["name"] for p in other_agent.get_received()] == []


def test_the_team_panel_is_for_supervisors(app, people):
    supervisor, _ = page(app, people.supervisor.email)
    response = supervisor.get("/team")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert people.agent_a.name in text and people.agent_b.name in text
    assert {a["name"] for a in supervisor.get("/api/team", headers=JSON).get_json()} >= {
        people.agent_a.name, people.agent_b.name}
    agent, _ = page(app, people.agent_a.email)
    assert agent.get("/team").status_code == 403
    assert agent.get("/api/team", headers=JSON).status_code == 403


def test_with_redis_every_web_process_sees_the_same_viewers_and_pages(database_url):
    """Two web processes (two apps on one Redis): a viewer or a page opened in one counts in the other."""
    import uuid

    from inbox.services import viewers
    from tests.conftest import make_app
    from tests.services import REDIS_URL, require

    require("redis")
    channel = f"tawasul-test-{uuid.uuid4().hex[:8]}"
    first, second = (make_app(database_url, REDIS_URL=REDIS_URL, SOCKETIO_CHANNEL=channel) for _ in range(2))
    with first.app_context():
        viewers.socket_opened(7, "sid-1")
        viewers.view(42, "sid-1", 7, "Sara")
    with second.app_context():
        viewers.socket_opened(7, "sid-2")
        assert viewers.view(42, "sid-2", 8, "Omar") == [{"user_id": 8, "name": "Omar"}, {"user_id": 7, "name": "Sara"}]
        assert viewers.sockets_left(7, "sid-2") == 1  # Sara's other page, in the first process
    with first.app_context():
        assert viewers.socket_closed("sid-1") == [42]
        assert viewers.viewers(42) == [{"user_id": 8, "name": "Omar"}]
        assert viewers.sockets_left(7, "sid-1") == 0
        viewers.socket_closed("sid-2")
