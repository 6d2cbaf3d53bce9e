"""The conversation screen in a real browser: a note's @mention reaching a colleague live,
hostile customer strings shown as text, Arabic and English screenshots, a canned response
with its variables, and X's length counter."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from app import create_app
from connectors.types import Attachment, InboundMessage
from inbox.extensions import db
from inbox.models import CannedResponse, Channel, Team
from inbox.services import ingest
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser
PASSWORD = "tawasul-demo"
HOSTILE = "<script>alert(1)</script> <img src=x onerror=alert(1)> \u202eevil\u202c"


@pytest.fixture
def server_db(live_server, tmp_path):
    """The live server's own database (embedded SQLite in its instance/), for arranging data."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp_path) / 'instance' / 'tawasul.db'}",
                      "TESTING": True})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def arrive(channel: Channel, author: str, text: str, name: str = "Lina", public: bool = False,
           attachments: tuple = ()) -> int:
    external = f"{author}-{datetime.now(UTC).timestamp()}"
    got = ingest.ingest_message(channel.id, InboundMessage(
        platform=channel.platform, external_id=external, author_id=author, author_handle=author,
        author_name=name, text=text, is_public=public, created_at=datetime.now(UTC).replace(tzinfo=None),
        thread_id=external if public else None, attachments=attachments))
    return got.conversation_id


def demo_channel() -> Channel:
    return db.session.scalar(select(Channel).where(Channel.platform == "demo"))


