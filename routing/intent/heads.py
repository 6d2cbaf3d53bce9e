"""A fitted linear classifier's ``predict_proba`` in plain numpy.

scikit-learn 1.9 validates its input on every call, which costs milliseconds for one message
(several times over for a calibrated model): more than our whole budget for a prediction. The
arithmetic of a linear model is one matrix product, so training keeps scikit-learn and
prediction uses the fitted weights. The tests check ``LinearHead.predict_proba`` against the
scikit-learn model it came from.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class LinearHead:
    classes: np.ndarray  # labels, in column order
    weights: np.ndarray  # (n_features, n_scores) float32
    intercept: np.ndarray  # (n_scores,)
    kind: str  # "softmax" | "logistic" (binary) | "sigmoid-ovr" (calibrated one-vs-rest scores)
    calibration: np.ndarray | None = None  # (2, n_classes): sigmoid a and b per class

    @classmethod
    def from_sklearn(cls, estimator) -> LinearHead:
        from sklearn.calibration import CalibratedClassifierCV  # training only
        from sklearn.linear_model import LogisticRegression

        if isinstance(estimator, CalibratedClassifierCV):
            return cls._from_calibrated(estimator)
        if isinstance(estimator, LogisticRegression):
            kind = "logistic" if len(estimator.classes_) == 2 else "softmax"
            return cls(estimator.classes_, _weights(estimator.coef_), estimator.intercept_.astype(np.float32), kind)
        raise TypeError(f"no fast path for {type(estimator).__name__}")

    @classmethod
    def _from_calibrated(cls, estimator) -> LinearHead:
        from sklearn.svm import LinearSVC

        if len(estimator.calibrated_classifiers_) != 1 or estimator.method != "sigmoid":
            raise TypeError("fast path needs one sigmoid-calibrated classifier (ensemble=False)")
        calibrated = estimator.calibrated_classifiers_[0]
        svm = calibrated.estimator
        if not isinstance(svm, LinearSVC) or len(svm.classes_) == 2:
            raise TypeError("fast path needs a multi-class LinearSVC inside the calibration")
        a = np.array([c.a_ for c in calibrated.calibrators], dtype=np.float64)
        b = np.array([c.b_ for c in calibrated.calibrators], dtype=np.float64)
        return cls(estimator.classes_, _weights(svm.coef_), svm.intercept_.astype(np.float32), "sigmoid-ovr",
                   np.vstack([a, b]))

    def predict_proba(self, features) -> np.ndarray:
        """Probabilities of ``classes`` for a (sparse) feature matrix."""
        return self.proba(np.asarray(features @ self.weights, dtype=np.float64))

    def proba(self, products: np.ndarray) -> np.ndarray:
        """Probabilities from ``features @ weights`` (the intercept is added here)."""
        scores = products + self.intercept
        if self.kind == "softmax":
            scores -= scores.max(axis=1, keepdims=True)
            exp = np.exp(scores)
            return exp / exp.sum(axis=1, keepdims=True)
        if self.kind == "logistic":
            positive = 1.0 / (1.0 + np.exp(-scores[:, 0]))
            return np.column_stack([1.0 - positive, positive])
        # scikit-learn's multi-class sigmoid calibration: 1 / (1 + exp(a·f + b)) per class,
        # then normalised over classes (uniform when every class says 0).
        a, b = self.calibration
        proba = 1.0 / (1.0 + np.exp(scores * a + b))
        total = proba.sum(axis=1, keepdims=True)
        uniform = np.full_like(proba, 1.0 / proba.shape[1])
        return np.divide(proba, total, out=uniform, where=total > 0)


def _weights(coef: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(coef.T, dtype=np.float32)
