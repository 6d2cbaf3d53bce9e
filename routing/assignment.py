"""Which agent takes a conversation (DESIGN.md, step 4): plain data in, a ``Choice`` out.

An agent is eligible for a ``Need`` when they are online, belong to a team in scope, speak the
conversation's language (``ar`` also covers ``arabizi`` and ``mixed``), have its skills, and have
room for its weight (``load + weight <= capacity``; ``load`` is the sum of the weights of their
open work). A team includes its sub-teams. An agent a rule named (``preferred_agent_id``) takes the
conversation whatever their team and skills, if they are online, read the language and have room.
Manual claims and transfers never come through here: capacity does not bind them.

Among the eligible, the least loaded *share* of capacity goes first (2 of 4 is busier than 3 of
10, so part-timers are not swamped), then the longest idle (never assigned counts as longest),
then the lowest id, so the same inputs always give the same agent.

A conversation that waits climbs the admin's ``Ladder``. Each step reached widens the search only
when the narrower one finds nobody: ``drop_optional_skills`` stops requiring the optional skills,
``widen_to_parent_team`` adds the parent team and everything under it (once per step, so two such
steps reach the grandparent), and ``alert_supervisor`` asks the inbox to alert a supervisor
while the conversation is still unassigned (the inbox raises it once per conversation).
Language is never dropped: a customer waits rather than gets an answer they cannot read.
"""
from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from routing.conditions import INTENTS, check_keys, invalid

PRESENCES = frozenset({"online", "away", "offline"})
LADDER_ACTIONS = ("drop_optional_skills", "widen_to_parent_team", "alert_supervisor")
_ARABIC_READS = frozenset({"arabizi", "mixed"})


@dataclass(frozen=True)
class Agent:
    id: int
    team_ids: frozenset[int]
    presence: str = "online"
    skills: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset({"ar"})
    capacity: int = 8
    load: int = 0
    idle_since: datetime | None = None  # last assigned (or came online); None: never assigned

    def __post_init__(self) -> None:
        if self.presence not in PRESENCES:
            raise ValueError(f"agent {self.id}: presence: unknown {self.presence!r}")
        for name in ("team_ids", "skills", "languages"):
            object.__setattr__(self, name, frozenset(getattr(self, name)))

    def speaks(self, language: str | None) -> bool:
        return (
            language is None or language in self.languages
            or (language in _ARABIC_READS and "ar" in self.languages)
        )

    def has_room_for(self, weight: int) -> bool:
        return self.load + weight <= self.capacity


@dataclass(frozen=True)
class Team:
    id: int
    parent_id: int | None = None


@dataclass(frozen=True)
class Need:
    """One conversation waiting for an agent. ``required_skills`` usually hold the intent;
    ``optional_skills`` the admin's extra ones (prepaid, postpaid, fibre…) that the ladder drops."""

    team_id: int
    language: str | None = None
    required_skills: frozenset[str] = frozenset()
    optional_skills: frozenset[str] = frozenset()
    weight: int = 1
    waiting_for: timedelta = timedelta(0)
    priority: int = 2  # 1 urgent … 4 low: who is served first when capacity frees
    conversation_id: Hashable | None = None
    preferred_agent_id: int | None = None  # a rule's assign_agent: taken when they can take it

    def __post_init__(self) -> None:
        for name in ("required_skills", "optional_skills"):
            object.__setattr__(self, name, frozenset(getattr(self, name)))
        if self.weight < 1:
            raise ValueError(f"need {self.conversation_id}: weight: at least 1, got {self.weight}")


@dataclass(frozen=True)
class Choice:
    agent_id: int | None
    # preferred_agent | least_loaded, or why nobody: no_team_member | nobody_online | no_language
    # | no_skills | at_capacity
    reason: str
    detail: str = ""
    ladder_steps: tuple[str, ...] = ()  # the relaxations in force (all reached ones when nobody was found)
    alert_supervisor: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "agent_id": self.agent_id, "reason": self.reason, "detail": self.detail,
            "ladder_steps": list(self.ladder_steps), "alert_supervisor": self.alert_supervisor,
        }


# --- admin settings -------------------------------------------------------------------------


