"""Canned responses: admins keep them (shortcut, Arabic and English); agents find them by
shortcut or title and get them with the conversation's variables filled in, as text."""
from sqlalchemy import select

from inbox.extensions import db
from inbox.models import AuditLog, CannedResponse, Conversation
from tests import factories
from tests.conftest import login, post


def make(client, **fields):
    data = {"title": "Bill check", "shortcut": "bill", "text_ar": "أهلا {customer_name}، معك {agent_name}",
            "text_en": "Hi {customer_name}, {agent_name} here from {platform} ({ticket})", **fields}
    return post(client, "/admin/canned/save", data)


def test_an_admin_creates_edits_and_deletes_canned_responses(app, client, people):
    login(client, people.admin.email)
    assert make(client).status_code == 303
    page = client.get("/admin/canned").get_data(as_text=True)
    assert "/bill" in page and "Bill check" in page and "{customer_name}" in page
    with app.app_context():
        canned = db.session.scalar(select(CannedResponse))
        canned_id = canned.id
        assert (canned.shortcut, canned.text_en.startswith("Hi")) == ("bill", True)
        assert canned.text.startswith("أهلا")  # the Arabic version is what an auto-reply sends
    assert make(client, id=str(canned_id), title="Bill check (edited)", shortcut="/Bill2").status_code == 303
    taken = make(client, title="Another", shortcut="bill2")
    assert taken.status_code == 422 and "taken" in taken.get_data(as_text=True)
    assert make(client, title="", shortcut="x").status_code == 422
    assert make(client, title="Bad shortcut", shortcut="no spaces").status_code == 422
    with app.app_context():
        edited = db.session.get(CannedResponse, canned_id)
        assert (edited.title, edited.shortcut, edited.updated_at is not None) == ("Bill check (edited)", "bill2", True)
    assert post(client, f"/admin/canned/{canned_id}/delete").status_code == 303
    with app.app_context():
        assert db.session.get(CannedResponse, canned_id) is None
        actions = db.session.scalars(select(AuditLog.action).where(AuditLog.target_type == "canned_response")).all()
        assert actions == ["canned_response.created", "canned_response.updated", "canned_response.deleted"]


def test_agents_may_not_manage_canned_responses(client, people):
    login(client, people.agent_a.email)
    assert client.get("/admin/canned").status_code == 403
    assert make(client).status_code == 403


def test_an_agent_finds_a_canned_response_rendered_for_the_conversation(app, client, people):
    with app.app_context():
        got = factories.receive(people.channel_a.id, author="a-1", name="Lina {agent_name}", text="my bill")
        db.session.get(Conversation, got.conversation_id).language = "en"
        db.session.add_all([
            CannedResponse(title="Bill check", shortcut="bill", text="أهلا {customer_name}",
                           text_en="Hi {customer_name}, {agent_name} on {platform}, {ticket}. {0.__class__} {nope}"),
            CannedResponse(title="Roaming bundles", shortcut="roam", text="باقات التجوال", text_en=None),
        ])
        db.session.commit()
    login(client, people.agent_a.email)
    url = f"/api/canned?conversation_id={got.conversation_id}"
    found = client.get(url + "&q=/bil").json
    assert found["language"] == "en" and [i["shortcut"] for i in found["items"]] == ["bill"]
    item = found["items"][0]
    # The name's own "{agent_name}" stays text: one pass over the template, never over values.
    assert item["text"]["en"] == (f"Hi Lina {{agent_name}}, agent.a on Demo, #{got.conversation_id}. "
                                  "{0.__class__} {nope}")
    assert item["text"]["ar"] == "أهلا Lina {agent_name}"
    assert [i["title"] for i in client.get(url + "&q=roaming").json["items"]] == ["Roaming bundles"]
    assert len(client.get(url).json["items"]) == 2


def test_another_teams_conversation_gives_no_canned_rendering(app, client, people):
    with app.app_context():
        theirs = factories.receive(people.channel_b.id, author="b-1", name="Secret Name")
    login(client, people.agent_a.email)
    assert client.get(f"/api/canned?conversation_id={theirs.conversation_id}").status_code == 404
    assert client.get("/api/canned").status_code == 400
