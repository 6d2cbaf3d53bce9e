"""Two agents in two browser contexts on one conversation: live updates, who views and types,
the crossing-reply warning, and a transfer seen live on both screens."""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, serve

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path):
    """The demo with traffic slow enough to keep one conversation quiet."""
    with serve(tmp_path, demo_interval_seconds=4) as url:
        yield url


@pytest.fixture
def two_agents(browser):
    pages = []
    for locale in ("ar-JO", "en-GB"):
        context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.console_errors = []
        page.on("pageerror", lambda exc, p=page: p.console_errors.append(str(exc)))
        pages.append(page)
    yield pages
    for page in pages:
        page.context.close()


def sign_in(page, url, email):
    page.goto(url + "/login")
    page.fill("#email", email)
    page.fill("#password", "tawasul-demo")
    page.click('[data-testid="sign-in"]')
    page.wait_for_url(url + "/")


def send(page, text, allow_crossing=True):
    """Send a reply; a crossing warning caused by the demo customer writing again is confirmed."""
    page.fill('[data-testid="reply-text"]', text)
    page.click('[data-testid="reply-send"]')
    mine = page.locator('[data-testid="message"].outbound', has_text=text)
    anyway = page.locator('[data-testid="send-anyway"]')
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if mine.count():
            return
        if allow_crossing and anyway.count():
            anyway.click()
        time.sleep(0.1)
    raise AssertionError(f"{text!r} was not sent")


def test_two_agents_work_one_conversation_together(server, two_agents):
    omar, dana = two_agents
    sign_in(omar, server, "agent1@tawasul.local")
    sign_in(dana, server, "agent2@tawasul.local")
    row = omar.locator('[data-testid="conversation"]').first
    row.wait_for(timeout=20_000)
    # Shortcuts in the queue: j selects the first conversation, Enter opens it.
    omar.keyboard.press("j")
    assert "selected" in (omar.locator('[data-testid="conversation"]').first.get_attribute("class") or "")
    omar.keyboard.press("Enter")
    omar.wait_for_url(re.compile(r".*/conversations/\d+$"))
    conversation = omar.url
    dana.goto(conversation)

    # Who else is here: each sees the other's name, live.
    omar.locator('[data-testid="viewer"]', has_text="Dana").wait_for(timeout=10_000)
    dana.locator('[data-testid="viewer"]', has_text="Omar").wait_for(timeout=10_000)

    # Dana starts a reply: Omar sees her typing.
    dana.fill('[data-testid="reply-text"]', "")
    dana.type('[data-testid="reply-text"]', "Hello, I will check your line")
    omar.locator('[data-testid="typing"]', has_text="Dana").wait_for(timeout=5_000)

    # Omar answers first: Dana's screen shows it at once, no reload.
    dana.evaluate("window.__noReload = true")
    send(omar, "أهلا، نعمل على طلبك الآن")
    dana.locator('[data-testid="message"].outbound', has_text="نعمل على طلبك").wait_for(timeout=10_000)

    # Dana's reply, written before she saw Omar's, is held back with a warning naming him.
    dana.click('[data-testid="reply-send"]')
    warning = dana.locator("#reply-error")
    warning.wait_for(state="visible", timeout=10_000)
    assert "Omar" in warning.inner_text()
    assert dana.locator('[data-testid="message"].outbound', has_text="check your line").count() == 0
    screenshot(dana, "collision_warning")
    dana.click('[data-testid="send-anyway"]')
    dana.locator('[data-testid="message"].outbound', has_text="check your line").wait_for(timeout=10_000)
    omar.locator('[data-testid="message"].outbound', has_text="check your line").wait_for(timeout=10_000)
    assert dana.evaluate("window.__noReload") is True

    # Omar transfers the conversation to Dana: her screen learns it live; his shows who holds it.
    omar.select_option('[data-testid="transfer-agent"] select', label="Dana")
    omar.click('[data-testid="transfer-agent"] button')
    omar.wait_for_load_state()
    held = omar.locator('[data-testid="held-by"]')
    held.wait_for(state="visible", timeout=10_000)
    assert "Dana" in held.inner_text()
    expect(dana.locator('[data-field="assignee"]')).to_contain_text("Dana", timeout=10_000)
    assert dana.locator('[data-testid="held-by"]').is_hidden()

    # And back: Omar's screen, not reloaded since, hides the banner live.
    omar.evaluate("window.__noReload = true")
    dana.select_option('[data-testid="transfer-agent"] select', label="Omar")
    dana.click('[data-testid="transfer-agent"] button')
    dana.wait_for_load_state()
    expect(omar.locator('[data-field="assignee"]')).to_contain_text("Omar", timeout=10_000)
    assert omar.locator('[data-testid="held-by"]').is_hidden()
    assert omar.evaluate("window.__noReload") is True
    dana.locator('[data-testid="held-by"]', has_text="Omar").wait_for(state="visible", timeout=10_000)
    assert re.search("Omar", dana.locator('[data-testid="held-by"]').inner_text())

    # The help overlay: ? opens an accessible dialog in the page's language, Esc closes it.
    omar.locator("body").click(position={"x": 5, "y": 300})
    omar.keyboard.press("?")
    dialog = omar.locator('[role="dialog"][aria-modal="true"]')
    dialog.wait_for(state="visible")
    assert "اختصارات" in dialog.inner_text()
    omar.keyboard.press("Escape")
    assert dialog.is_hidden()
    omar.keyboard.press("r")
    assert omar.evaluate("document.activeElement.id") == "reply-text"

    assert omar.console_errors == [] and dana.console_errors == []
