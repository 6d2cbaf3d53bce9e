"""X's public-to-private hand-off: the agent answers a mention with a short public post and a DM
in one action; the DM continues in the customer's private conversation, where their answer by
DM lands. Mentions and DMs are polled from, and replies sent to, a fake X API on 127.0.0.1."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from inbox.extensions import db, socketio
from inbox.models import Channel, Conversation, ConversationEvent, Message, User
from inbox.services import channels, polling
from tests import factories
from tests.conftest import jobs, login, post
from tests.fakes import twitter as x
from tests.fakes.server import FakePlatform

JSON = {"Accept": "application/json"}
SAMI, SAMI_MENTION = "1634098712345671680", "1800427508465613493"
SAMI_USER = x.user(SAMI, "sami_jo", "Sami")
MENTION_TEXT = "@operator النت عندي مقطوع من الصبح"
DM_TEXT = "أهلاً سامي، ممكن ترسل لنا رقم الخط لنفحصه؟"
PUBLIC_TEXT = "راسلناك على الخاص 🙏"


@pytest.fixture
def fake():
    with FakePlatform() as server:
        yield server


def poll(app, fake, mentions=(), dms=()) -> None:
    fake.reply("GET", x.MENTIONS, json=x.mentions_page(list(mentions), [SAMI_USER]))
    fake.reply("GET", x.DM_EVENTS, json=x.dm_page(list(dms), [SAMI_USER]))
    with app.app_context():
        channel_id = db.session.scalar(select(Channel.id).where(Channel.platform == "twitter"))
        polling.poll_channel(channel_id)
    jobs(app).drain()


@pytest.fixture
def mention(app, client, people, fake):
    """An X channel with Sami's mention, held by agent A, who is signed in: (channel, conversation)."""
    with app.app_context():
        admin = db.session.get(User, people.admin.id)
        channel_id = channels.save_channel(admin, None, "twitter", "X", "Team A", {
            "account_id": x.ACCOUNT, "bearer_token": "x-token", "api_base": fake.url, "timeout": "2"}).id
    poll(app, fake, mentions=[x.mention(SAMI_MENTION, SAMI, MENTION_TEXT)])
    with app.app_context():
        conversation = db.session.scalars(select(Conversation).where(Conversation.channel_id == channel_id)).one()
        conversation.assignee_id = people.agent_a.id
        db.session.commit()
        conversation_id = conversation.id
    login(client, people.agent_a.email)
    return channel_id, conversation_id


def hand_off(client, conversation_id, public=PUBLIC_TEXT, private=DM_TEXT, **extra):
    return post(client, f"/conversations/{conversation_id}/handoff",
                {"public_text": public, "private_text": private, **extra}, headers=JSON)


def outbound(app) -> dict[int, Message]:
    with app.app_context():
        rows = db.session.scalars(select(Message).where(Message.direction == "out")).all()
        db.session.expunge_all()
        return {m.id: m for m in rows}


def events(app, conversation_id) -> list[tuple[str, dict]]:
    with app.app_context():
        return [(e.kind, e.data or {}) for e in db.session.scalars(select(ConversationEvent).where(
            ConversationEvent.conversation_id == conversation_id).order_by(ConversationEvent.id))]


