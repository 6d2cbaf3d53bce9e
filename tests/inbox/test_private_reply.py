"""An agent answers a public Facebook or Instagram comment privately (Messenger / Instagram
DM, Meta's private reply): offered only where the platform allows it, sent to the comment,
shown as private, one per comment and within 7 days. Comments arrive through the signed
webhook; replies reach a fake Graph API on 127.0.0.1 over real HTTP."""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from inbox.extensions import db
from inbox.models import Conversation, Message, User
from inbox.models.base import utcnow
from inbox.services import channels
from tests import factories
from tests.conftest import jobs, login, post
from tests.fakes.server import FakePlatform

APP_SECRET = "meta-app-secret"
PAGE, POST = "104857362910458", "104857362910458_122150098765432101"
FAISAL, FAISAL_COMMENT = "3391827465019283", "122150098765432101_5464148998447030"
SECOND_COMMENT = "122150098765432101_5464148998447999"
IG, MEDIA, REEM, REEM_COMMENT = "17841405822304914", "17985436021457321", "17841452098374615", "17969460807260342"
JSON = {"Accept": "application/json"}
ALREADY_REPLIED = {"error": {"message": "(#10900) Activity already replied to", "type": "OAuthException",
                             "code": 10900, "fbtrace_id": "AXk2mZ0pQ"}}


@pytest.fixture
def fake():
    with FakePlatform() as server:
        yield server


def meta_channel(app, people, fake, platform: str, account: str) -> int:
    with app.app_context():
        admin = db.session.get(User, people.admin.id)
        return channels.save_channel(admin, None, platform, platform.title(), "Team A", {
            "account_id": account, "graph_base": fake.url, "access_token": f"{platform}-token",
            "app_secret": APP_SECRET, "verify_token": "verify-me", "timeout": "2"}).id


def deliver_webhook(app, client, platform: str, channel_id: int, body: dict) -> None:
    raw = json.dumps(body, separators=(",", ":")).encode()
    signature = hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    headers = {"X-Hub-Signature-256": f"sha256={signature}", "Content-Type": "application/json"}
    assert client.post(f"/webhooks/{platform}/{channel_id}", data=raw, headers=headers).status_code == 200
    jobs(app).drain()


def facebook_comment(comment_id: str = FAISAL_COMMENT, parent: str = POST,
                     text: str = "ليش العرض ما يشمل الباقات المفوترة؟") -> dict:
    value = {"from": {"id": FAISAL, "name": "Faisal"}, "post_id": POST, "comment_id": comment_id,
             "created_time": 1718107841, "item": "comment", "parent_id": parent, "verb": "add", "message": text}
    changes = [{"field": "feed", "value": value}]
    return {"object": "page", "entry": [{"id": PAGE, "time": 1718107841, "changes": changes}]}


def instagram_comment() -> dict:
    value = {"from": {"id": REEM, "username": "reem.travels"}, "media": {"id": MEDIA, "media_product_type": "FEED"},
             "id": REEM_COMMENT, "text": "هل العرض يشمل eSIM؟"}
    changes = [{"field": "comments", "value": value}]
    return {"object": "instagram", "entry": [{"id": IG, "time": 1718112011, "changes": changes}]}


def facebook_dm() -> dict:
    item = {"sender": {"id": FAISAL}, "recipient": {"id": PAGE}, "timestamp": 1718103723417,
            "message": {"mid": "m_dm_1", "text": "الشريحة ما بتشتغل"}}
    return {"object": "page", "entry": [{"id": PAGE, "time": 1718103723708, "messaging": [item]}]}


def only_conversation(app, channel_id: int, agent_id: int) -> int:
    """The channel's one conversation, given to the agent (routing is not what is tested)."""
    with app.app_context():
        conversation = db.session.scalars(select(Conversation).where(Conversation.channel_id == channel_id)).one()
        conversation.assignee_id = agent_id
        db.session.commit()
        return conversation.id


def outbound(app) -> list[Message]:
    with app.app_context():
        rows = db.session.scalars(select(Message).where(Message.direction == "out").order_by(Message.id)).all()
        db.session.expunge_all()
        return rows


