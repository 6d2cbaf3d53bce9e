"""Queue benchmark: 1,000,000 conversations and 5,000,000 messages on PostgreSQL (issue 5).

Seeds with set-based SQL (``INSERT … SELECT … generate_series``): 8 teams, 30 agents, 5 channels
(one per platform), ~5 % of the conversations active (new / open / pending / snoozed, a few in
triage), the rest resolved; SLA due times and waiting times on minute boundaries (many ties),
customer names in Arabic and Latin letters, message texts drawn from routing/data/intents/
(Arabic, English, Arabizi, mixed). Then ANALYZE (and VACUUM, for index-only counts), and
measures, the median and p95 of ``--repeat`` requests each:

* the JSON API's first page and the next page by keyset (``/api/conversations?view=…``) and the
  HTML page (``/?view=…``), through the Flask test client signed in as an agent and as a
  supervisor, and the bare service call (``queue.page``);
* the counts per view (``/api/conversations/counts``);
* search (``?q=``) for a rare and a common term.

Targets: JSON < 50 ms, HTML < 100 ms, counts < 50 ms, search < 300 ms (medians).

Needs PostgreSQL on 127.0.0.1:5432 (database ``test``, trust auth). Works only in the schema
``tawasul_bench_queue`` (dropped and re-created; kept at the end with ``--keep`` to re-measure
with ``--reuse``), one run at a time per server (an advisory lock). Run from the repository root:

    .venv/bin/python bench/queue_pages.py                                  # 1M conversations, 5M messages
    .venv/bin/python bench/queue_pages.py --conversations 100000 --repeat 20
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from routing.intent.data import read_jsonl  # noqa: E402

SCHEMA = "tawasul_bench_queue"
PG_BASE = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://127.0.0.1:5432/test")
LOCK_ID = 7406
TEXTS = ROOT / "routing" / "data" / "intents"
PLATFORMS = ("twitter", "facebook", "instagram", "whatsapp", "telegram")
FIRST_NAMES = ["Lina", "Omar", "Sara", "Ahmad", "Rania", "Khaled", "Dana", "Yazan", "Noor", "Tareq",
               "لينا", "عمر", "سارة", "أحمد", "رانيا", "خالد", "دانة", "يزن", "نور", "طارق"]
LAST_NAMES = ["Haddad", "Khoury", "Nasser", "Saleh", "Odeh", "Zoubi", "Masri", "Qasem",
              "حداد", "خوري", "ناصر", "صالح", "عودة", "الزعبي", "المصري", "قاسم"]


def database_url() -> str:
    return f"{PG_BASE}?options=-csearch_path%3D{SCHEMA}"


def seed(connection, conversations: int, messages_per_conversation: int, team_ids: list[int],
         agents_by_team: dict[int, list[int]], channel_ids: list[int], texts: list[str],
         active_percent: int = 5) -> None:
    """Customers, identities, conversations and messages, set-based, in the connection's schema.
    Conversation g (1…n) belongs to team g % teams, is active when its hash says so, assigned
    to one of that team's agents for about half of the active ones; 1 in 50 active is in triage."""
    teams = len(team_ids)
    agents = [agents_by_team[t] for t in team_ids]
    width = max(len(a) for a in agents)
    # A team × slot grid of agent ids (NULL where a team has fewer agents): assignee lookup by index.
    grid = [a[i % len(a)] if a else None for a in agents for i in range(width)]
    params = {"n": conversations, "teams": team_ids, "grid": grid, "width": width, "channels": channel_ids,
              "platforms": list(PLATFORMS), "first": FIRST_NAMES, "last": LAST_NAMES, "texts": texts,
              "k": messages_per_conversation, "active": active_percent}
    base = connection.execute(text("SELECT coalesce(max(id), 0) FROM customers")).scalar()
    connection.execute(text("""
        INSERT INTO customers (id, display_name, tags, created_at)
        SELECT :base + g, (CAST(:first AS text[]))[1 + g % 20] || ' ' || (CAST(:last AS text[]))[1 + (g / 20) % 16],
               '[]', now() - make_interval(secs => :n - g)
        FROM generate_series(1, :n) g"""), {**params, "base": base})
    connection.execute(text("SELECT setval(pg_get_serial_sequence('customers', 'id'), :last)"),
                       {"last": base + conversations})
    connection.execute(text("""
        INSERT INTO identities (customer_id, platform, external_user_id, handle, display_name, created_at)
        SELECT :base + g, (CAST(:platforms AS text[]))[1 + g % 5], 'u' || (:base + g),
               lower((CAST(:first AS text[]))[1 + g % 10]) || '_' || (:base + g), NULL, now()
        FROM generate_series(1, :n) g"""), {**params, "base": base})
    connection.execute(text("""
        INSERT INTO conversations (channel_id, customer_id, team_id, assignee_id, status, priority, is_public,
            intent, language, preview, last_message_at, created_at, updated_at, triage, noise, sla_pauses,
            first_response_due_at, next_response_due_at, resolution_due_at, customer_waiting_since, opened_at)
        SELECT (CAST(:channels AS int[]))[1 + g % 5], :base + g,
               CASE WHEN triage THEN NULL ELSE (CAST(:teams AS int[]))[1 + g % :teams_n] END,
               CASE WHEN active AND NOT triage AND (g / :teams_n) % 2 = 0
                    THEN (CAST(:grid AS int[]))[1 + (g % :teams_n) * :width + (g / 7) % :width] END,
               CASE WHEN NOT active THEN 'resolved'
                    ELSE (ARRAY['new', 'open', 'pending', 'snoozed'])[1 + (g / 3) % 4] END,
               1 + g % 4, g % 3 = 0,
               (ARRAY['billing', 'balance_recharge', 'network_coverage', 'internet_speed', 'plans_offers',
                      'sim_number', 'roaming', 'device_delivery', 'app_account', 'cancellation',
                      'service_complaint', 'praise', 'other'])[1 + g % 13],
               (ARRAY['ar', 'en', 'arabizi', 'mixed'])[1 + g % 4],
               left((CAST(:texts AS text[]))[1 + (g * 31) % :texts_n], 280),
               now() - make_interval(secs => :n - g), now() - make_interval(secs => :n - g + 3600),
               now() - make_interval(secs => :n - g), triage, false, '[]',
               CASE WHEN active AND g % 10 < 7
                    THEN date_trunc('minute', now())
                         + make_interval(mins => CAST((CAST(g AS bigint) * 7919) % 720 AS int) - 180) END,
               CASE WHEN active AND g % 10 = 7 THEN date_trunc('minute', now()) + make_interval(mins => g % 240) END,
               CASE WHEN active THEN date_trunc('minute', now()) + make_interval(mins => 600 + g % 2000) END,
               CASE WHEN active AND g % 5 <> 0 THEN date_trunc('minute', now()) - make_interval(mins => g % 300) END,
               now() - make_interval(secs => :n - g)
        FROM (SELECT g, (hashint4(g) & 2147483647) % 100 < :active AS active,
                     (hashint4(g) & 2147483647) % 100 < :active AND g % 50 = 0 AS triage
              FROM generate_series(1, :n) g) s"""),
        {**params, "base": base, "teams_n": teams, "texts_n": len(texts)})
    connection.execute(text("""
        INSERT INTO messages (conversation_id, channel_id, direction, author_identity_id, text, attachments,
                              is_public, state, attempts, created_at)
        SELECT c.id, c.channel_id, CASE WHEN k % 2 = 1 THEN 'in' ELSE 'out' END, NULL,
               (CAST(:texts AS text[]))[1 + (c.id * 31 + k * 17) % :texts_n], '[]', false,
               CASE WHEN k % 2 = 1 THEN 'received' ELSE 'sent' END, 0,
               c.created_at + make_interval(mins => k)
        FROM conversations c CROSS JOIN generate_series(1, :k) k
        WHERE c.customer_id > :base"""), {**params, "base": base, "texts_n": len(texts)})


