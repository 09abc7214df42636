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


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """A data directory of the module's own."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="module")
def template(data_dir):
    """The built-in default template, built in the module's data directory."""
    from adengine import MediapipeFaceTracker, TemplateLibrary

    return TemplateLibrary(data_dir, MediapipeFaceTracker).get("default")
