"""New messages stored by the batch: a fixed number of set-based statements for hundreds of them.

Through the ORM's unit of work, look-ups and lazy loads cost 6–7 ms a message (measured with
cProfile on PostgreSQL); here every step is one statement per batch (chunked), so a batch of a
few hundred messages costs a couple of dozen round trips (inbox.db.bulk_insert). The rules are DESIGN.md step 3: one
row per (channel, external id); a private message joins its customer's latest conversation on
the channel, a public one the conversation of the message it answers, else its author's in that
thread; a resolved conversation reopens; an echo of our own reply never creates or reopens one,
and counts as the agents' answer for the SLA (an agent who replied from the platform's app).

Two workers may ingest at once (PostgreSQL). Identities are created with ON CONFLICT DO NOTHING
(the loser adopts the winner's customer), then an advisory lock is taken on every author's
customer, in id order, before anything is looked up, so two batches about one customer run one
after the other and never open two conversations for them.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, text, tuple_, update

from connectors.types import OUTBOUND, InboundMessage
from inbox.db import among, bulk_insert, bulk_update, insert_returning_ids, is_postgresql
from inbox.extensions import db
from inbox.models import Channel, Conversation, ConversationEvent, Customer, Identity, Message
from inbox.models.base import utcnow
from inbox.models.conversation import ACTIVE_STATUSES, PREVIEW_LENGTH, bump_seq
from inbox.services import sla
from routing.normalize import clean_for_storage

CHUNK = 500  # (thread, customer) pairs per IN (...) list
LAST_SEEN_PRECISION = timedelta(seconds=5)  # of a channel's last-message time
CUSTOMER_LOCK_SPACE = 0x7A5C  # the first key of our advisory locks on customers
SLA_COLUMNS = ("opened_at", "customer_waiting_since", "paused_since", "sla_pauses", "sla_policy",
               "first_response_due_at", "next_response_due_at", "resolution_due_at", "sla_check_at")
SLA_LOADED = (*SLA_COLUMNS, "first_response_at", "last_agent_reply_at")
ROUTING_COLUMNS = ("triage", "noise", "queued_at", "supervisor_alerted_at")  # inbox/services/routing_decisions.py


@dataclass
class Author:
    identity_id: int
    customer_id: int
    name: str  # what agents see: the identity's display name, else its handle
    customer_name: str


@dataclass
class Thread:
    """A conversation this batch touches: loaded as plain values, changed here, written once."""

    id: int | None
    channel: Channel
    customer_id: int | None
    customer_name: str
    status: str
    is_public: bool
    thread_external_id: str | None
    team_id: int | None
    assignee_id: int | None
    priority: int
    language: str | None
    intent: str | None
    intent_confidence: float | None
    intent_model_version_id: int | None
    sentiment: str | None
    created_at: datetime
    last_message_at: datetime | None = None
    last_customer_message_at: datetime | None = None
    preview: str = ""
    created: bool = False
    reopened: bool = False
    changed: bool = False
    texts: list[str] = field(default_factory=list)  # the customer's words in this batch
    agent_replied_at: datetime | None = None  # an echo's time: an agent answered from the platform's own app
    answered: bool = False  # an echo came after the customer's last message of this batch
    decision: dict[str, Any] = field(default_factory=dict)  # why it was classified and routed so
    # Routing (inbox/services/routing_decisions.py): columns, then what is written once ids exist.
    triage: bool = False
    noise: bool = False
    queued_at: datetime | None = None
    supervisor_alerted_at: datetime | None = None
    route_tags: tuple[str, ...] = ()
    auto_reply: int | None = None
    preferred_agent_id: int | None = None
    assignment: dict[str, Any] | None = None  # the "assigned" event's data
    # The SLA clock (inbox/services/sla.py): loaded, moved by ingest's services, written back.
    opened_at: datetime | None = None
    first_response_at: datetime | None = None  # written only when an echo answered (sla.echoes_answered)
    last_agent_reply_at: datetime | None = None  # idem
    customer_waiting_since: datetime | None = None
    paused_since: datetime | None = None
    sla_pauses: list[list[str]] = field(default_factory=list)
    sla_policy: dict[str, Any] | None = None
    first_response_due_at: datetime | None = None
    next_response_due_at: datetime | None = None
    resolution_due_at: datetime | None = None
    sla_check_at: datetime | None = None
    seq: int = 1  # the conversation's sequence number once written (screens catch up on gaps)

    def values(self) -> dict[str, Any]:
        """The columns this module writes."""
        return {
            "status": self.status, "preview": self.preview, "last_message_at": self.last_message_at,
            "last_customer_message_at": self.last_customer_message_at, "language": self.language,
            "intent": self.intent, "intent_confidence": self.intent_confidence,
            "intent_model_version_id": self.intent_model_version_id, "sentiment": self.sentiment,
            "priority": self.priority, "team_id": self.team_id, "assignee_id": self.assignee_id,
            **{name: getattr(self, name) for name in SLA_COLUMNS},
            **{name: getattr(self, name) for name in ROUTING_COLUMNS},
        }


@dataclass
class Stored:
    """One new message, as stored."""

    id: int | None
    thread: Thread
    row: dict[str, Any]
    author: str | None
    created: bool  # this message opened its conversation
    reopened: bool  # this message reopened it


@dataclass
class Result:
    messages: list[Stored]
    threads: list[Thread]  # every conversation touched, in first-touched order


# A hook run on the conversations that were opened or reopened, before anything is written:
# classification and routing set their fields (language, intent, team, priority ...).
Decide = Callable[[list[Thread]], None]


def store_new(items: list[tuple[Channel, InboundMessage]], decide: Decide) -> Result:
    """Store the new messages among ``items`` (creates only); nothing is committed here."""
    authors = _authors([inbound for _, inbound in items if inbound.direction != OUTBOUND])
    stored_before = _stored_before(items)
    plan = _Plan(items, authors)
    messages: list[Stored] = []
    now = utcnow()
    for channel, inbound in items:
        key = (channel.id, inbound.external_id)
        if key in stored_before:
            continue
        stored_before.add(key)
        stored = plan.place(channel, inbound, now)
        if stored is not None:
            messages.append(stored)
    threads = list(plan.touched.values())
    decide([t for t in threads if t.created or t.reopened])
    sla.customer_wrote(threads)
    sla.echoes_answered(threads)
    _write(messages, threads, now)
    return Result(messages, threads)


# ---- authors: one customer per platform user ------------------------------------------------

def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _author_name(inbound: InboundMessage) -> str:
    return clean_for_storage(inbound.author_name or inbound.author_handle or inbound.author_id)[:255]


def _authors(messages: list[InboundMessage]) -> dict[tuple[str, str], Author]:
    latest: dict[tuple[str, str], InboundMessage] = {}
    for inbound in messages:
        latest[(inbound.platform, inbound.author_id)] = inbound  # the newest name wins
    if not latest:
        return {}
    found = _select_identities(sorted(latest))
    missing = sorted(key for key in latest if key not in found)
    if missing:
        found.update(_create_identities([latest[key] for key in missing]))
    _lock_customers(sorted({a.customer_id for a in found.values()}))
    renamed = [(found[key], _author_name(m)) for key, m in latest.items()
               if m.author_name and found[key].name != _author_name(m)]
    if renamed:
        bulk_update(Identity, [{"id": author.identity_id, "display_name": name} for author, name in renamed])
        for author, name in renamed:
            author.name = name
    return found


def _select_identities(keys: list[tuple[str, str]]) -> dict[tuple[str, str], Author]:
    found: dict[tuple[str, str], Author] = {}
    by_platform: dict[str, list[str]] = {}
    for platform, user_id in keys:
        by_platform.setdefault(platform, []).append(user_id)
    for platform, user_ids in by_platform.items():
        rows = db.session.execute(
            select(Identity.id, Identity.customer_id, Identity.platform, Identity.external_user_id,
                   Identity.display_name, Identity.handle, Customer.display_name.label("customer_name"))
            .join(Customer, Customer.id == Identity.customer_id)
            .where(Identity.platform == platform, among(Identity.external_user_id, user_ids)))
        for row in rows:
            found[(row.platform, row.external_user_id)] = Author(
                row.id, row.customer_id, row.display_name or row.handle or "", row.customer_name)
    return found


def _create_identities(messages: list[InboundMessage]) -> dict[tuple[str, str], Author]:
    """A customer and an identity for each new platform user. Another worker may create the
    same identity meanwhile: ours is then not inserted, and our spare customer is removed."""
    names = [_author_name(m) for m in messages]
    customer_ids = insert_returning_ids(Customer, [{"display_name": name} for name in names])
    rows = [{"customer_id": cid, "platform": m.platform, "external_user_id": m.author_id,
             "handle": m.author_handle, "display_name": name}
            for cid, m, name in zip(customer_ids, messages, names, strict=True)]
    named = {(row["platform"], row["external_user_id"]): row["display_name"] for row in rows}
    inserted = {}
    for row in bulk_insert(Identity, rows, ("id", "platform", "external_user_id", "customer_id"),
                           ignore_conflicts_on=["platform", "external_user_id"]):
        key = (row.platform, row.external_user_id)
        inserted[key] = Author(row.id, row.customer_id, named[key], named[key])
    lost = [(m.platform, m.author_id) for m in messages if (m.platform, m.author_id) not in inserted]
    if lost:
        spare = [row["customer_id"] for row in rows if (row["platform"], row["external_user_id"]) in set(lost)]
        db.session.execute(delete(Customer).where(among(Customer.id, spare)))
        inserted.update(_select_identities(lost))
    return inserted


def _lock_customers(customer_ids: list[int]) -> None:
    """Batches about the same customers take turns (PostgreSQL; SQLite has one writer): a
    transaction-scoped advisory lock per customer, taken in id order so two batches never wait
    on each other in a circle. Advisory locks live in memory: no row is written to take one."""
    if customer_ids and is_postgresql():
        db.session.execute(text(
            "SELECT pg_advisory_xact_lock(:space, locked.id) FROM "
            "(SELECT id FROM unnest(CAST(:ids AS integer[])) AS id ORDER BY id) AS locked"),
            {"space": CUSTOMER_LOCK_SPACE, "ids": customer_ids})


def _stored_before(items: list[tuple[Channel, InboundMessage]]) -> set[tuple[int, str]]:
    by_channel: dict[int, list[str]] = {}
    for channel, inbound in items:
        by_channel.setdefault(channel.id, []).append(inbound.external_id)
    stored: set[tuple[int, str]] = set()
    for channel_id, ids in by_channel.items():
        found = db.session.scalars(select(Message.external_id).where(
            Message.channel_id == channel_id, among(Message.external_id, sorted(set(ids)))))
        stored.update((channel_id, external_id) for external_id in found)
    return stored


# ---- threading: which conversation each message joins ---------------------------------------

_COLUMNS = (Conversation.id, Conversation.channel_id, Conversation.customer_id, Conversation.status,
            Conversation.is_public, Conversation.thread_external_id, Conversation.team_id,
            Conversation.assignee_id, Conversation.priority, Conversation.language, Conversation.intent,
            Conversation.intent_confidence, Conversation.intent_model_version_id, Conversation.sentiment,
            Conversation.created_at,
            Conversation.last_message_at, Conversation.last_customer_message_at, Conversation.preview,
            *(Conversation.__table__.c[name] for name in SLA_LOADED),
            *(Conversation.__table__.c[name] for name in ROUTING_COLUMNS))


class _Plan:
    """Finds each message's conversation with a few set-based look-ups made up front."""

    def __init__(self, items: list[tuple[Channel, InboundMessage]], authors: dict[tuple[str, str], Author]):
        self.authors = authors
        self.channels = {channel.id: channel for channel, _ in items}
        self.touched: dict[int, Thread] = {}  # by id(thread): new ones have no id yet
        self.by_message: dict[tuple[int, str], Thread] = {}
        self.loaded: dict[int, Thread] = {}  # by conversation id
        self.private: dict[tuple[int, int], Thread | None] = {}
        self.public: dict[tuple[int, str, int], Thread | None] = {}
        self.parents: dict[tuple[int, str], int] = {}
        self._load(items)

    def _load(self, items: list[tuple[Channel, InboundMessage]]) -> None:
        parents: dict[int, set[str]] = {}
        private: dict[int, set[int]] = {}
        public: dict[int, set[tuple[str, int]]] = {}
        for channel, inbound in items:
            if inbound.parent_id:
                parents.setdefault(channel.id, set()).add(inbound.parent_id)
            author = self.authors.get((inbound.platform, inbound.author_id))
            if inbound.direction == OUTBOUND or author is None:
                continue
            if inbound.is_public:
                thread = inbound.thread_id or inbound.external_id
                public.setdefault(channel.id, set()).add((thread, author.customer_id))
                self.public[(channel.id, thread, author.customer_id)] = None
            else:
                private.setdefault(channel.id, set()).add(author.customer_id)
                self.private[(channel.id, author.customer_id)] = None
        wanted: set[int] = set()
        for channel_id, ids in parents.items():
            for external_id, conversation_id in db.session.execute(
                    select(Message.external_id, Message.conversation_id)
                    .where(Message.channel_id == channel_id, among(Message.external_id, sorted(ids)))):
                self.parents[(channel_id, external_id)] = conversation_id
                wanted.add(conversation_id)
        if wanted:
            for row in self._rows(among(Conversation.id, sorted(wanted))):
                self._adopt(row)
        for channel_id, customers in private.items():
            for row in self._latest(Conversation.customer_id, Conversation.channel_id == channel_id,
                                    among(Conversation.customer_id, sorted(customers)),
                                    Conversation.is_public.is_(False)):
                self.private[(channel_id, row.customer_id)] = self._adopt(row)
        for channel_id, pairs in public.items():
            for chunk in _chunks(sorted(pairs)):
                for row in self._latest((Conversation.thread_external_id, Conversation.customer_id),
                                        Conversation.channel_id == channel_id,
                                        tuple_(Conversation.thread_external_id, Conversation.customer_id).in_(chunk)):
                    self.public[(channel_id, row.thread_external_id, row.customer_id)] = self._adopt(row)

    def _rows(self, *where):
        """The conversations, locked until the batch commits (in id order, so two workers cannot
        deadlock): the batch writes back columns it read here, so an agent's claim, reply or status
        change must not commit in between and be overwritten; it waits for the batch instead."""
        statement = select(*_COLUMNS, Customer.display_name.label("customer_name")).join(
            Customer, Customer.id == Conversation.customer_id).where(*where)
        return db.session.execute(statement.order_by(Conversation.id).with_for_update(of=Conversation)).all()

    def _latest(self, partition, *where):
        """The latest conversation per ``partition`` among those ``where`` selects."""
        partition = partition if isinstance(partition, tuple) else (partition,)
        ranked = select(Conversation.id, func.row_number().over(
            partition_by=partition, order_by=(Conversation.last_message_at.desc(), Conversation.id.desc()),
        ).label("rank")).where(*where).subquery()
        return self._rows(Conversation.id.in_(select(ranked.c.id).where(ranked.c.rank == 1)))

    def _adopt(self, row) -> Thread:
        if row.id not in self.loaded:
            self.loaded[row.id] = Thread(
                id=row.id, channel=self.channels.get(row.channel_id) or db.session.get(Channel, row.channel_id),
                customer_id=row.customer_id, customer_name=row.customer_name, status=row.status,
                is_public=row.is_public, thread_external_id=row.thread_external_id, team_id=row.team_id,
                assignee_id=row.assignee_id, priority=row.priority, language=row.language, intent=row.intent,
                intent_confidence=row.intent_confidence, intent_model_version_id=row.intent_model_version_id,
                sentiment=row.sentiment, created_at=row.created_at,
                last_message_at=row.last_message_at, last_customer_message_at=row.last_customer_message_at,
                preview=row.preview, **{name: getattr(row, name) for name in SLA_LOADED},
                **{name: getattr(row, name) for name in ROUTING_COLUMNS})
            self.loaded[row.id].sla_pauses = self.loaded[row.id].sla_pauses or []
        return self.loaded[row.id]

    def _echo_thread(self, channel: Channel, key: str) -> Thread | None:
        """An echo of a DM: ``key`` is the platform's conversation id (X, Telegram) or the
        recipient's user id (Meta). Rare, so looked up one at a time."""
        latest = select(Conversation.id).order_by(Conversation.last_message_at.desc(), Conversation.id.desc()).limit(1)
        by_thread = latest.join(Message, Message.conversation_id == Conversation.id).where(
            Message.channel_id == channel.id, Message.platform_conversation_id == key)
        by_recipient = latest.join(Identity, Identity.customer_id == Conversation.customer_id).where(
            Conversation.channel_id == channel.id, Conversation.is_public.is_(False),
            Identity.platform == channel.platform, Identity.external_user_id == key)
        conversation_id = db.session.scalar(by_thread) or db.session.scalar(by_recipient)
        if conversation_id is None:
            return None
        if conversation_id not in self.loaded:
            [row] = self._rows(Conversation.id == conversation_id)
            self._adopt(row)
        return self.loaded[conversation_id]

    def place(self, channel: Channel, inbound: InboundMessage, now: datetime) -> Stored | None:
        echo = inbound.direction == OUTBOUND
        author = None if echo else self.authors[(inbound.platform, inbound.author_id)]
        thread = self._existing(channel, inbound, author)
        created = reopened = False
        if thread is None:
            if echo:
                return None  # an echo of something we have no conversation for
            thread = self._open(channel, inbound, author)
            created = True
        elif not echo and thread.status not in ACTIVE_STATUSES and not thread.created:
            thread.status, thread.reopened, reopened = "open", True, True
        elif not echo and thread.status in ("pending", "snoozed"):  # the customer answered, or woke it
            thread.status = "open"
        text = clean_for_storage(inbound.text)
        thread.preview, thread.last_message_at, thread.changed = text[:PREVIEW_LENGTH], now, True
        if echo:  # the account's own message: an agent's answer from the platform's app, for the SLA
            sent = min(inbound.created_at, now)
            thread.agent_replied_at, thread.answered = max(sent, thread.agent_replied_at or sent), True
        else:
            thread.last_customer_message_at, thread.answered = now, False
            thread.texts.append(text)
        self.touched.setdefault(id(thread), thread)
        self.by_message[(channel.id, inbound.external_id)] = thread
        row = {
            "channel_id": channel.id, "external_id": inbound.external_id, "parent_external_id": inbound.parent_id,
            "platform_conversation_id": inbound.conversation_key, "direction": "out" if echo else "in",
            "author_identity_id": author.identity_id if author else None, "text": text,
            "attachments": [_attachment(a) for a in inbound.attachments], "is_public": inbound.is_public,
            "state": "sent" if echo else "received", "created_at": now,
            "sent_at": inbound.created_at if echo else None,
        }
        return Stored(None, thread, row, author.name if author else None, created, reopened)

    def _existing(self, channel: Channel, inbound: InboundMessage, author: Author | None) -> Thread | None:
        if inbound.parent_id:
            key = (channel.id, inbound.parent_id)
            if key in self.by_message:
                return self.by_message[key]
            if key in self.parents:
                return self.loaded[self.parents[key]]
        if author is None:
            return self._echo_thread(channel, inbound.conversation_key) if inbound.conversation_key else None
        if inbound.is_public:
            return self.public[(channel.id, inbound.thread_id or inbound.external_id, author.customer_id)]
        return self.private[(channel.id, author.customer_id)]

    def _open(self, channel: Channel, inbound: InboundMessage, author: Author) -> Thread:
        thread_id = (inbound.thread_id or inbound.external_id) if inbound.is_public else None
        thread = Thread(id=None, channel=channel, customer_id=author.customer_id, customer_name=author.customer_name,
                        status="open", is_public=inbound.is_public, thread_external_id=thread_id,
                        team_id=channel.team_id, assignee_id=None, priority=2, language=None, intent=None,
                        intent_confidence=None, intent_model_version_id=None, sentiment=None,
                        created_at=utcnow(), created=True)
        if thread_id is None:
            self.private[(channel.id, author.customer_id)] = thread
        else:
            self.public[(channel.id, thread_id, author.customer_id)] = thread
        return thread


