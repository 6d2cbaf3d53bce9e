"""Socket fan-out benchmark: events from a worker reach 300 connected agents' screens.

* The real server, as production runs it: ``python app.py`` with PostgreSQL and Redis
  (Flask-SocketIO on its Redis message queue), on a schema holding one team of ``--clients`` agents.
* ``--clients`` authenticated Socket.IO clients (python-socketio over WebSocket, each signed in
  through ``POST /login`` and carrying its session cookie), spread over ``--procs`` processes.
  The server puts every one of them in the team's room, as it does for a browser.
* A separate process emits the way a worker does: ``inbox.realtime.announce`` inside the app, in
  production mode, through the Redis message queue. Each event carries its emit time.

Phases:
1. **Steady**: ``--rate`` events a second for ``--seconds`` seconds to the team room. Every client
   records emit→receipt latency; p50 and p99 are over every (event, client) pair.
2. **Burst**: ``--burst`` events within one second, as ingest announces them: batches of
   ``--batch`` events per ``announce`` call (one committed batch each), which coalesces a batch
   into one emit carrying a list. Reports socket messages per screen against events emitted.

Needs PostgreSQL on 127.0.0.1:5432 (database ``test``, trust auth), Redis on 127.0.0.1:6379 and the
``websocket-client`` package (``.venv/bin/pip install websocket-client``; without it the client
falls back to long-polling). Works only in the schema ``tawasul_fanout`` (dropped and re-created)
and Redis db 14 with its own Socket.IO channel; nothing else is touched. From the repository root:

    .venv/bin/python bench/fanout.py                       # 300 clients, 10 events/s for 60 s, burst of 500
    .venv/bin/python bench/fanout.py --clients 50 --seconds 10
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCHEMA = "tawasul_fanout"
PG_BASE = os.environ.get("BENCH_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
DATABASE_URL = f"{PG_BASE}?options=-csearch_path%3D{SCHEMA}"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
CHANNEL = "tawasul-fanout-bench"
PASSWORD = "fanout-bench-password"
USER_AGENT = "tawasul-fanout-bench"  # the session is bound to address + user agent (strong protection)
EVENT = "conversation_updated"


def _env(port: int) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": DATABASE_URL, "REDIS_URL": REDIS_URL, "SOCKETIO_CHANNEL": CHANNEL,
           "SECRET_KEY": "fanout-bench-secret", "SESSION_COOKIE_SECURE": "0", "HOST": "127.0.0.1",
           "PORT": str(port), "LOGIN_RATE_LIMIT": "100000 per minute", "SEED_DEMO": "0", "DEMO_TRAFFIC": "0",
           "RUN_MIGRATIONS_AT_START": "0", "LOG_LEVEL": "WARNING"}
    env["TAWASUL_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="tawasul-fanout-")
    return env


# ---- setup: a schema, one team, N agents --------------------------------------------------------

def setup(clients: int) -> int:
    """Fresh schema from the models; returns the team's id."""
    from redis import Redis
    from sqlalchemy import create_engine, insert, text
    from werkzeug.security import generate_password_hash

    engine = create_engine(PG_BASE.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    engine.dispose()
    Redis.from_url(REDIS_URL).flushdb()

    os.environ.update({k: v for k, v in _env(0).items() if k in ("DATABASE_URL", "REDIS_URL", "SOCKETIO_CHANNEL",
                                                                  "SECRET_KEY", "TAWASUL_INSTANCE_PATH")})
    from app import create_app
    from inbox.extensions import db
    from inbox.models import Team, User
    from inbox.models.user import team_members

    app = create_app()
    with app.app_context():
        db.create_all()
        team = Team(name="Fan-out")
        db.session.add(team)
        db.session.flush()
        # A cheap hash: signing 300 agents in is not what is measured.
        password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        rows = [{"email": f"agent{i}@fanout.bench", "name": f"Agent {i}", "password_hash": password_hash,
                 "role": "agent", "language": "en", "timezone": "Asia/Amman", "active": True, "session_version": 1,
                 "capacity": 8, "skills": [], "languages": ["en"], "presence": "offline"} for i in range(clients)]
        ids = db.session.execute(insert(User).returning(User.id), rows).scalars().all()
        db.session.execute(insert(team_members), [{"team_id": team.id, "user_id": i} for i in ids])
        db.session.commit()
        team_id = team.id
        db.session.remove()
        db.engine.dispose()
    return team_id


def teardown() -> None:
    from redis import Redis
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_BASE.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
    engine.dispose()
    Redis.from_url(REDIS_URL).flushdb()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, log: Path) -> subprocess.Popen:
    import requests

    server = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=_env(port), stdout=log.open("w"),
                              stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"http://127.0.0.1:{port}/login", timeout=1).status_code == 200:
                return server
        except requests.ConnectionError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            sys.exit("server did not start:\n" + log.read_text()[-3000:])
        time.sleep(0.2)


