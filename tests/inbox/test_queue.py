"""The queue: views by role with their counts, filters, search, order, keyset pages, bad input."""
from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from inbox.extensions import db
from inbox.models import Channel, Conversation, Customer, Identity, Message
from inbox.models.base import utcnow
from inbox.models.conversation import SORT_SENTINEL
from inbox.payloads import conversation_payload
from inbox.services import queue
from inbox.services.errors import InvalidInput
from tests import factories
from tests.conftest import login

_serial = itertools.count(1)


def make(channel, *, team=None, assignee=None, status="open", due=None, next_due=None, resolution_due=None,
         waiting=None, name=None, handle=None, text="hello", triage=False, intent=None, language=None,
         priority=2) -> int:
    """A conversation as the queue sees it, its customer, identity and one message, written directly."""
    n = next(_serial)
    customer = Customer(display_name=name or f"Customer {n}")
    identity = Identity(customer=customer, platform=channel.platform, external_user_id=f"u-{n}",
                        handle=handle or f"handle{n}")
    conversation = Conversation(
        channel_id=channel.id, customer=customer, team_id=team.id if team else channel.team_id,
        assignee_id=assignee.id if assignee else None, status=status, priority=priority, triage=triage,
        intent=intent, language=language, preview=text[:280], first_response_due_at=due,
        next_response_due_at=next_due, resolution_due_at=resolution_due, customer_waiting_since=waiting)
    if triage:
        conversation.team_id = None
    db.session.add_all([customer, identity, conversation,
                        Message(conversation=conversation, channel_id=channel.id, direction="in", text=text,
                                author_identity=identity)])
    db.session.commit()
    return conversation.id


def ids(user, **args) -> list[int]:
    return [c.id for c in queue.page(user, queue.parse_query(user, args), size=200).items]


def test_views_follow_the_role_and_an_agent_never_sees_another_team(world):
    a, b = world.channel_a, world.channel_b
    mine = make(a, assignee=world.agent_a)
    team_free = make(a)
    theirs = make(b)
    theirs_assigned = make(b, assignee=world.agent_b)
    triage = make(a, triage=True)
    resolved = make(a, status="resolved")
    agent = world.agent_a
    assert queue.views_for(agent) == ["mine", "team", "unassigned"]
    assert ids(agent, view="mine") == [mine]
    assert set(ids(agent, view="team")) == {mine, team_free}
    assert ids(agent, view="unassigned") == [team_free]
    counts = queue.counts(agent, queue.parse_query(agent, {}))
    assert counts == {"mine": 1, "team": 2, "unassigned": 1}
    for view in ("triage", "all"):
        with pytest.raises(InvalidInput):
            queue.parse_query(agent, {"view": view})
    boss = world.supervisor
    assert queue.views_for(boss) == ["mine", "unassigned", "triage", "all"]  # in no team: no Team tab
    assert set(ids(boss, view="all")) == {mine, team_free, theirs, theirs_assigned, triage}
    assert set(ids(boss, view="unassigned")) == {team_free, theirs}
    assert ids(boss, view="triage") == [triage]
    assert queue.counts(boss, queue.parse_query(boss, {})) == {"mine": 0, "unassigned": 2, "triage": 1, "all": 5}
    assert ids(boss, view="all", status="resolved") == [resolved]
    assert queue.default_view(agent) == "team" and queue.default_view(boss) == "all"


def test_the_order_is_sla_due_then_waiting_then_id(world):
    now = utcnow()
    ch = world.channel_a
    late = make(ch, due=now - timedelta(minutes=5), waiting=now - timedelta(hours=1))
    soon_by_resolution = make(ch, due=now + timedelta(hours=3), resolution_due=now + timedelta(minutes=10))
    soon = make(ch, next_due=now + timedelta(minutes=20), waiting=now - timedelta(minutes=30))
    same_due_waits_longer = make(ch, next_due=now + timedelta(minutes=20), waiting=now - timedelta(hours=2))
    no_sla_waiting = make(ch, waiting=now - timedelta(days=1))
    no_sla_tie_1 = make(ch)
    no_sla_tie_2 = make(ch)
    assert ids(world.supervisor) == [late, soon_by_resolution, same_due_waits_longer, soon, no_sla_waiting,
                                     no_sla_tie_1, no_sla_tie_2]


