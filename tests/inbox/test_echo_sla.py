"""Replies an agent sends from the platform's own app come back through ingest as echoes: they are
shown as outbound and count as the agents' answer for the SLA. And a conversation the customer
reopens goes back to the agent who had it, when that agent can take it."""
from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import select

from connectors.types import OUTBOUND
from inbox.extensions import db
from inbox.models import Channel, Conversation, ConversationEvent, Message, User
from inbox.services import assignment, conversations, ingest
from tests import factories
from tests.conftest import login
from tests.inbox.routing_helpers import available
from tests.inbox.test_sla_service import CLOCKED, Clock, amman, conversation, receive


@pytest.fixture
def clock(monkeypatch):
    fixed = Clock()
    for module in CLOCKED:
        monkeypatch.setattr(f"{module}.utcnow", fixed)
    return fixed


def echo(text: str, customer: str = "cust-1", sent_at=None, **kwargs):
    """What a platform reports when the account answered the customer from its own app."""
    base = factories.inbound(text=text, author="operator-account", name="Operator")
    return dataclasses.replace(base, direction=OUTBOUND, conversation_key=customer,
                               created_at=sent_at or base.created_at, **kwargs)


def ingest_echo(world, clock, when: str, text: str, sent_at: str | None = None, **kwargs):
    clock.at(when)
    return ingest.ingest_message(world.channel_a.id, echo(text, sent_at=amman(sent_at) if sent_at else None,
                                                          **kwargs))


# ---- echoes and the SLA ------------------------------------------------------------------------

def test_an_echo_meets_the_first_response_at_the_time_it_was_sent(world, clock):
    got = receive(world, clock, "2026-05-24 09:00")
    assert conversation(got).first_response_due_at == amman("2026-05-24 10:00")
    # Answered at 09:20 from the platform's app; the poll brings the echo at 09:21.
    stored = ingest_echo(world, clock, "2026-05-24 09:21", "تم حل المشكلة", sent_at="2026-05-24 09:20")
    assert stored is not None and stored.conversation_id == got and not stored.reopened
    c = conversation(got)
    assert c.first_response_at == c.last_agent_reply_at == amman("2026-05-24 09:20")
    assert c.first_response_due_at is None and c.customer_waiting_since is None
    assert c.sla_check_at == c.resolution_due_at == amman("2026-05-26 09:00")
    message = db.session.get(Message, stored.message_id)
    assert (message.direction, message.state, message.text) == ("out", "sent", "تم حل المشكلة")


def test_an_echo_clears_the_next_response_and_the_customer_starts_it_again(world, clock):
    got = receive(world, clock, "2026-05-24 09:00")
    clock.at("2026-05-24 09:10")
    conversations.reply(world.agent_a, got, "we are on it")
    receive(world, clock, "2026-05-24 10:00")
    assert conversation(got).next_response_due_at == amman("2026-05-24 12:00")
    ingest_echo(world, clock, "2026-05-24 10:30", "fixed now", sent_at="2026-05-24 10:29")
    c = conversation(got)
    assert c.next_response_due_at is None and c.customer_waiting_since is None
    assert c.last_agent_reply_at == amman("2026-05-24 10:29")
    assert c.first_response_at == amman("2026-05-24 09:10")  # the first stays the first
    receive(world, clock, "2026-05-24 11:00")
    assert conversation(got).next_response_due_at == amman("2026-05-24 13:00")


def test_an_echo_never_counts_from_before_the_customer_wrote(world, clock):
    """The platform's clock and ours differ: an answer is never earlier than what it answers."""
    got = receive(world, clock, "2026-05-24 09:00")
    ingest_echo(world, clock, "2026-05-24 09:05", "hello", sent_at="2026-05-24 08:59")
    c = conversation(got)
    assert c.first_response_at == amman("2026-05-24 09:00") and c.first_response_due_at is None


def test_in_one_batch_the_customer_writing_after_the_echo_waits_again(world, clock):
    got = receive(world, clock, "2026-05-24 09:00")
    clock.at("2026-05-24 09:30")
    channel = db.session.get(Channel, world.channel_a.id)
    ingest._apply_all([(channel, echo("we are on it", sent_at=amman("2026-05-24 09:29"))),
                       (channel, factories.inbound(text="still nothing works"))])  # one poll brings both
    c = conversation(got)
    assert c.first_response_at == amman("2026-05-24 09:29") and c.first_response_due_at is None
    assert c.customer_waiting_since == amman("2026-05-24 09:30")
    assert c.next_response_due_at == amman("2026-05-24 11:30")


