"""The default ad's soundtrack: a short synthesised jingle, made with numpy alone.

Melody, off-beat chord stabs, a pad, a bass line and a soft kit, mixed to
stereo with a ping-pong echo, deterministic, 48 kHz.
"""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 48_000

BPM = 120
BEAT_S = 60 / BPM
# The melody sings the tagline: "Din-ner to-night? Fork-ful de-li-vers!" (MIDI note, start beat, beats).
MELODY = [
    (76, 0.0, 0.5),
    (79, 0.5, 0.5),
    (81, 1.0, 0.5),
    (79, 1.5, 1.5),
    (76, 3.5, 0.5),
    (84, 4.0, 0.5),
    (81, 4.5, 0.5),
    (79, 5.0, 0.5),
    (76, 5.5, 0.5),
    (79, 6.0, 1.5),
    (76, 7.5, 0.5),
    (77, 8.0, 0.5),
    (81, 8.5, 0.5),
    (84, 9.0, 1.0),
    (83, 10.0, 0.5),
    (86, 10.5, 0.5),
    (83, 11.0, 0.5),
    (79, 11.5, 0.5),
    (84, 12.0, 2.0),
]
# C | Am | F G | C: (root MIDI note, chord tones as MIDI notes, start beat, beats).
CHORDS = [
    (48, (60, 64, 67), 0.0, 4.0),
    (45, (57, 60, 64), 4.0, 4.0),
    (41, (57, 60, 65), 8.0, 2.0),
    (43, (59, 62, 67), 10.0, 2.0),
    (48, (60, 64, 67, 72), 12.0, 2.0),
]


def _hz(note: float) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


def _add(track: np.ndarray, start_s: float, sound: np.ndarray) -> None:
    i = int(round(start_s * SAMPLE_RATE))
    n = min(len(sound), len(track) - i)
    if n > 0:
        track[i : i + n] += sound[:n]


def _envelope(n: int, attack_s: float, decay_s: float) -> np.ndarray:
    t = np.arange(n) / SAMPLE_RATE
    return np.minimum(t / attack_s, 1.0) * np.exp(-t / decay_s)


