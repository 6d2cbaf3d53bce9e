"""The admins' SLA screen: policies per priority and the business-hours calendar.

Forms come in as flat text fields; routing.sla validates what they build (``from_dict``), and
its messages, which name the bad field, are handed back keyed by the form field they are about.
A save writes the row(s), an AuditLog entry with what changed, and makes this process's cached
settings fresh at once (others within SLA_SETTINGS_CHECK_SECONDS). Running conversations keep the
policy they started on; new and re-prioritised ones take the saved one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from inbox.extensions import db
from inbox.models import AuditLog, BusinessHours, SlaPolicy, User
from inbox.services import sla
from inbox.services.errors import InvalidInput
from routing import sla as clock

TARGET_FIELDS = tuple(f"{target}_minutes" for target in clock.TARGETS)
# Sunday first: the working week as Jordan counts it.
WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
BLANK_OVERRIDES = 2  # empty rows offered for new dated overrides
MAX_OVERRIDES = 100
_OVERRIDE_FIELD = re.compile(r"override (\d+)")


class SettingsInvalid(InvalidInput):
    """Nothing saved; ``errors`` maps form fields (or "" for the whole form) to messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class SlaForm:
    policies: dict[str, str]  # "p1-name", "p1-first_response_minutes", "p1-business_hours" ...
    hours: dict[str, str]  # "timezone", "hours-sunday", "holidays"
    overrides: list[dict[str, str]]  # name, first_day, last_day, hours


def form() -> SlaForm:
    """The screen's values as stored now (the defaults until an admin saves)."""
    current = sla.settings()
    policies: dict[str, str] = {}
    for priority in clock.PRIORITIES:
        data = current.policies[priority].to_dict()
        policies[f"p{priority}-name"] = data["name"]
        for key in TARGET_FIELDS:
            policies[f"p{priority}-{key}"] = "" if data[key] is None else str(data[key])
        policies[f"p{priority}-business_hours"] = "1" if data["business_hours"] else ""
    hours = current.hours
    values = {"timezone": hours.timezone,
              "holidays": "\n".join(sorted(day.isoformat() for day in hours.holidays))}
    for name in WEEKDAYS:
        values[f"hours-{name}"] = _format_day(hours.weekly[clock.WEEKDAYS.index(name)])
    overrides = [_override_row(o.to_dict()) for o in hours.overrides]
    return SlaForm(policies, values, overrides + [dict.fromkeys(("name", "first_day", "last_day", "hours"), "")
                                                   for _ in range(BLANK_OVERRIDES)])


def _format_day(day: tuple[clock.Interval, ...]) -> str:
    return ", ".join(f"{a}-{b}" for a, b in (interval.to_list() for interval in day))


def _override_row(data: dict[str, Any]) -> dict[str, str]:
    if "daily" in data:
        hours = ", ".join(f"{a}-{b}" for a, b in data["daily"]) or "closed"
    else:
        hours = "; ".join(f"{name}: " + (", ".join(f"{a}-{b}" for a, b in pairs) or "closed")
                          for name, pairs in data["weekly"].items())
    return {"name": data["name"], "first_day": data["first_day"], "last_day": data["last_day"], "hours": hours}


# ---- policies ---------------------------------------------------------------------------------

def save_policies(actor: User, fields: dict[str, str]) -> list[clock.SlaPolicy]:
    """The four policies from the form's fields; SettingsInvalid (nothing saved) if any is wrong."""
    parsed, errors = [], {}
    for priority in clock.PRIORITIES:
        data: dict[str, Any] = {"name": (fields.get(f"p{priority}-name") or "").strip(), "priority": priority,
                                "business_hours": fields.get(f"p{priority}-business_hours") == "1"}
        for key in TARGET_FIELDS:
            data[key] = _minutes(fields.get(f"p{priority}-{key}"))
        try:
            parsed.append(clock.SlaPolicy.from_dict(data))
        except ValueError as error:
            field = str(error).split(":", 1)[0]
            errors[f"p{priority}-{field}" if field in (*TARGET_FIELDS, "name") else f"p{priority}"] = str(error)
    if errors:
        raise SettingsInvalid(errors)
    rows = {row.priority: row for row in db.session.scalars(select(SlaPolicy))}
    before = {p: _policy_data(rows[p]) if p in rows else None for p in clock.PRIORITIES}
    changed = {}
    for policy in parsed:
        data = policy.to_dict()
        row = rows.get(policy.priority) or SlaPolicy(priority=policy.priority)
        row.name, row.business_hours = data["name"], data["business_hours"]
        for key in TARGET_FIELDS:
            setattr(row, key, data[key])
        db.session.add(row)
        if before[policy.priority] != data:
            changed[str(policy.priority)] = {"from": before[policy.priority], "to": data}
    db.session.add(AuditLog(actor_id=actor.id, action="sla.policies_saved", target_type="sla_policy",
                            data={"changed": changed}))
    db.session.commit()
    sla.forget_settings()
    return parsed


