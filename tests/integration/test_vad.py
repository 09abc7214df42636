"""The streaming VAD (real Silero) on espeak-ng speech: utterances and the pauses inside them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.support.speech import say
from triggers.audio import load_audio
from triggers.vad import VoiceActivity

pytestmark = pytest.mark.integration


def two_clauses(tmp_path: Path, gap_s: float) -> tuple[np.ndarray, float, float]:
    """'Shall we have dinner tonight' + gap + 'I know a place'; where the gap starts and ends."""
    first = load_audio(say(tmp_path / "a.wav", "Shall we have dinner tonight", lead_s=0.5, tail_s=0))
    second = load_audio(say(tmp_path / "b.wav", "I know a place", lead_s=0, tail_s=1.0))
    first = first[: np.flatnonzero(np.abs(first) > 0.01)[-1] + 1]  # espeak's own trailing silence
    second = second[np.flatnonzero(np.abs(second) > 0.01)[0] :]
    audio = np.concatenate([first, np.zeros(int(gap_s * 16000), np.float32), second])
    return audio, len(first) / 16000, (len(first) / 16000) + gap_s


def feed(vad: VoiceActivity, audio: np.ndarray, chunk: int) -> list[int]:
    ends = []
    for i in range(0, len(audio), chunk):
        ended = vad.feed(audio[i : i + chunk])
        if ended is not None:
            ends.append(ended)
    return ends


@pytest.mark.parametrize("chunk_s", [0.02, 0.4])  # live frames, or a backlog after a slow decode
def test_a_pause_between_clauses_is_kept_after_speech_resumes(tmp_path: Path, chunk_s: float) -> None:
    audio, gap_start, gap_end = two_clauses(tmp_path, gap_s=0.25)
    vad = VoiceActivity()
    ends = feed(vad, audio, int(chunk_s * 16000))
    near = [(a, b) for a, b in vad.pauses if abs(a - gap_start) < 0.15]
    assert near, vad.pauses
    start, stop = max(near, key=lambda p: p[1] - p[0])
    assert stop - start >= 0.15 and stop == pytest.approx(gap_end, abs=0.1)
    assert len(ends) == 1  # 0.25 s does not end the utterance; the trailing second does
    assert ends[0] / 16000 > gap_end


def test_a_long_pause_ends_the_utterance(tmp_path: Path) -> None:
    audio, gap_start, gap_end = two_clauses(tmp_path, gap_s=0.8)
    vad = VoiceActivity()
    ends = feed(vad, audio, 320)
    assert len(ends) == 2
    assert ends[0] / 16000 == pytest.approx(gap_start, abs=0.1)
    # the silence between the utterances is kept as a pause too, from where it began
    (pause,) = [(a, b) for a, b in vad.pauses if b - a >= 0.35]
    assert pause[0] == pytest.approx(ends[0] / 16000) and pause[1] == pytest.approx(gap_end, abs=0.1)


def test_silence_gives_no_speech_and_no_pauses() -> None:
    vad = VoiceActivity()
    assert feed(vad, np.zeros(3 * 16000, np.float32), 320) == []
    assert not vad.in_speech and vad.pauses == []
