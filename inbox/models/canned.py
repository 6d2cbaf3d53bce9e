"""Canned responses: answers an admin writes once, sent by agents or by a rule's auto-reply.

``text`` is the Arabic version (and the one a rule's auto-reply sends), ``text_en`` the English
one; either may hold variables such as ``{customer_name}`` (inbox/services/canned.py).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from inbox.extensions import db
from inbox.models.base import utcnow


class CannedResponse(db.Model):
    __tablename__ = "canned_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    # What an agent types after "/" to find it (lowercase letters, digits, - and _).
    shortcut: Mapped[str | None] = mapped_column(String(40), unique=True)
    text: Mapped[str] = mapped_column(Text)  # Arabic
    text_en: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None]
