"""RELIABILITY.md case 29: `kill -9` of the worker in the middle of a batch.

Production mode only (PostgreSQL and real Redis): deliveries are stored and one ingest job is
kicked, as the webhook endpoint does; the real `flask --app app worker` and its forked
work-horse are SIGKILLed while a batch's transaction is open, and recovery goes through the
product's own path: the sweeper kicks ingest again for what is still pending and a fresh worker
drains it. Every message must then exist exactly once. rq's own recovery (the abandoned job
retried after its heartbeat window, ~2 min) is then fast-forwarded: running the job a second
time must change nothing.

The kill lands mid-transaction by construction, not by luck: the test holds a lock that stops
writes to raw_events, which ingest marks processed after inserting a batch's messages, so the
work-horse waits there with the batch written but not committed.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from redis import Redis
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from sqlalchemy import create_engine, func, select, text

from connectors.demo import DemoConnector
from connectors.types import RawPayload
from inbox.extensions import db
from inbox.jobs import tasks
from inbox.models import Channel, Conversation, Identity, Message, RawEvent, Team
from inbox.services import ingest
from inbox.services.ingest import PENDING_BATCH
from tests.conftest import make_app
from tests.services import POSTGRES_URL, REDIS_URL, require

ROOT = Path(__file__).resolve().parents[2]
TOTAL = 1000  # deliveries: one batch committed before the worker starts, then the killed one
GRACE = 0.5  # SWEEP_RAW_EVENT_GRACE_SECONDS, for the test's app and the worker alike
KILL_DEADLINE = 45.0  # seconds for the worker to start and write its first batch
DRAIN_DEADLINE = 90.0  # seconds for the burst worker to empty the queue (a bound, not a target)


@pytest.fixture
def redis():
    require("postgresql")
    require("redis")
    if not Path("/proc/self/stat").exists():
        pytest.skip("finding rq's work-horse to kill it needs /proc (Linux)")
    connection = Redis.from_url(REDIS_URL)
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()


def start_worker(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen:
    """The real worker, in a session of its own: every process it starts can be found and killed."""
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker", *args],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def session_members(sid: int) -> dict[int, int]:
    """pid -> process group of every live process of the session (zombies are dead)."""
    members = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        state, pgrp, session = fields[0], int(fields[2]), int(fields[3])
        if session == sid and state not in ("Z", "X"):
            members[int(stat.parent.name)] = pgrp
    return members


def kill_session(proc: subprocess.Popen) -> None:
    """SIGKILL the worker and everything it started, as a crash of its host would.

    rq's work-horse calls os.setpgrp(), so killing the worker's process group alone would
    leave the horse running and finishing its batch; it stays in the worker's session.
    """
    groups = set(session_members(proc.pid).values())
    for pgrp in [proc.pid, *sorted(groups - {proc.pid})]:  # the worker first: it must not see the horse die
        try:
            os.killpg(pgrp, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 5
    while (survivors := session_members(proc.pid)) and time.monotonic() < deadline:
        for pgrp in set(survivors.values()):  # a horse forked between the scan and the kill
            try:
                os.killpg(pgrp, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.01)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL cannot be ignored
        pass


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else ""


def run_burst(env: dict[str, str], log: Path, workers: list[subprocess.Popen]) -> float:
    """`flask --app app worker --burst` until the queue is empty; returns the seconds it took."""
    began = time.monotonic()
    proc = start_worker(env, log, "--burst")
    workers.append(proc)
    try:
        proc.wait(timeout=DRAIN_DEADLINE)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the burst worker did not drain the queue in {DRAIN_DEADLINE}s:\n{tail(log)}")
    assert proc.returncode == 0, tail(log)
    return time.monotonic() - began


def stored(channel_id: int) -> dict:
    """What the database holds, for comparing before and after a second run."""
    return {
        "raw": dict(db.session.execute(select(RawEvent.status, func.count()).group_by(RawEvent.status)).all()),
        "messages": sorted(db.session.execute(
            select(Message.external_id, Message.conversation_id).where(Message.channel_id == channel_id)).all()),
        "conversations": db.session.scalar(select(func.count()).select_from(Conversation)),
        "identities": db.session.scalar(select(func.count()).select_from(Identity)),
    }


def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(redis, tmp_path):
    started = time.monotonic()
    app = make_app(POSTGRES_URL, REDIS_URL=REDIS_URL, RATELIMIT_STORAGE_URI=REDIS_URL,
                   SWEEP_RAW_EVENT_GRACE_SECONDS=GRACE)
    backend = app.extensions["tawasul_jobs"]
    queue = backend.queue
    started_jobs = StartedJobRegistry(queue=queue)
    demo = DemoConnector()
    with app.app_context():
        channel = Channel(platform="demo", name="Demo", team=Team(name="Care"), settings={"batch_size": 1})
        db.session.add(channel)
        db.session.commit()
        channel_id = channel.id
        raw_ids = ingest.record_raw_events(
            channel_id, [RawPayload(body=demo.payload_at(n), dedup_key=f"demo-{n}") for n in range(TOTAL)])
        recorded_at = time.monotonic()
        assert None not in raw_ids and len(set(raw_ids)) == TOTAL
        assert ingest.process_pending() == PENDING_BATCH  # some work done before the crash
        backend.kick(tasks.ingest_pending)
        backend.kick(tasks.ingest_pending)  # a second webhook while the first kick waits: no second job
    assert len(queue) == 1

    env = {**os.environ, "DATABASE_URL": POSTGRES_URL, "REDIS_URL": REDIS_URL, "JOB_QUEUE": queue.name,
           "TAWASUL_INSTANCE_PATH": str(tmp_path / "worker"), "SWEEP_RAW_EVENT_GRACE_SECONDS": str(GRACE)}
    log = tmp_path / "worker.log"
    probe = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    blocker_engine = create_engine(POSTGRES_URL)
    blocker = blocker_engine.connect()
    workers: list[subprocess.Popen] = []
    try:
        # 1. Block writes to raw_events (SHARE mode still lets a worker claim rows FOR UPDATE):
        # the worker's batch writes its messages, then waits to mark its payloads processed.
        blocker.execute(text("LOCK TABLE raw_events IN SHARE MODE"))
        worker = start_worker(env, log)
        workers.append(worker)
        deadline = time.monotonic() + KILL_DEADLINE
        with probe.connect() as conn:
            while True:
                assert worker.poll() is None, f"the worker exited early:\n{tail(log)}"
                assert time.monotonic() < deadline, f"no batch reached its middle in time:\n{tail(log)}"
                committed = conn.scalar(text("SELECT count(*) FROM messages"))
                # A sequence is not transactional: it shows the rows the open transaction inserted.
                last_value, called = conn.execute(text("SELECT last_value, is_called FROM messages_id_seq")).one()
                inserted = last_value if called else 0
                blocked = conn.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))
                running = started_jobs.get_job_ids(cleanup=False)
                if inserted > committed and blocked and running:
                    horses = {pid for pid, pgrp in session_members(worker.pid).items() if pgrp != worker.pid}
                    kill_session(worker)
                    killed_at = time.monotonic()
                    break
                time.sleep(0.01)
        blocker.rollback()
        assert worker.returncode == -signal.SIGKILL
        assert horses, "no work-horse was running"
        assert not session_members(worker.pid), "a process of the worker survived the kill"

        # The kill really hit the middle of a batch: nothing of it was committed, the first
        # batch is stored, every other payload is still pending, and rq believes the job runs.
        with probe.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM messages")) == committed
            statuses = dict(conn.execute(select(RawEvent.status, func.count()).group_by(RawEvent.status)).all())
        assert 0 < committed < TOTAL
        assert statuses == {"processed": PENDING_BATCH, "pending": TOTAL - PENDING_BATCH}
        [killed_job_id] = running
        assert started_jobs.get_job_ids() == [killed_job_id]
        [(_, expires)] = redis.zrange(started_jobs.key, 0, -1, withscores=True)
        rq_window = expires - time.time()  # when rq's maintenance would first call the job abandoned

        # 2. Recovery, the product's way: once the grace has passed, the sweeper sees pending
        # payloads and kicks ingest again (twice: still one job); a fresh worker drains it all.
        assert len(queue) == 0
        time.sleep(max(0.0, GRACE - (time.monotonic() - recorded_at)) + 0.1)
        with app.app_context():
            tasks.sweep()
            tasks.sweep()
        assert len(queue) == 1
        drained_in = run_burst(env, log, workers)

        assert len(queue) == 0
        assert FailedJobRegistry(queue=queue).count == 0
        assert started_jobs.get_job_ids() == [killed_job_id]  # rq alone has not noticed yet
        with app.app_context():
            recovered = stored(channel_id)

        # 3. rq's own recovery, fast-forwarded past the heartbeat window: the abandoned job has
        # retries left, so rq schedules it again. Run it now: a second run must change nothing.
        started_jobs.cleanup(timestamp=time.time() + 3600)
        assert started_jobs.get_job_ids() == []
        ScheduledJobRegistry(queue=queue).requeue(killed_job_id)
        assert queue.job_ids == [killed_job_id]
        run_burst(env, log, workers)
    finally:
        for proc in workers:
            kill_session(proc)  # also any horse orphaned by a failed assertion
        blocker.close()
        blocker_engine.dispose()
        probe.dispose()

    # 4. Every message exactly once, nothing pending, nothing failed, nothing left running.
    assert len(queue) == 0
    assert started_jobs.count == 0
    assert FailedJobRegistry(queue=queue).count == 0
    script = demo.script
    with app.app_context():
        assert stored(channel_id) == recovered
        assert recovered["raw"] == {"processed": TOTAL}
        external_ids = [external_id for external_id, _ in recovered["messages"]]
        assert len(external_ids) == TOTAL
        assert not [key for key, n in Counter(external_ids).items() if n > 1]
        assert set(external_ids) == {f"demo-{n}" for n in range(TOTAL)}
        assert db.session.scalar(select(func.count()).select_from(Message)) == TOTAL
        # Conversations: none empty (nothing of the killed batch survived), one private
        # conversation per customer who wrote a DM, one identity per customer.
        per_conversation = Counter(conversation_id for _, conversation_id in recovered["messages"])
        assert len(per_conversation) == recovered["conversations"] <= TOTAL
        rows = [script[n % len(script)] for n in range(TOTAL)]
        assert db.session.scalar(select(func.count()).select_from(Conversation)
                                 .where(Conversation.is_public.is_(False))) == len(
            {row["customer"] for row in rows if row["kind"] == "dm"})
        assert recovered["identities"] == len({row["customer"] for row in rows})
    print(f"\nrecorded and queued {TOTAL} in {recorded_at - started:.1f}s; killed {killed_at - recorded_at:.1f}s "
          f"later with {committed} committed and {inserted - committed} in flight; rq would have noticed in "
          f"~{rq_window:.0f}s; drained in {drained_in:.1f}s; total {time.monotonic() - started:.1f}s")