def _attachment(attachment) -> dict[str, Any]:
    return {k: clean_for_storage(v) if isinstance(v, str) else v for k, v in vars(attachment).items()}


# ---- writing: one statement per table --------------------------------------------------------

def _write(messages: list[Stored], threads: list[Thread], now: datetime) -> None:
    new = [t for t in threads if t.id is None]
    if new:
        rows = [{**t.values(), "channel_id": t.channel.id, "customer_id": t.customer_id, "is_public": t.is_public,
                 "thread_external_id": t.thread_external_id, "created_at": t.created_at, "updated_at": now}
                for t in new]
        for thread, conversation_id in zip(new, insert_returning_ids(Conversation, rows), strict=True):
            thread.id = conversation_id
    bulk_update(Conversation, [{**t.values(), "id": t.id, "updated_at": now}
                               for t in threads if t.changed and not t.created])
    bulk_update(Conversation, [{"id": t.id, "first_response_at": t.first_response_at,
                                "last_agent_reply_at": t.last_agent_reply_at}
                               for t in threads if t.agent_replied_at is not None and not t.created])
    reopened = [t.id for t in threads if t.reopened]
    if reopened:
        db.session.execute(update(Conversation).where(among(Conversation.id, reopened)).values(resolved_at=None)
                           .execution_options(synchronize_session=False))
    if messages:
        rows = [{**m.row, "conversation_id": m.thread.id} for m in messages]
        for stored, message_id in zip(messages, insert_returning_ids(Message, rows), strict=True):
            stored.id = message_id
    seqs = bump_seq([t.id for t in threads if not t.created], [t.id for t in threads if t.created])
    for thread in threads:
        thread.seq = seqs.get(thread.id, thread.seq)
    last_seen: dict[int, datetime] = {}
    for stored in messages:
        if stored.row["direction"] == "in":
            last_seen[stored.row["channel_id"]] = now
    for channel_id, when in last_seen.items():
        # To the nearest few seconds: writing it for every batch would make concurrent
        # batches of one busy channel wait on each other for its row.
        db.session.execute(update(Channel).where(
            Channel.id == channel_id,
            or_(Channel.last_message_at.is_(None), Channel.last_message_at < when - LAST_SEEN_PRECISION),
        ).values(last_message_at=when).execution_options(synchronize_session=False))
    events = [{"conversation_id": t.id, "kind": "created" if t.created else "reopened", "data": t.decision,
               "created_at": now}
              for t in threads if t.created or t.reopened]
    if events:
        bulk_insert(ConversationEvent, events)

