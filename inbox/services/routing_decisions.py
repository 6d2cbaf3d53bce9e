"""DESIGN.md step 4 at ingest, after classification: the admin's rules, triage, noise and the
first assignment, for a batch of conversations just opened or reopened.

``decide`` runs inside ingest's transaction before anything is written, on ``ingest_store.Thread``
values: one rules load (cached), one settings load (cached), at most one query for customer tags
and one for agents and their load per batch, never one per message. It sets the threads'
team, priority, assignee, triage and noise, and merges the rules' outcome into ``thread.decision``
(kept on the created/reopened event). ``record`` runs once the conversations have ids: their
tags, the "assigned" events and the auto-replies (stored queued, in the same transaction);
``after_commit`` queues the auto-replies' sending. ``dry_run`` takes the same steps for an
admin's pasted sample (the rules screen) and writes nothing.

* Triage: an intent below the admin's threshold goes to triage with no team, so it never waits in
  a wrong team's queue; supervisors move it out by choosing a team. With no active model there is
  no confidence to doubt: routing falls back to the rules and the channel's team (STYLE.md 9).
* Noise (``keep_out_of_queue``): stored resolved, no team, tagged "noise"; a new message from the
  customer reopens it and routes it afresh.
* A reopened conversation goes back to its agent when it stays in the same team and they are
  online with room (a rule naming an agent comes first); otherwise to the team's queue.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from inbox.db import among, bulk_insert, insert_returning_ids
from inbox.extensions import db
from inbox.jobs import enqueue
from inbox.models import CannedResponse, Channel, Conversation, ConversationEvent, Customer, Message, Tag
from inbox.models.base import utcnow
from inbox.models.conversation import conversation_tags
from inbox.payloads import message_fields
from inbox.realtime import Announcement, message_announcement
from inbox.services import assignment, classification, routing_rules, routing_settings
from inbox.services.errors import InvalidInput
from routing.intent import MAX_CHARS
from routing.rules import Decision, Facts, Rule, evaluate
from routing.sla import BusinessHours, is_open

_AUTO_REPLIES = "tawasul_auto_replies"
_DEFAULT_HOURS = BusinessHours()  # Asia/Amman, Sunday to Thursday


def in_business_hours(now=None) -> bool:
    """Whether the desk is open: the admin's calendar when the SLA service offers one
    (``inbox.services.sla.business_hours()``), else routing.sla's default week."""
    return is_open(_business_hours(), now or utcnow())


def _business_hours() -> BusinessHours:
    try:
        from inbox.services import sla
    except ImportError:
        return _DEFAULT_HOURS
    getter = getattr(sla, "business_hours", None)
    hours = getter() if callable(getter) else None
    return hours if isinstance(hours, BusinessHours) else _DEFAULT_HOURS


def facts_for(*, text: str, channel: Any, is_public: bool, prediction: Any = None, version_id: int | None = None,
              customer_tags: frozenset[str] = frozenset(), in_business_hours: bool = True,
              model_version: str | None = None) -> Facts:
    """What the rules read about one conversation (``prediction``: routing.intent's)."""
    return Facts(
        text=text, channel_id=channel.id if channel else None, platform=channel.platform if channel else None,
        is_public=is_public, intent=prediction.intent if prediction else None,
        intent_confidence=float(prediction.confidence or 0.0) if prediction else 0.0,
        model_version=model_version or (str(version_id) if version_id else None),
        language=prediction.lang if prediction else None, sentiment=prediction.sentiment if prediction else None,
        urgent=bool(prediction.urgent) if prediction else False, customer_tags=customer_tags,
        in_business_hours=in_business_hours)


def adjust(decision: Decision, version_id: int | None) -> Decision:
    """No model at all: no triage for want of an intent (the rules and the channel decide),
    and a rule's named agent stands."""
    if version_id is not None or decision.triage_reason != "no_intent":
        return decision
    named = [a.value for t in decision.trace if t.outcome == "fired" for a in t.actions if a.kind == "assign_agent"]
    return replace(decision, triage=False, triage_reason=None, assignee_id=named[-1] if named else None)


def summary(decision: Decision) -> dict[str, Any]:
    """The rules' outcome for the event: which rules fired, the threshold, triage and noise."""
    return {
        "fired": [{"rule_id": t.rule_id, "name": t.name, "actions": [a.to_dict() for a in t.actions]}
                  for t in decision.trace if t.outcome == "fired"],
        "triage": decision.triage, "triage_reason": decision.triage_reason, "noise": decision.noise,
        "triage_below": decision.triage_below, "model_version": decision.model_version,
        "team_id": decision.team_id, "priority": decision.priority, "tags": list(decision.tags),
        "assignee_id": decision.assignee_id, "auto_reply": decision.auto_reply,
    }


