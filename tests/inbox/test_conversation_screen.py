"""The conversation screen: the customer's history on every platform, attachments, chips,
tags, priority, the event history, the composer's limits; every customer string as text."""
from sqlalchemy import select

from connectors.text_length import x_weighted
from inbox.extensions import db, socketio
from inbox.models import Channel, Conversation, ConversationEvent, Message
from inbox.services import conversations
from tests import factories
from tests.conftest import login, post

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(1)>\u202eevil"


def receive(app, channel_id, **kwargs):
    with app.app_context():
        return factories.receive(channel_id, **kwargs)


def test_the_history_shows_the_customers_other_conversations_the_agent_may_see(app, client, people):
    with app.app_context():
        public = factories.channel(db.session.get(Channel, people.channel_a.id).team, "Page A")
        public_id = public.id
    older = receive(app, people.channel_a.id, author="a-1", name="Lina", text="first: my bill")
    current = receive(app, public_id, author="a-1", name="Lina", text="public: still no answer", public=True)
    hidden = receive(app, people.channel_b.id, author="a-1", name="Lina", text="team B secret")
    login(client, people.agent_a.email)
    page = client.get(f"/conversations/{current.conversation_id}").get_data(as_text=True)
    history = page.split('data-testid="history"')[1].split("</section>")[0]
    assert f'data-conversation-id="{older.conversation_id}"' in history and "first: my bill" in history
    assert f"/conversations/{older.conversation_id}" in history
    assert "team B secret" not in page and f'data-conversation-id="{hidden.conversation_id}"' not in history
    assert 'aria-label="Demo"' in history and "kind-private" in history
    # The current thread marks each message public or private.
    thread = page.split('data-testid="thread">')[1].split("</ol>")[0]
    assert 'class="badge kind-public" data-field="kind"' in thread


def test_attachments_images_inline_others_as_links_and_nothing_else_as_a_source(app, client, people):
    got = receive(app, people.channel_a.id, author="a-1", text="see attached")
    with app.app_context():
        message = db.session.get(Message, got.message_id)
        message.attachments = [
            {"type": "image", "url": "https://cdn.example.com/p.jpg", "name": HOSTILE},
            {"type": "image", "url": "javascript:alert(1)", "name": "js.png"},
            {"type": "file", "url": "https://cdn.example.com/bill.pdf", "name": "bill.pdf"},
            {"type": "image", "url": "data:image/svg+xml,<svg onload=alert(1)>", "name": "svg"},
        ]
        db.session.commit()
    login(client, people.agent_a.email)
    page = client.get(f"/conversations/{got.conversation_id}").get_data(as_text=True)
    assert page.count("<img ") == 1
    assert '<img src="https://cdn.example.com/p.jpg" alt="&lt;script&gt;alert(1)&lt;/script&gt;' in page
    assert 'loading="lazy"' in page
    assert '<a href="https://cdn.example.com/bill.pdf" rel="noopener noreferrer"' in page
    assert 'href="javascript:' not in page and 'src="javascript:' not in page and 'src="data:' not in page
    assert "<script>alert(1)" not in page and "<img src=x" not in page


def test_customer_strings_are_text_everywhere_on_the_screen(app, client, people):
    got = receive(app, people.channel_a.id, author=HOSTILE[:60], name=HOSTILE, text=HOSTILE)
    login(client, people.agent_a.email)
    post(client, f"/conversations/{got.conversation_id}/notes", {"text": HOSTILE})
    post(client, f"/conversations/{got.conversation_id}/tags", {"name": "<b>vip</b>"})
    page = client.get(f"/conversations/{got.conversation_id}").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "<img src=x" not in page and "<b>vip" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;\u202eevil" in page
    assert "<bdi>&lt;script&gt;" in page  # the name isolated for bidi (the U+202E stays inside)
    fragment = client.get(f"/conversations/{got.conversation_id}/timeline").get_data(as_text=True)
    assert "Tag added: &lt;b&gt;vip&lt;/b&gt;" in fragment and "<b>" not in fragment


