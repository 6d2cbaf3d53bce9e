"""Training: choose a configuration by cross-validation on the training rows, then fit it.

Nothing here reads files or the network: rows come in as dicts with ``text``, ``intent``,
``sentiment``, ``urgent`` and (for stratifying) ``lang`` (routing/data/README.md). Fitting uses
scikit-learn; the fitted weights are then handed to the fast prediction path (features.py,
heads.py).
"""
from __future__ import annotations

import os
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
from joblib import Parallel, delayed
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedGroupKFold

from routing.intent.config import (
    CONFIGS,
    DEFAULT_CONFIG,
    ModelConfig,
    build_features,
    build_head,
    build_reader,
    read_texts,
)
from routing.intent.data import data_hash
from routing.intent.features import FastFeatures
from routing.intent.heads import LinearHead
from routing.intent.model import IntentModel
from routing.intent.respell import respelt_rows
from routing.intent.similarity import paraphrase_groups
from routing.intent.urgency import cue_matrix, rule_says_urgent
from routing.normalize import normalize_for_model

SEED = 20240613
# How urgency is decided: the rules alone, the urgent head, or the head with the rule cues as
# extra columns. Measured by cross_validate_urgency on the training split (bench/classify.py
# prints the table); the model carries the winner, "model" at 0.4 ("model+cues" is measured
# only: the glossary's cue concepts are among the shared features already).
URGENT_MODES = ("rules", "model", "model+cues")
URGENT_MODE, URGENT_THRESHOLD = "model", 0.4


def fit_sklearn(rows: Sequence[dict], config: ModelConfig, urgent_mode: str = URGENT_MODE) -> dict:
    """The fitted scikit-learn pieces: ``reader`` (what rewrites a normalised text first, or None),
    ``features`` (FeatureUnion), ``intent``, ``sentiment`` and ``urgent`` (None for the rules
    alone), fitted on ``rows`` and their Arabizi respellings."""
    rows = [*rows, *respelt_rows(rows, config.respellings)]
    texts = [normalize_for_model(row["text"]) for row in rows]
    reader = build_reader(config, texts)
    texts = read_texts(reader, texts)
    features = build_features(config, texts)
    x = features.fit_transform(texts)
    fitted = {
        "reader": reader,
        "features": features,
        "intent": build_head(config, n_jobs=-1).fit(x, [row["intent"] for row in rows]),
        "sentiment": build_head(config, balanced=True, n_jobs=-1).fit(x, [row["sentiment"] for row in rows]),
        "urgent": None,
    }
    if urgent_mode not in ("model", "rules"):
        raise ValueError(f"a model decides urgency by 'model' or 'rules', not {urgent_mode!r}")
    if urgent_mode == "model":
        fitted["urgent"] = _urgent_head(x, texts, [bool(row["urgent"]) for row in rows], urgent_mode)
    return fitted


def train_model(
    rows: Sequence[dict],
    config: ModelConfig = DEFAULT_CONFIG,
    *,
    urgent_mode: str = URGENT_MODE,
    urgent_threshold: float = URGENT_THRESHOLD,
    info: dict | None = None,
) -> IntentModel:
    """Fit the features and the three heads on ``rows``; a model ready to predict and save."""
    started = time.perf_counter()
    fitted = fit_sklearn(rows, config, urgent_mode)
    created = datetime.now(UTC)
    model_info = {
        "model_version": f"intent-{created:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}",
        "created_at": created.isoformat(timespec="seconds"),
        "training_data_hash": data_hash(rows),
        "n_train": len(rows),
        "train_seconds": round(time.perf_counter() - started, 2),
    }
    model_info.update(info or {})
    return IntentModel(
        reader=fitted["reader"],
        features=FastFeatures.from_union(fitted["features"]),
        intent=LinearHead.from_sklearn(fitted["intent"]),
        sentiment=LinearHead.from_sklearn(fitted["sentiment"]),
        urgent=LinearHead.from_sklearn(fitted["urgent"]) if fitted["urgent"] is not None else None,
        config=config,
        urgent_mode=urgent_mode,
        urgent_threshold=urgent_threshold,
        info=model_info,
    )


def _urgent_head(x, texts: list[str], y: list[bool], mode: str) -> LogisticRegression:
    if mode == "model+cues":
        x = sparse.hstack([x, cue_matrix(texts)], format="csr")
    return LogisticRegression(C=10.0, max_iter=3000, class_weight="balanced").fit(x, y)


# --- choosing ------------------------------------------------------------------------------


def folds(rows: Sequence[dict], texts: list[str], n_folds: int = 5) -> list[tuple[np.ndarray, np.ndarray]]:
    """Group-aware folds (paraphrases at character cosine ≥ 0.6 stay together, the rule of the
    shipped split), stratified by intent × language, with a fixed seed."""
    strata = [f"{row['intent']}|{row.get('lang', '')}" for row in rows]
    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=SEED)
    return list(splitter.split(texts, strata, paraphrase_groups(texts)))


