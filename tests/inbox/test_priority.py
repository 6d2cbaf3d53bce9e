"""An agent changes a conversation's priority after ingest: the SLA's due times follow the new
priority's policy, the change is an event, everyone watching hears it, and only people who may
see the conversation can make it."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from inbox.extensions import db, socketio
from inbox.models import ConversationEvent
from inbox.services import conversations, priority
from inbox.services.errors import InvalidInput, NotFound
from tests import factories
from tests.conftest import login, post
from tests.inbox.test_sla_service import CLOCKED, Clock, amman, conversation, receive


@pytest.fixture
def clock(monkeypatch):
    fixed = Clock()
    for module in CLOCKED:
        monkeypatch.setattr(f"{module}.utcnow", fixed)
    return fixed


def test_raising_the_priority_brings_the_due_times_forward(world, clock):
    got = receive(world, clock, "2026-05-24 09:00")  # Sunday; "High": 1 h first response, 24 business hours
    c = conversation(got)
    assert (c.first_response_due_at, c.resolution_due_at) == (amman("2026-05-24 10:00"), amman("2026-05-26 09:00"))
    clock.at("2026-05-24 09:05")
    priority.set_priority(world.agent_a, got, 1)
    c = conversation(got)
    assert c.priority == 1 and c.sla_policy["name"] == "Urgent"
    # Measured from when the targets started, around the clock: 15 minutes and 8 hours.
    assert c.first_response_due_at == c.sla_check_at == amman("2026-05-24 09:15")
    assert c.resolution_due_at == amman("2026-05-24 17:00")
    [event] = db.session.scalars(select(ConversationEvent).where(ConversationEvent.kind == "priority_changed")).all()
    assert (event.conversation_id, event.actor_id) == (got, world.agent_a.id)
    assert event.data == {"from": 2, "to": 1, "sla_policy": "Urgent"}


def test_lowering_the_priority_pushes_them_back(world, clock):
    got = receive(world, clock, "2026-05-24 09:00")
    priority.set_priority(world.agent_a, got, 4)  # "Low": 24 business hours to answer, 120 to resolve
    c = conversation(got)
    assert c.first_response_due_at == c.sla_check_at == amman("2026-05-26 09:00")  # 11 h + 12 h + 1 h
    assert c.resolution_due_at > amman("2026-06-01 00:00")


def test_the_next_response_follows_the_new_policy_too(world, clock):
    got = receive(world, clock, "2026-05-24 09:00")
    clock.at("2026-05-24 09:10")
    conversations.reply(world.agent_a, got, "on it")
    receive(world, clock, "2026-05-24 10:00")
    assert conversation(got).next_response_due_at == amman("2026-05-24 12:00")  # "High": 2 h
    priority.set_priority(world.agent_a, got, 1)
    c = conversation(got)
    assert c.next_response_due_at == c.sla_check_at == amman("2026-05-24 11:00")  # "Urgent": 1 h
    assert c.first_response_due_at is None  # met before: no target comes back


def test_a_resolved_conversation_keeps_no_due_time_and_reopens_on_its_new_priority(world, clock):
    got = receive(world, clock, "2026-05-24 09:00")
    clock.at("2026-05-24 09:10")
    conversations.reply(world.agent_a, got, "done")
    conversations.set_status(world.agent_a, got, "resolved")
    priority.set_priority(world.agent_a, got, 1)
    c = conversation(got)
    assert c.priority == 1 and (c.first_response_due_at, c.resolution_due_at, c.sla_check_at) == (None,) * 3
    receive(world, clock, "2026-05-24 10:00")  # the customer writes again
    c = conversation(got)
    assert c.status == "open" and c.sla_policy["name"] == "Urgent"
    assert c.resolution_due_at == amman("2026-05-24 18:00")


def test_the_same_priority_again_changes_nothing_and_nonsense_is_refused(world, clock):
    got = receive(world, clock, "2026-05-24 09:00")
    before = conversation(got).first_response_due_at
    priority.set_priority(world.agent_a, got, 2)
    for bad in (0, 5, "urgent", None):
        with pytest.raises(InvalidInput):
            priority.set_priority(world.agent_a, got, bad)
    with pytest.raises(NotFound):  # another team's agent cannot see it
        priority.set_priority(world.agent_b, got, 1)
    assert conversation(got).first_response_due_at == before and conversation(got).priority == 2
    assert db.session.scalars(select(ConversationEvent).where(ConversationEvent.kind == "priority_changed")).all() == []


def test_the_route_answers_json_or_redirects_and_the_team_hears_it(app, people):
    with app.app_context():
        got = factories.receive(people.channel_a.id).conversation_id
    agent = app.test_client()
    login(agent, people.agent_a.email)
    listener = socketio.test_client(app, flask_test_client=agent)
    listener.get_received()
    response = post(agent, f"/conversations/{got}/priority", {"priority": "1"}, headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.json["priority"] == 1 and response.json["first_response_due_at"]
    heard = [p["args"][0] for p in listener.get_received() if p["name"] == "conversation_updated"]
    assert [h["priority"] for h in heard if h["id"] == got] == [1]
    response = post(agent, f"/conversations/{got}/priority", {"priority": "3"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/conversations/{got}")
    bad = post(agent, f"/conversations/{got}/priority", {"priority": "7"}, headers={"Accept": "application/json"})
    assert bad.status_code == 422 and "priority" in bad.json["error"]
    assert post(agent, f"/conversations/{got}/priority", {"priority": "7"}).status_code == 400
    other = app.test_client()
    login(other, people.agent_b.email)
    assert post(other, f"/conversations/{got}/priority", {"priority": "1"}).status_code == 404
    assert agent.post(f"/conversations/{got}/priority", data={"priority": "1"}).status_code == 400  # no CSRF token
    with app.app_context():
        assert conversation(got).priority == 3