class _Prediction:
    """A thread's classification, read back from the fields ingest's ``_decide`` set."""

    def __init__(self, thread) -> None:
        self.intent, self.confidence = thread.intent, thread.intent_confidence or 0.0
        self.lang, self.sentiment = thread.language, thread.sentiment
        self.urgent = bool(thread.decision.get("urgent"))


def decide(threads: list) -> None:
    """Rules, triage, noise and assignment for conversations just opened or reopened."""
    if not threads:
        return
    settings = routing_settings.get()
    rules = routing_rules.active_rules()
    model, version_id = classification.active_model()
    version_name = (model.info or {}).get("model_version") if model is not None else None
    # The batch's classifier (a thread with no label has no version id; so may the cache, briefly).
    version_id = next((t.intent_model_version_id for t in threads if t.intent_model_version_id), version_id)
    tags = _customer_tags(threads) if _reads(rules, "customer_tag") else {}
    open_now = in_business_hours() if _reads(rules, "business_hours") else True
    now = utcnow()
    needing = []
    for thread in threads:
        facts = facts_for(text="\n".join(thread.texts), channel=thread.channel, is_public=thread.is_public,
                          prediction=_Prediction(thread), version_id=thread.intent_model_version_id,
                          customer_tags=tags.get(thread.customer_id, frozenset()), in_business_hours=open_now,
                          model_version=version_name if thread.intent_model_version_id == version_id else None)
        decision = adjust(evaluate(rules, facts, triage_below=settings.triage_below), version_id)
        _apply(thread, decision, now)
        thread.decision["routing"] = summary(decision)
        if thread.team_id is not None and thread.assignee_id is None and not (thread.triage or thread.noise):
            needing.append((thread, decision))
    if needing:
        assignment.assign_new(needing, settings, now)
    for thread, decision in needing:  # the event says why: the agent had it before, not a rule
        kept = thread.decision.get("previous_agent_id")
        if kept and thread.assignee_id == kept and not decision.assignee_id and thread.assignment:
            thread.assignment = {**thread.assignment, "reason": "previous_agent",
                                 "detail": f"agent {kept} had it before it was resolved"}


def _reads(rules: tuple[Rule, ...], kind: str) -> bool:
    return any(c.kind == kind for r in rules if r.enabled for c in r.conditions)


def _customer_tags(threads: list) -> dict[int, frozenset[str]]:
    ids = sorted({t.customer_id for t in threads if t.customer_id is not None})
    rows = db.session.connection().execute(select(Customer.id, Customer.tags).where(among(Customer.id, ids)))
    return {row.id: frozenset(str(tag) for tag in row.tags or []) for row in rows}


def _apply(thread, decision: Decision, now) -> None:
    before_team = thread.team_id
    thread.triage, thread.noise, thread.supervisor_alerted_at = decision.triage, decision.noise, None
    thread.route_tags, thread.auto_reply, thread.preferred_agent_id = decision.tags, decision.auto_reply, None
    if decision.priority:
        thread.priority = decision.priority
    if decision.noise or decision.triage:
        thread.team_id = thread.assignee_id = thread.queued_at = None
        if decision.noise:
            thread.status = "resolved"
        return
    thread.team_id = decision.team_id or thread.channel.team_id
    # Reopened in the same team: back to the agent who had it if they can take it now (online,
    # with room), else the queue. Waiting from now either way (assignment may take it at once).
    previous = thread.assignee_id if thread.reopened and thread.team_id == before_team else None
    thread.assignee_id, thread.queued_at = None, now
    thread.preferred_agent_id = decision.assignee_id or previous
    if previous:
        thread.decision["previous_agent_id"] = previous


# ---- after the conversations have ids --------------------------------------------------------

def record(threads: list) -> list[Announcement]:
    """Write what ``decide`` left for after the insert (not committed): tags, "assigned" events,
    resolved noise, auto-replies. Returns the announcements of the auto-replies."""
    decided = [t for t in threads if (t.created or t.reopened) and t.id is not None]
    if not decided:
        return []
    now = utcnow()
    _tag([(t.id, name) for t in decided for name in t.route_tags])
    noise = [t.id for t in decided if t.noise]
    if noise:
        db.session.execute(update(Conversation).where(among(Conversation.id, noise))
                           .values(resolved_at=now).execution_options(synchronize_session=False))
    assignment.record_new([t for t in decided if t.assignment], now)
    return _auto_replies([t for t in decided if t.auto_reply and not t.noise], now)


