"""The neural models callbridge uses and where their weights come from."""

from models.registry import MODELS, ModelError, ModelSpec, resolve_whisper, vad_model_path

__all__ = ["MODELS", "ModelError", "ModelSpec", "resolve_whisper", "vad_model_path"]
