"""The admin's rule form: one row per condition and per action, each with the input its kind
needs; rows added and removed without JavaScript; refused rules come back with the errors beside
their rows and everything the admin typed; created, edited, reordered and disabled by form posts."""
import re

from sqlalchemy import select

from inbox.extensions import db
from inbox.models import AuditLog, CannedResponse, RoutingRule
from tests.conftest import login, post


def admin_client(app, people):
    client = app.test_client()
    login(client, people.admin.email)
    return client


def stored(app) -> list[dict]:
    with app.app_context():
        return [r.as_dict() for r in db.session.scalars(select(RoutingRule).order_by(RoutingRule.position))]


def row(page: str, testid: str, index: int) -> str:
    """The HTML of the index-th condition or action row of the form (templates excluded)."""
    form = page[page.index('data-testid="rule-form"'):page.index("</form>", page.index('data-testid="rule-form"'))]
    rows = form.split(f'data-testid="{testid}"')[1:]
    return rows[index].split("</li>")[0]


BILLING_FORM = {
    "name": "VIP billing", "enabled": "1",
    "condition-0-kind": "intent", "condition-0-value": ["billing", "cancellation"],
    "condition-1-kind": "keywords", "condition-1-value": "فاتورة، bill ,\nrefund",
    "condition-2-kind": "public", "condition-2-value": "false",
    "condition-3-kind": "customer_tag", "condition-3-value": "VIP", "condition-3-negate": "1",
    "action-0-kind": "set_priority", "action-0-value": "1",
    "action-1-kind": "add_tags", "action-1-value": "billing, vip",
    "action-2-kind": "stop",
}


def test_an_admin_builds_a_rule_row_by_row(app, people):
    client = admin_client(app, people)
    page = client.get("/admin/routing/rules/new").get_data(as_text=True)
    assert 'data-testid="add-condition"' in page and 'data-testid="add-action"' in page
    # Every kind can be added, and each brings its own input (templates for the script).
    assert page.count('<template data-row="condition"') == 11 and page.count('<template data-row="action"') == 8
    response = post(client, "/admin/routing/rules", {
        **BILLING_FORM, "action-3-kind": "set_team", "action-3-value": str(people.team_b.id),
        "condition-4-kind": "channel", "condition-4-value": [str(people.channel_a.id)],
        "condition-5-kind": "business_hours", "condition-5-value": "false"})
    assert response.status_code == 303
    [saved] = stored(app)
    assert saved["name"] == "VIP billing" and saved["enabled"] is True
    assert saved["conditions"] == [
        {"kind": "intent", "value": ["billing", "cancellation"], "negate": False},
        {"kind": "keywords", "value": ["فاتورة", "bill", "refund"], "negate": False},
        {"kind": "public", "value": False, "negate": False},
        {"kind": "customer_tag", "value": ["VIP"], "negate": True},
        {"kind": "channel", "value": [people.channel_a.id], "negate": False},
        {"kind": "business_hours", "value": False, "negate": False},
    ]
    assert saved["actions"] == [{"kind": "set_priority", "value": 1}, {"kind": "add_tags", "value": ["billing", "vip"]},
                                {"kind": "stop", "value": None}, {"kind": "set_team", "value": people.team_b.id}]
    # The list of rules says it in words.
    listed = client.get("/admin/routing").get_data(as_text=True)
    listed = listed[listed.index('data-testid="rule"'):listed.index("</tr>", listed.index('data-testid="rule"'))]
    for words in ("Intent: Billing, Cancellation", "not Customer tag: <bdi>VIP</bdi>", "Public or private: Private",
                  "Channel: <bdi>Channel A</bdi>", "Set the priority: 1 · Urgent", "Set the team: <bdi>Team B</bdi>",
                  "Business hours: Outside business hours", "Stop: later rules do not run"):
        assert words in listed, words


def test_the_form_shows_a_saved_rule_and_saves_the_edit(app, people):
    client = admin_client(app, people)
    with app.app_context():
        db.session.add(CannedResponse(title="Thanks", text="شكراً لتواصلك"))
        db.session.commit()
        canned_id = db.session.scalar(select(CannedResponse.id))
    post(client, "/admin/routing/rules", BILLING_FORM)
    [rule] = stored(app)
    page = client.get(f"/admin/routing/rules/{rule['id']}").get_data(as_text=True)
    assert 'value="VIP billing"' in page
    intent = row(page, "condition", 0)
    assert re.search(r'value="billing" checked', intent) and re.search(r'value="cancellation" checked', intent)
    assert not re.search(r'value="roaming" checked', intent)
    assert "فاتورة, bill, refund" in row(page, "condition", 1)
    assert re.search(r'value="false" selected', row(page, "condition", 2))
    assert 'name="condition-3-negate" value="1" checked' in row(page, "condition", 3)
    assert re.search(r'value="1" selected', row(page, "action", 0))
    # The edit: no more stop, an auto-reply instead, and the rule switched off.
    edit = {k: v for k, v in BILLING_FORM.items() if not k.startswith("action-2") and k != "enabled"}
    response = post(client, f"/admin/routing/rules/{rule['id']}",
                    {**edit, "name": "VIP billing, quieter", "action-2-kind": "auto_reply",
                     "action-2-value": str(canned_id)})
    assert response.status_code == 303
    [saved] = stored(app)
    assert saved["name"] == "VIP billing, quieter" and saved["enabled"] is False
    assert saved["actions"][-1] == {"kind": "auto_reply", "value": canned_id}
    page = client.get(f"/admin/routing/rules/{rule['id']}").get_data(as_text=True)
    assert re.search(rf'<option value="{canned_id}" selected>Thanks</option>', row(page, "action", 2))
    with app.app_context():
        assert db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()[-2:] == [
            "routing_rule.created", "routing_rule.saved"]


