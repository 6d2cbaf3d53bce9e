"""The intent model inside the product: which version answers, classifying with it, and an
agent correcting what it said.

``classify_texts`` is what ingest calls: the active version's predictions and that version's
id, so every decision can say which model made it and how sure it was. The model is loaded
once per process (at start, by ``init_app``) and kept; at most every
INTENT_MODEL_CHECK_SECONDS one small query asks which version is active, and a new one is
loaded when it changed. No active version, or files that do not verify, and every text gets
"no label" (routing falls back to its rules): classifying never raises for want of a model.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from inbox import realtime
from inbox.extensions import db
from inbox.models import Conversation, ConversationEvent, IntentLabel, Message, ModelVersion, User
from inbox.services.conversations import get_conversation
from inbox.services.errors import InvalidInput
from routing.intent import MAX_CHARS, IntentModel, Prediction, classify_many, load_model
from routing.labels import INTENTS

log = logging.getLogger(__name__)

EXTENSION = "tawasul_intent_model"
# An agent's label is certain: the conversation's confidence says so, and its model version is
# None (the intent_corrected event names the person).
CORRECTED_CONFIDENCE = 1.0


def signing_key() -> bytes:
    """Model files are signed with a key derived from SECRET_KEY: only our own files load."""
    return hashlib.sha256(b"tawasul-model:" + current_app.config["SECRET_KEY"].encode()).digest()


def model_root() -> Path:
    return Path(current_app.config["INTENT_MODEL_DIR"])


def version_path(directory: str) -> Path:
    """The folder of a version's files (``ModelVersion.directory`` is a name, not a path)."""
    if not directory or Path(directory).name != directory or directory.startswith("."):
        raise ValueError(f"not a model folder name: {directory!r}")
    return model_root() / directory


class _ModelCache:
    """This process's model. ``current`` is swapped whole, so readers never see half of it."""

    def __init__(self) -> None:
        self.current: tuple[IntentModel | None, int | None] = (None, None)
        self.tried_id: int | None = None  # the version last loaded, or refused
        self.next_check = 0.0  # time.monotonic() of the next look at which version is active
        self.refreshing = threading.Lock()


def init_app(app: Flask) -> None:
    """Load the active model at start, so that the first message does not wait for it (and
    forked rq work-horses inherit it). A missing table, version or file is logged, not raised."""
    app.config.setdefault("INTENT_MODEL_CHECK_SECONDS", 15.0)
    app.extensions[EXTENSION] = cache = _ModelCache()
    with app.app_context():
        try:
            refresh()
        finally:
            db.session.remove()
    cache.next_check = 0.0  # the first use checks again: the database may have changed since


def _cache() -> _ModelCache:
    return current_app.extensions[EXTENSION]


def active_model() -> tuple[IntentModel | None, int | None]:
    """The active version's model and id, or (None, None). Cheap: a look at the database at
    most every INTENT_MODEL_CHECK_SECONDS, a load only when the active version changed. While
    another thread looks, this one answers with what is loaded (it never waits on a lock while
    its own transaction may hold SQLite's write lock)."""
    cache = _cache()
    if time.monotonic() >= cache.next_check and cache.refreshing.acquire(blocking=False):
        try:
            _refresh(cache)
        finally:
            cache.refreshing.release()
    return cache.current


def refresh() -> tuple[IntentModel | None, int | None]:
    """Look at which version is active now (after an activation, or from a worker's parent
    process between jobs) and load it if it changed."""
    cache = _cache()
    with cache.refreshing:
        _refresh(cache)
    return cache.current


def forget_checked() -> None:
    """The next ``active_model`` looks at the database again (this process activated a version)."""
    _cache().next_check = 0.0


def _refresh(cache: _ModelCache) -> None:
    cache.next_check = time.monotonic() + float(current_app.config["INTENT_MODEL_CHECK_SECONDS"])
    try:
        # Core through the session's connection: no autoflush of the caller's pending rows.
        row = db.session.connection().execute(
            select(ModelVersion.id, ModelVersion.directory).where(ModelVersion.active.is_(True))
        ).first()
    except SQLAlchemyError as error:
        log.info("active intent model unknown (%s): keeping %s", type(error).__name__, cache.current[1])
        return
    if row is None:
        cache.current, cache.tried_id = (None, None), None
        return
    if row.id == cache.tried_id:
        return
    model = _load(row.id, row.directory)
    cache.tried_id = row.id
    cache.current = (model, row.id) if model is not None else (None, None)


def _load(version_id: int, directory: str | None) -> IntentModel | None:
    try:
        path = version_path(directory or "")
    except ValueError as error:
        log.warning("intent model version %s not loaded: %s", version_id, error)
        return None
    model = load_model(path, signing_key=signing_key())  # logs why when it refuses
    if model is not None:
        log.info("intent model version %s loaded from %s", version_id, path)
    return model


def classify_texts(texts: list[str]) -> tuple[list[Prediction], int | None]:
    """One Prediction per text, in order, and the id of the model version that made them
    (None: no model, every prediction is "no label"). Reads only; never raises for want of a
    model."""
    model, version_id = active_model()
    return classify_many(model, texts), version_id


def customer_words(conversation_id: int) -> str:
    """What the customer wrote in the conversation (not what they deleted), from the start, up
    to the length the classifier reads: the text an intent label is about."""
    texts = db.session.scalars(
        select(Message.text)
        .where(Message.conversation_id == conversation_id, Message.direction == "in",
               Message.deleted_at.is_(None), Message.text != "")
        .order_by(Message.id)
        .limit(20)
    )
    return "\n".join(texts)[:MAX_CHARS]


def correct_intent(user: User, conversation_id: int, intent: str) -> Conversation:
    """An agent says what the customer mainly wants: the conversation takes that intent (with
    confidence 1.0 and no model version), an IntentLabel keeps the customer's words for the
    next training, and an ``intent_corrected`` event records from, to, the model that said
    "from" and who corrected it. NotFound when the user may not see the conversation."""
    if intent not in INTENTS:
        raise InvalidInput(f"intent must be one of {', '.join(INTENTS)}")
    conversation = get_conversation(user, conversation_id)
    if (conversation.intent == intent and conversation.intent_model_version_id is None
            and conversation.intent_confidence == CORRECTED_CONFIDENCE):
        return conversation  # already a person's label: a second click adds nothing
    before = {"from": conversation.intent, "confidence": conversation.intent_confidence,
              "model_version_id": conversation.intent_model_version_id}
    db.session.add(IntentLabel(
        conversation_id=conversation.id, text=customer_words(conversation.id), intent=intent,
        previous_intent=before["from"], previous_confidence=before["confidence"],
        model_version_id=before["model_version_id"], labelled_by_id=user.id,
    ))
    db.session.add(ConversationEvent(conversation=conversation, actor_id=user.id, kind="intent_corrected",
                                     data={**before, "to": intent, "by": user.id}))
    conversation.intent = intent
    conversation.intent_confidence = CORRECTED_CONFIDENCE
    conversation.intent_model_version_id = None
    db.session.commit()
    realtime.conversation_updated(conversation)
    return conversation
