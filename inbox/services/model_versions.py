"""The intent model's versions: train one (from the CLI, or as a job an admin asks for),
activate one (the first trained, a new one, or an earlier one to roll back), list them.

Each version's files live in their own folder of INTENT_MODEL_DIR, signed with the key derived
from SECRET_KEY; a version is activated only when its files verify. Training reads the shipped
data's train split plus the agents' corrections (the latest IntentLabel per conversation) and
is scored on the shipped test split alone, so versions compare like for like.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update

from inbox.extensions import db
from inbox.jobs import enqueue
from inbox.models import AuditLog, IntentLabel, ModelVersion, User
from inbox.models.base import utcnow
from inbox.services import classification
from inbox.services.errors import InvalidInput, NotFound
from routing.intent import ArtifactError, save_model, verify_artifact

log = logging.getLogger(__name__)

# A version still "training" after this long was lost (a killed worker): a new one may start.
TRAINING_STALE_AFTER = timedelta(minutes=30)


def list_versions() -> list[ModelVersion]:
    """Newest first."""
    return list(db.session.scalars(select(ModelVersion).order_by(ModelVersion.id.desc())))


def active_version() -> ModelVersion | None:
    return db.session.scalar(select(ModelVersion).where(ModelVersion.active.is_(True)))


def labelled_conversations() -> int:
    """How many conversations an agent has labelled: the rows the next training adds."""
    return db.session.scalar(select(func.count(func.distinct(IntentLabel.conversation_id)))) or 0


def request_training(actor: User, *, activate: bool = True, notes: str | None = None) -> ModelVersion:
    """An admin's "Retrain": a version in state ``training`` now, the training as a job (which
    may take a minute). Refused while another training is under way."""
    stale_before = utcnow() - TRAINING_STALE_AFTER
    running = db.session.scalar(select(ModelVersion).where(
        ModelVersion.status == "training", ModelVersion.created_at > stale_before))
    if running is not None:
        raise InvalidInput("a model is being trained already: wait for it to finish")
    db.session.execute(update(ModelVersion)
                       .where(ModelVersion.status == "training", ModelVersion.created_at <= stale_before)
                       .values(status="failed", error="its training never finished (was the worker stopped?)"))
    version = ModelVersion(status="training", created_by_id=actor.id, notes=(notes or "").strip()[:500] or None)
    db.session.add(version)
    db.session.flush()
    db.session.add(AuditLog(actor_id=actor.id, action="model.training_requested", target_type="model_version",
                            target_id=version.id, data={"activate": activate}))
    db.session.commit()
    enqueue("train_intent_model", version.id, activate,
            timeout=current_app.config["TRAINING_JOB_TIMEOUT_SECONDS"])
    return version


def train_new_version(*, select_config: bool = False, activate: bool = True, with_labels: bool = True,
                      notes: str | None = None) -> ModelVersion:
    """Train now, in this process (``flask routing train``); returns the version, ready or
    failed."""
    version = ModelVersion(status="training", notes=notes or None)
    db.session.add(version)
    db.session.commit()
    return train_version(version.id, activate=activate, select_config=select_config, with_labels=with_labels)


def train_version(version_id: int, *, activate: bool = True, select_config: bool = False,
                  with_labels: bool = True) -> ModelVersion | None:
    """Train the version ``version_id`` stands for, save and verify its files, record its
    metrics; activate it if asked or if no version is active. Safe to run twice: a version
    already trained is left as it is. A failure is recorded on the version, not raised."""
    from routing.cli_support import train_and_evaluate

    version = db.session.get(ModelVersion, version_id)
    if version is None or version.status == "ready":
        return version
    extra_rows = agent_label_rows() if with_labels else []
    # Training takes a while: hold no transaction (on SQLite, no write lock) meanwhile.
    db.session.rollback()
    try:
        model, metrics = train_and_evaluate(select=select_config, extra_rows=extra_rows)
        directory = model.info["model_version"]
        path = classification.version_path(directory)
        save_model(model, path, metrics=metrics, signing_key=classification.signing_key())
        verify_artifact(path, signing_key=classification.signing_key())
    except Exception as error:  # recorded where the admin looks; the job itself ends
        log.exception("training intent model version %s failed", version_id)
        db.session.rollback()
        version = db.session.get(ModelVersion, version_id)
        version.status, version.error = "failed", f"{type(error).__name__}: {error}"[:2000]
        db.session.commit()
        return version
    version = db.session.get(ModelVersion, version_id)
    version.version, version.directory, version.metrics = directory, directory, metrics
    version.config = model.config.name
    version.train_rows, version.agent_labels = int(model.info["n_train"]), int(model.info.get("n_extra", 0))
    version.status, version.error, version.trained_at = "ready", None, utcnow()
    db.session.commit()
    if activate or active_version() is None:
        activate_version(version.created_by_id, version.id)
    return version


def agent_label_rows() -> list[dict]:
    """The latest label of each labelled conversation, as training rows. Agents label the
    intent only: sentiment and urgency come from the active model (neutral and not urgent
    without one), so the other heads learn nothing new from these rows but lose nothing."""
    latest = select(func.max(IntentLabel.id)).group_by(IntentLabel.conversation_id)
    labels = list(db.session.scalars(select(IntentLabel).where(IntentLabel.id.in_(latest)).order_by(IntentLabel.id)))
    predictions, _ = classification.classify_texts([label.text for label in labels])
    return [
        {"id": f"label-{label.id}", "text": label.text, "intent": label.intent, "lang": p.lang,
         "sentiment": p.sentiment or "neutral", "urgent": p.urgent}
        for label, p in zip(labels, predictions, strict=True)
    ]


def files_problem(version: ModelVersion) -> str | None:
    """Why this code cannot load ``version``'s files (tampered with, missing, or made by an older
    release whose features differ), or None when they verify."""
    try:
        verify_artifact(classification.version_path(version.directory or ""), signing_key=classification.signing_key())
    except (ArtifactError, ValueError) as error:
        return str(error)
    return None


def activate_version(actor_id: int | None, version_id: int) -> ModelVersion:
    """Make ``version_id`` the one that classifies (a new version, or an earlier one to roll
    back to), if its files verify; audited. Every process switches within
    INTENT_MODEL_CHECK_SECONDS, this one at once."""
    version = db.session.get(ModelVersion, version_id)
    if version is None:
        raise NotFound("model version")
    if version.status != "ready":
        raise InvalidInput("only a trained version can be activated")
    problem = files_problem(version)
    if problem is not None:
        raise InvalidInput(f"the files of version {version.version} do not verify: {problem}")
    if version.active:
        return version
    # Lock every version row (PostgreSQL; SQLite's BEGIN IMMEDIATE serialises already), so two
    # activations at once leave exactly one active.
    previous = db.session.scalars(select(ModelVersion).with_for_update()).all()
    previous_id = next((v.id for v in previous if v.active), None)
    db.session.execute(update(ModelVersion).where(ModelVersion.active.is_(True)).values(active=False))
    version.active, version.activated_at = True, utcnow()
    db.session.add(AuditLog(actor_id=actor_id, action="model.activated", target_type="model_version",
                            target_id=version.id, data={"version": version.version, "previous_id": previous_id}))
    db.session.commit()
    classification.forget_checked()
    return version
