"""How good a model is on labelled rows: the figures the sidecar, the CLI and the bench print."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from routing.intent.model import IntentModel, classify_many
from routing.language import detect_language


def evaluate(model: IntentModel | None, rows: Sequence[dict]) -> dict:
    """Accuracy and macro-F1 of the intent overall and per language (the row's ``lang``, else the
    detected one), per-intent precision/recall/F1, the confusion matrix, and, where the rows carry
    them, sentiment and urgency scores. A row without a label from the model counts as wrong."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    predictions = classify_many(model, [str(row.get("text", "")) for row in rows])
    y = np.array([str(row["intent"]) for row in rows])
    predicted = np.array([p.intent if p.intent is not None else "(none)" for p in predictions])
    labels = sorted(set(y) | set(model.labels if model is not None else []))
    langs = np.array([row.get("lang") or detect_language(str(row.get("text", ""))) for row in rows])
    metrics = {"n": len(rows), **_scores(y, predicted, labels)}
    metrics["by_lang"] = {
        str(lang): {"n": int((langs == lang).sum()), **_scores(y[langs == lang], predicted[langs == lang],
                                                          sorted(set(y[langs == lang])))}
        for lang in sorted(set(langs))
    }
    precision, recall, f1, support = precision_recall_fscore_support(y, predicted, labels=labels, zero_division=0)
    metrics["by_intent"] = {
        str(label): {"precision": _round(p), "recall": _round(r), "f1": _round(f), "n": int(n)}
        for label, p, r, f, n in zip(labels, precision, recall, f1, support, strict=True)
    }
    metrics["confidence"] = _confidence(np.array([p.confidence for p in predictions]), y == predicted)
    shown = labels + (["(none)"] if "(none)" in predicted else [])  # rows left without a label
    metrics["confusion"] = {"labels": shown, "matrix": confusion_matrix(y, predicted, labels=shown).tolist()}
    if rows and all("sentiment" in row for row in rows):
        truth = np.array([str(row["sentiment"]) for row in rows])
        guess = np.array([p.sentiment or "(none)" for p in predictions])
        metrics["sentiment"] = _scores(truth, guess, sorted(set(truth)))
    if rows and all("urgent" in row for row in rows):
        truth = np.array([bool(row["urgent"]) for row in rows])
        guess = np.array([p.urgent for p in predictions])
        tp = int((truth & guess).sum())
        precision_u, recall_u = tp / max(int(guess.sum()), 1), tp / max(int(truth.sum()), 1)
        metrics["urgent"] = {
            "precision": _round(precision_u),
            "recall": _round(recall_u),
            "f1": _round(2 * precision_u * recall_u / (precision_u + recall_u) if tp else 0.0),
            "n_urgent": int(truth.sum()),
        }
    return metrics


def _confidence(confidence: np.ndarray, correct: np.ndarray) -> dict:
    """How far confidence can be trusted: expected calibration error (10 bins), and the share of
    messages at or above a triage threshold with their accuracy."""
    if len(confidence) == 0:
        return {}
    bins = np.minimum((confidence * 10).astype(int), 9)
    ece = sum(abs(correct[bins == b].mean() - confidence[bins == b].mean()) * (bins == b).mean()
              for b in range(10) if (bins == b).any())
    at = {}
    for threshold in (0.5, 0.6, 0.7, 0.8):
        kept = confidence >= threshold
        accuracy = correct[kept].mean() if kept.any() else 0.0
        at[str(threshold)] = {"coverage": _round(kept.mean()), "accuracy": _round(accuracy)}
    return {"ece": _round(ece), "at": at}


def _scores(y: np.ndarray, predicted: np.ndarray, labels: list[str]) -> dict:
    from sklearn.metrics import accuracy_score, f1_score

    if len(y) == 0:
        return {"accuracy": 0.0, "macro_f1": 0.0}
    return {
        "accuracy": _round(accuracy_score(y, predicted)),
        "macro_f1": _round(f1_score(y, predicted, labels=labels, average="macro", zero_division=0)),
    }


def _round(value: float) -> float:
    return round(float(value), 4)
