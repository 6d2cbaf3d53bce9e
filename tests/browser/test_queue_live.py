"""The queue in a real browser: rows arrive live without moving what the agent looks at, the
selection stays, and "load more" appends the next page."""
import json
import time

import pytest

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

PAGE_SIZE = 2


@pytest.fixture
def small_pages(monkeypatch):
    """A few rows per page, so the demo's traffic fills more than one page within seconds."""
    monkeypatch.setenv("QUEUE_PAGE_SIZE", str(PAGE_SIZE))


def ids(page) -> list[int]:
    return page.evaluate("window.tawasul.queue.rows().map((r) => Number(r.dataset.conversationId))")


def row_top(page, conversation_id: int) -> float:
    return page.evaluate(f"document.querySelector('[data-conversation-id=\"{conversation_id}\"]')"
                         ".getBoundingClientRect().top")


def wait_until(condition, timeout: float = 30.0, message: str = ""):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(message or "timed out")
        time.sleep(0.3)


def test_the_queue_keeps_place_and_selection_while_conversations_arrive(small_pages, live_server, page):
    page.goto(live_server + "/login")
    page.fill("#email", "agent1@tawasul.local")
    page.fill("#password", "tawasul-demo")
    page.click('[data-testid="sign-in"]')
    page.wait_for_url(live_server + "/")

    # Enough demo conversations for more than three pages of the agent's view.
    counts = live_server + "/api/conversations/counts?view=team"
    wait_until(lambda: page.request.get(counts).json()["counts"]["team"] > 3 * PAGE_SIZE, 60,
               "the demo never filled four pages")
    page.reload()
    page.set_viewport_size({"width": 1000, "height": 330})
    assert len(ids(page)) == PAGE_SIZE
    load_more = page.locator('[data-testid="load-more"]')
    assert load_more.is_visible()
    assert page.locator('[data-count="team"]').inner_text().strip() != "0"

    # "Load more" appends the next pages, in queue order, nothing twice.
    for _ in range(2):
        before = len(ids(page))
        load_more.click()
        wait_until(lambda b=before: len(ids(page)) >= b + PAGE_SIZE, 15, "load more did not append a page")
    loaded = ids(page)
    keys = page.evaluate("window.tawasul.queue.rows().map((r) => JSON.parse(r.dataset.sortKey))")
    assert len(loaded) == 3 * PAGE_SIZE and len(set(loaded)) == len(loaded) and keys == sorted(keys)
    assert load_more.is_visible()  # a fourth page waits

    # The agent selects the last loaded row and scrolls to it.
    page.evaluate("window.tawasul.queue.select(window.tawasul.queue.rows().length - 1)")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    selected = loaded[-1]
    top = row_top(page, selected)
    assert page.evaluate("document.activeElement.closest('[data-testid=conversation]').dataset.conversationId") \
        == str(selected)

    # Demo conversations keep arriving over the socket (no reload): the tab's count follows, and a
    # row that sorts after the loaded pages is not appended (it belongs to a page not loaded yet).
    page.evaluate("window.__noReload = true")
    count = int(page.locator('[data-count="team"]').inner_text())
    wait_until(lambda: int(page.locator('[data-count="team"]').inner_text()) > count, 45,
               "the team's count never moved")
    last_key = keys[-1]
    now = page.evaluate("window.tawasul.queue.rows().map((r) => JSON.parse(r.dataset.sortKey))")
    assert all(key <= last_key for key in now), json.dumps([keys, now, ids(page)])
    assert abs(row_top(page, selected) - top) <= 1

    # And one placed above everything (SLA long overdue), as another agent's change would place it.
    team_id = page.evaluate("JSON.parse(document.querySelector('[data-page=queue]').dataset.teamIds)[0]")
    page.evaluate("""(teamId) => window.tawasul.queue.upsert({
        id: 999999, status: "open", priority: 2, is_public: false, platform: "demo", channel: "Demo",
        channel_id: 1, team_id: teamId, assignee_id: null, triage: false, intent: null, language: "ar",
        customer: {id: 1, name: "<img src=x onerror=alert(1)> عميل"}, preview: "جديد", last_message_at: null,
        sla_due_at: "2000-01-01T00:00:00Z", sort_key: ["2000-01-01T00:00:00.000000Z",
        "9999-12-31T00:00:00.000000Z", 999999]}, true)""", team_id)
    assert ids(page)[0] == 999999
    assert page.locator('[data-conversation-id="999999"] .customer').inner_text().startswith("<img")  # as text
    assert abs(row_top(page, selected) - top) <= 1
    assert page.locator(f'[data-conversation-id="{selected}"]').get_attribute("aria-current") == "true"
    assert page.evaluate("document.activeElement.closest('[data-testid=conversation]').dataset.conversationId") \
        == str(selected)
    assert page.evaluate("window.__noReload") is True

    screenshot(page, "queue_live")
    assert page.console_errors == []
