"""Accessibility, checked by a real engine: axe-core (bundled by axe-playwright-python, nothing fetched)
runs its WCAG 2.0/2.1 A and AA rules on every screen, in Arabic and in English, and no serious or
critical violation is allowed. Then the keyboard: Tab reaches the queue's controls and a
conversation's reply box in a sensible order, and the focused control is visibly marked."""
from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

pytestmark = pytest.mark.browser
PASSWORD = "tawasul-demo"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}
AXE = Axe()


def audit(page, screen: str) -> list[str]:
    """The serious and critical WCAG violations axe finds on the page as it stands, one readable block each."""
    options = {"runOnly": {"type": "tag", "values": WCAG}, "resultTypes": ["violations"]}
    response = AXE.run(page, options=options).response
    found = []
    for violation in response["violations"]:
        if violation["impact"] not in BLOCKING:
            continue
        lines = [f"[{screen}] {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>"]
        for node in violation["nodes"][:6]:
            lines.append(f"    at {', '.join(map(str, node['target']))}: {node['html'][:160]}")
            lines += [f"       {line.strip()}" for line in node["failureSummary"].splitlines()]
        found.append("\n".join(lines))
    return found


def test_the_engine_runs_offline_and_catches_the_failures_we_guard_against(page):
    """A deliberately bad page: if axe or its configuration stopped working, the screens would pass vacuously."""
    page.set_content('<html lang="en"><head><title>t</title></head><body><main><h1>Sample</h1>'
                     '<p style="color:#aaa;background:#fff">faint text</p><input><button></button>'
                     '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></main></body></html>')
    found = "\n".join(audit(page, "sample"))
    for rule in ("color-contrast (serious)", "label (critical)", "button-name (critical)", "image-alt (critical)"):
        assert rule in found, found


def new_page(browser, locale: str):
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    return page


