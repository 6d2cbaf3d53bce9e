"""The SLA clock on real conversations: due times at ingest, pauses, replies, breaches pushed live."""
from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from inbox.extensions import db, socketio
from inbox.models import Conversation, ConversationEvent, User
from inbox.payloads import conversation_payload
from inbox.services import classification, conversations, sla, sla_settings
from tests import factories
from tests.conftest import login

AMMAN = ZoneInfo("Asia/Amman")
# Every module that reads the clock by its own name for utcnow.
CLOCKED = ("inbox.models.base", "inbox.services.ingest", "inbox.services.ingest_store",
           "inbox.services.conversations", "inbox.payloads", "inbox.models.conversation")


def amman(text: str) -> datetime:
    """Wall-clock time in Amman → the naive UTC the app stores."""
    return datetime.fromisoformat(text).replace(tzinfo=AMMAN).astimezone(UTC).replace(tzinfo=None)


class Clock:
    def __init__(self) -> None:
        self.now = amman("2026-05-24 09:00")

    def at(self, text: str) -> datetime:
        self.now = amman(text)
        return self.now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fixed = Clock()
    for module in CLOCKED:
        monkeypatch.setattr(f"{module}.utcnow", fixed)
    return fixed


@pytest.fixture
def urgent(monkeypatch):
    """The classifier finds every message urgent."""
    classify = classification.classify_texts

    def classify_urgent(texts):
        predictions, version = classify(texts)
        return [dataclasses.replace(p, urgent=True) for p in predictions], version

    monkeypatch.setattr(classification, "classify_texts", classify_urgent)


def conversation(conversation_id: int) -> Conversation:
    db.session.expire_all()
    return db.session.get(Conversation, conversation_id)


def breach_events(conversation_id: int | None = None) -> list[dict]:
    query = select(ConversationEvent).where(ConversationEvent.kind == "sla_breached").order_by(ConversationEvent.id)
    if conversation_id is not None:
        query = query.where(ConversationEvent.conversation_id == conversation_id)
    return [event.data | {"conversation_id": event.conversation_id} for event in db.session.scalars(query)]


def receive(world, clock, when: str, **kwargs) -> int:
    clock.at(when)
    return factories.receive(world.channel_a.id, **kwargs).conversation_id


def set_policy(admin: User, priority: int, **minutes) -> None:
    fields = dict(sla_settings.form().policies)
    for key, value in minutes.items():
        fields[f"p{priority}-{key}"] = "" if value is None else str(value)
    sla_settings.save_policies(admin, fields)


# ---- due times at ingest -------------------------------------------------------------------

def test_a_message_on_thursday_evening_is_due_on_sunday_morning(world, clock):
    got = receive(world, clock, "2026-05-21 19:30")  # Thursday; the office closes at 20:00
    c = conversation(got)
    assert c.sla_policy["priority"] == c.priority == 2  # "High": 1 h first response, 24 h resolution
    assert c.opened_at == c.customer_waiting_since == amman("2026-05-21 19:30")
    assert c.first_response_due_at == amman("2026-05-24 08:30")
    assert c.resolution_due_at == amman("2026-05-25 19:30")  # 30 min + 12 h Sunday + 11.5 h Monday
    assert c.next_response_due_at is None
    assert c.sla_check_at == c.first_response_due_at
    payload = conversation_payload(c)
    assert payload["sla_due_at"] == payload["first_response_due_at"] == "2026-05-24T05:30:00Z"
    assert payload["sla_breached"] is False


def test_an_urgent_conversation_runs_around_the_clock(world, clock, urgent):
    got = receive(world, clock, "2026-05-22 23:00")  # Friday night
    c = conversation(got)
    assert c.priority == 1 and c.sla_policy["business_hours"] is False
    assert c.first_response_due_at == amman("2026-05-22 23:15")
    assert c.resolution_due_at == amman("2026-05-23 07:00")


def test_an_edited_policy_applies_to_new_conversations_only(world, clock):
    before = receive(world, clock, "2026-05-24 09:00", author="first")
    set_policy(world.admin, 2, first_response_minutes=30)
    after = receive(world, clock, "2026-05-24 09:00", author="second")
    assert conversation(before).first_response_due_at == amman("2026-05-24 10:00")
    assert conversation(after).first_response_due_at == amman("2026-05-24 09:30")


# ---- pauses ---------------------------------------------------------------------------------

