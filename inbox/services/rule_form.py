"""The admin's rule form: one row per condition and per action, each with the input its kind
needs. What the admin typed is kept as typed (``RuleForm``), so a refused rule comes back with
nothing lost; every row is checked by routing.rules' own validator and carries its error; the
rule is saved by ``routing_rules.save_rule`` (audited). Rows are added and removed by the page's
script, or without it by the form's "add"/"remove" buttons (``change_form``)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from connectors.registry import connector_class
from inbox.models import RoutingRule, User
from inbox.services.errors import InvalidInput
from inbox.services.routing_rules import save_rule
from routing.rules import Action, Condition

# The order the form offers them in.
CONDITION_KINDS = ("channel", "platform", "public", "intent", "language", "sentiment", "urgent", "keywords",
                   "regex", "customer_tag", "business_hours")
ACTION_KINDS = ("set_team", "set_priority", "add_tags", "assign_agent", "auto_reply", "route_to_triage",
                "keep_out_of_queue", "stop")
CHOICE_KINDS = frozenset({"channel", "platform", "intent", "language", "sentiment"})  # ticked boxes
FLAG_KINDS = frozenset({"public", "urgent", "business_hours"})  # "true" or "false"
NAME_LISTS = frozenset({"keywords", "customer_tag", "add_tags"})  # names separated by commas or lines
ID_ACTIONS = frozenset({"set_team", "set_priority", "assign_agent", "auto_reply"})
BARE_ACTIONS = frozenset({"route_to_triage", "keep_out_of_queue", "stop"})
MAX_FORM_ROWS = 50
_ROW_FIELD = re.compile(r"^(condition|action)-(\d{1,4})-kind$")
_SEPARATORS = re.compile(r"[,،\n]")


@dataclass
class FormRow:
    """A condition or an action as the admin typed it: ``values`` are the ticked choices, or the
    one text typed (names separated by commas, a pattern, an id, "true"/"false")."""

    kind: str
    values: list[str] = field(default_factory=list)
    negate: bool = False
    error: str | None = None

    @property
    def text(self) -> str:
        return self.values[0] if self.values else ""


@dataclass
class RuleForm:
    name: str = ""
    enabled: bool = True
    conditions: list[FormRow] = field(default_factory=list)
    actions: list[FormRow] = field(default_factory=list)
    error: str | None = None  # about the rule as a whole (its name, no action)

    @property
    def has_errors(self) -> bool:
        return bool(self.error) or any(row.error for row in (*self.conditions, *self.actions))


def form_of(row: RoutingRule | None) -> RuleForm:
    """The form showing a saved rule (or an empty one)."""
    if row is None:
        return RuleForm()
    return RuleForm(row.name, row.enabled,
                    [FormRow(c["kind"], _shown(c["kind"], c.get("value")), bool(c.get("negate")))
                     for c in row.conditions or []],
                    [FormRow(a["kind"], _shown(a["kind"], a.get("value"))) for a in row.actions or []])


def _shown(kind: str, value: Any) -> list[str]:
    if value is None:
        return []
    if kind in FLAG_KINDS:
        return ["true" if value else "false"]
    if kind in NAME_LISTS:
        return [", ".join(map(str, value))]
    if kind in CHOICE_KINDS:
        return [str(v) for v in value]
    return [str(value)]


def read_form(form) -> RuleForm:
    """The rows posted (a werkzeug MultiDict), in their order; unknown kinds are dropped."""
    rows: dict[str, list[tuple[int, FormRow]]] = {"condition": [], "action": []}
    for key in form:
        match = _ROW_FIELD.match(key)
        if not match:
            continue
        part, index = match.group(1), int(match.group(2))
        kind = form.get(key, "")
        if kind not in (CONDITION_KINDS if part == "condition" else ACTION_KINDS):
            continue
        values = [v.strip() for v in form.getlist(f"{part}-{index}-value")]
        negate = part == "condition" and form.get(f"{part}-{index}-negate") == "1"
        rows[part].append((index, FormRow(kind, [v for v in values if v] if kind in CHOICE_KINDS else values[:1],
                                          negate)))
    return RuleForm(
        (form.get("name") or "").strip(), form.get("enabled") == "1",
        [row for _, row in sorted(rows["condition"], key=lambda r: r[0])][:MAX_FORM_ROWS],
        [row for _, row in sorted(rows["action"], key=lambda r: r[0])][:MAX_FORM_ROWS])


def change_form(form: RuleForm, change: str, new_condition: str | None, new_action: str | None) -> RuleForm:
    """The "add a condition / an action" and "remove" buttons, when the page has no script."""
    if change == "add-condition" and new_condition in CONDITION_KINDS and len(form.conditions) < MAX_FORM_ROWS:
        form.conditions.append(FormRow(new_condition))
    elif change == "add-action" and new_action in ACTION_KINDS and len(form.actions) < MAX_FORM_ROWS:
        form.actions.append(FormRow(new_action))
    elif (match := re.fullmatch(r"remove-(condition|action)-(\d{1,4})", change or "")):
        rows = form.conditions if match.group(1) == "condition" else form.actions
        if int(match.group(2)) < len(rows):
            del rows[int(match.group(2))]
    return form


def form_options() -> dict[str, list[tuple[str, str]]]:
    """(value, label) of the choices the form offers: channels, platforms, teams, agents, canned
    responses, each as it is named now."""
    from inbox.services import agents, channels, directory

    found = directory.overview()
    return {
        "channel": [(str(c.id), c.name) for c in found["channels"]],
        "platform": [(p, _("Demo") if p == "demo" else connector_class(p).label) for p in channels.ADMIN_PLATFORMS],
        "set_team": [(str(t.id), t.name) for t in found["teams"]],
        "assign_agent": [(str(u.id), u.name) for u in found["users"] if u.role == "agent" and u.active],
        "auto_reply": [(str(c.id), c.title) for c in agents.list_canned()],
    }


def _value(row: FormRow, part: str) -> Any:
    """The row's value as routing.rules reads it; ``ValueError`` with a reason for the admin."""
    if part == "action" and row.kind in BARE_ACTIONS:
        return None
    if row.kind in CHOICE_KINDS:
        if not row.values:
            raise ValueError(_("Choose at least one."))
        if row.kind == "channel":
            return [int(v) if v.isdigit() else v for v in row.values]
        return list(row.values)
    text = row.text.strip()
    if not text:
        raise ValueError(_("Choose one.") if row.kind in ID_ACTIONS or row.kind in FLAG_KINDS else _("Fill this in."))
    if row.kind in FLAG_KINDS:
        return {"true": True, "false": False}.get(text, text)
    if row.kind in NAME_LISTS:
        return [name.strip() for name in _SEPARATORS.split(text) if name.strip()]
    if row.kind in ID_ACTIONS:
        return int(text) if text.isdigit() else text
    return text  # regex: the pattern as typed


