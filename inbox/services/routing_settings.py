"""Routing settings an admin edits (STYLE.md habit 7): the triage threshold, the escalation
ladder, capacity weights, the skills agents may have, and whether an agent who goes offline
hands their open work back to the queue. Stored as one ``Setting`` row, read through a
per-process cache that lives a few seconds (saving in this process forgets it at once)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import select

from inbox.extensions import db
from inbox.models import AuditLog, Setting, User
from inbox.services.errors import InvalidInput
from routing.assignment import DEFAULT_LADDER, DEFAULT_WEIGHTS, Ladder, Weights

KEY = "routing"
CACHE_SECONDS = 5.0
DEFAULT_TRIAGE_BELOW = 0.45
DEFAULT_OFFLINE_GRACE_SECONDS = 120  # a page reload is a disconnect: do not hand work back for it
DEFAULT_SKILLS = ("prepaid", "postpaid", "fibre")
MAX_SKILLS = 100
MAX_SKILL_CHARS = 32
_CACHE = "tawasul_routing_settings"


@dataclass(frozen=True)
class RoutingSettings:
    triage_below: float = DEFAULT_TRIAGE_BELOW
    ladder: Ladder = DEFAULT_LADDER
    weights: Weights = DEFAULT_WEIGHTS
    return_work_when_offline: bool = True
    offline_grace_seconds: int = DEFAULT_OFFLINE_GRACE_SECONDS
    skills: tuple[str, ...] = field(default=DEFAULT_SKILLS)

    def to_dict(self) -> dict[str, Any]:
        return {"triage_below": self.triage_below, "ladder": self.ladder.to_dict(),
                "weights": self.weights.to_dict(), "return_work_when_offline": self.return_work_when_offline,
                "offline_grace_seconds": self.offline_grace_seconds, "skills": list(self.skills)}


def parse(data: dict[str, Any]) -> RoutingSettings:
    """Validate a settings object; ``InvalidInput`` says which field is wrong."""
    if not isinstance(data, dict):
        raise InvalidInput("routing settings: expected an object")
    unknown = sorted(set(data) - set(RoutingSettings.__dataclass_fields__))
    if unknown:
        raise InvalidInput(f"routing settings: unknown field {unknown[0]!r}")
    defaults = RoutingSettings()
    try:
        triage = data.get("triage_below", defaults.triage_below)
        if isinstance(triage, bool) or not isinstance(triage, int | float) or not 0 <= triage <= 1:
            raise ValueError(f"triage_below: expected a confidence between 0 and 1, got {triage!r}")
        ladder = Ladder.from_dict(data["ladder"]) if "ladder" in data else defaults.ladder
        weights = Weights.from_dict(data["weights"]) if "weights" in data else defaults.weights
        grace = data.get("offline_grace_seconds", defaults.offline_grace_seconds)
        if isinstance(grace, bool) or not isinstance(grace, int) or not 0 <= grace <= 86400:
            raise ValueError("offline_grace_seconds: expected whole seconds between 0 and 86400")
        back = data.get("return_work_when_offline", defaults.return_work_when_offline)
        if not isinstance(back, bool):
            raise ValueError("return_work_when_offline: expected true or false")
        skills = _skills(data.get("skills", list(defaults.skills)))
    except (ValueError, TypeError) as error:
        raise InvalidInput(str(error)) from None
    return RoutingSettings(float(triage), ladder, weights, back, grace, skills)


def _skills(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > MAX_SKILLS:
        raise ValueError(f"skills: expected a list of at most {MAX_SKILLS} names")
    names: dict[str, None] = {}
    for item in value:
        if not isinstance(item, str) or not item.strip() or len(item.strip()) > MAX_SKILL_CHARS:
            raise ValueError(f"skills: each is a name of 1 to {MAX_SKILL_CHARS} characters")
        names[item.strip().lower()] = None
    return tuple(names)


def get() -> RoutingSettings:
    """The settings in force (defaults until an admin saves some); cached a few seconds."""
    cache = current_app.extensions.setdefault(_CACHE, {})
    now = time.monotonic()
    if cache.get("until", 0.0) > now:
        return cache["value"]
    # Core through the session's connection: no autoflush of ingest's pending rows.
    stored = db.session.connection().execute(select(Setting.value).where(Setting.key == KEY)).scalar()
    try:
        value = parse(stored) if stored else RoutingSettings()
    except InvalidInput:  # saved by an older version: keep routing on the defaults
        value = RoutingSettings()
    cache.update(value=value, until=now + CACHE_SECONDS)
    return value


def forget() -> None:
    current_app.extensions.pop(_CACHE, None)


def save(actor: User, data: dict[str, Any]) -> RoutingSettings:
    """An admin's new settings, validated, audited and in force in this process at once."""
    value = parse(data)
    actor_id = actor.id
    row = db.session.get(Setting, KEY)
    before = row.value if row is not None else None
    if row is None:
        row = Setting(key=KEY, value=value.to_dict(), updated_by_id=actor_id)
        db.session.add(row)
    row.value, row.updated_by_id = value.to_dict(), actor_id
    db.session.add(AuditLog(actor_id=actor_id, action="routing.settings_saved", target_type="setting",
                            data={"before": before, "after": value.to_dict()}))
    db.session.commit()
    forget()
    return value