def sign_in(url: str, i: int) -> str:
    import requests

    http = requests.Session()
    http.headers["User-Agent"] = USER_AGENT
    page = http.get(url + "/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'name="csrf-token" content="([^"]+)"', page)
    response = http.post(url + "/login", data={"email": f"agent{i}@fanout.bench", "password": PASSWORD,
                                               "csrf_token": token.group(1)}, allow_redirects=False)
    if response.status_code not in (302, 303):
        raise RuntimeError(f"agent{i}: sign-in answered {response.status_code}")
    return "; ".join(f"{c.name}={c.value}" for c in http.cookies)


# ---- the clients' processes ----------------------------------------------------------------------

def run_clients(url: str, cookies: list[str], out: Path, ready: Path) -> None:
    """Connect every client, record each event's latency; write the results once every client heard
    "bench_done", or when the main process drops the stop file (a screen that lost events)."""
    import socketio

    latencies: dict[str, list[float]] = {"steady": [], "burst": []}
    messages: list[dict[str, int]] = []
    items: list[dict[str, int]] = []
    lock = threading.Lock()
    finished: set[int] = set()
    disconnects = [0]
    sockets = []

    def make(index: int):
        sock = socketio.Client(reconnection=False)
        messages.append({"steady": 0, "burst": 0})
        items.append({"steady": 0, "burst": 0})

        @sock.on(EVENT)
        def _received(payload, index=index):
            now = time.time()
            batch = payload if isinstance(payload, list) else [payload]
            phase = batch[0].get("bench_phase")
            if phase == "done":
                return
            with lock:
                messages[index][phase] += 1
                items[index][phase] += len(batch)
                latencies[phase].extend(now - item["bench_t"] for item in batch)

        @sock.on("bench_done")
        def _done(_payload=None, index=index):
            with lock:
                finished.add(index)

        @sock.on("disconnect")
        def _gone(*_args):
            with lock:
                disconnects[0] += 1

        sock.connect(url, headers={"Cookie": cookies[index], "User-Agent": USER_AGENT}, transports=["websocket"],
                     wait_timeout=30)
        return sock

    for index in range(len(cookies)):
        sockets.append(make(index))
    ready.write_text(str(len(sockets)))
    stop = ready.with_suffix(".stop")
    while len(finished) < len(sockets) and not stop.exists():
        time.sleep(0.2)
    with lock:
        out.write_text(json.dumps({"latencies": latencies, "messages": messages, "items": items,
                                   "connected": sum(1 for s in sockets if s.connected),
                                   "finished": len(finished), "disconnects": disconnects[0]}))
    os._exit(0)  # the sockets close with the process: 100 orderly disconnects take minutes


# ---- the emitter: a worker's realtime.announce ---------------------------------------------------

def run_emitter(team_id: int, rate: float, seconds: float, burst: int, batch: int) -> None:
    os.environ.update({k: v for k, v in _env(0).items() if k in ("DATABASE_URL", "REDIS_URL", "SOCKETIO_CHANNEL",
                                                                  "SECRET_KEY", "TAWASUL_INSTANCE_PATH")})
    from app import create_app
    from inbox import realtime

    app = create_app()
    rooms = (realtime.team_room(team_id),)
    with app.app_context():
        start = time.monotonic()
        count = int(rate * seconds)
        for n in range(count):
            time.sleep(max(0.0, start + n / rate - time.monotonic()))
            realtime.announce([realtime.Announcement(EVENT, {"id": n, "bench_phase": "steady", "bench_t": time.time()},
                                                     rooms)])
        time.sleep(2)
        start = time.monotonic()
        batches = max(1, burst // batch)
        for b in range(batches):  # ingest's batches: one announce each, after each commit
            time.sleep(max(0.0, start + b / batches - time.monotonic()))
            now = time.time()
            realtime.announce([realtime.Announcement(EVENT, {"id": b * batch + k, "bench_phase": "burst",
                                                             "bench_t": now}, rooms) for k in range(batch)])
        time.sleep(2)
        from inbox.extensions import socketio

        socketio.emit("bench_done", {}, to=rooms[0])
    print(json.dumps({"steady": count, "burst": batches * batch, "burst_emits": batches}))


# ---- the report ----------------------------------------------------------------------------------

def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=300)
    parser.add_argument("--procs", type=int, default=3, help="client processes")
    parser.add_argument("--rate", type=float, default=10.0, help="events a second, steady phase")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--burst", type=int, default=500)
    parser.add_argument("--batch", type=int, default=50, help="events per announce in the burst")
    parser.add_argument("--role", choices=("main", "clients", "emitter"), default="main", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--cookies", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--ready", help=argparse.SUPPRESS)
    parser.add_argument("--team", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.role == "clients":
        run_clients(args.url, json.loads(Path(args.cookies).read_text()), Path(args.out), Path(args.ready))
        return
    if args.role == "emitter":
        run_emitter(args.team, args.rate, args.seconds, args.burst, args.batch)
        return

    from concurrent.futures import ThreadPoolExecutor

    work = Path(tempfile.mkdtemp(prefix="tawasul-fanout-run-"))
    print(f"setting up {args.clients} agents in schema {SCHEMA} …", flush=True)
    team_id = setup(args.clients)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(port, work / "server.log")
    children: list[subprocess.Popen] = []
    try:
        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            cookies = list(pool.map(lambda i: sign_in(url, i), range(args.clients)))
        print(f"{args.clients} agents signed in in {time.monotonic() - started:.1f} s", flush=True)
        slices = [cookies[i::args.procs] for i in range(args.procs)]
        outs, readies = [], []
        started = time.monotonic()
        for n, part in enumerate(slices):
            (work / f"cookies{n}.json").write_text(json.dumps(part))
            outs.append(work / f"out{n}.json")
            readies.append(work / f"ready{n}")
            children.append(subprocess.Popen([sys.executable, __file__, "--role", "clients", "--url", url,
                                              "--cookies", str(work / f"cookies{n}.json"), "--out", str(outs[-1]),
                                              "--ready", str(readies[-1])], cwd=ROOT))
        while not all(r.exists() for r in readies):
            if any(c.poll() not in (None, 0) for c in children):
                sys.exit("a client process failed (see above)")
            time.sleep(0.2)
        print(f"{args.clients} sockets connected in {time.monotonic() - started:.1f} s "
              f"({args.procs} client processes)", flush=True)
        threads_before = _threads(server.pid)
        load_before = os.getloadavg()[0]
        emitter = subprocess.run([sys.executable, __file__, "--role", "emitter", "--team", str(team_id),
                                  "--rate", str(args.rate), "--seconds", str(args.seconds), "--burst", str(args.burst),
                                  "--batch", str(args.batch)], cwd=ROOT, capture_output=True, text=True)
        if emitter.returncode:
            sys.exit("the emitter failed:\n" + emitter.stderr[-3000:])
        emitted = json.loads(emitter.stdout.strip().splitlines()[-1])
        load_after = os.getloadavg()[0]
        deadline = time.monotonic() + 60  # every screen heard "bench_done", or a minute passed
        while any(c.poll() is None for c in children) and time.monotonic() < deadline:
            time.sleep(0.2)
        for r in readies:
            r.with_suffix(".stop").touch()
        for child in children:
            child.wait(timeout=60)
        results = [json.loads(o.read_text()) for o in outs]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=15)
        teardown()

    steady = [x for r in results for x in r["latencies"]["steady"]]
    burst = [x for r in results for x in r["latencies"]["burst"]]
    messages = [m for r in results for m in r["messages"]]
    items = [m for r in results for m in r["items"]]
    connected = sum(r["connected"] for r in results)
    finished = sum(r["finished"] for r in results)
    disconnects = sum(r["disconnects"] for r in results)
    expected = emitted["steady"] * args.clients
    ms = 1000
    print()
    print(f"machine: {os.cpu_count()} CPUs, load average {load_before:.1f} before the events, {load_after:.1f} after "
          "(the machine may be shared)")
    mode = os.environ.get("SOCKETIO_ASYNC_MODE") or "gevent"  # app.serving_async_mode() in production
    print(f"server: python app.py (Flask-SocketIO {mode} mode), {threads_before} threads "
          f"with {connected} sockets; {finished} screens heard the end, {disconnects} disconnects")
    print(f"steady: {emitted['steady']} events at {args.rate:g}/s to {args.clients} agents: "
          f"{len(steady)} of {expected} receipts ({100 * len(steady) / max(1, expected):.2f} %)")
    print(f"  emit→receipt latency p50 {percentile(steady, 50) * ms:.1f} ms (target < 50), "
          f"p90 {percentile(steady, 90) * ms:.1f} ms, p99 {percentile(steady, 99) * ms:.1f} ms (target < 150), "
          f"max {max(steady, default=float('nan')) * ms:.1f} ms")
    per_screen = statistics.median([m["burst"] for m in messages]) if messages else 0
    items_per_screen = statistics.median([i["burst"] for i in items]) if items else 0
    print(f"burst: {emitted['burst']} events in 1 s as {emitted['burst_emits']} batches: each screen received "
          f"{per_screen:g} socket messages carrying {items_per_screen:g} events "
          f"({emitted['burst'] / max(1, per_screen):.0f} events per message)")
    print(f"  burst latency p50 {percentile(burst, 50) * ms:.1f} ms, p99 {percentile(burst, 99) * ms:.1f} ms")
    ok = percentile(steady, 50) < 0.050 and percentile(steady, 99) < 0.150 and len(steady) == expected
    print("targets met" if ok else "targets MISSED")
    sys.exit(0 if ok else 1)


def _threads(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return -1


if __name__ == "__main__":
    main()
