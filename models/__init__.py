"""The neural models callbridge uses and where their weights come from."""

from models.registry import (
    FACE_MODELS,
    MODELS,
    ModelError,
    ModelSpec,
    resolve_whisper,
    vad_model_path,
    verify_face_models,
)

__all__ = [
    "FACE_MODELS",
    "MODELS",
    "ModelError",
    "ModelSpec",
    "resolve_whisper",
    "vad_model_path",
    "verify_face_models",
]
