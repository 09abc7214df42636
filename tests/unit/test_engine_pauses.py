"""The engine and pauses: a pause completes a phrase, and a phrase heard as the speaker falls silent is held."""

import numpy as np
import pytest

from tests.support.fakes import SENTENCE, run, scripted_engine, trigger_events, words
from triggers.engine import EngineConfig

# "dinner tonight", a 0.25 s pause, then a long word the recogniser has not heard yet
PAUSED = SENTENCE + words(("anyway", 1.95, 2.9))


def test_a_pause_missed_while_busy_still_completes_the_phrase():
    # 0.4 s chunks: a slow decode let the pause come and go unseen; the VAD heard it
    engine, _ = scripted_engine(PAUSED, [(0.5, 1.7), (1.95, 2.9)])
    (event,) = trigger_events(run(engine, 4.0, chunk_s=0.4))
    assert event.emitted_at_s == pytest.approx(2.0)  # the first decode after the pause


def test_a_pause_shorter_than_pause_s_does_not_complete_it():
    script = SENTENCE + words(("anyway", 1.8, 2.9))
    engine, _ = scripted_engine(script, [(0.5, 1.7), (1.8, 2.9)])
    (event,) = trigger_events(run(engine, 4.0, chunk_s=0.4))
    assert event.emitted_at_s >= 1.7 + EngineConfig().settled_s


def test_a_pause_long_before_the_phrase_end_does_not_count():
    script = words(("well", 0.2, 0.4)) + SENTENCE + words(("anyway", 1.7, 2.9))
    engine, _ = scripted_engine(script, [(0.2, 0.4), (0.7, 2.9)])
    (event,) = trigger_events(run(engine, 4.0, chunk_s=0.4))
    assert event.emitted_at_s >= 1.7 + EngineConfig().settled_s


def feed_until_trigger(engine, rec, seconds: float):
    """(the trigger, whether the feed that returned it ran a decode)."""
    chunk = np.zeros(320, np.float32)
    for _ in range(int(seconds / 0.02)):
        before = len(rec.windows)
        found = trigger_events(engine.feed(chunk))
        if found:
            return found, len(rec.windows) > before
    return [], False


def test_a_phrase_heard_as_the_speaker_falls_silent_is_confirmed_then_held():
    # the 0.3 s alert step decodes at 1.8 s, 0.1 s into the pause (past a 0.05 s
    # edge guard): the phrase is checked then, and fires the moment the pause
    # reaches pause_s, with no decode
    engine, rec = scripted_engine(SENTENCE, [(0.5, 1.7)], edge_guard_s=0.05)
    (event,), decoded = feed_until_trigger(engine, rec, 3.0)
    assert not decoded and rec.redecodes == 1
    assert event.emitted_at_s == pytest.approx(1.7 + EngineConfig().pause_s, abs=0.021)


def test_a_held_phrase_is_let_go_when_speech_goes_on_without_a_pause():
    # held at 1.8 s, then speech at 1.82 s: the phrase is checked again once "and" is heard
    script = SENTENCE + words(("and", 1.82, 2.0), ("then", 2.0, 2.4))
    engine, rec = scripted_engine(script, [(0.5, 1.7), (1.82, 2.4)], edge_guard_s=0.05)
    events = trigger_events(run(engine, 4.0))
    assert len(events) == 1 and rec.redecodes == 2
    assert events[0].emitted_at_s >= 2.0 + 0.05


def test_a_held_phrase_is_let_go_when_the_next_word_and_a_pause_come_in_one_feed():
    # "dinner to | go?": held in the short gap, then a busy worker gets "go" and the
    # pause after it at once. That later pause is not this phrase's pause.
    script = SENTENCE + words(("go", 1.84, 2.0))
    engine, rec = scripted_engine(script, [(0.5, 1.7), (1.84, 2.0)], edge_guard_s=0.05)
    chunk, events = np.zeros(320, np.float32), []
    for _ in range(int(1.82 / 0.02)):
        events += engine.feed(chunk)
    assert trigger_events(events) == [] and rec.redecodes == 1  # held in the 0.14 s gap
    events = engine.feed(np.zeros(int(0.8 * 16_000), np.float32))  # "go", then silence
    (event,) = trigger_events(events + engine.flush())
    assert rec.redecodes == 2  # let go, then checked again on the audio with "go" in it
    assert event.emitted_at_s >= 2.0


def test_no_hold_before_the_edge_guard_or_with_too_little_silence():
    # at 1.8 s the phrase's end (1.7) + the 0.15 s edge guard is still ahead: decode again at the pause
    engine, rec = scripted_engine(SENTENCE, [(0.5, 1.7)])
    (event,), decoded = feed_until_trigger(engine, rec, 3.0)
    assert decoded
    engine, rec = scripted_engine(SENTENCE, [(0.5, 1.7)], edge_guard_s=0.05, hold_silence_s=0.12)
    (event,), decoded = feed_until_trigger(engine, rec, 3.0)
    assert decoded


def test_a_held_phrase_fires_when_the_stream_ends():
    engine, rec = scripted_engine(SENTENCE, [(0.5, 1.7)], edge_guard_s=0.05)
    chunk = np.zeros(320, np.float32)
    events = []
    for _ in range(int(1.8 / 0.02)):  # stop 0.1 s into the pause, with the phrase held
        events += engine.feed(chunk)
    assert trigger_events(events) == [] and rec.redecodes == 1
    (event,) = trigger_events(engine.flush())
    assert event.emitted_at_s == pytest.approx(1.8, abs=0.021)
