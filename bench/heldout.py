"""Held-out speech for the trigger bench: other engines, other voices, other sentences.

The main corpus (corpus_text.py) is espeak-ng only, and the engine's limits were
chosen on it. This set is never tuned on: flite and festival voices (diphone, unit
and HTS synthesis, US and Scottish English, one 8 kHz voice) say sentences that
appear nowhere in the main corpus. Its figures are reported apart, to show how the
engine does on speech it has not seen. Same phrases, same speed range and noise.
"""

from __future__ import annotations

import random
from typing import Any

from bench.corpus_plan import SPEECH_RMS_DBFS, SPEED_RANGE, noise_plan, noisy_flags
from bench.corpus_text import FORBIDDEN_IN_NEGATIVES, contains, normalise_text
from bench.synth import DEFAULT_WPM

VOICES = (
    "flite:awb",
    "flite:rms",
    "flite:slt",
    "flite:kal16",
    "flite:kal",  # 8 kHz: telephone-band speech
    "festival:kal_diphone",
    "festival:ked_diphone",
    "festival:cmu_us_slt_arctic_hts",
)
ENGINES = sorted({v.split(":")[0] for v in VOICES})
POSITIVE_VOICES = 3  # voices per positive sentence
NEGATIVE_VOICES = 2  # ... per near-miss or unrelated sentence

# Each lead-in ends with its phrase (so the phrase's end is exact); a tail may follow.
POSITIVES: dict[str, list[str]] = {
    "dinner tonight": [
        "Could you text me the address for dinner tonight?",
        "I hope the restaurant has room for us at dinner tonight.",
        "Grandma is cooking her famous stew for dinner tonight.",
        "Let's invite the neighbours to dinner tonight.",
        "I forgot to buy onions for dinner tonight.",
        "Are the kids joining us for dinner tonight?",
        "Please wear something smart for dinner tonight.",
        "We could have a picnic in the garden for dinner tonight.",
    ],
    "running shoes": [
        "The laces keep coming undone on my running shoes.",
        "Those look like brand new running shoes.",
        "My brother borrowed my running shoes.",
        "Leave your muddy running shoes.",
        "I'm saving up for carbon running shoes.",
        "The parcel had your running shoes.",
        "Do they sell these in blue, the running shoes?",
        "My feet hurt, I need better running shoes.",
    ],
    "weekend getaway": [
        "We won a weekend getaway.",
        "What we need is a weekend getaway.",
        "They are planning a weekend getaway.",
        "My sister gave us a weekend getaway.",
        "How about a weekend getaway?",
        "The hotel offers a cheap weekend getaway.",
        "After this month I need a weekend getaway.",
        "Friday is the start of our weekend getaway.",
    ],
}
TAILS = [
    "I'll call you later.",
    "Does that sound good?",
    "It was a long day.",
    "Tell the others too.",
    "We can talk about it then.",
    "Don't be late.",
]

NEAR_MISSES: dict[str, list[str]] = {
    "dinner tonight": [
        "Let's have lunch tonight instead.",
        "Who was the winner tonight?",
        "I'm cooking dinner tomorrow.",
        "The crowd got thinner tonight.",
        "We ate dinner together.",
        "There is a dinner on Sunday.",
        "We're having an early dinner today.",
        "Is the beginner tonight's speaker?",
    ],
    "running shoes": [
        "The running shorts are in the drawer.",
        "He was running shows in London for years.",
        "I bought new walking shoes.",
        "My running shirt is soaked.",
        "She's running short of money.",
        "They keep running shuttles all day.",
        "Those are stunning shoes for a wedding.",
        "The water was running through the house.",
    ],
    "weekend getaway": [
        "The weekend got away from us again.",
        "We had a weekday getaway in May.",
        "A summer getaway would be lovely.",
        "I think we can get away with it.",
        "The shop has a weekend giveaway.",
        "We need a weekend away from the city.",
        "The thieves made a getaway on foot.",
        "Our weekend got off to a bad start.",
    ],
}

UNRELATED = [
    "The train was late again this morning.",
    "Can you send me the slides before the meeting?",
    "My cat sleeps on the keyboard all day.",
    "The garden needs watering twice a week.",
    "I finished the book you lent me.",
    "Let's move the call to Thursday afternoon.",
    "The dinner was lovely, thank you.",
    "I'm going running after work.",
    "These shoes are too small for me.",
    "See you at the weekend.",
    "Tonight is the last night of the festival.",
    "The kettle has stopped working.",
]


def validate() -> None:
    """Negatives never say a phrase; lead-ins end with theirs."""
    for phrase, leadins in POSITIVES.items():
        for text in leadins:
            if not normalise_text(text).rstrip().endswith(phrase):
                raise ValueError(f"held-out lead-in does not end with {phrase!r}: {text!r}")
    for text in [t for ts in NEAR_MISSES.values() for t in ts] + UNRELATED:
        if (found := contains(text, FORBIDDEN_IN_NEGATIVES)) is not None:
            raise ValueError(f"held-out negative says {found!r}: {text!r}")


def plan_heldout(seed: int) -> list[dict[str, Any]]:
    """Plans in the main corpus's format (corpus.render), voices cycled evenly."""
    validate()
    rng = random.Random(f"{seed}:heldout")
    jobs = [("positive", p, t, POSITIVE_VOICES) for p, ts in POSITIVES.items() for t in ts]
    jobs += [("near_miss", p, t, NEGATIVE_VOICES) for p, ts in NEAR_MISSES.items() for t in ts]
    jobs += [("unrelated", None, t, NEGATIVE_VOICES) for t in UNRELATED]
    said = [(kind, phrase, text) for kind, phrase, text, n in jobs for _ in range(n)]
    voices = [VOICES[i % len(VOICES)] for i in range(len(said))]  # consecutive: a sentence's voices differ
    noisy = noisy_flags(len(said), rng)
    prefixes = {"positive": "ho-pos", "near_miss": "ho-near", "unrelated": "ho-unrel"}
    counts = dict.fromkeys(prefixes, 0)
    plans = []
    for (kind, phrase, text), voice, loud in zip(said, voices, noisy):
        counts[kind] += 1
        plans.append(
            {
                "id": f"{prefixes[kind]}-{counts[kind] - 1:03d}",
                "kind": kind,
                "phrase": phrase if kind == "positive" else None,
                "near_miss_of": phrase if kind == "near_miss" else None,
                "piece_a": text,
                "piece_b": rng.choice(TAILS) if kind == "positive" and rng.random() < 2 / 3 else None,
                "voice": voice,
                "speed": int(round(DEFAULT_WPM * rng.uniform(*SPEED_RANGE))),
                "pitch": 50,  # only espeak-ng takes a pitch
                "lead_pad_s": round(rng.uniform(0.5, 1.0), 3),
                "tail_pad_s": round(rng.uniform(0.9, 1.1), 3),
                "gap_s": round(rng.uniform(0.05, 0.4), 3),
                "level_dbfs": round(rng.uniform(*SPEECH_RMS_DBFS), 1),
                "noise": noise_plan(rng) if loud else None,
            }
        )
    return plans
