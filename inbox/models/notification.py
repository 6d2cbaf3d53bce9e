"""Notifications: what a user is told about personally (an @mention in a note)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inbox.extensions import db
from inbox.models.base import utcnow

KINDS = ("mention",)


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        # The top bar's badge: a user's unread ones, newest first.
        Index("ix_notifications_user_read_created", "user_id", "read_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32), default="mention")
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    note_id: Mapped[int | None] = mapped_column(ForeignKey("notes.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    excerpt: Mapped[str] = mapped_column(String(280), default="")  # the start of the note, as text
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]

    actor = relationship("User", foreign_keys=[actor_id])
