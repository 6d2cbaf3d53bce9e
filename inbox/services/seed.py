"""The embedded mode's first run: demo accounts, a team and the demo channel."""
from __future__ import annotations

from sqlalchemy import func, select

from inbox.extensions import db
from inbox.models import Channel, User
from inbox.services.users import create_user, get_or_create_team

DEMO_PASSWORD = "tawasul-demo"
DEMO_TEAM = "Customer Care"
# (email, role, name, UI language)
DEMO_ACCOUNTS = (
    ("admin@tawasul.local", "admin", "Admin", "en"),
    ("supervisor@tawasul.local", "supervisor", "Rania (supervisor)", "en"),
    ("agent1@tawasul.local", "agent", "Omar", "ar"),
    ("agent2@tawasul.local", "agent", "Dana", "en"),
)


def seed_demo(poll_interval_seconds: float = 6.0) -> bool:
    """Create the demo data unless any user exists; True if it did."""
    if db.session.scalar(select(func.count(User.id))):
        return False
    for email, role, name, language in DEMO_ACCOUNTS:
        create_user(email, DEMO_PASSWORD, role=role, name=name, language=language, team_names=[DEMO_TEAM])
    ensure_demo_channel(poll_interval_seconds)
    return True


def ensure_demo_channel(poll_interval_seconds: float = 6.0) -> Channel:
    channel = db.session.scalar(select(Channel).where(Channel.platform == "demo"))
    if channel is None:
        channel = Channel(
            platform="demo",
            name="Demo social channel",
            team=get_or_create_team(DEMO_TEAM),
            settings={"poll_interval": poll_interval_seconds, "batch_size": 1},
        )
        db.session.add(channel)
        db.session.commit()
    return channel
