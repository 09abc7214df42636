"""The model registry resolves names and paths without downloading anything."""

import pytest

from models import ModelError
from models.registry import resolve_whisper


def test_the_bundled_model_resolves_to_a_directory_with_weights():
    from pathlib import Path

    assert (Path(resolve_whisper("tiny.en")) / "model.bin").is_file()


@pytest.mark.parametrize(
    "name, message",
    [
        ("base.en", "unknown model 'base.en'"),
        ("/no/such/dir", "no such model directory"),
    ],
)
def test_unknown_names_and_missing_paths_are_clear_errors(name, message):
    with pytest.raises(ModelError, match=message):
        resolve_whisper(name)


def test_a_file_or_an_empty_directory_is_not_a_model(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(ModelError, match="not a model directory"):
        resolve_whisper(str(tmp_path / "f"))
    with pytest.raises(ModelError, match="no model.bin"):
        resolve_whisper(str(tmp_path))


@pytest.mark.parametrize(
    "name, weights_file",
    [
        ("face-landmark-attention", "face_landmark_with_attention.tflite"),
        ("face-detection-short-range", "face_detection_short_range.tflite"),
    ],
)
def test_the_face_models_are_declared_found_in_the_mediapipe_wheel_and_verify(name, weights_file):
    from models import FACE_MODELS, MODELS

    spec = MODELS[name]
    assert name in FACE_MODELS
    assert spec.licence == "Apache-2.0" and spec.source.startswith("PyPI mediapipe==0.10.21")
    assert spec.weights_path().name == weights_file and spec.weights_path().is_file()
    assert spec.weights_path().parent.parent.name == "modules"
    spec.verify()


def test_face_models_verify_together_and_a_wrong_hash_is_caught():
    import dataclasses

    from models import MODELS, verify_face_models

    verify_face_models()
    forged = dataclasses.replace(MODELS["face-landmark-attention"], sha256="0" * 64)
    with pytest.raises(ModelError, match="hash mismatch"):
        forged.verify()


def test_a_face_model_from_a_missing_package_is_a_clear_error():
    import dataclasses

    from models import MODELS

    def missing():
        raise ImportError("No module named 'mediapipe'")

    spec = dataclasses.replace(MODELS["face-detection-short-range"], locate=missing)
    with pytest.raises(ModelError, match="needs PyPI mediapipe"):
        spec.weights_path()
