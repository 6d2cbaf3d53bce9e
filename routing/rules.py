"""Admin routing rules: what an admin saves (``Rule.from_dict`` / ``to_dict``, kept as JSON) and
``evaluate``, which applies them in order to a conversation's ``Facts``. Conditions are described in
``routing.conditions``.

Action kinds: ``set_team`` (team id), ``set_priority`` (1 urgent … 4 low), ``add_tags`` (names),
``assign_agent`` (agent id), ``auto_reply`` (canned-response id), ``route_to_triage``,
``keep_out_of_queue`` and ``stop`` (no later rule is evaluated; the rule's own actions still apply).

How ``evaluate`` decides:

* Enabled rules run in the admin's order; each one that fires applies its actions in order. A later
  ``set_team``, ``set_priority``, ``assign_agent`` or ``auto_reply`` overrides an earlier one; tags
  accumulate.
* ``keep_out_of_queue`` is for public noise (giveaway entries, friends tagged, ads): the decision is
  ``noise``, tagged "noise", with no team, no agent and no triage. The inbox stores such a
  conversation as resolved, so it reopens and is routed afresh if the customer writes again.
* Confidence: an intent below ``triage_below`` (or no intent at all) is not trusted. Intent
  conditions do not hold for it, and the conversation goes to triage unless a rule with at least
  one condition set its team or agent: such a rule decided from facts that do not depend on the
  model (channel, VIP tag, keywords…). A catch-all rule (no conditions) does not count, since it
  says nothing about this conversation. ``route_to_triage`` sends to triage whatever the
  confidence. In triage no agent is assigned; ``team_id`` stays as the rules' suggestion.
* ``team_id`` None outside triage and noise means no rule chose a team: the channel's default team.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from routing.conditions import Condition, Facts, MessageText, as_list, check_keys, invalid, is_id, one_of

__all__ = ["Action", "Condition", "Decision", "Facts", "Rule", "RuleTrace", "evaluate", "explain"]

PRIORITIES = (1, 2, 3, 4)
MAX_TAG_CHARS = 64  # Tag.name's column
NOISE_TAG = "noise"
_ID_ACTIONS = frozenset({"set_team", "assign_agent", "auto_reply"})
_BARE_ACTIONS = frozenset({"stop", "route_to_triage", "keep_out_of_queue"})
ACTION_KINDS = frozenset({"set_priority", "add_tags", *_ID_ACTIONS, *_BARE_ACTIONS})


@dataclass(frozen=True)
class Action:
    kind: str
    value: Any = None

    def __post_init__(self) -> None:
        where = f"action {self.kind!r}"
        if not isinstance(self.kind, str) or self.kind not in ACTION_KINDS:
            raise invalid("action", f"kind: unknown {self.kind!r} (expected one of {one_of(ACTION_KINDS)})")
        if self.kind in _BARE_ACTIONS and self.value is not None:
            raise invalid(where, "value: takes no value")
        if self.kind in _ID_ACTIONS and not is_id(self.value):
            raise invalid(where, "value: expected a positive integer id")
        if self.kind == "set_priority" and not (is_id(self.value) and self.value in PRIORITIES):
            raise invalid(where, "value: expected 1 (urgent), 2, 3 or 4 (low)")
        if self.kind == "add_tags":
            tags = as_list(self.value, where)
            if not all(isinstance(t, str) and t.strip() and len(t) <= MAX_TAG_CHARS for t in tags):
                raise invalid(where, f"value: tags are non-empty names of at most {MAX_TAG_CHARS} characters")
            object.__setattr__(self, "value", tuple(t.strip() for t in tags))

    def describe(self) -> str:
        if self.value is None:
            return self.kind
        return f"{self.kind}: {', '.join(self.value) if isinstance(self.value, tuple) else self.value}"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Action:
        check_keys(data, {"kind", "value"}, "action")
        return cls(data.get("kind"), data.get("value"))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": list(self.value) if isinstance(self.value, tuple) else self.value}


@dataclass(frozen=True)
class Rule:
    """One admin rule. ``id`` is None for a rule not saved yet (a dry-run of a draft)."""

    id: int | None
    name: str
    conditions: tuple[Condition, ...] = ()
    actions: tuple[Action, ...] = ()
    enabled: bool = True

    def __post_init__(self) -> None:
        where = f"rule {self.id if self.id is not None else '(new)'}"
        if self.id is not None and not is_id(self.id):
            raise invalid(where, "id: expected a positive integer")
        if not isinstance(self.name, str) or not self.name.strip():
            raise invalid(where, "name: required")
        where = f"{where} {self.name!r}"
        if not isinstance(self.enabled, bool):
            raise invalid(where, "enabled: expected true or false")
        object.__setattr__(self, "conditions", tuple(self.conditions))
        object.__setattr__(self, "actions", tuple(self.actions))
        if not self.actions:
            raise invalid(where, "actions: at least one action is needed")

    @property
    def label(self) -> str:
        return f"rule {self.id if self.id is not None else '(new)'} {self.name!r}"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Rule:
        """Build and validate a rule; a ``ValueError`` names the rule and the bad field."""
        check_keys(data, {"id", "name", "enabled", "conditions", "actions"}, "rule")
        rule_id, name = data.get("id"), data.get("name")
        where = f"rule {rule_id if rule_id is not None else '(new)'} {name!r}"
        parts = {}
        for key, part in (("conditions", Condition), ("actions", Action)):
            items = data.get(key, [])
            if not isinstance(items, list):
                raise invalid(where, f"{key}: expected a list")
            parts[key] = []
            for index, item in enumerate(items, 1):
                try:
                    parts[key].append(part.from_dict(item))
                except ValueError as error:
                    raise invalid(f"{where}: {key}[{index}]", str(error)) from None
        return cls(rule_id, name, tuple(parts["conditions"]), tuple(parts["actions"]), data.get("enabled", True))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "enabled": self.enabled,
            "conditions": [c.to_dict() for c in self.conditions], "actions": [a.to_dict() for a in self.actions],
        }


@dataclass(frozen=True)
class RuleTrace:
    """What one rule did: the dry-run output and the "why" of the routing event."""

    rule_id: int | None
    name: str
    outcome: str  # fired | not_matched | disabled | not_reached (an earlier rule stopped)
    reason: str = ""  # not_matched: why its first failing condition failed; not_reached: which rule stopped
    failed_condition: int | None = None  # 1-based, for not_matched
    actions: tuple[Action, ...] = ()  # applied, for fired

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id, "name": self.name, "outcome": self.outcome, "reason": self.reason,
            "failed_condition": self.failed_condition, "actions": [a.to_dict() for a in self.actions],
        }


@dataclass(frozen=True)
class Decision:
    team_id: int | None = None
    priority: int | None = None  # None: no rule set one (the conversation's default)
    tags: tuple[str, ...] = ()
    assignee_id: int | None = None
    auto_reply: int | None = None
    triage: bool = False
    triage_reason: str | None = None  # rule | no_intent | low_confidence
    noise: bool = False
    intent: str | None = None
    confidence: float = 0.0
    model_version: str | None = None
    triage_below: float = 0.0
    trace: tuple[RuleTrace, ...] = ()

    @property
    def fired(self) -> tuple[int | None, ...]:
        return tuple(t.rule_id for t in self.trace if t.outcome == "fired")

    def to_dict(self) -> dict[str, Any]:
        """JSON for the routing ConversationEvent: the outcome and why."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "trace"}
        return {**data, "tags": list(self.tags), "fired": list(self.fired), "trace": [t.to_dict() for t in self.trace]}


