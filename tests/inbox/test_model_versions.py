"""The intent model's versions: trained, saved in a folder each, activated, rolled back,
refused when their files do not verify; the admins' models screen."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import create_app
from inbox.extensions import db
from inbox.models import AuditLog, ModelVersion
from inbox.models.base import utcnow
from inbox.services import classification, model_versions
from inbox.services.errors import InvalidInput
from routing.intent import verify_artifact
from tests import factories
from tests.conftest import _apps, jobs, login, post

BILL = "ليش فاتورتي هالشهر ٤٠ دينار وانا مشترك بحزمة ١٥؟"


def test_a_real_training_saves_a_signed_version_learns_the_agents_label_and_activates(real_training, splits):
    assert (real_training.status, real_training.error, real_training.versions) == ("ready", None, 1)
    # The first version is activated even when not asked to be: something must classify.
    assert real_training.active and real_training.active_id == real_training.id
    assert real_training.agent_labels == 1 and real_training.train_rows == len(splits.train) + 1
    metrics = real_training.metrics
    assert metrics["n"] == len(splits.test) and 0.6 < metrics["accuracy"] <= 1 and 0.6 < metrics["macro_f1"] <= 1
    assert set(metrics["by_lang"]) == {"ar", "en", "arabizi", "mixed"} and len(metrics["by_intent"]) == 13
    sidecar = verify_artifact(real_training.path, signing_key=real_training.key)
    assert real_training.path.name == real_training.version == sidecar["model_version"]
    assert sidecar["metrics"] == metrics and sidecar["n_train"] == real_training.train_rows
    assert real_training.model.predict(BILL).intent == "billing"


def test_without_a_version_every_text_gets_no_label(ctx):
    predictions, version_id = classification.classify_texts([BILL, "el net ba6ee2"])
    assert version_id is None and [p.intent for p in predictions] == [None, None]
    assert [p.lang for p in predictions] == ["ar", "arabizi"]


def test_trainings_make_versions_and_a_rollback_brings_an_earlier_one_back(ctx, world, quick_training):
    first = model_versions.train_new_version(activate=False)
    assert (first.status, first.active) == ("ready", True)  # the first is activated all the same
    second = model_versions.train_new_version()
    assert [v.id for v in model_versions.list_versions()] == [second.id, first.id]
    assert _active_ids() == [second.id] and first.directory != second.directory
    predictions, version_id = classification.classify_texts([BILL])
    assert version_id == second.id and predictions[0].intent == "billing"

    model_versions.activate_version(world.admin.id, first.id)  # roll back
    assert _active_ids() == [first.id]
    assert classification.classify_texts([BILL])[1] == first.id  # this process switches at once
    actions = db.session.execute(select(AuditLog.actor_id, AuditLog.action, AuditLog.target_id)
                                 .order_by(AuditLog.id)).all()
    assert actions == [(None, "model.activated", first.id), (None, "model.activated", second.id),
                       (world.admin.id, "model.activated", first.id)]
    assert model_versions.train_version(second.id).directory == second.directory  # its job ran twice
    assert len(quick_training) == 2 and db.session.query(ModelVersion).count() == 2


def test_a_version_whose_files_were_tampered_with_is_refused(app, ctx, world, quick_training, caplog):
    caplog.set_level("INFO")
    good = model_versions.train_new_version()
    bad = model_versions.train_new_version(activate=False)
    model_file = classification.version_path(bad.directory) / "model.pickle"
    model_file.write_bytes(model_file.read_bytes() + b"\0")
    with pytest.raises(InvalidInput, match="do not verify"):
        model_versions.activate_version(world.admin.id, bad.id)
    db.session.rollback()
    assert _active_ids() == [good.id]
    sidecar = classification.version_path(good.directory) / "model.json"
    db.session.commit()  # (on SQLite, a transaction open here would lock the next app out)

    # The active version's sidecar changed behind our back: at the next start it is refused.
    data = json.loads(sidecar.read_text("utf-8"))
    data["metrics"]["accuracy"] = 0.99
    sidecar.write_text(json.dumps(data), "utf-8")
    restarted = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    _apps.append(restarted)  # starts without raising, and answers "no label"
    with restarted.app_context():
        predictions, version_id = classification.classify_texts([BILL])
        assert version_id is None and predictions[0].intent is None
    assert "signature does not match" in caplog.text


def test_other_processes_see_an_activation_within_the_check_interval(app, ctx, quick_training):
    app.config["INTENT_MODEL_CHECK_SECONDS"] = 3600
    first = model_versions.train_new_version()
    second = model_versions.train_new_version(activate=False)
    assert classification.active_model()[1] == first.id
    # Another process activates the second version: this one keeps the first until it looks again.
    db.session.execute(ModelVersion.__table__.update().values(active=ModelVersion.id == second.id))
    db.session.commit()
    assert classification.active_model()[1] == first.id
    app.config["INTENT_MODEL_CHECK_SECONDS"] = 0
    classification.forget_checked()
    model, version_id = classification.active_model()
    assert version_id == second.id and model is not None
    assert classification.classify_texts([BILL])[1] == second.id


def test_a_failed_training_is_kept_on_its_version(ctx, monkeypatch):
    from routing import cli_support

    def broken(*args, **kwargs):
        raise MemoryError("no room")

    monkeypatch.setattr(cli_support, "train_and_evaluate", broken)
    version = model_versions.train_new_version()
    assert (version.status, version.active, version.error) == ("failed", False, "MemoryError: no room")
    with pytest.raises(InvalidInput, match="only a trained version"):
        model_versions.activate_version(None, version.id)


# ---- the admins' screen ------------------------------------------------------------------
def test_an_admin_retrains_from_the_models_screen_and_rolls_back(app, client, people, quick_training):
    login(client, people.admin.email)
    assert "No model trained yet" in client.get("/admin/models").get_data(as_text=True)
    assert "/admin/models" in client.get("/admin/").get_data(as_text=True)
    assert post(client, "/admin/models/train", {"activate": "1", "notes": "first"}).status_code == 303
    jobs(app).drain(timeout=60)
    assert post(client, "/admin/models/train", {}).status_code == 303  # not activated when trained
    jobs(app).drain(timeout=60)
    with app.app_context():
        first, second = db.session.scalars(select(ModelVersion).order_by(ModelVersion.id)).all()
        assert (first.status, first.active, first.created_by_id, first.notes) == (
            "ready", True, people.admin.id, "first")
        assert (second.status, second.active) == ("ready", False)
        second_id, second_version = second.id, second.version
    page = client.get("/admin/models").get_data(as_text=True)
    assert second_version in page and page.count('data-testid="active-badge"') == 1
    assert f'data-testid="activate-{second_id}"' in page

    response = post(client, f"/admin/models/{second_id}/activate")
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/models")
    with app.app_context():
        assert _active_ids() == [second_id]
        actions = [a for (a,) in db.session.execute(select(AuditLog.action).where(AuditLog.actor_id == people.admin.id)
                                                    .order_by(AuditLog.id))]
    assert actions == ["model.training_requested", "model.activated", "model.training_requested", "model.activated"]


def test_only_one_training_at_a_time(ctx, monkeypatch):
    from inbox.jobs import tasks
    from inbox.jobs.queue import backend

    queued = []
    monkeypatch.setattr(backend(), "enqueue", lambda func, *args, **options: queued.append((func, args)))
    admin = factories.user("admin@example.com", role="admin")
    lost = ModelVersion(status="training", created_at=utcnow() - timedelta(hours=1))  # its worker died
    db.session.add(lost)
    db.session.commit()
    version = model_versions.request_training(admin, activate=False)
    assert queued == [(tasks.train_intent_model, (version.id, False))] and version.status == "training"
    assert lost.status == "failed" and "never finished" in lost.error
    with pytest.raises(InvalidInput, match="being trained"):
        model_versions.request_training(admin)


def test_only_admins_reach_the_models_screen_and_only_with_the_csrf_token(app, people):
    for who in (people.agent_a, people.supervisor):
        client = app.test_client()
        login(client, who.email)
        assert client.get("/admin/models").status_code == 403
        assert post(client, "/admin/models/train", {"activate": "1"}).status_code == 403
        assert post(client, "/admin/models/1/activate").status_code == 403
    admin = app.test_client()
    login(admin, people.admin.email)
    assert admin.post("/admin/models/train", data={"activate": "1"}).status_code == 400
    assert post(admin, "/admin/models/99/activate").status_code == 404
    with app.app_context():
        assert db.session.query(ModelVersion).count() == 0


def _active_ids() -> list[int]:
    return list(db.session.scalars(select(ModelVersion.id).where(ModelVersion.active.is_(True))))


def test_the_demo_trains_anew_unless_a_version_it_can_load_exists(app, ctx, quick_training, monkeypatch):
    """A demo's first start trains a model; a later start does not, unless the versions it has
    were saved by a release whose features differ (the classifier refuses them)."""
    import app as app_module

    started = []
    monkeypatch.setattr(app_module.subprocess, "Popen", lambda command, **_: started.append(command))
    app_module._train_first_model(app)
    assert len(started) == 1 and started[0][started[0].index("routing"):][:3] == ["routing", "train", "--no-select"]
    version = model_versions.train_new_version()
    db.session.commit()
    app_module._train_first_model(app)
    assert len(started) == 1  # this release loads the version it has
    sidecar = classification.version_path(version.directory) / "model.json"
    data = json.loads(sidecar.read_text("utf-8"))
    data["features_version"] -= 1
    sidecar.write_text(json.dumps(data), "utf-8")
    assert "version" in model_versions.files_problem(version)
    app_module._train_first_model(app)
    assert len(started) == 2