def test_a_mention_is_answered_publicly_and_continued_in_a_new_dm(app, client, people, fake, mention):
    channel_id, public_id = mention
    page = client.get(f"/conversations/{public_id}").get_data(as_text=True)
    assert 'data-testid="handoff-form"' in page and "Answer publicly and continue in DM" in page
    assert PUBLIC_TEXT in page  # the suggested answer, in the customer's language
    x.accept_posts(fake, "1800430000000000001")
    x.accept_dms(fake, SAMI, "1800459213208842713")

    response = hand_off(client, public_id)
    assert response.status_code == 201
    dm_id = response.json["dm_conversation_id"]
    assert dm_id != public_id and response.json["dm_url"] == f"/conversations/{dm_id}"
    assert response.json["public"]["state"] == response.json["private"]["state"] == "queued"
    jobs(app).drain()

    (post_request,) = fake.requests_to(x.TWEETS)
    assert post_request.json == {"text": PUBLIC_TEXT, "reply": {"in_reply_to_tweet_id": SAMI_MENTION}}
    (dm_request,) = fake.requests_to(x.dm_path(SAMI))
    assert dm_request.json == {"text": DM_TEXT}
    sent = outbound(app)
    public, private = sent[response.json["public"]["id"]], sent[response.json["private"]["id"]]
    assert (public.conversation_id, public.is_public, public.state, public.external_id) == (
        public_id, True, "sent", "1800430000000000001")
    assert (private.conversation_id, private.is_public, private.state, private.external_id) == (
        dm_id, False, "sent", "1800459213208842713")
    with app.app_context():
        dm = db.session.get(Conversation, dm_id)
        source = db.session.get(Conversation, public_id)
        assert (dm.is_public, dm.channel_id, dm.customer_id, dm.assignee_id, dm.team_id, dm.status) == (
            False, channel_id, source.customer_id, people.agent_a.id, source.team_id, "open")
    assert ("handed_off_to_dm", {"conversation_id": dm_id, "new": True}) in events(app, public_id)
    assert ("continued_from_public", {"conversation_id": public_id}) in events(app, dm_id)
    timeline = client.get(f"/conversations/{public_id}/timeline").get_data(as_text=True)
    assert "continued in a new DM conversation" in timeline and f'href="/conversations/{dm_id}"' in timeline
    dm_timeline = client.get(f"/conversations/{dm_id}/timeline").get_data(as_text=True)
    assert "public X mention" in dm_timeline and f'href="/conversations/{public_id}"' in dm_timeline

    # Sami answers by DM; the poll also brings back our own DM (an echo): both join the DM conversation.
    poll(app, fake, dms=[x.dm("1800459999999999999", SAMI, x.ACCOUNT, "0791234567", "2026-11-27T09:40:00.000Z"),
                         x.dm("1800459213208842713", x.ACCOUNT, SAMI, DM_TEXT)])
    with app.app_context():
        answer = db.session.scalars(select(Message).where(Message.external_id == "1800459999999999999")).one()
        assert answer.conversation_id == dm_id and answer.direction == "in"
        assert db.session.scalar(select(db.func.count(Message.id)).where(Message.conversation_id == dm_id)) == 2
        assert db.session.scalar(select(db.func.count(Conversation.id))) == 2  # nothing else opened


def test_the_customers_open_dm_conversation_is_continued(app, client, people, fake, mention):
    channel_id, public_id = mention
    poll(app, fake, dms=[x.dm("1800450000000000001", SAMI, x.ACCOUNT, "مرحبا، عندي سؤال")])
    with app.app_context():
        existing = db.session.scalars(select(Conversation).where(Conversation.is_public.is_(False))).one()
        existing_id = existing.id
    x.accept_posts(fake, "1800430000000000002")
    x.accept_dms(fake, SAMI, "1800459213208842999")
    response = hand_off(client, public_id)
    assert response.status_code == 201 and response.json["dm_conversation_id"] == existing_id
    jobs(app).drain()
    assert ("handed_off_to_dm", {"conversation_id": existing_id, "new": False}) in events(app, public_id)
    # The DM to an existing 1:1 conversation still goes to the participant.
    assert [r.json for r in fake.requests_to(x.dm_path(SAMI))] == [{"text": DM_TEXT}]
    with app.app_context():
        assert db.session.scalar(select(db.func.count(Conversation.id))) == 2


def test_x_refusing_the_dm_fails_it_with_the_reason_and_the_public_reply_still_goes(app, client, people, fake,
                                                                                  mention):
    _channel_id, public_id = mention
    x.accept_posts(fake, "1800430000000000003")
    x.refuse_dms(fake, SAMI)
    http = app.test_client()
    login(http, people.agent_a.email)
    sock = socketio.test_client(app, flask_test_client=http)
    sock.get_received()

    response = hand_off(client, public_id)
    assert response.status_code == 201
    jobs(app).drain()
    sent = outbound(app)
    public, private = sent[response.json["public"]["id"]], sent[response.json["private"]["id"]]
    assert public.state == "sent"
    assert private.state == "failed" and "You cannot send messages to this user" in private.error
    with app.app_context():
        assert db.session.get(Channel, public.channel_id).status == "active"  # not a token problem
    # The agent sees it fail live, and on the DM conversation's page with the reason and a retry button.
    updates = [m for p in sock.get_received() if p["name"] == "message_updated" for m in [p["args"][0]]
               if m["id"] == private.id]
    assert updates and updates[-1]["state"] == "failed"
    page = client.get(f"/conversations/{private.conversation_id}").get_data(as_text=True)
    assert "You cannot send messages to this user" in page and f'/messages/{private.id}/retry' in page


