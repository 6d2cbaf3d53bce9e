"""Tawasul's composition root: create_app() wires config, extensions, blueprints and sockets.

`python app.py` serves on http://127.0.0.1:5000 through Flask-SocketIO. Without DATABASE_URL
it runs embedded: SQLite in instance/, migrations applied, demo accounts seeded, jobs and the
demo channel's polling inside this process, served by Werkzeug in threading mode. With it
(production) it serves with gevent's WSGI server in gevent mode, unless SOCKETIO_ASYNC_MODE=threading.
"""
from __future__ import annotations

import os


def serving_async_mode() -> str:
    """The Socket.IO mode `python app.py` serves in: SOCKETIO_ASYNC_MODE, else gevent in production
    (one greenlet per socket) and threading embedded (its jobs, scheduler and model training are
    threads and CPU-bound work that would stall a gevent hub)."""
    production = bool(os.environ.get("DATABASE_URL"))
    mode = os.environ.get("SOCKETIO_ASYNC_MODE") or ("gevent" if production else "threading")
    if mode not in ("gevent", "threading") or (mode == "gevent" and not production):
        raise SystemExit(f"SOCKETIO_ASYNC_MODE={mode!r}: threading, or gevent in production mode (DATABASE_URL)")
    return mode


if __name__ == "__main__" and serving_async_mode() == "gevent":
    # Before any other import, and only in this serving process (not `flask worker`, the CLI or
    # tests): psycopg chooses a wait function gevent can switch on when it is imported, redis-py,
    # requests and SQLAlchemy's pool pick up the patched socket, select and locks.
    from gevent import monkey

    monkey.patch_all()

import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

from flask import Flask
from socketio import RedisManager

from inbox import errors, i18n, jobs, security, sockets  # noqa: F401  (sockets: handlers)
from inbox.cli import init_app as init_cli
from inbox.config import ROOT, load_config
from inbox.db import init_engine
from inbox.extensions import csrf, db, limiter, login_manager, migrate, socketio
from inbox.services import classification
from inbox.services.users import load_session_user


def create_app(config: dict[str, Any] | None = None) -> Flask:
    instance_path = Path(os.environ.get("TAWASUL_INSTANCE_PATH", ROOT / "instance")).resolve()
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "inbox" / "static"),
    )
    app.config.update(load_config(instance_path))
    app.config.update(config or {})

    db.init_app(app)
    init_engine(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    login_manager.user_loader(load_session_user)
    i18n.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    jobs.init_app(app)
    init_cli(app)
    # The manager is built here, per app: Flask-SocketIO would otherwise keep the first
    # app's message queue in its options for every later app of the process.
    redis_url = app.config["REDIS_URL"]
    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        cors_allowed_origins=app.config["SOCKETIO_ALLOWED_ORIGINS"],
        client_manager=RedisManager(redis_url, channel=app.config["SOCKETIO_CHANNEL"]) if redis_url else None,
    )

    from inbox.admin import bp as admin_bp
    from inbox.auth import bp as auth_bp
    from inbox.web import bp as web_bp
    from inbox.webhooks import bp as webhooks_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(web_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(webhooks_bp)
    classification.init_app(app)  # the active intent model, loaded once (none: no label)
    return app


def prepare_embedded(app: Flask) -> None:
    """Embedded first run: bring the schema up to date and seed the demo data."""
    from flask_migrate import upgrade

    from inbox.services.seed import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_demo

    with app.app_context():
        if app.config["RUN_MIGRATIONS_AT_START"]:
            upgrade()
        if app.config["SEED_DEMO"]:
            seed_demo(app.config["DEMO_INTERVAL_SECONDS"])
            print(f"Demo accounts (password: {DEMO_PASSWORD}):")
            for email, role, _name, _lang in DEMO_ACCOUNTS:
                print(f"  {role:<10} {email}")
            _train_first_model(app)


def _train_first_model(app: Flask) -> None:
    """A demo with no intent model it can load trains one from the shipped data (under a minute), so its
    conversations get intents without anyone running `flask routing train`. In a process of its
    own at low priority: training in a thread would hold the interpreter and stall the demo's
    jobs; the web process picks the new version up within INTENT_MODEL_CHECK_SECONDS."""
    from datetime import timedelta

    from inbox.models.base import utcnow
    from inbox.services import model_versions

    recent = utcnow() - timedelta(minutes=10)  # a first training cut short by a stop is retried
    if any(v.status == "training" and v.created_at > recent for v in model_versions.list_versions()):
        return
    # The active version is what classifies: one saved by an older release whose features differ
    # is refused, so the demo trains anew instead of answering "no label".
    active = model_versions.active_version()
    if active is not None and model_versions.files_problem(active) is None:
        return
    print("Training the intent model in the background (under a minute); new conversations get intents"
          " once it is ready.")
    command = [sys.executable, "-m", "flask", "--app", "app", "routing", "train", "--no-select",
               "--notes", "the first model, trained at the demo's first start"]
    subprocess.Popen(command, cwd=ROOT, preexec_fn=_low_priority_child)  # noqa: S603 (our own command)


def _low_priority_child() -> None:
    """In the child before exec: nice 10, and (on Linux) die with the server, so a demo stopped
    during its first training leaves no orphan holding a core (the next start retries it)."""
    os.nice(10)
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def main() -> None:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"))
    async_mode = serving_async_mode()
    app = create_app({"SOCKETIO_ASYNC_MODE": async_mode})
    prepare_embedded(app)
    if app.config["DEMO_TRAFFIC"]:
        from inbox.jobs.schedule import start_embedded_scheduler

        start_embedded_scheduler(app)
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    print(f"Tawasul is serving on http://{host}:{port} (Socket.IO {async_mode} mode)")
    if async_mode == "gevent":  # gevent's WSGI server, WebSocket through simple-websocket
        socketio.run(app, host=host, port=port, use_reloader=False, log_output=False)
    else:
        socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True, use_reloader=False)


if __name__ == "__main__":
    main()