def sign_in(browser, url: str, email: str, locale: str = "ar-JO"):
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.errors = []
    page.dialogs = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and page.errors.append(msg.text))
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(url + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click('[data-testid="sign-in"]')
    page.wait_for_url(url + "/")
    return page


def test_a_mention_in_a_note_reaches_the_colleague_live(live_server, server_db, browser):
    conversation_id = arrive(demo_channel(), "mention-1", "el net 3ndi ba6ee2 mn embare7")
    omar = sign_in(browser, live_server, "agent1@tawasul.local")
    dana = sign_in(browser, live_server, "agent2@tawasul.local", locale="en-US")
    assert dana.locator('[data-testid="notifications-count"]').is_hidden()

    omar.goto(f"{live_server}/conversations/{conversation_id}")
    omar.click('[data-testid="note-text"]')
    omar.keyboard.type("@agent")
    option = omar.locator('[data-testid="mention-results-option"]', has_text="agent2")
    option.wait_for()
    assert "Dana" in option.inner_text()
    option.click()
    omar.keyboard.type("please call the customer back " + HOSTILE)
    assert omar.locator('[data-testid="note-text"]').input_value().startswith("@agent2 please call")
    omar.click('[data-testid="note-send"]')
    note = omar.locator('[data-testid="note"]').last
    note.wait_for()
    assert note.locator(".text").text_content() == "@agent2 please call the customer back " + HOSTILE

    count = dana.locator('[data-testid="notifications-count"]')
    count.wait_for(state="visible", timeout=10_000)  # live, no reload
    assert count.inner_text() == "1"
    dana.click('[data-testid="notifications-toggle"]')
    item = dana.locator('[data-testid="notification"]').first
    item.wait_for()
    assert "Omar" in item.inner_text() and "please call the customer back" in item.inner_text()
    assert dana.locator('img[src="x"]').count() == 0
    dana.click('[data-testid="notifications-read-all"]')
    count.wait_for(state="hidden")
    # Dana opens the conversation and sees the note in the thread, marked private.
    dana.goto(f"{live_server}/conversations/{conversation_id}")
    assert dana.locator('[data-testid="note"] .note-badge').first.inner_text() == "Private note"
    assert omar.errors == [] and dana.errors == [] and omar.dialogs == [] and dana.dialogs == []


def test_hostile_customer_strings_are_shown_as_text(live_server, server_db, browser):
    handle = "evil\u202ehandle<img src=x onerror=alert(1)>"
    conversation_id = arrive(demo_channel(), handle, HOSTILE, name=HOSTILE,
                             attachments=(Attachment(type="file", name=HOSTILE),))
    page = sign_in(browser, live_server, "agent1@tawasul.local")
    page.goto(f"{live_server}/conversations/{conversation_id}")
    page.wait_for_selector('[data-testid="thread"] [data-testid="message"]')

    assert page.locator("h1 bdi").text_content() == HOSTILE
    assert page.locator('[data-testid="message"] .text').first.text_content() == HOSTILE
    assert page.locator('[data-testid="attachment"] bdi').first.text_content() == HOSTILE
    assert page.locator('[data-testid="handle"] bdi').first.text_content() == "@" + handle
    # The same strings arriving live through the socket (a reply and a note, built by the scripts).
    page.fill('[data-testid="reply-text"]', HOSTILE)
    page.click('[data-testid="reply-send"]')
    page.locator('[data-testid="message"].outbound').last.wait_for()
    assert page.locator('[data-testid="message"].outbound .text').last.text_content() == HOSTILE
    page.fill('[data-testid="note-text"]', HOSTILE)
    page.click('[data-testid="note-send"]')
    page.locator('[data-testid="note"]').last.wait_for()
    assert page.locator('[data-testid="note"] .text').last.text_content() == HOSTILE
    page.wait_for_timeout(500)
    assert page.dialogs == []
    assert page.locator('img[src="x"]').count() == 0
    assert page.locator("script:not([src])").count() == 1  # only the labels' JSON
    assert page.evaluate("document.querySelectorAll('[onerror]').length") == 0
    assert page.errors == []


def test_the_screen_in_arabic_and_in_english(live_server, server_db, browser):
    channel = demo_channel()
    conversation_id = arrive(channel, "shot-1", "السلام عليكم، النت عندي بطيء جدا من امبارح 4G", name="ليث")
    arrive(channel, "shot-1", "my bill shows 12.5 JOD extra this month", name="ليث")
    for email, locale, direction, name in (("agent1@tawasul.local", "ar-JO", "rtl", "conversation_ar"),
                                          ("agent2@tawasul.local", "en-US", "ltr", "conversation_en")):
        page = sign_in(browser, live_server, email, locale)
        page.goto(f"{live_server}/conversations/{conversation_id}")
        page.wait_for_selector('[data-testid="thread"] [data-testid="message"]')
        assert page.locator("html").get_attribute("dir") == direction
        assert page.locator('[data-testid="timeline"] [data-testid="event"]').count() >= 1
        assert screenshot(page, name).stat().st_size > 10_000
        assert page.errors == []


def test_a_canned_response_is_inserted_with_its_variables(live_server, server_db, browser):
    db.session.add(CannedResponse(title="Thanks", shortcut="thanks", text="شكرا {customer_name}، معك {agent_name}",
                                  text_en="Thanks {customer_name}, this is {agent_name} on {platform}."))
    db.session.commit()
    conversation_id = arrive(demo_channel(), "canned-1", "hello, my line is cut", name="Sami")
    page = sign_in(browser, live_server, "agent1@tawasul.local")
    page.goto(f"{live_server}/conversations/{conversation_id}")
    page.select_option('[data-testid="canned-language"]', "ar")
    page.click('[data-testid="reply-text"]')
    page.keyboard.type("/than")
    page.locator('[data-testid="canned-results-option"]', has_text="Thanks").wait_for()
    page.keyboard.press("Enter")
    assert page.locator('[data-testid="reply-text"]').input_value() == "شكرا Sami، معك Omar"

    page.fill('[data-testid="reply-text"]', "")
    page.select_option('[data-testid="canned-language"]', "en")
    page.fill('[data-testid="canned-search"]', "thanks")
    page.locator('[data-testid="canned-results-option"]', has_text="Thanks").click()
    assert page.locator('[data-testid="reply-text"]').input_value() == "Thanks Sami, this is Omar on Demo."
    assert page.errors == []


def test_the_length_counter_of_an_x_conversation(live_server, server_db, browser):
    team = db.session.scalar(select(Team))
    x = Channel(platform="twitter", name="X", team=team, status="paused", settings={"account_id": "1"})
    db.session.add(x)
    db.session.commit()
    conversation_id = arrive(x, "x-1", "@operator no signal in Irbid", public=True)
    page = sign_in(browser, live_server, "agent1@tawasul.local")
    page.goto(f"{live_server}/conversations/{conversation_id}")
    count = page.locator('#reply-counter [data-field="count"]')
    assert page.locator('#reply-counter [data-field="limit"]').inner_text() == "280"
    page.fill('[data-testid="reply-text"]', "مرحبا 👍 https://example.com/" + "x" * 100)
    assert count.inner_text() == str(5 + 1 + 2 + 1 + 23)  # Arabic 1 each, emoji 2, a URL 23
    send = page.locator('[data-testid="reply-send"]')
    assert send.is_enabled() and page.locator('[data-testid="reply-too-long"]').is_hidden()
    page.fill('[data-testid="reply-text"]', "ن" * 281)
    assert count.inner_text() == "281" and send.is_disabled()
    assert page.locator('[data-testid="reply-too-long"]').is_visible()

    # The socket dropping and coming back (it caught up) must not turn a too-long reply sendable.
    assert page.errors == []
    page.evaluate("window.tawasul.socket.disconnect()")
    with page.expect_response(lambda r: r.url.endswith(f"/api/conversations/{conversation_id}")) as caught_up:
        page.evaluate("window.tawasul.socket.connect()")
    caught_up.value.finished()
    page.evaluate("() => new Promise((done) => setTimeout(done, 100))")  # its handler has run
    assert send.is_disabled()
    # Closing a socket from the page may race a frame the server already sent; Chromium logs
    # that close as an error. It is the drop this test makes on purpose, not a fault of the page.
    page.errors[:] = [e for e in page.errors if not (e.startswith("WebSocket connection to") and "after close" in e)]

    page.keyboard.press("End")
    page.keyboard.press("Backspace")
    assert count.inner_text() == "280" and send.is_enabled()
    assert page.errors == []