def load_texts() -> list[str]:
    return [row["text"] for row in read_jsonl(TEXTS)]


def pick_terms(texts: list[str]) -> tuple[str, str]:
    """A rare word (in one source text: ~1 message in 4,600) and the most common one."""
    words = Counter(w for t in texts for w in set(re.findall(r"\w{5,}", t.lower())) if not w.isdigit())
    common = words.most_common(1)[0][0]
    rare = next(w for w, n in sorted(words.items(), key=lambda item: (item[1], item[0])) if n == 1 and w.isascii()
                and w.isalpha())
    return rare, common


def stats(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered):7.1f} ms   p95 {p95:7.1f} ms"


def timed(fn, repeat: int) -> list[float]:
    fn()  # warm: the first call pays for plan caches and connection set-up
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--messages-per-conversation", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=25)
    parser.add_argument("--reuse", action="store_true", help="measure the schema a --keep run left")
    parser.add_argument("--keep", action="store_true", help="keep the schema at the end")
    args = parser.parse_args()

    os.environ["TAWASUL_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="tawasul-bench-queue-")
    os.environ.pop("REDIS_URL", None)
    from app import create_app
    from inbox.extensions import db
    from inbox.models import Channel, Team, User
    from inbox.services import queue, users

    driver = create_engine(PG_BASE)
    lock = driver.connect().execution_options(isolation_level="AUTOCOMMIT")  # no open snapshot: VACUUM must see past it
    if not lock.execute(text("SELECT pg_try_advisory_lock(:id)"), {"id": LOCK_ID}).scalar():
        print("another bench/queue_pages.py is running on this PostgreSQL: waiting for it ...", flush=True)
        lock.execute(text("SELECT pg_advisory_lock(:id)"), {"id": LOCK_ID})
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(), "SECRET_KEY": "bench-queue", "DEMO_TRAFFIC": False,
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    password = "bench-queue-password"
    try:
        with app.app_context():
            if not args.reuse:
                with driver.begin() as connection:
                    connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
                    connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
                    connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public"))
                build_schema_and_seed(db, args, users, Team, Channel, password)
            else:
                vacuum(db)
            agent = db.session.scalar(db.select(User).where(User.email == "agent1@bench.local"))
            supervisor = db.session.scalar(db.select(User).where(User.email == "supervisor@bench.local"))
            sizes = db.session.execute(text(
                "SELECT (SELECT count(*) FROM conversations), (SELECT count(*) FROM messages), "
                f"(SELECT count(*) FROM conversations WHERE {ACTIVE})")).one()
            print(f"schema {SCHEMA}: {sizes[0]:,} conversations ({sizes[2]:,} active), {sizes[1]:,} messages",
                  flush=True)
            agent_ref, supervisor_ref = (agent.id, agent.email), (supervisor.id, supervisor.email)
        rare, common = pick_terms(load_texts())
        ok = measure(app, db, queue, User, agent_ref, supervisor_ref, password, rare, common, args.repeat)
    finally:
        if not args.keep:
            with driver.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        lock.close()
        driver.dispose()
    return 0 if ok else 1


ACTIVE = "status IN ('new', 'open', 'pending', 'snoozed')"


def build_schema_and_seed(db, args, users, Team, Channel, password) -> None:
    """The models' schema, seeded with its secondary indexes dropped, then indexed and analysed."""
    db.create_all()
    started = time.perf_counter()
    team_names = [f"Team {i}" for i in range(1, 9)]
    agents_by_team: dict[int, list[int]] = {}
    for i in range(30):
        name = team_names[i % 8]
        user = users.create_user(f"agent{i + 1}@bench.local", password, role="agent", language="en", team_names=[name])
        agents_by_team.setdefault(user.teams[0].id, []).append(user.id)
    users.create_user("supervisor@bench.local", password, role="supervisor", language="en")
    teams = {t.name: t.id for t in db.session.scalars(db.select(Team))}
    team_ids = [teams[name] for name in team_names]
    channels = [Channel(platform=p, name=f"Bench {p}", team_id=team_ids[i]) for i, p in enumerate(PLATFORMS)]
    db.session.add_all(channels)
    db.session.commit()
    tables = [db.metadata.tables[name] for name in ("customers", "identities", "conversations", "messages")]
    indexes = [index for table in tables for index in table.indexes]
    connection = db.session.connection()
    for index in indexes:
        connection.execute(text(f'DROP INDEX "{index.name}"'))
    connection.execute(text("SET session_replication_role = replica"))  # no FK triggers while seeding
    seed(connection, args.conversations, args.messages_per_conversation, team_ids, agents_by_team,
         [c.id for c in channels], load_texts())
    connection.execute(text("SET session_replication_role = DEFAULT"))
    db.session.commit()
    seeded = time.perf_counter()
    print(f"seeded in {seeded - started:.1f} s", flush=True)
    connection = db.session.connection()
    connection.execute(text("SET maintenance_work_mem = '1GB'"))
    for index in indexes:
        index.create(connection)
    db.session.commit()
    indexed = time.perf_counter()
    print(f"indexes built in {indexed - seeded:.1f} s", flush=True)
    vacuum(db)
    print(f"VACUUM ANALYZE in {time.perf_counter() - indexed:.1f} s", flush=True)


def vacuum(db, tries: int = 10) -> None:
    """VACUUM ANALYZE the seeded tables until their visibility maps are set, as autovacuum leaves
    them: counts are index-only scans then. VACUUM cannot mark pages all-visible while another
    session's transaction (a test run on the same server) is older than the seed, so retry."""
    tables = ("conversations", "messages", "customers", "identities")
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as raw:
        for _attempt in range(tries):
            for table in tables:
                raw.execute(text(f"VACUUM ANALYZE {table}"))
            visible = raw.execute(text(
                "SELECT sum(relallvisible)::float / greatest(sum(relpages), 1) FROM pg_class "
                "WHERE relnamespace = to_regnamespace(:schema) AND relname = ANY(:tables)"),
                {"schema": SCHEMA, "tables": list(tables)}).scalar()
            if visible > 0.95:
                return
            print(f"  {visible:.0%} of the pages all-visible (an older transaction elsewhere?): again in 10 s",
                  flush=True)
            time.sleep(10)


def measure(app, db, queue, User, agent_ref, supervisor_ref, password, rare, common, repeat) -> bool:
    ok = True
    targets = {"json": 50, "html": 100, "counts": 50, "search": 300, "service": 50}
    print(f"\nmedian and p95 of {repeat} requests each (rare term {rare!r}, common term {common!r})")
    for (user_id, email), views in ((agent_ref, ["team", "mine", "unassigned"]),
                                    (supervisor_ref, ["all", "unassigned", "triage"])):
        client = app.test_client()
        response = client.post("/login", data={"email": email, "password": password})
        assert response.status_code in (302, 303), response.status_code
        print(f"\n{email}")
        get = client.get
        for view in views:
            after = get(f"/api/conversations?view={view}").json["next"]
            rows = [("json", f"JSON first page   {view}", f"/api/conversations?view={view}"),
                    ("json", f"JSON next page    {view}", f"/api/conversations?view={view}&after={after}"),
                    ("html", f"HTML first page   {view}", f"/?view={view}"),
                    ("html", f"HTML next page    {view}", f"/?view={view}&after={after}")]
            for kind, label, url in rows:
                if "next" in label and not after:
                    continue
                ok &= _line(label, timed(lambda u=url, g=get: _ok(g(u)), repeat), targets[kind])
        default = views[0]
        searches = [("counts", "counts per view", f"/api/conversations/counts?view={default}")] + [
            ("search", f"search {word:<6} {default}", f"/api/conversations?view={default}&q={term}")
            for word, term in (("rare", rare), ("common", common))]
        for kind, label, url in searches:
            ok &= _line(label, timed(lambda u=url, g=get: _ok(g(u)), repeat), targets[kind])
        with app.test_request_context():
            user = db.session.get(User, user_id)
            query = queue.parse_query(user, {"view": default})
            ok &= _line(f"service first page {default}",
                        timed(lambda u=user, q=query: queue.page(u, q), repeat), targets["service"])
            db.session.remove()
    print("\nall targets met" if ok else "\nSOME TARGETS MISSED")
    return ok


def _ok(response):
    assert response.status_code == 200, (response.status_code, response.get_data(as_text=True)[:300])
    return response


def _line(label: str, samples: list[float], target: float) -> bool:
    met = statistics.median(samples) < target
    print(f"  {label:<28} {stats(samples)}   target < {target} ms {'ok' if met else 'MISSED'}", flush=True)
    return met


if __name__ == "__main__":
    sys.exit(main())
