"""Snooze: a conversation set aside until a time the agent picks (in their own time zone),
then open again by itself, with both steps in its history."""
from datetime import datetime, timedelta

from sqlalchemy import select

from inbox.extensions import db, socketio
from inbox.jobs import schedule, tasks
from inbox.models import Conversation, ConversationEvent
from inbox.models.base import utcnow
from inbox.services import snooze
from tests import factories
from tests.conftest import login, post


def test_a_snoozed_conversation_wakes_up_open_at_its_time(app, people):
    with app.app_context():
        got = factories.receive(people.channel_a.id, author="a-1", text="call me tomorrow")
    http = app.test_client()
    login(http, people.agent_a.email)
    sock = socketio.test_client(app, flask_test_client=http)
    # 09:00 tomorrow in Amman (UTC+3, the agent's zone) is 06:00 UTC.
    tomorrow = (utcnow() + timedelta(days=1)).date()
    response = post(http, f"/conversations/{got.conversation_id}/snooze", {"until": f"{tomorrow}T09:00"},
                    headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.json["status"] == "snoozed"
    assert response.json["snoozed_until"] == f"{tomorrow}T06:00:00Z"
    page = http.get(f"/conversations/{got.conversation_id}").get_data(as_text=True)
    assert 'data-testid="snoozed-until"' in page and "Snoozed until" in page  # the timeline says so
    sock.get_received()

    with app.app_context():
        assert snooze.wake_due() == []  # not yet
        conversation = db.session.get(Conversation, got.conversation_id)
        conversation.snoozed_until = utcnow() - timedelta(seconds=1)
        db.session.commit()
        tasks.wake_snoozed()
        tasks.wake_snoozed()  # twice is harmless
        conversation = db.session.get(Conversation, got.conversation_id)
        assert (conversation.status, conversation.snoozed_until) == ("open", None)
        changes = db.session.scalars(select(ConversationEvent.data).where(
            ConversationEvent.kind == "status_changed").order_by(ConversationEvent.id)).all()
        assert [(c["from"], c["to"]) for c in changes] == [("open", "snoozed"), ("snoozed", "open")]
        assert changes[1]["reason"] == "snooze_ended"
    woke = [p["args"][0] for p in sock.get_received() if p["name"] == "conversation_updated"]
    assert [c["status"] for c in woke] == ["open"]


def test_a_snooze_must_end_in_the_future_and_not_on_a_resolved_conversation(app, client, people):
    with app.app_context():
        got = factories.receive(people.channel_a.id)
    login(client, people.agent_a.email)
    url = f"/conversations/{got.conversation_id}/snooze"
    for until in ("2020-01-01T09:00", "tomorrow", (datetime.now() + timedelta(days=200)).strftime("%Y-%m-%dT%H:%M")):
        response = post(client, url, {"until": until}, headers={"Accept": "application/json"})
        assert response.status_code == 422 and response.json["error"]
    post(client, f"/conversations/{got.conversation_id}/status", {"status": "resolved"})
    later = (datetime.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    assert post(client, url, {"until": later}, headers={"Accept": "application/json"}).status_code == 422


def test_another_teams_conversation_cannot_be_snoozed(app, client, people):
    with app.app_context():
        theirs = factories.receive(people.channel_b.id, author="b-1")
    login(client, people.agent_a.email)
    later = (datetime.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    assert post(client, f"/conversations/{theirs.conversation_id}/snooze", {"until": later}).status_code == 404


def test_the_schedule_runs_the_wake_job(monkeypatch, ctx):
    queued = []
    monkeypatch.setattr(schedule, "enqueue", lambda job, *args: queued.append(job))
    monkeypatch.setattr(schedule, "kick", lambda job, *args: None)
    schedule.Schedule().tick(1000.0)
    assert tasks.wake_snoozed in queued


def test_picking_another_status_ends_the_snooze(app, client, people):
    with app.app_context():
        got = factories.receive(people.channel_a.id)
    login(client, people.agent_a.email)
    later = (datetime.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    post(client, f"/conversations/{got.conversation_id}/snooze", {"until": later})
    post(client, f"/conversations/{got.conversation_id}/status", {"status": "open"})
    with app.app_context():
        conversation = db.session.get(Conversation, got.conversation_id)
        assert (conversation.status, conversation.snoozed_until) == ("open", None)


def test_the_customer_writing_again_wakes_a_snoozed_conversation(app, client, people):
    with app.app_context():
        got = factories.receive(people.channel_a.id, author="a-9", text="I'll send the invoice number later")
    login(client, people.agent_a.email)
    until = (datetime.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    assert post(client, f"/conversations/{got.conversation_id}/snooze", {"until": until},
                headers={"Accept": "application/json"}).json["status"] == "snoozed"
    with app.app_context():
        again = factories.receive(people.channel_a.id, author="a-9", text="here it is: 4417")
        assert again.conversation_id == got.conversation_id
        assert db.session.get(Conversation, got.conversation_id).status == "open"


def test_snoozing_does_not_stop_the_sla_clock_but_pending_does(app, client, people):
    # Snoozing is the agent setting a conversation aside while the customer still waits for an
    # answer; only "pending" (waiting on the customer) pauses the clock.
    with app.app_context():
        got = factories.receive(people.channel_a.id, text="my line is cut since morning")
        due = db.session.get(Conversation, got.conversation_id).first_response_due_at
    assert due is not None
    login(client, people.agent_a.email)
    tomorrow = (utcnow() + timedelta(days=1)).date()
    post(client, f"/conversations/{got.conversation_id}/snooze", {"until": f"{tomorrow}T09:00"})
    with app.app_context():
        conversation = db.session.get(Conversation, got.conversation_id)
        assert conversation.status == "snoozed"
        assert (conversation.paused_since, conversation.first_response_due_at) == (None, due)
    post(client, f"/conversations/{got.conversation_id}/status", {"status": "pending"})
    with app.app_context():
        assert db.session.get(Conversation, got.conversation_id).paused_since is not None
