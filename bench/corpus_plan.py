"""Planning of the bench corpus: every random decision (texts, voices, speeds,
pauses, levels, noise) made up front from the seed, so that parallel synthesis
stays deterministic.
"""

from __future__ import annotations

import random
from typing import Any

from bench.corpus_text import (
    CONVERSATION_POOL,
    FORBIDDEN_IN_CONVERSATION,
    GENERIC_TAILS,
    NEAR_MISSES,
    POSITIVE_LEADINS,
    POSITIVE_TAILS,
    UNRELATED,
    contains,
    validate_texts,
)
from bench.synth import DEFAULT_WPM

SPEED_RANGE = (0.85, 1.2)
PITCH_RANGE = (30, 72)
SNR_RANGE = (10.0, 20.0)
SPEECH_RMS_DBFS = (-24.0, -17.0)  # voiced RMS level an item is normalised to

BASE_VOICES = (
    "en-us",
    "en-gb",
    "en-gb-scotland",
    "en-gb-x-rp",
    "en-029",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd",
    "en-us-nyc",
)
VARIANTS = ("", "+f2", "+f3", "+f4", "+f5", "+m2", "+m3", "+m4", "+m5", "+m7")


class _VoicePicker:
    """Cycles through the base voices in shuffled rounds so each is used evenly."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.queue: list[str] = []

    def __call__(self) -> tuple[str, int, int]:
        if not self.queue:
            self.queue = list(BASE_VOICES)
            self.rng.shuffle(self.queue)
        voice = self.queue.pop() + self.rng.choice(VARIANTS)
        speed = int(round(DEFAULT_WPM * self.rng.uniform(*SPEED_RANGE)))
        pitch = self.rng.randint(*PITCH_RANGE)
        return voice, speed, pitch


def noisy_flags(n: int, rng: random.Random) -> list[bool]:
    """Which of n items get noise: half of them, in a seeded order."""
    flags = [i % 2 == 0 for i in range(n)]
    rng.shuffle(flags)
    return flags


def noise_plan(rng: random.Random) -> dict[str, Any]:
    """A seeded noise recipe: colour, mains hum or none, and the SNR."""
    hum = rng.random() < 0.35
    return {
        "colour": rng.choice(["pink", "brown"]),
        "hum_hz": rng.choice([50, 60]) if hum else None,
        "hum_db": round(rng.uniform(-14, -6), 1) if hum else None,
        "snr_db": round(rng.uniform(*SNR_RANGE), 1),
        "seed": rng.randrange(2**32),
    }


def plan_corpus(seed: int) -> list[dict[str, Any]]:
    """Every random decision, made up front so parallel synthesis stays deterministic."""
    validate_texts()
    plans: list[dict[str, Any]] = []

    def common(rng: random.Random, picker: _VoicePicker, noisy: bool) -> dict[str, Any]:
        voice, speed, pitch = picker()
        return {
            "voice": voice,
            "speed": speed,
            "pitch": pitch,
            "lead_pad_s": round(rng.uniform(0.5, 1.0), 3),
            "tail_pad_s": round(rng.uniform(0.9, 1.1), 3),
            "gap_s": round(rng.uniform(0.05, 0.4), 3),
            "level_dbfs": round(rng.uniform(*SPEECH_RMS_DBFS), 1),
            "noise": noise_plan(rng) if noisy else None,
        }

    # positives
    rng = random.Random(f"{seed}:positive")
    picker = _VoicePicker(rng)
    pos = [(p, a) for p, leadins in POSITIVE_LEADINS.items() for a in leadins]
    flags = noisy_flags(len(pos), rng)
    tail_flags = [i % 3 != 0 for i in range(len(pos))]  # two thirds get a tail
    rng.shuffle(tail_flags)
    for i, ((phrase, a), noisy, has_tail) in enumerate(zip(pos, flags, tail_flags)):
        plan = common(rng, picker, noisy)
        plan.update(
            id=f"pos-{i:03d}",
            kind="positive",
            phrase=phrase,
            near_miss_of=None,
            piece_a=a,
            piece_b=rng.choice(POSITIVE_TAILS[phrase]) if has_tail else None,
        )
        plans.append(plan)

    # near misses
    rng = random.Random(f"{seed}:near_miss")
    picker = _VoicePicker(rng)
    nm = [(p, t) for p, texts in NEAR_MISSES.items() for t in texts]
    flags = noisy_flags(len(nm), rng)
    for i, ((phrase, text), noisy) in enumerate(zip(nm, flags)):
        plan = common(rng, picker, noisy)
        plan.update(
            id=f"near-{i:03d}",
            kind="near_miss",
            phrase=None,
            near_miss_of=phrase,
            piece_a=text,
            piece_b=rng.choice(GENERIC_TAILS) if rng.random() < 0.5 else None,
        )
        plans.append(plan)

    # unrelated
    rng = random.Random(f"{seed}:unrelated")
    picker = _VoicePicker(rng)
    flags = noisy_flags(len(UNRELATED), rng)
    for i, (text, noisy) in enumerate(zip(UNRELATED, flags)):
        plan = common(rng, picker, noisy)
        plan.update(id=f"unrel-{i:03d}", kind="unrelated", phrase=None, near_miss_of=None, piece_a=text, piece_b=None)
        plans.append(plan)

    # conversations
    rng = random.Random(f"{seed}:conversation")
    picker = _VoicePicker(rng)
    n_conv = 12
    flags = noisy_flags(n_conv, rng)
    order: list[str] = []
    for i, noisy in enumerate(flags):
        target = rng.uniform(62.0, 74.0)
        est = 0.0
        sentences = []
        while est < target:
            if not order:
                order = list(CONVERSATION_POOL)
                rng.shuffle(order)
            text = order.pop()
            joined = " ".join([s["text"] for s in sentences[-1:]] + [text])
            if contains(joined, FORBIDDEN_IN_CONVERSATION):  # e.g. "...for dinner. Tonight..."
                order.insert(0, text)
                continue
            voice, speed, pitch = picker()
            pause = round(rng.uniform(0.2, 1.2), 3)
            sentences.append(
                {
                    "text": text,
                    "voice": voice,
                    "speed": speed,
                    "pitch": pitch,
                    "pause_s": pause,
                    "level_db": round(rng.uniform(-2, 2), 1),
                }
            )
            # espeak says ~17 characters a second at 175 wpm; plan ~25 % more than needed,
            # render() stops once the target duration is reached
            est += len(text) / 22.0 * DEFAULT_WPM / speed + pause
        plans.append(
            {
                "id": f"conv-{i:02d}",
                "target_s": round(target, 2),
                "kind": "conversation",
                "phrase": None,
                "near_miss_of": None,
                "sentences": sentences,
                "lead_pad_s": round(rng.uniform(0.5, 1.0), 3),
                "tail_pad_s": 1.0,
                "level_dbfs": round(rng.uniform(*SPEECH_RMS_DBFS), 1),
                "noise": noise_plan(rng) if noisy else None,
            }
        )
    return plans
