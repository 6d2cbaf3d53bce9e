from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from inbox.config import load_config
from inbox.extensions import db
from inbox.models import Message
from inbox.services import users
from inbox.services.errors import InvalidInput
from tests import factories


def test_a_message_id_is_unique_per_channel(world):
    first = factories.receive(world.channel_a.id, external_id="m-1")
    db.session.add(Message(conversation_id=first.conversation_id, channel_id=world.channel_a.id,
                           external_id="m-1", direction="in", text="again"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    # The same platform id on another channel is another message.
    assert factories.receive(world.channel_b.id, external_id="m-1")


def test_passwords_are_hashed_and_checked(ctx):
    user = factories.user("a@example.com")
    assert factories.PASSWORD not in user.password_hash
    assert users.authenticate("A@Example.com ", factories.PASSWORD) == user
    assert users.authenticate("a@example.com", "wrong-password") is None


def test_a_deployment_hashes_passwords_with_scrypt_and_old_hashes_still_sign_in(ctx, monkeypatch):
    cheap = factories.user("cheap@example.com")  # the suite's cheap method
    monkeypatch.delenv("PASSWORD_HASH_METHOD")
    assert load_config(Path(ctx.instance_path))["PASSWORD_HASH_METHOD"] == "scrypt"
    ctx.config["PASSWORD_HASH_METHOD"] = "scrypt"
    strong = factories.user("strong@example.com")
    assert strong.password_hash.startswith("scrypt:") and not cheap.password_hash.startswith("scrypt:")
    assert users.authenticate("strong@example.com", factories.PASSWORD) == strong
    assert users.authenticate("cheap@example.com", factories.PASSWORD) == cheap


def test_the_login_cookie_id_changes_when_sessions_end(ctx):
    user = factories.user("a@example.com")
    old = user.get_id()
    assert users.load_session_user(old) == user
    users.end_sessions(user)
    assert users.load_session_user(old) is None
    assert users.load_session_user(user.get_id()) == user
    assert users.load_session_user("garbage") is None


def test_create_user_rejects_bad_input(ctx):
    factories.user("a@example.com")
    for kwargs in ({"email": "a@example.com"}, {"email": "no-at-sign"}, {"email": "b@example.com", "password": "short"},
                   {"email": "c@example.com", "role": "root"}):
        args = {"password": factories.PASSWORD, **kwargs}
        with pytest.raises(InvalidInput):
            users.create_user(args.pop("email"), args.pop("password"), **args)
