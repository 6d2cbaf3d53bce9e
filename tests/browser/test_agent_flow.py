"""An agent's first minute, in a real browser: sign in, see a ticket arrive live, answer it."""
import pytest

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def test_agent_answers_a_demo_conversation_live(live_server, page):
    page.goto(live_server + "/login")
    assert page.locator("html").get_attribute("dir") == "rtl"  # Arabic browser, Arabic page
    page.fill("#email", "agent1@tawasul.local")
    page.fill("#password", "tawasul-demo")
    page.click('[data-testid="sign-in"]')
    page.wait_for_url(live_server + "/")
    assert page.locator("html").get_attribute("lang") == "ar"

    # A conversation arrives while we watch, with no reload.
    page.evaluate("window.__noReload = true")
    arrived = page.locator("li.conversation.arrived").first
    arrived.wait_for(timeout=20_000)
    assert page.evaluate("window.__noReload") is True
    customer = arrived.locator(".customer").inner_text()
    assert customer

    arrived.locator("a").click()
    page.wait_for_selector('[data-testid="thread"] [data-testid="message"]')
    assert customer in page.locator("h1").inner_text()

    page.fill('[data-testid="reply-text"]', "أهلا، نعمل على طلبك الآن — we are on it")
    page.click('[data-testid="reply-send"]')
    outbound = page.locator('[data-testid="message"].outbound').last
    outbound.locator('[data-state="sent"]').wait_for(timeout=15_000)
    assert "we are on it" in outbound.inner_text()
    assert page.locator('[data-testid="reply-text"]').input_value() == ""

    screenshot(page, "agent_flow")
    assert page.console_errors == []  # no CSP violation, no script error
