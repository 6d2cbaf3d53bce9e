"""Deployment settings, read from the environment.

Two run modes (see DESIGN.md): *embedded* when ``DATABASE_URL`` is unset (SQLite in
``instance/``, in-process jobs, demo traffic, demo accounts) and *production* when it is set.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _normalise_database_url(url: str) -> str:
    """Use psycopg 3 for ``postgresql://`` URLs (the form most platforms hand out)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _secret_key(instance_path: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_config(instance_path: Path) -> dict:
    """Build the config mapping from the environment for the given instance folder."""
    database_url = os.environ.get("DATABASE_URL")
    embedded = not database_url
    if embedded:
        instance_path.mkdir(parents=True, exist_ok=True)
        database_url = f"sqlite:///{instance_path / 'tawasul.db'}"
    redis_url = os.environ.get("REDIS_URL") or None
    origins = os.environ.get("SOCKETIO_ALLOWED_ORIGINS")
    if origins and "*" in origins:
        raise ValueError("SOCKETIO_ALLOWED_ORIGINS may not be '*': list the origins (RELIABILITY.md case 17)")
    return {
        "EMBEDDED": embedded,
        "SECRET_KEY": _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": _normalise_database_url(database_url),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": redis_url,
        "CREDENTIALS_KEY": os.environ.get("CREDENTIALS_KEY"),  # a Fernet key; derived from SECRET_KEY if unset
        # The address platforms call back, for the webhook URLs shown to admins.
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "").rstrip("/") or None,
        # Same-origin only unless origins are listed; never "*" (see RELIABILITY.md case 17).
        "SOCKETIO_ALLOWED_ORIGINS": [o.strip() for o in origins.split(",")] if origins else None,
        # Explicit, never auto-detected. threading for every app built here (tests, CLI, `flask worker`);
        # `python app.py` serves production in gevent mode, monkey-patched first (app.serving_async_mode).
        "SOCKETIO_ASYNC_MODE": "threading",
        # Redis pub/sub ignores database numbers: installs sharing a Redis server need their own channel.
        "SOCKETIO_CHANNEL": os.environ.get("SOCKETIO_CHANNEL", "tawasul-socketio"),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute"),
        # werkzeug's method for new password hashes; the tests set a cheap one (a scrypt hash is
        # ~80 ms, and the suite creates thousands of users). Stored hashes name their own method.
        "PASSWORD_HASH_METHOD": os.environ.get("PASSWORD_HASH_METHOD", "scrypt"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE", not embedded),
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session, which we can revoke
        "BABEL_TRANSLATION_DIRECTORIES": str(ROOT / "inbox" / "translations"),
        "LANGUAGES": ("ar", "en"),
        "DEFAULT_TIMEZONE": "Asia/Amman",
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "INTENT_MODEL_DIR": os.environ.get("INTENT_MODEL_DIR", str(instance_path / "models" / "intent")),
        "SEED_DEMO": _flag("SEED_DEMO", embedded),
        "DEMO_TRAFFIC": _flag("DEMO_TRAFFIC", embedded),
        "DEMO_INTERVAL_SECONDS": float(os.environ.get("DEMO_INTERVAL_SECONDS", "6")),
        "QUEUE_PAGE_SIZE": int(os.environ.get("QUEUE_PAGE_SIZE", "50")),  # rows per page (inbox/services/queue.py)
        "RUN_MIGRATIONS_AT_START": _flag("RUN_MIGRATIONS_AT_START", embedded),
        "JOB_TIMEOUT_SECONDS": 60,
        # Training a model version takes about a minute on 2 cores (more when they are busy).
        "TRAINING_JOB_TIMEOUT_SECONDS": 900,
        "JOB_QUEUE": os.environ.get("JOB_QUEUE", "default"),  # the rq queue the app fills and workers drain
        "WORKER_NICENESS": int(os.environ.get("WORKER_NICENESS", "5")),  # `flask worker` yields the CPU to web
        # The sweeper re-queues stored events and queued replies whose job was lost this long.
        "SWEEP_RAW_EVENT_GRACE_SECONDS": float(os.environ.get("SWEEP_RAW_EVENT_GRACE_SECONDS", "30")),
        "SWEEP_QUEUED_GRACE_SECONDS": float(os.environ.get("SWEEP_QUEUED_GRACE_SECONDS", "60")),
        "JOB_RETRY_INTERVALS": [5, 15, 60, 300, 900],
        # An online agent with no key or mouse on the page this long is away (back on activity).
        "AUTO_AWAY_MINUTES": float(os.environ.get("AUTO_AWAY_MINUTES", "10")),
    }