def test_rows_are_added_and_removed_without_javascript(app, people):
    client = admin_client(app, people)
    typed = {"name": "Half typed", "enabled": "1", "condition-0-kind": "keywords", "condition-0-value": "راوتر"}
    page = post(client, "/admin/routing/rules", {**typed, "change": "add-condition", "new_condition": "language",
                                                  "new_action": "set_team"}).get_data(as_text=True)
    assert 'value="Half typed"' in page and 'value="راوتر"' in row(page, "condition", 0)
    language = row(page, "condition", 1)
    assert 'name="condition-1-kind" value="language"' in language
    assert all(f'name="condition-1-value" value="{code}"' in language for code in ("ar", "en", "arabizi", "mixed"))
    page = post(client, "/admin/routing/rules", {**typed, "condition-1-kind": "language", "condition-1-value": "ar",
                                                  "change": "add-action", "new_action": "assign_agent"}
                ).get_data(as_text=True)
    agent = row(page, "action", 0)
    assert people.agent_a.name in agent and people.agent_b.name in agent and people.admin.name not in agent
    page = post(client, "/admin/routing/rules", {**typed, "condition-1-kind": "language", "condition-1-value": "ar",
                                                  "change": "remove-condition-0"}).get_data(as_text=True)
    assert "راوتر" not in page.split('<template')[0]
    assert 'name="condition-0-kind" value="language"' in row(page, "condition", 0)
    assert stored(app) == []  # adding and removing rows saves nothing


def test_a_bad_pattern_is_shown_beside_its_row_and_nothing_typed_is_lost(app, people):
    client = admin_client(app, people)
    response = post(client, "/admin/routing/rules", {
        "name": "Broken pattern", "enabled": "1",
        "condition-0-kind": "keywords", "condition-0-value": "خط, line",
        "condition-1-kind": "regex", "condition-1-value": "(a+)+b",
        "condition-2-kind": "sentiment",
        "action-0-kind": "set_priority", "action-0-value": "2"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="Broken pattern"' in page and 'value="خط, line"' in row(page, "condition", 0)
    regex = row(page, "condition", 1)
    assert 'value="(a+)+b"' in regex and 'data-testid="row-error"' in regex and "nested repetition" in regex
    assert "Choose at least one" in row(page, "condition", 2)  # no sentiment ticked
    assert 'data-testid="row-error"' not in row(page, "condition", 0)
    assert re.search(r'value="2" selected', row(page, "action", 0))
    response = post(client, "/admin/routing/rules", {"name": "", "condition-0-kind": "regex",
                                                     "condition-0-value": "[unclosed"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "A rule needs a name." in page and "invalid pattern" in page
    assert stored(app) == []


def test_rules_made_with_the_form_are_reordered_and_disabled(app, people):
    client = admin_client(app, people)
    for name in ("First", "Second"):
        assert post(client, "/admin/routing/rules", {"name": name, "enabled": "1", "action-0-kind": "add_tags",
                                                     "action-0-value": name.lower()}).status_code == 303
    assert [(r["name"], r["enabled"]) for r in stored(app)] == [("First", True), ("Second", True)]
    second = stored(app)[1]["id"]
    assert post(client, f"/admin/routing/rules/{second}/up").status_code == 303
    assert post(client, f"/admin/routing/rules/{second}/disable").status_code == 303
    assert [(r["name"], r["enabled"]) for r in stored(app)] == [("Second", False), ("First", True)]
    page = client.get("/admin/routing").get_data(as_text=True)
    assert page.index("Second") < page.index("First") and 'data-testid="new-rule"' in page


def test_the_form_speaks_arabic(app, people):
    client = admin_client(app, people)
    post(client, "/language", {"language": "ar"})
    page = client.get("/admin/routing/rules/new").get_data(as_text=True)
    assert 'dir="rtl"' in page
    for arabic in ("قاعدة جديدة", "أضف شرطاً", "أضف إجراءً", "احفظ القاعدة", "الكلمات المفتاحية", "عيّن الفريق"):
        assert arabic in page, arabic
    response = post(client, "/admin/routing/rules", {"name": "", "action-0-kind": "stop"})
    assert "القاعدة تحتاج إلى اسم." in response.get_data(as_text=True)


def test_the_json_stays_as_an_advanced_option(app, people):
    client = admin_client(app, people)
    post(client, "/admin/routing/rules", BILLING_FORM)
    [rule] = stored(app)
    page = client.get(f"/admin/routing/rules/{rule['id']}").get_data(as_text=True)
    assert 'data-testid="rule-advanced"' in page and "&#34;kind&#34;: &#34;stop&#34;" in page
    response = post(client, f"/admin/routing/rules/{rule['id']}",
                    {"rule": '{"name": "From JSON", "actions": [{"kind": "set_priority", "value": 9}]}'})
    assert response.status_code == 422 and "expected 1 (urgent), 2, 3 or 4 (low)" in response.get_data(as_text=True)
    response = post(client, f"/admin/routing/rules/{rule['id']}",
                    {"rule": '{"name": "From JSON", "actions": [{"kind": "set_priority", "value": 3}]}'})
    assert response.status_code == 303 and stored(app)[0]["name"] == "From JSON"
