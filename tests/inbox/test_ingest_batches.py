"""Ingest by the batch: stored payloads claimed a few hundred at a time, a job kicked once per
backlog, concurrent workers that never store a message twice or split a customer, and screens
told once per batch."""
import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from connectors.demo import DemoConnector
from connectors.types import RawPayload
from inbox.extensions import db, socketio
from inbox.jobs import tasks
from inbox.models import Channel, Conversation, ConversationEvent, Identity, Message, RawEvent, Team
from inbox.services import ingest
from tests import factories
from tests.conftest import jobs, login, make_app
from tests.services import POSTGRES_URL, require


def demo_payloads(start: int, count: int) -> list[RawPayload]:
    demo = DemoConnector()
    return [RawPayload(body=demo.payload_at(n), dedup_key=f"demo-{n}") for n in range(start, start + count)]


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_pending_payloads_are_claimed_in_batches_until_none_is_left(world):
    ids = ingest.record_raw_events(world.channel_a.id, demo_payloads(0, 25))
    assert ingest.record_raw_events(world.channel_a.id, demo_payloads(20, 10))[:5] == [None] * 5  # re-delivered
    assert len([i for i in ids if i]) == 25
    assert [ingest.process_pending(limit=12) for _ in range(4)] == [12, 12, 6, 0]
    assert count(Message) == 30 and count(RawEvent, RawEvent.status == "pending") == 0
    script = DemoConnector().script
    # Demo customers write several times: each keeps one identity and one private conversation.
    dm_customers = {script[n % len(script)]["customer"] for n in range(30) if script[n % len(script)]["kind"] == "dm"}
    assert count(Conversation, Conversation.is_public.is_(False)) == len(dm_customers)
    assert count(Identity) == len({script[n % len(script)]["customer"] for n in range(30)})
    assert count(ConversationEvent, ConversationEvent.kind == "created") == count(Conversation)


def test_an_unreadable_payload_is_parked_and_the_rest_of_its_batch_is_stored(world):
    good = demo_payloads(0, 3)
    broken = RawPayload(body={"id": "demo-x", "type": "poll"}, dedup_key="demo-x")
    ingest.record_raw_events(world.channel_a.id, [good[0], broken, *good[1:]])
    assert ingest.process_pending() == 4
    failed = db.session.scalars(select(RawEvent).where(RawEvent.status == "failed")).one()
    assert failed.dedup_key == "demo-x" and "not a demo payload" in failed.error
    assert count(Message) == 3 and ingest.process_pending() == 0


def test_one_kick_per_backlog_and_a_new_one_once_the_job_has_started(app, people):
    runner = jobs(app)
    started = threading.Event()
    release = threading.Event()
    calls = []

    def slow_job():
        runner.kicked(slow_job)
        calls.append(1)
        started.set()
        release.wait(5)

    runner.kick(slow_job)
    assert started.wait(5)
    runner.kick(slow_job)  # stored after the job began: it may have missed it, so a new job
    runner.kick(slow_job)
    release.set()
    runner.drain()
    assert len(calls) == 2


