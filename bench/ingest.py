"""Ingest benchmark: signed WhatsApp webhooks in, messages stored and announced (PERFORMANCE.md T2).

Two pipelines over the same deliveries, in the same run:

* **End to end**: the app in production mode (PostgreSQL + Redis) served by ``python app.py``,
  ``--workers`` rq workers (``flask --app app worker``), deliveries POSTed over real HTTP by a
  few client threads. Timed from the first POST until the ``messages`` table holds every unique
  message, every one was announced on the Socket.IO message queue, and the rq queue is empty.
* **Bare floor**: in this process, the same bodies parsed by the connector, classified in one
  batched call with the same model, inserted with one ``INSERT … ON CONFLICT DO NOTHING``
  executemany per delivery through SQLAlchemy Core and announced with one Socket.IO emit per
  delivery: what the machine allows, with no product logic.

Each end-to-end run starts from a schema that already holds another channel's traffic
(``--history``, ingested untimed through the product's services) and has planner statistics
(ANALYZE), as any deployment has after its first minute of autovacuum.

One intent model is trained at the start (the shipped data, default configuration) and made the
active version of every run's fresh schema, so the end-to-end pipeline classifies each new
conversation (intent, confidence, sentiment, urgency) as production does, then routes it: five
rules in order (intent to a team, urgency and anger to a priority, giveaway noise out of the
queues, tags), assignment to one of 12 online agents, and the SLA clock's due times.

Needs PostgreSQL on 127.0.0.1:5432 (database ``test``, trust auth) and Redis on 127.0.0.1:6379.
It works only in the schema ``tawasul_bench`` (dropped and re-created) and Redis db 13 (flushed
at start and end); nothing else is touched. Run from the repository root:

    .venv/bin/python bench/ingest.py                      # 20,000 messages, 3 runs
    .venv/bin/python bench/ingest.py --messages 2000 --runs 1
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import hmac
import io
import json
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from redis import Redis  # noqa: E402
from rq import Queue, Worker  # noqa: E402
from rq.job import Job  # noqa: E402
from rq.registry import FailedJobRegistry, FinishedJobRegistry, ScheduledJobRegistry, StartedJobRegistry  # noqa: E402
from rq.serializers import JSONSerializer  # noqa: E402
from socketio import RedisManager  # noqa: E402
from sqlalchemy import (  # noqa: E402
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from connectors.registry import connector_for  # noqa: E402
from connectors.types import InboundMessage  # noqa: E402
from routing.intent import classify_many  # noqa: E402

SCHEMA = "tawasul_bench"
PG_BASE = os.environ.get("BENCH_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
APP_DB_NAME = "tawasul_bench_app"  # application_name of the app's connections, to sample them
DRIVER_DB_NAME = "tawasul_bench_driver"
SOCKETIO_CHANNEL = "tawasul-socketio"  # the app's message-queue channel (app.py)
FLOOR_SOCKETIO_CHANNEL = "tawasul-bench-floor"  # the floor's own, so no server reads its emits
QUEUE_NAME = "default"

APP_SECRET = "bench-app-secret-" + "0123456789abcdef" * 2
VERIFY_TOKEN = "bench-verify-token"
WABA_ID = "102938475610293"
PHONE_NUMBER_ID = "109876543210987"
DISPLAY_NUMBER = "962790000000"
FIRST_TIMESTAMP = 1718121600

# Short customer texts in the mix a Jordanian operator sees: Arabic, English, Arabizi, mixed.
ARABIC = [
    "السلام عليكم", "النت عندي بطيء كثير اليوم", "رصيدي خلص وما شحنت", "بدي أعرف شو العروض الجديدة",
    "الشبكة مقطوعة عنا بالمنطقة", "الفاتورة طالعة أعلى من العادة ليش؟", "كيف بقدر أفعّل التجوال؟",
    "شكراً إلكم على المساعدة", "الراوتر ما بشتغل من امبارح", "بدي ألغي الخط لو سمحت", "وين وصل طلبي؟",
    "كود التحقق ما بوصلني على التطبيق", "صار لي ساعة بستنى حدا يرد", "بدي شريحة بدل فاقد",
    "مرحبا، في مشكلة بالانترنت المنزلي", "ممكن تحولوا لي رصيد؟", "الباقة خلصت قبل موعدها",
]
ENGLISH = [
    "hi, my internet is very slow today", "I was charged twice this month", "how do I recharge my balance?",
    "no signal at home since yesterday", "need a new SIM, I lost mine", "is 5G available in Irbid?",
    "thanks for the quick help!", "the app keeps logging me out", "please cancel my line", "where is my order?",
    "fibre keeps dropping every evening", "what roaming bundles do you have for Turkey?", "hello?",
]
ARABIZI = [
    "el net 3ndi ba6ee2 kteer", "marhaba, bdi a3ref el 3roud", "el shabakeh ma fi", "3emlt recharge w ma nzal",
    "lesh el fatoura 3alyeh hal shahr", "kef bfa3el el roaming?", "ya3tekom el 3afyeh", "wen wasal el order?",
    "el router mesh sha3'al", "bdi alghi el khat", "el code ma biwsal", "7ada yrud 3lay plz",
]
MIXED = [
    "مرحبا, my bill is wrong", "النت slow جداً", "bdi package جديدة", "hi, الرصيد ما نزل", "thanks كثير 🙏",
]
PLACES = ["", "", "", " عمان", " الزرقاء", " Irbid", " Aqaba", " السلط", " !!", " 🙏", " ؟؟", " pls"]
FIRST_NAMES = ["محمد", "أحمد", "ليلى", "سارة", "عمر", "رنا", "يوسف", "هبة", "Khaled", "Dana", "Omar", "Lina",
               "Yazan", "Noor", "Tariq", "Maya"]
LAST_NAMES = ["الخطيب", "العلي", "حداد", "النسور", "Haddad", "Nasser", "Odeh", "Khoury", "", ""]


# ---- input: deliveries as Meta sends them -----------------------------------------------------

@dataclass(frozen=True)
class Delivery:
    """One webhook POST: the exact bytes, their signature, the messages they hold."""

    body: bytes
    signature: str
    message_ids: tuple[str, ...]


@dataclass(frozen=True)
class Corpus:
    deliveries: list[Delivery]  # the unique ones
    stream: list[Delivery]  # what is POSTed, re-deliveries included, in order
    unique_messages: int
    customers: int


def make_customers(count: int, rng: random.Random) -> list[tuple[str, str]]:
    """(wa_id, profile name) of ``count`` distinct Jordanian numbers."""
    numbers = rng.sample(range(10_000_000, 99_999_999), count)
    return [(f"9627{n}", f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}".strip()) for n in numbers]


def make_text(rng: random.Random) -> str:
    """A short customer message, mostly Arabic, then English, Arabizi and mixed."""
    pool = rng.choices([ARABIC, ENGLISH, ARABIZI, MIXED], weights=[45, 25, 22, 8])[0]
    return rng.choice(pool) + rng.choice(PLACES)


def message_id(wa_id: str, seq: int) -> str:
    """A wamid-like id, unique per message."""
    return "wamid." + base64.b64encode(f"HBgM{wa_id}FQIAEhgU{seq:020X}".encode()).decode()


def meta_bytes(body: dict[str, Any]) -> bytes:
    """Meta's wire form: compact JSON, non-ASCII as \\uXXXX and '/' as '\\/'."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/").encode()


