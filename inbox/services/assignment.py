"""Who takes a conversation (DESIGN.md step 4), applying ``routing.assignment`` to the database.

* At ingest (``assign_new``, from routing_decisions.decide): one query for the online agents with
  their teams, skills and languages, one for their open work, per batch.
* ``assign_waiting`` (a periodic job, and kicked when capacity frees): conversations waiting in a
  team queue, most urgent and longest waiting first, climb the admin's ladder; one that reaches
  "alert a supervisor" with nobody free alerts the supervisors once. Agents offline for longer
  than the grace hand their open work back first (when the setting is on).
* ``claim`` and ``transfer``: manual, never bound by capacity; agents only within their teams.

Only agents (role ``agent``) are picked automatically; supervisors and admins claim. Every change
is a ConversationEvent saying why, announced after the commit.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update

from inbox import realtime
from inbox.db import among
from inbox.extensions import db
from inbox.jobs.queue import kick as kick_job
from inbox.models import Conversation, ConversationEvent, Tag, Team, User
from inbox.models.base import utcnow
from inbox.models.conversation import ACTIVE_STATUSES, conversation_tags
from inbox.models.user import PRESENCES, team_members
from inbox.services import routing_settings
from inbox.services.conversations import get_conversation
from inbox.services.errors import Forbidden, InvalidInput, NotFound
from routing import assignment as choosing
from routing.assignment import Agent, Need

WAITING_BATCH = 500  # conversations placed per run of the job
LOAD_STATUSES = ("new", "open", "pending")  # snoozed work does not take an agent's attention


# ---- the pool --------------------------------------------------------------------------------

def load_pool(online_only: bool = True) -> tuple[dict[int, Agent], list[choosing.Team]]:
    """Agents (as routing.assignment.Agent, with their weighted load) and the team tree."""
    weights = routing_settings.get().weights
    connection = db.session.connection()  # Core: no autoflush of ingest's pending rows
    query = (select(User.id, User.skills, User.languages, User.capacity, User.presence, User.last_assigned_at,
                    team_members.c.team_id)
             .outerjoin(team_members, team_members.c.user_id == User.id)
             .where(User.role == "agent", User.active.is_(True)))
    if online_only:
        query = query.where(User.presence == "online")
    rows = connection.execute(query).all()
    teams = [choosing.Team(row.id, row.parent_id) for row in connection.execute(select(Team.id, Team.parent_id))]
    if not rows:
        return {}, teams
    members: dict[int, set[int]] = {}
    for row in rows:
        members.setdefault(row.id, set()).update([row.team_id] if row.team_id else [])
    load = dict.fromkeys(members, 0)
    for row in connection.execute(select(Conversation.assignee_id, Conversation.is_public, Conversation.intent,
                                         Conversation.sentiment, Conversation.priority)
                                  .where(among(Conversation.assignee_id, sorted(members)),
                                         Conversation.status.in_(LOAD_STATUSES))):
        load[row.assignee_id] += weights.weight_for(is_public=row.is_public, intent=row.intent,
                                                    sentiment=row.sentiment, priority=row.priority)
    agents = {}
    for row in rows:
        if row.id in agents:
            continue
        agents[row.id] = Agent(
            id=row.id, team_ids=frozenset(members[row.id]),
            presence=row.presence if row.presence in PRESENCES else "offline",
            skills=frozenset(str(s).lower() for s in row.skills or []),
            languages=frozenset(row.languages or ["ar"]), capacity=max(1, row.capacity or 1),
            load=load[row.id], idle_since=row.last_assigned_at)
    return agents, teams


def need(*, team_id: int, is_public: bool, intent: str | None, language: str | None, sentiment: str | None,
         priority: int, tags=(), waiting_for: timedelta = timedelta(0), conversation_id: Any = None,
         preferred_agent_id: int | None = None, settings=None) -> Need:
    """The conversation's need: the intent is a required skill when admins made it one; tags that
    are skills (prepaid, fibre …) are optional ones the ladder may drop."""
    settings = settings or routing_settings.get()
    skills = set(settings.skills)
    return Need(
        team_id=team_id, language=language,
        required_skills=frozenset({intent} & skills) if intent else frozenset(),
        optional_skills=frozenset(t.lower() for t in tags) & skills,
        weight=settings.weights.weight_for(is_public=is_public, intent=intent, sentiment=sentiment, priority=priority),
        waiting_for=waiting_for, priority=priority, conversation_id=conversation_id,
        preferred_agent_id=preferred_agent_id)


def _why(choice: choosing.Choice, need_: Need, agents: dict[int, Agent], **context) -> dict[str, Any]:
    agent = agents.get(choice.agent_id)
    return {**choice.to_dict(), "weight": need_.weight, "team_id": need_.team_id,
            "load": agent.load if agent else None, "capacity": agent.capacity if agent else None, **context}


# ---- at ingest -------------------------------------------------------------------------------

def assign_new(needing: list, settings, now: datetime) -> None:
    """Pick agents for threads routing just placed in a team (not written yet: ingest writes
    ``assignee_id``; ``record_new`` writes the events once the conversations have ids)."""
    agents, teams = load_pool()
    if not agents:
        return
    needs = {id(thread): need(team_id=thread.team_id, is_public=thread.is_public, intent=thread.intent,
                              language=thread.language, sentiment=thread.sentiment, priority=thread.priority,
                              tags=decision.tags, conversation_id=id(thread),
                              preferred_agent_id=thread.preferred_agent_id, settings=settings)
             for thread, decision in needing}
    threads = {id(thread): (thread, decision) for thread, decision in needing}
    for key, choice in choosing.assign_waiting(needs.values(), agents.values(), teams, settings.ladder, now=now):
        if choice.agent_id is None:
            continue
        thread, decision = threads[key]
        thread.assignee_id, thread.queued_at = choice.agent_id, None
        thread.assignment = _why(choice, needs[key], agents, by="routing", rules=list(decision.fired),
                                 model_version=decision.model_version, confidence=round(decision.confidence, 4))
        _add_load(agents, choice.agent_id, needs[key].weight)


def _add_load(agents: dict[int, Agent], agent_id: int, weight: int) -> None:
    agents[agent_id] = replace(agents[agent_id], load=agents[agent_id].load + weight)


def record_new(threads: list, now: datetime) -> None:
    if not threads:
        return
    from inbox.db import bulk_insert

    bulk_insert(ConversationEvent, [{"conversation_id": t.id, "kind": "assigned", "data": t.assignment,
                                     "created_at": now} for t in threads])
    _touch_agents({t.assignee_id for t in threads}, now)


def _touch_agents(agent_ids: set[int], now: datetime) -> None:
    if agent_ids:
        db.session.execute(update(User).where(among(User.id, sorted(agent_ids))).values(last_assigned_at=now)
                           .execution_options(synchronize_session=False))


def preview(*, team_id: int, is_public: bool, intent: str | None, language: str | None, sentiment: str | None,
            priority: int, tags=(), preferred_agent_id: int | None = None) -> dict[str, Any]:
    """Who would take such a conversation now (the dry-run); nothing is written."""
    agents, teams = load_pool(online_only=False)
    n = need(team_id=team_id, is_public=is_public, intent=intent, language=language, sentiment=sentiment,
             priority=priority, tags=tags, preferred_agent_id=preferred_agent_id)
    return _why(choosing.choose(n, agents.values(), teams, routing_settings.get().ladder), n, agents)


# ---- the periodic job ------------------------------------------------------------------------

def assign_waiting(now: datetime | None = None) -> int:
    """Hand back the work of agents gone offline (setting), then place waiting conversations
    and alert supervisors for those past the ladder's step. Returns how many were assigned."""
    now = now or utcnow()
    settings = routing_settings.get()
    changed: dict[int, Conversation] = {}
    went_offline, with_work = _gone_agents(now - timedelta(seconds=settings.offline_grace_seconds))
    if settings.return_work_when_offline:
        for conversation in _return_work(with_work, now, "agent_offline"):
            changed[conversation.id] = conversation
    waiting = list(db.session.scalars(
        select(Conversation).where(Conversation.status.in_(LOAD_STATUSES), Conversation.assignee_id.is_(None),
                                   Conversation.team_id.is_not(None), Conversation.triage.is_(False),
                                   Conversation.noise.is_(False))
        .order_by(Conversation.priority, Conversation.queued_at, Conversation.id).limit(WAITING_BATCH)))
    assigned, alerts = 0, []
    if waiting:
        agents, teams = load_pool(online_only=False)  # every agent: "why nobody" is precise
        tags = _tags_of([c.id for c in waiting]) if settings.skills else {}
        needs = {c.id: need(team_id=c.team_id, is_public=c.is_public, intent=c.intent, language=c.language,
                            sentiment=c.sentiment, priority=c.priority, tags=tags.get(c.id, ()),
                            waiting_for=now - (c.queued_at or c.created_at), conversation_id=c.id, settings=settings)
                 for c in waiting}
        by_id = {c.id: c for c in waiting}
        for conversation_id, choice in choosing.assign_waiting(needs.values(), agents.values(), teams,
                                                               settings.ladder, now=now):
            conversation = by_id[conversation_id]
            if choice.agent_id is not None:
                why = _why(choice, needs[conversation_id], agents, by="queue",
                           waited_seconds=int(needs[conversation_id].waiting_for.total_seconds()))
                _assign(conversation, choice.agent_id, None, why, now)
                _add_load(agents, choice.agent_id, needs[conversation_id].weight)
                changed[conversation.id], assigned = conversation, assigned + 1
            elif choice.alert_supervisor and conversation.supervisor_alerted_at is None:
                conversation.supervisor_alerted_at = now
                why = _why(choice, needs[conversation_id], agents,
                           waited_seconds=int(needs[conversation_id].waiting_for.total_seconds()))
                db.session.add(ConversationEvent(conversation=conversation, kind="supervisor_alerted", data=why))
                alerts.append((conversation, why))
                changed[conversation.id] = conversation
    if not changed and not went_offline:
        db.session.rollback()
        return 0
    db.session.commit()
    realtime.announce([realtime.about_conversation(c) for c in changed.values()])
    for conversation, why in alerts:
        realtime.supervisor_alerted(conversation, why)
    announce_presence(went_offline)
    return assigned