@pytest.fixture
def facebook(app, client, people, fake):
    """A Facebook Page with Faisal's comment on a post, and agent A signed in: (channel, conversation)."""
    channel_id = meta_channel(app, people, fake, "facebook", PAGE)
    deliver_webhook(app, client, "facebook", channel_id, facebook_comment())
    conversation_id = only_conversation(app, channel_id, people.agent_a.id)
    login(client, people.agent_a.email)
    return channel_id, conversation_id


def test_a_private_reply_to_a_facebook_comment_goes_to_messenger(app, client, fake, facebook):
    channel_id, conversation_id = facebook
    fake.reply("POST", f"/{FAISAL_COMMENT}/comments", json={"id": "122150098765432101_1111"})
    fake.reply("POST", f"/{PAGE}/messages", json={"recipient_id": FAISAL, "message_id": "m_private_1"})
    page = client.get(f"/conversations/{conversation_id}").get_data(as_text=True)
    assert 'data-testid="reply-private"' in page and "Reply privately (Messenger)" in page

    public = post(client, f"/conversations/{conversation_id}/reply", {"text": "تفاصيل العرض على صفحتنا"}, headers=JSON)
    private = post(client, f"/conversations/{conversation_id}/reply",
                   {"text": "أهلاً فيصل، نرسل لك التفاصيل هنا", "private": "1"}, headers=JSON)
    assert public.status_code == private.status_code == 201
    assert public.json["is_public"] is True and private.json["is_public"] is False
    jobs(app).drain()

    assert [r.json for r in fake.requests_to(f"/{FAISAL_COMMENT}/comments")] == [{"message": "تفاصيل العرض على صفحتنا"}]
    (sent,) = fake.requests_to(f"/{PAGE}/messages")
    assert sent.json == {"recipient": {"comment_id": FAISAL_COMMENT},
                         "message": {"text": "أهلاً فيصل، نرسل لك التفاصيل هنا"}}
    stored = {m.id: m for m in outbound(app)}[private.json["id"]]
    assert (stored.is_public, stored.parent_external_id, stored.state, stored.external_id) == (
        False, FAISAL_COMMENT, "sent", "m_private_1")
    with app.app_context():
        assert db.session.get(Conversation, conversation_id).is_public is True  # still the public thread

    page = client.get(f"/conversations/{conversation_id}").get_data(as_text=True)
    assert page.count('data-field="private"') == 1  # the private reply is marked, the public one is not
    assert 'data-testid="reply-private"' not in page and "already sent for this comment" in page


def test_a_private_reply_to_an_instagram_comment_goes_to_the_dm(app, client, people, fake):
    channel_id = meta_channel(app, people, fake, "instagram", IG)
    deliver_webhook(app, client, "instagram", channel_id, instagram_comment())
    conversation_id = only_conversation(app, channel_id, people.agent_a.id)
    fake.reply("POST", f"/{IG}/messages", json={"recipient_id": REEM, "message_id": "aWdfZAG1faXRlbToxOklHTWVzc2"})
    login(client, people.agent_a.email)
    page = client.get(f"/conversations/{conversation_id}").get_data(as_text=True)
    assert "Reply privately (Instagram DM)" in page

    response = post(client, f"/conversations/{conversation_id}/reply",
                    {"text": "نعم، العرض يشمل eSIM", "private": "1"}, headers=JSON)
    assert response.status_code == 201
    jobs(app).drain()
    (sent,) = fake.requests
    assert sent.path == f"/{IG}/messages"
    assert sent.json == {"recipient": {"comment_id": REEM_COMMENT}, "message": {"text": "نعم، العرض يشمل eSIM"}}
    (stored,) = outbound(app)
    assert (stored.is_public, stored.parent_external_id, stored.state) == (False, REEM_COMMENT, "sent")


