"""The intent model's versions and the agents' corrections that train the next one."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inbox.extensions import db
from inbox.models.base import utcnow

# training -> ready (its files saved and verified) or failed (``error`` says why).
MODEL_STATUSES = ("training", "ready", "failed")


class ModelVersion(db.Model):
    """One trained intent model: its files under INTENT_MODEL_DIR/<directory>, how it scored on
    the shipped test split, and what it was trained on. At most one is active (a partial unique
    index); the services keep exactly one active once any is ready."""

    __tablename__ = "model_versions"
    __table_args__ = (
        Index("uq_model_versions_active", "active", unique=True,
              sqlite_where=text("active"), postgresql_where=text("active")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The artifact's own version (``intent-<UTC time>-<random>``), known once trained.
    version: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="training")
    active: Mapped[bool] = mapped_column(default=False)
    # A folder name inside INTENT_MODEL_DIR, never a path: the folder may move with the instance.
    directory: Mapped[str | None] = mapped_column(String(128))
    # evaluate() on the test split: accuracy, macro_f1, n, by_lang, by_intent, confidence, …
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    config: Mapped[str | None] = mapped_column(String(128))  # the model configuration's name
    train_rows: Mapped[int] = mapped_column(default=0)  # every row trained on, agent labels included
    agent_labels: Mapped[int] = mapped_column(default=0)  # of which agents' corrections
    notes: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    trained_at: Mapped[datetime | None]
    activated_at: Mapped[datetime | None]

    created_by = relationship("User")

    @property
    def accuracy(self) -> float | None:
        return (self.metrics or {}).get("accuracy")

    @property
    def macro_f1(self) -> float | None:
        return (self.metrics or {}).get("macro_f1")


class IntentLabel(db.Model):
    """An agent's answer to "what does this customer mainly want": the conversation's intent
    from then on, and a training row for the next model (the latest per conversation wins)."""

    __tablename__ = "intent_labels"
    __table_args__ = (Index("ix_intent_labels_conversation_id_id", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text, default="")  # the customer's words as they were labelled
    intent: Mapped[str] = mapped_column(String(32))
    previous_intent: Mapped[str | None] = mapped_column(String(32))
    previous_confidence: Mapped[float | None]
    # The model that gave the previous intent (None: no model, or a person gave it).
    model_version_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id", ondelete="SET NULL"))
    labelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    labelled_by = relationship("User")
    model_version = relationship("ModelVersion")
