"""Assignment: at ingest to the least loaded online agent of the team with the skills and room;
waiting conversations placed as capacity frees; the ladder alerts supervisors; offline agents
hand work back; claims and transfers within the rules of each role."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from inbox.extensions import db, socketio
from inbox.models import Conversation, ConversationEvent, User
from inbox.services import assignment, conversations
from inbox.services.errors import Forbidden, NotFound
from tests import factories
from tests.conftest import jobs, login, post
from tests.inbox.routing_helpers import available, fixed_predictions, rule, settings


def conversation(result) -> Conversation:
    return db.session.get(Conversation, result.conversation_id)


def events(conversation_id: int, kind: str) -> list[ConversationEvent]:
    return list(db.session.scalars(select(ConversationEvent).where(
        ConversationEvent.conversation_id == conversation_id, ConversationEvent.kind == kind)))


@pytest.fixture
def team_a(ctx, world):
    """Agent A and a second agent of team A, both online and English-speaking."""
    second = factories.user("agent.a2@example.com", teams=("Team A",))
    available(world.agent_a, second, capacity=4, languages=["en", "ar"])
    return world.agent_a, second


def test_a_new_conversation_goes_to_the_least_loaded_online_agent(world, team_a):
    first_agent, second_agent = team_a
    got = [factories.receive(world.channel_a.id, author=f"c{n}") for n in range(3)]
    owners = [conversation(g).assignee_id for g in got]
    # Nobody loaded at first; then whoever has less: the two share the work.
    assert set(owners) == {first_agent.id, second_agent.id}
    [event] = events(got[0].conversation_id, "assigned")
    assert event.data["reason"] == "least_loaded" and event.data["by"] == "routing"
    assert event.data["weight"] == 1 and event.data["load"] is not None


def test_agents_need_the_skills_and_language(ctx, world, monkeypatch):
    fixed_predictions(monkeypatch, {"fibre": ("internet_speed", 0.9)}, lang="en")
    arabic_only = factories.user("ar.only@example.com", teams=("Team A",))
    skilled = factories.user("skilled@example.com", teams=("Team A",))
    available(arabic_only, languages=["ar"], skills=["internet_speed", "fibre"])
    available(skilled, languages=["en"], skills=["internet_speed", "fibre"])
    available(world.agent_a, languages=["en"], skills=[])
    settings(world.admin, skills=["internet_speed", "fibre"])
    rule(world.admin, "Fibre tag", [{"kind": "keywords", "value": ["fibre"]}],
         [{"kind": "add_tags", "value": ["fibre"]}])
    got = factories.receive(world.channel_a.id, text="my fibre is slow")
    assert conversation(got).assignee_id == skilled.id


def test_capacity_weights_keep_an_agent_from_being_overfilled(world, team_a):
    first_agent, second_agent = team_a
    settings(world.admin, weights={"private": 1, "public": 3, "intents": {}, "negative": 0, "urgent": 0})
    for agent in (first_agent, second_agent):
        agent.capacity = 3
    db.session.commit()
    public = [factories.receive(world.channel_a.id, author=f"p{n}", public=True, text="hello") for n in range(3)]
    owners = [conversation(g).assignee_id for g in public]
    assert sorted(o for o in owners if o) == sorted([first_agent.id, second_agent.id])
    waiting = conversation(public[owners.index(None)])
    assert waiting.assignee_id is None and waiting.queued_at is not None and waiting.team_id == world.team_a.id


def test_a_waiting_conversation_is_assigned_when_capacity_frees(app, world, team_a):
    first_agent, second_agent = team_a
    assignment.set_presence(second_agent, "offline")
    first_agent.capacity = 1
    db.session.commit()
    busy = factories.receive(world.channel_a.id, author="c1")
    waiting = factories.receive(world.channel_a.id, author="c2")
    assert conversation(busy).assignee_id == first_agent.id and conversation(waiting).assignee_id is None
    conversations.set_status(first_agent, busy.conversation_id, "resolved")  # kicks assign_waiting
    # Resolving kicked the assign_waiting job (a thread here). It raced this test's own call, which
    # held SQLite's write lock: end the transaction, let the job run, then run the pass once more
    # (as the periodic job would). The conversation is assigned once, whichever pass did it.
    db.session.commit()
    jobs(app).drain()
    assignment.assign_waiting()
    assert assignment.assign_waiting() == 0  # nothing is left waiting
    assert conversation(waiting).assignee_id == first_agent.id
    [event] = events(waiting.conversation_id, "assigned")
    assert event.data["by"] == "queue" and event.data["waited_seconds"] >= 0


def test_the_ladder_alerts_supervisors_once_not_agents(app, people):
    http_sup, http_b = app.test_client(), app.test_client()
    login(http_sup, people.supervisor.email)
    login(http_b, people.agent_b.email)
    supervisor = socketio.test_client(app, flask_test_client=http_sup)
    agent_b = socketio.test_client(app, flask_test_client=http_b)
    with app.app_context():
        got = factories.receive(people.channel_a.id)  # nobody of team A is online
        item = db.session.get(Conversation, got.conversation_id)
        item.queued_at -= timedelta(minutes=16)
        db.session.commit()
        supervisor.get_received(), agent_b.get_received()
        assignment.assign_waiting()
        assignment.assign_waiting()
    alerts = [p["args"][0] for p in supervisor.get_received() if p["name"] == "supervisor_alerted"]
    assert len(alerts) == 1 and alerts[0]["conversation"]["id"] == got.conversation_id
    assert alerts[0]["reason"] == "nobody_online"
    assert not [p for p in agent_b.get_received() if p["name"] == "supervisor_alerted"]
    with app.app_context():
        [event] = events(got.conversation_id, "supervisor_alerted")
        assert "alert_supervisor" in event.data["ladder_steps"]


def test_the_ladder_widens_to_the_parent_team(world, team_a):
    parent = world.team_a
    child = factories.users.get_or_create_team("Team A fibre")
    db.session.flush()
    child.parent_id = parent.id
    world.channel_b.team = child
    db.session.commit()
    got = factories.receive(world.channel_b.id)
    item = conversation(got)
    assert item.team_id == child.id and item.assignee_id is None
    item.queued_at -= timedelta(minutes=11)
    db.session.commit()
    assignment.assign_waiting()
    assert conversation(got).assignee_id in {a.id for a in team_a}
    [event] = events(got.conversation_id, "assigned")
    assert "widen_to_parent_team" in event.data["ladder_steps"]


def test_going_offline_hands_open_work_back_and_a_setting_keeps_it(world, team_a):
    first_agent, second_agent = team_a
    assignment.set_presence(second_agent, "offline")
    got = factories.receive(world.channel_a.id)
    assert conversation(got).assignee_id == first_agent.id
    assignment.set_presence(first_agent, "offline")
    assert conversation(got).assignee_id is None and conversation(got).queued_at is not None
    assert events(got.conversation_id, "unassigned")[0].data["reason"] == "agent_offline"

    settings(world.admin, return_work_when_offline=False)
    assignment.set_presence(first_agent, "online")
    assignment.assign_waiting()
    assert conversation(got).assignee_id == first_agent.id
    assignment.set_presence(first_agent, "offline")
    assert conversation(got).assignee_id == first_agent.id


def test_a_closed_page_hands_work_back_only_after_the_grace(world, team_a):
    first_agent, second_agent = team_a
    assignment.set_presence(second_agent, "offline")
    got = factories.receive(world.channel_a.id)
    assignment.socket_presence(first_agent.id, connected=False)
    assert db.session.get(User, first_agent.id).presence == "away"
    assignment.assign_waiting()
    assert conversation(got).assignee_id == first_agent.id  # a page load is no reason
    db.session.get(User, first_agent.id).presence_changed_at -= timedelta(minutes=5)
    db.session.commit()
    assignment.assign_waiting()
    assert conversation(got).assignee_id is None
    assert db.session.get(User, first_agent.id).presence == "offline"


def test_claim_and_transfer_follow_the_roles(ctx, world):
    got = factories.receive(world.channel_a.id)
    with pytest.raises(NotFound):
        assignment.claim(world.agent_b, got.conversation_id)
    with pytest.raises(NotFound):
        assignment.transfer(world.agent_b, got.conversation_id, team_id=world.team_b.id)
    assert assignment.claim(world.agent_a, got.conversation_id).assignee_id == world.agent_a.id
    moved = assignment.transfer(world.agent_a, got.conversation_id, team_id=world.team_b.id)
    assert moved.team_id == world.team_b.id and moved.assignee_id is None
    # Now team B's: agent A may no longer move it.
    with pytest.raises(NotFound):
        assignment.transfer(world.agent_a, got.conversation_id, agent_id=world.agent_a.id)
    back = assignment.transfer(world.supervisor, got.conversation_id, agent_id=world.agent_a.id)
    assert back.assignee_id == world.agent_a.id and back.team_id == world.team_a.id
    [transferred, *_] = events(got.conversation_id, "transferred")
    assert transferred.data["from_team_id"] == world.team_a.id and transferred.data["to_team_id"] == world.team_b.id


def test_an_agent_assigned_across_teams_may_not_claim_for_a_team_not_theirs(ctx, world):
    got = factories.receive(world.channel_b.id)
    assignment.transfer(world.supervisor, got.conversation_id, agent_id=world.agent_b.id)
    item = conversation(got)
    item.team_id = world.team_a.id  # assigned to B, now in A's queue: visible to B as theirs
    db.session.commit()
    with pytest.raises(Forbidden):
        assignment.claim(world.agent_b, got.conversation_id)


def test_a_supervisor_moves_a_conversation_out_of_triage_by_choosing_a_team(ctx, world, monkeypatch):
    fixed_predictions(monkeypatch, {"hmm": ("roaming", 0.1)})
    got = factories.receive(world.channel_a.id, text="hmm")
    assert conversation(got).triage
    with pytest.raises(NotFound):
        assignment.transfer(world.agent_a, got.conversation_id, team_id=world.team_a.id)
    moved = assignment.transfer(world.supervisor, got.conversation_id, team_id=world.team_b.id)
    assert not moved.triage and moved.team_id == world.team_b.id
    assert events(got.conversation_id, "transferred")[0].data["from_triage"] is True


def test_web_claim_transfer_and_presence(app, client, people):
    login(client, people.agent_b.email)
    with app.app_context():
        got = factories.receive(people.channel_a.id)
    assert post(client, f"/conversations/{got.conversation_id}/claim").status_code == 404
    assert client.post(f"/conversations/{got.conversation_id}/claim").status_code == 400  # no CSRF token
    other = app.test_client()
    login(other, people.agent_a.email)
    assert post(other, f"/conversations/{got.conversation_id}/claim").status_code == 303
    response = post(other, f"/conversations/{got.conversation_id}/transfer", {"team_id": str(people.team_b.id)})
    assert response.status_code == 303
    assert post(other, "/presence", {"presence": "online"}).status_code == 303
    with app.app_context():
        assert db.session.get(Conversation, got.conversation_id).team_id == people.team_b.id
        assert db.session.get(User, people.agent_a.id).presence == "online"
