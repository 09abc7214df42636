"""Fixtures for the integration tests: the real tiny.en and a folder for synthesised speech."""

from __future__ import annotations

from pathlib import Path

import pytest

from triggers import WhisperRecognizer


@pytest.fixture(scope="session")
def recognizer() -> WhisperRecognizer:
    return WhisperRecognizer(model="tiny.en", device="cpu")


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("speech")
