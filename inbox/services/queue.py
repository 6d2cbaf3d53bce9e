"""The agent's queue: views by role, filters, search, keyset pages and counts per view.

Order: SLA due first (soonest / most overdue at the top), then the longest waiting customer, then
id. Both keys are stored, generated columns (inbox/models/conversation.py, ``QUEUE_KEYS``) with a
far-future sentinel instead of NULL, so a page boundary is one row-value comparison and each
view's first and next page are one index range scan of a partial index over the active
conversations (tests/inbox/test_queue_plan.py checks the plans on PostgreSQL).

Every parameter is checked against a whitelist (``InvalidInput`` -> 400); no SQL is built from
input. Search matches customer names, handles and message text: each source gives at most
``SEARCH_MATCHES`` ids (pg_trgm GIN indexes on PostgreSQL, a scan on SQLite), so a common word
stays bounded, then the view and the filters apply to those conversations only.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Select, and_, false, func, literal_column, or_, select, true, tuple_, union_all
from sqlalchemy.orm import selectinload

from connectors.registry import PLATFORMS
from inbox.db import among
from inbox.extensions import db
from inbox.models import Channel, Conversation, Customer, Identity, Message, User
from inbox.models.base import utcnow
from inbox.models.conversation import ACTIVE_STATUSES, SORT_SENTINEL
from inbox.services.errors import InvalidInput
from routing.labels import INTENTS, LANGUAGES

PAGE_SIZE = 50
SEARCH_MIN, SEARCH_MAX = 2, 100
COUNT_CAP = 999  # a view's count is exact up to here, then "999+"
SEARCH_MATCHES = 1000  # per source (names, handles, messages): a common word stays cheap
VIEWS = ("mine", "team", "unassigned", "triage", "all")
STATUSES: dict[str, tuple[str, ...]] = {
    "active": ACTIVE_STATUSES, "open": ("new", "open"), "new": ("new",), "pending": ("pending",),
    "snoozed": ("snoozed",), "resolved": ("resolved",),
}
SLA_FILTERS = ("overdue", "hour", "today", "none")
PRIORITIES = ("1", "2", "3", "4")
PARAMETERS = ("view", "status", "channel", "platform", "intent", "language", "priority", "sla", "q", "after",
              "counts")
KEYS = (Conversation.sla_sort_at, Conversation.waiting_sort_at, Conversation.id)


@dataclass(frozen=True)
class QueueQuery:
    """One screen's question, validated: which view, which filters, from which row on."""

    view: str
    status: str = "active"
    channel: int | None = None
    platform: str | None = None
    intent: str | None = None
    language: str | None = None
    priority: int | None = None
    sla: str | None = None
    q: str | None = None
    after: tuple[datetime, datetime, int] | None = None

    def filters(self) -> dict[str, str]:
        """The filters as URL parameters (the view, the search and the cursor left out)."""
        values = {"status": self.status if self.status != "active" else None, "channel": self.channel,
                  "platform": self.platform, "intent": self.intent, "language": self.language,
                  "priority": self.priority, "sla": self.sla}
        return {name: str(value) for name, value in values.items() if value is not None}


@dataclass
class Page:
    items: list[Conversation]
    next: str | None  # the cursor of the next page, None on the last
    query: QueueQuery
    counts: dict[str, int] = field(default_factory=dict)


def views_for(user: User) -> list[str]:
    """Mine and Unassigned for everyone, Team for members of a team, Triage and All for supervisors
    and admins. An agent has no "All": it would be Team plus the few conversations assigned to
    them in another team, which Mine already shows, and an OR of two keys cannot be read in order
    from one index."""
    views = ["mine"] + (["team"] if user.team_ids else []) + ["unassigned"]
    return views + (["triage", "all"] if user.sees_all_teams else [])


def default_view(user: User) -> str:
    if user.sees_all_teams:
        return "all"
    return "team" if user.team_ids else "mine"


