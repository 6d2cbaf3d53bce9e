"""X API v2 answers for the fake server (tests/fakes/server.py), in X's wire format
(../shared/platforms/twitter/): a mention, a DM, a sent post or DM, and X refusing a DM.

    with FakePlatform() as fake:
        fake.reply("GET", MENTIONS, json=mentions_page([mention(...)], [user(...)]))
        refuse_dms(fake, customer_id)   # the customer does not accept DMs from the account
"""
from __future__ import annotations

from typing import Any

from tests.fakes.server import FakePlatform

ACCOUNT = "1290345678123456512"  # the operator's X account (the channel's account_id)
MENTIONS = rf"/2/users/{ACCOUNT}/mentions"
DM_EVENTS = "/2/dm_events"
TWEETS = "/2/tweets"

# POST /2/dm_conversations/with/:participant_id/messages to someone who does not accept DMs
# from the account: 403 in the problem-details shape of X's other 403s, with the text X gives
# for this case (v1.1 error 349). (unconfirmed: X does not document this body for v2.)
DM_REFUSED = {
    "detail": "You cannot send messages to this user.",
    "type": "about:blank",
    "title": "Forbidden",
    "status": 403,
}


def dm_path(participant_id: str) -> str:
    return f"/2/dm_conversations/with/{participant_id}/messages"


def dm_conversation_id(a: str, b: str) -> str:
    """A 1:1 conversation's id: the two user ids, smaller first."""
    return "-".join(sorted((a, b), key=int))


def user(user_id: str, username: str, name: str) -> dict[str, Any]:
    return {"id": user_id, "username": username, "name": name}


def mention(tweet_id: str, author_id: str, text: str, created_at: str = "2026-11-27T09:00:00.000Z") -> dict[str, Any]:
    return {"id": tweet_id, "text": text, "author_id": author_id, "conversation_id": tweet_id,
            "created_at": created_at, "edit_history_tweet_ids": [tweet_id], "lang": "ar"}


def mentions_page(tweets: list[dict[str, Any]], users: list[dict[str, Any]]) -> dict[str, Any]:
    if not tweets:
        return {"meta": {"result_count": 0}}
    ids = [t["id"] for t in tweets]
    return {"data": tweets, "includes": {"users": users},
            "meta": {"newest_id": max(ids, key=int), "oldest_id": min(ids, key=int), "result_count": len(tweets)}}


def dm(event_id: str, sender_id: str, other_id: str, text: str,
       created_at: str = "2026-11-27T09:30:00.000Z") -> dict[str, Any]:
    return {"id": event_id, "event_type": "MessageCreate", "text": text, "sender_id": sender_id,
            "dm_conversation_id": dm_conversation_id(sender_id, other_id), "created_at": created_at}


def dm_page(events: list[dict[str, Any]], users: list[dict[str, Any]]) -> dict[str, Any]:
    if not events:
        return {"meta": {"result_count": 0}}
    return {"data": events, "includes": {"users": users}, "meta": {"result_count": len(events)}}


def accept_posts(fake: FakePlatform, post_id: str) -> None:
    fake.reply("POST", TWEETS, status=201,
               json={"data": {"id": post_id, "text": "…", "edit_history_tweet_ids": [post_id]}})


def accept_dms(fake: FakePlatform, participant_id: str, event_id: str) -> None:
    fake.reply("POST", dm_path(participant_id), status=201, json={
        "data": {"dm_conversation_id": dm_conversation_id(ACCOUNT, participant_id), "dm_event_id": event_id}})


def refuse_dms(fake: FakePlatform, participant_id: str) -> None:
    """The customer does not accept DMs from the account: X answers 403."""
    fake.reply("POST", dm_path(participant_id), status=403, json=DM_REFUSED)