def test_the_stored_sort_keys_match_the_payloads_on_every_mix_of_due_times(world):
    now = utcnow().replace(microsecond=0)
    times = [None, now + timedelta(minutes=1), now + timedelta(minutes=2), now - timedelta(minutes=3)]
    made = []
    for first, nxt, resolution in itertools.product(times, repeat=3):
        made.append((make(world.channel_a, due=first, next_due=nxt, resolution_due=resolution,
                          waiting=first), [first, nxt, resolution], first))
    db.session.expire_all()
    for conversation_id, due, waiting in made:
        conversation = db.session.get(Conversation, conversation_id)
        expected = min((d for d in due if d is not None), default=SORT_SENTINEL)
        assert conversation.sla_sort_at == expected
        assert conversation.waiting_sort_at == (waiting or SORT_SENTINEL)
        key = conversation_payload(conversation)["sort_key"]
        assert key[0] == expected.strftime("%Y-%m-%dT%H:%M:%S.%fZ") and key[2] == conversation_id


def test_ingest_keeps_the_sort_key_without_knowing_it(world):
    got = factories.receive(world.channel_a.id, text="my bill is wrong")
    conversation = db.session.get(Conversation, got.conversation_id)
    assert conversation.first_response_due_at is not None  # the SLA clock runs on a new conversation
    assert conversation.sla_sort_at == conversation.sla_due_at
    assert conversation.waiting_sort_at == conversation.customer_waiting_since


def test_every_filter(world):
    now = utcnow()
    a = world.channel_a
    other_channel = factories.channel(world.team_a, "Second channel")
    other_channel.platform = "telegram"
    db.session.commit()
    pending = make(a, status="pending")
    snoozed = make(a, status="snoozed")
    on_telegram = make(other_channel)
    billing = make(a, intent="billing")
    english = make(a, language="en")
    urgent = make(a, priority=1)
    overdue = make(a, due=now - timedelta(minutes=1))
    within_hour = make(a, due=now + timedelta(minutes=30))
    in_two_days = make(a, due=now + timedelta(days=2))
    user = world.agent_a
    everything = set(ids(user))
    assert ids(user, status="pending") == [pending] and ids(user, status="snoozed") == [snoozed]
    assert snoozed in everything  # snoozed is still active work
    assert ids(user, channel=str(other_channel.id)) == [on_telegram]
    assert ids(user, platform="telegram") == [on_telegram]
    assert ids(user, intent="billing") == [billing]
    assert ids(user, language="en") == [english]
    assert ids(user, priority="1") == [urgent]
    assert ids(user, sla="overdue") == [overdue]
    assert ids(user, sla="hour") == [within_hour]
    assert within_hour in ids(user, sla="today") and in_two_days not in ids(user, sla="today")
    assert overdue not in ids(user, sla="none") and pending in ids(user, sla="none")
    # Filters combine, and the counts follow them.
    assert ids(user, intent="billing", priority="1") == []
    assert queue.counts(user, queue.parse_query(user, {"sla": "overdue"}))["team"] == 1


def test_search_by_name_handle_and_text_with_wildcards_taken_literally(world):
    a = world.channel_a
    lina = make(a, name="Lina Haddad", text="hello")
    handle = make(a, handle="omar_jo", text="hi")
    arabic = make(a, text="الفاتورة غلط هالشهر")
    percent = make(a, text="I was charged 100% extra")
    plain = make(a, name="Someone", handle="someone", text="1000 extra")
    elsewhere = make(world.channel_b, name="Lina of team B")
    user = world.agent_a
    assert ids(user, q="lina") == [lina]  # case-insensitive; team B's Lina stays unseen
    assert elsewhere in ids(world.supervisor, q="Lina")
    assert ids(user, q="الفاتورة") == [arabic]
    assert ids(user, q="100%") == [percent]  # % is a character, not "anything"
    lookalike = make(a, handle="omarxjo", text="hi")
    assert ids(user, q="omar_jo") == [handle] and lookalike in ids(user, q="omarx")  # _ is not "any character"
    assert plain not in ids(user, q="100%")
    assert ids(user, q="nobody-has-this") == []