def parse_query(user: User, args: Mapping[str, str]) -> QueueQuery:
    """The query from URL parameters; InvalidInput on any unknown name or value."""
    unknown = sorted(set(args) - set(PARAMETERS))
    if unknown:
        raise InvalidInput(f"unknown parameter {unknown[0]!r}")

    def choice(name: str, allowed) -> str | None:
        value = args.get(name) or None
        if value is not None and value not in allowed:
            raise InvalidInput(f"unknown {name} {value!r}")
        return value

    view = choice("view", views_for(user)) or default_view(user)
    channel = args.get("channel") or None
    if channel is not None and not (channel.isdigit() and len(channel) < 10):
        raise InvalidInput("channel must be a channel id")
    priority = choice("priority", PRIORITIES)
    q = " ".join((args.get("q") or "").split()) or None
    if q is not None and not SEARCH_MIN <= len(q) <= SEARCH_MAX:
        raise InvalidInput(f"search for {SEARCH_MIN} to {SEARCH_MAX} characters")
    return QueueQuery(
        view=view, status=choice("status", STATUSES) or "active",
        channel=int(channel) if channel else None, platform=choice("platform", PLATFORMS),
        intent=choice("intent", INTENTS), language=choice("language", LANGUAGES),
        priority=int(priority) if priority else None, sla=choice("sla", SLA_FILTERS), q=q,
        after=decode_cursor(args["after"]) if args.get("after") else None,
    )


# ---- the cursor: the last row's keys, signed so that a client cannot hand us anything else ----

def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="queue-cursor")


def encode_cursor(conversation: Conversation) -> str:
    keys = [conversation.sla_sort_at.isoformat(), conversation.waiting_sort_at.isoformat(), conversation.id]
    return _serializer().dumps(keys)


def decode_cursor(cursor: str) -> tuple[datetime, datetime, int]:
    try:
        due, waiting, last_id = _serializer().loads(cursor[:300])
        return datetime.fromisoformat(due), datetime.fromisoformat(waiting), int(last_id)
    except (BadSignature, ValueError, TypeError) as exc:
        raise InvalidInput("bad cursor") from exc


# ---- building the statement ----------------------------------------------------------------

def _status_condition(status: str):
    # Literal values (a whitelist's, never input): a plan prepared for parameters could not prove
    # that they imply the partial indexes' "status IN (…active…)".
    return Conversation.status.in_([literal_column(f"'{value}'") for value in STATUSES[status]])


def _scope(user: User, view: str) -> tuple[list, list[int] | None]:
    """The view's conditions, and the team ids it covers (None: not split by team)."""
    if view == "mine":
        return [Conversation.assignee_id == user.id], None
    if view == "team":
        return [], user.team_ids
    if view == "unassigned":  # one index for every team: an agent's teams are a filter on it
        conditions = [Conversation.assignee_id.is_(None), Conversation.triage == false()]
        if not user.sees_all_teams:
            conditions.append(among(Conversation.team_id, user.team_ids) if user.team_ids else false())
        return conditions, None
    if view == "triage":
        return [Conversation.triage == true()], None
    return [], None  # all (supervisors and admins)


def _sla_condition(user: User, sla: str, now: datetime):
    due = Conversation.sla_sort_at
    if sla == "overdue":
        return due <= now
    if sla == "hour":
        return and_(due > now, due <= now + timedelta(hours=1))
    if sla == "today":
        zone = ZoneInfo(user.timezone or "Asia/Amman")
        local_midnight = datetime.combine(now.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).date()
                                          + timedelta(days=1), time(), zone)
        end = local_midnight.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
        return and_(due > now, due <= end)
    return due == SORT_SENTINEL  # none: no target running


def _filters(user: User, query: QueueQuery) -> list:
    conditions = [_status_condition(query.status)]
    if query.channel is not None:
        conditions.append(Conversation.channel_id == query.channel)
    if query.platform:
        conditions.append(Conversation.channel_id.in_(select(Channel.id).where(Channel.platform == query.platform)))
    for name in ("intent", "language", "priority"):
        if getattr(query, name) is not None:
            conditions.append(getattr(Conversation, name) == getattr(query, name))
    if query.sla:
        conditions.append(_sla_condition(user, query.sla, utcnow()))
    return conditions


def like_pattern(term: str) -> str:
    """``%term%`` with the user's own %, _ and \\ matched literally (ESCAPE '\\')."""
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _search_condition(q: str):
    """Conversations whose customer's name or handle, or one of whose messages, contains q."""
    pattern = like_pattern(q)
    customers = set(db.session.scalars(
        select(Customer.id).where(Customer.display_name.ilike(pattern, escape="\\")).limit(SEARCH_MATCHES)))
    customers.update(db.session.scalars(
        select(Identity.customer_id).where(Identity.handle.ilike(pattern, escape="\\")).limit(SEARCH_MATCHES)))
    conversations = set(db.session.scalars(
        select(Message.conversation_id).where(Message.text.ilike(pattern, escape="\\")).limit(SEARCH_MATCHES)))
    if not customers and not conversations:
        return false()
    return or_(among(Conversation.customer_id, sorted(customers)) if customers else false(),
               among(Conversation.id, sorted(conversations)) if conversations else false())