class _Outcome:
    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.tags: dict[str, None] = {}  # ordered set
        self.flags: set[str] = set()
        self.routed = False  # a rule with conditions chose a team or an agent

    def apply(self, rule: Rule) -> None:
        for action in rule.actions:
            if action.kind == "add_tags":
                self.tags.update(dict.fromkeys(action.value))
            elif action.kind == "keep_out_of_queue":
                self.tags[NOISE_TAG] = None
            if action.kind in _BARE_ACTIONS:
                self.flags.add(action.kind)
            elif action.kind != "add_tags":
                self.values[action.kind] = action.value
            if action.kind in ("set_team", "assign_agent") and rule.conditions:
                self.routed = True


def evaluate(rules: Iterable[Rule], facts: Facts, *, triage_below: float) -> Decision:
    """Apply the rules in order to ``facts`` (module docstring: the semantics); pure."""
    if isinstance(triage_below, bool) or not 0.0 <= triage_below <= 1.0:
        raise ValueError(f"triage_below: expected a confidence between 0 and 1, got {triage_below!r}")
    confident = facts.intent is not None and facts.intent_confidence >= triage_below
    message = MessageText(facts.text)
    outcome, trace, stopped_by = _Outcome(), [], None
    for rule in rules:
        if stopped_by is not None:
            trace.append(RuleTrace(rule.id, rule.name, "not_reached", f"stopped by {stopped_by.label}"))
            continue
        if not rule.enabled:
            trace.append(RuleTrace(rule.id, rule.name, "disabled"))
            continue
        failed = next(
            ((index, why) for index, condition in enumerate(rule.conditions, 1)
             if (why := condition.failure(facts, message, confident)) is not None),
            None,
        )
        if failed is not None:
            trace.append(RuleTrace(rule.id, rule.name, "not_matched", failed[1], failed_condition=failed[0]))
            continue
        outcome.apply(rule)
        trace.append(RuleTrace(rule.id, rule.name, "fired", actions=rule.actions))
        if any(action.kind == "stop" for action in rule.actions):
            stopped_by = rule

    noise = "keep_out_of_queue" in outcome.flags
    triage_reason = None
    if noise:
        pass
    elif "route_to_triage" in outcome.flags:
        triage_reason = "rule"
    elif not confident and not outcome.routed:
        triage_reason = "no_intent" if facts.intent is None else "low_confidence"
    return Decision(
        team_id=None if noise else outcome.values.get("set_team"),
        priority=outcome.values.get("set_priority"),
        tags=tuple(outcome.tags),
        assignee_id=None if noise or triage_reason else outcome.values.get("assign_agent"),
        auto_reply=outcome.values.get("auto_reply"),
        triage=triage_reason is not None,
        triage_reason=triage_reason,
        noise=noise,
        intent=facts.intent,
        confidence=facts.intent_confidence,
        model_version=facts.model_version,
        triage_below=triage_below,
        trace=tuple(trace),
    )


