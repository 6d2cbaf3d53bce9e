"""DESIGN.md steps 1–3: a payload is kept, its message stored once and threaded."""
import json

from sqlalchemy import func, select

from connectors.demo import DemoConnector
from inbox.extensions import db
from inbox.models import Conversation, ConversationEvent, Customer, Message, RawEvent
from inbox.services import conversations, ingest, polling
from tests import factories


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_same_delivery_twice_is_stored_once(world):
    body = DemoConnector().payload_at(0)
    first = ingest.record_raw_event(world.channel_a.id, body, "demo-0")
    again = ingest.record_raw_event(world.channel_a.id, body, "demo-0")
    assert first is not None and again is None
    ingest.process_raw_event(first)
    ingest.process_raw_event(first)  # a job retried after a crash
    assert count(RawEvent) == 1 and count(Message) == 1 and count(Conversation) == 1


def test_the_same_message_from_two_payloads_is_one_row(world):
    message = factories.inbound(external_id="x-1")
    assert ingest.ingest_message(world.channel_a.id, message) is not None
    assert ingest.ingest_message(world.channel_a.id, message) is None
    assert count(Message) == 1 and count(Conversation) == 1


def test_a_private_message_joins_the_customers_open_conversation(world):
    first = factories.receive(world.channel_a.id, author="c1", text="hello")
    second = factories.receive(world.channel_a.id, author="c1", text="anyone?")
    other = factories.receive(world.channel_a.id, author="c2", text="hi")
    assert first.conversation_created and not second.conversation_created
    assert second.conversation_id == first.conversation_id
    assert other.conversation_created and other.conversation_id != first.conversation_id
    assert count(Customer) == 2
    conversation = db.session.get(Conversation, first.conversation_id)
    assert [m.text for m in conversation.messages] == ["hello", "anyone?"]
    assert conversation.preview == "anyone?"


def test_a_public_reply_joins_its_thread_and_a_new_post_opens_a_ticket(world):
    root = factories.receive(world.channel_a.id, author="c1", public=True, external_id="post-1", text="@op no signal")
    reply = factories.receive(world.channel_a.id, author="c2", public=True, thread="post-1", text="same here")
    new_post = factories.receive(world.channel_a.id, author="c1", public=True, text="another thing")
    assert reply.conversation_id == root.conversation_id
    assert new_post.conversation_created and new_post.conversation_id != root.conversation_id


def test_a_resolved_conversation_reopens_when_the_customer_writes(world):
    first = factories.receive(world.channel_a.id, author="c1")
    conversations.set_status(world.agent_a, first.conversation_id, "resolved")
    again = factories.receive(world.channel_a.id, author="c1", text="it broke again")
    assert again.reopened and again.conversation_id == first.conversation_id
    conversation = db.session.get(Conversation, first.conversation_id)
    assert conversation.status == "open" and conversation.resolved_at is None
    kinds = db.session.scalars(select(ConversationEvent.kind).order_by(ConversationEvent.id)).all()
    assert kinds == ["created", "status_changed", "reopened"]


def test_new_conversations_go_to_the_channels_team_with_a_language(world):
    result = factories.receive(world.channel_b.id, text="النت فاصل")
    conversation = db.session.get(Conversation, result.conversation_id)
    assert conversation.team_id == world.team_b.id and conversation.language == "ar"


def test_hostile_text_is_stored_as_sent_minus_nul(world):
    text = '<img src=x onerror=alert(1)>\x00 [x](javascript:alert(1))'
    result = factories.receive(world.channel_a.id, text=text, name='"><script>alert(1)</script>')
    message = db.session.get(Message, result.message_id)
    assert message.text == text.replace("\x00", "")
    assert message.author_identity.display_name == '"><script>alert(1)</script>'


def test_an_unreadable_payload_is_parked_not_retried(world):
    raw_id = ingest.record_raw_event(world.channel_a.id, {"not": "demo"}, "bad-1")
    assert ingest.process_raw_event(raw_id) == []
    raw = db.session.get(RawEvent, raw_id)
    assert raw.status == "failed" and "not a demo payload" in raw.error
    assert json.loads(raw.payload) == {"not": "demo"}


def test_polling_stores_a_batch_then_moves_the_cursor(world):
    world.channel_a.settings = {"batch_size": 4}
    db.session.commit()
    assert polling.poll_channel(world.channel_a.id) == 4
    assert db.session.get(type(world.channel_a), world.channel_a.id).cursor == "4"
    assert count(RawEvent) == 4 and count(Message) == 4