def sign(raw: bytes) -> str:
    return "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()


def webhook_body(messages: list[dict[str, Any]], names: dict[str, str]) -> dict[str, Any]:
    """A WhatsApp Cloud API ``messages`` webhook holding ``messages`` and their senders' contacts."""
    senders = list(dict.fromkeys(m["from"] for m in messages))
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": names[wa_id]}, "wa_id": wa_id} for wa_id in senders],
        "messages": messages,
    }
    return {"object": "whatsapp_business_account",
            "entry": [{"id": WABA_ID, "changes": [{"value": value, "field": "messages"}]}]}


def batch_sizes(total: int, low: int, high: int, rng: random.Random) -> list[int]:
    """Sizes in [low, high] summing to ``total`` (the last may be smaller when total is small)."""
    sizes: list[int] = []
    while total > 0:
        size = min(rng.randint(low, high), total)
        if total - size < low and total <= high:
            size = total
        sizes.append(size)
        total -= size
    return sizes


def make_corpus(messages: int, customers: int, dup_rate: float, seed: int) -> Corpus:
    """Unique deliveries of 20–50 text messages from ``customers`` people, then re-deliveries
    (exact copies, posted 1–40 deliveries after their original) making ``dup_rate`` of all POSTs."""
    rng = random.Random(seed)
    people = make_customers(customers, rng)
    names = dict(people)
    deliveries, senders, seq = [], set(), 0
    for size in batch_sizes(messages, 20, 50, rng):
        batch = []
        for _ in range(size):
            wa_id = rng.choice(people)[0]
            senders.add(wa_id)
            batch.append({"from": wa_id, "id": message_id(wa_id, seq), "timestamp": str(FIRST_TIMESTAMP + seq),
                          "text": {"body": make_text(rng)}, "type": "text"})
            seq += 1
        raw = meta_bytes(webhook_body(batch, names))
        deliveries.append(Delivery(raw, sign(raw), tuple(m["id"] for m in batch)))
    repeats = round(len(deliveries) * dup_rate / (1 - dup_rate))
    keyed = [(float(i), d) for i, d in enumerate(deliveries)]
    for i in rng.sample(range(len(deliveries)), min(repeats, len(deliveries))):
        keyed.append((i + rng.uniform(1, 40), deliveries[i]))
    keyed.sort(key=lambda pair: pair[0])
    return Corpus(deliveries, [d for _, d in keyed], seq, len(senders))


# ---- services: the bench schema and Redis db -------------------------------------------------

def database_url(application_name: str) -> str:
    return f"{PG_BASE}?application_name={application_name}&options=-csearch_path%3D{SCHEMA}"


def sqlalchemy_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def reset_schema(engine: Engine) -> None:
    """Drop and re-create the bench schema (never ``public``)."""
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))


def drop_schema(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))


def app_environment(instance: Path, secret_key: str) -> dict[str, str]:
    """The environment of production mode, for this process and its subprocesses."""
    env = {k: v for k, v in os.environ.items() if k not in ("DEMO_TRAFFIC", "SEED_DEMO", "RUN_MIGRATIONS_AT_START")}
    env.update(DATABASE_URL=database_url(APP_DB_NAME), REDIS_URL=REDIS_URL, SECRET_KEY=secret_key,
               TAWASUL_INSTANCE_PATH=str(instance), PYTHONUNBUFFERED="1")
    return env