def form_data(form: RuleForm) -> dict[str, Any] | None:
    """The rule to save, or None after setting each bad row's error and the rule's own: every
    row is checked by routing.rules' validator, so the admin sees all the problems at once."""
    data: dict[str, Any] = {"name": form.name, "enabled": form.enabled, "conditions": [], "actions": []}
    for part, rows, build in (("condition", form.conditions, Condition), ("action", form.actions, Action)):
        for row in rows:
            row.error = None
            try:
                item = {"kind": row.kind, "value": _value(row, part)}
                if part == "condition":
                    item["negate"] = row.negate
                data[f"{part}s"].append(build.from_dict(item).to_dict())
            except ValueError as error:
                row.error = str(error)
    form.error = None
    if not form.name:
        form.error = _("A rule needs a name.")
    elif not form.actions:
        form.error = _("A rule needs at least one action.")
    return None if form.has_errors else data


def save_form(actor: User, rule_id: int | None, form: RuleForm) -> RoutingRule:
    """Save the form's rule; ``InvalidInput`` (and the errors set on the form) when it is not valid."""
    data = form_data(form)
    if data is None:
        raise InvalidInput(form.error or _("Some conditions or actions are not valid: see below."))
    try:
        return save_rule(actor, rule_id, data)
    except InvalidInput as error:
        form.error = str(error)
        raise
