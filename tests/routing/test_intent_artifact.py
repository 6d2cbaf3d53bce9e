import hashlib
import json
import logging
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import sklearn

from routing.intent import ArtifactError, load_model, save_model, verify_artifact
from routing.intent.artifact import MODEL_FILE, SIDECAR_FILE

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ["ليش الفاتورة غالية؟", "el net ba6ee2", "cancel my line please", "الـ eSIM ما اشتغلت", "😍"]


@pytest.fixture
def saved(trained, tmp_path):
    save_model(trained, tmp_path / "model", metrics={"macro_f1": 0.8})
    return tmp_path / "model"


def _edit_sidecar(directory, **changes):
    path = directory / SIDECAR_FILE
    sidecar = json.loads(path.read_text("utf-8"))
    sidecar.update(changes)
    path.write_text(json.dumps(sidecar), "utf-8")


def test_round_trip_keeps_predictions(trained, saved):
    """(Load time is measured by bench/classify.py.)"""
    loaded = load_model(saved)
    assert loaded.predict_many(SAMPLES) == trained.predict_many(SAMPLES)
    assert loaded.info["model_version"] == trained.info["model_version"]


def test_sidecar_describes_the_model(trained, saved):
    sidecar = verify_artifact(saved)
    assert sidecar["format"] == "tawasul-intent-model"
    assert sidecar["sklearn_version"] == sklearn.__version__
    assert sidecar["labels"] == trained.labels
    assert sidecar["model_version"] == trained.info["model_version"]
    assert sidecar["training_data_hash"].startswith("sha256:")
    assert sidecar["config"]["name"] == trained.config.name
    assert sidecar["metrics"] == {"macro_f1": 0.8}
    assert {"created_at", "artifact_sha256", "urgent", "features_version"} <= set(sidecar)


def test_missing_directory_or_files_give_no_model(tmp_path, saved, caplog):
    assert load_model(tmp_path / "nowhere") is None
    (saved / MODEL_FILE).unlink()
    with caplog.at_level(logging.WARNING):
        assert load_model(saved) is None
    assert "no readable model.pickle" in caplog.text


def test_tampered_model_file_is_refused_before_unpickling(saved):
    with open(saved / MODEL_FILE, "ab") as handle:
        handle.write(b"\x00")
    with pytest.raises(ArtifactError, match="not the file the sidecar describes"):
        verify_artifact(saved)
    assert load_model(saved) is None


def test_foreign_pickle_is_refused_even_with_a_matching_hash(saved):
    (saved / MODEL_FILE).write_bytes(pickle.dumps({"not": "ours"}))  # someone else's pickle...
    _edit_sidecar(saved, artifact_sha256=hashlib.sha256((saved / MODEL_FILE).read_bytes()).hexdigest())
    assert load_model(saved) is None  # ...is unpickled only to be refused: sign to prevent even that


def test_signed_artifact_needs_the_key(trained, tmp_path):
    save_model(trained, tmp_path, signing_key=b"secret")
    assert load_model(tmp_path, signing_key=b"secret") is not None
    assert load_model(tmp_path, signing_key=b"other") is None
    _edit_sidecar(tmp_path, n_train=1)
    with pytest.raises(ArtifactError, match="signature"):
        verify_artifact(tmp_path, signing_key=b"secret")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"sklearn_version": "1.5.0"}, "scikit-learn 1.5.0"),
        ({"format": "someone-elses-model"}, "not a Tawasul intent model"),
        ({"features_version": 0}, "another version"),
    ],
)
def test_sidecar_mismatch_is_refused(saved, changes, reason):
    _edit_sidecar(saved, **changes)
    with pytest.raises(ArtifactError, match=reason):
        verify_artifact(saved)
    assert load_model(saved) is None


def test_corrupt_sidecar_or_model_gives_no_model(saved):
    (saved / SIDECAR_FILE).write_text("{not json", "utf-8")
    assert load_model(saved) is None


def test_garbage_with_a_matching_hash_gives_no_model(saved):
    (saved / MODEL_FILE).write_bytes(b"garbage, not a pickle")
    _edit_sidecar(saved, artifact_sha256=hashlib.sha256(b"garbage, not a pickle").hexdigest())
    assert load_model(saved) is None


def test_a_fresh_process_loads_without_scikit_learn(saved):
    code = (
        "import sys, time; t = time.perf_counter(); from routing.intent import load_model, classify; "
        f"m = load_model({str(saved)!r}); assert m is not None; "
        "assert classify(m, 'el net ba6ee2').intent == 'internet_speed'; "
        "assert 'sklearn' not in sys.modules; print(time.perf_counter() - t)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
