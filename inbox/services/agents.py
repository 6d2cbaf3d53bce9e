"""What admins set for assignment: teams' parents, agents' skills, languages and capacity, and
the canned responses a rule's auto-reply sends. Every change is audited."""
from __future__ import annotations

from sqlalchemy import select

from inbox.extensions import db
from inbox.models import AuditLog, CannedResponse, Team, User
from inbox.services import routing_settings
from inbox.services.errors import InvalidInput, NotFound
from routing.labels import LANGUAGES

MAX_CAPACITY = 100


def set_team_parent(actor: User, team_id: int, parent_id: int | None) -> Team:
    team = db.session.get(Team, team_id)
    if team is None:
        raise NotFound("team")
    if parent_id is not None:
        parents = {t.id: t.parent_id for t in db.session.scalars(select(Team))}
        if parent_id not in parents:
            raise InvalidInput("unknown parent team")
        at = parent_id
        while at is not None:  # no team may end up under itself
            if at == team.id:
                raise InvalidInput("a team cannot be under itself or one of its sub-teams")
            at = parents.get(at)
    before, team.parent_id = team.parent_id, parent_id
    _audit(actor, "team.parent_set", "team", team.id, {"before": before, "after": parent_id})
    return team


def parse_names(text: str) -> list[str]:
    return list(dict.fromkeys(n.strip().lower() for n in (text or "").replace("،", ",").split(",") if n.strip()))


def set_agent_routing(actor: User, user_id: int, skills: list[str], languages: list[str], capacity: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("user")
    known = set(routing_settings.get().skills) | set(_intents())
    unknown = sorted(set(skills) - known)
    if unknown:
        raise InvalidInput(f"unknown skill {unknown[0]!r}: add it to the routing settings' skills first")
    bad = sorted(set(languages) - set(LANGUAGES))
    if bad or not languages:
        raise InvalidInput(f"languages are some of {', '.join(LANGUAGES)}")
    if not 1 <= capacity <= MAX_CAPACITY:
        raise InvalidInput(f"capacity is between 1 and {MAX_CAPACITY}")
    before = {"skills": user.skills, "languages": user.languages, "capacity": user.capacity}
    user.skills, user.languages, user.capacity = skills, languages, capacity
    _audit(actor, "user.routing_set", "user", user.id,
           {"before": before, "after": {"skills": skills, "languages": languages, "capacity": capacity}})
    return user


def _intents() -> tuple[str, ...]:
    from routing.labels import INTENTS

    return tuple(INTENTS)


def list_canned() -> list[CannedResponse]:
    return list(db.session.scalars(select(CannedResponse).order_by(CannedResponse.title)))


def add_canned(actor: User, title: str, text: str) -> CannedResponse:
    title, text = (title or "").strip(), (text or "").strip()
    if not title or len(title) > 120 or not text or len(text) > 4000:
        raise InvalidInput("a canned response needs a title (up to 120 characters) and a text (up to 4000)")
    canned = CannedResponse(title=title, text=text, created_by_id=actor.id)
    db.session.add(canned)
    db.session.flush()
    _audit(actor, "canned_response.created", "canned_response", canned.id, {"title": title})
    return canned


def _audit(actor: User, action: str, target_type: str, target_id: int, data: dict) -> None:
    db.session.add(AuditLog(actor_id=actor.id, action=action, target_type=target_type, target_id=target_id, data=data))
    db.session.commit()
