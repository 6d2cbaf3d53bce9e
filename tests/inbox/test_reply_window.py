"""WhatsApp's 24-hour window: outside it the agent is told so and offered the channel's
approved templates, instead of a send that would fail."""
import pytest
from sqlalchemy import select

from inbox.extensions import db
from inbox.models import Message
from tests.conftest import jobs, login, post
from tests.fakes.server import FakePlatform
from tests.inbox.platform_helpers import WA_PHONE_ID, whatsapp_conversation

SEND = rf"/{WA_PHONE_ID}/messages"
ACCEPTED = {"messaging_product": "whatsapp", "contacts": [{"input": "962790000000", "wa_id": "962790000000"}],
            "messages": [{"id": "wamid.OUT1"}]}


@pytest.fixture
def fake():
    with FakePlatform() as server:
        server.reply("POST", SEND, json=ACCEPTED)
        yield server


def test_inside_the_window_a_free_reply_is_sent(app, client, people, fake):
    conversation_id, _ = whatsapp_conversation(app, fake.url, hours_ago=2)
    login(client, people.agent_a.email)
    page = client.get(f"/conversations/{conversation_id}").get_data(as_text=True)
    assert 'data-testid="window-closed"' not in page
    response = post(client, f"/conversations/{conversation_id}/reply", {"text": "نعم، تفضل"},
                    headers={"Accept": "application/json"})
    assert response.status_code == 201
    jobs(app).drain()
    assert fake.requests_to(SEND)[0].json["text"]["body"] == "نعم، تفضل"


def test_outside_the_window_the_agent_is_offered_the_template(app, client, people, fake):
    conversation_id, _ = whatsapp_conversation(app, fake.url, hours_ago=30)
    login(client, people.agent_a.email)
    page = client.get(f"/conversations/{conversation_id}").get_data(as_text=True)
    assert 'data-testid="window-closed"' in page and 'value="follow_up"' in page
    refused = post(client, f"/conversations/{conversation_id}/reply", {"text": "hello?"},
                   headers={"Accept": "application/json"})
    assert refused.status_code == 422 and "approved templates" in refused.json["error"]
    assert fake.requests_to(SEND) == []  # no send that would fail
    sent = post(client, f"/conversations/{conversation_id}/reply", {"template": "follow_up"},
                headers={"Accept": "application/json"})
    assert sent.status_code == 201 and sent.json["template"] == "follow_up"
    jobs(app).drain()
    body = fake.requests_to(SEND)[0].json
    assert body["type"] == "template" and body["template"]["name"] == "follow_up"
    with app.app_context():
        assert db.session.scalars(select(Message).where(Message.direction == "out")).one().state == "sent"
    unknown = post(client, f"/conversations/{conversation_id}/reply", {"template": "made_up"},
                   headers={"Accept": "application/json"})
    assert unknown.status_code == 422
