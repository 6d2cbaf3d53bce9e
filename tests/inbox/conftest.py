"""Fixtures for the intent model's life in the product: one real training per session, and a
quick stand-in for the tests that only need versions to exist."""
from __future__ import annotations

import copy
import uuid
from types import SimpleNamespace

import pytest

from app import create_app
from inbox.extensions import db
from inbox.models import ModelVersion
from inbox.services import classification, model_versions
from routing import cli_support
from routing.intent.data import DATA_PATH, load_split
from tests import factories

# A message the shipped data does not hold (nor its test split), corrected by an agent.
LABELLED_TEXT = "wen bala2i 7azmet el roaming la turkiya? msafer ba3d bokra w bdi afa3elha abel"


@pytest.fixture(scope="session")
def splits():
    train, test = load_split("train"), load_split("test")
    return SimpleNamespace(train=train, test=test, labels={row["intent"] for row in train})


@pytest.fixture(scope="session")
def real_training(tmp_path_factory):
    """`flask routing train`'s path once, for real, on SQLite: an agent corrects one
    conversation, then a version is trained (without cross-validation) and saved. What the
    version recorded, and its model, for the tests to check and to reuse."""
    base = tmp_path_factory.mktemp("real-training")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TAWASUL_INSTANCE_PATH", str(base / "instance"))
        for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY"):
            env.delenv(name, raising=False)
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{base / 'db.sqlite'}"})
        with app.app_context():
            db.create_all()
            world = factories.world()
            got = factories.receive(world.channel_a.id, text=LABELLED_TEXT)
            classification.correct_intent(world.agent_a, got.conversation_id, "roaming")
            version = model_versions.train_new_version(select_config=False, activate=False)
            model, active_id = classification.active_model()
            facts = SimpleNamespace(
                status=version.status, error=version.error, active=version.active, id=version.id,
                version=version.version, train_rows=version.train_rows, agent_labels=version.agent_labels,
                metrics=version.metrics, config=version.config, active_id=active_id, model=model,
                path=classification.version_path(version.directory), key=classification.signing_key(),
                versions=db.session.query(ModelVersion).count(),
            )
            app.extensions["tawasul_jobs"].drain()
            db.session.remove()
            db.engine.dispose()
    return facts


@pytest.fixture
def quick_training(monkeypatch, real_training, splits):
    """Training without its minute: the session's real model under a new version name, with the
    counts the real trainer reports for the rows it is given (its own filter decides which
    count). Returns the list of agent rows each training received."""
    received: list[list[dict]] = []

    def train_and_evaluate(data_path=DATA_PATH, *, select=False, extra_rows=()):
        received.append(list(extra_rows))
        extra = cli_support.usable_extra_rows(extra_rows, splits.labels, splits.test)
        model = copy.copy(real_training.model)  # the fitted parts shared: nothing changes them
        model.info = {**model.info, "model_version": f"intent-test-{uuid.uuid4().hex[:12]}",
                      "n_train": len(splits.train) + len(extra), "n_extra": len(extra)}
        return model, real_training.metrics

    monkeypatch.setattr(cli_support, "train_and_evaluate", train_and_evaluate)
    return received