def train_model(app) -> tuple[Any, dict[str, Any]]:
    """Train the intent model once (default configuration) and save it, signed, into the app's
    model folder: (the model, its version row's values)."""
    from inbox.services import classification
    from routing.cli_support import train_and_evaluate
    from routing.intent import save_model

    with app.app_context():
        model, metrics = train_and_evaluate(select=False)
        directory = model.info["model_version"]
        save_model(model, classification.version_path(directory), metrics=metrics,
                   signing_key=classification.signing_key())
    return model, {"version": directory, "directory": directory, "metrics": metrics, "status": "ready",
                   "config": model.config.name, "train_rows": int(model.info["n_train"])}


def prepare_app_database(app, channel_name: str, model_version: dict[str, Any],
                         history: Corpus | None = None) -> int:
    """Migrate the fresh schema, make the trained model its active version, create an admin and
    the WhatsApp channel; the channel's id. With ``history``, another channel's earlier traffic
    is ingested first and the tables analysed, as autovacuum has done in any deployment that has
    run for a minute: a schema created seconds ago has no planner statistics, and its plans
    (scans where an index fits) are not those of production."""
    from flask_migrate import upgrade

    from inbox.extensions import db
    from inbox.models import ModelVersion
    from inbox.services import channels, model_versions, users

    with app.app_context():
        db.engine.dispose()
        with contextlib.redirect_stderr(io.StringIO()):  # Alembic's INFO lines, every run
            upgrade()
        version = ModelVersion(**model_version)
        db.session.add(version)
        db.session.commit()
        model_versions.activate_version(None, version.id)
        admin = users.create_user("bench@tawasul.local", secrets.token_urlsafe(16), role="admin")
        channel = channels.save_channel(admin, None, "whatsapp", channel_name, "Care", {
            "account_id": PHONE_NUMBER_ID, "access_token": "bench-token", "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN})
        channel_id = channel.id
        configure_routing(admin)
        if history is not None:
            ingest_history(admin, history)
        db.session.remove()
        db.engine.dispose()
    return channel_id


def configure_routing(admin) -> None:
    """What an operator runs with: teams for bills and the network, rules in order (intent to a
    team, urgency and anger to a priority, giveaway noise out of the queues, a tag), and agents
    online with capacity, so every new conversation is classified, ruled on and assigned."""
    from inbox.services import assignment, routing_rules, users

    teams = {name: users.get_or_create_team(name) for name in ("Care", "Billing", "Network")}
    agents = []
    for number in range(12):
        team = ("Care", "Care", "Care", "Care", "Care", "Care", "Billing", "Billing", "Billing", "Network",
                "Network", "Network")[number]
        agent = users.create_user(f"agent{number}@bench.local", secrets.token_urlsafe(16), name=f"Agent {number}",
                                  team_names=[team])
        agent.capacity, agent.languages = 1_000_000, ["ar", "en", "arabizi", "mixed"]
        agents.append(agent)
    rules = [
        ("Bills to Billing", [{"kind": "intent", "value": ["billing", "balance_recharge"]}],
         [{"kind": "set_team", "value": teams["Billing"].id}]),
        ("Network to Network", [{"kind": "intent", "value": ["network_coverage", "internet_speed"]}],
         [{"kind": "set_team", "value": teams["Network"].id}, {"kind": "add_tags", "value": ["network"]}]),
        ("Urgent first", [{"kind": "urgent", "value": True}], [{"kind": "set_priority", "value": 1}]),
        ("Angry customers", [{"kind": "sentiment", "value": ["negative"]}, {"kind": "public", "value": False}],
         [{"kind": "set_priority", "value": 2}]),
        ("Giveaway noise", [{"kind": "keywords", "value": ["giveaway", "مسابقة", "سحب"]}],
         [{"kind": "keep_out_of_queue"}, {"kind": "stop"}]),
    ]
    for name, conditions, actions in rules:
        routing_rules.save_rule(admin, None, {"name": name, "conditions": conditions, "actions": actions,
                                              "enabled": True})
    for agent in agents:
        assignment.set_presence(agent, "online")


def ingest_history(admin, history: Corpus) -> None:
    """In this process, before the timed run: ``history`` on a channel of its own, stored and
    ingested through the product's own services, then ANALYZE."""
    from inbox.extensions import db
    from inbox.services import channels, ingest, webhooks

    channel = channels.save_channel(admin, None, "whatsapp", "WhatsApp history", "Care", {
        "account_id": PHONE_NUMBER_ID, "access_token": "bench-token", "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN})
    for delivery in history.deliveries:
        webhooks.accept("whatsapp", channel.id, {"X-Hub-Signature-256": delivery.signature}, delivery.body)
    while ingest.process_pending():
        pass
    db.session.commit()
    with db.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))


# ---- end to end ------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_stack(env: dict[str, str], port: int, workers: int, logs: Path) -> list[subprocess.Popen]:
    """``python app.py`` and ``workers`` × ``flask --app app worker``, output into ``logs``."""
    python, flask = str(ROOT / ".venv/bin/python"), str(ROOT / ".venv/bin/flask")
    commands = [("web", [python, "app.py"])] + [(f"worker{i}", [flask, "--app", "app", "worker"])
                                                for i in range(1, workers + 1)]
    processes = []
    for name, command in commands:
        log = open(logs / f"{name}.log", "ab")  # noqa: SIM115 (closed with the process)
        processes.append(subprocess.Popen(command, cwd=ROOT, env={**env, "PORT": str(port), "HOST": "127.0.0.1"},
                                          stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        log.close()
    return processes


def child_pids(pid: int) -> list[int]:
    """The children of ``pid`` (an rq worker's work-horse), from /proc; [] where unavailable."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def kill_work_horse(pid: int) -> None:
    """SIGKILL an orphaned work-horse, if that pid still runs our worker's command."""
    try:
        if b"flask" in Path(f"/proc/{pid}/cmdline").read_bytes():
            os.kill(pid, signal.SIGKILL)
    except (OSError, ProcessLookupError):
        pass


def stop_stack(processes: list[subprocess.Popen], timeout: float = 15.0) -> None:
    """SIGTERM each process we started (rq shuts down warm), SIGKILL what outlives ``timeout``,
    and then the work-horse of a worker that had to be killed."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            horses = child_pids(process.pid)
            process.kill()
            process.wait(5)
            for pid in horses:
                kill_work_horse(pid)


def wait_for_stack(base_url: str, channel_id: int, redis: Redis, workers: int,
                   processes: list[subprocess.Popen], timeout: float = 60.0) -> None:
    """Until the web server answers the channel's handshake and every worker has registered;
    RuntimeError if a worker we did not start listens on the bench's Redis db."""
    deadline = time.monotonic() + timeout
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "ready"}
    while time.monotonic() < deadline:
        dead = [p.args for p in processes if p.poll() is not None]
        if dead:
            raise RuntimeError(f"exited during start-up: {dead} (see the logs)")
        try:
            answer = requests.get(f"{base_url}/webhooks/whatsapp/{channel_id}", params=query, timeout=2)
            pids = {w.pid for w in Worker.all(connection=redis)}
            if answer.status_code == 200 and answer.text == "ready" and len(pids) >= workers:
                ours = {p.pid for p in processes}
                if not pids <= ours:
                    raise RuntimeError(f"rq workers we did not start use {REDIS_URL}: pids {sorted(pids - ours)}")
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"the stack was not ready within {timeout:.0f} s")


class Announcements(threading.Thread):
    """Counts what workers announce on the Socket.IO message queue (a Redis pub/sub channel).

    Pub/sub ignores Redis db numbers, so other Tawasul processes on this Redis server (test
    runs) publish on the same channel, with conversation ids that collide with ours. Counted
    are only events of publishers (``host_id``) that announced a conversation of
    ``channel_name``, unique to this bench run, and of those conversations: ``announce()``
    emits a conversation before its messages.
    """

    def __init__(self, redis: Redis, channel_name: str):
        super().__init__(name="announcements", daemon=True)
        self.channel_name = channel_name
        self.pubsub = redis.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(SOCKETIO_CHANNEL)
        self.events: Counter[str] = Counter()  # emits (a coalesced batch is one)
        self.items: Counter[str] = Counter()  # the items they carried
        self.hosts: set[str] = set()
        self.conversation_ids: set[int] = set()
        self.message_ids: set[int] = set()
        self.foreign = 0  # events of other processes seen on the channel
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            item = self.pubsub.get_message(timeout=0.2)
            if item is not None:
                self.count(item["data"])

    def count(self, raw: bytes) -> None:
        """One emit: a payload, or a list of them (``announce()`` coalesces a batch)."""
        try:
            packet = json.loads(raw)
            event, [data], host = packet["event"], packet["data"], packet["host_id"]
            items = data if isinstance(data, list) else [data]
        except (ValueError, TypeError, KeyError):
            self.foreign += 1
            return
        ours = 0
        for item in items:
            if event.startswith("conversation_") and item.get("channel") == self.channel_name:
                self.hosts.add(host)
                self.conversation_ids.add(item["id"])
            elif not (event.startswith("message_") and host in self.hosts
                      and item.get("conversation_id") in self.conversation_ids):
                continue
            ours += 1
            self.items[event] += 1
            if event == "message_created":
                self.message_ids.add(item["id"])
        if not ours:
            self.foreign += 1
            return
        self.events[event] += 1

    def stop(self) -> None:
        self._done.set()
        self.join(5)
        self.pubsub.close()


class LockSampler(threading.Thread):
    """Samples what the app's PostgreSQL sessions are doing (pg_stat_activity), every 50 ms."""

    def __init__(self, engine: Engine):
        super().__init__(name="pg-sampler", daemon=True)
        self.engine = engine
        self.samples: Counter[str] = Counter()
        self._done = threading.Event()

    def run(self) -> None:
        query = text("SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
                     "WHERE application_name = :name")
        with self.engine.connect() as connection:
            while not self._done.wait(0.05):
                for state, wait_type, wait_event in connection.execute(query, {"name": APP_DB_NAME}):
                    if state == "active":
                        key = f"waiting on {wait_type}:{wait_event}" if wait_type else "running SQL"
                    elif state == "idle in transaction":
                        key = "idle in transaction (Python)"
                    else:
                        continue
                    self.samples[key] += 1
                connection.rollback()

    def stop(self) -> None:
        self._done.set()
        self.join(5)

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def proc_times(pid: int | str) -> tuple[str, int, list[int]]:
    """(command name, parent pid, [utime, stime, cutime, cstime] in ticks) from /proc/PID/stat."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    name, rest = raw[raw.index("(") + 1:raw.rindex(")")], raw[raw.rindex(")") + 2:].split()
    return name, int(rest[1]), [int(v) for v in rest[11:15]]


def service_cpu() -> dict[str, float]:
    """CPU seconds so far of PostgreSQL (every session: backends, and the reaped ones through
    the postmaster) and of redis-server, for the whole server: other users' load included."""
    processes = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                processes[int(entry.name)] = proc_times(entry.name)
            except (OSError, ValueError, IndexError):
                continue
    totals = {"postgres": 0, "redis": 0}
    for name, parent, times in processes.values():
        kind = "postgres" if name.startswith("postgres") else "redis" if name.startswith("redis-server") else None
        if kind == "postgres":
            reaped = not processes.get(parent, ("",))[0].startswith("postgres")  # the postmaster
            totals[kind] += sum(times[:2]) + (sum(times[2:]) if reaped else 0)
        elif kind == "redis":
            totals[kind] += sum(times[:2])
    return {kind: ticks / CLOCK_TICKS for kind, ticks in totals.items()}


def cpu_snapshot(processes: list[subprocess.Popen]) -> dict[str, float]:
    """CPU seconds so far: web server, workers (their reaped work-horses included), this bench
    process (the HTTP clients), PostgreSQL, Redis, and the whole machine (busy and elapsed)."""
    ours = [sum(proc_times(p.pid)[2]) / CLOCK_TICKS for p in processes]
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return {"web": ours[0], "workers": sum(ours[1:]), "bench (clients, samplers)": time.process_time(), **service_cpu(),
            "machine busy": (sum(values) - values[3] - values[4]) / CLOCK_TICKS, "machine": sum(values) / CLOCK_TICKS}


@dataclass
class PostResult:
    latencies: list[float] = field(default_factory=list)  # seconds, per POST
    errors: list[str] = field(default_factory=list)
    stored: int = 0
    duplicates: int = 0
    first_post: float = 0.0
    last_answer: float = 0.0


def post_deliveries(url: str, stream: list[Delivery], clients: int, timeout: float) -> PostResult:
    """POST ``stream`` in order from ``clients`` threads (keep-alive sessions); latency per POST."""
    result, lock, cursor = PostResult(), threading.Lock(), iter(enumerate(stream))

    def client() -> None:
        session = requests.Session()
        session.trust_env = False
        while True:
            with lock:
                item = next(cursor, None)
                if item is None:
                    break
                if not result.first_post:
                    result.first_post = time.perf_counter()
            _, delivery = item
            headers = {"Content-Type": "application/json", "X-Hub-Signature-256": delivery.signature}
            started = time.perf_counter()
            try:
                answer = session.post(url, data=delivery.body, headers=headers, timeout=timeout)
            except requests.RequestException as exc:
                with lock:
                    result.errors.append(repr(exc))
                continue
            elapsed = time.perf_counter() - started
            with lock:
                result.latencies.append(elapsed)
                result.last_answer = time.perf_counter()
                if answer.status_code != 200:
                    result.errors.append(f"HTTP {answer.status_code}: {answer.text[:200]}")
                else:
                    payload = answer.json()
                    result.stored += payload["stored"]
                    result.duplicates += payload["duplicates"]
        session.close()

    threads = [threading.Thread(target=client, name=f"client-{i}") for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result


def message_count(engine: Engine, channel_id: int) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM messages WHERE channel_id = :c"),
                                  {"c": channel_id}).scalar_one()


def wait_until_drained(engine: Engine, queue: Queue, announcements: Announcements, expected: int,
                       processes: list[subprocess.Popen], timeout: float, channel_id: int) -> float:
    """Poll until ``expected`` messages are stored and announced and no job is queued or
    running; the perf_counter time at which that was first seen."""
    started, registry = time.perf_counter(), StartedJobRegistry(queue=queue)
    while time.perf_counter() - started < timeout:
        if any(p.poll() is not None for p in processes):
            raise RuntimeError("a server or worker process exited during the run (see the logs)")
        if FailedJobRegistry(queue=queue).count:
            raise RuntimeError("a job failed for good (see the worker logs)")
        stored = message_count(engine, channel_id)
        if (stored >= expected and len(announcements.message_ids) >= expected
                and queue.count == 0 and registry.count == 0):
            return time.perf_counter()
        time.sleep(0.05)
    raise TimeoutError(f"not drained within {timeout:.0f} s: {message_count(engine, channel_id)} of {expected} "
                       f"messages stored, {len(announcements.message_ids)} announced, {queue.count} jobs queued")


def job_statistics(queue: Queue, max_retries: int, messages: int) -> dict[str, Any]:
    """Where the workers' time went, from rq's own timestamps of the finished jobs (of a job
    that was retried: its last attempt), and how many attempts failed and were retried."""
    ids = FinishedJobRegistry(queue=queue).get_job_ids()
    jobs = [j for j in Job.fetch_many(ids, connection=queue.connection, serializer=JSONSerializer) if j]
    if not jobs:
        return {"jobs": 0}
    runs = [(j.ended_at - j.started_at).total_seconds() for j in jobs]
    waits = [(j.started_at - j.enqueued_at).total_seconds() for j in jobs]
    gaps: list[float] = []  # from one job's end to the next one's start on the same worker
    by_worker: dict[str, list[Job]] = {}
    for job in jobs:
        by_worker.setdefault(job.worker_name or "?", []).append(job)
    for worker_jobs in by_worker.values():
        worker_jobs.sort(key=lambda j: j.started_at)
        pairs = zip(worker_jobs, worker_jobs[1:], strict=False)
        gaps += [(b.started_at - a.ended_at).total_seconds() for a, b in pairs]
    return {"jobs": len(jobs), "messages_per_job": messages / len(jobs), "run_p50": statistics.median(runs),
            "run_sum": sum(runs), "ms_per_message": 1000 * sum(runs) / max(1, messages),
            "wait_p50": statistics.median(waits), "gap_p50": statistics.median(gaps) if gaps else 0.0,
            "workers_seen": len(by_worker),
            "failed_attempts": sum(max_retries - j.retries_left for j in jobs if j.retries_left is not None),
            "retried_jobs": sum(1 for j in jobs if j.retries_left is not None and j.retries_left < max_retries)}


def database_facts(engine: Engine, channel_id: int) -> dict[str, int]:
    """What the timed run stored on its channel (the history's channel is left out)."""
    queries = {
        "messages": "SELECT count(*) FROM messages WHERE channel_id = :c",
        "distinct_external_ids": "SELECT count(DISTINCT external_id) FROM messages WHERE channel_id = :c",
        "raw_events": "SELECT count(*) FROM raw_events WHERE channel_id = :c",
        "raw_events_not_processed": "SELECT count(*) FROM raw_events WHERE channel_id = :c AND status <> 'processed'",
        "conversations": "SELECT count(*) FROM conversations WHERE channel_id = :c",
        "customers": "SELECT count(DISTINCT customer_id) FROM conversations WHERE channel_id = :c",
    }
    with engine.connect() as connection:
        return {name: connection.execute(text(sql), {"c": channel_id}).scalar_one() for name, sql in queries.items()}


@dataclass
class EndToEnd:
    seconds: float
    rate: float
    latencies: list[float]
    post_errors: list[str]
    failed_jobs: int
    retries_pending: int
    posting_seconds: float  # first POST to last answer
    facts: dict[str, int]
    announced: Counter[str]
    announced_items: Counter[str]
    announced_messages: int
    foreign_events: int
    jobs: dict[str, Any]
    pg_samples: Counter[str]
    cpu: dict[str, float]  # CPU seconds used during the timed part


def run_end_to_end(app, corpus: Corpus, redis: Redis, driver: Engine, args, logs: Path,
                   env: dict[str, str], model_version: dict[str, Any], history: Corpus | None) -> EndToEnd:
    """One end-to-end run on a fresh schema and Redis db; every subprocess stopped at the end."""
    reset_schema(driver)
    redis.flushdb()
    channel_name = f"WhatsApp bench {secrets.token_hex(4)}"
    channel_id = prepare_app_database(app, channel_name, model_version, history)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    queue = Queue(QUEUE_NAME, connection=redis, serializer=JSONSerializer)
    processes = start_stack(env, port, args.workers, logs)
    announcements = sampler = None
    try:
        wait_for_stack(base_url, channel_id, redis, args.workers, processes)
        announcements, sampler = Announcements(redis, channel_name), LockSampler(driver)
        announcements.start()
        sampler.start()
        cpu_before = cpu_snapshot(processes)
        posted = post_deliveries(f"{base_url}/webhooks/whatsapp/{channel_id}", corpus.stream, args.clients,
                                 timeout=30)
        if posted.errors:
            raise RuntimeError(f"{len(posted.errors)} POSTs failed, first: {posted.errors[0]}")
        done = wait_until_drained(driver, queue, announcements, corpus.unique_messages, processes, args.timeout,
                                  channel_id)
        seconds = done - posted.first_post
        cpu_after = cpu_snapshot(processes)
        time.sleep(0.3)  # let a late duplicate announcement, if any, arrive before counting
        return EndToEnd(
            seconds=seconds, rate=corpus.unique_messages / seconds, latencies=posted.latencies,
            post_errors=posted.errors, failed_jobs=FailedJobRegistry(queue=queue).count,
            retries_pending=ScheduledJobRegistry(queue=queue).count,
            posting_seconds=posted.last_answer - posted.first_post, facts=database_facts(driver, channel_id),
            announced=Counter(announcements.events), announced_items=Counter(announcements.items),
            announced_messages=len(announcements.message_ids),
            foreign_events=announcements.foreign, jobs=job_statistics(queue, len(app.config["JOB_RETRY_INTERVALS"]),
                                                                 corpus.unique_messages),
            pg_samples=Counter(sampler.samples),
            cpu={k: cpu_after[k] - cpu_before[k] for k in cpu_after})
    finally:
        try:
            stop_stack(processes)
        finally:
            for thread in (announcements, sampler):
                if thread is not None:
                    thread.stop()


# ---- bare floor ------------------------------------------------------------------------------

def floor_table(metadata: MetaData) -> Table:
    """A messages-like table: the unique key that makes re-deliveries harmless, nothing else."""
    return Table(
        "floor_messages", metadata,
        Column("id", Integer, primary_key=True),
        Column("channel_id", Integer, nullable=False),
        Column("external_id", String(255), nullable=False),
        Column("author_id", String(64)),
        Column("author_name", String(255)),
        Column("text", Text, nullable=False),
        Column("intent", String(32)),
        Column("confidence", Float),
        Column("created_at", DateTime, nullable=False),
        UniqueConstraint("channel_id", "external_id"),
    )


def floor_rows(channel_id: int, events: list) -> list[dict[str, Any]]:
    return [{"channel_id": channel_id, "external_id": e.external_id, "author_id": e.author_id,
             "author_name": e.author_name, "text": e.text, "created_at": e.created_at}
            for e in events if isinstance(e, InboundMessage)]


def run_floor(corpus: Corpus, engine: Engine, redis: Redis, model) -> tuple[float, int]:
    """Parse → classify (one batched call) → one Core executemany ``ON CONFLICT DO NOTHING`` →
    one emit, per delivery. Returns (seconds, rows stored)."""
    metadata = MetaData()
    table = floor_table(metadata)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    redis.flushdb()
    connector = connector_for("whatsapp", {"app_secret": APP_SECRET, "account_id": PHONE_NUMBER_ID})
    emitter = RedisManager(REDIS_URL, channel=FLOOR_SOCKETIO_CHANNEL, write_only=True)
    statement = pg_insert(table).on_conflict_do_nothing(index_elements=["channel_id", "external_id"])
    channel_id = 1
    started = time.perf_counter()
    for delivery in corpus.stream:
        rows = floor_rows(channel_id, connector.parse(json.loads(delivery.body)))
        for row, prediction in zip(rows, classify_many(model, [row["text"] for row in rows]), strict=True):
            row["intent"], row["confidence"] = prediction.intent, prediction.confidence
        with engine.begin() as connection:
            connection.execute(statement, rows)
        emitter.emit("messages_stored", {"channel_id": channel_id, "external_ids": [r["external_id"] for r in rows]},
                     room="team:1", namespace="/")
    seconds = time.perf_counter() - started
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT count(*) FROM floor_messages")).scalar_one()
    metadata.drop_all(engine)
    return seconds, stored


# ---- report ----------------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def code_version() -> str:
    """The commit measured, and the files changed since (read-only git calls)."""
    def git(*command: str) -> str:
        try:
            return subprocess.run(["git", "--no-optional-locks", "-C", str(ROOT), *command], capture_output=True,
                                  text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            return ""
    commit = git("rev-parse", "--short", "HEAD").strip() or "unknown"
    changed = [line[3:] for line in git("status", "--porcelain", "--untracked-files=no").splitlines()]
    return f"commit {commit}" + (f", with uncommitted changes to {', '.join(changed)}" if changed else "")


def stored_once(run: EndToEnd, unique: int) -> bool:
    """Every unique message stored, kept as a raw event and announced exactly once."""
    facts = run.facts
    return (facts["messages"] == facts["distinct_external_ids"] == facts["raw_events"] == unique
            and run.announced_items["message_created"] == run.announced_messages == unique)


def print_report(args, corpus: Corpus, e2e: list[EndToEnd], floor: list[tuple[float, int]]) -> bool:
    """The table of results; True when every target is met."""
    e2e_rate = statistics.median(r.rate for r in e2e)
    floor_rate = statistics.median(corpus.unique_messages / s for s, _ in floor)
    ratio = e2e_rate / floor_rate
    latencies = [x for r in e2e for x in r.latencies]
    once = [stored_once(r, corpus.unique_messages) for r in e2e]
    all_once = all(once) and all(n == corpus.unique_messages for _, n in floor)
    failed = sum(r.failed_jobs for r in e2e)
    pending = sum(r.retries_pending for r in e2e)
    posted = sum(len(d.message_ids) for d in corpus.stream)
    print()
    print("Tawasul ingest benchmark (bench/ingest.py)")
    print(f"machine: {os.cpu_count()} cores; PostgreSQL {PG_BASE} schema {SCHEMA}; Redis {REDIS_URL}")
    print(f"code: {code_version()}")
    print(f"input: {corpus.unique_messages:,} unique WhatsApp text messages from {corpus.customers:,} customers in "
          f"{len(corpus.deliveries):,} signed deliveries of 20-50, + {len(corpus.stream) - len(corpus.deliveries):,} "
          f"exact re-deliveries ({len(corpus.stream):,} POSTs, {posted:,} message copies)")
    print(f"end to end: python app.py + {args.workers} rq workers (flask --app app worker), {args.clients} HTTP "
          f"client threads; runs: {args.runs}")
    print("pipeline measured: verify -> store raw events -> rq job (kicked once per backlog) -> parse -> store + "
          "thread -> classify new conversations (active model) -> 5 routing rules, assignment to 12 online agents, "
          "SLA due times -> announce (coalesced)")
    print()
    print(f"{'':32}{'per run':>40}{'median':>14}{'target':>14}")
    rows = [
        ("end to end, msgs/s", [f"{r.rate:,.0f}" for r in e2e], f"{e2e_rate:,.0f}", ">= 1,000",
         e2e_rate >= 1000),
        ("bare floor, msgs/s", [f"{corpus.unique_messages / s:,.0f}" for s, _ in floor], f"{floor_rate:,.0f}", "",
         None),
        ("end to end / bare",
         [f"{r.rate / (corpus.unique_messages / s):.1%}" for r, (s, _) in zip(e2e, floor, strict=True)],
         f"{ratio:.1%}", ">= 40 %", ratio >= 0.40),
        ("end to end, seconds", [f"{r.seconds:.1f}" for r in e2e], f"{statistics.median(r.seconds for r in e2e):.1f}",
         "", None),
        ("duplicates stored once", ["yes" if ok else "NO" for ok in once], "yes" if all_once else "NO", "yes",
         all_once),
        ("failed jobs (retries pending)", [f"{r.failed_jobs} ({r.retries_pending})" for r in e2e],
         f"{failed} ({pending})", "0", failed == 0 and pending == 0),
        ("job attempts failed, retried OK", [str(r.jobs.get("failed_attempts", 0)) for r in e2e],
         str(statistics.median(r.jobs.get("failed_attempts", 0) for r in e2e)), "(info)", None),
        ("webhook latency p50, ms", [f"{1000 * percentile(r.latencies, .5):.0f}" for r in e2e],
         f"{1000 * percentile(latencies, .5):.0f}", "", None),
        ("webhook latency p99, ms", [f"{1000 * percentile(r.latencies, .99):.0f}" for r in e2e],
         f"{1000 * percentile(latencies, .99):.0f}", "", None),
    ]
    ok = True
    for name, per_run, median, target, passed in rows:
        mark = "" if passed is None else f"  {verdict(passed)}"
        ok = ok and passed is not False
        print(f"{name:32}{' / '.join(per_run):>40}{median:>14}{target:>14}{mark}")
    print()
    print_diagnostics(e2e)
    return ok


def print_diagnostics(e2e: list[EndToEnd]) -> None:
    """Where the end-to-end time went, for the median run."""
    run = sorted(e2e, key=lambda r: r.rate)[len(e2e) // 2]
    jobs, facts = run.jobs, run.facts
    print("where the time went (median end-to-end run):")
    if jobs.get("jobs"):
        busy = jobs["run_sum"] / (run.seconds * max(1, jobs["workers_seen"]))
        print(f"  rq: {jobs['jobs']} jobs, {jobs['messages_per_job']:.0f} messages each on average; job run p50 "
              f"{1000 * jobs['run_p50']:.0f} ms = {jobs['ms_per_message']:.2f} ms per message; workers busy "
              f"{busy:.0%} of the run; {1000 * jobs['gap_p50']:.0f} ms between jobs on a worker (fork, rq "
              f"bookkeeping); queue wait p50 {jobs['wait_p50']:.1f} s; {jobs['failed_attempts']} failed attempts "
              f"({jobs['retried_jobs']} jobs) retried after rq's back-off")
    print(f"  webhooks: all {len(run.latencies)} POSTs answered {run.posting_seconds:.1f} s after the first; "
          f"the queue drained {run.seconds - run.posting_seconds:.1f} s later")
    print(f"  socket.io: {sum(run.announced.values()):,} emits for {run.announced_messages:,} messages "
          f"(emits {dict(run.announced)}, items {dict(run.announced_items)}); {run.foreign_events:,} events of "
          f"other processes on the same channel ignored")
    print(f"  database: {facts['conversations']:,} conversations, {facts['customers']:,} customers, "
          f"{facts['raw_events']:,} raw events ({facts['raw_events_not_processed']} not processed)")
    total = sum(run.pg_samples.values())
    if total:
        shares = ", ".join(f"{name} {count / total:.0%}" for name, count in run.pg_samples.most_common(5))
        print(f"  app's PostgreSQL sessions in a transaction (pg_stat_activity every 50 ms): {shares}")
    cpu = dict(run.cpu)
    machine, busy = cpu.pop("machine"), cpu.pop("machine busy")
    parts = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in cpu.items())
    print(f"  CPU: machine {busy / machine:.0%} busy ({busy:.0f} of {machine:.0f} core-seconds); {parts} "
          f"(PostgreSQL and Redis: all their sessions; the rest: other users of this machine)")


# ---- main ------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20_000, help="unique messages (default 20,000)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each pipeline; medians reported (default 3)")
    parser.add_argument("--customers", type=int, default=3_000, help="distinct senders (default 3,000)")
    parser.add_argument("--duplicates", type=float, default=0.10, help="share of POSTs that are re-deliveries")
    parser.add_argument("--workers", type=int, default=2, help="rq worker processes (default 2)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP client threads (default 4)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="max seconds for one run to drain (default: messages / 10, at least 300)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--history", type=int, default=5_000,
                        help="messages ingested (untimed) on another channel first, then ANALYZE "
                             "(default 5,000; 0: none)")
    parser.add_argument("--keep-logs", action="store_true", help="keep the server and worker logs, print where")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.timeout = args.timeout or max(300.0, args.messages / 10)
    corpus = make_corpus(args.messages, args.customers, args.duplicates, args.seed)
    history = make_corpus(args.history, max(1, args.history // 5), 0.0, args.seed + 1) if args.history else None
    logs = Path(tempfile.mkdtemp(prefix="tawasul-bench-"))
    env = app_environment(logs / "instance", secrets.token_hex(32))
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "TAWASUL_INSTANCE_PATH")})
    from app import create_app

    app = create_app()
    driver = create_engine(sqlalchemy_url(database_url(DRIVER_DB_NAME)))
    # One bench at a time on this server: they share the schema and the Redis db.
    bench_lock = driver.connect().execution_options(isolation_level="AUTOCOMMIT")  # holds no snapshot
    if not bench_lock.execute(text("SELECT pg_try_advisory_lock(7405)")).scalar():
        print("another bench/ingest.py is running on this PostgreSQL: waiting for it ...", flush=True)
        bench_lock.execute(text("SELECT pg_advisory_lock(7405)"))
    print("training the intent model once for every run ...", flush=True)
    model, model_version = train_model(app)
    redis = Redis.from_url(REDIS_URL)
    e2e: list[EndToEnd] = []
    floor: list[tuple[float, int]] = []
    print(f"{corpus.unique_messages:,} messages in {len(corpus.stream):,} POSTs; logs in {logs}", flush=True)
    try:
        redis.flushdb()
        for number in range(1, args.runs + 1):
            e2e.append(run_end_to_end(app, corpus, redis, driver, args, logs, env, model_version, history))
            print(f"run {number}: end to end {e2e[-1].rate:,.0f} msgs/s ({e2e[-1].seconds:.1f} s)", flush=True)
            floor.append(run_floor(corpus, driver, redis, model))
            print(f"run {number}: bare floor {corpus.unique_messages / floor[-1][0]:,.0f} msgs/s "
                  f"({floor[-1][0]:.1f} s)", flush=True)
        ok = print_report(args, corpus, e2e, floor)
    finally:
        redis.flushdb()
        redis.close()
        drop_schema(driver)
        bench_lock.close()
        driver.dispose()
        if not args.keep_logs:
            shutil.rmtree(logs, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