def _tag(pairs: list[tuple[int, str]]) -> None:
    if not pairs:
        return
    names = sorted({name for _, name in pairs})
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    db.session.execute(insert(Tag.__table__).on_conflict_do_nothing(index_elements=["name"]),
                       [{"name": name} for name in names])
    ids = dict(db.session.execute(select(Tag.name, Tag.id).where(among(Tag.name, names))).all())
    db.session.execute(insert(conversation_tags).on_conflict_do_nothing(),
                       [{"conversation_id": cid, "tag_id": ids[name]} for cid, name in sorted(set(pairs))])


def _auto_replies(threads: list, now) -> list[Announcement]:
    if not threads:
        return []
    texts = dict(db.session.execute(select(CannedResponse.id, CannedResponse.text).where(
        among(CannedResponse.id, sorted({t.auto_reply for t in threads})))).all())
    rows, sent = [], []
    for thread in threads:
        text = texts.get(thread.auto_reply)
        if not text:  # deleted since the rule was saved: the event still names it
            continue
        rows.append({"conversation_id": thread.id, "channel_id": thread.channel.id, "direction": "out",
                     "text": text, "is_public": thread.is_public, "state": "queued", "created_at": now,
                     "attachments": []})
        sent.append(thread)
    if not rows:
        return []
    ids = insert_returning_ids(Message, rows)
    bulk_insert(ConversationEvent, [{"conversation_id": t.id, "kind": "auto_replied", "created_at": now,
                                     "data": {"canned_response_id": t.auto_reply, "message_id": i}}
                                    for t, i in zip(sent, ids, strict=True)])
    db.session.info.setdefault(_AUTO_REPLIES, []).extend(ids)
    conversation = {t.id: {"team_id": t.team_id, "assignee_id": t.assignee_id} for t in sent}
    return [message_announcement(message_fields({**row, "id": i}, None), conversation[row["conversation_id"]])
            for row, i in zip(rows, ids, strict=True)]


def after_commit() -> None:
    """Queue the sending of the auto-replies the committed transaction stored."""
    for message_id in db.session.info.pop(_AUTO_REPLIES, []):
        enqueue("deliver_message", message_id)

# ---- dry-run ---------------------------------------------------------------------------------

MAX_SAMPLE_CHARS = 4000  # an admin's pasted sample; the classifier reads its first MAX_CHARS


@dataclass(frozen=True)
class DryRun:
    facts: Facts
    decision: Decision
    team_id: int | None  # where it would wait (the rules' team, else the channel's)
    assignment: dict[str, Any] | None  # routing.assignment.Choice.to_dict(), None in triage/noise


def dry_run(text: str, channel_id: int | None, is_public: bool, customer_tags: list[str],
            business_hours: bool | None = None, draft: Rule | None = None) -> DryRun:
    """What would happen to a customer's message: the classifier's guess with the active model,
    every rule's trace, the triage outcome and the agent assignment would pick now. Nothing is
    written. ``business_hours`` tries the message inside (True) or outside (False) the desk's
    hours, None as of now. ``draft`` (a rule being edited) is tried in place of the saved rule of
    its id, or last when it is new."""
    text = (text or "").strip()[:MAX_SAMPLE_CHARS]
    if not text:
        raise InvalidInput("paste a customer's message to try the rules on")
    channel = db.session.get(Channel, channel_id) if channel_id else None
    if channel_id and channel is None:
        raise InvalidInput("unknown channel")
    [prediction], version_id = classification.classify_texts([text[:MAX_CHARS]])
    rules = list(routing_rules.active_rules())
    if draft is not None:
        at = next((i for i, r in enumerate(rules) if r.id == draft.id and draft.id is not None), None)
        if at is None:
            rules.append(draft)
        else:
            rules[at] = draft
    settings = routing_settings.get()
    facts = facts_for(
        text=text, channel=channel, is_public=is_public, prediction=prediction, version_id=version_id,
        customer_tags=frozenset(t.strip() for t in customer_tags if t.strip()),
        in_business_hours=in_business_hours() if business_hours is None else business_hours)
    decision = adjust(evaluate(rules, facts, triage_below=settings.triage_below), version_id)
    team_id = decision.team_id or (channel.team_id if channel else None)
    choice = None
    if not decision.triage and not decision.noise and team_id:
        choice = assignment.preview(team_id=team_id, is_public=is_public, intent=decision.intent,
                                    language=prediction.lang, sentiment=prediction.sentiment,
                                    priority=decision.priority or (1 if prediction.urgent else 2),
                                    tags=decision.tags, preferred_agent_id=decision.assignee_id)
    return DryRun(facts, decision, None if decision.triage or decision.noise else team_id, choice)