def _minutes(text: str | None) -> int | str | None:
    text = (text or "").strip()
    if not text:
        return None
    return int(text) if text.isascii() and text.isdigit() else text


def _policy_data(row: SlaPolicy) -> dict[str, Any]:
    return {"name": row.name, "priority": row.priority, **{key: getattr(row, key) for key in TARGET_FIELDS},
            "business_hours": row.business_hours}


# ---- business hours ---------------------------------------------------------------------------

def save_business_hours(actor: User, fields: dict[str, str], overrides: list[dict[str, str]]) -> clock.BusinessHours:
    """The calendar from the form: time zone, each weekday's hours ("08:00-12:00, 13:00-17:00",
    empty when closed), holidays (one date a line) and dated overrides (rows left blank are
    dropped). SettingsInvalid, with nothing saved, naming the field routing.sla refused."""
    rows = [row for row in overrides if any((row.get(k) or "").strip() for k in ("name", "first_day", "last_day",
                                                                                  "hours"))]
    if len(rows) > MAX_OVERRIDES:
        raise SettingsInvalid({"": f"at most {MAX_OVERRIDES} dated overrides"})
    data = {
        "timezone": (fields.get("timezone") or "").strip(),
        "weekly": {name: _parse_hours(fields.get(f"hours-{name}")) for name in WEEKDAYS},
        "holidays": (fields.get("holidays") or "").replace(",", " ").split(),
        "overrides": [_override_data(row) for row in rows],
    }
    try:
        hours = clock.BusinessHours.from_dict(data)
    except ValueError as error:
        raise SettingsInvalid({_hours_field(str(error), overrides, rows): str(error)}) from None
    config = hours.to_dict()
    row = db.session.scalar(select(BusinessHours).order_by(BusinessHours.id).limit(1))
    before = row.config if row else None
    if row is None:
        row = BusinessHours()
        db.session.add(row)
    row.config = config
    db.session.flush()
    db.session.add(AuditLog(actor_id=actor.id, action="sla.business_hours_saved", target_type="business_hours",
                            target_id=row.id, data={"from": before, "to": config}))
    db.session.commit()
    sla.forget_settings()
    return hours


def _parse_hours(text: str | None) -> list[list[str]]:
    """ "08:00-12:00, 13:00-17:00" → [["08:00", "12:00"], ["13:00", "17:00"]]; "" or "closed" → []."""
    text = (text or "").strip()
    if not text or text.lower() == "closed":
        return []
    return [[part.strip() for part in piece.split("-")] for piece in text.split(",") if piece.strip()]


def _override_data(row: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {"name": (row.get("name") or "").strip(), "first_day": (row.get("first_day") or "").strip()}
    if (row.get("last_day") or "").strip():
        data["last_day"] = row["last_day"].strip()
    hours = (row.get("hours") or "").strip()
    if hours.split(":", 1)[0].strip().lower() in clock.WEEKDAYS:  # "sunday: 09:00-15:00; friday: closed"
        weekly = {}
        for part in hours.split(";"):
            name, _, pairs = part.partition(":")
            weekly[name.strip().lower()] = _parse_hours(pairs)
        data["weekly"] = weekly
    else:
        data["daily"] = _parse_hours(hours)
    return data


def _hours_field(message: str, given: list[dict[str, str]], kept: list[dict[str, str]]) -> str:
    """The form field a routing.sla message is about: "weekly: sunday: …" → "hours-sunday"."""
    head = message.split(":", 2)
    if head[0] == "weekly" and len(head) > 1 and head[1].strip() in WEEKDAYS:
        return f"hours-{head[1].strip()}"
    if head[0] in ("timezone", "holidays"):
        return head[0]
    match = _OVERRIDE_FIELD.match(message)
    if match:  # numbered among the rows kept: point at the row as the form shows it
        return f"override-{given.index(kept[int(match[1]) - 1])}"
    return ""
