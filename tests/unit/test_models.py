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
