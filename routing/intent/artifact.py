"""Saving and loading a trained model: a pickle file and a JSON sidecar, in a directory the
caller names (STYLE.md habit 9: a saved model carries its metadata; load only your own files).

Unpickling runs code, so nothing is unpickled before the sidecar says the file is ours: our
format, our features version, the scikit-learn version that trained it, and the SHA-256 of the
pickle file; with a signing key, also an HMAC over the sidecar that only holders of the key can
make. Anything wrong and ``load_model`` returns None (routing falls back to its rules) and logs
why; ``verify_artifact`` raises ``ArtifactError`` with the reason.

The standard library's pickle, not joblib's: joblib unpickles with pure-Python code, and the
vocabularies' ~200,000 strings took most of a second to load that way; the C unpickler reads the
same model in a fraction of that. The model holds plain dicts and numpy arrays, nothing that
needs joblib's memory-mapping.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import pickle
import platform
import tempfile
from importlib.metadata import version
from pathlib import Path

import numpy as np

from routing.intent.config import FEATURES_VERSION
from routing.intent.model import IntentModel

FORMAT = "tawasul-intent-model"
FORMAT_VERSION = 2  # 2: model.pickle (standard pickle) instead of model.joblib
MODEL_FILE = "model.pickle"
SIDECAR_FILE = "model.json"

log = logging.getLogger(__name__)
# The installed scikit-learn, read without importing it (loading a model does not need it).
SKLEARN_VERSION = version("scikit-learn")


class ArtifactError(Exception):
    """The directory does not hold a model this code may load."""


def save_model(model: IntentModel, directory: str | Path, *, metrics: dict | None = None,
               signing_key: bytes | None = None) -> dict:
    """Write ``model.pickle`` and ``model.json`` into ``directory`` (created if missing), each
    atomically, the sidecar last; returns the sidecar."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    _atomic_write(directory / MODEL_FILE, lambda path: Path(path).write_bytes(
        pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)))
    sidecar = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "features_version": FEATURES_VERSION,
        "model_version": model.info.get("model_version"),
        "created_at": model.info.get("created_at"),
        "sklearn_version": SKLEARN_VERSION,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "labels": model.labels,
        "sentiment_labels": model.sentiment_labels,
        "training_data_hash": model.info.get("training_data_hash"),
        "n_train": model.info.get("n_train"),
        "config": model.config.as_dict(),
        "urgent": {"mode": model.urgent_mode, "threshold": model.urgent_threshold},
        "cross_validation": model.info.get("cross_validation"),
        "metrics": metrics if metrics is not None else model.info.get("metrics"),
        "artifact_sha256": _sha256(directory / MODEL_FILE),
    }
    if signing_key is not None:
        sidecar["signature"] = _signature(sidecar, signing_key)
    _atomic_write(directory / SIDECAR_FILE,
                  lambda path: Path(path).write_text(json.dumps(sidecar, ensure_ascii=False, indent=2), "utf-8"))
    return sidecar


def verify_artifact(directory: str | Path, *, signing_key: bytes | None = None) -> dict:
    """The sidecar of a model this code may load (the pickle file's hash included); ArtifactError
    naming what is wrong otherwise."""
    directory = Path(directory)
    sidecar = _checked_sidecar(directory, signing_key)
    _verified_bytes(directory, sidecar)
    return sidecar


def _checked_sidecar(directory: Path, signing_key: bytes | None) -> dict:
    try:
        sidecar = json.loads((directory / SIDECAR_FILE).read_text("utf-8"))
    except FileNotFoundError:
        raise ArtifactError(f"no {SIDECAR_FILE} in {directory}") from None
    except (OSError, ValueError) as error:
        raise ArtifactError(f"unreadable {SIDECAR_FILE}: {error}") from None
    if not isinstance(sidecar, dict) or sidecar.get("format") != FORMAT:
        raise ArtifactError("not a Tawasul intent model")
    if sidecar.get("format_version") != FORMAT_VERSION or sidecar.get("features_version") != FEATURES_VERSION:
        raise ArtifactError("saved by another version of routing.intent")
    if sidecar.get("sklearn_version") != SKLEARN_VERSION:
        raise ArtifactError(f"trained with scikit-learn {sidecar.get('sklearn_version')}, "
                            f"this is {SKLEARN_VERSION}: retrain")
    if signing_key is not None and not hmac.compare_digest(
        str(sidecar.get("signature", "")), _signature(sidecar, signing_key)
    ):
        raise ArtifactError("signature does not match: not saved with this key")
    return sidecar


def _verified_bytes(directory: Path, sidecar: dict) -> bytes:
    # Read once, check, then unpickle these very bytes: the file cannot change in between.
    try:
        data = (directory / MODEL_FILE).read_bytes()
    except OSError:
        raise ArtifactError(f"no readable {MODEL_FILE} in {directory}") from None
    if not hmac.compare_digest(hashlib.sha256(data).hexdigest(), str(sidecar.get("artifact_sha256", ""))):
        raise ArtifactError(f"{MODEL_FILE} is not the file the sidecar describes")
    return data


def load_model(directory: str | Path, *, signing_key: bytes | None = None) -> IntentModel | None:
    """The saved model, or None (logged) when it is missing, foreign, tampered with, from
    another scikit-learn, or unreadable."""
    try:
        sidecar = _checked_sidecar(Path(directory), signing_key)
        model = pickle.loads(_verified_bytes(Path(directory), sidecar))
        if not isinstance(model, IntentModel) or model.labels != sidecar.get("labels"):
            raise ArtifactError("the file does not hold the model its sidecar describes")
    except ArtifactError as error:
        log.warning("intent model not loaded from %s: %s", directory, error)
        return None
    except Exception as error:  # a corrupt pickle can raise almost anything
        log.warning("intent model not loaded from %s: unreadable (%s)", directory, type(error).__name__)
        return None
    model.info.setdefault("metrics", sidecar.get("metrics"))
    return model


def _signature(sidecar: dict, key: bytes) -> str:
    unsigned = {name: value for name, value in sidecar.items() if name != "signature"}
    payload = json.dumps(unsigned, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _atomic_write(target: Path, write) -> None:
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    os.close(handle)
    try:
        write(temporary)
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide the model from a server run as another user
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
