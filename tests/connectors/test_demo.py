from datetime import datetime

import pytest

from connectors.demo import DemoConnector, load_script
from connectors.errors import PayloadError
from connectors.types import OutboundMessage


def test_demo_script_has_every_language_and_both_kinds():
    rows = load_script()
    assert {row["lang"] for row in rows} >= {"ar", "en", "arabizi"}
    assert {row["kind"] for row in rows} == {"dm", "mention"}
    per_customer = {}
    for row in rows:
        per_customer[row["customer"]] = per_customer.get(row["customer"], 0) + 1
    assert sum(1 for n in per_customer.values() if n >= 2) >= 5


def test_poll_moves_the_cursor_and_yields_unique_ids():
    connector = DemoConnector({"batch_size": 3})
    first = connector.poll(None)
    second = connector.poll(first.cursor)
    assert first.cursor == "3" and second.cursor == "6"
    ids = [p.dedup_key for p in first.payloads + second.payloads]
    assert ids == [f"demo-{n}" for n in range(6)]


def test_the_same_cursor_gives_the_same_messages():
    connector = DemoConnector()
    a = [connector.parse(p.body)[0] for p in connector.poll("10").payloads]
    b = [connector.parse(p.body)[0] for p in connector.poll("10").payloads]
    assert [(m.external_id, m.text, m.author_id) for m in a] == [(m.external_id, m.text, m.author_id) for m in b]


def test_parse_reads_public_mentions_and_private_messages():
    connector = DemoConnector()
    messages = [connector.parse(connector.payload_at(n))[0] for n in range(len(load_script()))]
    dms = [m for m in messages if not m.is_public]
    mentions = [m for m in messages if m.is_public]
    assert dms and mentions
    assert all(m.thread_id is None for m in dms)
    assert all(m.thread_id for m in mentions)
    assert all(isinstance(m.created_at, datetime) and m.created_at.tzinfo is None for m in messages)
    # A follow-up in a public thread points at the thread's first post.
    follow_ups = [m for m in mentions if m.parent_id]
    assert follow_ups and all(m.thread_id == m.parent_id for m in follow_ups)


@pytest.mark.parametrize("body", [
    {},
    {"id": "x"},
    {"id": "x", "type": "tweet", "from": {"id": "a"}, "created_at": "2026-01-01"},
    {"id": "x", "type": "dm", "from": "nobody", "created_at": "yesterday"},
])
def test_unreadable_payloads_raise_payload_error(body):
    with pytest.raises(PayloadError):
        DemoConnector().parse(body)


def test_sending_the_same_reply_twice_gives_the_same_platform_id():
    connector = DemoConnector()
    reply = OutboundMessage(text="hi", recipient_id="c01", is_public=False, idempotency_key="k1")
    assert connector.send(reply).external_id == connector.send(reply).external_id
