"""On PostgreSQL, with a few tens of thousands of conversations seeded set-based and analysed, each
queue view's first and next page read one partial index in order: no sequential scan of the
conversations, no sort of more than a page."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql

from bench.queue_pages import load_texts, seed
from inbox.extensions import db
from inbox.models import Channel, Conversation, User
from inbox.services import queue, users
from tests.conftest import make_app
from tests.services import POSTGRES_URL, require

CONVERSATIONS = 40_000


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    require("postgresql")
    with pytest.MonkeyPatch.context() as env:
        for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY"):
            env.delenv(name, raising=False)
        env.setenv("TAWASUL_INSTANCE_PATH", str(tmp_path_factory.mktemp("plan") / "instance"))
        app = make_app(POSTGRES_URL)
    with app.app_context():
        teams: dict[int, list[int]] = {}
        for i in range(12):
            user = users.create_user(f"agent{i}@plan.test", "pw-plan-test", team_names=[f"Team {i % 4}"])
            teams.setdefault(user.teams[0].id, []).append(user.id)
        with db.session.no_autoflush:  # two existing teams: the user joins the session at the end
            two_teams = users.create_user("both@plan.test", "pw-plan-test", team_names=["Team 0", "Team 1"])
        users.create_user("boss@plan.test", "pw-plan-test", role="supervisor")
        team_ids = sorted(teams)
        channels = [Channel(platform=p, name=f"Plan {p}", team_id=team_ids[i % 4])
                    for i, p in enumerate(("twitter", "facebook", "instagram", "whatsapp", "telegram"))]
        db.session.add_all(channels)
        db.session.commit()
        seed(db.session.connection(), CONVERSATIONS, 2, team_ids, teams, [c.id for c in channels], load_texts()[:500])
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
        two_teams_id = two_teams.id
    yield app, two_teams_id
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def plan(statement) -> dict:
    compiled = statement.compile(dialect=postgresql.dialect())
    connection = db.session.connection()
    rows = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + compiled.string, compiled.params).scalar()
    return (json.loads(rows) if isinstance(rows, str) else rows)[0]["Plan"]


def nodes(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from nodes(child)


def assert_served_by_index(tree: dict, index: str, limit: int) -> None:
    found = list(nodes(tree))
    on_conversations = [n for n in found if n.get("Relation Name") == "conversations"]
    assert not [n for n in on_conversations if n["Node Type"] == "Seq Scan"], json.dumps(tree, indent=1)
    assert index in {n.get("Index Name") for n in on_conversations}, json.dumps(tree, indent=1)
    for sort in (n for n in found if n["Node Type"] in ("Sort", "Incremental Sort")):
        assert sort["Plan Rows"] <= limit, json.dumps(tree, indent=1)  # the page's rows, never the table's


@pytest.mark.parametrize(("email", "view", "index"), [
    ("agent0@plan.test", "mine", "ix_conversations_queue_assignee"),
    ("agent0@plan.test", "team", "ix_conversations_queue_team"),
    ("agent0@plan.test", "unassigned", "ix_conversations_queue_unassigned"),
    ("both@plan.test", "team", "ix_conversations_queue_team"),  # one ordered scan per team, merged
    ("boss@plan.test", "all", "ix_conversations_queue_all"),
    ("boss@plan.test", "unassigned", "ix_conversations_queue_unassigned"),
    ("boss@plan.test", "triage", "ix_conversations_queue_triage"),
])
def test_each_view_pages_by_its_index(seeded, email, view, index):
    app, _ = seeded
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        first = queue.parse_query(user, {"view": view})
        page = queue.page(user, first)
        assert page.items and page.next, "the seed gives every view more than one page"
        assert_served_by_index(plan(queue.page_statement(user, first, queue.PAGE_SIZE)), index,
                               limit=4 * (queue.PAGE_SIZE + 1))
        after = queue.parse_query(user, {"view": view, "after": page.next})
        assert_served_by_index(plan(queue.page_statement(user, after, queue.PAGE_SIZE)), index,
                               limit=4 * (queue.PAGE_SIZE + 1))
        second = queue.page(user, after)
        assert not {c.id for c in page.items} & {c.id for c in second.items}
        keys = [(c.sla_sort_at, c.waiting_sort_at, c.id) for c in page.items + second.items]
        assert keys == sorted(keys)


def test_counts_never_scan_the_table(seeded):
    app, _ = seeded
    with app.app_context():
        for email in ("agent0@plan.test", "boss@plan.test"):
            user = db.session.scalar(select(User).where(User.email == email))
            query = queue.parse_query(user, {})
            statement = select(*[
                select(db.func.count()).select_from(Conversation).where(*conditions).scalar_subquery()
                for conditions in queue.count_conditions(user, query).values()])
            tree = plan(statement)
            scans = [n for n in nodes(tree) if n.get("Relation Name") == "conversations"]
            assert scans and not [n for n in scans if n["Node Type"] == "Seq Scan"], json.dumps(tree, indent=1)
