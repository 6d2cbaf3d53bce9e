"""Meta's private replies (a Messenger / Instagram DM answering a public comment): which
connectors offer them, where they are sent, and Meta's refusals as reasons an agent can act
on, against a real HTTP fake of the Graph API on 127.0.0.1."""
from __future__ import annotations

from datetime import timedelta

import pytest

from connectors.errors import AuthError, PermanentError, TransientError, WindowClosed
from connectors.facebook import FacebookConnector
from connectors.instagram import InstagramConnector
from connectors.registry import PLATFORMS, connector_class
from connectors.types import OutboundMessage
from tests.fakes.server import FakePlatform
from tests.fixtures import load_example

PAGE, IG = "104857362910458", "17841405822304914"
FB_COMMENT, IG_COMMENT = "122150098765432101_5464148998447030", "17969460807260342"


def facebook(url: str) -> FacebookConnector:
    return FacebookConnector({"account_id": PAGE, "access_token": "page-token", "graph_base": url})


def instagram(url: str) -> InstagramConnector:
    return InstagramConnector({"account_id": IG, "access_token": "ig-token", "graph_base": url})


def private_reply(comment_id: str, text: str = "أرسلنا لك التفاصيل هنا") -> OutboundMessage:
    return OutboundMessage(text=text, recipient_id="3391827465019283", is_public=False,
                           idempotency_key="k-1", in_reply_to=comment_id)


def graph_error(code: int, message: str, subcode: int | None = None) -> dict:
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf123"}
    if subcode:
        error["error_subcode"] = subcode
    return {"error": error}


def test_only_meta_platforms_offer_private_replies_within_seven_days():
    offered = {name for name in PLATFORMS if getattr(connector_class(name), "private_replies", False)}
    assert offered == {"facebook", "instagram"}
    assert FacebookConnector.private_reply_window == InstagramConnector.private_reply_window == timedelta(days=7)


@pytest.mark.parametrize(("make", "account", "comment"), [(facebook, PAGE, FB_COMMENT), (instagram, IG, IG_COMMENT)])
def test_a_private_reply_goes_to_the_accounts_messages_with_the_comment(make, account, comment):
    with FakePlatform() as fake:
        fake.reply("POST", f"/{account}/messages", json={"recipient_id": "3391827465019283", "message_id": "m_PR1"})
        result = make(fake.url).send(private_reply(comment))
    (sent,) = fake.requests
    assert sent.path == f"/{account}/messages"
    assert sent.json == {"recipient": {"comment_id": comment}, "message": {"text": "أرسلنا لك التفاصيل هنا"}}
    assert result.external_id == "m_PR1"


REFUSALS = [
    (10900, "(#10900) Activity already replied to", "already has a private reply"),
    (10901, "(#10901) Activity replying time expired", "more than 7 days old"),
    (10902, "(#10902) This is not a Replyable activity", "does not allow a private reply"),
    (10903, "(#10903) This user can't reply to this activity", "does not allow a private reply"),
]


@pytest.mark.parametrize(("code", "message", "reason"), REFUSALS)
def test_metas_private_reply_refusals_are_permanent_with_a_reason(code, message, reason):
    with FakePlatform() as fake:
        fake.reply("POST", f"/{PAGE}/messages", status=400, json=graph_error(code, message))
        with pytest.raises(PermanentError) as caught:
            facebook(fake.url).send(private_reply(FB_COMMENT))
    assert not isinstance(caught.value, (AuthError, WindowClosed, TransientError))  # the channel is fine
    assert reason in caught.value.reason and "Facebook" in caught.value.reason
    assert caught.value.code == str(code)


def test_the_window_error_on_a_private_reply_speaks_of_the_seven_days():
    outside = load_example("instagram", "error_outside_window.json")
    with FakePlatform() as fake:
        fake.reply("POST", f"/{IG}/messages", status=400, json=outside)
        with pytest.raises(PermanentError) as private:
            instagram(fake.url).send(private_reply(IG_COMMENT))
        with pytest.raises(WindowClosed):  # a DM outside the 24 hours stays what it was
            instagram(fake.url).send(OutboundMessage(text="hi", recipient_id="6312847590123456", is_public=False,
                                                     idempotency_key="k-2", in_reply_to="aWdfZAG1faXRlbTox"))
    assert not isinstance(private.value, WindowClosed)
    assert "more than 7 days old" in private.value.reason and private.value.code == "10/2534022"
