"""`flask --app app connectors parse PLATFORM FILE`: the debug contract other tools rely on."""
import json

import pytest

from app import create_app
from tests.fixtures import PLATFORM_EXAMPLES

INBOUND_PREFIXES = ("webhook_", "mentions_", "dm_events_", "getupdates_", "aaa_webhook_")
FIELDS = {"platform", "external_id", "thread_id", "parent_id", "author_id", "author_handle", "author_name", "text",
          "is_private", "created_at", "attachments"}
EXAMPLES = sorted(p for p in PLATFORM_EXAMPLES.glob("*/*.json") if p.name.startswith(INBOUND_PREFIXES))


@pytest.fixture(scope="module")
def runner():
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"}).test_cli_runner()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_inbound_example_parses_to_json_lines(runner, path):
    result = runner.invoke(args=["connectors", "parse", path.parent.name, str(path)])
    assert result.exit_code == 0, result.output
    for line in result.output.splitlines():
        event = json.loads(line)
        if event.get("kind") == "status":
            assert event["status"] in ("sent", "delivered", "read", "failed")
            continue
        assert FIELDS <= set(event)
        assert isinstance(event["external_id"], str) and event["created_at"].endswith("Z")
        assert event["direction"] in ("inbound", "outbound") and event["action"] in ("create", "update", "delete")


def test_text_is_printed_exactly_as_sent(runner):
    body = {"update_id": 1, "message": {"message_id": 5, "date": 1718103723, "text": "\u200f  مرحبا 👋 ",
                                        "from": {"id": 7, "is_bot": False, "first_name": "Ali"},
                                        "chat": {"id": 7, "type": "private"}}}
    result = runner.invoke(args=["connectors", "parse", "telegram", "-"], input=json.dumps(body))
    [event] = [json.loads(line) for line in result.output.splitlines()]
    assert event["text"] == "\u200f  مرحبا 👋 " and event["external_id"] == "7:5" and event["is_private"] is True


def test_own_messages_are_marked_outbound_with_the_account_id(runner):
    path = PLATFORM_EXAMPLES / "facebook" / "webhook_messenger_echo.json"
    page_id = json.loads(path.read_text())["entry"][0]["id"]
    result = runner.invoke(args=["connectors", "parse", "facebook", str(path), "--account-id", page_id])
    assert result.exit_code == 0
    assert {json.loads(line)["direction"] for line in result.output.splitlines()} == {"outbound"}


@pytest.mark.parametrize("content", ["not json at all", '{"object": "page"}', "[1, 2, 3]", "[" * 50_000])
def test_an_unreadable_payload_exits_2_with_one_line(runner, content):
    result = runner.invoke(args=["connectors", "parse", "facebook", "-"], input=content)
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
