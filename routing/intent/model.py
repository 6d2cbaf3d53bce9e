"""Predicting with a trained intent model: what the rest of Tawasul calls.

An ``IntentModel`` holds fitted features and three linear heads that share them: intent (13
labels), sentiment (negative / neutral / positive) and urgency (a rule-assisted binary model).
Without a model (none trained, or ``artifact.load_model`` refused the file) ``classify(None,
text)`` answers "no label" (intent None, confidence 0.0), so routing falls back to its rules
without a special case.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from routing.intent.config import ModelConfig
from routing.intent.features import ArabiziReader, FastFeatures
from routing.intent.heads import LinearHead
from routing.intent.urgency import rule_says_urgent
from routing.language import detect_language
from routing.normalize import normalize_for_model

# Longer messages are cut before anything reads them: the longest training message has 207
# characters, and a bound keeps every prediction fast whatever a sender posts.
MAX_CHARS = 1000
_CHUNK = 512  # texts scored together: bounds the memory of one pass (features × heads)


@dataclass(frozen=True)
class Prediction:
    intent: str | None  # None: no label (no model, or nothing to read): triage and rules decide
    confidence: float  # probability of ``intent``, 0.0 without a label
    lang: str  # ar | en | arabizi | mixed, by routing.language's rules
    sentiment: str | None  # negative | neutral | positive
    urgent: bool


@dataclass
class IntentModel:
    """Three heads over shared features, and what the artifact's sidecar records about them.
    Built by ``train.train_model``; saved and loaded by ``artifact``."""

    features: FastFeatures  # normalised text → sparse TF-IDF blocks
    intent: LinearHead
    sentiment: LinearHead
    urgent: LinearHead | None  # None when the rules alone decide urgency
    config: ModelConfig
    urgent_mode: str = "model"  # "model" | "rules"
    urgent_threshold: float = 0.5
    info: dict = field(default_factory=dict)  # version, created_at, data hash, CV results, metrics
    reader: ArabiziReader | None = None  # rewrites a normalised text before the features (None: models before it)
    _weights: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def labels(self) -> list[str]:
        return [str(label) for label in self.intent.classes]

    @property
    def sentiment_labels(self) -> list[str]:
        return [str(label) for label in self.sentiment.classes]

    def predict(self, text: str) -> Prediction:
        return self.predict_many([text])[0]

    def predict_many(self, texts: Sequence[str]) -> list[Prediction]:
        """One Prediction per text, in order. A text with nothing to read (empty, spaces,
        punctuation only) gets no label; anything else gets one, however odd."""
        prepared = [_prepare(text) for text in texts]
        results = [_no_label(raw) for raw, _ in prepared]
        readable = [i for i, (_, normalized) in enumerate(prepared) if normalized]
        for start in range(0, len(readable), _CHUNK):
            chunk = readable[start : start + _CHUNK]
            self._predict_chunk([prepared[i][1] for i in chunk], chunk, results)
        return results

    def _predict_chunk(self, normalized: list[str], positions: list[int], results: list[Prediction]) -> None:
        read = normalized if self.reader is None else list(map(self.reader, normalized))
        products = self.features.scores(read, self._stacked_weights())
        k, s = len(self.intent.classes), len(self.intent.classes) + len(self.sentiment.classes)
        intent = self.intent.proba(products[:, :k])
        best = intent.argmax(axis=1)
        sentiment = self.sentiment.classes[self.sentiment.proba(products[:, k:s]).argmax(axis=1)]
        if self.urgent_mode == "model" and self.urgent is not None:
            urgent = self.urgent.proba(products[:, s:])[:, 1] >= self.urgent_threshold
        else:
            urgent = [rule_says_urgent(text) for text in normalized]
        for row, i in enumerate(positions):
            results[i] = Prediction(
                intent=str(self.intent.classes[best[row]]),
                confidence=round(float(intent[row, best[row]]), 4),
                lang=results[i].lang,
                sentiment=str(sentiment[row]),
                urgent=bool(urgent[row]),
            )

    def _stacked_weights(self) -> np.ndarray:
        """The heads' weights side by side, so one pass over the features scores all three."""
        if self._weights is None:
            heads = [self.intent, self.sentiment] + ([self.urgent] if self.urgent is not None else [])
            self._weights = np.hstack([head.weights for head in heads])
        return self._weights

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_weights"] = None  # rebuilt on first use: not stored twice
        return state


def _prepare(text) -> tuple[str, str]:
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    text = text[:MAX_CHARS]
    return text, normalize_for_model(text)


def _no_label(text: str) -> Prediction:
    return Prediction(intent=None, confidence=0.0, lang=detect_language(text), sentiment=None, urgent=False)


def no_label(text: str) -> Prediction:
    """What routing gets without a model: the language (rules), and no intent, sentiment or
    urgency, so the conversation goes to triage and the admin's rules."""
    return _no_label(_prepare(text)[0])


def classify(model: IntentModel | None, text: str) -> Prediction:
    """The model's Prediction, or "no label" when there is no usable model."""
    if model is None or not isinstance(model, IntentModel):
        return no_label(text)
    return model.predict(text)


def classify_many(model: IntentModel | None, texts: Sequence[str]) -> list[Prediction]:
    if model is None or not isinstance(model, IntentModel):
        return [no_label(text) for text in texts]
    return model.predict_many(texts)
