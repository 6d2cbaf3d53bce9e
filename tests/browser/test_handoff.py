"""X's hand-off in a real browser: the agent answers a mention publicly and continues in a DM
from the composer; the reply shows in the thread and the timeline links to the new DM
conversation, live, without a reload. (Sending to X is tested against the fake X server in
tests/inbox/test_handoff.py; this channel is paused, so both messages stay queued.)"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from inbox.extensions import db
from inbox.models import Channel, Team
from tests.browser.test_conversation_screen import arrive, server_db, sign_in  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser


def test_a_mention_is_answered_publicly_and_continued_in_a_dm(live_server, server_db, browser):  # noqa: F811
    team = db.session.scalar(select(Team))
    x = Channel(platform="twitter", name="X", team=team, status="paused", settings={"account_id": "1"})
    db.session.add(x)
    db.session.commit()
    conversation_id = arrive(x, "x-7", "@operator no signal in Irbid since this morning", name="Sami", public=True)
    page = sign_in(browser, live_server, "agent1@tawasul.local", locale="en-US")
    page.goto(f"{live_server}/conversations/{conversation_id}")

    page.click('[data-testid="handoff"] summary')
    public = page.locator('[data-testid="handoff-public"]')
    assert public.input_value() in ("راسلناك على الخاص 🙏", "We've sent you a DM 🙏")  # the customer's language
    page.fill('[data-testid="handoff-private"]', "Hi Sami, which area of Irbid? <b>thanks</b>")
    page.click('[data-testid="handoff-send"]')

    reply = page.locator('[data-testid="thread"] .message.outbound').last
    reply.wait_for(timeout=10_000)
    assert public.input_value() in reply.inner_text()
    link = page.locator('[data-testid="event-link"]')
    link.wait_for(timeout=10_000)  # the timeline refreshed live
    assert page.locator('[data-testid="handoff-error"]').is_hidden()
    link.click()
    page.wait_for_url(f"{live_server}/conversations/*")
    assert page.url != f"{live_server}/conversations/{conversation_id}"
    thread = page.locator('[data-testid="thread"]')
    assert "Hi Sami, which area of Irbid? <b>thanks</b>" in thread.inner_text()  # as text
    assert thread.locator("b").count() == 0
    assert page.locator('[data-testid="handoff"]').count() == 0  # already private
    assert page.locator('[data-testid="event-link"]').count() == 1
    assert page.errors == []
