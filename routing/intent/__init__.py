"""Intent, sentiment and urgency of a customer message (DESIGN.md, "Intents").

Train, predict and persist are separate steps (STYLE.md): ``train.train_model`` fits (the
default configuration, or the one ``train.choose_config`` finds best by cross-validation), ``classify`` /
``IntentModel.predict`` answer, ``artifact.save_model`` / ``artifact.load_model`` persist with a
JSON sidecar, ``evaluate.evaluate`` measures. No model, no label: ``classify(None, text)``.
Importing this package, loading a model and predicting need numpy and scipy, not scikit-learn
(only training does).
"""
from routing.intent.artifact import ArtifactError, load_model, save_model, verify_artifact
from routing.intent.evaluate import evaluate
from routing.intent.model import MAX_CHARS, IntentModel, Prediction, classify, classify_many, no_label

__all__ = [
    "MAX_CHARS",
    "ArtifactError",
    "IntentModel",
    "Prediction",
    "classify",
    "classify_many",
    "evaluate",
    "load_model",
    "no_label",
    "save_model",
    "verify_artifact",
]
