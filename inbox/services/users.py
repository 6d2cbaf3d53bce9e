"""Accounts: creation, sign-in checks, and ending sessions."""
from __future__ import annotations

from sqlalchemy import func, select

from inbox import realtime
from inbox.extensions import db
from inbox.models import AuditLog, Team, User
from inbox.models.user import ROLES
from inbox.services.errors import InvalidInput, NotFound

MIN_PASSWORD_LENGTH = 8
LANGUAGES = ("ar", "en")


def _normal_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise InvalidInput(f"not an e-mail address: {email!r}")
    return email


def create_user(
    email: str,
    password: str,
    role: str = "agent",
    name: str | None = None,
    language: str = "ar",
    team_names: list[str] | None = None,
) -> User:
    email = _normal_email(email)
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if language not in LANGUAGES:
        raise InvalidInput(f"language must be one of {', '.join(LANGUAGES)}")
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise InvalidInput(f"a user with e-mail {email} already exists")
    user = User(email=email, name=name or email.split("@")[0], role=role, language=language)
    user.set_password(password)
    for team_name in team_names or []:
        user.teams.append(get_or_create_team(team_name))
    db.session.add(user)
    db.session.commit()
    return user


def get_or_create_team(name: str) -> Team:
    team = db.session.scalar(select(Team).where(Team.name == name))
    if team is None:
        team = Team(name=name)
        db.session.add(team)
    return team


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None (callers say nothing more)."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None or not user.active or not user.check_password(password):
        return None
    return user


def load_session_user(session_id: str) -> User | None:
    """Resolve the login cookie's "<user id>:<session version>"; stale versions get None."""
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def end_sessions(user: User) -> None:
    """Invalidate every cookie and socket of ``user``, on every device."""
    user.session_version += 1
    db.session.commit()
    realtime.end_user_sessions(user.id)


def set_language(user: User, language: str) -> None:
    if language not in LANGUAGES:
        raise InvalidInput(f"language must be one of {', '.join(LANGUAGES)}")
    user.language = language
    db.session.commit()


def change_password(user: User, new_password: str) -> None:
    if len(new_password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    user.set_password(new_password)
    end_sessions(user)


def set_active(actor: User, user_id: int, active: bool) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("user")
    if user.id == actor.id and not active:
        raise InvalidInput("you cannot deactivate yourself")
    user.active = active
    db.session.add(
        AuditLog(
            actor_id=actor.id,
            action="user.activated" if active else "user.deactivated",
            target_type="user",
            target_id=user.id,
        )
    )
    if active:
        db.session.commit()
    else:
        end_sessions(user)  # commits
    return user
