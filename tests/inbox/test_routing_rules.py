"""Admin rules at ingest: applied in order to each new conversation, their outcome recorded on
its event; noise kept out of the queues; an intent not trusted goes to triage, never to a team."""
import pytest
from sqlalchemy import select

from inbox.extensions import db
from inbox.models import CannedResponse, Conversation, ConversationEvent, Customer, Message
from inbox.services import conversations
from tests import factories
from tests.conftest import jobs
from tests.inbox.routing_helpers import fixed_predictions, rule, settings


def created_event(conversation_id: int) -> ConversationEvent:
    return db.session.scalar(select(ConversationEvent).where(
        ConversationEvent.conversation_id == conversation_id, ConversationEvent.kind == "created"))


def tag_names(conversation_id: int) -> list[str]:
    return sorted(t.name for t in db.session.get(Conversation, conversation_id).tags)


def test_rules_apply_in_order_team_priority_tags_and_stop(ctx, world, monkeypatch):
    fixed_predictions(monkeypatch, {"bill": ("billing", 0.9)})
    first = rule(world.admin, "Billing to B", [{"kind": "intent", "value": ["billing"]}],
                 [{"kind": "set_team", "value": world.team_b.id}, {"kind": "add_tags", "value": ["money"]},
                  {"kind": "set_priority", "value": 3}])
    second = rule(world.admin, "Angry words", [{"kind": "keywords", "value": ["ridiculous"]}],
                  [{"kind": "set_priority", "value": 1}, {"kind": "add_tags", "value": ["angry"]},
                   {"kind": "stop"}])
    rule(world.admin, "Never reached", [], [{"kind": "set_team", "value": world.team_a.id}])

    calm = factories.receive(world.channel_a.id, author="c1", text="question about my bill")
    angry = factories.receive(world.channel_a.id, author="c2", text="my bill is ridiculous")

    calm_c = db.session.get(Conversation, calm.conversation_id)
    angry_c = db.session.get(Conversation, angry.conversation_id)
    # The catch-all last rule fired for the calm one: a later set_team overrides an earlier one.
    assert calm_c.team_id == world.team_a.id and calm_c.priority == 3 and tag_names(calm_c.id) == ["money"]
    assert angry_c.team_id == world.team_b.id and angry_c.priority == 1
    assert tag_names(angry_c.id) == ["angry", "money"] and not angry_c.triage
    routing = created_event(angry_c.id).data["routing"]
    assert [f["rule_id"] for f in routing["fired"]] == [first.id, second.id]
    assert created_event(angry_c.id).data["intent"] == "billing"


def test_a_disabled_rule_does_nothing(ctx, world, monkeypatch):
    fixed_predictions(monkeypatch, {"bill": ("billing", 0.9)})
    rule(world.admin, "Off", [], [{"kind": "set_team", "value": world.team_b.id}], enabled=False)
    got = factories.receive(world.channel_a.id, text="my bill")
    assert db.session.get(Conversation, got.conversation_id).team_id == world.team_a.id


def test_public_noise_is_kept_out_of_every_queue(ctx, world, monkeypatch):
    fixed_predictions(monkeypatch, {"giveaway": ("other", 0.95), "signal": ("network_coverage", 0.9)})
    rule(world.admin, "Noise", [{"kind": "public", "value": True}, {"kind": "intent", "value": ["other"]}],
         [{"kind": "keep_out_of_queue"}])
    noise = factories.receive(world.channel_a.id, author="n1", public=True, text="giveaway @friend @friend2")
    real = factories.receive(world.channel_a.id, author="n2", public=True, text="no signal in Irbid")
    conversation = db.session.get(Conversation, noise.conversation_id)
    assert conversation.noise and conversation.status == "resolved" and conversation.team_id is None
    assert conversation.resolved_at is not None and tag_names(conversation.id) == ["noise"]
    for user in (world.agent_a, world.supervisor):
        listed = [c.id for c in conversations.list_conversations(user, "active")]
        assert noise.conversation_id not in listed and real.conversation_id in listed
    # The customer writes again in the thread: reopened and routed afresh (noise again here).
    factories.receive(world.channel_a.id, author="n1", public=True, thread=noise.conversation_id and
                      db.session.get(Message, noise.message_id).external_id, text="giveaway again")
    again = db.session.get(Conversation, noise.conversation_id)
    assert again.noise and again.status == "resolved"