def test_tags_are_added_and_removed_with_events_and_live_updates(app, people):
    got = receive(app, people.channel_a.id)
    http = app.test_client()
    login(http, people.agent_a.email)
    sock = socketio.test_client(app, flask_test_client=http)
    sock.get_received()
    added = post(http, f"/conversations/{got.conversation_id}/tags", {"name": "  VIP  customer "},
                 headers={"Accept": "application/json"})
    assert added.json == {"conversation_id": got.conversation_id, "tags": ["vip customer"]}
    post(http, f"/conversations/{got.conversation_id}/tags", {"name": "vip customer"})  # twice: once
    removed = post(http, f"/conversations/{got.conversation_id}/tags/remove", {"name": "vip customer"},
                   headers={"Accept": "application/json"})
    assert removed.json["tags"] == []
    live = [p["args"][0]["tags"] for p in sock.get_received() if p["name"] == "conversation_tags_changed"]
    assert live == [["vip customer"], []]
    bad = post(http, f"/conversations/{got.conversation_id}/tags", {"name": "a,b"},
               headers={"Accept": "application/json"})
    assert bad.status_code == 422
    with app.app_context():
        kinds = db.session.scalars(select(ConversationEvent.kind).where(
            ConversationEvent.kind.like("tag_%")).order_by(ConversationEvent.id)).all()
        assert kinds == ["tag_added", "tag_removed"]


def test_another_teams_conversation_cannot_be_tagged(app, client, people):
    theirs = receive(app, people.channel_b.id, author="b-1")
    login(client, people.agent_a.email)
    assert post(client, f"/conversations/{theirs.conversation_id}/tags", {"name": "x"}).status_code == 404
    assert client.get(f"/conversations/{theirs.conversation_id}/timeline").status_code == 404


def test_the_timeline_tells_who_did_what_in_the_readers_language(app, client, people):
    got = receive(app, people.channel_a.id, author="a-1")
    login(client, people.agent_a.email)
    post(client, f"/conversations/{got.conversation_id}/claim")
    post(client, f"/conversations/{got.conversation_id}/status", {"status": "pending"})
    post(client, f"/conversations/{got.conversation_id}/notes", {"text": "@supervisor look"})
    post(client, f"/conversations/{got.conversation_id}/priority", {"priority": "1"})
    events = client.get(f"/conversations/{got.conversation_id}/timeline").get_data(as_text=True)
    for sentence in ("Conversation opened", "agent.a claimed the conversation", "Status changed to Pending",
                     "Note added, mentioning supervisor"):
        assert sentence in events
    page = client.get(f"/conversations/{got.conversation_id}").get_data(as_text=True)
    assert 'data-testid="chip-priority" title="Priority">Urgent' in page
    post(client, "/language", {"language": "ar", "next": "/"})
    arabic = client.get(f"/conversations/{got.conversation_id}/timeline").get_data(as_text=True)
    assert "Status changed to" not in arabic


def test_x_counts_like_x_urls_23_and_emoji_2():
    assert x_weighted("a" * 10 + " https://example.com/" + "x" * 80) == 11 + 23
    assert x_weighted("مرحبا") == 5 and x_weighted("👍") == 2 and x_weighted("e\u0301") == 1  # NFC: é


def test_a_public_x_reply_over_280_is_refused_and_a_dm_is_not(app, client, people, monkeypatch):
    monkeypatch.setattr(conversations, "enqueue", lambda *args: None)  # stored is enough: no X to send to
    with app.app_context():
        team = db.session.get(Channel, people.channel_a.id).team
        x = Channel(platform="twitter", name="X", team=team, status="paused", settings={"account_id": "1"})
        db.session.add(x)
        db.session.commit()
        x_id = x.id
    public = receive(app, x_id, author="a-9", text="@operator no signal", public=True)
    private = receive(app, x_id, author="a-8", text="dm: no signal")
    login(client, people.agent_a.email)
    page = client.get(f"/conversations/{public.conversation_id}").get_data(as_text=True)
    assert 'data-limit="280" data-counting="x_weighted"' in page and 'data-testid="reply-counter"' in page
    long = "ok " * 94  # 282 characters, 281 once trimmed
    refused = post(client, f"/conversations/{public.conversation_id}/reply", {"text": long},
                   headers={"Accept": "application/json"})
    assert refused.status_code == 422 and "280" in refused.json["error"]
    url_reply = "We fixed it, details: https://example.com/" + "x" * 300
    assert post(client, f"/conversations/{public.conversation_id}/reply", {"text": url_reply},
                headers={"Accept": "application/json"}).status_code == 201
    assert post(client, f"/conversations/{private.conversation_id}/reply", {"text": long},
                headers={"Accept": "application/json"}).status_code == 201
    with app.app_context():
        assert db.session.get(Conversation, private.conversation_id).is_public is False
