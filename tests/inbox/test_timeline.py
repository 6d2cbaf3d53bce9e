"""A conversation's history tells every event in the reader's words, Arabic or English: intents,
SLA targets, priorities, statuses, teams and people by name, never a code; and every event
reaches the screens showing the conversation live."""
from __future__ import annotations

import html
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from inbox.extensions import db, socketio
from inbox.models import Conversation, ConversationEvent
from inbox.models.base import utcnow
from tests import factories
from tests.conftest import login, post

# Codes that events store and that must never reach the reader.
RAW = ("first_response", "next_response", "resolution_", "balance_recharge", "network_coverage", "snooze_ended",
       "status_changed", "priority_changed", "intent_corrected", "sla_breached", "handed_off", "continued_from",
       "supervisor_alerted", "auto_replied", "{'", "rule_id", "None", "nobody")


def every_event(people, other_id: int) -> list[tuple[str, dict, int | None]]:
    """(kind, data, actor) of each kind services record, with the data they record."""
    agent, supervisor = people.agent_a.id, people.supervisor.id
    rule = {"rule_id": 7, "name": "Recharge to Team A", "actions": [{"type": "set_team", "value": "Team A"}]}
    return [
        ("created", {"intent": "balance_recharge", "confidence": 0.87, "language": "ar", "routing": {
            "fired": [rule], "team_id": people.team_a.id, "priority": 1, "triage": False, "model_version": "v3"}},
         None),
        ("assigned", {"agent_id": agent, "by": "routing", "reason": "least_loaded", "rules": [rule],
                      "model_version": "v3", "confidence": 0.87}, None),
        ("sla_breached", {"target": "first_response", "due": "2026-11-27T08:30:00", "priority": 1}, None),
        ("sla_breached", {"target": "next_response", "due": "2026-11-27T09:30:00", "priority": 1}, None),
        ("sla_breached", {"target": "resolution", "due": "2026-11-27T12:00:00", "priority": 1}, None),
        ("intent_corrected", {"from": "other", "to": "network_coverage", "by": agent}, agent),
        ("priority_changed", {"from": 2, "to": 1, "sla_policy": "Urgent"}, agent),
        ("status_changed", {"from": "open", "to": "pending"}, agent),
        ("status_changed", {"from": "open", "to": "snoozed", "until": "2026-11-28T07:00:00"}, agent),
        ("status_changed", {"from": "snoozed", "to": "open", "reason": "snooze_ended"}, None),
        ("note_added", {"mentions": [supervisor]}, agent),
        ("tag_added", {"tag": "vip"}, agent),
        ("tag_removed", {"tag": "vip"}, agent),
        ("replied", {}, agent),
        ("auto_replied", {}, None),
        ("handed_off_to_dm", {"conversation_id": other_id, "new": True}, agent),
        ("continued_from_public", {"conversation_id": other_id}, agent),
        ("transferred", {"to_team_id": people.team_b.id}, agent),
        ("transferred", {"to_agent_id": people.agent_b.id, "to_team_id": people.team_b.id}, supervisor),
        ("unassigned", {"from_agent_id": agent, "reason": "offline"}, None),
        ("assigned", {"agent_id": agent, "reason": "claimed"}, agent),
        ("reopened", {"intent": "roaming", "confidence": 0.5}, None),
        ("supervisor_alerted", {"reason": "no_agent_online", "waited_seconds": 600}, None),
    ]


@pytest.fixture
def history(app, people):
    """A conversation of Team A with one event of every kind: (conversation id, other id)."""
    with app.app_context():
        got = factories.receive(people.channel_a.id, author="t-1")
        other = factories.receive(people.channel_a.id, author="t-1", public=True, text="@operator hi")
        db.session.execute(ConversationEvent.__table__.delete().where(
            ConversationEvent.conversation_id == got.conversation_id))
        start = utcnow()
        for i, (kind, data, actor) in enumerate(every_event(people, other.conversation_id)):
            db.session.add(ConversationEvent(conversation_id=got.conversation_id, kind=kind, data=data,
                                             actor_id=actor, created_at=start + timedelta(seconds=i)))
        db.session.commit()
        return got.conversation_id, other.conversation_id


