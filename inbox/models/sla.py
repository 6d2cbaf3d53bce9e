"""SLA settings admins edit: one policy per priority and the business-hours calendar.

Both hold routing.sla's own JSON (``SlaPolicy.to_dict``, ``BusinessHours.to_dict``), so what is
stored is what the clock validates; inbox/services/sla.py reads them behind a cached getter.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from inbox.extensions import db
from inbox.models.base import utcnow


class SlaPolicy(db.Model):
    """Targets for one priority (1 urgent … 4 low), in minutes; None: not measured."""

    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    priority: Mapped[int] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(80))
    first_response_minutes: Mapped[int | None]
    next_response_minutes: Mapped[int | None]
    resolution_minutes: Mapped[int | None]
    business_hours: Mapped[bool] = mapped_column(default=True)  # False: the clock never stops
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class BusinessHours(db.Model):
    """The support desk's calendar: one row (time zone, weekly hours, holidays, dated overrides)."""

    __tablename__ = "business_hours"

    id: Mapped[int] = mapped_column(primary_key=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