def _tags_of(conversation_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    rows = db.session.execute(select(conversation_tags.c.conversation_id, Tag.name)
                              .join(Tag, Tag.id == conversation_tags.c.tag_id)
                              .where(among(conversation_tags.c.conversation_id, conversation_ids)))
    for conversation_id, name in rows:
        found.setdefault(conversation_id, []).append(name)
    return found


def _gone_agents(before: datetime) -> tuple[list[int], list[int]]:
    """Agents away because no page is open (not idle at an open page, not away by choice) since
    before ``before`` go offline: (those, every agent offline since then with open work)."""
    away = list(db.session.scalars(select(User.id).where(
        User.presence == "away", User.presence_changed_at <= before,
        or_(User.presence_source == "disconnected", User.presence_source.is_(None)))))
    if away:
        db.session.execute(update(User).where(among(User.id, away)).values(presence="offline")
                           .execution_options(synchronize_session=False))
    return away, list(db.session.scalars(select(User.id).where(
        User.presence == "offline", User.presence_changed_at <= before,
        User.id.in_(select(Conversation.assignee_id).where(Conversation.status.in_(ACTIVE_STATUSES))))))


def _return_work(agent_ids: list[int], now: datetime, reason: str) -> list[Conversation]:
    if not agent_ids:
        return []
    returned = list(db.session.scalars(select(Conversation).where(
        among(Conversation.assignee_id, agent_ids), Conversation.status.in_(ACTIVE_STATUSES))))
    for conversation in returned:
        db.session.add(ConversationEvent(conversation=conversation, kind="unassigned",
                                         data={"from_agent_id": conversation.assignee_id, "reason": reason}))
        conversation.assignee_id, conversation.queued_at, conversation.supervisor_alerted_at = None, now, None
    return returned


def _assign(conversation: Conversation, agent_id: int, actor: User | None, why: dict[str, Any], now: datetime) -> None:
    why = {"from_agent_id": conversation.assignee_id, **why, "agent_id": agent_id}
    conversation.assignee_id, conversation.queued_at, conversation.supervisor_alerted_at = agent_id, None, None
    db.session.add(ConversationEvent(conversation=conversation, actor_id=actor.id if actor else None,
                                     kind="assigned", data=why))
    db.session.execute(update(User).where(User.id == agent_id).values(last_assigned_at=now)
                       .execution_options(synchronize_session=False))


# ---- manual: claim, transfer, presence --------------------------------------------------------

def claim(user: User, conversation_id: int) -> Conversation:
    """The user takes the conversation. Agents: one of their teams' (a triaged conversation has
    no team: supervisors move it out first). Capacity does not bind a claim."""
    conversation = get_conversation(user, conversation_id)
    if not user.sees_all_teams and conversation.team_id not in user.team_ids:
        raise Forbidden("only a conversation of your team can be claimed")
    if conversation.assignee_id == user.id:
        return conversation
    now = utcnow()
    _assign(conversation, user.id, user, {"reason": "claimed", "by": "agent"}, now)
    conversation.triage = False
    db.session.commit()
    realtime.conversation_updated(conversation)
    return conversation


def transfer(user: User, conversation_id: int, *, agent_id: int | None = None,
             team_id: int | None = None) -> Conversation:
    """To an agent (who takes it, whatever their load) or to a team (its queue, where assignment
    picks an agent; out of triage). Agents transfer only their teams' conversations, or their own."""
    conversation = get_conversation(user, conversation_id)
    if not user.sees_all_teams and conversation.team_id not in user.team_ids and conversation.assignee_id != user.id:
        raise Forbidden("only a conversation of your team can be transferred")
    if (agent_id is None) == (team_id is None):
        raise InvalidInput("transfer to an agent or to a team")
    now = utcnow()
    data = {"from_team_id": conversation.team_id, "from_agent_id": conversation.assignee_id,
            "from_triage": conversation.triage, "by": user.id}
    if team_id is not None:
        team = db.session.get(Team, team_id)
        if team is None:
            raise InvalidInput("unknown team")
        conversation.team_id, conversation.assignee_id = team.id, None
        conversation.queued_at, conversation.supervisor_alerted_at = now, None
        data |= {"to_team_id": team.id}
    else:
        agent = db.session.get(User, agent_id)
        if agent is None or not agent.active:
            raise InvalidInput("unknown agent")
        if conversation.team_id is None or conversation.team_id not in agent.team_ids:
            conversation.team_id = agent.team_ids[0] if agent.team_ids else conversation.team_id
        data |= {"to_agent_id": agent.id, "to_team_id": conversation.team_id}
        _assign(conversation, agent.id, user, {"reason": "transferred", "by": "person"}, now)
    conversation.triage = False
    db.session.add(ConversationEvent(conversation=conversation, actor_id=user.id, kind="transferred", data=data))
    db.session.commit()
    realtime.conversation_updated(conversation)
    if team_id is not None:
        kick()
    return conversation


def transfer_targets(user: User) -> dict[str, list]:
    """Who and where the user may transfer to (the conversation screen's choices)."""
    agents = db.session.scalars(select(User).where(User.active.is_(True), User.role == "agent").order_by(User.name))
    return {"teams": list(db.session.scalars(select(Team).order_by(Team.name))), "agents": list(agents)}


def set_presence(user: User, presence: str, source: str = "manual") -> User:
    """Online, away or offline. Going online may take waiting work at once; an explicit
    offline hands open work back to the queue when the admin's setting says so. ``source`` says
    why (User.presence_source): the agent's choice, or the page noticing idleness."""
    if presence not in PRESENCES:
        raise InvalidInput(f"presence is one of {', '.join(PRESENCES)}")
    if user.presence == presence:
        if user.presence_source != source:
            user.presence_source = source
            db.session.commit()
        return user
    now = utcnow()
    user.presence, user.presence_changed_at, user.presence_source = presence, now, source
    returned = []
    if presence == "offline" and routing_settings.get().return_work_when_offline:
        returned = _return_work([user.id], now, "agent_offline")
    db.session.commit()
    realtime.announce([realtime.about_conversation(c) for c in returned])
    announce_presence([user.id])
    if presence == "online" or returned:
        kick()
    return user


def idle_presence(user: User, idle: bool) -> User:
    """The page saw no key or mouse for AUTO_AWAY_MINUTES (idle) or saw them again. Idle makes an
    online agent away (no new work, keeps theirs); activity undoes only an away that idleness set."""
    if idle and user.presence == "online":
        return set_presence(user, "away", source="idle")
    if not idle and user.presence == "away" and user.presence_source == "idle":
        return set_presence(user, "online", source="idle")
    return user


def socket_presence(user_id: int, connected: bool) -> None:
    """An agent whose last page closed (every web process: inbox/services/viewers.py) is ``away``
    (not assigned to); a page opening makes them online again, unless they chose away or offline.
    Someone away longer than the grace goes offline and, with the setting, hands back their work
    (``assign_waiting``): a page load, which reconnects, costs nothing."""
    user = db.session.get(User, user_id)
    before, after = (user.presence if user else None), None
    source = user.presence_source if user else None
    if not connected and (before == "online" or (before == "away" and source == "idle")):
        after = "away"
    elif connected and before == "away" and source in ("disconnected", None):
        after = "online"
    if after is None:
        db.session.rollback()
        return
    if after != before:
        user.presence_changed_at = utcnow()
    user.presence, user.presence_source = after, "disconnected" if not connected else "socket"
    db.session.commit()
    announce_presence([user_id])
    if after == "online":
        kick()


def team_presence(user_ids: list[int] | None = None) -> list[dict[str, Any]]:
    """Agents with their presence, teams and open load (the supervisors' team panel)."""
    query = select(User).where(User.role == "agent", User.active.is_(True)).order_by(User.name, User.id)
    if user_ids is not None:
        query = query.where(among(User.id, sorted(user_ids)))
    agents = list(db.session.scalars(query))
    load = dict(db.session.execute(
        select(Conversation.assignee_id, func.count()).where(
            among(Conversation.assignee_id, [a.id for a in agents]), Conversation.status.in_(LOAD_STATUSES))
        .group_by(Conversation.assignee_id)).all()) if agents else {}
    return [{"id": a.id, "name": a.name, "presence": a.presence, "presence_source": a.presence_source,
             "teams": [t.name for t in a.teams], "open": load.get(a.id, 0), "capacity": a.capacity,
             "since": a.presence_changed_at.isoformat() + "Z" if a.presence_changed_at else None}
            for a in agents]


def announce_presence(user_ids: list[int]) -> None:
    """After the commit: the supervisors' panels hear the agents' new presence and load."""
    if user_ids:
        for row in team_presence(list(user_ids)):
            realtime.presence_changed(row)


def kick() -> None:
    kick_job("assign_waiting")


def get_team(team_id: int) -> Team:
    team = db.session.get(Team, team_id)
    if team is None:
        raise NotFound("team")
    return team