def test_keyset_pages_lose_and_repeat_nothing_while_rows_change(world):
    now = utcnow().replace(microsecond=0)
    a = world.channel_a
    # Many ties on both keys: only the id tells rows apart.
    original = [make(a, due=now + timedelta(minutes=i % 3), waiting=now - timedelta(minutes=i % 2))
                for i in range(23)] + [make(a) for _ in range(7)]
    user = world.supervisor
    seen: list[int] = []
    query = queue.parse_query(user, {})
    leaving = set()
    while True:
        result = queue.page(user, query, size=4)
        seen.extend(c.id for c in result.items)
        # Meanwhile: a new conversation lands on top, and one already seen is resolved.
        make(a, due=now - timedelta(days=1))
        done = db.session.get(Conversation, result.items[0].id)
        done.status = "resolved"
        leaving.add(done.id)
        db.session.commit()
        if result.next is None:
            break
        query = queue.parse_query(user, {"after": result.next})
    assert len(seen) == len(set(seen))
    assert [i for i in seen if i in original] == sorted(
        original, key=lambda i: (db.session.get(Conversation, i).sla_sort_at,
                                 db.session.get(Conversation, i).waiting_sort_at, i))


def test_bad_parameters_are_refused(app, client, people):
    login(client, people.agent_a.email)
    for query in ("view=all", "view=triage", "view=bogus", "status=deleted", "status=priority;DROP TABLE",
                  "sla=soon", "priority=9", "channel=abc", "platform=myspace", "intent=x", "language=fr",
                  "sort=priority", "after=forged", "q=" + "x" * 101, "q=x"):
        assert client.get("/?" + query).status_code == 400, query
        response = client.get("/api/conversations?" + query)
        assert response.status_code == 400 and response.json["error"], query


def test_the_api_pages_by_cursor_and_the_page_links_keep_the_filters(app, client, people):
    with app.app_context():
        channel = db.session.get(Channel, people.channel_a.id)
        made = [make(channel, intent="roaming") for _ in range(queue.PAGE_SIZE + 5)]
        make(channel, intent="billing")
    login(client, people.agent_a.email)
    first = client.get("/api/conversations?view=team&intent=roaming&counts=1").json
    assert len(first["items"]) == queue.PAGE_SIZE and first["next"]
    assert first["counts"] == {"mine": 0, "team": len(made), "unassigned": len(made)}
    second = client.get(f"/api/conversations?view=team&intent=roaming&after={first['next']}").json
    assert second["next"] is None and "counts" not in second
    tampered = first["next"][:-3] + ("abc" if not first["next"].endswith("abc") else "xyz")
    assert client.get(f"/api/conversations?view=team&after={tampered}").status_code == 400
    assert [c["id"] for c in first["items"] + second["items"]] == made
    assert client.get("/api/conversations/counts?view=team&intent=billing").json["counts"]["team"] == 1
    page = client.get("/?view=unassigned&intent=roaming").get_data(as_text=True)
    assert 'data-testid="load-more"' in page and "data-next=\"\"" not in page
    assert 'href="/?view=team&amp;intent=roaming"' in page  # the tabs keep the filters
    assert f'data-count="team">{len(made)}<' in page
    assert '<option value="roaming" selected>' in page


def test_the_old_status_parameter_still_filters(app, client, people):
    with app.app_context():
        make(db.session.get(Channel, people.channel_a.id), status="resolved", name="Resolved Customer")
    login(client, people.agent_a.email)
    assert "Resolved Customer" not in client.get("/").get_data(as_text=True)
    assert "Resolved Customer" in client.get("/?status=resolved").get_data(as_text=True)
    assert client.get("/api/conversations?status=resolved").json["items"][0]["customer"]["name"] == "Resolved Customer"


def test_a_big_view_counts_up_to_the_cap_and_says_so(world, client, monkeypatch):
    monkeypatch.setattr(queue, "COUNT_CAP", 2)
    for _ in range(4):
        make(world.channel_a)
    agent = world.agent_a
    assert queue.counts(agent, queue.parse_query(agent, {}))["team"] == 3  # "more than 2"
    login(client, agent.email)
    page = client.get("/?view=team").get_data(as_text=True)
    assert '<span class="count" data-count="team">2+</span>' in page
    assert '<span class="count" data-count="mine">0</span>' in page