def sign_in(page, url: str, email: str, language: str):
    page.goto(url + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click('[data-testid="sign-in"]')
    page.wait_for_url(url + "/")
    if page.locator("html").get_attribute("lang") != language:
        page.click('[data-testid="switch-language"]')
        page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == language
    assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")


def first_conversation(page):
    row = page.locator("#conversations li.conversation a").first
    row.wait_for(timeout=30_000)
    return row


@pytest.mark.parametrize(("language", "locale", "agent"), [
    ("ar", "ar-JO", "agent1@tawasul.local"),
    ("en", "en-US", "agent2@tawasul.local"),
])
def test_every_screen_passes_axe_in_both_languages(live_server, browser, language, locale, agent):
    found: list[str] = []

    page = new_page(browser, locale)
    page.goto(live_server + "/login")
    assert page.locator("html").get_attribute("lang") == language
    found += audit(page, "login")
    page.fill("#email", agent)
    page.fill("#password", "not-the-password")
    page.click('[data-testid="sign-in"]')
    page.locator(".flash").wait_for()
    found += audit(page, "login, wrong password")

    # An agent: the queue with conversations in it, then one conversation with a reply and a note.
    sign_in(page, live_server, agent, language)
    first_conversation(page)
    found += audit(page, "queue")
    page.goto(live_server + "/?q=nothing-matches-this")
    page.locator('[data-testid="queue-empty"]').wait_for()
    found += audit(page, "queue, nothing matches")
    page.goto(live_server + "/")
    first_conversation(page).click()
    page.wait_for_selector('[data-testid="thread"] [data-testid="message"]')
    page.fill('[data-testid="reply-text"]', "Hello — أهلا")
    page.click('[data-testid="reply-send"]')
    page.locator('[data-testid="message"].outbound').last.wait_for()
    page.fill('[data-testid="note-text"]', "Checked the line — الخط سليم")
    page.click('[data-testid="note-send"]')
    page.locator('[data-testid="thread"] .note').last.wait_for()
    found += audit(page, "conversation")
    page.fill('[data-testid="canned-search"]', "/")
    page.locator('[data-testid="canned-results"] li').first.wait_for()
    page.click('[data-testid="notifications-toggle"]')
    page.locator('[data-testid="notifications-panel"]').wait_for()
    found += audit(page, "conversation, canned responses and notifications open")
    page.keyboard.press("Escape")
    page.fill('[data-testid="canned-search"]', "")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("?")
    page.locator('[data-testid="shortcuts-help"]').wait_for()
    found += audit(page, "keyboard help")
    page.context.close()

    # A supervisor's team page.
    page = new_page(browser, locale)
    sign_in(page, live_server, "supervisor@tawasul.local", language)
    page.goto(live_server + "/team")
    page.wait_for_load_state("networkidle")
    found += audit(page, "team")
    page.context.close()

    # An admin's screens.
    page = new_page(browser, locale)
    sign_in(page, live_server, "admin@tawasul.local", language)
    for screen, path in [("admin: users and channels", "/admin/"), ("admin: routing rules", "/admin/routing"),
                         ("admin: new rule", "/admin/routing/rules/new"), ("admin: SLA", "/admin/sla"),
                         ("admin: canned responses", "/admin/canned"), ("admin: intent models", "/admin/models"),
                         ("admin: new channel", "/admin/channels/new?platform=telegram")]:
        page.goto(live_server + path)
        found += audit(page, screen)
    page.goto(live_server + "/admin/")
    page.locator('[data-testid="channels"] tbody a').first.click()
    page.wait_for_load_state()
    found += audit(page, "admin: a channel")
    page.context.close()

    assert not found, f"{len(found)} serious/critical WCAG violations in {language}:\n\n" + "\n\n".join(found)


# A focus indicator of our own (app.css): at least a 2px outline, or a box-shadow. Chromium's default
# ring (`auto 1px`) does not count, so the test fails if the app's focus style is lost.
FOCUS_VISIBLE = """(el) => { const s = getComputedStyle(el);
    return (s.outlineStyle !== 'none' && s.outlineStyle !== 'auto' && parseFloat(s.outlineWidth) >= 2)
        || s.boxShadow !== 'none'; }"""
DESCRIBE = """() => { const el = document.activeElement;
    return (el.dataset.testid || el.name || el.id || el.tagName).toString(); }"""


def tab_to(page, selector: str, limit: int = 60) -> list[str]:
    """Press Tab until the focused element matches the selector; return the stops on the way (the last
    is the match), and check that each stop showed a visible focus indicator."""
    visited, unmarked = [], []
    for _ in range(limit):
        page.keyboard.press("Tab")
        stop = page.evaluate(DESCRIBE)
        visited.append(stop)
        if not page.evaluate(f"() => ({FOCUS_VISIBLE})(document.activeElement)"):
            unmarked.append(stop)
        if page.evaluate("(sel) => document.activeElement.matches(sel)", selector):
            assert not unmarked, f"focused without a visible focus style: {unmarked} (order: {visited})"
            return visited
    raise AssertionError(f"Tab never reached {selector}; focus went through {visited}")


def test_the_keyboard_reaches_the_queue_and_the_reply_with_a_visible_focus(live_server, browser):
    page = new_page(browser, "en-US")
    sign_in(page, live_server, "agent2@tawasul.local", "en")
    first_conversation(page)
    page.reload()
    first_conversation(page)

    # The first Tab offers to skip the top bar; taking it lands in the page, where the view tabs come
    # first, then search and every filter in reading order, and then the list of conversations.
    assert tab_to(page, '[data-testid="skip-link"]', limit=1) == ["skip-link"]
    assert page.locator('[data-testid="skip-link"]').bounding_box()["width"] > 20  # shown while focused
    page.keyboard.press("Enter")
    order = tab_to(page, "#conversations li.conversation a")
    assert order[:3] == ["view-mine", "view-team", "view-unassigned"], order
    filters = ["queue-search", "status", "channel", "platform", "intent", "language", "priority", "sla",
               "apply-filters"]
    assert order[3:-1] == filters, order
    assert page.evaluate(f"() => ({FOCUS_VISIBLE})(document.activeElement)")

    # In a conversation, Tab reaches the reply box and then Send, each visibly focused, and they show
    # no such mark while unfocused.
    page.keyboard.press("Enter")
    page.wait_for_selector('[data-testid="thread"] [data-testid="message"]')
    reply, send = page.locator('[data-testid="reply-text"]'), page.locator('[data-testid="reply-send"]')
    assert not reply.evaluate(FOCUS_VISIBLE) and not send.evaluate(FOCUS_VISIBLE)
    page.locator("h1").click()
    order = tab_to(page, '[data-testid="reply-text"]')
    assert reply.evaluate(FOCUS_VISIBLE)
    order += tab_to(page, '[data-testid="reply-send"]', limit=8)
    assert send.evaluate(FOCUS_VISIBLE)
    assert order.index("intent-save") < order.index("canned-search") < order.index("reply-text"), order
    assert page.errors == []