def test_low_confidence_goes_to_triage_with_no_team(ctx, world, monkeypatch):
    version_id = fixed_predictions(monkeypatch, {"unsure": ("roaming", 0.3), "sure": ("roaming", 0.8)})
    settings(world.admin, triage_below=0.5)
    unsure = factories.receive(world.channel_a.id, author="u1", text="unsure roaming thing")
    sure = factories.receive(world.channel_a.id, author="u2", text="sure roaming thing")
    low, high = db.session.get(Conversation, unsure.conversation_id), db.session.get(Conversation, sure.conversation_id)
    assert low.triage and low.team_id is None and low.assignee_id is None
    assert not high.triage and high.team_id == world.team_a.id
    routing = created_event(low.id).data["routing"]
    assert routing["triage_reason"] == "low_confidence" and routing["triage_below"] == 0.5
    assert created_event(low.id).data["model_version_id"] == version_id
    assert low.id not in [c.id for c in conversations.list_conversations(world.agent_a, "active")]
    assert low.id in [c.id for c in conversations.list_conversations(world.supervisor, "triage")]


def test_a_rule_on_facts_the_model_does_not_give_routes_even_an_unsure_intent(ctx, world, monkeypatch):
    fixed_predictions(monkeypatch, {"vip": ("billing", 0.2)})
    rule(world.admin, "VIPs to B", [{"kind": "customer_tag", "value": ["VIP"]}],
         [{"kind": "set_team", "value": world.team_b.id}])
    first = factories.receive(world.channel_a.id, author="vip-1", text="vip here")
    customer = db.session.get(Conversation, first.conversation_id).customer
    assert db.session.get(Conversation, first.conversation_id).triage  # not tagged yet
    customer.tags = ["vip"]
    other = db.session.get(Customer, customer.id)
    assert other.tags == ["vip"]
    db.session.commit()
    second = factories.receive(world.channel_b.id, author="vip-1", text="vip again")
    conversation = db.session.get(Conversation, second.conversation_id)
    assert not conversation.triage and conversation.team_id == world.team_b.id


def test_without_a_model_routing_falls_back_to_rules_and_the_channels_team(ctx, world):
    got = factories.receive(world.channel_b.id, text="anything at all")
    conversation = db.session.get(Conversation, got.conversation_id)
    assert not conversation.triage and conversation.team_id == world.team_b.id
    assert created_event(conversation.id).data["routing"]["triage"] is False


def test_an_auto_reply_is_stored_queued_and_sent_after_the_commit(app, ctx, world, monkeypatch):
    fixed_predictions(monkeypatch, {"hours": ("other", 0.9)})
    canned = CannedResponse(title="Hours", text="We answer from 8 to 8.")
    db.session.add(canned)
    db.session.commit()
    rule(world.admin, "Outside hours", [{"kind": "keywords", "value": ["hours"]}],
         [{"kind": "auto_reply", "value": canned.id}])
    got = factories.receive(world.channel_a.id, text="what are your hours")
    jobs(app).drain()
    db.session.expire_all()
    [reply] = db.session.scalars(select(Message).where(Message.conversation_id == got.conversation_id,
                                                       Message.direction == "out")).all()
    assert reply.text == "We answer from 8 to 8." and reply.state == "sent"
    kinds = db.session.scalars(select(ConversationEvent.kind).where(
        ConversationEvent.conversation_id == got.conversation_id)).all()
    assert "auto_replied" in kinds


@pytest.mark.parametrize("threshold", [0.0, 1.0])
def test_the_threshold_is_the_admins(ctx, world, monkeypatch, threshold):
    fixed_predictions(monkeypatch, {"x": ("billing", 0.6)})
    settings(world.admin, triage_below=threshold)
    got = factories.receive(world.channel_a.id, text="x")
    assert db.session.get(Conversation, got.conversation_id).triage is (threshold == 1.0)


def test_a_real_model_sends_a_message_it_is_not_sure_enough_of_to_triage(ctx, world, quick_training):
    """A real model's confidence below the admin's bar: triage, not a team. The bar is set above any
    probability the model gives, so the test does not depend on how sure this model happens to be."""
    from inbox.services import model_versions

    model_versions.train_new_version(select_config=False, activate=True)
    settings(world.admin, triage_below=1.0)
    got = factories.receive(world.channel_a.id, text="why is my bill 38 JD this month?? my plan is 15 JD")
    conversation = db.session.get(Conversation, got.conversation_id)
    assert conversation.intent == "billing" and conversation.intent_confidence < 1.0
    assert conversation.triage and conversation.team_id is None
