"""The trigger engine with the real tiny.en model on synthesised speech."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.speech import PHRASES, say, say_flite, write_wav
from triggers import TranscriptEvent, TriggerEngine, TriggerEvent, chunks, load_audio

pytestmark = pytest.mark.integration


def listen(recognizer, path, phrases=PHRASES):
    engine = TriggerEngine(phrases, recognizer=recognizer)
    events = []
    for chunk in chunks(load_audio(path)):
        events += engine.feed(chunk)
    return events + engine.flush()


def fired(events):
    return [e.phrase for e in events if isinstance(e, TriggerEvent)]


@pytest.mark.parametrize(
    "text, phrase, voice",
    [
        ("Hey, do you want to grab dinner tonight?", "dinner tonight", "en-us"),
        ("I finally bought new running shoes for the race.", "running shoes", "en-us"),
        ("We are planning a weekend getaway to the coast.", "weekend getaway", "en-us"),
        ("Let's have dinner tonight, my treat.", "dinner tonight", "en-gb-x-rp"),
        ("These running shoes are so comfortable.", "running shoes", "en+m3"),
    ],
)
def test_positive_fires_once_near_the_phrase_end(recognizer, speech_dir, text, phrase, voice):
    path = say(speech_dir / f"pos-{abs(hash(text))}.wav", text, voice=voice)
    events = listen(recognizer, path)
    triggers = [e for e in events if isinstance(e, TriggerEvent)]
    assert [t.phrase for t in triggers] == [phrase]
    assert 0.4 < triggers[0].phrase_end_s < triggers[0].emitted_at_s
    assert any(isinstance(e, TranscriptEvent) and e.final for e in events)


@pytest.mark.parametrize(
    "text, phrase, voice",
    [
        ("Could you text me the address for dinner tonight?", "dinner tonight", "slt"),
        ("Those look like brand new running shoes.", "running shoes", "rms"),
        ("I'm cooking dinner tomorrow.", None, "awb"),
        ("I bought new walking shoes.", None, "slt"),
    ],
)
def test_another_engines_voices(recognizer, speech_dir, text, phrase, voice):
    path = say_flite(speech_dir / f"flite-{voice}-{abs(hash(text))}.wav", text, voice=voice)
    assert fired(listen(recognizer, path)) == ([phrase] if phrase else [])


@pytest.mark.parametrize(
    "text",
    [
        "Shall we get dinner tomorrow instead?",
        "The weekend got away from me again.",
        "I cooked a big dinner for the family.",
        "See you tonight at the station.",
        "My shoes are wet from the rain.",
        "The weather this morning was lovely and warm.",
    ],
)
def test_near_misses_and_unrelated_speech_do_not_fire(recognizer, speech_dir, text):
    path = say(speech_dir / f"neg-{abs(hash(text))}.wav", text)
    assert fired(listen(recognizer, path)) == []


def test_silence_and_noise_give_no_events(recognizer, speech_dir):
    rng = np.random.default_rng(0)
    silence = write_wav(speech_dir / "silence.wav", np.zeros(16000 * 5, np.float32))
    noise = write_wav(speech_dir / "noise.wav", rng.normal(0, 0.1, 16000 * 5).astype(np.float32))
    t = np.arange(16000 * 5) / 16000
    chords = sum(np.sin(2 * np.pi * f * t) for f in (220, 277, 330)) * 0.1 * (1 + np.sin(2 * np.pi * 2 * t)) / 2
    music = write_wav(speech_dir / "music.wav", chords.astype(np.float32))
    for path in (silence, noise, music):
        assert listen(recognizer, path) == [], path.name


def test_a_short_clip_works(recognizer, speech_dir):
    clip = write_wav(speech_dir / "short.wav", np.zeros(3200, np.float32))
    assert listen(recognizer, clip) == []


def test_phrases_can_change_while_listening(recognizer, speech_dir):
    path = say(speech_dir / "swap.wav", "Let's plan a weekend getaway.")
    engine = TriggerEngine(["dinner tonight"], recognizer=recognizer)
    engine.set_phrases(["weekend getaway"])
    events = []
    for chunk in chunks(load_audio(path)):
        events += engine.feed(chunk)
    assert fired(events + engine.flush()) == ["weekend getaway"]
