"""Read-only listings for the admin pages."""
from __future__ import annotations

from sqlalchemy import select

from inbox.extensions import db
from inbox.models import Channel, Team, User


def overview() -> dict[str, list]:
    return {
        "users": db.session.scalars(select(User).order_by(User.email)).all(),
        "teams": db.session.scalars(select(Team).order_by(Team.name)).all(),
        "channels": db.session.scalars(select(Channel).order_by(Channel.id)).all(),
    }