def _count(value: Any, where: str, least: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise invalid(where, f"expected a whole number of at least {least}, got {value!r}")
    return value


@dataclass(frozen=True)
class Weights:
    """How much of an agent's capacity one conversation takes: a base for public or private,
    plus extras by intent, for negative sentiment and for urgent (priority 1) conversations."""

    private: int = 1
    public: int = 2
    intents: Mapping[str, int] = field(default_factory=lambda: {"service_complaint": 1, "cancellation": 1})
    negative: int = 1
    urgent: int = 0

    def __post_init__(self) -> None:
        for name in ("private", "public"):
            _count(getattr(self, name), f"weights: {name}", least=1)
        for name in ("negative", "urgent"):
            _count(getattr(self, name), f"weights: {name}")
        if not isinstance(self.intents, Mapping):
            raise invalid("weights: intents", "expected an object of intent: extra weight")
        for intent, extra in self.intents.items():
            if intent not in INTENTS:
                raise invalid("weights: intents", f"unknown intent {intent!r}")
            _count(extra, f"weights: intents.{intent}")
        object.__setattr__(self, "intents", dict(self.intents))

    def weight_for(self, *, is_public: bool, intent: str | None = None, sentiment: str | None = None,
                   priority: int | None = None) -> int:
        return (
            (self.public if is_public else self.private)
            + self.intents.get(intent, 0)
            + (self.negative if sentiment == "negative" else 0)
            + (self.urgent if priority == 1 else 0)
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Weights:
        check_keys(data, {"private", "public", "intents", "negative", "urgent"}, "weights")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return {"private": self.private, "public": self.public, "intents": dict(self.intents),
                "negative": self.negative, "urgent": self.urgent}


DEFAULT_WEIGHTS = Weights()


def weight_for(*, is_public: bool, intent: str | None = None, sentiment: str | None = None,
               priority: int | None = None, weights: Weights = DEFAULT_WEIGHTS) -> int:
    return weights.weight_for(is_public=is_public, intent=intent, sentiment=sentiment, priority=priority)


@dataclass(frozen=True)
class Step:
    after: timedelta
    action: str


@dataclass(frozen=True)
class Ladder:
    steps: tuple[Step, ...] = ()

    def __post_init__(self) -> None:
        seen = set()
        for index, step in enumerate(self.steps, 1):
            where = f"ladder step {index}"
            if not isinstance(step.after, timedelta) or step.after < timedelta(0):
                raise invalid(where, "after: expected a waiting time of zero or more")
            if step.action not in LADDER_ACTIONS:
                raise invalid(where, f"action: unknown {step.action!r} (expected one of {', '.join(LADDER_ACTIONS)})")
            if step.action in seen and step.action != "widen_to_parent_team":
                raise invalid(where, f"action: {step.action} is already a step")
            seen.add(step.action)
        object.__setattr__(self, "steps", tuple(sorted(self.steps, key=lambda step: step.after)))

    def reached(self, waiting_for: timedelta) -> tuple[Step, ...]:
        return tuple(step for step in self.steps if waiting_for >= step.after)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Ladder:
        check_keys(data, {"steps"}, "ladder")
        steps = []
        for index, item in enumerate(data.get("steps", []), 1):
            check_keys(item, {"after_seconds", "action"}, f"ladder step {index}")
            seconds = _count(item.get("after_seconds"), f"ladder step {index}: after_seconds")
            steps.append(Step(timedelta(seconds=seconds), item.get("action")))
        return cls(tuple(steps))

    def to_dict(self) -> dict[str, Any]:
        return {"steps": [{"after_seconds": int(s.after.total_seconds()), "action": s.action} for s in self.steps]}


DEFAULT_LADDER = Ladder((
    Step(timedelta(minutes=5), "drop_optional_skills"),
    Step(timedelta(minutes=10), "widen_to_parent_team"),
    Step(timedelta(minutes=15), "alert_supervisor"),
))


# --- choosing -------------------------------------------------------------------------------


def choose(need: Need, agents: Iterable[Agent], teams: Iterable[Team] = (),
           ladder: Ladder = DEFAULT_LADDER) -> Choice:
    """The agent who takes ``need`` now, or why nobody can (module docstring: the order)."""
    agents = list(agents)
    preferred = next((a for a in agents if a.id == need.preferred_agent_id), None)
    if preferred is not None and _can_take(preferred, need):
        return Choice(preferred.id, "preferred_agent", f"preferred agent {preferred.id}")
    note = f"preferred agent {need.preferred_agent_id} cannot take it; " if need.preferred_agent_id else ""
    reached = ladder.reached(need.waiting_for)
    alert = any(step.action == "alert_supervisor" for step in reached)
    pools = list(_pools(need, {team.id: team for team in teams}, reached))
    for steps, scope, skills in pools:
        eligible = [a for a in agents if a.team_ids & scope and _can_take(a, need) and skills <= a.skills]
        if eligible:
            best = min(eligible, key=_rank)
            detail = f"{note}agent {best.id}: load {best.load} of {best.capacity}"
            return Choice(best.id, "least_loaded", detail, steps)
    steps, scope, skills = pools[-1]
    reason, detail = _why_nobody(need, agents, scope, skills)
    return Choice(None, reason, note + detail, tuple(s.action for s in reached), alert)


def assign_waiting(needs: Iterable[Need], agents: Iterable[Agent], teams: Iterable[Team] = (),
                   ladder: Ladder = DEFAULT_LADDER, *, now: datetime) -> list[tuple[Hashable, Choice]]:
    """Capacity freed: every waiting conversation, most urgent then longest waiting first, with
    its ``Choice``. Each assignment adds its weight to the agent's load (and makes them the most
    recently assigned at ``now``) before the next conversation is placed, so no one is over-filled."""
    teams = list(teams)
    pool = {agent.id: agent for agent in agents}
    results = []
    for need in sorted(needs, key=lambda n: (n.priority, -n.waiting_for)):
        choice = choose(need, pool.values(), teams, ladder)
        if choice.agent_id is not None:
            agent = pool[choice.agent_id]
            pool[agent.id] = replace(agent, load=agent.load + need.weight, idle_since=now)
        results.append((need.conversation_id, choice))
    return results


def _can_take(agent: Agent, need: Need) -> bool:
    return agent.presence == "online" and agent.speaks(need.language) and agent.has_room_for(need.weight)


def _rank(agent: Agent) -> tuple:
    # (False, None) sorts before (True, datetime): never assigned is the longest idle.
    return Fraction(agent.load, agent.capacity), agent.idle_since is not None, agent.idle_since, agent.id


def _pools(need: Need, teams: Mapping[int, Team], reached: tuple[Step, ...]):
    """(ladder steps applied, team ids in scope, skills required), narrowest first."""
    applied: list[str] = []
    top, optional = need.team_id, need.optional_skills
    yield (), _subtree(top, teams), need.required_skills | optional
    for step in reached:
        if step.action == "drop_optional_skills" and optional:
            optional = frozenset()
        elif step.action == "widen_to_parent_team" and top in teams and teams[top].parent_id is not None:
            top = teams[top].parent_id
        else:
            continue
        applied.append(step.action)
        yield tuple(applied), _subtree(top, teams), need.required_skills | optional


def _subtree(root: int, teams: Mapping[int, Team]) -> frozenset[int]:
    scope, grew = {root}, True
    while grew:
        below = {team.id for team in teams.values() if team.parent_id in scope}
        grew = not below <= scope
        scope |= below
    return frozenset(scope)


def _why_nobody(need: Need, agents: list[Agent], scope: frozenset[int], skills: frozenset[str]) -> tuple[str, str]:
    teams = ", ".join(map(str, sorted(scope)))
    stages = (
        ("no_team_member", f"no agent in team {teams}", lambda a: bool(a.team_ids & scope)),
        ("nobody_online", "no member online", lambda a: a.presence == "online"),
        ("no_language", f"no online member speaks {need.language}", lambda a: a.speaks(need.language)),
        ("no_skills", f"no online member has {', '.join(sorted(skills))}", lambda a: skills <= a.skills),
        ("at_capacity", f"every qualified member is too loaded for weight {need.weight}",
         lambda a: a.has_room_for(need.weight)),
    )
    for reason, detail, keep in stages:
        agents = [a for a in agents if keep(a)]
        if not agents:
            return reason, detail
    raise AssertionError("an eligible agent was not chosen")  # pragma: no cover