def test_no_private_reply_in_a_messenger_conversation(app, client, people, fake):
    channel_id = meta_channel(app, people, fake, "facebook", PAGE)
    deliver_webhook(app, client, "facebook", channel_id, facebook_dm())
    conversation_id = only_conversation(app, channel_id, people.agent_a.id)
    login(client, people.agent_a.email)
    assert 'name="private"' not in client.get(f"/conversations/{conversation_id}").get_data(as_text=True)
    refused = post(client, f"/conversations/{conversation_id}/reply", {"text": "أهلاً", "private": "1"}, headers=JSON)
    assert refused.status_code == 422 and "already private" in refused.json["error"]
    assert outbound(app) == [] and fake.requests == []


def test_no_private_reply_where_the_platform_has_none(app, client, people):
    with app.app_context():
        got = factories.receive(people.channel_a.id, public=True, text="the offer page is broken")
    login(client, people.agent_a.email)
    page = client.get(f"/conversations/{got.conversation_id}").get_data(as_text=True)
    assert 'name="private"' not in page and "Reply privately" not in page
    refused = post(client, f"/conversations/{got.conversation_id}/reply", {"text": "hi", "private": "1"}, headers=JSON)
    assert refused.status_code == 422 and "does not offer private replies" in refused.json["error"]
    form = post(client, f"/conversations/{got.conversation_id}/reply", {"text": "hi", "private": "1"})
    assert form.status_code == 303  # the form gets the reason as a flash, back on the conversation
    assert "does not offer private replies" in client.get(form.headers["Location"]).get_data(as_text=True)
    assert outbound(app) == []


def test_one_private_reply_per_comment(app, client, people, fake, facebook):
    channel_id, conversation_id = facebook
    fake.reply("POST", f"/{PAGE}/messages", json={"recipient_id": FAISAL, "message_id": "m_private_1"})
    first = post(client, f"/conversations/{conversation_id}/reply", {"text": "تفضل هنا", "private": "1"}, headers=JSON)
    assert first.status_code == 201
    second = post(client, f"/conversations/{conversation_id}/reply", {"text": "ومرة ثانية", "private": "1"},
                  headers=JSON)
    assert second.status_code == 422 and "already sent for this comment" in second.json["error"]
    jobs(app).drain()
    assert len(fake.requests_to(f"/{PAGE}/messages")) == 1 and len(outbound(app)) == 1

    # Faisal comments again under his comment: that new comment may be answered privately once.
    deliver_webhook(app, client, "facebook", channel_id, facebook_comment(SECOND_COMMENT, FAISAL_COMMENT, "وينكم؟"))
    assert 'name="private"' in client.get(f"/conversations/{conversation_id}").get_data(as_text=True)
    fake.reply("POST", f"/{PAGE}/messages", json={"recipient_id": FAISAL, "message_id": "m_private_2"})
    third = post(client, f"/conversations/{conversation_id}/reply", {"text": "رديت عليك", "private": "1"}, headers=JSON)
    assert third.status_code == 201
    jobs(app).drain()
    assert [r.json["recipient"] for r in fake.requests_to(f"/{PAGE}/messages")] == [
        {"comment_id": FAISAL_COMMENT}, {"comment_id": SECOND_COMMENT}]


def test_metas_already_replied_shows_as_a_failed_message(app, client, people, fake, facebook):
    channel_id, conversation_id = facebook
    fake.reply("POST", f"/{PAGE}/messages", status=400, json=ALREADY_REPLIED)
    response = post(client, f"/conversations/{conversation_id}/reply", {"text": "تفضل", "private": "1"}, headers=JSON)
    assert response.status_code == 201
    jobs(app).drain()
    (failed,) = outbound(app)
    assert failed.state == "failed" and "already has a private reply" in failed.error
    assert len(fake.requests_to(f"/{PAGE}/messages")) == 1  # not retried: Meta will not change its mind
    thread = client.get(f"/api/conversations/{conversation_id}").json["messages"]
    assert [(m["is_public"], m["state"]) for m in thread if m["direction"] == "out"] == [(False, "failed")]
    assert "already has a private reply" in client.get(f"/conversations/{conversation_id}").get_data(as_text=True)
    with app.app_context():
        assert channels.get_channel(channel_id).status == "active"  # nothing wrong with the channel


