"""The admin's routing screen: rules created, ordered, switched and deleted (audited), refused
with routing.rules' own reasons, dry-run with the full trace; admins only, CSRF required."""
import json

from sqlalchemy import select

from inbox.extensions import db
from inbox.models import AuditLog, RoutingRule, Setting, Team
from tests import factories
from tests.conftest import login, post

BILLING = {"name": "Billing words", "conditions": [{"kind": "keywords", "value": ["فاتورة"]}],
           "actions": [{"kind": "set_priority", "value": 1}, {"kind": "add_tags", "value": ["billing-words"]}]}


def admin_client(app, people):
    client = app.test_client()
    login(client, people.admin.email)
    return client


def rules(app):
    with app.app_context():
        return [(r.name, r.enabled) for r in db.session.scalars(select(RoutingRule).order_by(RoutingRule.position))]


def test_only_admins_see_or_change_routing(app, people):
    agent = app.test_client()
    login(agent, people.agent_a.email)
    assert agent.get("/admin/routing").status_code == 403
    assert post(agent, "/admin/routing/rules", {"rule": json.dumps(BILLING)}).status_code == 403
    assert post(agent, "/admin/routing/dry-run", {"text": "x"}).status_code == 403
    assert rules(app) == []


def test_a_change_without_the_csrf_token_is_refused(app, people):
    client = admin_client(app, people)
    assert client.post("/admin/routing/rules", data={"rule": json.dumps(BILLING)}).status_code == 400
    assert rules(app) == []


def test_rules_are_created_ordered_switched_and_deleted_with_an_audit_trail(app, people):
    client = admin_client(app, people)
    assert post(client, "/admin/routing/rules", {"rule": json.dumps(BILLING)}).status_code == 303
    second = {**BILLING, "name": "Second"}
    assert post(client, "/admin/routing/rules", {"rule": json.dumps(second)}).status_code == 303
    assert rules(app) == [("Billing words", True), ("Second", True)]
    with app.app_context():
        second_id = db.session.scalar(select(RoutingRule.id).where(RoutingRule.name == "Second"))
    assert post(client, f"/admin/routing/rules/{second_id}/up").status_code == 303
    assert post(client, f"/admin/routing/rules/{second_id}/disable").status_code == 303
    assert rules(app) == [("Second", False), ("Billing words", True)]
    page = client.get("/admin/routing").get_data(as_text=True)
    assert page.index("Second") < page.index("Billing words")
    assert post(client, f"/admin/routing/rules/{second_id}/delete").status_code == 303
    assert rules(app) == [("Billing words", True)]
    with app.app_context():
        actions = db.session.scalars(select(AuditLog.action).where(AuditLog.target_type == "routing_rule")
                                     .order_by(AuditLog.id)).all()
    assert actions == ["routing_rule.created", "routing_rule.created", "routing_rule.moved",
                       "routing_rule.disabled", "routing_rule.deleted"]


def test_an_invalid_rule_is_refused_with_the_reason(app, people):
    client = admin_client(app, people)
    bad = {**BILLING, "conditions": [{"kind": "intent", "value": ["weather"]}]}
    response = post(client, "/admin/routing/rules", {"rule": json.dumps(bad)})
    assert response.status_code == 422
    assert "unknown &#39;weather&#39;" in response.get_data(as_text=True)
    response = post(client, "/admin/routing/rules", {"rule": "{not json"})
    assert response.status_code == 422 and "not valid JSON" in response.get_data(as_text=True)
    assert rules(app) == []