def test_pending_pauses_the_clock_and_the_customers_answer_resumes_it(world, clock):
    got = receive(world, clock, "2026-05-24 09:00")
    clock.at("2026-05-24 09:10")
    conversations.set_status(world.agent_a, got, "pending")
    c = conversation(got)
    assert c.paused_since == clock.now
    assert c.first_response_due_at is None and c.resolution_due_at is None and c.sla_check_at is None
    receive(world, clock, "2026-05-24 09:40")  # the customer answers: open again
    c = conversation(got)
    assert c.status == "open" and c.paused_since is None
    assert c.first_response_due_at == amman("2026-05-24 10:30")  # 30 minutes paused, added back
    assert c.sla_check_at == c.first_response_due_at


def test_an_agent_reopening_a_pending_conversation_resumes_the_clock(world, clock):
    got = receive(world, clock, "2026-05-24 09:00")
    clock.at("2026-05-24 09:10")
    conversations.set_status(world.agent_a, got, "pending")
    clock.at("2026-05-24 11:10")
    conversations.set_status(world.agent_a, got, "open")
    c = conversation(got)
    assert c.first_response_due_at == amman("2026-05-24 12:00")
    assert c.sla_pauses == [[amman("2026-05-24 09:10").isoformat(), amman("2026-05-24 11:10").isoformat()]]


# ---- replies --------------------------------------------------------------------------------

def test_the_first_reply_meets_first_response_and_the_customer_starts_next_response(world, clock):
    got = receive(world, clock, "2026-05-24 09:00")
    clock.at("2026-05-24 09:20")
    conversations.reply(world.agent_a, got, "we are looking into it")
    c = conversation(got)
    assert c.first_response_at == clock.now and c.first_response_due_at is None
    assert c.next_response_due_at is None
    assert c.sla_check_at == c.resolution_due_at == amman("2026-05-26 09:00")  # 24 business hours
    receive(world, clock, "2026-05-24 10:00")
    receive(world, clock, "2026-05-24 10:30")  # writing again does not push the deadline back
    c = conversation(got)
    assert c.customer_waiting_since == amman("2026-05-24 10:00")
    assert c.next_response_due_at == amman("2026-05-24 12:00")  # "High": 2 h
    assert c.sla_check_at == c.next_response_due_at
    clock.at("2026-05-24 11:00")
    conversations.reply(world.agent_a, got, "fixed now")
    c = conversation(got)
    assert c.next_response_due_at is None and c.customer_waiting_since is None
    assert c.sla_check_at == c.resolution_due_at


def test_resolving_meets_every_target_and_a_reopened_conversation_restarts_resolution(world, clock):
    got = receive(world, clock, "2026-05-24 09:00")
    clock.at("2026-05-24 09:20")
    conversations.reply(world.agent_a, got, "done")
    conversations.set_status(world.agent_a, got, "resolved")
    c = conversation(got)
    assert (c.first_response_due_at, c.next_response_due_at, c.resolution_due_at, c.sla_check_at) == (None,) * 4
    receive(world, clock, "2026-05-26 09:00")  # two days later the customer writes again
    c = conversation(got)
    assert c.status == "open" and c.opened_at == clock.now
    assert c.first_response_due_at is None  # the first response was given before
    assert c.next_response_due_at == amman("2026-05-26 11:00")
    assert c.resolution_due_at == amman("2026-05-28 09:00")  # 11 h + 12 h + 1 h


def test_a_new_priority_brings_its_policy(world, clock):
    got = receive(world, clock, "2026-05-21 19:30")  # Thursday evening: "High" is due on Sunday
    c = conversation(got)
    c.priority = 1
    sla.priority_changed(c)
    db.session.commit()
    c = conversation(got)
    assert c.sla_policy["name"] == "Urgent"
    assert c.first_response_due_at == c.sla_check_at == amman("2026-05-21 19:45")  # around the clock


def test_is_open_now_follows_the_business_hours(world, clock):
    assert sla.is_open_now(amman("2026-05-21 19:59"))
    assert not sla.is_open_now(amman("2026-05-22 12:00"))  # Friday
    sla_settings.save_business_hours(world.admin, {"timezone": "Asia/Amman", "hours-friday": "10:00-14:00",
                                                   "hours-sunday": "08:00-20:00"}, [])
    assert sla.is_open_now(amman("2026-05-22 12:00"))


# ---- breaches -------------------------------------------------------------------------------