def _mallet(note: float, beats: float) -> np.ndarray:
    """A marimba-like tone: fundamental plus its bright 4th partial, which dies first."""
    n = int((beats * BEAT_S + 0.6) * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    f = _hz(note)
    tone = np.sin(2 * np.pi * f * t) * _envelope(n, 0.004, 0.45)
    tone += 0.35 * np.sin(2 * np.pi * 3.93 * f * t) * _envelope(n, 0.002, 0.08)
    tone += 0.18 * np.sin(2 * np.pi * 2 * f * t) * _envelope(n, 0.003, 0.25)
    return tone


def _keys(notes: tuple[int, ...], seconds: float) -> np.ndarray:
    """A short electric-piano chord stab."""
    n = int((seconds + 0.3) * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    out = np.zeros(n)
    for note in notes:
        f = _hz(note)
        out += np.sin(2 * np.pi * f * t + 0.6 * np.sin(2 * np.pi * f * t) * np.exp(-t / 0.1))
    gate = np.clip((seconds + 0.3 - t) / 0.3, 0, 1)
    return out * _envelope(n, 0.005, 0.35) * gate / len(notes)


def _pad(notes: tuple[int, ...], seconds: float) -> np.ndarray:
    """A soft sustained chord, slightly detuned for width."""
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    out = np.zeros(n)
    for note in notes:
        for detune in (-0.1, 0.1):
            f = _hz(note + detune)
            out += np.sin(2 * np.pi * f * t) + 0.25 * np.sin(4 * np.pi * f * t)
    fade = np.minimum(np.minimum(t / 0.15, 1.0), np.minimum((seconds - t) / 0.15, 1.0))
    return out * fade / (2 * len(notes))


def _bass(note: int, seconds: float) -> np.ndarray:
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    f = _hz(note)
    tone = np.sin(2 * np.pi * f * t) + 0.3 * np.sin(4 * np.pi * f * t)
    return tone * _envelope(n, 0.006, 0.5) * np.clip((seconds - t) / 0.05, 0, 1)


def _kick() -> np.ndarray:
    n = int(0.3 * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    freq = 45 + 85 * np.exp(-t / 0.03)
    phase = 2 * np.pi * np.cumsum(freq) / SAMPLE_RATE
    return np.sin(phase) * _envelope(n, 0.001, 0.09)


def _noise_hit(rng: np.random.Generator, seconds: float, decay_s: float, bright: bool) -> np.ndarray:
    n = int(seconds * SAMPLE_RATE)
    noise = rng.standard_normal(n)
    if bright:  # a first difference tilts the noise toward the highs: a hi-hat
        noise = np.diff(noise, prepend=0.0)
    else:  # a short moving average darkens it: a brushed snare
        noise = np.convolve(noise, np.ones(6) / 6, mode="same")
    return noise * _envelope(n, 0.001, decay_s)


def render_soundtrack(duration_s: float = 7.0) -> np.ndarray:
    """The jingle: float32 (2, samples) at 48 kHz, `duration_s` long (the video's length)."""
    n = int(round(duration_s * SAMPLE_RATE))
    rng = np.random.default_rng(20240607)  # fixed: the hats and snare are the same every build
    melody, keys, pad, bass, drums_l, drums_r = (np.zeros(n) for _ in range(6))
    for note, start, beats in MELODY:
        _add(melody, start * BEAT_S, _mallet(note, beats))
        _add(melody, start * BEAT_S, 0.12 * _mallet(note + 12, beats))
    for root, notes, start, beats in CHORDS:
        _add(pad, start * BEAT_S, _pad(notes, beats * BEAT_S))
        for k in range(int(beats)):  # stabs on the off-beats give the bounce
            if start + k + 0.5 < 14:
                _add(keys, (start + k + 0.5) * BEAT_S, _keys(notes, 0.18))
        _add(bass, start * BEAT_S, _bass(root, min(beats, 1.5) * BEAT_S))
        if beats >= 2:
            _add(bass, (start + 1.5) * BEAT_S, _bass(root + 12 if beats > 2 else root, 0.5 * BEAT_S))
        if beats >= 4:
            _add(bass, (start + 2.5) * BEAT_S, _bass(root + 7, 1.5 * BEAT_S))
    kick = _kick()
    for beat in range(14):
        if beat % 2 == 0:
            _add(drums_l, beat * BEAT_S, kick)
            _add(drums_r, beat * BEAT_S, kick)
        else:
            snare = _noise_hit(rng, 0.25, 0.06, bright=False)
            _add(drums_l, beat * BEAT_S, 0.35 * snare)
            _add(drums_r, beat * BEAT_S, 0.35 * snare)
    for eighth in range(28):
        hat = _noise_hit(rng, 0.08, 0.012, bright=True) * (0.09 if eighth % 2 else 0.05)
        _add(drums_l, eighth * BEAT_S / 2, hat)
        _add(drums_r, eighth * BEAT_S / 2, 0.5 * hat)
    # A ping-pong echo on the melody puts it in a room without a reverb.
    delay = int(0.375 * SAMPLE_RATE)
    echo_l, echo_r = np.zeros(n), np.zeros(n)
    echo_l[delay:] = 0.22 * melody[:-delay]
    echo_r[2 * delay :] = 0.14 * melody[: -2 * delay]
    left = 0.55 * melody + echo_l + 0.32 * keys * 1.1 + 0.22 * pad * 0.8 + 0.42 * bass + 0.5 * drums_l
    right = 0.50 * melody + echo_r + 0.32 * keys * 0.9 + 0.22 * pad * 1.2 + 0.42 * bass + 0.5 * drums_r
    mix = np.stack([left, right])
    mix /= max(float(np.abs(mix).max()), 1e-9)
    mix = np.tanh(1.5 * mix) / np.tanh(1.5)  # rounds only the loudest peaks (kick on melody)
    t = np.arange(n) / SAMPLE_RATE
    mix *= np.minimum(t / 0.03, 1.0) * np.clip((duration_s - t) / 0.8, 0.0, 1.0)
    mix *= 0.8 / max(float(np.abs(mix).max()), 1e-9)  # -2 dBFS peak
    return mix.astype(np.float32)