def _ordered_ids(conditions: list, teams: list[int] | None, limit: int) -> Select:
    """The ids and keys of the first ``limit`` rows in queue order. Split by team, one ordered
    index scan per team merged: ``team_id IN (…)`` alone would read every row and sort."""
    columns = (Conversation.id, Conversation.sla_sort_at, Conversation.waiting_sort_at)
    if teams is None or len(teams) == 1:
        scoped = conditions + ([Conversation.team_id == teams[0]] if teams else [])
        return select(*columns).where(*scoped).order_by(*KEYS).limit(limit)
    parts = [select(*columns).where(*conditions, Conversation.team_id == team).order_by(*KEYS).limit(limit)
             .subquery() for team in teams]
    merged = union_all(*[select(*part.c) for part in parts]).subquery()
    return select(*merged.c).order_by(merged.c.sla_sort_at, merged.c.waiting_sort_at, merged.c.id).limit(limit)


def page_statement(user: User, query: QueueQuery, size: int = PAGE_SIZE) -> Select | None:
    """The page's statement (``size`` + 1 rows: one more says a next page exists); None when
    the view is empty by definition (a Team view without a team)."""
    if query.view not in views_for(user):
        raise InvalidInput(f"unknown view {query.view!r}")
    conditions, teams = _scope(user, query.view)
    if teams is not None and not teams:
        return None
    conditions = conditions + _filters(user, query)
    if query.q:
        conditions.append(_search_condition(query.q))
    if query.after:
        conditions.append(tuple_(*KEYS) > tuple_(*query.after))
    ordered = _ordered_ids(conditions, teams, size + 1).subquery()
    return (select(Conversation).join(ordered, Conversation.id == ordered.c.id)
            .options(selectinload(Conversation.customer), selectinload(Conversation.channel))
            .order_by(*KEYS))


def page(user: User, query: QueueQuery, size: int | None = None, with_counts: bool = False) -> Page:
    """One page of the view in queue order, the next page's cursor, and (optionally) the counts."""
    size = max(1, min(size or current_app.config.get("QUEUE_PAGE_SIZE", PAGE_SIZE), 200))
    statement = page_statement(user, query, size)
    items = [] if statement is None else list(db.session.scalars(statement))
    more = len(items) > size
    items = items[:size]
    cursor = encode_cursor(items[-1]) if more else None
    return Page(items, cursor, query, counts(user, query) if with_counts else {})


def count_conditions(user: User, query: QueueQuery) -> dict[str, list]:
    """Each of the user's views' conditions under the query's filters (not its search or page)."""
    filters = _filters(user, query)
    out = {}
    for view in views_for(user):
        conditions, teams = _scope(user, view)
        if teams is not None:
            conditions = conditions + [among(Conversation.team_id, teams) if teams else false()]
        out[view] = conditions + filters
    return out


def counts(user: User, query: QueueQuery) -> dict[str, int]:
    """How many conversations each of the user's views holds under the same filters (not the
    search, not the page): one statement of one count per view. A count stops at COUNT_CAP + 1
    (shown "999+"): past that, nobody reads the exact figure from a tab, and counting every one of
    a supervisor's 50,000 active conversations would cost 150 ms whenever the visibility map lags
    (reports give exact figures)."""
    columns = [select(func.count()).select_from(
                   select(literal_column("1")).select_from(Conversation).where(*conditions)
                   .limit(COUNT_CAP + 1).subquery()).scalar_subquery().label(view)
               for view, conditions in count_conditions(user, query).items()]
    return dict(db.session.execute(select(*columns)).one()._mapping)


def with_view(query: QueueQuery, view: str) -> QueueQuery:
    return replace(query, view=view, after=None)


def sort_key_json(conversation: Conversation) -> str:
    """The row's keys for the page's script (the order new rows are placed in)."""
    return json.dumps([conversation.sla_sort_at.isoformat(), conversation.waiting_sort_at.isoformat(),
                       conversation.id])


def filter_choices(user: User) -> dict[str, list]:
    """What the filter menus offer: the channels the user works on, and the fixed lists."""
    channels = select(Channel.id, Channel.name).order_by(Channel.name)
    if not user.sees_all_teams:
        channels = channels.where(among(Channel.team_id, user.team_ids) if user.team_ids else false())
    return {"status": list(STATUSES), "channel": [(row.id, row.name) for row in db.session.execute(channels)],
            "platform": sorted(PLATFORMS), "intent": list(INTENTS), "language": list(LANGUAGES),
            "priority": [int(p) for p in PRIORITIES], "sla": list(SLA_FILTERS)}