def test_the_hand_off_is_only_for_public_x_conversations(app, client, people, fake, mention):
    _channel_id, public_id = mention
    poll(app, fake, dms=[x.dm("1800450000000000002", SAMI, x.ACCOUNT, "مرحبا")])
    with app.app_context():
        dm_id = db.session.scalar(select(Conversation.id).where(Conversation.is_public.is_(False)))
    assert 'data-testid="handoff-form"' not in client.get(f"/conversations/{dm_id}").get_data(as_text=True)
    refused = hand_off(client, dm_id)
    assert refused.status_code == 422 and "public X conversation" in refused.json["error"]
    with app.app_context():
        demo = factories.receive(people.channel_a.id, public=True, text="the offer page is broken").conversation_id
    assert 'data-testid="handoff-form"' not in client.get(f"/conversations/{demo}").get_data(as_text=True)
    assert hand_off(client, demo).status_code == 422
    other = app.test_client()
    login(other, people.agent_b.email)  # another team's agent: no such conversation
    assert hand_off(other, public_id).status_code == 404
    assert outbound(app) == {} and fake.requests_to(x.TWEETS) == []


def test_texts_are_checked_before_anything_is_stored(app, client, people, fake, mention):
    _channel_id, public_id = mention
    too_long = hand_off(client, public_id, public="ok " * 94)  # 281 of X's 280
    assert too_long.status_code == 422 and "public reply" in too_long.json["error"] and "280" in too_long.json["error"]
    empty = hand_off(client, public_id, private="   ")
    assert empty.status_code == 422 and "DM" in empty.json["error"]
    form = post(client, f"/conversations/{public_id}/handoff", {"public_text": "", "private_text": DM_TEXT})
    assert form.status_code == 303 and form.headers["Location"].endswith(f"/conversations/{public_id}")
    assert outbound(app) == {}
    with app.app_context():
        assert db.session.scalar(select(db.func.count(Conversation.id))) == 1


def test_a_second_submit_of_the_same_form_sends_nothing_twice(app, client, people, fake, mention):
    _channel_id, public_id = mention
    x.accept_posts(fake, "1800430000000000004")
    x.accept_dms(fake, SAMI, "1800459213208842555")
    first = hand_off(client, public_id, client_token="form-1")
    again = hand_off(client, public_id, client_token="form-1")
    assert first.status_code == again.status_code == 201
    assert again.json["public"]["id"] == first.json["public"]["id"]
    assert again.json["private"]["id"] == first.json["private"]["id"]
    jobs(app).drain()
    assert len(outbound(app)) == 2 and len(fake.requests_to(x.TWEETS)) == 1


def test_without_javascript_the_form_leads_to_the_dm_conversation(app, client, people, fake, mention):
    _channel_id, public_id = mention
    x.accept_posts(fake, "1800430000000000005")
    x.accept_dms(fake, SAMI, "1800459213208842666")
    response = post(client, f"/conversations/{public_id}/handoff",
                    {"public_text": PUBLIC_TEXT, "private_text": DM_TEXT})
    assert response.status_code == 303
    jobs(app).drain()
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert DM_TEXT in page and "public X mention" in page


def test_a_hand_off_crossing_a_colleagues_reply_asks_first(app, client, people, fake, mention):
    _channel_id, public_id = mention
    with app.app_context():
        seen = db.session.scalar(select(db.func.max(Message.id)).where(Message.conversation_id == public_id))
        db.session.add(Message(conversation_id=public_id, channel_id=_channel_id, direction="out", text="on it",
                               is_public=True, state="sent", author_user_id=people.agent_b.id))
        db.session.commit()
    crossed = hand_off(client, public_id, last_seen_message_id=str(seen))
    assert crossed.status_code == 409 and crossed.json["crossing"]
    assert [m["text"] for m in crossed.json["messages"]] == ["on it"]
    assert len(outbound(app)) == 1  # nothing of ours was stored
    x.accept_posts(fake, "1800430000000000002")
    x.accept_dms(fake, SAMI, "1800459213208842714")
    sent = hand_off(client, public_id, last_seen_message_id=str(seen), confirm_crossing="1")
    assert sent.status_code == 201
    jobs(app).drain()
    assert {m.text: m.state for m in outbound(app).values()} == {"on it": "sent", PUBLIC_TEXT: "sent", DM_TEXT: "sent"}