def cross_validate_configs(
    rows: Sequence[dict], configs: Sequence[ModelConfig] = CONFIGS, n_folds: int = 5, n_jobs: int | None = None
) -> list[dict]:
    """Macro-F1 (mean and spread over folds, and per language) and accuracy of each
    configuration's intent head, by cross-validation on ``rows`` (the training split), best first.

    Folds run in parallel (``n_jobs``, default one per core), and inside a fold configurations
    with the same feature views share one fitted set of features: the views are most of a fold's
    cost, and fitting them per fold (never on the whole) keeps each fold's test rows unseen."""
    texts = [normalize_for_model(row["text"]) for row in rows]
    y = np.array([row["intent"] for row in rows])
    langs = np.array([row.get("lang", "") for row in rows])
    splits = folds(rows, texts, n_folds)
    jobs = n_jobs if n_jobs is not None else min(len(splits), os.cpu_count() or 1)
    outcomes = Parallel(n_jobs=jobs)(delayed(_fold_predictions)(rows, texts, y, train_idx, test_idx, configs)
                                     for train_idx, test_idx in splits)
    results = []
    for config in configs:
        predicted, f1s = np.empty(len(rows), dtype=object), []
        for (_, test_idx), outcome in zip(splits, outcomes, strict=True):
            predicted[test_idx] = outcome["predicted"][config.name]
            f1s.append(f1_score(y[test_idx], predicted[test_idx], average="macro", zero_division=0))
        results.append({
            "config": config.name,
            "macro_f1": round(float(np.mean(f1s)), 4),
            "macro_f1_std": round(float(np.std(f1s)), 4),
            "accuracy": round(float(accuracy_score(y, predicted)), 4),
            "macro_f1_by_lang": {
                str(lang): round(float(f1_score(y[langs == lang], predicted[langs == lang], average="macro",
                                           zero_division=0)), 4)
                for lang in sorted(set(langs) - {""})
            },
            # CPU seconds of this configuration's heads plus its share of the shared features,
            # summed over folds (wall time depends on the parallelism and the machine's load)
            "seconds": round(sum(outcome["seconds"][config.name] for outcome in outcomes), 1),
        })
    return sorted(results, key=lambda result: -result["macro_f1"])


def _fold_predictions(rows: Sequence[dict], texts: list[str], y: np.ndarray, train_idx: np.ndarray,
                      test_idx: np.ndarray, configs: Sequence[ModelConfig]) -> dict:
    """One fold: each configuration's predictions for the test rows, and its CPU seconds. The
    fold's training rows get the configuration's Arabizi respellings, as a final fit does."""
    predicted, seconds = {}, {}
    by_views: dict[tuple, list[ModelConfig]] = {}
    for config in configs:
        key = (config.views, config.respellings, config.guided_translit, config.arabizi_in_arabic,
               config.keep_english)
        by_views.setdefault(key, []).append(config)
    for same_views in by_views.values():
        started = time.process_time()
        extra = respelt_rows([rows[i] for i in train_idx], same_views[0].respellings)
        train_texts = [texts[i] for i in train_idx] + [normalize_for_model(row["text"]) for row in extra]
        reader = build_reader(same_views[0], train_texts)
        train_texts = read_texts(reader, train_texts)
        features = build_features(same_views[0], train_texts)
        x_train = features.fit_transform(train_texts)
        y_train = np.concatenate([y[train_idx], [row["intent"] for row in extra]])
        x_test = features.transform(read_texts(reader, [texts[i] for i in test_idx]))
        shared = (time.process_time() - started) / len(same_views)
        for config in same_views:
            started = time.process_time()
            predicted[config.name] = build_head(config).fit(x_train, y_train).predict(x_test)
            seconds[config.name] = shared + time.process_time() - started
    return {"predicted": predicted, "seconds": seconds}


def choose_config(rows: Sequence[dict], configs: Sequence[ModelConfig] = CONFIGS) -> tuple[ModelConfig, list[dict]]:
    """The configuration with the best cross-validated macro-F1, and every result."""
    results = cross_validate_configs(rows, configs)
    by_name = {config.name: config for config in configs}
    return by_name[results[0]["config"]], results


def cross_validate_urgency(rows: Sequence[dict], config: ModelConfig, n_folds: int = 5) -> list[dict]:
    """Precision, recall and F1 of the urgent class for the rules alone, the model alone and the
    model with the rule cues as extra columns (thresholds 0.3–0.7), best F1 first."""
    texts = [normalize_for_model(row["text"]) for row in rows]
    y = np.array([bool(row["urgent"]) for row in rows])
    scores = {mode: np.zeros(len(rows)) for mode in URGENT_MODES}
    scores["rules"] = np.array([1.0 if rule_says_urgent(text) else 0.0 for text in texts])
    for train_idx, test_idx in folds(rows, texts, n_folds):
        reader = build_reader(config, [texts[i] for i in train_idx])
        train_texts = read_texts(reader, [texts[i] for i in train_idx])
        test_texts = read_texts(reader, [texts[i] for i in test_idx])
        features = build_features(config, train_texts)
        x_train = features.fit_transform(train_texts)
        x_test = features.transform(test_texts)
        for mode in ("model", "model+cues"):
            head = _urgent_head(x_train, train_texts, list(y[train_idx]), mode)
            x = sparse.hstack([x_test, cue_matrix(test_texts)], format="csr") if mode == "model+cues" else x_test
            scores[mode][test_idx] = head.predict_proba(x)[:, 1]
    results = []
    for mode in URGENT_MODES:
        for threshold in (0.5,) if mode == "rules" else (0.3, 0.4, 0.5, 0.6, 0.7):
            results.append({"mode": mode, "threshold": threshold, **binary_scores(y, scores[mode] >= threshold)})
    return sorted(results, key=lambda result: -result["f1"])


def binary_scores(y: np.ndarray, predicted: np.ndarray) -> dict:
    """Precision, recall and F1 of the positive class."""
    y, predicted = np.asarray(y, dtype=bool), np.asarray(predicted, dtype=bool)
    tp = int((y & predicted).sum())
    precision = tp / max(int(predicted.sum()), 1)
    recall = tp / max(int(y.sum()), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}
