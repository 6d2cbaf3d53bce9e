"""A Facebook Page end to end: Meta's handshake, signed batched deliveries, our own replies
echoed back, and delivery/read receipts, against a fake Graph API on 127.0.0.1."""
import hashlib
import hmac
import json

import pytest
from sqlalchemy import select

from inbox.extensions import db
from inbox.models import Message, User
from inbox.services import channels
from tests.conftest import jobs, login, post
from tests.fakes.server import FakePlatform

PAGE = "104857362910458"
APP_SECRET = "meta-app-secret"
VERIFY = "verify-token-123"


@pytest.fixture
def fake():
    with FakePlatform() as server:
        yield server


@pytest.fixture
def page(app, people, fake):
    with app.app_context():
        admin = db.session.get(User, people.admin.id)
        return channels.save_channel(admin, None, "facebook", "Page", "Team A", {
            "account_id": PAGE, "graph_base": fake.url, "access_token": "page-token",
            "app_secret": APP_SECRET, "verify_token": VERIFY, "timeout": "2"}).id


def signed(body: dict) -> tuple[bytes, dict]:
    raw = json.dumps(body, separators=(",", ":")).encode()  # compact, non-ASCII escaped: as Meta sends
    signature = hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"X-Hub-Signature-256": f"sha256={signature}", "Content-Type": "application/json"}


def messenger(*items) -> dict:
    return {"object": "page", "entry": [{"id": PAGE, "time": 1718103723708, "messaging": [item]} for item in items]}


def dm(mid: str, text: str, psid: str = "7214583069123456") -> dict:
    return {"sender": {"id": psid}, "recipient": {"id": PAGE}, "timestamp": 1718103723417,
            "message": {"mid": mid, "text": text}}


def test_the_subscription_handshake(client, page):
    ok = client.get(f"/webhooks/facebook/{page}?hub.mode=subscribe&hub.verify_token={VERIFY}&hub.challenge=1158201444")
    assert ok.status_code == 200 and ok.get_data(as_text=True) == "1158201444" and ok.mimetype == "text/plain"
    wrong = client.get(f"/webhooks/facebook/{page}?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1")
    assert wrong.status_code == 403


def test_signature_over_the_raw_bytes(client, page):
    raw, headers = signed(messenger(dm("m_1", "السلام عليكم")))
    reserialised = json.dumps(json.loads(raw), ensure_ascii=False).encode()
    assert client.post(f"/webhooks/facebook/{page}", data=reserialised, headers=headers).status_code == 401
    sha1 = {"X-Hub-Signature": "sha1=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha1).hexdigest()}
    assert client.post(f"/webhooks/facebook/{page}", data=raw, headers=sha1).status_code == 401
    assert client.post(f"/webhooks/facebook/{page}", data=raw, headers=headers).status_code == 200


def test_a_batched_delivery_and_its_replay_store_each_message_once(app, client, page):
    body = messenger(*(dm(f"m_{n}", f"رسالة رقم {n}", psid=f"psid-{n % 3}") for n in range(30)))
    raw, headers = signed(body)
    assert client.post(f"/webhooks/facebook/{page}", data=raw, headers=headers).json["stored"] == 30
    assert client.post(f"/webhooks/facebook/{page}", data=raw, headers=headers).json["duplicates"] == 30
    jobs(app).drain()
    with app.app_context():
        messages = db.session.scalars(select(Message)).all()
        assert len(messages) == 30 and len({m.conversation_id for m in messages}) == 3


def test_our_reply_its_echo_and_its_receipts(app, client, people, page, fake):
    raw, headers = signed(messenger(dm("m_in", "الشريحة ما بتشتغل")))
    client.post(f"/webhooks/facebook/{page}", data=raw, headers=headers)
    jobs(app).drain()
    with app.app_context():
        conversation_id = db.session.scalars(select(Message.conversation_id)).one()
    fake.reply("POST", "/me/messages", json={"recipient_id": "7214583069123456", "message_id": "m_out"})
    login(client, people.agent_a.email)
    reply = post(client, f"/conversations/{conversation_id}/reply", {"text": "أهلا، جرب إعادة التشغيل"},
                 headers={"Accept": "application/json"}).json
    jobs(app).drain()
    sent = fake.requests_to("/me/messages")[0].json
    assert sent["recipient"] == {"id": "7214583069123456"} and sent["message"]["text"] == "أهلا، جرب إعادة التشغيل"

    echo = {"sender": {"id": PAGE}, "recipient": {"id": "7214583069123456"}, "timestamp": 1718103725000,
            "message": {"mid": "m_out", "is_echo": True, "app_id": 1, "text": "أهلا، جرب إعادة التشغيل"}}
    read = {"sender": {"id": "7214583069123456"}, "recipient": {"id": PAGE}, "timestamp": 1718103800000,
            "read": {"watermark": 4102444800000}}
    for item in (echo, read):
        raw, headers = signed(messenger(item))
        assert client.post(f"/webhooks/facebook/{page}", data=raw, headers=headers).status_code == 200
    jobs(app).drain()
    with app.app_context():
        outbound = db.session.scalars(select(Message).where(Message.direction == "out")).all()
        assert len(outbound) == 1  # the echo of our own reply is not a second message
        assert outbound[0].id == reply["id"] and outbound[0].state == "read" and outbound[0].read_at
        assert db.session.scalars(select(Message).where(Message.direction == "in")).one().text == "الشريحة ما بتشتغل"
