"""The SLA clock applied to conversations (DESIGN.md step 4): due times, pauses, breaches.

routing.sla decides from plain data; this module loads the policies and the calendar (behind a
cached getter: admins edit them live, STYLE.md habit 7), keeps each conversation's timeline on
its row and stores the due times the clock gives:

* a due time is set while its target runs and cleared once met, so the queue shows what is due;
* ``sla_check_at`` is the earliest due time whose breach is not recorded yet: the breach job
  scans that one indexed column, and records each (conversation, target, started_at) once;
* the policy a conversation runs on is kept with it (``sla_policy``), so an admin's edit applies
  to conversations opened (or re-prioritised) after it and never moves a running deadline.

The functions that take a conversation accept the model or ingest's ``Thread`` (same attribute
names) and change it in place; the caller commits.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from inbox import realtime
from inbox.db import among, bulk_insert, is_postgresql
from inbox.extensions import db
from inbox.models import BusinessHours, Conversation, ConversationEvent, SlaPolicy
from inbox.models import base as clock_source
from inbox.models.conversation import ACTIVE_STATUSES
from routing import sla as clock

EXTENSION = "tawasul_sla"
CHECK_SECONDS = 15.0  # how stale another process's view of the settings may be
BREACH_BATCH = 500
BREACHED = "sla_breached"
_NEVER = datetime(9999, 1, 1)  # "now" far enough ahead that every running target shows as due
_INSTANT = timedelta(microseconds=1)

# The defaults until an admin saves others (also seeded by migration 0005).
DEFAULT_POLICIES = (
    clock.SlaPolicy("Urgent", 1, first_response=timedelta(minutes=15),
                    next_response=timedelta(hours=1), resolution=timedelta(hours=8),
                    business_hours=False),
    clock.SlaPolicy("High", 2, first_response=timedelta(hours=1), next_response=timedelta(hours=2),
                    resolution=timedelta(hours=24)),
    clock.SlaPolicy("Normal", 3, first_response=timedelta(hours=4), next_response=timedelta(hours=4),
                    resolution=timedelta(hours=48)),
    clock.SlaPolicy("Low", 4, first_response=timedelta(hours=24), next_response=timedelta(hours=24),
                    resolution=timedelta(hours=120)),
)
DEFAULT_HOURS = clock.BusinessHours()  # Asia/Amman, Sunday–Thursday 08:00–20:00


@dataclass(frozen=True)
class Settings:
    policies: dict[int, clock.SlaPolicy]  # by priority
    hours: clock.BusinessHours


class _Cache:
    def __init__(self) -> None:
        self.current: Settings | None = None
        self.next_check = 0.0
        self.lock = threading.Lock()


# ---- settings ---------------------------------------------------------------------------------

def settings() -> Settings:
    """The policies and the calendar: from the database at most every SLA_SETTINGS_CHECK_SECONDS
    (at once in the process that saved them), the defaults where nothing is saved."""
    cache = current_app.extensions.setdefault(EXTENSION, _Cache())
    if cache.current is None or time.monotonic() >= cache.next_check:
        with cache.lock:
            if cache.current is None or time.monotonic() >= cache.next_check:
                try:
                    cache.current = _load()
                except SQLAlchemyError:  # keep what we had through a passing database error
                    if cache.current is None:
                        raise
                seconds = current_app.config.get("SLA_SETTINGS_CHECK_SECONDS", CHECK_SECONDS)
                cache.next_check = time.monotonic() + float(seconds)
    return cache.current


def forget_settings() -> None:
    """The next ``settings()`` reads the database again (this process just saved them)."""
    cache = current_app.extensions.get(EXTENSION)
    if cache is not None:
        cache.next_check = 0.0


def policies() -> dict[int, clock.SlaPolicy]:
    return settings().policies


def business_hours() -> clock.BusinessHours:
    return settings().hours


def is_open_now(now: datetime | None = None) -> bool:
    """Whether the support desk is open (for the routing rules' business-hours condition)."""
    return clock.is_open(business_hours(), now or clock_source.utcnow())


def _load() -> Settings:
    # Core through the session's connection: no autoflush of the caller's pending rows.
    connection = db.session.connection()
    found = {row.priority: _policy_of(row) for row in connection.execute(select(SlaPolicy.__table__))}
    config = connection.execute(select(BusinessHours.config).order_by(BusinessHours.id).limit(1)).scalar()
    hours = clock.BusinessHours.from_dict(config) if config else DEFAULT_HOURS
    return Settings({p.priority: found.get(p.priority, p) for p in DEFAULT_POLICIES}, hours)


def _policy_of(row) -> clock.SlaPolicy:
    return clock.SlaPolicy.from_dict({
        "name": row.name, "priority": row.priority, "business_hours": row.business_hours,
        "first_response_minutes": row.first_response_minutes, "next_response_minutes": row.next_response_minutes,
        "resolution_minutes": row.resolution_minutes})


# ---- the clock on a conversation ---------------------------------------------------------------

def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def timeline(conversation: Any) -> clock.Timeline:
    pauses = [(datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in conversation.sla_pauses or ()]
    if conversation.paused_since is not None:
        pauses.append((conversation.paused_since, None))
    return clock.Timeline(
        opened_at=conversation.opened_at or conversation.created_at,
        first_response_at=conversation.first_response_at,
        customer_waiting_since=conversation.customer_waiting_since,
        last_agent_reply_at=conversation.last_agent_reply_at,
        resolved_at=getattr(conversation, "resolved_at", None),  # ingest's threads are never resolved
        pauses=tuple(pauses))


def _recompute(conversation: Any, hours: clock.BusinessHours, recorded: Iterable[tuple] = ()) -> None:
    """Due times of the targets still running, and when the breach job should look next."""
    due: dict[str, datetime] = {}
    check_at = None
    if conversation.sla_policy:
        policy = clock.SlaPolicy.from_dict(conversation.sla_policy)
        recorded = set(recorded)
        for breach in clock.breaches(policy, hours, timeline(conversation), now=_NEVER):
            if breach.met_at is None:
                due[breach.target] = breach.due
            if (breach.target, breach.started_at) not in recorded:
                check_at = breach.due if check_at is None else min(check_at, breach.due)
    conversation.first_response_due_at = due.get("first_response")
    conversation.next_response_due_at = due.get("next_response")
    conversation.resolution_due_at = due.get("resolution")
    conversation.sla_check_at = check_at


def _start_episode(conversation: Any, start: datetime, policy: clock.SlaPolicy | None) -> None:
    conversation.opened_at = start
    conversation.paused_since, conversation.sla_pauses = None, []
    conversation.sla_policy = policy.to_dict() if policy else None


def apply_due_times(threads: list) -> None:
    """Ingest's conversations just opened or reopened (after classification and the rules have
    set their priority): the clock starts at the message that opened them. No queries."""
    if not threads:
        return
    current = settings()
    for thread in threads:
        start = thread.created_at if thread.created else thread.last_message_at
        measured = thread.status in ACTIVE_STATUSES  # the rules may store noise as resolved
        _start_episode(thread, start, current.policies.get(thread.priority) if measured else None)
        thread.customer_waiting_since = start
        _recompute(thread, current.hours)


def customer_wrote(threads: list) -> None:
    """Ingest's other conversations touched by a customer's message: the oldest unanswered one
    starts the next-response clock, and an answer to a pending conversation ends its pause
    (ingest has set it open). No queries."""
    hours = None
    for thread in threads:
        if thread.created or thread.reopened or not thread.texts:
            continue
        changed = False
        if thread.customer_waiting_since is None:
            thread.customer_waiting_since, changed = thread.last_customer_message_at, True
        if thread.paused_since is not None and thread.status != "pending":
            _end_pause(thread, thread.last_customer_message_at)
            changed = True
        if changed and thread.sla_policy:
            hours = hours or business_hours()
            # Recorded breaches are not loaded here: a due time already recorded may come back as
            # the next check, and the breach job then moves on from it (one look, no second event).
            _recompute(thread, hours)


def echoes_answered(threads: list) -> None:
    """Ingest's conversations an agent answered from the platform's own app (the echo of the
    account's message): the answer counts as ``agent_replied`` does, at the echo's time, but never
    before the message it answers (the platform's clock is not ours) and never after it arrived.
    A customer's message after the echo in the same batch waits again. Resolved ones are left
    alone (an echo never reopens). No queries."""
    hours = None
    for thread in threads:
        if thread.agent_replied_at is None or thread.status not in ACTIVE_STATUSES:
            continue
        start = thread.customer_waiting_since or thread.opened_at or thread.created_at
        # Messages of one batch share their arrival time: an answer followed by the customer's
        # message is put just before it, so that message still waits.
        latest = thread.last_message_at if thread.answered else thread.last_customer_message_at - _INSTANT
        at = min(max(thread.agent_replied_at, start), latest)
        if thread.first_response_at is None:
            thread.first_response_at = at
        thread.last_agent_reply_at = max(at, thread.last_agent_reply_at or at)
        thread.customer_waiting_since = None if thread.answered else thread.last_customer_message_at
        if thread.sla_policy:
            hours = hours or business_hours()
            _recompute(thread, hours)  # recorded breaches not loaded: as in customer_wrote


def _end_pause(conversation: Any, now: datetime) -> None:
    conversation.sla_pauses = [*(conversation.sla_pauses or []), [_iso(conversation.paused_since), _iso(now)]]
    conversation.paused_since = None


def agent_replied(conversation: Conversation, now: datetime) -> None:
    """An agent's reply (first_response_at already set): it answers whatever the customer was waiting on."""
    conversation.last_agent_reply_at = now
    conversation.customer_waiting_since = None
    _recompute(conversation, business_hours(), _recorded([conversation.id])[conversation.id])


def status_changed(conversation: Conversation, previous: str, now: datetime) -> None:
    """Pending pauses the clock (waiting on the customer), leaving pending resumes it, resolving
    meets every target and reopening starts a new episode on the current policy. Snoozed does not
    pause it: the agent set the conversation aside, and the customer is still waiting."""
    status = conversation.status
    if previous == "resolved" and status != "resolved":
        _start_episode(conversation, now, policies().get(conversation.priority))
        conversation.customer_waiting_since = None
    if status == "pending" and conversation.paused_since is None:
        conversation.paused_since = now
    elif status != "pending" and conversation.paused_since is not None:
        _end_pause(conversation, now)
    _recompute(conversation, business_hours(), _recorded([conversation.id])[conversation.id])


def priority_changed(conversation: Conversation) -> None:
    """A new priority brings its policy; the running targets are measured by it from their start."""
    policy = policies().get(conversation.priority)
    conversation.sla_policy = policy.to_dict() if policy else None
    _recompute(conversation, business_hours(), _recorded([conversation.id])[conversation.id])


# ---- breaches ----------------------------------------------------------------------------------

def _recorded(conversation_ids: list[int]) -> dict[int, set[tuple[str, datetime]]]:
    """(target, started_at) of the breaches recorded for each conversation."""
    found: dict[int, set[tuple[str, datetime]]] = {cid: set() for cid in conversation_ids}
    if not conversation_ids or None in conversation_ids:
        return found
    # No autoflush: the caller's pending rows (a reply and its idempotency key) are flushed by its
    # own commit, where it handles their conflicts.
    with db.session.no_autoflush:
        rows = db.session.execute(select(ConversationEvent.conversation_id, ConversationEvent.data).where(
            ConversationEvent.kind == BREACHED, among(ConversationEvent.conversation_id, conversation_ids))).all()
    for conversation_id, data in rows:
        found[conversation_id].add((data["target"], datetime.fromisoformat(data["started_at"])))
    return found


def check_breaches(now: datetime | None = None) -> int:
    """Record every breach that is due and not recorded yet, as a ``sla_breached`` event, and
    tell supervisors and the conversation's team; the number recorded. Safe to run twice and
    concurrently: on PostgreSQL the conversations looked at are claimed FOR UPDATE SKIP LOCKED."""
    now, total = now or clock_source.utcnow(), 0
    while True:
        recorded, claimed = _check_batch(now)
        total += recorded
        if claimed < BREACH_BATCH:
            return total


def _check_batch(now: datetime) -> tuple[int, int]:
    statement = (select(Conversation).where(Conversation.sla_check_at <= now)
                 .order_by(Conversation.sla_check_at).limit(BREACH_BATCH))
    if is_postgresql():
        statement = statement.with_for_update(skip_locked=True)
    conversations = db.session.scalars(statement).all()
    if not conversations:
        db.session.rollback()
        return 0, 0
    recorded = _recorded([c.id for c in conversations])
    hours = business_hours()
    events, announcements = [], []
    for conversation in conversations:
        keys = recorded[conversation.id]
        policy = clock.SlaPolicy.from_dict(conversation.sla_policy) if conversation.sla_policy else None
        for breach in clock.breaches(policy, hours, timeline(conversation), now) if policy else ():
            if (breach.target, breach.started_at) in keys:
                continue
            keys.add((breach.target, breach.started_at))
            data = {"target": breach.target, "started_at": _iso(breach.started_at), "due": _iso(breach.due),
                    "overdue_seconds": int(breach.overdue.total_seconds()),
                    "met_at": _iso(breach.met_at) if breach.met_at else None, "priority": policy.priority}
            events.append({"conversation_id": conversation.id, "kind": BREACHED, "data": data, "created_at": now})
            announcements.append(realtime.breach_announcement(conversation, data))
        _recompute(conversation, hours, keys)
        if conversation.sla_check_at is not None and conversation.sla_check_at < now:
            conversation.sla_check_at = None  # cannot happen with a sane clock; never loop on it
    if events:
        bulk_insert(ConversationEvent, events)
    db.session.commit()
    realtime.announce(announcements)
    return len(events), len(conversations)
