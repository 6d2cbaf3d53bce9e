from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from sqlalchemy import create_engine, text

from app import create_app
from inbox.extensions import db
from tests import factories
from tests.services import POSTGRES_BASE_URL, POSTGRES_SCHEMA, POSTGRES_URL, available, require

TRANSLATIONS = Path(__file__).resolve().parent.parent / "inbox" / "translations"

# A real training on the shipped data (about 30,000 messages) takes most of a minute on a quiet
# machine and can take twice that on a shared CI host. Its two-minute budget is measured by
# bench/classify.py, not by a timeout, so the tests that train (through these session fixtures,
# which the first test to ask for them pays for, or marked ``trains``) get more room than the
# 120 s every other test has.
TRAINING_TIMEOUT_SECONDS = 400
_TRAINING_FIXTURES = {"real_training", "trained"}


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("trains") or _TRAINING_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.timeout(TRAINING_TIMEOUT_SECONDS))


@pytest.fixture(scope="session", autouse=True)
def _compiled_catalogs():
    """`make test` compiles the catalogs; this keeps a bare `pytest` run honest too."""
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as source, mo.open("wb") as target:
                write_mo(target, read_po(source))


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashes():
    """A deployment hashes with scrypt (~80 ms each; tests/inbox/test_models.py checks it); the
    suite creates thousands of users, so it hashes with a cheap method unless told otherwise."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PASSWORD_HASH_METHOD", os.environ.get("PASSWORD_HASH_METHOD", "pbkdf2:sha256:1000"))
        yield


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch, tmp_path):
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "SOCKETIO_ALLOWED_ORIGINS", "LOGIN_RATE_LIMIT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TAWASUL_INSTANCE_PATH", str(tmp_path / "instance"))


def reset_postgres() -> None:
    with db.engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {POSTGRES_SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {POSTGRES_SCHEMA}"))


@pytest.fixture(scope="session", autouse=True)
def _drop_postgres_schema():
    yield
    if available("postgresql"):
        engine = create_engine(POSTGRES_BASE_URL)
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {POSTGRES_SCHEMA} CASCADE"))
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "postgresql":
        require("postgresql")
        return POSTGRES_URL
    return f"sqlite:///{tmp_path / 'test.db'}"


_apps: list = []


def make_app(database_url: str, **config):
    """A test app on a fresh schema; closed at the end of the test that made it."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url,
                      "IN_PROCESS_RETRY_INTERVALS": [0.05, 0.1], **config})
    _apps.append(app)
    with app.app_context():
        if database_url.startswith("postgresql"):
            reset_postgres()
        db.create_all()
    return app


@pytest.fixture(autouse=True)
def _close_apps():
    yield
    while _apps:
        app = _apps.pop()
        backend = jobs(app)
        if hasattr(backend, "drain"):
            backend.drain()
        else:
            backend.connection.close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(database_url):
    return make_app(database_url)


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


def jobs(app):
    return app.extensions["tawasul_jobs"]


@pytest.fixture
def client(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # signed-out pages; users carry their own
    return client


@pytest.fixture
def world(ctx):
    """Two teams, an agent in each, a supervisor, an admin, and a demo channel per team."""
    return factories.world()


@pytest.fixture
def people(app):
    """The same world for HTTP and socket tests, as plain ids: a test that sends requests
    must not hold an app context open, or requests would share its `g` (user, locale)."""
    with app.app_context():
        return factories.refs(factories.world())


def csrf_token(client, path: str = "/login") -> str:
    response = client.get(path)
    if response.status_code == 302:  # signed out: the sign-in page has a token too
        response = client.get("/login")
    page = response.get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def login(client, email: str, password: str = factories.PASSWORD):
    token = csrf_token(client)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def post(client, path: str, data: dict | None = None, **kwargs):
    """A form POST carrying the CSRF token, as the browser sends it."""
    token = csrf_token(client, "/")
    return client.post(path, data={"csrf_token": token, **(data or {})}, **kwargs)
