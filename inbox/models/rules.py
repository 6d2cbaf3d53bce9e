"""Admin routing rules (ordered, JSON as ``routing.rules.Rule.to_dict`` gives) and the operator
settings admins edit live (routing thresholds, the escalation ladder, capacity weights, skills)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from inbox.extensions import db
from inbox.models.base import utcnow


class RoutingRule(db.Model):
    """One admin rule. ``position`` orders them (lowest first); ``conditions`` and ``actions``
    are validated by ``routing.rules.Rule.from_dict`` before they are saved."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(index=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def as_dict(self) -> dict[str, Any]:
        """The shape ``routing.rules.Rule.from_dict`` reads."""
        return {"id": self.id, "name": self.name, "enabled": self.enabled,
                "conditions": list(self.conditions or []), "actions": list(self.actions or [])}


class Setting(db.Model):
    """An operator setting an admin edits in the app (STYLE.md habit 7): a key and a JSON value,
    read through a cached getter (inbox/services/routing_settings.py)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