_TRIAGE_WHY = {
    "rule": "a rule sent it to triage",
    "no_intent": "no intent (no model, or nothing to read)",
    "low_confidence": "intent {intent} at {confidence:.2f} is below {triage_below:.2f}",
}


def explain(decision: Decision) -> list[str]:
    """The decision as English lines, for logs and the CLI (screens render the trace through Babel)."""
    lines = []
    for t in decision.trace:
        label = f"rule {t.rule_id if t.rule_id is not None else '(new)'} {t.name!r}"
        if t.outcome == "fired":
            lines.append(f"{label}: fired: {'; '.join(a.describe() for a in t.actions)}")
        elif t.outcome == "not_matched":
            lines.append(f"{label}: not matched, condition {t.failed_condition}: {t.reason}")
        else:
            lines.append(f"{label}: {t.outcome.replace('_', ' ')}" + (f", {t.reason}" if t.reason else ""))
    if decision.noise:
        lines.append("outcome: kept out of the queues as noise")
    elif decision.triage:
        why = _TRIAGE_WHY[decision.triage_reason].format(**decision.to_dict())
        lines.append(f"outcome: triage, {why}")
    else:
        lines.append(f"outcome: team {decision.team_id}" if decision.team_id else "outcome: the channel's default team")
    for name, value in (("priority", decision.priority), ("tags", ", ".join(decision.tags)),
                        ("agent", decision.assignee_id), ("auto-reply", decision.auto_reply)):
        if value:
            lines.append(f"{name}: {value}")
    return lines