def test_the_breach_job_records_each_breach_once(world, clock):
    late = receive(world, clock, "2026-05-24 09:00", author="late")
    answered = receive(world, clock, "2026-05-24 09:00", author="answered")
    clock.at("2026-05-24 09:30")
    conversations.reply(world.agent_a, answered, "on it")
    assert sla.check_breaches(amman("2026-05-24 09:59")) == 0
    assert sla.check_breaches(amman("2026-05-24 10:05")) == 1
    [event] = breach_events()
    assert event == {"conversation_id": late, "target": "first_response", "priority": 2,
                     "started_at": amman("2026-05-24 09:00").isoformat(),
                     "due": amman("2026-05-24 10:00").isoformat(), "overdue_seconds": 300, "met_at": None}
    assert sla.check_breaches(amman("2026-05-24 10:06")) == 0
    assert conversation(late).sla_check_at == conversation(late).resolution_due_at
    # Answered late, between two runs: recorded once, with when it was met.
    clock.at("2026-05-24 10:20")
    conversations.reply(world.agent_a, late, "sorry for the wait")
    assert sla.check_breaches(amman("2026-05-24 10:30")) == 0
    assert len(breach_events(late)) == 1


def test_a_reply_after_the_due_time_is_recorded_as_met_late(world, clock):
    got = receive(world, clock, "2026-05-24 09:00")
    clock.at("2026-05-24 10:10")
    conversations.reply(world.agent_a, got, "sorry for the wait")
    assert sla.check_breaches(amman("2026-05-24 10:11")) == 1
    [event] = breach_events(got)
    assert (event["target"], event["overdue_seconds"], event["met_at"]) == (
        "first_response", 600, amman("2026-05-24 10:10").isoformat())
    assert sla.check_breaches(amman("2026-05-24 10:12")) == 0


def test_a_paused_conversation_does_not_breach(world, clock):
    got = receive(world, clock, "2026-05-24 09:00")
    clock.at("2026-05-24 09:30")
    conversations.set_status(world.agent_a, got, "pending")
    assert sla.check_breaches(amman("2026-05-30 12:00")) == 0
    assert breach_events(got) == []


def connect(app, email):
    http = app.test_client()
    login(http, email)
    return socketio.test_client(app, flask_test_client=http)


def breaches_heard(sock) -> list[dict]:
    found = []
    for packet in sock.get_received():
        if packet["name"] == "sla_breached":
            payload = packet["args"][0]
            found.extend(payload if isinstance(payload, list) else [payload])
    return found


def test_supervisors_and_the_team_hear_a_breach_and_other_teams_do_not(app, people, monkeypatch):
    supervisor = connect(app, people.supervisor.email)
    team_a = connect(app, people.agent_a.email)
    team_b = connect(app, people.agent_b.email)
    fixed = Clock()
    for module in CLOCKED:
        monkeypatch.setattr(f"{module}.utcnow", fixed)
    with app.app_context():
        fixed.at("2026-05-24 09:00")
        got = factories.receive(people.channel_a.id).conversation_id
    [created] = [packet["args"][0] for packet in supervisor.get_received() if packet["name"] == "conversation_created"]
    assert created["first_response_due_at"] == created["sla_due_at"] == amman("2026-05-24 10:00").isoformat() + "Z"
    for sock in (team_a, team_b):
        sock.get_received()
    with app.app_context():
        assert sla.check_breaches(amman("2026-05-24 10:01")) == 1
    [heard] = breaches_heard(supervisor)
    assert (heard["conversation_id"], heard["target"], heard["overdue_seconds"]) == (got, "first_response", 60)
    assert [b["conversation_id"] for b in breaches_heard(team_a)] == [got]
    assert breaches_heard(team_b) == []


def test_the_queue_and_the_conversation_show_the_due_time_and_the_breach(app, people, monkeypatch):
    http = app.test_client()
    login(http, people.agent_a.email)
    fixed = Clock()
    for module in CLOCKED:
        monkeypatch.setattr(f"{module}.utcnow", fixed)
    with app.app_context():
        fixed.at("2026-05-24 09:00")
        got = factories.receive(people.channel_a.id).conversation_id
    fixed.at("2026-05-24 09:30")
    queue = http.get("/").get_data(as_text=True)
    row = queue[queue.index(f'data-conversation-id="{got}"'):]
    badge = row[row.index('data-testid="sla"'):row.index("</span>", row.index('data-testid="sla"'))]
    assert f'datetime="{amman("2026-05-24 10:00").isoformat()}Z"' in badge
    assert "SLA due in 30 minutes" in badge and "breached" not in badge
    fixed.at("2026-05-24 10:45")
    page = http.get(f"/conversations/{got}").get_data(as_text=True)
    assert 'class="badge sla breached"' in page and "SLA breached 45 minutes ago" in page
