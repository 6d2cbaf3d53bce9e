"""Admin routing rules: list, save, order, enable, delete (each audited), and the enabled rules
ingest applies (cached a few seconds per process). The dry-run of the admin screen runs ingest's
own decision code (``inbox.services.routing_decisions.dry_run``); the form that builds a rule row
by row is ``inbox.services.rule_form``."""
from __future__ import annotations

import json
import time
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from inbox.extensions import db
from inbox.models import AuditLog, RoutingRule, User
from inbox.services.errors import InvalidInput, NotFound
from routing.rules import Rule

CACHE_SECONDS = 5.0
MAX_RULES = 500
_CACHE = "tawasul_routing_rules"


def list_rules() -> list[RoutingRule]:
    return list(db.session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id)))


def get_rule(rule_id: int) -> RoutingRule:
    rule = db.session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound("rule")
    return rule


def active_rules() -> tuple[Rule, ...]:
    """Every rule in the admin's order, as ``routing.rules.Rule`` (disabled ones included: the
    trace says they were skipped). Loaded once per batch at most, cached a few seconds."""
    cache = current_app.extensions.setdefault(_CACHE, {})
    now = time.monotonic()
    if cache.get("until", 0.0) > now:
        return cache["rules"]
    rows = db.session.connection().execute(
        select(RoutingRule.id, RoutingRule.name, RoutingRule.enabled, RoutingRule.conditions, RoutingRule.actions)
        .order_by(RoutingRule.position, RoutingRule.id)).all()
    rules = tuple(Rule.from_dict({"id": r.id, "name": r.name, "enabled": r.enabled,
                                  "conditions": r.conditions or [], "actions": r.actions or []}) for r in rows)
    cache.update(rules=rules, until=now + CACHE_SECONDS)
    return rules


def forget() -> None:
    current_app.extensions.pop(_CACHE, None)


def parse_rule(data: dict[str, Any], rule_id: int | None = None) -> Rule:
    """Validate an admin's rule (``routing.rules``' own messages name the bad field)."""
    try:
        return Rule.from_dict({**data, "id": rule_id})
    except ValueError as error:
        raise InvalidInput(str(error)) from None


def parse_json(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text or "")
    except json.JSONDecodeError as error:
        raise InvalidInput(f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})") from None
    if not isinstance(data, dict):
        raise InvalidInput("a rule is a JSON object with name, conditions and actions")
    return data


def save_rule(actor: User, rule_id: int | None, data: dict[str, Any]) -> RoutingRule:
    """Create (at the end of the order) or change a rule; ``InvalidInput`` when it is not valid."""
    rule = parse_rule({k: v for k, v in data.items() if k != "id"}, rule_id)
    if rule_id is None:
        if db.session.scalar(select(func.count(RoutingRule.id))) >= MAX_RULES:
            raise InvalidInput(f"at most {MAX_RULES} rules")
        last = db.session.scalar(select(func.max(RoutingRule.position)))
        row = RoutingRule(position=(last or 0) + 1, created_by_id=actor.id)
        db.session.add(row)
        before = None
    else:
        row = get_rule(rule_id)
        before = row.as_dict()
    saved = rule.to_dict()
    row.name, row.enabled = saved["name"].strip(), saved["enabled"]
    row.conditions, row.actions, row.updated_by_id = saved["conditions"], saved["actions"], actor.id
    db.session.flush()
    _audit(actor, "routing_rule.created" if before is None else "routing_rule.saved", row,
           {"before": before, "after": row.as_dict()})
    return row


def set_enabled(actor: User, rule_id: int, enabled: bool) -> RoutingRule:
    row = get_rule(rule_id)
    row.enabled, row.updated_by_id = enabled, actor.id
    _audit(actor, "routing_rule.enabled" if enabled else "routing_rule.disabled", row)
    return row


def move(actor: User, rule_id: int, direction: str) -> RoutingRule:
    """One place up or down the order (swapping with its neighbour)."""
    if direction not in ("up", "down"):
        raise InvalidInput("direction is up or down")
    rules = list_rules()
    row = get_rule(rule_id)
    index = rules.index(row)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(rules):
        rules[index], rules[other] = rules[other], rules[index]
        for position, rule in enumerate(rules, 1):
            rule.position = position
        _audit(actor, "routing_rule.moved", row, {"direction": direction, "position": row.position})
    else:
        db.session.rollback()
    return row


def delete_rule(actor: User, rule_id: int) -> None:
    row = get_rule(rule_id)
    data = row.as_dict()
    db.session.delete(row)
    _audit(actor, "routing_rule.deleted", row, {"before": data})


def _audit(actor: User, action: str, row: RoutingRule, data: dict[str, Any] | None = None) -> None:
    db.session.add(AuditLog(actor_id=actor.id, action=action, target_type="routing_rule", target_id=row.id,
                            data=data or {}))
    db.session.commit()
    forget()