def test_an_echo_late_is_a_breach_met_late(world, clock):
    from inbox.services import sla

    got = receive(world, clock, "2026-05-24 09:00")
    ingest_echo(world, clock, "2026-05-24 10:12", "sorry for the wait", sent_at="2026-05-24 10:10")
    assert sla.check_breaches(amman("2026-05-24 10:13")) == 1
    [event] = db.session.scalars(select(ConversationEvent).where(ConversationEvent.conversation_id == got,
                                                                 ConversationEvent.kind == "sla_breached")).all()
    assert (event.data["target"], event.data["met_at"]) == ("first_response", amman("2026-05-24 10:10").isoformat())


def test_an_echo_on_a_resolved_conversation_neither_reopens_it_nor_starts_a_clock(world, clock):
    got = receive(world, clock, "2026-05-24 09:00")
    clock.at("2026-05-24 09:10")
    conversations.reply(world.agent_a, got, "done")
    conversations.set_status(world.agent_a, got, "resolved")
    ingest_echo(world, clock, "2026-05-24 09:30", "one more thing from the app")
    c = conversation(got)
    assert c.status == "resolved"
    assert (c.first_response_due_at, c.next_response_due_at, c.resolution_due_at, c.sla_check_at) == (None,) * 4


def test_the_echo_shows_in_the_thread_as_outbound(app, people, monkeypatch):
    with app.app_context():
        got = factories.receive(people.channel_a.id, text="السلام عليكم").conversation_id
        ingest.ingest_message(people.channel_a.id, echo("وعليكم السلام، كيف بنقدر نساعدك؟"))
    http = app.test_client()
    login(http, people.agent_a.email)
    page = http.get(f"/conversations/{got}").get_data(as_text=True)
    outbound = page[page.index('class="message outbound"'):]
    assert "وعليكم السلام" in outbound.split("</li>")[0]
    assert 'class="message inbound"' in page[:page.index('class="message outbound"')]


# ---- a reopened conversation and its agent -----------------------------------------------------

def _resolved_by(world, agent: User) -> int:
    got = factories.receive(world.channel_a.id, author="returning")
    c = db.session.get(Conversation, got.conversation_id)
    if c.assignee_id != agent.id:
        assignment.claim(agent, c.id)
    conversations.reply(agent, c.id, "done")
    conversations.set_status(agent, c.id, "resolved")
    return c.id


def _second_agent(world) -> User:
    second = factories.user("agent.a2@example.com", teams=("Team A",))
    return second


def test_a_reopened_conversation_goes_back_to_its_agent_when_they_can_take_it(ctx, world):
    second = _second_agent(world)
    available(world.agent_a, second, capacity=4, languages=["en", "ar"])
    got = _resolved_by(world, world.agent_a)
    # Someone else is now less loaded: the conversation still goes back to the agent who knows it.
    for n in range(2):
        factories.receive(world.channel_a.id, author=f"other-{n}")
        assignment.claim(world.agent_a, db.session.scalars(select(Conversation.id).order_by(
            Conversation.id.desc())).first())
    again = factories.receive(world.channel_a.id, author="returning")
    assert again.reopened and again.conversation_id == got
    db.session.expire_all()
    assert db.session.get(Conversation, got).assignee_id == world.agent_a.id
    last = db.session.scalars(select(ConversationEvent).where(
        ConversationEvent.conversation_id == got, ConversationEvent.kind == "assigned")
        .order_by(ConversationEvent.id.desc())).first()
    assert (last.data["agent_id"], last.data["reason"]) == (world.agent_a.id, "previous_agent")


def test_a_reopened_conversation_goes_to_the_queue_when_its_agent_is_offline(ctx, world):
    second = _second_agent(world)
    available(world.agent_a, second, capacity=4, languages=["en", "ar"])
    got = _resolved_by(world, world.agent_a)
    assignment.set_presence(db.session.get(User, world.agent_a.id), "offline")
    again = factories.receive(world.channel_a.id, author="returning")
    assert again.reopened
    db.session.expire_all()
    assert db.session.get(Conversation, got).assignee_id == second.id  # the team's next free agent
    [event] = db.session.scalars(select(ConversationEvent).where(
        ConversationEvent.conversation_id == got, ConversationEvent.kind == "assigned",
        ConversationEvent.created_at >= db.session.get(Conversation, got).opened_at)).all()
    assert event.data["agent_id"] == second.id


def test_a_reopened_conversation_waits_in_the_queue_when_its_agent_is_full(ctx, world):
    available(world.agent_a, capacity=1, languages=["en", "ar"])
    got = _resolved_by(world, world.agent_a)
    factories.receive(world.channel_a.id, author="someone-else")  # takes agent A's only place
    again = factories.receive(world.channel_a.id, author="returning")
    assert again.reopened
    db.session.expire_all()
    c = db.session.get(Conversation, got)
    assert c.assignee_id is None and c.team_id == world.team_a.id and c.queued_at is not None
    assert timedelta(0) <= c.queued_at - c.opened_at < timedelta(seconds=1)