def test_the_dry_run_shows_the_trace_and_what_would_happen(app, people):
    client = admin_client(app, people)
    post(client, "/admin/routing/rules", {"rule": json.dumps(BILLING)})
    post(client, "/admin/routing/rules", {"rule": json.dumps(
        {"name": "VIP to B", "conditions": [{"kind": "customer_tag", "value": ["vip"]}],
         "actions": [{"kind": "set_team", "value": people.team_b.id}]})})
    response = post(client, "/admin/routing/dry-run", {
        "text": "وين الفاتورة تاعتي", "channel_id": str(people.channel_a.id), "customer_tags": "VIP", "rule": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-testid="dry-run-result"' in page
    trace = page[page.index('data-testid="trace"'):page.index('data-testid="dry-outcome"')]
    assert trace.count('data-outcome="fired"') == 2
    assert "set_priority: 1" in trace and f"set_team: {people.team_b.id}" in trace
    outcome = page[page.index('data-testid="dry-outcome"'):]
    assert "Team B" in outcome.split("</p>")[0]
    # Another message: the keyword rule does not match, and the trace says why.
    page = post(client, "/admin/routing/dry-run", {"text": "hello there", "channel_id": str(people.channel_a.id),
                                                   "rule": ""}).get_data(as_text=True)
    assert 'data-outcome="not_matched"' in page and "no keyword found" in page
    with app.app_context():
        assert db.session.query(AuditLog).filter(AuditLog.action.like("routing_rule.%")).count() == 2


def test_the_dry_run_tries_a_draft_rule_and_names_the_agent_assignment_would_pick(app, people):
    client = admin_client(app, people)
    with app.app_context():
        from inbox.models import User
        from inbox.services import assignment

        agent = db.session.get(User, people.agent_b.id)
        agent.languages = ["en", "ar"]
        db.session.commit()
        assignment.set_presence(agent, "online")
    draft = {"name": "Draft", "conditions": [{"kind": "keywords", "value": ["roaming"]}],
             "actions": [{"kind": "set_team", "value": people.team_b.id}]}
    page = post(client, "/admin/routing/dry-run", {"text": "roaming in Dubai", "rule": json.dumps(draft),
                                                   "channel_id": str(people.channel_a.id)}).get_data(as_text=True)
    assignment_line = page[page.index('data-testid="dry-assignment"'):].split("</p>")[0]
    assert people.agent_b.name in assignment_line and "least_loaded" in assignment_line
    assert rules(app) == []  # a draft is never saved


def test_settings_teams_and_agents_are_saved_and_audited(app, people):
    client = admin_client(app, people)
    response = post(client, "/admin/routing/settings", {
        "triage_below": "0.6", "return_work_when_offline": "1", "offline_grace_seconds": "60",
        "skills": "prepaid, Fibre", "weights": json.dumps({"private": 1, "public": 2}),
        "ladder": json.dumps({"steps": [{"after_seconds": 60, "action": "alert_supervisor"}]})})
    assert response.status_code == 303
    bad = post(client, "/admin/routing/settings", {"triage_below": "2", "offline_grace_seconds": "60",
                                                    "weights": "{}", "ladder": "{}"})
    assert bad.status_code == 422 and "triage_below" in bad.get_data(as_text=True)
    parent = post(client, f"/admin/teams/{people.team_b.id}/parent", {"parent_id": str(people.team_a.id)})
    assert parent.status_code == 303
    loop = post(client, f"/admin/teams/{people.team_a.id}/parent", {"parent_id": str(people.team_b.id)})
    assert loop.status_code == 422
    response = post(client, f"/admin/users/{people.agent_a.id}/routing",
                    {"skills": "fibre", "languages": ["en", "arabizi"], "capacity": "5"})
    assert response.status_code == 303
    unknown = post(client, f"/admin/users/{people.agent_a.id}/routing",
                   {"skills": "astrology", "languages": ["en"], "capacity": "5"})
    assert unknown.status_code == 422
    with app.app_context():
        from inbox.models import User

        stored = db.session.get(Setting, "routing").value
        assert stored["triage_below"] == 0.6 and stored["skills"] == ["prepaid", "fibre"]
        assert db.session.get(Team, people.team_b.id).parent_id == people.team_a.id
        agent = db.session.get(User, people.agent_a.id)
        assert (agent.skills, agent.languages, agent.capacity) == (["fibre"], ["en", "arabizi"], 5)
        assert {"routing.settings_saved", "team.parent_set", "user.routing_set"} <= set(
            db.session.scalars(select(AuditLog.action)).all())


def test_supervisors_see_the_triage_queue_agents_do_not(app, people):
    supervisor, agent = app.test_client(), app.test_client()
    login(supervisor, people.supervisor.email)
    login(agent, people.agent_a.email)
    with app.app_context():
        got = factories.receive(people.channel_a.id, name="Unsure Customer")
        from inbox.models import Conversation

        item = db.session.get(Conversation, got.conversation_id)
        item.triage, item.team_id = True, None
        db.session.commit()
    page = supervisor.get("/?view=triage").get_data(as_text=True)
    assert "Unsure Customer" in page and "view=triage" in page
    agent_page = agent.get("/").get_data(as_text=True)
    assert "Unsure Customer" not in agent_page and "view=triage" not in agent_page
    assert "Unsure Customer" not in agent.get("/?view=triage").get_data(as_text=True)
