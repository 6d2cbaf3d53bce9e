"""Users (agents, supervisors, admins) and the teams they work in."""
from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import JSON, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from inbox.extensions import db
from inbox.models.base import utcnow

ROLES = ("agent", "supervisor", "admin")
PRESENCES = ("online", "away", "offline")  # routing.assignment.PRESENCES


def _off_the_hub(func, *args):
    """A password hash is ~80 ms of CPU (scrypt). Served with gevent (`python app.py` in production) it
    runs in a real thread of the hub's pool, where hashlib releases the GIL, so no socket waits on a
    sign-in; in any other process it runs here."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("threading"):
        import gevent

        return gevent.get_hub().threadpool.apply(func, args)
    return func(*args)


team_members = Table(
    "team_members",
    db.metadata,
    Column("team_id", ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class Team(db.Model):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    # A sub-team's waiting conversations may widen to its parent (the escalation ladder).
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list[User]] = relationship(secondary=team_members, back_populates="teams")


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="agent")
    language: Mapped[str] = mapped_column(String(8), default="ar")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Amman")
    active: Mapped[bool] = mapped_column(default=True)
    # Part of the login cookie: bumping it ends every session of this user at once.
    session_version: Mapped[int] = mapped_column(default=1)
    capacity: Mapped[int] = mapped_column(default=8)
    # Assignment (routing.assignment): what the agent handles, reads, and whether they are here.
    skills: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")
    languages: Mapped[list[Any]] = mapped_column(JSON, default=lambda: ["ar"], server_default='["ar"]')
    presence: Mapped[str] = mapped_column(String(16), default="offline", server_default="offline")
    presence_changed_at: Mapped[datetime | None]
    # Why the presence is what it is: "manual" (the agent chose), "idle" (no key or mouse for
    # AUTO_AWAY_MINUTES), "disconnected" (no page open). Only "idle" and "disconnected" undo themselves.
    presence_source: Mapped[str | None] = mapped_column(String(16))
    last_assigned_at: Mapped[datetime | None]  # "longest idle first"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    teams: Mapped[list[Team]] = relationship(secondary=team_members, back_populates="members")

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def set_password(self, password: str) -> None:
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"
        self.password_hash = _off_the_hub(generate_password_hash, password, method)

    def check_password(self, password: str) -> bool:
        return _off_the_hub(check_password_hash, self.password_hash, password)

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    @property
    def sees_all_teams(self) -> bool:
        return self.role in ("supervisor", "admin")

    @property
    def team_ids(self) -> list[int]:
        return [team.id for team in self.teams]
