"""An admin, in Arabic, builds a routing rule row by row in a real browser, then dry-runs a
customer's message and sees the rule fire."""
import pytest

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

RULE = "فواتير القناة التجريبية"


def test_admin_builds_a_rule_in_arabic_and_sees_it_fire(live_server, page):
    page.goto(live_server + "/login")
    page.fill("#email", "admin@tawasul.local")
    page.fill("#password", "tawasul-demo")
    page.click('[data-testid="sign-in"]')
    page.wait_for_url(live_server + "/")
    if page.locator("html").get_attribute("lang") != "ar":  # the admin's account says English
        page.click('[data-testid="switch-language"]')
        page.wait_for_selector('html[lang="ar"]')

    page.goto(live_server + "/admin/routing")
    page.click('[data-testid="new-rule"]')
    page.wait_for_selector('[data-testid="rule-form"]')
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert "قاعدة جديدة" in page.locator("h1").inner_text()
    page.evaluate("window.__noReload = true")  # rows come and go without a round trip
    page.fill('[data-testid="rule-name"]', RULE)

    conditions = page.locator('[data-testid="conditions"] [data-testid="condition"]')
    page.select_option('[data-testid="new-condition"]', "keywords")
    page.click('[data-testid="add-condition"]')
    conditions.last.locator('input[name$="-value"]').fill("فاتورة، الفاتوره")
    page.select_option('[data-testid="new-condition"]', "channel")
    page.click('[data-testid="add-condition"]')
    conditions.last.locator('input[type="checkbox"][name$="-value"]').first.check()
    # A third one, added by mistake and removed.
    page.select_option('[data-testid="new-condition"]', "sentiment")
    page.click('[data-testid="add-condition"]')
    conditions.last.locator("button[data-remove]").click()
    assert conditions.count() == 2

    actions = page.locator('[data-testid="actions"] [data-testid="action"]')
    page.select_option('[data-testid="new-action"]', "set_priority")
    page.click('[data-testid="add-action"]')
    actions.last.locator("select").select_option("1")
    page.select_option('[data-testid="new-action"]', "add_tags")
    page.click('[data-testid="add-action"]')
    actions.last.locator('input[name$="-value"]').fill("فواتير")
    assert page.evaluate("window.__noReload") is True
    screenshot(page, "rule_form_ar")
    page.click('[data-testid="rule-save"]')

    page.wait_for_url(live_server + "/admin/routing")
    row = page.locator('[data-testid="rule"]', has_text=RULE)
    assert row.count() == 1 and "الكلمات المفتاحية: فاتورة, الفاتوره" in row.inner_text()

    page.fill('[data-testid="dry-text"]', "مرحبا، وين الفاتورة تاعتي؟ صارلي شهر بستنى")
    page.click('[data-testid="dry-run"]')
    page.wait_for_selector('[data-testid="dry-run-result"]')
    fired = page.locator('[data-testid="trace"] li[data-outcome="fired"]', has_text=RULE)
    assert fired.count() == 1 and "set_priority: 1" in fired.inner_text()
    outcome = page.locator('[data-testid="dry-outcome"]').inner_text()
    assert "الأولوية 1" in outcome and "فواتير" in outcome
    screenshot(page, "rule_dry_run_ar")
    assert page.console_errors == []