def sentences(client, conversation_id: int) -> list[str]:
    """The timeline as the reader sees it: one line of text per event."""
    page = client.get(f"/conversations/{conversation_id}/timeline").get_data(as_text=True)
    items = re.findall(r'<li class="event[^"]*"[^>]*>(.*?)</li>', page, re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", item)).split()) for item in items]


def test_every_event_reads_as_an_english_sentence(app, client, people, history):
    conversation_id, other_id = history
    login(client, people.supervisor.email)
    lines = sentences(client, conversation_id)
    assert len(lines) == len(every_event(people, other_id))
    expected = [
        "Conversation opened · intent Balance and recharge (87%) · model v3 · rules: Recharge to Team A · "
        "team Team A · priority Urgent",
        "Assigned to agent.a by routing · rules: Recharge to Team A · model v3, confidence 87%",
        "SLA target missed (first response)", "SLA target missed (next response)", "SLA target missed (resolution)",
        "Intent corrected to Network coverage · agent.a",
        "Priority changed from High to Urgent · agent.a",
        "Status changed to Pending · agent.a",
        "Snoozed until",
        "The snooze ended: open again",
        "Note added, mentioning supervisor · agent.a",
        "Tag added: vip", "Tag removed: vip",
        "Replied to the customer · agent.a",
        "Automatic reply sent",
        "Answered publicly and continued in a new DM conversation · agent.a · Open the DM conversation",
        "Continued here from the customer's public X mention · agent.a · Open the public conversation",
        "Moved to team Team B · agent.a",
        "Transferred to agent.b · supervisor",
        "Returned to the queue from agent.a",
        "agent.a claimed the conversation",
        "Conversation reopened by the customer · intent Roaming (50%)",
        "No agent was free: supervisors alerted",
    ]
    for line, words in zip(lines, expected, strict=True):
        assert words in line
    text = "\n".join(lines)
    assert not [raw for raw in RAW if raw in text]
    page = client.get(f"/conversations/{conversation_id}/timeline").get_data(as_text=True)
    assert page.count(f'href="/conversations/{other_id}"') == 2


def test_every_event_reads_as_an_arabic_sentence(app, client, people, history):
    conversation_id, other_id = history
    login(client, people.supervisor.email)
    post(client, "/language", {"language": "ar", "next": "/"})
    lines = sentences(client, conversation_id)
    text = "\n".join(lines)
    for words in ("فُتحت المحادثة", "الرصيد والشحن", "الأولوية عاجل", "(الرد الأول)", "(الرد التالي)", "(الحل)",
                  "تغيّرت الأولوية من مرتفع إلى عاجل", "تغيّرت الحالة إلى معلّقة", "نُقلت إلى فريق Team B",
                  "التجوال", "افتح المحادثة الخاصة", "استُكملت هنا من إشارة العميل العلنية على X"):
        assert words in text
    assert not [raw for raw in RAW if raw in text]
    # No English sentence is left: every line's words (names, rule and tag aside) are Arabic.
    english = re.compile(r"\b(?:Conversation|Assigned|Status|Priority|Intent|SLA|Note|Tag|Replied|Moved|Transferred|"
                         r"Returned|claimed|Answered|Continued|Open|first|next|resolution|Urgent|High|Pending)\b")
    assert [line for line in lines if english.search(line)] == []


def test_priority_status_intent_and_assignment_changes_refresh_open_screens(app, people):
    """Events that are not announced on their own come with the conversation's update, which the
    screen showing it answers by refreshing its timeline (inbox/static/conversation.js)."""
    with app.app_context():
        got = factories.receive(people.channel_a.id, author="t-2")
    http = app.test_client()
    login(http, people.agent_a.email)
    sock = socketio.test_client(app, flask_test_client=http)
    sock.get_received()
    post(http, f"/conversations/{got.conversation_id}/priority", {"priority": "1"})
    received = sock.get_received()
    recorded = [p["args"][0] for p in received if p["name"] == "conversation_event_recorded"]
    assert [(e["conversation_id"], e["kind"]) for e in recorded] == [(got.conversation_id, "priority_changed")]
    for change, form in (("status", {"status": "pending"}), ("intent", {"intent": "roaming"}), ("claim", {})):
        post(http, f"/conversations/{got.conversation_id}/{change}", form)
        updated = [p["args"][0] for p in sock.get_received() if p["name"] == "conversation_updated"]
        assert [c["id"] for c in updated] == [got.conversation_id], change
    with app.app_context():
        kinds = set(db.session.scalars(select(ConversationEvent.kind).where(
            ConversationEvent.conversation_id == got.conversation_id)))
        assert {"priority_changed", "status_changed", "intent_corrected", "assigned"} <= kinds
        assert db.session.get(Conversation, got.conversation_id).priority == 1
    script = (Path(app.static_folder) / "conversation.js").read_text(encoding="utf-8")
    assert 'socket.on("conversation_updated", each((c) => c.id === conversationId && refreshTimeline()))' in script
