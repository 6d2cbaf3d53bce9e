"""Test data built through the services, as the product builds it."""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime
from types import SimpleNamespace

from connectors.types import InboundMessage
from inbox.extensions import db
from inbox.models import Channel, Team, User
from inbox.services import ingest, users

PASSWORD = "correct-horse-battery"
_counter = iter(range(1, 10**9))


@dataclass
class World:
    team_a: Team
    team_b: Team
    agent_a: User
    agent_b: User
    supervisor: User
    admin: User
    channel_a: Channel
    channel_b: Channel


def user(email: str, role: str = "agent", teams: tuple[str, ...] = (), language: str = "en") -> User:
    return users.create_user(email, PASSWORD, role=role, language=language, team_names=list(teams))


def channel(team: Team, name: str = "Demo") -> Channel:
    ch = Channel(platform="demo", name=name, team=team, settings={"poll_interval": 1, "batch_size": 1})
    db.session.add(ch)
    db.session.commit()
    return ch


def world() -> World:
    agent_a = user("agent.a@example.com", teams=("Team A",))
    agent_b = user("agent.b@example.com", teams=("Team B",))
    supervisor = user("supervisor@example.com", role="supervisor")
    admin = user("admin@example.com", role="admin", teams=("Team A",))
    return World(
        team_a=agent_a.teams[0], team_b=agent_b.teams[0], agent_a=agent_a, agent_b=agent_b,
        supervisor=supervisor, admin=admin,
        channel_a=channel(agent_a.teams[0], "Channel A"), channel_b=channel(agent_b.teams[0], "Channel B"),
    )


def refs(world: World) -> SimpleNamespace:
    """Ids, e-mails and names of a world, usable outside any app context."""
    plain = {}
    for f in fields(world):
        obj = getattr(world, f.name)
        plain[f.name] = SimpleNamespace(id=obj.id, email=getattr(obj, "email", None), name=obj.name)
    return SimpleNamespace(**plain)


def inbound(
    text: str = "el net 3ndi ba6ee2",
    author: str = "cust-1",
    name: str = "Lina",
    public: bool = False,
    thread: str | None = None,
    external_id: str | None = None,
) -> InboundMessage:
    external_id = external_id or f"ext-{next(_counter)}"
    return InboundMessage(
        platform="demo", external_id=external_id, author_id=author, author_handle=author,
        author_name=name, text=text, is_public=public,
        created_at=datetime.now(UTC).replace(tzinfo=None),
        thread_id=(thread or external_id) if public else None, parent_id=thread if public else None,
    )


def receive(channel_id: int, **kwargs) -> ingest.Ingested:
    result = ingest.ingest_message(channel_id, inbound(**kwargs))
    assert result is not None
    return result
