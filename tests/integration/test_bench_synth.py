"""The bench's synthesiser with another engine's voices (flite), as the held-out set uses it."""

from __future__ import annotations

import pytest

from bench.synth import SAMPLE_RATE, engine_versions, synth

pytestmark = pytest.mark.integration


def test_flite_voice_speaks_at_the_asked_speed():
    slow = synth("See you at the weekend.", "flite:slt", speed=140, pitch=50)
    fast = synth("See you at the weekend.", "flite:slt", speed=210, pitch=50)
    assert slow.dtype.name == "float32" and 0.05 < abs(slow).max() <= 1.0
    assert 0.8 < len(fast) / SAMPLE_RATE < len(slow) / SAMPLE_RATE < 4.0
    assert len(slow) / len(fast) == pytest.approx(1.5, rel=0.2)


def test_engine_versions_name_the_engine_or_say_how_to_install_it(monkeypatch):
    assert "flite" in engine_versions(["flite"])["flite"]
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(RuntimeError, match="flite is needed .*apt-get install flite"):
        engine_versions(["flite"])