def test_webhook_deliveries_kick_one_ingest_job(app, client, people):
    from tests.inbox.platform_helpers import SECRET, telegram_channel, telegram_update

    channel_id = telegram_channel(app, "http://127.0.0.1:9")
    queued = []
    runner = jobs(app)
    runner.enqueue = lambda func, *args: queued.append(func)  # hold the jobs: nothing runs yet
    for n in range(5):
        response = client.post(f"/webhooks/telegram/{channel_id}", json=telegram_update(n + 1, f"msg {n}"),
                               headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
        assert response.status_code == 200
    assert queued == [tasks.ingest_pending]
    with app.app_context():
        tasks.ingest_pending()
        assert count(Message) == 5


def test_a_batch_reaches_each_screen_as_one_event_per_kind(app, people):
    http = app.test_client()
    login(http, people.agent_a.email)
    sock = socketio.test_client(app, flask_test_client=http)
    with app.app_context():
        ingest.record_raw_events(people.channel_a.id, demo_payloads(0, 6))
        ingest.process_pending()
        stored = count(Message)
    received = [(p["name"], p["args"][0]) for p in sock.get_received()]
    names = [name for name, _ in received]
    assert names.count("conversation_created") == 1 and names.count("message_created") == 1
    messages = dict(received)["message_created"]
    assert isinstance(messages, list) and len(messages) == stored == 6
    assert names.index("conversation_created") < names.index("message_created")


@pytest.fixture
def pg_app():
    require("postgresql")
    return make_app(POSTGRES_URL)


def demo_body(n: int, customer: int, kind: str) -> RawPayload:
    body = {"id": f"m-{n}", "type": kind, "text": f"message {n}", "created_at": "2026-11-27T07:00:00Z",
            "from": {"id": f"c-{customer}", "handle": f"c{customer}", "name": f"Customer {customer}"}}
    return RawPayload(body=body, dedup_key=f"m-{n}")


def test_two_workers_at_once_store_each_message_once_and_never_split_a_customer(pg_app):
    """Known customers (a public mention each, so no private conversation yet) send DMs that
    three workers claim at the same time: without the identity locks two workers would each
    open a private conversation for the same customer."""
    app = pg_app
    customers, dms = 20, 400
    with app.app_context():
        channel = Channel(platform="demo", name="Demo", team=Team(name="Care"))
        db.session.add(channel)
        db.session.commit()
        channel_id = channel.id
        ingest.record_raw_events(channel_id, [demo_body(n, n, "mention") for n in range(customers)])
        assert ingest.process_pending() == customers
        # Twelve DMs in a row per customer: the three workers' first claims are all about one.
        ingest.record_raw_events(channel_id, [demo_body(customers + n, n // 12 % customers, "dm")
                                              for n in range(dms)])
    errors = []
    barrier = threading.Barrier(3)

    def worker():
        try:
            with app.app_context():
                barrier.wait(10)
                while ingest.process_pending(limit=4):
                    pass
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    with app.app_context():
        external_ids = db.session.scalars(select(Message.external_id)).all()
        assert sorted(external_ids) == sorted(f"m-{n}" for n in range(customers + dms))
        assert count(Identity) == customers
        private = db.session.execute(select(Conversation.customer_id, func.count()).where(
            Conversation.is_public.is_(False)).group_by(Conversation.customer_id)).all()
        assert Counter(n for _, n in private) == {1: customers}  # one private conversation each
        assert count(RawEvent, RawEvent.status == "processed") == customers + dms


def test_a_new_conversation_is_classified_and_says_by_which_model(ctx, world, quick_training):
    from inbox.services import model_versions

    version = model_versions.train_new_version(select_config=False, activate=True)
    first = factories.receive(world.channel_a.id, author="c-bill",
                              text="why is my bill 38 JD this month?? my plan is 15 JD and nobody explained")
    follow_up = factories.receive(world.channel_a.id, author="c-bill", text="hello??")
    conversation = db.session.get(Conversation, first.conversation_id)
    assert follow_up.conversation_id == conversation.id
    assert conversation.intent == "billing" and 0 < conversation.intent_confidence <= 1
    assert conversation.intent_model_version_id == version.id
    assert conversation.language == "en" and conversation.sentiment == "negative"
    [created] = db.session.scalars(select(ConversationEvent).where(
        ConversationEvent.conversation_id == conversation.id, ConversationEvent.kind == "created")).all()
    assert created.data["model_version_id"] == version.id and created.data["intent"] == "billing"
    assert created.data["confidence"] == pytest.approx(conversation.intent_confidence, abs=1e-4)


def test_an_agents_change_committed_during_a_batch_is_not_overwritten(pg_app):
    """A batch writes back conversation columns it read: an agent who claims a conversation while
    the customer's next message is being stored must keep it (the batch waits for the claim)."""
    app = pg_app
    with app.app_context():
        channel = Channel(platform="demo", name="Demo", team=Team(name="Care"))
        db.session.add(channel)
        db.session.commit()
        channel_id = channel.id
        ingest.record_raw_events(channel_id, [demo_body(0, 7, "dm")])
        assert ingest.process_pending() == 1
        conversation_id = db.session.scalar(select(Conversation.id))
        agent = factories.user("claims@example.com")
        agent_id = agent.id
        ingest.record_raw_events(channel_id, [demo_body(1, 7, "dm")])
    with app.app_context():
        agent_change = db.engine.connect()
        in_flight = agent_change.begin()  # the agent's claim: row updated, not yet committed
        agent_change.execute(Conversation.__table__.update().where(Conversation.id == conversation_id)
                             .values(assignee_id=agent_id, status="open"))
        done = threading.Event()

        def batch():
            with app.app_context():
                ingest.process_pending()
                done.set()

        worker = threading.Thread(target=batch)
        worker.start()
        assert not done.wait(1.0)  # the batch waits on the conversation the agent is changing
        in_flight.commit()
        agent_change.close()
        worker.join(30)
        assert done.is_set()
        db.session.expire_all()
        conversation = db.session.get(Conversation, conversation_id)
        assert conversation.assignee_id == agent_id
        assert count(Message, Message.conversation_id == conversation_id) == 2