def test_a_retried_private_reply_still_answers_its_own_comment(app, client, fake, facebook):
    channel_id, conversation_id = facebook
    fake.reply("POST", f"/{PAGE}/messages", status=400,
               json={"error": {"message": "(#100) Invalid parameter", "type": "OAuthException", "code": 100}})
    fake.reply("POST", f"/{PAGE}/messages", json={"recipient_id": FAISAL, "message_id": "m_private_1"})
    failed = post(client, f"/conversations/{conversation_id}/reply", {"text": "تفضل", "private": "1"}, headers=JSON)
    jobs(app).drain()
    assert [m.state for m in outbound(app)] == ["failed"]
    deliver_webhook(app, client, "facebook", channel_id, facebook_comment(SECOND_COMMENT, FAISAL_COMMENT, "وينكم؟"))
    assert post(client, f"/messages/{failed.json['id']}/retry", headers=JSON).status_code == 200
    jobs(app).drain()
    assert [r.json["recipient"] for r in fake.requests_to(f"/{PAGE}/messages")] == [
        {"comment_id": FAISAL_COMMENT}, {"comment_id": FAISAL_COMMENT}]  # not the newer comment
    assert [m.state for m in outbound(app)] == ["sent"]


def test_a_comment_older_than_seven_days_cannot_be_answered_privately(app, client, fake, facebook):
    _, conversation_id = facebook
    fake.reply("POST", f"/{FAISAL_COMMENT}/comments", json={"id": "122150098765432101_2222"})
    with app.app_context():
        comment = db.session.scalars(select(Message).where(Message.external_id == FAISAL_COMMENT)).one()
        conversation = db.session.get(Conversation, conversation_id)
        comment.created_at = conversation.last_customer_message_at = utcnow() - timedelta(days=6)
        db.session.commit()
    page = client.get(f"/conversations/{conversation_id}").get_data(as_text=True)
    assert 'name="private"' in page  # six days: allowed, whatever the 24 hours of Messenger say
    assert 'data-testid="window-closed"' not in page  # a comment's public reply has no 24-hour window

    with app.app_context():
        db.session.execute(Message.__table__.update().where(Message.external_id == FAISAL_COMMENT)
                           .values(created_at=utcnow() - timedelta(days=8)))
        db.session.commit()
    page = client.get(f"/conversations/{conversation_id}").get_data(as_text=True)
    assert 'name="private"' not in page and "more than 7 days old" in page
    refused = post(client, f"/conversations/{conversation_id}/reply", {"text": "تفضل", "private": "1"}, headers=JSON)
    assert refused.status_code == 422 and "more than 7 days old" in refused.json["error"]
    public = post(client, f"/conversations/{conversation_id}/reply", {"text": "تفضل"}, headers=JSON)
    assert public.status_code == 201  # answering in public is still possible
    jobs(app).drain()
    assert fake.requests_to(f"/{PAGE}/messages") == [] and len(fake.requests_to(f"/{FAISAL_COMMENT}/comments")) == 1


def test_the_option_and_its_reasons_speak_arabic(app, client, people, fake):
    channel_id = meta_channel(app, people, fake, "facebook", PAGE)
    deliver_webhook(app, client, "facebook", channel_id, facebook_comment())
    with app.app_context():
        arabic = factories.user("arabic@example.com", teams=("Team A",), language="ar")
        arabic_id = arabic.id
    conversation_id = only_conversation(app, channel_id, arabic_id)
    login(client, "arabic@example.com")
    assert "الرد بشكل خاص (ماسنجر)" in client.get(f"/conversations/{conversation_id}").get_data(as_text=True)
    fake.reply("POST", f"/{PAGE}/messages", json={"recipient_id": FAISAL, "message_id": "m_private_1"})
    assert post(client, f"/conversations/{conversation_id}/reply", {"text": "تفضل", "private": "1"},
                headers=JSON).status_code == 201
    jobs(app).drain()
    again = post(client, f"/conversations/{conversation_id}/reply", {"text": "تفضل", "private": "1"}, headers=JSON)
    assert again.status_code == 422 and "أُرسل رد خاص على هذا التعليق من قبل" in again.json["error"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Message).where(Message.direction == "out")) == 1
