"""An agent corrects a conversation's intent: stored as a label for the next model, recorded as
an event, shown live; only on conversations the agent may see."""
from sqlalchemy import select

from inbox.extensions import db, socketio
from inbox.models import Conversation, ConversationEvent, IntentLabel, ModelVersion
from inbox.services import classification, model_versions
from tests import factories
from tests.conftest import login, post

TEXT = "el roaming ma ze5al 3ndi bel dubai, el 7azmeh mfa3aleh bas ma fi net"


def conversation_with_a_guess(app, channel_id: int) -> tuple[int, int]:
    """A conversation whose intent a model version guessed (wrongly, and not very sure)."""
    with app.app_context():
        got = factories.receive(channel_id, text=TEXT)
        version = ModelVersion(status="ready", version="intent-guessing", directory="intent-guessing")
        db.session.add(version)
        db.session.flush()
        conversation = db.session.get(Conversation, got.conversation_id)
        conversation.intent, conversation.intent_confidence = "internet_speed", 0.41
        conversation.intent_model_version_id = version.id
        db.session.commit()
        return got.conversation_id, version.id


def test_an_agent_corrects_the_intent_and_everyone_watching_sees_it(app, people):
    conversation_id, version_id = conversation_with_a_guess(app, people.channel_a.id)
    http = app.test_client()
    login(http, people.agent_a.email)
    sock = socketio.test_client(app, flask_test_client=http)
    sock.get_received()
    page = http.get(f"/conversations/{conversation_id}").get_data(as_text=True)
    assert 'data-testid="conversation-intent">Internet speed<' in page and "41%" in page
    assert '<option value="roaming" >Roaming</option>' in page

    response = post(http, f"/conversations/{conversation_id}/intent", {"intent": "roaming"})
    assert response.status_code == 303
    with app.app_context():
        conversation = db.session.get(Conversation, conversation_id)
        assert (conversation.intent, conversation.intent_confidence, conversation.intent_model_version_id) == (
            "roaming", 1.0, None)
        [label] = db.session.scalars(select(IntentLabel)).all()
        assert (label.conversation_id, label.text, label.intent, label.previous_intent, label.previous_confidence,
                label.model_version_id, label.labelled_by_id) == (
            conversation_id, TEXT, "roaming", "internet_speed", 0.41, version_id, people.agent_a.id)
        [event] = db.session.scalars(select(ConversationEvent).where(ConversationEvent.kind == "intent_corrected"))
        assert (event.actor_id, event.data) == (people.agent_a.id, {
            "from": "internet_speed", "to": "roaming", "confidence": 0.41, "model_version_id": version_id,
            "by": people.agent_a.id})
    updates = [packet["args"][0] for packet in sock.get_received() if packet["name"] == "conversation_updated"]
    assert [(u["id"], u["intent"], u["intent_confidence"], u["intent_model_version_id"]) for u in updates] == [
        (conversation_id, "roaming", 1.0, None)]
    page = http.get(f"/conversations/{conversation_id}").get_data(as_text=True)
    assert 'data-testid="conversation-intent">Roaming<' in page and "set by an agent" in page

    # The same answer twice (a double click) is one label.
    assert post(http, f"/conversations/{conversation_id}/intent", {"intent": "roaming"}).status_code == 303
    with app.app_context():
        assert db.session.query(IntentLabel).count() == 1


def test_a_correction_outside_the_thirteen_intents_or_the_agents_teams_changes_nothing(app, client, people):
    conversation_id, _ = conversation_with_a_guess(app, people.channel_a.id)
    login(client, people.agent_a.email)
    assert post(client, f"/conversations/{conversation_id}/intent", {"intent": "weather"}).status_code == 400
    response = post(client, f"/conversations/{conversation_id}/intent", {"intent": ""},
                    headers={"Accept": "application/json"})
    assert response.status_code == 422 and "billing" in response.get_json()["error"]
    assert client.post(f"/conversations/{conversation_id}/intent", data={"intent": "billing"}).status_code == 400
    other_team = app.test_client()
    login(other_team, people.agent_b.email)
    assert post(other_team, f"/conversations/{conversation_id}/intent", {"intent": "billing"}).status_code == 404
    with app.app_context():
        assert db.session.get(Conversation, conversation_id).intent == "internet_speed"
        assert db.session.query(IntentLabel).count() == 0
        assert db.session.query(ConversationEvent).filter(ConversationEvent.kind == "intent_corrected").count() == 0


def test_the_next_training_learns_the_latest_label_of_each_conversation(ctx, world, quick_training, splits):
    first = factories.receive(world.channel_a.id, author="c-1", text=TEXT)
    second = factories.receive(world.channel_b.id, author="c-2", text="bdi alghi el khat tba3i, 5alas")
    held_out = factories.receive(world.channel_a.id, author="c-3", text=splits.test[0]["text"])
    classification.correct_intent(world.agent_a, first.conversation_id, "billing")
    classification.correct_intent(world.supervisor, first.conversation_id, "roaming")  # the latest wins
    classification.correct_intent(world.agent_b, second.conversation_id, "cancellation")
    classification.correct_intent(world.agent_a, held_out.conversation_id, splits.test[0]["intent"])
    assert model_versions.labelled_conversations() == 3

    version = model_versions.train_new_version()
    [rows] = quick_training
    assert [(row["text"], row["intent"]) for row in rows] == [
        (TEXT, "roaming"), ("bdi alghi el khat tba3i, 5alas", "cancellation"),
        (splits.test[0]["text"], splits.test[0]["intent"])]
    # A test message never trains: the versions stay comparable.
    assert (version.agent_labels, version.train_rows) == (2, len(splits.train) + 2)
